"""users.totp_last_step: a TOTP code is accepted once (RFC 6238 section 5.2)

Revision ID: b02e25988769
Revises: 43f8806acaa5
Create Date: 2026-11-26 15:22:03.188590

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b02e25988769'
down_revision = '43f8806acaa5'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_last_step', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('totp_last_step')
