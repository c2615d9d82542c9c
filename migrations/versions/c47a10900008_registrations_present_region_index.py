"""registrations: participants indexed by kraj and term, for Kde jsme byli

Kde jsme byli counts one kraj's participants of this year; without an index it read every
registration (50 ms at 200 000 of them). The index holds only those present on a confirmed
seat, with their ORP, so the page reads just its kraj's rows from the index.

Revision ID: c47a10900008
Revises: c47a10900007
Create Date: 2026-12-06 10:20:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c47a10900008'
down_revision = 'c47a10900007'
branch_labels = None
depends_on = None

PRESENT = "state = 'confirmed' AND attended IS TRUE"


def upgrade():
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.create_index('ix_registrations_present_region', ['region_id', 'term_id'], unique=False,
                              postgresql_include=['orp_id'], postgresql_where=sa.text(PRESENT),
                              sqlite_where=sa.text(PRESENT))


def downgrade():
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.drop_index('ix_registrations_present_region')
