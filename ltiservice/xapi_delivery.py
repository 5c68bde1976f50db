"""xAPI statements through the outbox: queued per LRS destination, delivered in batches.

Each statement is one outbox message per destination (``kind = xapi_statement``,
``destination = lrs:<id>``, dedupe key ``xapi:<destination id>:<statement id>``), so one LRS
being down never holds back another, and queuing the same statement twice adds nothing.

The worker hands up to ``BATCH_SIZE`` due messages of one destination to ``deliver_batch``,
which POSTs them with one ``LrsClient`` per destination (kept between runs: connection reuse)
and maps the LRS's answer onto the outbox:
- stored, or already held with other content (409: retrying cannot change the answer; logged
  with ids only) → delivered;
- refused (400/422, isolated by the client's bisection) → dead, with the LRS's message;
- 5xx / 429 / network errors → retried with backoff, honouring Retry-After (capped);
- credentials refused (401/403) → all kept pending with a clear reason, logged as an error.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from ltiservice import outbox
from ltiservice.lrs import SecretError, decrypt_secret, outbox_destination
from ltiservice.models import LrsDestination, OutboxMessage, Person, Platform
from ltiservice.net.outbound import OutboundPolicy, OutboundSession, build_session, service_policy
from xapi.client import AuthError, LrsClient

log = logging.getLogger(__name__)

XAPI_STATEMENT = "xapi_statement"
BATCH_SIZE = 500
CLIENT_TIMEOUT_S = (5.0, 30.0)  # connect, read; ``XAPI_CLIENT_TIMEOUT_S`` in app.config


def dedupe_key(destination_id: int, statement_id: str) -> str:
    """The outbox dedupe key of one statement for one destination."""
    return f"xapi:{destination_id}:{statement_id}"


def queue_statements(
    db: Session,
    organisation_id: int,
    statements: Sequence[dict[str, Any]],
    destinations: Sequence[LrsDestination],
    *,
    fact: str | None = None,
    person_id: int | None = None,
) -> int:
    """Queue each statement for each destination in the caller's transaction.

    ``fact`` names the stored fact the statements report (``submission:12``…) and
    ``person_id`` whom it is about; each row also records the other person a statement names
    (evaluator, voiding signer), found by their exact account. Returns how many messages were
    added: a statement already queued for a destination is skipped (its id is deterministic),
    and so is a fact the destination already has a row for (its statements may carry other
    ids since, e.g. after an erasure renamed the actor).
    """
    agents = _Agents(db)
    added = 0
    for destination in destinations:
        where = outbox_destination(destination.id)
        if fact is not None and outbox.has_fact(db, fact, where):
            continue
        for statement in statements:
            message = outbox.enqueue(
                db,
                organisation_id=organisation_id,
                kind=XAPI_STATEMENT,
                destination=where,
                dedupe_key=dedupe_key(destination.id, statement["id"]),
                payload=statement,
                person_id=person_id,
                mentions=agents.others_than(statement, person_id),
                fact=fact,
            )
            added += message is not None
    return added


class _Agents:
    """The persons a statement names, looked up by their account (platform issuer + sub)."""

    def __init__(self, db: Session) -> None:
        self._db = db
        self._known: dict[tuple[str, str], int | None] = {}

    def _find(self, account: Any) -> int | None:
        if not isinstance(account, dict):
            return None
        key = (str(account.get("homePage")), str(account.get("name")))
        if key not in self._known:
            self._known[key] = self._db.scalar(
                select(Person.id)
                .join(Platform, Platform.id == Person.platform_id)
                .where(Platform.issuer == key[0], Person.sub == key[1])
            )
        return self._known[key]

    def others_than(self, statement: dict[str, Any], person_id: int | None) -> list[int]:
        """Everyone the statement names but ``person_id``: actor, instructor, team members."""
        context = statement.get("context") or {}
        team = context.get("team") or {}
        agents = [statement.get("actor") or {}, context.get("instructor") or {}]
        agents += [m for m in team.get("member") or [] if isinstance(m, dict)]
        found = [self._find(agent.get("account")) for agent in agents if isinstance(agent, dict)]
        return list(dict.fromkeys(p for p in found if p is not None and p != person_id))


class _Clients:
    """One ``LrsClient`` per destination, rebuilt when its endpoint or credentials change."""

    def __init__(
        self, secret_key: str, timeout: float | tuple[float, float], policy: OutboundPolicy
    ) -> None:
        self._secret_key = secret_key
        self._timeout = timeout
        self._policy = policy
        self._clients: dict[int, tuple[tuple[str, str, str], LrsClient, OutboundSession]] = {}
        self._lock = threading.Lock()

    def get(self, destination: LrsDestination) -> LrsClient:
        config = (destination.endpoint, destination.username, destination.secret)
        with self._lock:
            known = self._clients.get(destination.id)
            if known is not None and known[0] == config:
                return known[1]
            if known is not None:
                known[1].close()
                known[2].close()
            password = decrypt_secret(self._secret_key, destination.secret)
            # Endpoints come from whoever configured the destination: the outbound rules apply.
            http = build_session(self._policy)
            client = LrsClient(
                destination.endpoint,
                destination.username,
                password,
                timeout=self._timeout,
                batch_size=BATCH_SIZE,
                session=http,
            )
            self._clients[destination.id] = (config, client, http)
            return client


def _destination_id(destination: str) -> int | None:
    prefix, _, number = destination.partition(":")
    return int(number) if prefix == "lrs" and number.isdigit() else None


def batch_deliverer(app: Flask) -> outbox.BatchDeliverer:
    """The deliverer of ``xapi_statement`` batches (all messages of one destination)."""
    clients = _Clients(
        app.config["SECRET_KEY"],
        app.config.get("XAPI_CLIENT_TIMEOUT_S", CLIENT_TIMEOUT_S),
        service_policy(app.config["SETTINGS"]),
    )

    def deliver(db: Session, messages: list[OutboxMessage]) -> outbox.BatchOutcome:
        destination_id = _destination_id(messages[0].destination)
        destination = db.get(LrsDestination, destination_id) if destination_id else None
        if destination is None or not destination.active:
            reason = (
                "destination LRS supprimée" if destination is None else "destination LRS désactivée"
            )
            return outbox.BatchOutcome(dead={m.id: reason for m in messages})
        try:
            client = clients.get(destination)
        except SecretError as exc:
            log.error("LRS destination %s: %s", destination.id, exc.message)
            return outbox.BatchOutcome(retry={m.id: exc.message for m in messages}, hold=True)
        return _send(client, destination, messages)

    return deliver


def _send(
    client: LrsClient, destination: LrsDestination, messages: list[OutboxMessage]
) -> outbox.BatchOutcome:
    by_statement: dict[str, list[int]] = {}
    for message in messages:
        by_statement.setdefault(message.payload["id"], []).append(message.id)
    try:
        result = client.send_statements([m.payload for m in messages])
    except AuthError as exc:
        reason = (
            f"le LRS « {destination.name} » refuse nos identifiants (HTTP {exc.status}) : "
            "vérifiez-les avec « ltiservice lrs test »"
        )
        log.error(
            "LRS destination %s refused the credentials (HTTP %s)", destination.id, exc.status
        )
        return outbox.BatchOutcome(retry={m.id: reason for m in messages}, hold=True)
    if result.conflicts:
        log.warning(
            "LRS destination %s already holds %d statement(s) with other content: %s",
            destination.id,
            len(result.conflicts),
            ", ".join(result.conflicts),
        )
    delivered = frozenset(i for sid in result.delivered for i in by_statement.get(sid, ()))
    dead = {
        i: f"refusé par le LRS : {reason}"
        for sid, reason in result.rejected.items()
        for i in by_statement.get(sid, ())
    }
    failure = result.retryable
    why = f"LRS indisponible ({failure.reason})" if failure else "non envoyé"
    retry = {i: why for sid in result.pending for i in by_statement.get(sid, ())}
    return outbox.BatchOutcome(delivered, dead, retry, failure.retry_after if failure else None)


def xapi_deliverers(app: Flask) -> dict[str, outbox.BatchDelivery]:
    """The outbox kinds this module delivers, for ``ltiservice.passback.deliverers``."""
    return {XAPI_STATEMENT: outbox.BatchDelivery(batch_deliverer(app), BATCH_SIZE)}
