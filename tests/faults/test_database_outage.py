"""PostgreSQL drops the connection in the middle of a submission: all or nothing, then recovery.

Both faults hit a PostgreSQL cluster of this module's own (`tests/support/pg_cluster.py`:
initdb in a temporary folder, its own port), never the machine's server, whatever the run's
backend: the restart test checks that the machine's PostgreSQL kept running.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from ltiservice import db, migrate
from ltiservice.models import OutboxMessage, Submission, SubmissionFile
from tests.assessments.learner_support import launch_learner, pdf_bytes, place
from tests.support.databases import DEFAULT_POSTGRES
from tests.support.pg_cluster import OwnPostgres, unavailable_reason

pytestmark = [
    pytest.mark.peer,
    pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason())),
]


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[OwnPostgres]:
    with OwnPostgres() as cluster:
        yield cluster


@pytest.fixture(scope="module")
def database_url(own_postgres: OwnPostgres) -> str:
    """Overrides the session's database: this module's tests run on their own cluster."""
    admin = create_engine(own_postgres.url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(text('CREATE DATABASE "ltiservice_faults"'))
    admin.dispose()
    url = make_url(own_postgres.url).set(database="ltiservice_faults")
    rendered = url.render_as_string(hide_password=False)
    migrate.upgrade(rendered)
    return rendered


def _started_at(url: str) -> datetime | None:
    """When the server at ``url`` last started (None: not reachable)."""
    engine = create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": 3})
    try:
        with contextlib.closing(engine.connect()) as conn:
            return conn.execute(text("SELECT pg_postmaster_start_time()")).scalar_one()  # type: ignore[no-any-return]
    except OperationalError:
        return None
    finally:
        engine.dispose()


def _kill_connection_at_outbox_insert(app, admin) -> list[int]:
    """Terminate the server process of the connection that writes the outbox row, as a
    PostgreSQL restart would: the statement fails mid-transaction."""
    killed: list[int] = []

    def before(conn, _cursor, statement, _params, _context, _many):
        if killed or not statement.lstrip().upper().startswith("INSERT INTO OUTBOX_MESSAGE"):
            return
        pid = conn.connection.dbapi_connection.info.backend_pid
        with admin.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        killed.append(pid)

    event.listen(app.extensions["db_engine"], "before_cursor_execute", before)
    return killed


def _counts(app) -> tuple[str, int, int]:
    with app.app_context():
        session = db.session()
        status = session.scalar(select(Submission.status))
        files = session.scalar(select(func.count(SubmissionFile.id)))
        outbox = session.scalar(select(func.count(OutboxMessage.id)))
        return status, files, outbox


def test_a_submission_interrupted_by_the_database_is_refused_whole_then_succeeds(lti):
    app = lti.live.app
    assessment_id = place(lti)
    learner = launch_learner(lti)
    learner.post(
        assessment_id,
        "/files",
        {"text": "Ma réponse"},
        files=[("files", ("analyse.pdf", pdf_bytes(), "application/pdf"))],
    )
    assert _counts(app) == ("draft", 1, 0)

    admin = create_engine(app.config["SETTINGS"].database_url, isolation_level="AUTOCOMMIT")
    killed = _kill_connection_at_outbox_insert(app, admin)
    try:
        refused = learner.post(assessment_id, "/submit")
    finally:
        admin.dispose()
    assert killed, "the fault was never injected"
    assert refused.status_code == 503
    assert "été enregistré par cette action" in refused.text
    # Nothing half-written: still a draft, its file kept, no score queued.
    assert _counts(app) == ("draft", 1, 0)

    # The pool reconnects by itself: the same action now goes through.
    receipt = learner.post(assessment_id, "/submit")
    assert receipt.status_code == 200, receipt.text[:500]
    assert "Récépissé de remise" in receipt.text
    assert _counts(app) == ("submitted", 1, 1)


def test_the_service_reconnects_by_itself_after_a_postgresql_restart(lti, own_postgres):
    app = lti.live.app
    assert make_url(app.config["SETTINGS"].database_url).port == own_postgres.port
    machine_server = make_url(DEFAULT_POSTGRES).set(database="postgres")
    machine_before = _started_at(machine_server.render_as_string(hide_password=False))
    ours_before = _started_at(own_postgres.url)
    assessment_id = place(lti)
    learner = launch_learner(lti)
    saved = learner.post(
        assessment_id,
        "/files",
        {"text": "Avant le redémarrage"},
        files=[("files", ("analyse.pdf", pdf_bytes(), "application/pdf"))],
    )
    assert saved.status_code == 200
    own_postgres.restart()
    # Every pooled connection died with the server; the next request must not notice.
    receipt = learner.post(assessment_id, "/submit")
    assert receipt.status_code == 200, receipt.text[:500]
    assert "Récépissé de remise" in receipt.text
    assert _counts(app) == ("submitted", 1, 1)
    # Our cluster really restarted; the machine's PostgreSQL (if any) did not.
    ours_after = _started_at(own_postgres.url)
    assert ours_before is not None and ours_after is not None and ours_after > ours_before
    machine_server_url = machine_server.render_as_string(hide_password=False)
    assert _started_at(machine_server_url) == machine_before
