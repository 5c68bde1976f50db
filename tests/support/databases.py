"""Throwaway databases: SQLite in a temp dir, or a fresh PostgreSQL database per run.

PostgreSQL is used when LTISERVICE_TEST_DATABASE=postgres (CI runs the suite both ways);
its server URL comes from LTISERVICE_TEST_POSTGRES_URL (default: the local trust-auth server).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def backend() -> str:
    return os.environ.get("LTISERVICE_TEST_DATABASE", "sqlite")


@contextmanager
def throwaway_database(tmp_dir: Path) -> Iterator[str]:
    """Yield the URL of an empty database that disappears afterwards."""
    if backend() != "postgres":
        yield f"sqlite:///{tmp_dir / 'test.db'}"
        return
    server_url = make_url(os.environ.get("LTISERVICE_TEST_POSTGRES_URL", DEFAULT_POSTGRES))
    name = f"ltiservice_test_{os.getpid()}_{secrets.token_hex(3)}"
    # No pool: a connection kept across the run would not survive a server restart test.
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
