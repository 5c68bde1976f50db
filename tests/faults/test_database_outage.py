"""PostgreSQL drops the connection in the middle of a submission: all or nothing, then recovery."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from sqlalchemy import create_engine, event, func, select, text

from ltiservice import db
from ltiservice.models import OutboxMessage, Submission, SubmissionFile
from tests.assessments.learner_support import launch_learner, pdf_bytes, place
from tests.support.databases import backend

pytestmark = [
    pytest.mark.peer,
    pytest.mark.skipif(backend() != "postgres", reason="a PostgreSQL server fault"),
]


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


def _restart_postgresql() -> None:
    versions = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []
    if os.geteuid() != 0 or not versions or not shutil.which("pg_ctlcluster"):
        pytest.skip("restarting the PostgreSQL server needs root and pg_ctlcluster")
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "restart"],
        check=True,
        timeout=60,
    )


def test_the_service_reconnects_by_itself_after_a_postgresql_restart(lti):
    app = lti.live.app
    assessment_id = place(lti)
    learner = launch_learner(lti)
    saved = learner.post(
        assessment_id,
        "/files",
        {"text": "Avant le redémarrage"},
        files=[("files", ("analyse.pdf", pdf_bytes(), "application/pdf"))],
    )
    assert saved.status_code == 200
    _restart_postgresql()
    # Every pooled connection died with the server; the next request must not notice.
    receipt = learner.post(assessment_id, "/submit")
    assert receipt.status_code == 200, receipt.text[:500]
    assert "Récépissé de remise" in receipt.text
    assert _counts(app) == ("submitted", 1, 1)
