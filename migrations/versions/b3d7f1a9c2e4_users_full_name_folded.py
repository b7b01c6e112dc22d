"""users: the full name folded (no accents, lower case) for the account list's search

The account list searched names with the database's lower(), which on SQLite leaves Vietnamese letters as
they are and on both databases matches accents exactly: neither 'đạt' typed in lower case nor 'dat' found
'Phạm Quốc Đạt'. Every other list searches a folded column (teams, members, households, units); accounts
now do too. Existing names are folded here with a frozen copy of app.text.fold.

Revision ID: b3d7f1a9c2e4
Revises: a5c8e2f4b7d1
Create Date: 2026-12-07 19:15:00

"""
import unicodedata

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b3d7f1a9c2e4'
down_revision = 'a5c8e2f4b7d1'
branch_labels = None
depends_on = None

# A frozen copy of app.text.clean and app.text.fold as they were when this migration was written.
_CONTROL = {"Cc", "Cf", "Cs", "Co", "Cn"}


def _fold(value):
    if not value:
        return ""
    value = "".join(" " if ch in "\t\r\n" else ch for ch in value
                    if ch in "\t\r\n" or unicodedata.category(ch) not in _CONTROL)
    value = " ".join(unicodedata.normalize("NFC", value).split()).replace("đ", "d").replace("Đ", "D")
    return "".join(ch for ch in unicodedata.normalize("NFD", value) if unicodedata.category(ch) != "Mn").lower()


def upgrade():
    # A plain ADD COLUMN on both databases: SQLite's batch mode would copy the table and lose its triggers.
    op.add_column("users", sa.Column("full_name_folded", sa.String(length=200), nullable=False, server_default=""))
    conn = op.get_bind()
    users = sa.table("users", sa.column("id", sa.Integer), sa.column("full_name", sa.String),
                     sa.column("full_name_folded", sa.String))
    rows = conn.execute(sa.select(users.c.id, users.c.full_name)).all()
    for row in rows:
        folded = _fold(row.full_name)[:200]
        if folded:
            conn.execute(users.update().where(users.c.id == row.id).values(full_name_folded=folded))


def downgrade():
    # Plain DROP COLUMN (SQLite 3.35 and later): a batch copy of the table would lose its triggers.
    op.execute("ALTER TABLE users DROP COLUMN full_name_folded")
