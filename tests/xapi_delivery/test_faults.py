"""An LRS that fails: down then back, a refused statement, a conflict, the retry cap, batches."""

from __future__ import annotations

import copy
import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import update

from ltiservice import db, events, outbox
from ltiservice.lti.context import LaunchContext
from ltiservice.models import Assessment, OutboxMessage
from tests.peers.ralph import RalphLRS
from tests.xapi.fault_proxy import Fault, FaultProxy
from tests.xapi_delivery.conftest import make_due, queued_statements, run_worker
from tests.xapi_delivery.factories import add_lrs, full_history, make_world
from xapi.client import LrsClient

pytestmark = pytest.mark.peer


def _stored_once(lrs: RalphLRS, ids: list[str]) -> bool:
    counts = {i: 0 for i in ids}
    for statement in lrs.stored_statements():
        if statement["id"] in counts:
            counts[statement["id"]] += 1
    return set(counts.values()) == {1}


def test_an_lrs_down_for_a_while_then_back_gets_every_statement_once(
    app: Flask, ralph_lrs: RalphLRS
) -> None:
    world = make_world(app)
    faults = [
        Fault("close"),  # down: connection dropped
        Fault("status", 503, {"Retry-After": "120"}),  # overloaded, asks for 2 minutes
        Fault("slow", delay=4.0),  # stores the batch but answers after we gave up
    ]
    with FaultProxy(ralph_lrs.endpoint, faults) as proxy:
        add_lrs(app, world, ralph_lrs, endpoint=proxy.endpoint)
        full_history(app, world)
        ids = [m.payload["id"] for m in queued_statements(app)]

        dropped = run_worker(app, XAPI_CLIENT_TIMEOUT_S=(2.0, 2.0))
        errors_after_drop = {m.last_error for m in queued_statements(app)}
        make_due(app)
        before = datetime.now(UTC)
        overloaded = run_worker(app)
        waits = [m.next_attempt_at for m in queued_statements(app)]
        make_due(app)
        timed_out = run_worker(app)
        make_due(app)
        back = run_worker(app)

    assert (dropped.retried, overloaded.retried, timed_out.retried) == (len(ids),) * 3
    assert errors_after_drop == {"LRS indisponible (network error: ConnectionError)"}
    # Retry-After is honoured (SQLite gives naive UTC back).
    assert min(w.replace(tzinfo=UTC) for w in waits) >= before + timedelta(seconds=119)
    assert (back.delivered, back.retried, back.dead) == (len(ids), 0, 0)
    assert [kind for kind, _ in proxy.log] == ["close", "status", "slow", "proxy"]
    assert {(m.status, m.attempts) for m in queued_statements(app)} == {("delivered", 4)}
    # The batch the LRS stored during the slow answer was sent again: still stored once.
    assert _stored_once(ralph_lrs, ids)


def test_a_statement_the_lrs_refuses_is_dead_with_its_reason_and_the_others_delivered(
    app: Flask, ralph_lrs: RalphLRS
) -> None:
    world = make_world(app)
    destination = add_lrs(app, world, ralph_lrs)
    full_history(app, world)
    good = queued_statements(app)
    broken = copy.deepcopy(good[0].payload)
    broken["id"] = str(uuid.uuid4())
    del broken["actor"]
    with app.app_context(), db.transaction() as session:
        outbox.enqueue(
            session,
            organisation_id=world.organisation_id,
            kind="xapi_statement",
            destination=f"lrs:{destination}",
            dedupe_key=f"test-broken:{broken['id']}",
            payload=broken,
        )

    report = run_worker(app)

    assert (report.delivered, report.dead, report.retried) == (len(good), 1, 0)
    by_status = {m.payload["id"]: (m.status, m.last_error) for m in queued_statements(app)}
    status, reason = by_status.pop(broken["id"])
    assert status == "dead"
    assert reason.startswith("refusé par le LRS : ") and "actor" in reason
    assert set(by_status.values()) == {("delivered", None)}
    assert _stored_once(ralph_lrs, [m.payload["id"] for m in good])
    assert ralph_lrs.count_stored(broken["id"]) == 0


