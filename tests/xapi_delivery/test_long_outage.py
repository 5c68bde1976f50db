"""A real LRS down for almost three days: its deliveries wait, alert, and arrive once it is back.

The worker's clock is simulated (each pass runs at the moment the next delivery is due), so
71 hours of retries take seconds; every attempt is a real connection to the stopped Ralph.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from ltiservice import db, outbox
from ltiservice.models import OutboxMessage
from ltiservice.xapi_delivery import XAPI_STATEMENT, xapi_deliverers
from tests.peers.ralph import RalphLRS
from tests.xapi_delivery.conftest import queued_statements
from tests.xapi_delivery.factories import add_lrs, full_history, make_world, submit

pytestmark = pytest.mark.peer


def _pass(app: Flask, moment: datetime) -> outbox.RunReport:
    return outbox.run_once(
        app.extensions["db_sessionmaker"],
        xapi_deliverers(app),
        kinds=(XAPI_STATEMENT,),
        schedule=outbox.RetrySchedule.from_settings(app.config["SETTINGS"]),
        clock=lambda: moment,
    )


def _next_due(app: Flask) -> datetime:
    with app.app_context():
        due = db.session().scalar(
            select(func.min(OutboxMessage.next_attempt_at)).where(
                OutboxMessage.status == "pending", OutboxMessage.kind == XAPI_STATEMENT
            )
        )
    assert due is not None
    return _aware(due)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def test_an_lrs_down_for_71_hours_loses_nothing_and_is_reported_while_down(
    app: Flask, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="ltiservice.outbox")
    world = make_world(app)
    with RalphLRS(tmp_path / "ralph") as lrs:
        destination = add_lrs(app, world, lrs)
        full_history(app, world)
        queued = len(queued_statements(app, "pending"))
        lrs.stop()  # the LRS goes down for the weekend, before the first delivery

        start = now = datetime.now(UTC)
        passes, gaps, tried = 0, [], {m.id: 0 for m in queued_statements(app)}
        while now < start + timedelta(hours=71):
            report = _pass(app, now)  # the worker wakes when the next delivery is due
            assert report.retried >= 1 and report.dead == report.delivered == 0, passes
            passes += 1
            for message in queued_statements(app):
                if message.attempts > tried[message.id]:
                    tried[message.id] = message.attempts
                    gaps.append((_aware(message.next_attempt_at) - now).total_seconds())
            now = _next_due(app)
        with app.app_context():
            [failing] = outbox.failing_destinations(db.session(), world.organisation_id)
        alerts = [r.getMessage() for r in caplog.records if "failing" in r.getMessage()]

        lrs.start()  # back on Monday morning, same address
        back, delivered = now, 0
        while len(queued_statements(app, "pending")):  # each at its next try
            report = _pass(app, now)
            assert report.dead == 0
            delivered += report.delivered
            if len(queued_statements(app, "pending")):
                now = _next_due(app)
        after = [r for r in caplog.records if "failing" in r.getMessage()]
        stored = [s for s in lrs.stored_statements() if world.issuer in str(s)]

    # Exponential from 5 s, then capped: a try every 15 to 30 minutes, never dead.
    assert min(tried.values()) > 140
    assert min(gaps[:12]) >= 2.5 and max(gaps[:12]) <= 5
    assert max(gaps) <= 1800
    assert min(gaps[-12 * 100 :]) >= 900
    assert failing.destination == f"lrs:{destination}" and failing.waiting == queued
    assert failing.since == start
    assert "LRS indisponible (network error" in failing.last_error
    assert len(alerts) == passes  # one line per pass while failing, naming the destination
    assert alerts[-1].startswith(f"outbox destination lrs:{destination} failing")
    # Everything arrives once, after the outage; nothing is left failing.
    assert delivered == queued
    assert now - back <= timedelta(minutes=30)
    assert len(after) - len(alerts) < queued  # the last alerts, while some still waited
    assert len(stored) == queued
    assert Counter(s["id"] for s in stored).most_common(1)[0][1] == 1
    with app.app_context():
        assert outbox.failing_destinations(db.session(), world.organisation_id) == []


def test_an_lrs_still_down_after_72_hours_goes_dead_with_the_reason(
    app: Flask, tmp_path: Path
) -> None:
    world = make_world(app, blocks=("B1",))
    with RalphLRS(tmp_path / "ralph") as lrs:
        add_lrs(app, world, lrs)
        lrs.stop()  # and never comes back: nothing listens on its port any more
    with app.app_context(), db.transaction() as session:
        submit(session, world, "B1")
    start = now = datetime.now(UTC)
    reports = []
    while True:
        reports.append(_pass(app, now))
        if reports[-1].dead:
            break
        now = _next_due(app)
    assert now - start >= timedelta(hours=72)
    assert now - start <= timedelta(hours=72, minutes=30)
    assert sum(r.dead for r in reports) == 1
    [message] = queued_statements(app)
    assert message.status == "dead"
    assert message.last_error.startswith("LRS indisponible (network error")
    assert message.last_error.endswith(f"(abandonné après {len(reports)} essais sur 72 h)")
