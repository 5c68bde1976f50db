"""Benchmark: post 10,000 AGS scores through ``ltiservice.lti.services.AgsClient``.

A minimal AGS platform (stdlib HTTP/1.1 server with keep-alive) runs on 127.0.0.1 in a separate
process so its CPU is not counted as the sender's. It issues access tokens on ``/token``,
accepts scores on ``/ags/course/lineitems/1/scores`` (204, checking the bearer token and the
score media type), and counts tokens issued, TCP connections accepted and scores received.

The sender is what the outbox worker would run: one TokenProvider (token cache in the shared
store: an in-memory dict by default, ``--store sqlite`` for the embedded default's database),
one ``requests.Session`` (connection pool), ``--threads`` workers posting concurrently.
Prints scores/s, tokens fetched and connections opened.

    .venv/bin/python bench/grade_passback.py [--count 10000] [--threads 4] [--store sqlite]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

import requests
from requests.adapters import HTTPAdapter

from ltiservice.lti.keys import KeyRing
from ltiservice.lti.services import AgsClient, PlatformAuth, Score, TokenProvider

SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"


class DictStore:
    """The SharedStore contract in one process's memory (Redis-like cost floor)."""

    def __init__(self) -> None:
        self._data: dict[str, tuple[Any, float]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Any | None:
        with self._lock:
            value = self._data.get(key)
        return value[0] if value and value[1] > time.time() else None

    def set(self, key: str, value: Any, ttl_s: int) -> None:
        with self._lock:
            self._data[key] = (value, time.time() + ttl_s)

    def add(self, key: str, value: Any, ttl_s: int) -> bool:
        with self._lock:
            if key in self._data and self._data[key][1] > time.time():
                return False
            self._data[key] = (value, time.time() + ttl_s)
            return True

    def pop(self, key: str) -> Any | None:
        with self._lock:
            value = self._data.pop(key, None)
        return value[0] if value and value[1] > time.time() else None

    def delete(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)


# ---------------------------------------------------------------------------- platform


def serve_platform(port_queue: Any, expires_in: int) -> None:
    """The stub platform (runs in its own process until terminated)."""
    counters = {"tokens": 0, "connections": 0, "scores": 0, "refused": 0}
    tokens: set[str] = set()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            with lock:
                counters["connections"] += 1

        def log_message(self, *_: Any) -> None:
            pass

        def _answer(self, status: int, body: bytes = b"", kind: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            self._answer(200, json.dumps(counters).encode())

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path == "/token":
                with lock:
                    counters["tokens"] += 1
                    token = f"token-{counters['tokens']}"
                    tokens.add(token)
                answer = {
                    "access_token": token,
                    "token_type": "Bearer",
                    "expires_in": expires_in,
                    "scope": "score",
                }
                return self._answer(200, json.dumps(answer).encode())
            bearer = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
            if bearer not in tokens or self.headers.get("Content-Type") != SCORE_TYPE:
                with lock:
                    counters["refused"] += 1
                return self._answer(401 if bearer not in tokens else 415)
            json.loads(body)
            with lock:
                counters["scores"] += 1
            self._answer(204)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port_queue.put(server.server_address[1])
    server.serve_forever()


# ---------------------------------------------------------------------------- sender


def build_store(kind: str, folder: Path) -> Any:
    if kind == "dict":
        return DictStore()
    from ltiservice import migrate
    from ltiservice.db import build_engine
    from ltiservice.lti.store import SqlStore

    url = f"sqlite:///{folder / 'bench.db'}"
    migrate.upgrade(url)
    return SqlStore(build_engine(url))


def run(count: int, threads: int, store_kind: str, expires_in: int) -> None:
    queue: Any = multiprocessing.Queue()
    platform_process = multiprocessing.Process(
        target=serve_platform, args=(queue, expires_in), daemon=True
    )
    platform_process.start()
    base = f"http://127.0.0.1:{queue.get(timeout=10)}"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            keyring = KeyRing(folder / "keys")
            keyring.ensure()
            http = requests.Session()
            # One pooled connection per worker thread: more would only sit idle.
            http.mount("http://", HTTPAdapter(pool_connections=1, pool_maxsize=threads))
            tokens = TokenProvider(build_store(store_kind, folder), keyring, http, 10.0)
            auth = PlatformAuth(base, "bench-client", f"{base}/token")
            ags = AgsClient(auth, tokens, http, 10.0)
            line_item = f"{base}/ags/course/lineitems/1"
            start_at = datetime.now(UTC)

            def post(index: int) -> None:
                ags.post_score(
                    line_item,
                    Score(
                        user_id=f"learner-{index}",
                        score_given=float(index % 21),
                        score_maximum=20.0,
                        activity_progress="Completed",
                        grading_progress="FullyGraded",
                        timestamp=start_at + timedelta(milliseconds=index),
                        comment="Bloc acquis." if index % 2 else None,
                    ),
                )

            began, cpu_began = time.perf_counter(), time.process_time()
            with ThreadPoolExecutor(max_workers=threads) as pool:
                list(pool.map(post, range(count)))
            elapsed = time.perf_counter() - began
            cpu = time.process_time() - cpu_began
            stats = requests.get(base + "/stats", timeout=10).json()
    finally:
        platform_process.terminate()
        platform_process.join(timeout=10)
    print(f"scores posted      {count} with {threads} thread(s), store={store_kind}")
    print(f"elapsed            {elapsed:.2f} s")
    print(f"scores/s           {count / elapsed:,.0f}")
    print(f"sender CPU/score   {cpu / count * 1000:.3f} ms (the stub platform runs apart)")
    print(f"tokens fetched     {stats['tokens']}")
    print(f"connections opened {stats['connections']}")
    print(f"scores received    {stats['scores']} (refused {stats['refused']})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--store", choices=("dict", "sqlite"), default="dict")
    parser.add_argument(
        "--expires-in", type=int, default=3600, help="token lifetime the stub platform grants (s)"
    )
    args = parser.parse_args()
    run(args.count, args.threads, args.store, args.expires_in)


if __name__ == "__main__":
    main()
