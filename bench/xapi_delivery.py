"""Benchmark: deliver 100,000 xAPI statements in batches of 500 with ``xapi.client.LrsClient``.

By default the LRS is a minimal, fast stdlib HTTP server started by this script on 127.0.0.1 in
a separate process (so its memory and CPU are not counted as the sender's): it parses each
batch's JSON, counts the statements and answers 200 with their ids, like an LRS that stores
nothing. The figures are therefore the sending side's cost (build + serialise + HTTP), not an
LRS's: Ralph's filesystem backend, for one, stores about 1,700 statements/s (notes/xapi.md).
Give ``--endpoint`` (with ``--username``/``--password``) to aim at a real LRS instead.

Statements are built batch by batch, as an outbox worker reads them, so peak memory reflects one
batch in flight, not the whole run. Prints statements/s and the sender's peak RSS.

    .venv/bin/python bench/xapi_delivery.py [--count 100000] [--batch 500]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from xapi.client import LrsClient
from xapi.model import ActivityRef, Actor, BlockRef, CertificationRef, Placement
from xapi.statements import build_submitted
from xapi.vocabulary import Vocabulary

VOCAB = Vocabulary("https://tool.example.org/xapi")
PLACEMENT = Placement(
    certification=CertificationRef(
        "CRCA",
        "RNCP36140",
        "CQP Chargé(e) de relation clientèle assurance",
        "2021",
    ),
    block=BlockRef("B1", "RNCP36140BC01", "Analyser les besoins des clients"),
    course=ActivityRef("https://moodle.example.org/course/view.php?id=42", "CQP CRCA 2025"),
    assessment=ActivityRef("https://tool.example.org/assessments/7", "Étude de cas bloc 1"),
    case=ActivityRef("https://tool.example.org/cases/crca-b1", "Cas habitation"),
)
REGISTRATION = uuid.UUID("5b0f6a0e-7c1d-4b7e-9a53-0c1f2a3b4c5d")


class _CountingHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the client's pooled connection is reused
    # Headers and body leave in two writes: without TCP_NODELAY, Nagle + delayed ACK would add
    # ~40 ms per response and the benchmark would measure the kernel, not the sender.
    disable_nagle_algorithm = True
    received = 0

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        statements = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).received += len(statements)
        self._reply(200, json.dumps([s["id"] for s in statements]).encode())

    def do_GET(self) -> None:
        self._reply(200, json.dumps({"received": type(self).received}).encode())

    def _reply(self, status: int, payload: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def _serve(port_queue: Any) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _CountingHandler)
    port_queue.put(server.server_address[1])
    server.serve_forever()


def _batches(count: int, size: int) -> Iterator[list[dict[str, Any]]]:
    at = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
    for start in range(0, count, size):
        yield [
            build_submitted(
                VOCAB,
                Actor("https://moodle.example.org", f"learner-{n % 5000}"),
                PLACEMENT,
                REGISTRATION,
                f"submission-{n}",
                1,
                at,
            )
            for n in range(start, min(start + size, count))
        ]


def main() -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--endpoint", help="a real LRS's xAPI endpoint instead of the stub")
    parser.add_argument("--username", default="bench")
    parser.add_argument("--password", default="bench")
    args = parser.parse_args()

    server = None
    endpoint = args.endpoint
    if endpoint is None:
        ports: Any = multiprocessing.Queue()
        server = multiprocessing.Process(target=_serve, args=(ports,), daemon=True)
        server.start()
        endpoint = f"http://127.0.0.1:{ports.get(timeout=10)}/xAPI"

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    build_s = send_s = 0.0
    delivered = 0
    started = time.perf_counter()
    try:
        with LrsClient(endpoint, args.username, args.password, batch_size=args.batch) as client:
            batches = _batches(args.count, args.batch)
            while True:
                t0 = time.perf_counter()
                batch = next(batches, None)
                t1 = time.perf_counter()
                build_s += t1 - t0
                if batch is None:
                    break
                result = client.send_statements(batch)
                send_s += time.perf_counter() - t1
                if not result.complete or result.rejected:
                    print(f"stopped: {result.retryable} rejected={len(result.rejected)}")
                    return 1
                delivered += len(result.delivered)
            elapsed = time.perf_counter() - started
            if server is not None:
                received = client._session.get(endpoint, timeout=10).json()["received"]
            else:
                received = delivered
    finally:
        if server is not None:
            server.terminate()
            server.join(timeout=5)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"statements delivered : {delivered:,} (LRS counted {received:,})")
    print(f"batches              : {args.batch} statements per POST")
    print(f"total                : {elapsed:.2f} s → {delivered / elapsed:,.0f} statements/s")
    print(f"  building           : {build_s:.2f} s ({delivered / build_s:,.0f} statements/s)")
    print(f"  serialise + HTTP   : {send_s:.2f} s ({delivered / send_s:,.0f} statements/s)")
    print(f"sender peak RSS      : {peak_mib:.1f} MiB (at start {rss_before / 1024:.1f} MiB)")
    return 0 if received == delivered == args.count else 1


if __name__ == "__main__":
    raise SystemExit(main())
