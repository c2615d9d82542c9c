"""offer_revisions, offers.edited_at and withdrawn_at: the catalogue edited in the back office

Revision ID: c47a10900001
Revises: c47a10900005
Create Date: 2026-12-06 07:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c47a10900001'
down_revision = 'c47a10900005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('edited_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True))

    op.create_table('offer_revisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('offer_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('values', sa.JSON(), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('restored_from_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_offer_revisions_author_id_users')),
    sa.ForeignKeyConstraint(['offer_id'], ['offers.id'], name=op.f('fk_offer_revisions_offer_id_offers')),
    sa.ForeignKeyConstraint(['restored_from_id'], ['offer_revisions.id'],
                            name=op.f('fk_offer_revisions_restored_from_id_offer_revisions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offer_revisions'))
    )
    with op.batch_alter_table('offer_revisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offer_revisions_offer_id'), ['offer_id'], unique=False)


def downgrade():
    with op.batch_alter_table('offer_revisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_offer_revisions_offer_id'))

    op.drop_table('offer_revisions')
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.drop_column('withdrawn_at')
        batch_op.drop_column('edited_at')
