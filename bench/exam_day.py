"""Benchmark: an exam day on the embedded default (issue 16, point 2) — learners' part.

What it runs, against ltiservice under `gunicorn -w 2` (SQLite in a temporary instance
folder, set up as `bench/launch_load.py` does, with an assessment placed on the link):
- `--learners` learners launching within `--launch-window` seconds (full OIDC login, signed
  id_token, case page: `bench/harness/`), each in its own browser (cookie jar);
- each of them then autosaving their draft (JSON `POST /a/<id>/draft` with the launch's CSRF
  token) every `--interval` seconds for `--minutes` minutes, the text growing each time.

It prints per request kind p50/p95/p99 and errors, the server CPU per request kind (each
phase runs alone, so the CPU of the gunicorn tree over a phase is its kind's), and the
database's growth (SQLite file + WAL). Defaults are the issue's figures (300 learners within a
minute, autosave every 30 s for 10 minutes); scale down for a quick run:

    .venv/bin/python bench/exam_day.py                      # the issue's exam day (~11 min)
    .venv/bin/python bench/exam_day.py --learners 40 --minutes 1 --interval 10   # quick

Not built yet (see bench/README.md): the 2 MB PDF uploads and hand-ins of the last two
minutes, the 40 evaluators (dashboard over a paging NRPS roster, 90-criterion rubric
autosaves), the outbox delivering PendingManual scores to an AGS endpoint and its lag, and
the PostgreSQL + Redis variant.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urljoin

import requests
from lxml import html

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/harness

from harness.client import LaunchClient
from harness.platform import BenchPlatform
from harness.tools import ToolUnderLoad, start_ours


class Learner(LaunchClient):
    """One learner's browser: launches, then autosaves through the case page's form."""

    def __init__(self, platform: BenchPlatform, tool: ToolUnderLoad) -> None:
        super().__init__(platform, tool)
        self.last: requests.Response | None = None
        self.autosave_url = ""
        self.csrf = ""

    def _send(self, method: str, url: str, **kwargs: object) -> requests.Response:
        self.last = super()._send(method, url, **kwargs)
        return self.last

    def read_case_page(self) -> None:
        assert self.last is not None
        form = html.fromstring(self.last.text).xpath("//*[@data-autosave-url]")
        if not form:
            raise RuntimeError("case page without an autosave form")
        self.autosave_url = urljoin(self.last.url, form[0].get("data-autosave-url"))
        self.csrf = form[0].get("data-csrf")

    def autosave(self, text: str) -> tuple[bool, float]:
        started = time.perf_counter()
        try:
            response = self._send(
                "POST", self.autosave_url, json={"text": text}, headers={"X-CSRF-Token": self.csrf}
            )
            ok = response.status_code == 200 and "saved_at" in response.json()
        except (requests.RequestException, ValueError):
            ok = False
        return ok, time.perf_counter() - started


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.cpu_ms: dict[str, float] = {}

    def add(self, kind: str, ok: bool, seconds: float) -> None:
        with self.lock:
            self.latencies[kind].append(seconds)
            if not ok:
                self.errors[kind] += 1


def _database_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*.db*") if p.is_file())


def _launch_phase(
    platform: BenchPlatform, tool: ToolUnderLoad, learners: int, window_s: float, rec: Recorder
) -> list[Learner]:
    """Each learner starts at its own moment within the window (open loop)."""
    browsers = [Learner(platform, tool) for _ in range(learners)]
    started = time.perf_counter()

    def one(n: int) -> None:
        time.sleep(max(0.0, started + window_s * n / learners - time.perf_counter()))
        outcome = browsers[n].launch(f"exam-learner-{n}")
        ok = outcome.ok
        if ok:
            try:
                browsers[n].read_case_page()
            except RuntimeError:
                ok = False
        rec.add("launch (4 requests)", ok, outcome.seconds)

    cpu = tool.server.cpu_ms()
    with ThreadPoolExecutor(min(learners, 32)) as pool:
        list(pool.map(one, range(learners)))
    rec.cpu_ms["launch (4 requests)"] = tool.server.cpu_ms() - cpu
    return [b for b in browsers if b.autosave_url]


def _autosave_phase(
    tool: ToolUnderLoad, learners: list[Learner], minutes: float, interval_s: float, rec: Recorder
) -> None:
    """Every learner saves every `interval_s`, spread evenly over the interval."""
    rounds = max(1, int(minutes * 60 / interval_s))
    started = time.perf_counter()
    paragraph = "Analyse du sinistre dégât des eaux selon la convention IRSI. " * 8

    def one(n: int) -> None:
        offset = interval_s * n / max(1, len(learners))
        for r in range(rounds):
            time.sleep(max(0.0, started + offset + r * interval_s - time.perf_counter()))
            ok, seconds = learners[n].autosave(paragraph * (r + 1))
            rec.add("draft autosave", ok, seconds)

    cpu = tool.server.cpu_ms()
    with ThreadPoolExecutor(min(len(learners), 64) or 1) as pool:
        list(pool.map(one, range(len(learners))))
    rec.cpu_ms["draft autosave"] = tool.server.cpu_ms() - cpu


def _percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] * 1000 if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000


def report(rec: Recorder, grown: int) -> None:
    print(
        "| request kind | requests | errors | p50 ms | p95 ms | p99 ms | server CPU ms/request |\n"
        "|---|---:|---:|---:|---:|---:|---:|"
    )
    for kind, values in rec.latencies.items():
        cpu = rec.cpu_ms.get(kind, 0.0) / len(values)
        print(
            f"| {kind} | {len(values)} | {rec.errors[kind]} | {_percentile(values, 50):.1f} "
            f"| {_percentile(values, 95):.1f} | {_percentile(values, 99):.1f} | {cpu:.2f} |"
        )
    print(f"\nDatabase growth: {grown / 1024 / 1024:.2f} MiB")
    for kind, values in rec.latencies.items():
        p95 = _percentile(values, 95)
        met = rec.errors[kind] == 0 and p95 < 300
        print(
            f"  {kind}: errors {rec.errors[kind]}, p95 {p95:.0f} ms (targets 0, < 300 ms) "
            f"{'met' if met else 'MISSED'}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=300)
    parser.add_argument("--launch-window", type=float, default=60.0, help="seconds")
    parser.add_argument("--minutes", type=float, default=10.0, help="of autosaving")
    parser.add_argument("--interval", type=float, default=30.0, help="seconds between saves")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-exam-") as tmp:
        root = Path(tmp)
        platform = BenchPlatform(root / "platform")
        platform.start()
        tool = start_ours(platform, root / "ours", workers=args.workers)
        rec = Recorder()
        try:
            before = _database_bytes(root / "ours")
            learners = _launch_phase(platform, tool, args.learners, args.launch_window, rec)
            _autosave_phase(tool, learners, args.minutes, args.interval, rec)
            grown = _database_bytes(root / "ours") - before
        finally:
            tool.server.stop()
            platform.stop()
        print(f"gunicorn -w {args.workers}, {args.learners} learners, SQLite\n")
        report(rec, grown)


if __name__ == "__main__":
    main()
