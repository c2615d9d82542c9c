"""registrations.updated_at indexed: the reports ask for its latest value on every view

Revision ID: c47a10900005
Revises: 5e1ec7a0a004
Create Date: 2026-12-06 07:10:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c47a10900005'
down_revision = '5e1ec7a0a004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_registrations_updated_at'), ['updated_at'], unique=False)


def downgrade():
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_registrations_updated_at'))
