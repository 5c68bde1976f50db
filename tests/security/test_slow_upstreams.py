"""A slow or trickling upstream costs one thread for at most the outbound deadline: the real
gunicorn, served as `ltiservice serve` serves it, keeps answering `/health` meanwhile. Its
access log, scanned with the suite's logs, holds no registration token nor query string."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import _wipe, make_app
from tests.security.test_outbound import CONFIG_PATH
from tests.support import log_scan
from tests.support.hostile_server import Answer, hostile_server
from tests.support.live_server import free_port
from tests.support.registration import registration_link

pytestmark = pytest.mark.slow
DEADLINE_S = 6


@pytest.fixture
def gunicorn(database_url: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    settings = {
        "base_url": base_url,
        "outbound_deadline_s": str(DEADLINE_S),
        "http_timeout_s": "5",
    }
    app = make_app(database_url, tmp_path / "instance", **settings)  # keys, and the links
    config = app.config["SETTINGS"]
    env = {
        **os.environ,
        "LTISERVICE_ENV": "testing",
        "LTISERVICE_DATABASE_URL": config.database_url,
        "LTISERVICE_INSTANCE_PATH": config.instance_path,
        "LTISERVICE_SECRET_KEY": config.secret_key,
        "LTISERVICE_REDIS_PREFIX": config.redis_prefix,
        "LTISERVICE_OUTBOX_THREAD": "0",
        **{f"LTISERVICE_{k.upper()}": v for k, v in settings.items()},
    }
    access_log = tmp_path / "access.log"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            "python:ltiservice.gunicorn_conf",
            "--workers",
            "2",  # as `ltiservice serve` does by default
            "--bind",
            f"127.0.0.1:{port}",
            "--access-logfile",
            str(access_log),
            "ltiservice.wsgi:app",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            try:
                if requests.get(f"{base_url}/health", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        else:
            pytest.fail("gunicorn did not start")
        yield {"app": app, "url": base_url, "access_log": access_log}
    finally:
        process.terminate()
        process.wait(timeout=30)
        app.extensions["db_engine"].dispose()
        _wipe(database_url)


def test_trickling_registrations_do_not_hold_the_workers(gunicorn):
    with hostile_server() as hostile:
        # 100 s of trickle if nobody hangs up.
        config = hostile.answer(
            CONFIG_PATH, Answer(200, b'{"issuer": "' + b" " * 400 + b'"}', trickle_s=0.25)
        )
        results: list[int | str] = []
        links = [registration_link(gunicorn["app"]) for _ in range(2)]

        def register(link: str) -> None:
            try:
                answer = requests.get(
                    link,
                    params={"openid_configuration": config, "registration_token": "secret-abc"},
                    timeout=120,
                )
                results.append(answer.status_code)
            except requests.RequestException as exc:
                results.append(type(exc).__name__)

        threads = [threading.Thread(target=register, args=(link,)) for link in links]
        for thread in threads:
            thread.start()
        while sum(hostile.hits.values()) < 2:  # both requests are now held upstream
            assert len(results) < 2, f"the registrations ended early: {results}"
            time.sleep(0.05)
        started = time.monotonic()
        health = requests.get(f"{gunicorn['url']}/health", timeout=60)
        waited = time.monotonic() - started
        still_held = len(results)
        for thread in threads:
            thread.join(timeout=60)
        assert health.status_code == 200
        assert still_held == 0, "/health answered only once the trickling requests ended"
        assert results == [502, 502]  # ended at the deadline, not after 100 s
        assert hostile.finished[CONFIG_PATH] == 0
        print(f"/health answered in {waited * 1000:.0f} ms beside 2 trickling registrations")

    lines = gunicorn["access_log"].read_text().splitlines()
    log_scan.keep("gunicorn.access", lines)
    registrations = [line for line in lines if "/lti/register/" in line]
    assert len(registrations) == 2
    for line in registrations:
        assert '"GET /lti/register/… HTTP/1.1" 502' in line
        assert "registration_token" not in line and "openid_configuration" not in line
