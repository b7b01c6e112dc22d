"""visits: keep the form keys of deleted visits

A visit's form key made a replay of that form find the visit. Once the visit was deleted the key
was free again, so replaying the form (a back button, a resend) recorded the visit anew. The key
now stays used: a replay of a deleted visit's form says it was deleted.

Revision ID: b7d41f0c9a2e
Revises: 49c5cf0a1898
Create Date: 2026-12-01 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'b7d41f0c9a2e'
down_revision = '49c5cf0a1898'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('deleted_visit_keys',
    sa.Column('idempotency_key', sa.String(length=64), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=True),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('idempotency_key', name=op.f('pk_deleted_visit_keys'))
    )


def downgrade():
    op.drop_table('deleted_visit_keys')
