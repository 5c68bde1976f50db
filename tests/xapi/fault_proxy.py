"""A real HTTP server on 127.0.0.1 that plays LRS outages, then proxies to the real LRS.

Each request consumes the next scripted fault (``Fault``); when none is left, the request is
forwarded to the upstream LRS as is. ``max_statements`` makes it answer 413 to any larger batch.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

FORWARDED_HEADERS = ("Authorization", "Content-Type", "X-Experience-API-Version")


@dataclass(frozen=True)
class Fault:
    """One scripted misbehaviour.

    kind: ``pass`` (forward untouched), ``status`` (answer ``status`` with ``headers``), ``close``
    (drop the connection without answering), ``slow`` (forward to the LRS, which stores the
    batch, then answer only after ``delay`` seconds: the client has given up by then).
    """

    kind: str
    status: int = 503
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class FaultProxy:
    """Start with ``with FaultProxy(upstream_endpoint, [faults]) as proxy: proxy.endpoint``."""

    def __init__(self, upstream_endpoint: str, faults: list[Fault] | None = None) -> None:
        self.upstream = urlsplit(upstream_endpoint)
        self.faults: deque[Fault] = deque(faults or [])
        self.max_statements: int | None = None
        self.log: list[tuple[str, int]] = []  # (fault kind or "proxy", statements in the body)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        """The xAPI endpoint to give the client (same path as upstream)."""
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}{self.upstream.path}"

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _next_fault(self, count: int) -> Fault | None:
        with self._lock:
            if self.max_statements is not None and count > self.max_statements:
                fault: Fault | None = Fault("status", 413)
            else:
                fault = self.faults.popleft() if self.faults else None
            self.log.append((fault.kind if fault else "proxy", count))
            return fault

    def _forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Any:
        connection = http.client.HTTPConnection(
            self.upstream.hostname or "127.0.0.1", self.upstream.port, timeout=30
        )
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet test output
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                parsed = json.loads(body or b"[]")
                count = len(parsed) if isinstance(parsed, list) else 1
                fault = proxy._next_fault(count)
                # A client that gave up closes its socket: writing then is expected to fail.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self._answer(fault, body)

            def _answer(self, fault: Fault | None, body: bytes) -> None:
                if fault is not None and fault.kind == "close":
                    self.close_connection = True
                    return
                if fault is not None and fault.kind == "status":
                    self._reply(fault.status, fault.headers, b"")
                    return
                headers = {h: self.headers[h] for h in FORWARDED_HEADERS if h in self.headers}
                status, upstream_headers, payload = proxy._forward("POST", self.path, headers, body)
                if fault is not None and fault.kind == "slow":
                    time.sleep(fault.delay)
                content_type = upstream_headers.get("content-type", "application/json")
                self._reply(status, {"Content-Type": content_type}, payload)

            def _reply(self, status: int, headers: dict[str, str], payload: bytes) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        return Handler
