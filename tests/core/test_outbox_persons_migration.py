"""Migration 0007 (outbox persons) fills the new person columns of rows queued before it, by
exact account (platform issuer + sub) for xAPI statements and by payload id for AGS scores."""

from __future__ import annotations

from sqlalchemy import create_engine, text

from ltiservice import migrate
from tests.support.databases import throwaway_database

ISSUER = "https://lms.example.org"


def _statement(verb: str, actor_sub: str, instructor_sub: str | None = None) -> str:
    context = (
        f', "context": {{"instructor": {{"account": {{"homePage": "{ISSUER}", '
        f'"name": "{instructor_sub}"}}}}}}'
        if instructor_sub
        else ""
    )
    return (
        f'{{"id": "{verb}-{actor_sub}", "verb": {{"id": "http://adlnet.gov/expapi/verbs/{verb}"}}, '
        f'"actor": {{"account": {{"homePage": "{ISSUER}", "name": "{actor_sub}"}}}}{context}}}'
    )


def test_rows_queued_before_the_migration_get_their_persons(tmp_path):
    with throwaway_database(tmp_path) as url:
        migrate.upgrade(url, "0004")
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO organisation (id, slug, name, created_at) "
                    "VALUES (1, 'of', 'OF', CURRENT_TIMESTAMP)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO platform (id, organisation_id, name, issuer, client_id, "
                    "auth_login_url, auth_token_url, key_set_url, source, created_at) VALUES "
                    "(1, 1, 'LMS', :issuer, 'c', 'a', 't', 'k', 'cli', CURRENT_TIMESTAMP)"
                ),
                {"issuer": ISSUER},
            )
            for pid, sub in ((1, "learner"), (12, "trainer"), (21, "other")):
                conn.execute(
                    text(
                        "INSERT INTO person (id, platform_id, sub, created_at, last_seen_at) "
                        "VALUES (:id, 1, :sub, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                    ),
                    {"id": pid, "sub": sub},
                )
            rows = [
                ("ags_score", "platform:1", "ags:1:1:submitted:1", '{"person_id": 1, "score": {}}'),
                ("xapi_statement", "lrs:1", "xapi:1:a", _statement("submitted", "learner")),
                (
                    "xapi_statement",
                    "lrs:12",
                    "xapi:12:b",
                    _statement("evaluated", "other", "trainer"),
                ),
                ("xapi_statement", "lrs:1", "xapi:1:c", _statement("voided", "trainer")),
                ("xapi_statement", "lrs:1", "xapi:1:d", _statement("submitted", "unknown")),
            ]
            for n, (kind, destination, key, payload) in enumerate(rows, 1):
                conn.execute(
                    text(
                        "INSERT INTO outbox_message (id, organisation_id, kind, destination, "
                        "dedupe_key, payload, status, attempts, next_attempt_at, created_at) "
                        "VALUES (:id, 1, :kind, :destination, :key, :payload, 'pending', 0, "
                        "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                    ),
                    {
                        "id": n,
                        "kind": kind,
                        "destination": destination,
                        "key": key,
                        "payload": payload,
                    },
                )

        migrate.upgrade(url)

        with engine.connect() as conn:
            found = conn.execute(
                text("SELECT id, person_id, agent_id FROM outbox_message ORDER BY id")
            ).all()
        engine.dispose()
    assert [tuple(r) for r in found] == [
        (1, 1, None),  # AGS: the payload's person
        (2, 1, None),  # the learner's own statement
        (3, 21, 12),  # another learner's, naming the trainer as instructor
        (4, None, 12),  # a void signed by the trainer
        (5, None, None),  # nobody we know: left alone
    ]