def test_a_statement_the_lrs_already_holds_with_other_content_counts_as_delivered(
    app: Flask, ralph_lrs: RalphLRS, caplog: pytest.LogCaptureFixture
) -> None:
    world = make_world(app)
    add_lrs(app, world, ralph_lrs)
    full_history(app, world)
    queued = queued_statements(app)
    altered = copy.deepcopy(queued[0].payload)
    altered["timestamp"] = "2025-03-15T10:00:00.000Z"
    with LrsClient(ralph_lrs.endpoint, ralph_lrs.username, ralph_lrs.password) as client:
        assert client.send_statements([altered]).delivered == (altered["id"],)

    report = run_worker(app)

    assert (report.delivered, report.dead, report.retried) == (len(queued), 0, 0)
    assert {m.status for m in queued_statements(app)} == {"delivered"}
    assert ralph_lrs.count_stored(altered["id"]) == 1
    summary = [
        r.getMessage()
        for r in caplog.records
        if r.name == "ltiservice.xapi_delivery" and r.levelname == "WARNING"
    ]
    assert summary == [
        f"LRS destination {queued[0].destination.split(':')[1]} already holds 1 statement(s) "
        f"with other content: {altered['id']}"
    ]


def test_server_errors_are_retried_for_the_give_up_window_then_dead(
    app: Flask, ralph_lrs: RalphLRS
) -> None:
    world = make_world(app)
    with FaultProxy(ralph_lrs.endpoint, [Fault("status", 500)] * 2) as proxy:
        add_lrs(app, world, ralph_lrs, endpoint=proxy.endpoint)
        full_history(app, world)
        first = run_worker(app)
        with app.extensions["db_sessionmaker"]() as session:
            session.execute(
                update(OutboxMessage).values(
                    failing_since=datetime.now(UTC) - timedelta(hours=72),
                    next_attempt_at=datetime.now(UTC),
                )
            )
            session.commit()
        last = run_worker(app)

    assert first.retried == last.dead == len(queued_statements(app))
    assert {(m.status, m.last_error) for m in queued_statements(app)} == {
        ("dead", "LRS indisponible (HTTP 500) (abandonné après 2 essais sur 72 h)")
    }


def test_launches_go_in_batches_of_500_per_destination(app: Flask, ralph_lrs: RalphLRS) -> None:
    world = make_world(app, blocks=("B1",))
    with FaultProxy(ralph_lrs.endpoint) as proxy:
        add_lrs(app, world, ralph_lrs, endpoint=proxy.endpoint)
        with app.app_context(), db.transaction() as session:
            assessment = session.get(Assessment, world.assessment_ids["B1"])
            assert assessment is not None
            for n in range(1200):
                role = "trainer" if n % 100 == 0 else "learner"  # trainers are not reported
                context = LaunchContext(
                    f"launch-{n}",
                    world.organisation_id,
                    assessment.platform_id,
                    world.learner_id,
                    assessment.course_id,
                    (role,),
                    "LtiResourceLinkRequest",
                    assessment.resource_link_id,
                    assessment.id,
                )
                events.launched(session, context, assessment)
        queued = queued_statements(app)
        started = time.monotonic()
        reports = [run_worker(app) for _ in range(3)]
        elapsed = time.monotonic() - started

    assert len(queued) == 1188
    assert [r.delivered for r in reports] == [500, 500, 188]
    assert proxy.log == [("proxy", 500), ("proxy", 500), ("proxy", 188)]
    assert _stored_once(ralph_lrs, [m.payload["id"] for m in queued])
    logging.getLogger(__name__).info("1188 statements delivered in %.2f s", elapsed)


def test_two_workers_never_send_the_same_batch(app: Flask, ralph_lrs: RalphLRS) -> None:
    world = make_world(app, blocks=("B1",))
    with FaultProxy(ralph_lrs.endpoint) as proxy:
        add_lrs(app, world, ralph_lrs, endpoint=proxy.endpoint)
        with app.app_context(), db.transaction() as session:
            assessment = session.get(Assessment, world.assessment_ids["B1"])
            assert assessment is not None
            for n in range(1000):
                context = LaunchContext(
                    f"concurrent-{n}",
                    world.organisation_id,
                    assessment.platform_id,
                    world.learner_id,
                    assessment.course_id,
                    ("learner",),
                    "LtiResourceLinkRequest",
                )
                events.launched(session, context, assessment)
        queued = queued_statements(app)

        def worker(_: int) -> int:
            delivered = 0
            while (report := run_worker(app)).handled:
                delivered += report.delivered
            return delivered

        with ThreadPoolExecutor(max_workers=2) as pool:
            delivered = list(pool.map(worker, range(2)))

    # Claims are atomic (SKIP LOCKED on PostgreSQL, conditional UPDATE on SQLite): no
    # statement is claimed, posted or counted twice.
    assert sum(delivered) == len(queued) == 1000
    assert sum(count for _, count in proxy.log) == 1000
    assert {m.status for m in queued_statements(app)} == {"delivered"}
    assert _stored_once(ralph_lrs, [m.payload["id"] for m in queued])
