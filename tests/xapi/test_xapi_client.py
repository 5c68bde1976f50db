"""LRS client pieces that need no server: Retry-After, backoff, input checks."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from xapi.client import LrsClient, backoff_delay, parse_retry_after

NOW = datetime(2025, 3, 14, 8, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("Fri, 14 Mar 2025 08:00:30 GMT", 30.0),
        ("Fri, 14 Mar 2025 07:59:00 GMT", 0.0),  # already past: go now
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header, now=NOW) == seconds


def test_backoff_is_exponential_capped_jittered_and_honours_retry_after() -> None:
    no_jitter = [backoff_delay(n, jitter=lambda: 0.0) for n in range(1, 6)]
    full_jitter = [backoff_delay(n, jitter=lambda: 1.0) for n in range(1, 6)]
    assert no_jitter == [1.0, 2.0, 4.0, 8.0, 16.0]
    assert full_jitter == [2.0, 4.0, 8.0, 16.0, 32.0]
    assert backoff_delay(50, cap=600, jitter=lambda: 1.0) == 600.0
    assert backoff_delay(10_000, cap=600, jitter=lambda: 0.5) == 450.0  # no overflow
    assert backoff_delay(1, retry_after=30, jitter=lambda: 1.0) == 30.0
    assert backoff_delay(8, retry_after=3, jitter=lambda: 0.0) == 128.0
    with pytest.raises(ValueError):
        backoff_delay(0)


def test_client_checks_its_input_and_hides_credentials() -> None:
    with LrsClient("https://lrs.example.org/xAPI/", "user", "s3cret") as client:
        assert client.statements_url == "https://lrs.example.org/xAPI/statements"
        assert "s3cret" not in repr(client)
        with pytest.raises(ValueError, match="'id'"):
            client.send_statements([{"actor": {}}])
    with pytest.raises(ValueError):
        LrsClient("https://lrs.example.org/xAPI", "u", "p", batch_size=0)
