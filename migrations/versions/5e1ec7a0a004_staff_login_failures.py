"""staff_login_failures: wrong passwords counted per e-mail address typed at the login, known or not

Revision ID: 5e1ec7a0a004
Revises: 5e1ec7a0a003
Create Date: 2026-12-06 04:00:03

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e1ec7a0a004'
down_revision = '5e1ec7a0a003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('staff_login_failures',
    sa.Column('email_hash', sa.String(length=64), nullable=False),
    sa.Column('window_started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('email_hash', name=op.f('pk_staff_login_failures'))
    )
    with op.batch_alter_table('staff_login_failures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_login_failures_window_started_at'), ['window_started_at'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('staff_login_failures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_login_failures_window_started_at'))

    op.drop_table('staff_login_failures')
