"""Shared fixtures of the xAPI delivery tests: the worker, a second LRS, and the checks every
emitted statement must pass (Learning Locker's validator and our profile)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from ltiservice import outbox
from ltiservice.models import OutboxMessage
from ltiservice.xapi_delivery import XAPI_STATEMENT, xapi_deliverers
from tests.peers.ralph import RalphLRS
from tests.peers.xapi_validator import XapiValidator
from xapi.profile import check_statement

# Every statement the service queued in these tests (collected when the worker runs).
EMITTED: list[dict[str, Any]] = []


def queued_statements(app: Flask, status: str | None = None) -> list[OutboxMessage]:
    """The xAPI outbox messages, by id."""
    query = select(OutboxMessage).where(OutboxMessage.kind == XAPI_STATEMENT)
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    with app.extensions["db_sessionmaker"]() as session:
        return list(session.scalars(query.order_by(OutboxMessage.id)))


def run_worker(app: Flask, **config: Any) -> outbox.RunReport:
    """One pass of the outbox worker over the xAPI kind, as `ltiservice worker` runs it."""
    # Only what the service queued (dedupe key ``xapi:…``): a test's hand-made faulty message
    # is checked by that test.
    seen = {
        m.payload["id"]: m.payload
        for m in queued_statements(app, "pending")
        if m.dedupe_key.startswith("xapi:")
    }
    EMITTED.extend(seen.values())
    app.config.update(config)
    return outbox.run_once(
        app.extensions["db_sessionmaker"], xapi_deliverers(app), kinds=(XAPI_STATEMENT,)
    )


def make_due(app: Flask) -> None:
    """Time passes: every pending message is due now (instead of sleeping through backoff)."""
    with app.extensions["db_sessionmaker"]() as session:
        for message in session.scalars(
            select(OutboxMessage).where(OutboxMessage.status == "pending")
        ):
            message.next_attempt_at = datetime.now(UTC)
        session.commit()


@pytest.fixture(autouse=True)
def emitted_statements_are_valid(xapi_validator: XapiValidator) -> Iterator[None]:
    """After each test: what it emitted passes the independent validator and the profile."""
    start = len(EMITTED)
    yield
    new = EMITTED[start:]
    if not new:
        return
    warnings = xapi_validator.validate(new)
    assert {s["id"]: w for s, w in zip(new, warnings, strict=True) if w} == {}
    problems = {s["id"]: check_statement(s) for s in new}
    assert {i: p for i, p in problems.items() if p} == {}


@pytest.fixture(scope="module")
def branch_lrs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RalphLRS]:
    """A second real Ralph: the branch's LRS (or a newly added one)."""
    with RalphLRS(tmp_path_factory.mktemp("ralph-branch")) as lrs:
        yield lrs
