"""Benchmark: complete LTI 1.3 launches under load, ltiservice against two reference tools.

A load-generating platform (`bench/harness/`) on 127.0.0.1 with its own RSA key and JWKS runs,
for each launch: OIDC login initiation → the tool's cookie-check page and its follow-up
request → the tool's redirect to the platform (state, nonce) → an id_token signed with
resource-link, AGS and NRPS claims → form-POST with the tool's cookies → the tool's page
(for ltiservice, the 303 is followed to the learner's real case page of a placed assessment).

Tools, each under `gunicorn -w 2` (sync workers):
- `ours`: ltiservice on the embedded default (SQLite in a temporary instance folder), the
  platform registered with `ltiservice platforms add`, an assessment placed on the link;
- `ours-pg`: the same on PostgreSQL (a throwaway database, dropped afterwards) + Redis db 14
  (with `--postgres`);
- `example`: pylti1p3's Flask example as published (flask-caching SimpleCache: one cache per
  process, so launches fail when login and launch hit different workers);
- `example-redis`: the same with flask-caching's RedisCache, shared by the workers;
- `example-best`: RedisCache and the platform's JWKS cached (`set_public_key_caching`): the
  example's best configuration, the reference the targets compare with;
- `floor`: state cookie + PyJWT verify with a cached key, nothing stored.

Per tool and concurrency: launches/s, p50/p95/p99 latency of a whole launch (all its HTTP
requests, as the user waits for them), errors, and server CPU ms per launch: utime + stime of
the gunicorn master and workers from /proc/<pid>/stat before and after the run, divided by
the launches of that run. A warm-up of `--warmup` launches precedes the measured runs.

    .venv/bin/python bench/launch_load.py [--launches 400] [--concurrency 1,4,16] [--postgres]
        [--tools ours,example,example-redis,example-best,floor] [--workers 2]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/harness, bench/references

from harness.client import LaunchClient, Outcome
from harness.platform import BenchPlatform
from harness.tools import ToolUnderLoad, start_example, start_floor, start_ours

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/14"


@dataclass
class RunResult:
    tool: str
    concurrency: int
    launches: int
    errors: int
    seconds: float
    latencies: list[float]
    cpu_ms: float
    first_errors: list[str]

    @property
    def per_second(self) -> float:
        return self.launches / self.seconds

    @property
    def cpu_per_launch(self) -> float:
        return self.cpu_ms / self.launches

    def percentile(self, q: int) -> float:
        cuts = statistics.quantiles(self.latencies, n=100, method="inclusive")
        return cuts[q - 1] * 1000


def run(platform: BenchPlatform, tool: ToolUnderLoad, concurrency: int, count: int) -> RunResult:
    """`count` launches by `concurrency` threads, each its own browser; CPU read around it."""
    users = itertools.count()
    lock = threading.Lock()
    outcomes: list[Outcome] = []

    def worker() -> None:
        client = LaunchClient(platform, tool)
        while True:
            with lock:
                n = next(users)
            if n >= count:
                return
            outcome = client.launch(f"learner-{tool.flow}-{concurrency}-{n}")
            with lock:
                outcomes.append(outcome)

    pids_before = set(tool.server.pids())
    cpu_before = tool.server.cpu_ms()
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        for _ in range(concurrency):
            pool.submit(worker)
    seconds = time.perf_counter() - started
    cpu = tool.server.cpu_ms() - cpu_before
    if set(tool.server.pids()) != pids_before:
        print(f"  ! {tool.name}: a gunicorn worker was replaced during the run", file=sys.stderr)
    errors = [o.error for o in outcomes if not o.ok]
    return RunResult(
        tool.name,
        concurrency,
        len(outcomes),
        len(errors),
        seconds,
        [o.seconds for o in outcomes],
        cpu,
        [f"{n} x {e}" for e, n in Counter(errors).most_common(3)],
    )


@contextmanager
def postgres_database() -> Iterator[str]:
    """A throwaway PostgreSQL database, dropped on the way out."""
    import psycopg

    name = f"bench_launch_{int(time.time())}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def clear_redis() -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    for pattern in ("ltiservice:*", "flask_cache_*"):
        keys = list(client.scan_iter(pattern, count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start : start + 1000])


def bench_tool(
    platform: BenchPlatform,
    start: Callable[[], ToolUnderLoad],
    concurrencies: list[int],
    launches: int,
    warmup: int,
) -> list[RunResult]:
    tool = start()
    try:
        run(platform, tool, 2, warmup)
        results = []
        for concurrency in concurrencies:
            result = run(platform, tool, concurrency, launches)
            results.append(result)
            print(row(result), flush=True)
        return results
    finally:
        tool.server.stop()


HEADER = (
    "| tool | concurrency | launches | errors | launches/s | p50 ms | p95 ms | p99 ms "
    "| server CPU ms/launch |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def row(r: RunResult) -> str:
    return (
        f"| {r.tool} | {r.concurrency} | {r.launches} | {r.errors} | {r.per_second:.1f} "
        f"| {r.percentile(50):.1f} | {r.percentile(95):.1f} | {r.percentile(99):.1f} "
        f"| {r.cpu_per_launch:.2f} |"
    )


def summary(results: list[RunResult]) -> None:
    by_tool: dict[str, list[RunResult]] = {}
    for r in results:
        by_tool.setdefault(r.tool, []).append(r)
    cpu = {t: sum(r.cpu_ms for r in rs) / sum(r.launches for r in rs) for t, rs in by_tool.items()}
    print("\nServer CPU per launch over all concurrencies (ms):")
    for tool, value in cpu.items():
        print(f"  {tool:32s} {value:6.2f}")
    best = "pylti1p3 example (RedisCache + key cache)"
    for mine in (t for t in cpu if t.startswith("ltiservice")):
        on_pg = "PostgreSQL" in mine
        targets = [(best, 1.3 if on_pg else 1.0)] + ([] if on_pg else [("floor", 2.5)])
        for ref, target in targets:
            if ref not in cpu:
                continue
            ratio = cpu[mine] / cpu[ref]
            verdict = "met" if ratio <= target else "MISSED"
            print(f"  {mine} / {ref}: {ratio:.2f} (target ≤ {target}) {verdict}")
        errors = sum(r.errors for r in by_tool[mine])
        print(f"  {mine}: {errors} errors (target 0) {'met' if errors == 0 else 'MISSED'}")
    for r in results:
        if r.first_errors:
            print(f"  errors {r.tool} c={r.concurrency}: {'; '.join(r.first_errors)}")


def profile(out: Path, launches: int, warmup: int) -> None:
    """Ours with one worker under cProfile (harness/profiled_wsgi.py), then the top costs."""
    import json
    import os
    import pstats

    with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp:
        platform = BenchPlatform(Path(tmp) / "platform")
        platform.start()
        tool = start_ours(
            platform,
            Path(tmp) / "ours",
            workers=1,
            app="harness.profiled_wsgi:app",
            extra_env={
                "BENCH_PROFILE_DIR": str(out),
                "PYTHONPATH": str(Path(__file__).resolve().parent),
            },
        )
        try:
            run(platform, tool, 1, warmup)
            for stale in out.glob("*"):
                stale.unlink()
            result = run(platform, tool, 1, launches)
        finally:
            tool.server.stop()
            platform.stop()
    print(HEADER + "\n" + row(result))
    cpu = json.loads((out / "cpu.json").read_text())
    print("\nCPU per request, process time in the worker (ms, median / mean):")
    for name, values in cpu.items():
        print(f"  {name:40s} {statistics.median(values):6.2f} / {statistics.mean(values):6.2f}")
    for prof in sorted(out.glob("*.prof")):
        print(f"\n==== {prof.stem}")
        stats = pstats.Stats(str(prof), stream=sys.stdout)
        stats.sort_stats("cumulative").print_stats(35)
    os.sync()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--launches", type=int, default=400, help="per concurrency level")
    parser.add_argument("--concurrency", default="1,4,16")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--tools", default="ours,example-best,floor")
    parser.add_argument("--postgres", action="store_true", help="also ours on PostgreSQL + Redis")
    parser.add_argument("--profile", metavar="DIR", help="only ours, 1 worker, cProfile to DIR")
    args = parser.parse_args()
    if args.profile:
        profile(Path(args.profile).resolve(), args.launches, args.warmup)
        return
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    tools = args.tools.split(",") + (["ours-pg"] if args.postgres else [])

    with tempfile.TemporaryDirectory(prefix="bench-launch-") as tmp:
        root = Path(tmp)
        platform = BenchPlatform(root / "platform")
        platform.start()
        w = args.workers
        starters: dict[str, Callable[[], ToolUnderLoad]] = {
            "ours": lambda: start_ours(platform, root / "ours", workers=w),
            "example": lambda: start_example(platform, root / "example", workers=w),
            "example-redis": lambda: start_example(
                platform, root / "example-redis", workers=w, cache="RedisCache"
            ),
            "example-best": lambda: start_example(
                platform, root / "example-best", workers=w, cache="RedisCache", key_caching=True
            ),
            "floor": lambda: start_floor(platform, root / "floor", workers=w),
        }
        print(f"gunicorn -w {w}, {args.launches} launches per concurrency level\n")
        print(HEADER)
        results: list[RunResult] = []
        try:
            for name in tools:
                if name == "ours-pg":
                    clear_redis()
                    with postgres_database() as url:
                        results += bench_tool(
                            platform,
                            lambda url=url: start_ours(
                                platform,
                                root / "ours-pg",
                                workers=w,
                                database_url=url,
                                redis_url=REDIS_URL,
                                name="ltiservice (PostgreSQL + Redis)",
                            ),
                            concurrencies,
                            args.launches,
                            args.warmup,
                        )
                    clear_redis()
                    continue
                results += bench_tool(
                    platform, starters[name], concurrencies, args.launches, args.warmup
                )
        finally:
            platform.stop()
        summary(results)


if __name__ == "__main__":
    main()
