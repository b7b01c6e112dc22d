"""services: files_dossiers, the services a one-stop-centre shift counts dossiers for

A shift records the online dossiers filed with the team's help, per service; the form offered every service,
so e-wallets and smartphone basics could be counted as dossiers. Services people file administrative dossiers
through are now marked: of the default catalogue the public services portal (dvc) and VNeID (vneid), by their
stable codes. Shifts recorded before keep what they named.

Revision ID: f4b8c2d6e1a3
Revises: b3d7f1a9c2e4
Create Date: 2026-12-07 21:10:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f4b8c2d6e1a3'
down_revision = 'b3d7f1a9c2e4'
branch_labels = None
depends_on = None

# A frozen copy of app.catalogue.operations.DOSSIER_SERVICES as it was when this migration was written.
DOSSIER_SERVICES = ("dvc", "vneid")


def upgrade():
    # A plain ADD COLUMN on both databases: SQLite's batch mode would copy the table and lose its triggers.
    op.add_column("services", sa.Column("files_dossiers", sa.Boolean(), nullable=False, server_default=sa.false()))
    services = sa.table("services", sa.column("code", sa.String), sa.column("files_dossiers", sa.Boolean))
    op.get_bind().execute(services.update().where(services.c.code.in_(DOSSIER_SERVICES))
                          .values(files_dossiers=True))


def downgrade():
    # Plain DROP COLUMN (SQLite 3.35 and later): a batch copy of the table would lose its triggers.
    op.execute("ALTER TABLE services DROP COLUMN files_dossiers")
