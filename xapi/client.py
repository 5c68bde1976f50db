"""LRS client: batch POST of statements over ``requests``, outcome classified per statement.

The client never sleeps and never loops on failures: ``send_statements`` makes the requests one
call needs (a batch is split when the LRS refuses it, to find the culprits) and returns a
``SendResult``; the caller (the service's outbox worker) decides when to try again, with
``backoff_delay`` and the same statements (deterministic ids make a re-send harmless).

Response handling (xAPI 1.0.3, and Ralph's behaviour as measured in notes/xapi.md):
- 200 / 204: every statement of the batch is stored (an identical re-POST is accepted as is);
- 409: the LRS holds a statement with the same id and different content. A batch refused for it
  is bisected so its other statements get stored; the culprit counts as delivered ("already
  stored": retrying can never change the answer) and is listed in ``conflicts`` for an alert;
- 400 / 422: the batch is refused whole; bisect, deliver the good ones, report the bad ones in
  ``rejected`` with the LRS's message (permanent);
- 413: halve the batch (a single statement too large is rejected);
- 401 / 403: ``AuthError`` (stop everything: credentials or scopes are wrong);
- 429 / 503, other 5xx, network errors, timeouts: stop, report the rest as ``pending`` with a
  ``RetryableFailure`` (``retry_after`` from the Retry-After header when given).
Logs carry counts, statuses and ids, never credentials nor statement content.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any

import requests

logger = logging.getLogger(__name__)

XAPI_VERSION = "1.0.3"
MAX_MESSAGE_CHARS = 500


class LrsError(Exception):
    """Base class of the LRS client's errors."""


class AuthError(LrsError):
    """The LRS refused our credentials (401) or their scope (403): stop and alert."""

    def __init__(self, status: int) -> None:
        super().__init__(f"LRS refused the credentials (HTTP {status})")
        self.status = status


@dataclass(frozen=True)
class RetryableFailure:
    """Why a send stopped early; try the pending statements again later."""

    reason: str
    status: int | None = None
    retry_after: float | None = None


@dataclass(frozen=True)
class SendResult:
    """Outcome of one ``send_statements`` call, per statement id.

    ``delivered`` includes ``conflicts`` (held by the LRS, with other content). ``rejected``
    statements will never be accepted (id → the LRS's message). ``pending`` were not delivered
    because of ``retryable``.
    """

    delivered: tuple[str, ...] = ()
    conflicts: tuple[str, ...] = ()
    rejected: Mapping[str, str] = field(default_factory=dict)
    pending: tuple[str, ...] = ()
    retryable: RetryableFailure | None = None

    @property
    def complete(self) -> bool:
        """True when nothing is left to retry (rejections and conflicts may remain)."""
        return not self.pending


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date), else None."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:  # RFC 9110 dates are GMT
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())


