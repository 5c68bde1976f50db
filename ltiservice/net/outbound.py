"""The one HTTP client for every request the service sends on someone else's say-so.

Platforms and LRSs tell us where to connect (OpenID configuration, registration endpoint,
JWKS, AGS/NRPS/token endpoints, statements): a hostile registrant would point those at
internal addresses, answer with hundreds of megabytes, or trickle bytes to hold a worker.
So every call here:

- connects only to public addresses, checked after DNS resolution and pinned for the
  connection (requests-hardened's IP filter, which also defeats DNS rebinding); loopback
  is allowed only where the settings say so (development and tests, refused in production);
- never follows redirects (a redirect would be a second, unchecked destination);
- reads at most ``max_bytes`` of body (decoded), then gives up;
- ends at an overall deadline: a watchdog shuts the socket down when it passes, so a
  server that sends one byte per second cannot stretch a call past it.

Callers catch ``requests.RequestException`` as before; the three refusals below are
subclasses with a short reason for the log. Their text is never shown to people.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass
from typing import Any

import requests
from requests_hardened import Config, HTTPSession
from requests_hardened.ip_filter import InvalidIPAddress
from requests_hardened.ip_filter_adapter import IPFilterAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from ltiservice.config import Settings

USER_AGENT = "ltiservice"
_CHUNK = 64 * 1024


class AddressRefusedError(requests.ConnectionError):
    """The destination resolves to an address the service may not call."""


class ResponseTooLargeError(requests.RequestException):
    """The answer is larger than this call accepts."""


class DeadlineExceededError(requests.Timeout):
    """The call did not finish within its overall deadline."""


@dataclass(frozen=True)
class OutboundPolicy:
    """Limits of one client: who it may reach and how much it may cost."""

    allow_loopback: bool
    max_bytes: int
    deadline_s: float
    timeout_s: float


class _Deadline:
    """Shuts down the sockets of the current call when its deadline passes."""

    def __init__(self, seconds: float) -> None:
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed


_current = threading.local()


class _WatchedMixin:
    """A connection hands its socket to the calling thread's deadline once the request is
    sent: waiting for the answer is what a slow server can stretch (connecting and sending
    are bounded by the per-operation timeouts). The socket, not the connection: for a
    response that closes the connection, http.client detaches the socket from it."""

    def request(self, *args: Any, **kwargs: Any) -> None:
        super().request(*args, **kwargs)  # type: ignore[misc]
        deadline: _Deadline | None = getattr(_current, "deadline", None)
        sock = getattr(self, "sock", None)
        if deadline is not None and sock is not None:
            deadline.watch(sock)


class _WatchedHTTPConnection(_WatchedMixin, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_WatchedMixin, HTTPSConnection):
    pass


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class _FilteringAdapter(IPFilterAdapter):  # type: ignore[misc]
    """requests-hardened's address filter, on pools whose connections obey the deadline."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _WatchedHTTPPool,
            "https": _WatchedHTTPSPool,
        }


class OutboundSession(HTTPSession):  # type: ignore[misc]
    """A ``requests.Session`` that applies an ``OutboundPolicy`` to every call.

    ``max_bytes`` and ``deadline_s`` may be lowered per call (keyword arguments of
    ``request``/``get``/``post``), never raised above the policy's.
    """

    def __init__(self, policy: OutboundPolicy) -> None:
        super().__init__(
            Config(
                ip_filter_enable=False,  # mounted below, on our own adapter
                ip_filter_allow_loopback_ips=policy.allow_loopback,
                never_redirect=True,
                default_timeout=(policy.timeout_s, policy.timeout_s),
                user_agent_override=USER_AGENT,
            )
        )
        self.policy = policy
        for scheme, https in (("http://", False), ("https://", True)):
            self.mount(
                scheme,
                _FilteringAdapter(is_https_proto=https, allow_loopback=policy.allow_loopback),
            )

    def request(  # type: ignore[override]
        self,
        method: str,
        url: str,
        *args: Any,
        max_bytes: int | None = None,
        deadline_s: float | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        limit = min(max_bytes or self.policy.max_bytes, self.policy.max_bytes)
        seconds = min(deadline_s or self.policy.deadline_s, self.policy.deadline_s)
        kwargs["stream"] = True
        kwargs["allow_redirects"] = False
        kwargs.setdefault("timeout", (self.policy.timeout_s, self.policy.timeout_s))
        deadline = _Deadline(seconds)
        _current.deadline = deadline
        try:
            with deadline:
                try:
                    response = super().request(method, url, *args, **kwargs)
                    _read_body(response, limit)
                    if deadline.expired:  # the shut socket looked like the end of the body
                        raise requests.ConnectionError("cut at the deadline")
                except InvalidIPAddress as exc:
                    raise AddressRefusedError(f"address refused: {exc}") from exc
                except (requests.RequestException, OSError) as exc:
                    if deadline.expired and not isinstance(exc, ResponseTooLargeError):
                        raise DeadlineExceededError(f"deadline of {seconds:g} s passed") from exc
                    raise
        finally:
            _current.deadline = None
        return response


def _read_body(response: requests.Response, limit: int) -> None:
    """Read the whole body (at most ``limit`` bytes) so the caller gets a normal response."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        response.close()
        raise ResponseTooLargeError(f"declared {declared} bytes, limit {limit}")
    chunks: list[bytes] = []
    size = 0
    try:
        while True:
            chunk = response.raw.read(_CHUNK, decode_content=True)
            if not chunk:
                break
            size += len(chunk)
            if size > limit:
                raise ResponseTooLargeError(f"more than {limit} bytes")
            chunks.append(chunk)
    except ResponseTooLargeError:
        response.close()
        raise
    except Exception as exc:
        response.close()
        raise requests.ConnectionError(f"body not read: {type(exc).__name__}") from exc
    response._content = b"".join(chunks)
    response._content_consumed = True
    response.raw.release_conn()  # read to the end: the connection can serve the next call


def build_session(policy: OutboundPolicy) -> OutboundSession:
    return OutboundSession(policy)


def service_policy(settings: Settings) -> OutboundPolicy:
    """Platforms' services and LRSs: answers up to ``outbound_max_response_kb``."""
    return _policy(settings, settings.outbound_max_response_kb)


def document_policy(settings: Settings) -> OutboundPolicy:
    """OpenID configurations, registration answers and JWKS: small documents."""
    return _policy(settings, settings.outbound_document_max_kb)


def _policy(settings: Settings, max_kb: int) -> OutboundPolicy:
    return OutboundPolicy(
        allow_loopback=settings.outbound_allow_loopback,
        max_bytes=max_kb * 1024,
        deadline_s=settings.outbound_deadline_s,
        timeout_s=settings.http_timeout_s,
    )
