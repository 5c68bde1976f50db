"""Fixtures that build the real app on a real database, served over real HTTP."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask
from sqlalchemy import create_engine, delete

from ltiservice import create_app, migrate
from ltiservice.models import Base
from tests.support.databases import throwaway_database
from tests.support.live_server import free_port, serve

pytest_plugins = [
    "tests.peers.platform",
    "tests.peers.ralph",
    "tests.peers.xapi_validator",
    "tests.support.chromium",
    "tests.support.lti_harness",
    "tests.support.log_scan",
]


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One migrated throwaway database for the session (SQLite, or PostgreSQL in CI)."""
    with throwaway_database(tmp_path_factory.mktemp("db")) as url:
        migrate.upgrade(url)
        yield url


def _wipe(url: str) -> None:
    """Empty every table, and the shared LTI store on Redis when the run uses it (nonces,
    cached platform keys and tokens must not leak from one test into the next)."""
    engine = create_engine(url)
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(delete(table))
    engine.dispose()
    redis_url = os.environ.get("LTISERVICE_REDIS_URL")
    if redis_url:
        client = redis.Redis.from_url(redis_url)
        keys = list(client.scan_iter(match=f"{REDIS_TEST_PREFIX}*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


# Each run has its own keys on a shared Redis: two runs on one machine never wipe each other's.
REDIS_TEST_PREFIX = f"ltiservice-test-{os.getpid()}:"


def make_app(database_url: str, instance: Path, **overrides: Any) -> Flask:
    config = {
        "redis_prefix": REDIS_TEST_PREFIX,
        "env": "testing",
        "database_url": database_url,
        "instance_path": str(instance),
        "secret_key": "test-secret-key-that-is-long-enough-0123456789",
        "outbox_thread": False,
        # Limits are per client address and every test comes from 127.0.0.1 (on Redis, for
        # the whole run): tests of the limits set their own.
        "rate_limit_registration": "10000 per minute",
        "rate_limit_launch": "10000 per minute",
        **overrides,
    }
    app = create_app(config)
    app.extensions["lti_keyring"].ensure()
    return app


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The app on the session's database; every table emptied after the test."""
    application = make_app(database_url, tmp_path / "instance")
    yield application
    application.extensions["db_engine"].dispose()
    _wipe(database_url)


@dataclass
class LiveApp:
    app: Flask
    url: str


@contextmanager
def served(database_url: str, instance: Path, **settings: Any) -> Iterator[LiveApp]:
    """An app with these settings served on 127.0.0.1 (base URL where it listens); its
    tables are emptied afterwards."""
    port = free_port()
    application = make_app(database_url, instance, base_url=f"http://127.0.0.1:{port}", **settings)
    try:
        with serve(application, port) as url:
            yield LiveApp(application, url)
    finally:
        application.extensions["db_engine"].dispose()
        _wipe(database_url)


@pytest.fixture
def live_app(database_url: str, tmp_path: Path) -> Iterator[LiveApp]:
    """The app served on 127.0.0.1 with its base URL set to where it listens."""
    with served(database_url, tmp_path / "instance") as live:
        yield live