def backoff_delay(
    attempt: int,
    retry_after: float | None = None,
    base: float = 2.0,
    cap: float = 600.0,
    jitter: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait before attempt ``attempt + 1`` (``attempt`` counts from 1).

    Exponential (base · 2^(attempt-1), capped) with "equal jitter" (half fixed, half random, so
    workers that failed together do not retry together). A server's Retry-After is a floor.
    """
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    exponential = min(cap, base * 2.0 ** min(attempt - 1, 62))
    delay = exponential / 2 + jitter() * exponential / 2
    return max(delay, retry_after) if retry_after is not None else delay


class LrsClient:
    """Client of one LRS's statements resource (``<endpoint>/statements``).

    One ``requests.Session`` is reused (connection pooling); pass your own to share or mount
    adapters. Use as a context manager or call ``close()``.
    """

    def __init__(
        self,
        endpoint: str,
        username: str,
        password: str,
        timeout: float | tuple[float, float] = 10.0,
        session: requests.Session | None = None,
        batch_size: int = 500,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.statements_url = endpoint.rstrip("/") + "/statements"
        self.timeout = timeout
        self.batch_size = batch_size
        self._owns_session = session is None
        self._session = session or requests.Session()
        self._session.auth = (username, password)
        self._session.headers.update(
            {
                "X-Experience-API-Version": XAPI_VERSION,
                "Content-Type": "application/json; charset=utf-8",
            }
        )

    def __repr__(self) -> str:  # never show credentials
        return f"LrsClient({self.statements_url!r})"

    def close(self) -> None:
        """Close the session if this client created it."""
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> LrsClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def send_statements(self, statements: Sequence[Mapping[str, Any]]) -> SendResult:
        """POST the statements in batches; classify each one. Raises ``AuthError`` on 401/403.

        Every statement needs its ``id`` (ours are deterministic). Repeated ids are sent once.
        """
        queue = _batches(_unique_by_id(statements), self.batch_size)
        delivered: list[str] = []
        conflicts: list[str] = []
        rejected: dict[str, str] = {}
        while queue:
            batch = queue.pop(0)
            outcome = self._post(batch)
            if isinstance(outcome, RetryableFailure):
                pending = [s["id"] for b in [batch, *queue] for s in b]
                logger.warning(
                    "LRS send stopped (%s), %d statement(s) pending", outcome.reason, len(pending)
                )
                return SendResult(
                    tuple(delivered), tuple(conflicts), rejected, tuple(pending), outcome
                )
            status, message = outcome
            ids = [s["id"] for s in batch]
            if status in (200, 204):
                delivered.extend(ids)
            elif status in (400, 409, 413, 422) and len(batch) > 1:
                middle = len(batch) // 2
                queue[:0] = [batch[:middle], batch[middle:]]
            elif status == 409:
                logger.warning("LRS holds statement %s with other content (409)", ids[0])
                delivered.extend(ids)
                conflicts.extend(ids)
            else:
                logger.warning("LRS rejected statement %s (HTTP %d)", ids[0], status)
                rejected[ids[0]] = message
        return SendResult(tuple(delivered), tuple(conflicts), rejected)

    def _post(self, batch: list[Mapping[str, Any]]) -> tuple[int, str] | RetryableFailure:
        body = json.dumps(batch, ensure_ascii=False, separators=(",", ":")).encode()
        try:
            response = self._session.post(self.statements_url, data=body, timeout=self.timeout)
        except requests.Timeout:
            return RetryableFailure("timeout")
        except requests.RequestException as exc:
            return RetryableFailure(f"network error: {type(exc).__name__}")
        with response:
            status = response.status_code
            if status in (401, 403):
                raise AuthError(status)
            if status in (200, 204, 400, 409, 413, 422):
                return status, _message(response)
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            return RetryableFailure(f"HTTP {status}", status, retry_after)


def deliver_with_retries(
    client: LrsClient,
    statements: Sequence[Mapping[str, Any]],
    max_attempts: int = 5,
    sleep: Callable[[float], None] = time.sleep,
    jitter: Callable[[], float] = random.random,
) -> SendResult:
    """Send, back off, send the pending ones again, up to ``max_attempts`` calls.

    A convenience for the CLI and the benchmark; the service's outbox keeps its own schedule.
    """
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    by_id = {s["id"]: s for s in statements}
    delivered: list[str] = []
    conflicts: list[str] = []
    rejected: dict[str, str] = {}
    todo: Sequence[Mapping[str, Any]] = list(by_id.values())
    for attempt in range(1, max_attempts + 1):
        result = client.send_statements(todo)
        delivered.extend(result.delivered)
        conflicts.extend(result.conflicts)
        rejected.update(result.rejected)
        if result.complete or attempt == max_attempts:
            break
        retry_after = result.retryable.retry_after if result.retryable else None
        sleep(backoff_delay(attempt, retry_after, jitter=jitter))
        todo = [by_id[i] for i in result.pending]
    return SendResult(
        tuple(delivered),
        tuple(conflicts),
        rejected,
        result.pending,
        result.retryable,
    )


def _unique_by_id(statements: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    # The LRS refuses a batch with a repeated id (400): send each id once, first one wins.
    seen: dict[str, Mapping[str, Any]] = {}
    for statement in statements:
        statement_id = statement.get("id")
        if not isinstance(statement_id, str) or not statement_id:
            raise ValueError("every statement needs its deterministic 'id' before sending")
        seen.setdefault(statement_id, statement)
    return list(seen.values())


def _batches(items: list[Mapping[str, Any]], size: int) -> list[list[Mapping[str, Any]]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _message(response: requests.Response) -> str:
    """The LRS's explanation, without echoing statement content (pydantic ``input``)."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:MAX_MESSAGE_CHARS]
    detail = body.get("detail", body) if isinstance(body, dict) else body
    if isinstance(detail, list):
        detail = [
            {k: v for k, v in item.items() if k in ("loc", "msg", "type")}
            if isinstance(item, dict)
            else item
            for item in detail
        ]
    text = detail if isinstance(detail, str) else json.dumps(detail, ensure_ascii=False)
    return text[:MAX_MESSAGE_CHARS]
