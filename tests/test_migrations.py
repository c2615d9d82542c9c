"""The schema comes from migrations alone, and the migrations match the models."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from trainings.extensions import db


def _diff():
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def test_upgrade_from_empty_gives_exactly_the_models(app):
    # The session's database was built by `upgrade()` from empty (tests/conftest.py).
    assert _diff() == []


def test_downgrade_to_empty_and_upgrade_again(app):
    downgrade(revision="base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade()
    assert _diff() == []
    from trainings.catalogue.seed import seed_all

    seed_all()
