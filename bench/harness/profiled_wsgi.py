"""ltiservice's WSGI app with cProfile around each request, one profile per endpoint.

For `bench/launch_load.py --profile DIR`: gunicorn runs this with one worker; stats are
written to DIR/<endpoint>.prof every 100 requests and at exit, with the CPU time (process
time) spent per endpoint in DIR/cpu.json.
"""

from __future__ import annotations

import atexit
import cProfile
import json
import os
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from ltiservice.wsgi import app as service

OUT = Path(os.environ["BENCH_PROFILE_DIR"])
# CPU time, not wall time: SQLite commits wait on fsync, which costs no CPU.
_profiles: dict[str, cProfile.Profile] = defaultdict(lambda: cProfile.Profile(time.process_time))
_cpu: dict[str, list[float]] = defaultdict(list)
_count = 0


def _endpoint(environ: dict[str, Any]) -> str:
    path = environ.get("PATH_INFO", "")
    method = environ.get("REQUEST_METHOD", "")
    if path.startswith("/lti/"):
        return f"{method} {path}"
    return f"{method} /a/<id> (case page)" if path.startswith("/a/") else f"{method} other"


def _dump() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, profile in _profiles.items():
        profile.dump_stats(OUT / (name.replace(" ", "_").replace("/", "_") + ".prof"))
    (OUT / "cpu.json").write_text(json.dumps(_cpu))


def app(environ: dict[str, Any], start_response: Any) -> Any:
    global _count
    name = _endpoint(environ)
    started = time.process_time()
    profile = _profiles[name]
    profile.enable()
    try:
        # Drain the body inside the profile: it is part of the request's cost.
        return list(service(environ, start_response))
    finally:
        profile.disable()
        _cpu[name].append((time.process_time() - started) * 1000)
        _count += 1
        if _count % 100 == 0:
            _dump()


atexit.register(_dump)
