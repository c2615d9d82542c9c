"""offers.aliases: an offer's other names, edited in the back office with its title

Revision ID: c47a10900007
Revises: c47a10900006
Create Date: 2026-12-06 08:50:00

"""
from pathlib import Path

import sqlalchemy as sa
import yaml
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c47a10900007'
down_revision = 'c47a10900006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('aliases', sa.JSON(), nullable=False, server_default='[]'))
    # Until now the names were read from catalogue.yaml; they move with the offers, edited ones too
    # (`flask seed` leaves those alone).
    catalogue = Path(__file__).resolve().parents[2] / "trainings" / "data" / "catalogue.yaml"
    offers = sa.table('offers', sa.column('slug', sa.String), sa.column('aliases', sa.JSON))
    for item in yaml.safe_load(catalogue.read_text(encoding="utf-8"))["offers"]:
        if item.get("aliases"):
            op.execute(offers.update().where(offers.c.slug == item["slug"]).values(aliases=list(item["aliases"])))


def downgrade():
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.drop_column('aliases')
