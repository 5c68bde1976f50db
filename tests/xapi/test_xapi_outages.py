"""LRS outages between us and a real Ralph: nothing lost, nothing stored twice."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest

from tests.peers.ralph import RalphLRS
from tests.xapi.fault_proxy import Fault, FaultProxy
from tests.xapi.samples import AT, PLACEMENT, REGISTRATION, VOCAB
from xapi.client import LrsClient, RetryableFailure, deliver_with_retries
from xapi.model import Actor
from xapi.statements import build_submitted

pytestmark = pytest.mark.peer


def _submissions(count: int) -> list[dict[str, Any]]:
    learner = Actor("https://moodle.example.org", f"sub-{uuid.uuid4().hex[:12]}")
    return [
        build_submitted(VOCAB, learner, PLACEMENT, REGISTRATION, f"submission-{n}", 1, AT)
        for n in range(count)
    ]


def _store_counts(lrs: RalphLRS, statements: list[dict[str, Any]]) -> dict[str, int]:
    counts = {s["id"]: 0 for s in statements}
    for stored in lrs.stored_statements():
        if stored["id"] in counts:
            counts[stored["id"]] += 1
    return counts


def test_every_statement_lands_exactly_once_through_outages(ralph_lrs: RalphLRS) -> None:
    statements = _submissions(40)
    in_three_seconds = format_datetime(datetime.now(UTC) + timedelta(seconds=3), usegmt=True)
    faults = [
        Fault("status", 503, {"Retry-After": "2"}),
        Fault("status", 429, {"Retry-After": in_three_seconds}),
        Fault("close"),
        # The LRS stores the first batch but answers after the client's timeout.
        Fault("slow", delay=4.0),
        Fault("status", 502),
    ]
    slept: list[float] = []
    with (
        FaultProxy(ralph_lrs.endpoint, faults) as proxy,
        LrsClient(
            proxy.endpoint, ralph_lrs.username, ralph_lrs.password, timeout=2.0, batch_size=10
        ) as client,
    ):
        result = deliver_with_retries(
            client, statements, max_attempts=6, sleep=slept.append, jitter=lambda: 0.0
        )

    assert sorted(result.delivered) == sorted(s["id"] for s in statements)
    assert result.pending == () and result.rejected == {} and result.conflicts == ()
    assert set(_store_counts(ralph_lrs, statements).values()) == {1}
    assert [kind for kind, _ in proxy.log[:5]] == ["status", "status", "close", "slow", "status"]
    # Retry-After honoured: seconds, then an HTTP date (about 3 s away when sent).
    assert len(slept) == 5
    assert slept[0] == 2.0
    assert 1.0 <= slept[1] <= 3.0
    # Without Retry-After: equal-jitter exponential backoff, jitter 0 → half of 2·2^(n-1).
    assert slept[2:] == [4.0, 8.0, 16.0]


def test_a_send_reports_what_is_left_when_the_lrs_fails_midway(ralph_lrs: RalphLRS) -> None:
    statements = _submissions(40)
    ids = [s["id"] for s in statements]
    faults = [Fault("pass"), Fault("pass"), Fault("status", 500)]
    with (
        FaultProxy(ralph_lrs.endpoint, faults) as proxy,
        LrsClient(proxy.endpoint, ralph_lrs.username, ralph_lrs.password, batch_size=10) as client,
    ):
        result = client.send_statements(statements)

    assert result.delivered == tuple(ids[:20])
    assert result.pending == tuple(ids[20:])
    assert result.retryable == RetryableFailure("HTTP 500", 500, None)
    assert not result.complete
    counts = _store_counts(ralph_lrs, statements)
    assert [counts[i] for i in ids] == [1] * 20 + [0] * 20


def test_503_with_retry_after_stops_the_send(ralph_lrs: RalphLRS) -> None:
    statements = _submissions(3)
    with (
        FaultProxy(ralph_lrs.endpoint, [Fault("status", 503, {"Retry-After": "120"})]) as proxy,
        LrsClient(proxy.endpoint, ralph_lrs.username, ralph_lrs.password) as client,
    ):
        result = client.send_statements(statements)
    assert result.delivered == ()
    assert result.pending == tuple(s["id"] for s in statements)
    assert result.retryable == RetryableFailure("HTTP 503", 503, 120.0)
    assert set(_store_counts(ralph_lrs, statements).values()) == {0}


def test_413_halves_the_batch_until_it_fits(ralph_lrs: RalphLRS) -> None:
    statements = _submissions(12)
    with (
        FaultProxy(ralph_lrs.endpoint) as proxy,
        LrsClient(proxy.endpoint, ralph_lrs.username, ralph_lrs.password) as client,
    ):
        proxy.max_statements = 3
        result = client.send_statements(statements)

    assert result.delivered == tuple(s["id"] for s in statements)
    assert [count for _, count in proxy.log] == [12, 6, 3, 3, 6, 3, 3]
    assert set(_store_counts(ralph_lrs, statements).values()) == {1}
