"""Durable deliveries: written with the fact they report, delivered later by a worker.

Nothing is sent from inside a web request. `enqueue` adds a row in the caller's transaction;
`run_once` claims due rows (FOR UPDATE SKIP LOCKED on PostgreSQL, so several workers never
take the same row), hands each to the deliverer registered for its kind, and records the
outcome: delivered, retried later with exponential backoff, or dead (visible to admins).

When to retry and when to give up is a `RetrySchedule` (settings ``outbox_retry_*``): the
delay doubles from ``first_delay_s`` up to ``max_delay_s`` (jittered), and a delivery dies only
once it has been failing for ``give_up_after_s`` since its first failure (72 h by default: a
destination down for a weekend loses nothing). While a destination fails, each run logs one
warning per destination and `failing_destinations` feeds the administrators' alert. Every
moment is read from the ``clock`` passed to `run_once`, so tests simulate days of outage
without sleeping.

Kinds whose destination takes many messages per request (xAPI statements to an LRS) register a
`BatchDelivery` instead of a per-message `Deliverer`: `run_once` then claims up to `size` due
messages of ONE destination at a time (same atomic claim) and applies the `BatchOutcome` the
batch deliverer returns, message by message.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from ltiservice.models import OutboxMention, OutboxMessage

log = logging.getLogger(__name__)

BASE_DELAY_S = 5.0
MAX_DELAY_S = 1800.0  # once the delay reaches it: a try every 15 to 30 minutes
GIVE_UP_AFTER_S = 72 * 3600.0
CLAIM_LEASE_S = 120.0

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    # SQLite hands timezone-aware columns back naive; every stored moment is UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class RetrySchedule:
    """When a failed delivery is tried again, and when it is given up (dead)."""

    first_delay_s: float = BASE_DELAY_S
    max_delay_s: float = MAX_DELAY_S
    give_up_after_s: float = GIVE_UP_AFTER_S

    @classmethod
    def from_settings(cls, settings: Any) -> RetrySchedule:
        """The schedule of ``Settings.outbox_retry_first_s / _max_s / _give_up_h``."""
        return cls(
            float(settings.outbox_retry_first_s),
            float(settings.outbox_retry_max_s),
            float(settings.outbox_retry_give_up_h) * 3600.0,
        )

    def exhausted(self, failing_since: datetime | None, now: datetime) -> bool:
        """Whether a delivery failing since ``failing_since`` (None: first failure now) has
        failed long enough to die."""
        if failing_since is None:
            return self.give_up_after_s <= 0
        return (now - _aware(failing_since)).total_seconds() >= self.give_up_after_s

    def give_up_reason(self, reason: str, attempts: int) -> str:
        hours = self.give_up_after_s / 3600
        return f"{reason} (abandonné après {attempts} essais sur {hours:g} h)"


DEFAULT_SCHEDULE = RetrySchedule()


class RetryableDeliveryError(Exception):
    """The destination may accept later (network error, 5xx, 429): try again."""

    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class PermanentDeliveryError(Exception):
    """The destination refused for good (400, unknown user): dead-letter with the reason."""


Deliverer = Callable[[Session, OutboxMessage], None]


@dataclass(frozen=True)
class BatchOutcome:
    """What happened to each message of a batch (by message id).

    A message in none of the maps is retried (nothing was learned about it). ``retry_after_s``
    is the destination's Retry-After for the retried ones. ``hold`` keeps the retried messages
    pending whatever their attempt count: the destination, not the messages, is at fault
    (refused credentials), so they must not be dead-lettered while an admin fixes it.
    """

    delivered: frozenset[int] = frozenset()
    dead: Mapping[int, str] = field(default_factory=dict)
    retry: Mapping[int, str] = field(default_factory=dict)
    retry_after_s: float | None = None
    hold: bool = False


BatchDeliverer = Callable[[Session, list[OutboxMessage]], BatchOutcome]


@dataclass(frozen=True)
class BatchDelivery:
    """Registered in place of a `Deliverer`: deliver up to ``size`` messages of one
    destination per call."""

    deliver: BatchDeliverer
    size: int = 500


Registry = Mapping[str, "Deliverer | BatchDelivery"]


@dataclass(frozen=True)
class RunReport:
    delivered: int = 0
    retried: int = 0
    dead: int = 0

    @property
    def handled(self) -> int:
        return self.delivered + self.retried + self.dead


def enqueue(
    db: Session,
    *,
    organisation_id: int,
    kind: str,
    destination: str,
    dedupe_key: str,
    payload: dict[str, Any],
    person_id: int | None = None,
    agent_id: int | None = None,
    fact: str | None = None,
    mentions: Iterable[int] = (),
) -> OutboxMessage | None:
    """Add a delivery to the caller's transaction; a known dedupe key adds nothing.

    ``person_id`` is whom the delivery is about, ``mentions`` every other person it names
    (``agent_id``, the first of them, when not given) and ``fact`` the stored fact it
    reports: erasure and replays find rows by these.
    """
    existing = db.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key))
    if existing is not None:
        return None
    named = [p for p in dict.fromkeys([*mentions, *([agent_id] if agent_id else [])])]
    named = [p for p in named if p != person_id]
    message = OutboxMessage(
        organisation_id=organisation_id,
        kind=kind,
        destination=destination,
        dedupe_key=dedupe_key,
        payload=payload,
        person_id=person_id,
        agent_id=agent_id or (named[0] if named else None),
        fact=fact,
        mentions=[OutboxMention(person_id=p) for p in named],
    )
    db.add(message)
    return message


def has_fact(db: Session, fact: str, destination: str) -> bool:
    """Whether the destination already has a delivery (of any status) reporting this fact."""
    found = db.scalar(
        select(OutboxMessage.id)
        .where(OutboxMessage.fact == fact, OutboxMessage.destination == destination)
        .limit(1)
    )
    return found is not None


def backoff_s(
    attempts: int,
    retry_after_s: float | None = None,
    jitter: Callable[[], float] = random.random,
    schedule: RetrySchedule = DEFAULT_SCHEDULE,
) -> float:
    """Exponential backoff with jitter and a cap, at least what the destination asked for
    (itself capped: a Retry-After of a week must not outlast the give-up window)."""
    exponent = min(max(0, attempts - 1), 64)
    delay = min(schedule.max_delay_s, schedule.first_delay_s * (2**exponent))
    delay = delay * (0.5 + jitter() / 2)
    return max(delay, min(retry_after_s or 0.0, schedule.max_delay_s))


def _claim(
    db: Session,
    batch: int,
    kinds: tuple[str, ...] | None,
    *conditions: ColumnElement[bool],
    lease_s: float = CLAIM_LEASE_S,
    now: datetime | None = None,
) -> list[OutboxMessage]:
    now = now or utcnow()
    due = (
        select(OutboxMessage.id)
        .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
        .where(*conditions)
        .order_by(OutboxMessage.id)
        .limit(batch)
    )
    if kinds:
        due = due.where(OutboxMessage.kind.in_(kinds))
    if db.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    # The lease pushes claimed rows into the future: a worker killed mid-delivery leaves them
    # to be retried after the lease, never lost. The conditional UPDATE makes the claim
    # atomic where SKIP LOCKED does not exist (SQLite): of two workers, one gets the row.
    lease_until = now + timedelta(seconds=lease_s)
    claimed: list[int] = []
    for message_id in list(db.scalars(due)):
        result = db.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == message_id,
                OutboxMessage.status == "pending",
                OutboxMessage.next_attempt_at <= now,
            )
            .values(next_attempt_at=lease_until, attempts=OutboxMessage.attempts + 1)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            claimed.append(message_id)
    db.commit()
    if not claimed:
        return []
    return list(
        db.scalars(
            select(OutboxMessage).where(OutboxMessage.id.in_(claimed)).order_by(OutboxMessage.id)
        )
    )


@dataclass
class _Run:
    """What one `run_once` pass needs everywhere: its moment, its schedule, its outcomes."""

    now: datetime
    schedule: RetrySchedule
    lease_s: float
    outcomes: list[str] = field(default_factory=list)
    failing: dict[str, str] = field(default_factory=dict)  # destination -> last reason

    def retried(self, destination: str, reason: str) -> str:
        self.failing[destination] = reason
        return "retried"


def run_once(
    factory: sessionmaker[Session],
    deliverers: Registry,
    batch: int = 50,
    kinds: tuple[str, ...] | None = None,
    lease_s: float = CLAIM_LEASE_S,
    schedule: RetrySchedule = DEFAULT_SCHEDULE,
    clock: Clock = utcnow,
) -> RunReport:
    """Deliver every due message once; returns what happened.

    Per-message kinds: up to ``batch`` messages. Batch kinds: one batch (up to its ``size``)
    per destination with due messages. ``clock`` gives the pass its moment (due rows, leases,
    next attempts, the give-up window).
    """
    run = _Run(clock(), schedule, lease_s)
    batched = {k: d for k, d in deliverers.items() if isinstance(d, BatchDelivery)}
    with factory() as db:
        # Kinds with no deliverer at all stay on this path, which dead-letters them.
        not_batched = OutboxMessage.kind.not_in(tuple(batched)) if batched else None
        conditions = () if not_batched is None else (not_batched,)
        for message in _claim(db, batch, kinds, *conditions, lease_s=lease_s, now=run.now):
            run.outcomes.append(_deliver_one(db, message, deliverers, run))
        for kind, delivery in batched.items():
            if kinds and kind not in kinds:
                continue
            for destination in _due_destinations(db, kind, run.now):
                run.outcomes += _deliver_batch(db, kind, destination, delivery, run)
    for destination, reason in sorted(run.failing.items()):
        log.warning(
            "outbox destination %s failing, deliveries kept for retry: %s", destination, reason
        )
    outcomes = run.outcomes
    return RunReport(outcomes.count("delivered"), outcomes.count("retried"), outcomes.count("dead"))


def _due_destinations(db: Session, kind: str, now: datetime) -> list[str]:
    return list(
        db.scalars(
            select(OutboxMessage.destination)
            .where(
                OutboxMessage.kind == kind,
                OutboxMessage.status == "pending",
                OutboxMessage.next_attempt_at <= now,
            )
            .distinct()
            .order_by(OutboxMessage.destination)
        )
    )


def _deliver_batch(
    db: Session, kind: str, destination: str, delivery: BatchDelivery, run: _Run
) -> list[str]:
    messages = _claim(
        db,
        delivery.size,
        (kind,),
        OutboxMessage.destination == destination,
        lease_s=run.lease_s,
        now=run.now,
    )
    if not messages:
        return []
    # Read before the deliverer's session use.
    attempts = {m.id: m.attempts for m in messages}
    failing_since = {m.id: m.failing_since for m in messages}
    try:
        outcome = delivery.deliver(db, messages)
    except Exception as exc:  # a bug in one deliverer must not stop the worker's other kinds
        db.rollback()
        log.exception("outbox %s batch to %s failed", kind, destination)
        reason = f"erreur interne : {type(exc).__name__}"
        outcome = BatchOutcome(retry=dict.fromkeys(attempts, reason))
    delivered = [i for i in attempts if i in outcome.delivered]
    if delivered:
        db.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(delivered))
            .values(status="delivered", last_error=None, delivered_at=run.now)
        )
        db.commit()
    others = [
        _apply(db, i, n, failing_since[i], destination, outcome, run)
        for i, n in attempts.items()
        if i not in outcome.delivered
    ]
    return ["delivered"] * len(delivered) + others


def _apply(
    db: Session,
    message_id: int,
    attempts: int,
    failing_since: datetime | None,
    destination: str,
    outcome: BatchOutcome,
    run: _Run,
) -> str:
    if message_id in outcome.dead:
        _mark_id(db, message_id, "dead", outcome.dead[message_id], now=run.now)
        return "dead"
    reason = outcome.retry.get(message_id, "aucune réponse pour ce message")
    if run.schedule.exhausted(failing_since, run.now) and not outcome.hold:
        _mark_id(db, message_id, "dead", run.schedule.give_up_reason(reason, attempts), now=run.now)
        log.warning("outbox %s to %s dead: %s", message_id, destination, reason)
        return "dead"
    delay = backoff_s(attempts, outcome.retry_after_s, schedule=run.schedule)
    next_at = run.now + timedelta(seconds=delay)
    _mark_id(db, message_id, "pending", reason, next_at, now=run.now)
    return run.retried(destination, reason)


def _deliver_one(db: Session, message: OutboxMessage, deliverers: Registry, run: _Run) -> str:
    deliverer = deliverers.get(message.kind)
    try:
        if deliverer is None or isinstance(deliverer, BatchDelivery):
            raise PermanentDeliveryError(f"no deliverer for kind {message.kind}")
        deliverer(db, message)
    except RetryableDeliveryError as exc:
        db.rollback()
        if run.schedule.exhausted(message.failing_since, run.now):
            reason = run.schedule.give_up_reason(str(exc), message.attempts)
            _mark(db, message, "dead", reason, now=run.now)
            log.warning(
                "outbox %s #%s to %s dead: %s", message.kind, message.id, message.destination, exc
            )
            return "dead"
        delay = backoff_s(message.attempts, exc.retry_after_s, schedule=run.schedule)
        next_at = run.now + timedelta(seconds=delay)
        _mark(db, message, "pending", str(exc), next_at, now=run.now)
        return run.retried(message.destination, str(exc))
    except PermanentDeliveryError as exc:
        db.rollback()
        _mark(db, message, "dead", str(exc), now=run.now)
        log.warning("outbox %s #%s dead: %s", message.kind, message.id, exc)
        return "dead"
    _mark(db, message, "delivered", None, now=run.now)
    return "delivered"


def _mark(
    db: Session,
    message: OutboxMessage,
    status: str,
    error: str | None,
    next_attempt_at: datetime | None = None,
    *,
    now: datetime,
) -> None:
    _mark_id(db, message.id, status, error, next_attempt_at, now=now)


def _mark_id(
    db: Session,
    message_id: int,
    status: str,
    error: str | None,
    next_attempt_at: datetime | None = None,
    *,
    now: datetime,
) -> None:
    values: dict[str, Any] = {"status": status, "last_error": error}
    if status == "delivered":
        values["delivered_at"] = now
        values["failing_since"] = None
    elif status == "pending":  # the give-up window starts at the first failure
        values["failing_since"] = func.coalesce(OutboxMessage.failing_since, now)
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    db.execute(update(OutboxMessage).where(OutboxMessage.id == message_id).values(**values))
    db.commit()


def retry_dead(
    db: Session, message_ids: list[int] | None = None, organisation_id: int | None = None
) -> int:
    """Put dead messages back in the queue (after the cause was fixed)."""
    query = update(OutboxMessage).where(OutboxMessage.status == "dead")
    if message_ids:
        query = query.where(OutboxMessage.id.in_(message_ids))
    if organisation_id is not None:
        query = query.where(OutboxMessage.organisation_id == organisation_id)
    result = db.execute(
        query.values(
            status="pending", attempts=0, failing_since=None, next_attempt_at=datetime.now(UTC)
        )
    )
    db.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def counts(db: Session, organisation_id: int | None = None) -> dict[str, int]:
    """Deliveries per status, for one organisation or all."""
    query = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    if organisation_id is not None:
        query = query.where(OutboxMessage.organisation_id == organisation_id)
    return {status: int(n) for status, n in db.execute(query)}


def dead_letters(db: Session, organisation_id: int, limit: int = 100) -> list[OutboxMessage]:
    """The organisation's deliveries that failed for good, newest first."""
    return list(
        db.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.organisation_id == organisation_id, OutboxMessage.status == "dead")
            .order_by(OutboxMessage.id.desc())
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class FailingDestination:
    """A destination whose deliveries are being retried: the administrators' alert."""

    kind: str
    destination: str
    waiting: int
    since: datetime
    last_error: str


