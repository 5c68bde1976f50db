"""A real HTTP server on 127.0.0.1 that misbehaves on purpose, and counts what it was asked.

Each path is given an answer: a JSON document, a status with a body, a redirect, an
oversized body, or a body trickled one byte at a time. Tests point the service at it to
check what the service fetches, how long it waits and what it shows of the answer.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    trickle_s: float = 0.0  # seconds between two bytes of the body
    repeat: int = 1  # the body is sent this many times (a large answer without the memory)
    declare_length: bool = True  # False: no Content-Length, the body ends when we close


class HostileServer:
    def __init__(self) -> None:
        self.answers: dict[str, Answer] = {}
        self.hits: Counter[str] = Counter()
        self.finished: Counter[str] = Counter()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_port}"

    def json(self, path: str, document: Any, status: int = 200) -> str:
        self.answers[path] = Answer(
            status, json.dumps(document).encode(), {"Content-Type": "application/json"}
        )
        return self.url + path

    def answer(self, path: str, answer: Answer) -> str:
        self.answers[path] = answer
        return self.url + path

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                path = self.path.split("?", 1)[0]
                server.hits[path] += 1
                if self.headers.get("Content-Length"):
                    self.rfile.read(int(self.headers["Content-Length"]))
                answer = server.answers.get(path, Answer(404, b"{}"))
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                if answer.declare_length and not answer.trickle_s:
                    self.send_header("Content-Length", str(len(answer.body) * answer.repeat))
                self.end_headers()
                try:
                    if answer.trickle_s:
                        for byte in answer.body:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(answer.trickle_s)
                    else:
                        for _ in range(answer.repeat):
                            self.wfile.write(answer.body)
                except OSError:
                    return  # the service hung up: what we are testing
                server.finished[path] += 1

            do_GET = _serve
            do_POST = _serve

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def start(self) -> None:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def hostile_server() -> Iterator[HostileServer]:
    server = HostileServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
