"""household counts: the database refuses what the forms refuse (0 to 10,000,000)

Existing rows outside the range stop the upgrade with a list of them (to be corrected by hand);
unit codes the code rule would refuse are only reported, never rewritten.

Revision ID: b7d41c2e9a53
Revises: b7c1d2e3f4a5
Create Date: 2026-12-01 10:00:00.000000

"""
import logging
import re

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b7d41c2e9a53'
down_revision = 'b7c1d2e3f4a5'
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

# Frozen here as app.rules has them at this revision.
HOUSEHOLDS_MAX = 10_000_000
CHECK = f"households >= 0 AND households <= {HOUSEHOLDS_MAX}"
UNIT_CODE = re.compile(r"[A-Za-z0-9._-]{1,20}", re.ASCII)


def _sqlite_triggers(conn) -> list[tuple[str, str]]:
    """Rebuilding a table on SQLite drops the triggers on it (the coverage token's): keep their SQL."""
    if conn.dialect.name != "sqlite":
        return []
    return [tuple(row) for row in conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'household_counts' "
        "ORDER BY name")]


def _restore(conn, triggers) -> None:
    for name, sql in triggers:
        conn.exec_driver_sql(f'DROP TRIGGER IF EXISTS "{name}"')
        conn.exec_driver_sql(sql)


def upgrade():
    conn = op.get_bind()
    bad = conn.execute(sa.text(
        "SELECT id, unit_id, households, effective_on FROM household_counts "
        f"WHERE NOT ({CHECK}) ORDER BY id")).all()
    if bad:
        listing = "\n".join(f"  household_counts.id={r.id} unit_id={r.unit_id} households={r.households} "
                            f"effective_on={r.effective_on}" for r in bad[:50])
        raise RuntimeError(
            f"{len(bad)} household count(s) outside 0..{HOUSEHOLDS_MAX}; correct or delete them, then upgrade "
            f"again:\n{listing}")
    for unit_id, code in conn.execute(sa.text(
            "SELECT id, code FROM admin_units WHERE code IS NOT NULL ORDER BY id")):
        if not UNIT_CODE.fullmatch(code):
            log.warning("admin_units.id=%s has the code %r, which the forms and imports now refuse "
                        "(letters, digits, '-', '.', '_', at most 20); left as it is", unit_id, code)
    triggers = _sqlite_triggers(conn)
    with op.batch_alter_table('household_counts', schema=None) as batch_op:
        batch_op.create_check_constraint('households_range', CHECK)
    _restore(conn, triggers)


def downgrade():
    conn = op.get_bind()
    triggers = _sqlite_triggers(conn)
    with op.batch_alter_table('household_counts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_household_counts_households_range'), type_='check')
    _restore(conn, triggers)
