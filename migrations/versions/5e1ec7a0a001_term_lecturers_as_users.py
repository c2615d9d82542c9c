"""term_lecturers: a term's lecturers are user accounts, not a substring of its text

Revision ID: 5e1ec7a0a001
Revises: b02e25988769
Create Date: 2026-12-06 04:00:00

Until now a lecturer took the attendance of every term whose lecturer text contained her
name, so "Eva Nová" opened the terms of "Mgr. Eva Nováková". From here on only a link in
term_lecturers does. Existing terms are linked to the active lecturer accounts whose whole
name equals the lecturer text, or one of the names it lists (separated by commas or " a "),
ignoring case, diacritics and spacing; never to a name only contained in it. A name two
accounts share links neither: the organiser picks the right one on the term form.

"""
import re
import unicodedata
from collections import defaultdict

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e1ec7a0a001'
down_revision = 'b02e25988769'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('term_lecturers',
    sa.Column('term_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['term_id'], ['terms.id'], name=op.f('fk_term_lecturers_term_id_terms')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_term_lecturers_user_id_users')),
    sa.PrimaryKeyConstraint('term_id', 'user_id', name=op.f('pk_term_lecturers'))
    )
    with op.batch_alter_table('term_lecturers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_term_lecturers_user_id'), ['user_id'], unique=False)

    link_terms_to_lecturers_by_name(op.get_bind())


def downgrade():
    with op.batch_alter_table('term_lecturers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_term_lecturers_user_id'))

    op.drop_table('term_lecturers')


# --- the data: existing terms linked by exact name --------------------------------------------
# Written out here rather than imported from the application, so this revision keeps meaning
# what it meant when it ran, whatever the application's code becomes.

_SEPARATORS = re.compile(r",|\s+a\s+")


def _folded(text):
    """Lower case, no diacritics, single spaces: trainings.collation.fold as of this revision."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).casefold().split())


def names_in(lecturer_text):
    """The folded names a term's lecturer text gives: the whole text and each listed name."""
    names = {_folded(lecturer_text)}
    names.update(_folded(part) for part in _SEPARATORS.split(lecturer_text or ""))
    names.discard("")
    return names


def link_terms_to_lecturers_by_name(connection):
    users = sa.table('users', sa.column('id', sa.Integer), sa.column('name', sa.String),
                     sa.column('role', sa.String), sa.column('active', sa.Boolean))
    terms = sa.table('terms', sa.column('id', sa.Integer), sa.column('lecturer', sa.String))
    links = sa.table('term_lecturers', sa.column('term_id', sa.Integer), sa.column('user_id', sa.Integer))

    accounts = defaultdict(list)
    for user_id, name in connection.execute(
            sa.select(users.c.id, users.c.name).where(users.c.role == 'lecturer', users.c.active.is_(True))):
        accounts[_folded(name)].append(user_id)
    unique = {name: ids[0] for name, ids in accounts.items() if name and len(ids) == 1}
    if not unique:
        return
    rows = []
    for term_id, text in connection.execute(
            sa.select(terms.c.id, terms.c.lecturer).where(terms.c.lecturer.is_not(None))):
        for user_id in sorted({unique[name] for name in names_in(text) if name in unique}):
            rows.append({'term_id': term_id, 'user_id': user_id})
    if rows:
        op.bulk_insert(links, rows)
