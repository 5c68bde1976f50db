"""A worker killed (SIGKILL) in the middle of a delivery loses nothing and duplicates nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import select

from ltiservice import db
from ltiservice.models import OutboxMessage
from tests.outbox.test_passback import _placed, _queue

pytestmark = [pytest.mark.peer, pytest.mark.slow]

LEASE_S = 5


def _worker(lti, tmp_path) -> subprocess.Popen[bytes]:
    settings = lti.live.app.config["SETTINGS"]
    env = {
        **os.environ,
        "LTISERVICE_ENV": "testing",
        "LTISERVICE_DATABASE_URL": settings.database_url,
        "LTISERVICE_INSTANCE_PATH": settings.instance_path,
        "LTISERVICE_SECRET_KEY": settings.secret_key,
        "LTISERVICE_BASE_URL": settings.base_url,
        "LTISERVICE_OUTBOX_LEASE_S": str(LEASE_S),
        "LTISERVICE_HTTP_TIMEOUT_S": "30",
    }
    with (tmp_path / "worker.log").open("ab") as log:  # the child keeps its own descriptor
        return subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from ltiservice.cli import main; main()",
                "worker",
                "--interval",
                "0.2",
            ],
            env=env,
            stdout=log,
            stderr=log,
        )


def _status(lti) -> tuple[str, int]:
    with lti.live.app.app_context():
        message = db.session().scalar(select(OutboxMessage))
        return message.status, message.attempts


def _wait(predicate, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_a_worker_killed_mid_delivery_leaves_the_score_to_the_next_one(lti, tmp_path):
    assessment_id, person_id = _placed(lti)
    _queue(lti, assessment_id, person_id, "decision:1", 16.0)
    # The platform takes 6 s to answer the score post, then stores it: the worker dies while
    # waiting, after the platform has the score — the hardest case for "exactly once".
    lti.peer.set_fault("/ags/course-1/lineitems/", status="timeout", count=1, seconds=6)

    first = _worker(lti, tmp_path)
    try:
        assert _wait(lambda: _status(lti)[1] == 1, 20), "the first worker never took the score"
        time.sleep(1.5)  # the score post is under way
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    assert _status(lti) == ("pending", 1)  # claimed, not delivered, not lost

    assert _wait(lambda: len(lti.peer.scores()) == 1, 15), "the platform never stored it"
    second = _worker(lti, tmp_path)
    try:
        assert _wait(lambda: _status(lti)[0] == "delivered", LEASE_S + 20), (
            tmp_path / "worker.log"
        ).read_text()[-2000:]
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=10)
    assert _status(lti) == ("delivered", 2)
    assert [s["score"]["scoreGiven"] for s in lti.peer.scores()] == [16.0]
