"""usernames in canonical form

Sign-in and the per-account limit now look usernames up normalised (NFKC, invisible characters
removed, case folded), so existing usernames are rewritten the same way. Where two accounts would
end up with one name, or a name would become empty or too long, both are left as they are and
reported: an administrator renames one of them by hand.

Revision ID: 91d31081335c
Revises: c2dbe460a0aa
Create Date: 2026-11-24 10:00:00

"""
import logging
import sys
import unicodedata

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '91d31081335c'
down_revision = 'c2dbe460a0aa'
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

# A frozen copy of app.auth.usernames.normalise_username as it was when this migration was written.
_DROPPED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn"}
_IGNORABLE = {0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x3164, 0xFFA0,
              *range(0x180B, 0x1810), *range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0)}


def _visible(value):
    return "".join(ch for ch in value
                   if unicodedata.category(ch) not in _DROPPED_CATEGORIES and ord(ch) not in _IGNORABLE)


def _normalise(value):
    if not value:
        return ""
    text = unicodedata.normalize("NFKC", _visible(value))
    text = unicodedata.normalize("NFKC", text.casefold())
    return " ".join(_visible(text).split())


def normalise_usernames(conn) -> list[str]:
    """Rewrite every username that changes and has its new form to itself; return the problems."""
    users = sa.table("users", sa.column("id", sa.Integer), sa.column("username", sa.String))
    rows = conn.execute(sa.select(users.c.id, users.c.username).order_by(users.c.id)).all()
    by_target: dict[str, list] = {}
    for row in rows:
        by_target.setdefault(_normalise(row.username), []).append(row)
    problems = []
    for target, group in sorted(by_target.items()):
        changed = [r for r in group if r.username != target]
        if not changed:
            continue
        names = ", ".join(f"#{r.id} {r.username!r}" for r in group)
        if not target or len(target) > 64:
            problems.append(f"username {names} left as it is: its normal form {target!r} is empty or too long")
        elif len(group) > 1:
            problems.append(f"usernames {names} left as they are: all would become {target!r}; "
                            "rename all but one by hand")
        else:
            conn.execute(users.update().where(users.c.id == group[0].id).values(username=target))
    for problem in problems:
        log.warning(problem)
        print(f"WARNING: {problem}", file=sys.stderr)
    return problems


def upgrade():
    normalise_usernames(op.get_bind())


def downgrade():
    pass  # the earlier spellings are not kept; normalised names sign in under the old code too
