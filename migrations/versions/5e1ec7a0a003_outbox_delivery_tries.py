"""outbox: tries counted per delivery attempt; bodies kept only until sent

Revision ID: 5e1ec7a0a003
Revises: 5e1ec7a0a002
Create Date: 2026-12-06 04:00:02

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e1ec7a0a003'
down_revision = '5e1ec7a0a002'
branch_labels = None
depends_on = None


outbox_messages = sa.table(
    'outbox_messages',
    sa.column('state', sa.String),
    sa.column('body_text', sa.Text),
    sa.column('body_html', sa.Text),
    sa.column('attachments', sa.JSON),
)


def upgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unconfirmed_at', sa.DateTime(timezone=True), nullable=True))

    # What sent messages carried (private links, invitations) is not kept any more: the
    # worker now writes it over when it records a message sent; this does it for the rows
    # sent before.
    op.execute(
        outbox_messages.update()
        .where(outbox_messages.c.state == 'sent')
        .values(body_text=None, body_html=None, attachments=[])
    )


def downgrade():
    # The bodies written over stay gone.
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_column('unconfirmed_at')
