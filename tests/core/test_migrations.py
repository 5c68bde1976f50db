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


def test_upgrades_keep_every_row_of_the_tables_they_rebuild(tmp_path):
    """SQLite rebuilds a table to alter it; rows pointing at it must survive (0005 and 0006
    rebuild `platform` and `assessment`, which persons, courses and submissions point at)."""
    from sqlalchemy import text

    with throwaway_database(tmp_path) as url:
        migrate.upgrade(url, "0004")
        engine = create_engine(url)
        now = "CURRENT_TIMESTAMP"
        statements = [
            f"INSERT INTO organisation (id, slug, name, created_at) VALUES (1, 'of', 'OF', {now})",
            "INSERT INTO platform (id, organisation_id, name, issuer, client_id, auth_login_url, "
            "auth_token_url, key_set_url, source, created_at) VALUES (1, 1, 'LMS', "
            f"'https://lms.example', 'c', 'a', 't', 'k', 'cli', {now})",
            f"INSERT INTO deployment (id, platform_id, deployment_id, created_at) VALUES "
            f"(1, 1, 'd1', {now})",
            "INSERT INTO person (id, platform_id, sub, created_at, last_seen_at) "
            f"VALUES (1, 1, 's', {now}, {now})",
            "INSERT INTO course (id, platform_id, context_id, created_at) "
            f"VALUES (1, 1, 'c', {now})",
            "INSERT INTO assessment (id, organisation_id, platform_id, course_id, resource_id, "
            "resource_link_id, title, certification_code, referential_version, block_code, "
            "allowed_extensions, max_file_mb, max_files, max_attempts, score_maximum, created_at) "
            "VALUES (1, 1, 1, 1, 'r', 'l', 'T', 'CRCA', 'RNCP41351', 'B1', '[]', 1, 1, 1, 20, "
            f"{now})",
            "INSERT INTO submission (id, assessment_id, person_id, attempt, status, text, "
            f"created_at, updated_at) VALUES (1, 1, 1, 1, 'submitted', 'x', {now}, {now})",
        ]
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement))
        migrate.upgrade(url)
        with engine.connect() as conn:
            counts = {
                table: conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()
                for table in (
                    "platform",
                    "deployment",
                    "person",
                    "course",
                    "assessment",
                    "submission",
                )
            }
        engine.dispose()
    assert set(counts.values()) == {1}, counts


def test_0012_keeps_the_share_for_assessments_placed_before_it(tmp_path):
    """Columns already in gradebooks hold shares: rows placed before 0012 keep that mapping;
    a row inserted afterwards without one gets the decision mapping."""
    from sqlalchemy import text

    with throwaway_database(tmp_path) as url:
        migrate.upgrade(url, "0010")
        engine = create_engine(url)
        now = "CURRENT_TIMESTAMP"
        assessment = (
            "INSERT INTO assessment (id, organisation_id, platform_id, course_id, resource_id, "
            "resource_link_id, title, certification_code, referential_version, block_code, "
            "allowed_extensions, max_file_mb, max_files, max_attempts, score_maximum, created_at) "
            "VALUES ({id}, 1, 1, 1, 'r{id}', 'l{id}', 'T', 'CRCA', 'RNCP41351', 'B1', '[]', 1, 1, "
            f"1, 20, {now})"
        )
        with engine.begin() as conn:
            for statement in (
                "INSERT INTO organisation (id, slug, name, created_at) "
                f"VALUES (1, 'of', 'OF', {now})",
                "INSERT INTO platform (id, organisation_id, name, issuer, client_id, "
                "auth_login_url, auth_token_url, key_set_url, source, created_at) VALUES (1, 1, "
                f"'LMS', 'https://lms.example', 'c', 'a', 't', 'k', 'cli', {now})",
                "INSERT INTO course (id, platform_id, context_id, created_at) "
                f"VALUES (1, 1, 'c', {now})",
                assessment.format(id=1),
            ):
                conn.execute(text(statement))
        migrate.upgrade(url)
        with engine.begin() as conn:
            conn.execute(text(assessment.format(id=2)))
            rows = conn.execute(
                text(
                    "SELECT id, grade_mapping, expired_registration_confirmed_by_id "
                    "FROM assessment ORDER BY id"
                )
            ).all()
        engine.dispose()
    assert [tuple(r) for r in rows] == [(1, "competency_share", None), (2, "decision", None)]
