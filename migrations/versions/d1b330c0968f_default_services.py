"""default services: the ten services of the national programme, with stable codes

Revision ID: d1b330c0968f
Revises: 5ff1ccf63308
Create Date: 2026-11-23 14:30:00

Data only: every database built by `flask db upgrade` (production, demo, tests) has the catalogue.
"""
import sqlalchemy as sa
from alembic import op

revision = 'd1b330c0968f'
down_revision = '5d3d52450ec5'
branch_labels = None
depends_on = None


def upgrade():
    from app.visits.catalogue import insert_default_services
    insert_default_services(op.get_bind())


def downgrade():
    from app.visits.catalogue import DEFAULT_SERVICES
    codes = [c[0] for c in DEFAULT_SERVICES]
    services = sa.table("services", sa.column("id"), sa.column("code"))
    used = sa.select(sa.literal_column("service_id")).select_from(sa.table("visit_services"))
    op.get_bind().execute(sa.delete(services).where(services.c.code.in_(codes),
                                                    services.c.id.not_in(used)))