def failing_destinations(
    db: Session, organisation_id: int | None = None
) -> list[FailingDestination]:
    """Destinations with deliveries pending after a failure, oldest failure first."""
    query = (
        select(
            OutboxMessage.kind,
            OutboxMessage.destination,
            func.count(),
            func.min(OutboxMessage.failing_since),
            func.max(OutboxMessage.id),
        )
        .where(OutboxMessage.status == "pending", OutboxMessage.failing_since.is_not(None))
        .group_by(OutboxMessage.kind, OutboxMessage.destination)
    )
    if organisation_id is not None:
        query = query.where(OutboxMessage.organisation_id == organisation_id)
    found = []
    for kind, destination, waiting, since, newest in db.execute(query).all():
        assert since is not None  # filtered on failing_since IS NOT NULL
        error = db.scalar(select(OutboxMessage.last_error).where(OutboxMessage.id == newest))
        found.append(
            FailingDestination(kind, destination, int(waiting), _aware(since), error or "")
        )
    return sorted(found, key=lambda f: (f.since, f.destination))


class BackgroundWorker:
    """The embedded default's worker: a daemon thread polling the outbox."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        deliverers: Registry,
        interval_s: float = 2.0,
        lease_s: float = CLAIM_LEASE_S,
        schedule: RetrySchedule = DEFAULT_SCHEDULE,
    ) -> None:
        self._factory = factory
        self._deliverers = deliverers
        self._interval_s = interval_s
        self._lease_s = lease_s
        self._schedule = schedule
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="outbox", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                report = run_once(
                    self._factory,
                    self._deliverers,
                    lease_s=self._lease_s,
                    schedule=self._schedule,
                )
            except Exception:  # the loop must survive a database outage
                log.exception("outbox run failed; retrying")
                report = RunReport()
            if report.handled == 0:
                self._stop.wait(self._interval_s)
