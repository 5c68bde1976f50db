"""The outbox itself: claims, retries, dead letters, several workers at once (real database)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from ltiservice import db, outbox
from ltiservice.models import Organisation, OutboxMessage


def _fill(app, count: int, kind: str = "test") -> None:
    with app.app_context():
        session = db.session()
        organisation = Organisation(slug="of", name="OF")
        session.add(organisation)
        session.flush()
        for n in range(count):
            outbox.enqueue(
                session,
                organisation_id=organisation.id,
                kind=kind,
                destination="dest:1",
                dedupe_key=f"k{n}",
                payload={"n": n},
            )
        session.commit()


def _rows(app) -> list[OutboxMessage]:
    with app.app_context():
        return list(db.session().scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_two_workers_never_deliver_the_same_message(app):
    _fill(app, 60)
    seen: Counter[int] = Counter()
    lock = threading.Lock()

    def slow_delivery(_db, message):
        time.sleep(0.005)
        with lock:
            seen[message.payload["n"]] += 1

    factory = app.extensions["db_sessionmaker"]
    workers = [
        threading.Thread(
            target=lambda: [
                outbox.run_once(factory, {"test": slow_delivery}, batch=10) for _ in range(8)
            ]
        )
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(seen) == list(range(60))
    assert set(seen.values()) == {1}
    assert {m.status for m in _rows(app)} == {"delivered"}


def test_retryable_failures_back_off_then_die_after_the_give_up_window(app):
    _fill(app, 1)
    factory = app.extensions["db_sessionmaker"]

    def down(_db, _message):
        raise outbox.RetryableDeliveryError("connexion refusée", retry_after_s=30)

    report = outbox.run_once(factory, {"test": down})
    assert report.retried == 1
    [message] = _rows(app)
    assert message.status == "pending"
    assert message.last_error == "connexion refusée"
    # Retry-After is honoured: not due before 30 s.
    assert message.next_attempt_at.replace(tzinfo=UTC) >= datetime.now(UTC) + timedelta(seconds=25)
    assert outbox.run_once(factory, {"test": down}).handled == 0

    # Failing for just under the give-up window (72 h): still retried; just over: dead.
    first_failure = message.failing_since.replace(tzinfo=UTC)
    almost = first_failure + timedelta(hours=71, minutes=59)
    with app.app_context():
        db.session().execute(update(OutboxMessage).values(next_attempt_at=almost))
        db.session().commit()
    assert outbox.run_once(factory, {"test": down}, clock=lambda: almost).retried == 1
    later = first_failure + timedelta(hours=72)
    with app.app_context():
        db.session().execute(update(OutboxMessage).values(next_attempt_at=later))
        db.session().commit()
    assert outbox.run_once(factory, {"test": down}, clock=lambda: later).dead == 1
    [message] = _rows(app)
    assert message.status == "dead"
    assert message.last_error == "connexion refusée (abandonné après 3 essais sur 72 h)"


def test_permanent_failures_are_dead_lettered_and_can_be_retried(app):
    _fill(app, 2)
    factory = app.extensions["db_sessionmaker"]

    def refuse(_db, message):
        raise outbox.PermanentDeliveryError(f"refusé {message.payload['n']}")

    assert outbox.run_once(factory, {"test": refuse}).dead == 2
    assert [m.last_error for m in _rows(app)] == ["refusé 0", "refusé 1"]
    with app.app_context():
        assert outbox.counts(db.session()) == {"dead": 2}
        assert outbox.retry_dead(db.session(), [_rows(app)[0].id]) == 1
    assert outbox.run_once(factory, {"test": lambda _db, _m: None}).delivered == 1
    assert [m.status for m in _rows(app)] == ["delivered", "dead"]


def test_a_claimed_message_of_a_crashed_worker_is_taken_again_after_its_lease(app):
    _fill(app, 1)
    factory = app.extensions["db_sessionmaker"]
    with factory() as session:
        claimed = outbox._claim(session, 10, None)  # a worker claims, then dies
    assert len(claimed) == 1
    assert outbox.run_once(factory, {"test": lambda _db, _m: None}).handled == 0
    with app.app_context():
        db.session().execute(update(OutboxMessage).values(next_attempt_at=datetime.now(UTC)))
        db.session().commit()
    assert outbox.run_once(factory, {"test": lambda _db, _m: None}).delivered == 1
    assert _rows(app)[0].attempts == 2


def test_unknown_kind_is_dead_not_lost(app):
    _fill(app, 1, kind="mystery")
    report = outbox.run_once(app.extensions["db_sessionmaker"], {})
    assert report.dead == 1
    assert "no deliverer" in _rows(app)[0].last_error


def test_backoff_grows_and_is_capped():
    delays = [outbox.backoff_s(n, jitter=lambda: 1.0) for n in (1, 2, 3, 20)]
    assert delays[:3] == [5.0, 10.0, 20.0]
    assert delays[3] == outbox.MAX_DELAY_S
    assert outbox.backoff_s(1, retry_after_s=90, jitter=lambda: 0.0) == 90
