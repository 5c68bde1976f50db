"""Migrations are the only way the schema changes: up, down and up again, matching the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from ltiservice import migrate
from ltiservice.models import Base
from tests.support.databases import throwaway_database


def test_upgrade_downgrade_upgrade_and_models_match(tmp_path):
    with throwaway_database(tmp_path) as url:
        migrate.upgrade(url)
        engine = create_engine(url)
        tables = set(inspect(engine).get_table_names())
        assert {t.name for t in Base.metadata.sorted_tables} <= tables
        with engine.connect() as conn:
            # Nothing in the models that a migration does not create.
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []

        migrate.downgrade(url, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}

        migrate.upgrade(url)
        assert migrate.current_revision(engine) == migrate.head_revision(url)
        engine.dispose()
