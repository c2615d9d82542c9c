"""project_facts_versions: the project's facts and contacts edited in the back office

Revision ID: c47a10900006
Revises: c47a10900003
Create Date: 2026-12-06 08:15:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c47a10900006'
down_revision = 'c47a10900003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('project_facts_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('values', sa.JSON(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('restored_from_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_project_facts_versions_author_id_users')),
    sa.ForeignKeyConstraint(['restored_from_id'], ['project_facts_versions.id'],
                            name=op.f('fk_project_facts_versions_restored_from_id_project_facts_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_facts_versions'))
    )


def downgrade():
    op.drop_table('project_facts_versions')
