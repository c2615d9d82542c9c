"""registrations: a cancelled registration is never reused; one active registration per term and address

Revision ID: 5e1ec7a0a002
Revises: 5e1ec7a0a001
Create Date: 2026-12-06 04:00:01

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e1ec7a0a002'
down_revision = '5e1ec7a0a001'
branch_labels = None
depends_on = None


ACTIVE = sa.text("state <> 'cancelled'")


def upgrade():
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.drop_constraint('uq_registrations_term_id', type_='unique')
        batch_op.create_index('uq_registrations_term_id_active', ['term_id', 'email_normalized'], unique=True,
                              postgresql_where=ACTIVE, sqlite_where=ACTIVE)


def downgrade():
    # Fails while an address has a cancelled registration beside a newer one on a term:
    # the old schema kept one row per address and term, and which to drop is not ours to guess.
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.drop_index('uq_registrations_term_id_active')
        batch_op.create_unique_constraint('uq_registrations_term_id', ['term_id', 'email_normalized'])
