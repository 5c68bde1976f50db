"""Alembic environment: the URL comes from the service's settings, never from alembic.ini."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

import ltiservice.models  # noqa: F401 - registers every table on Base.metadata
from ltiservice.db import Base, build_engine

config = context.config
url = str(config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url"))


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    engine = build_engine(url)
    with engine.connect() as conn:
        _migrate(conn)
    engine.dispose()


def _migrate(connection: Connection) -> None:
    # Batch mode rebuilds a SQLite table by copy, drop and rename: with foreign keys on, the
    # drop would cascade to every row that points at the table (persons, courses,
    # submissions…). Off for the migration (it cannot change inside a transaction), then
    # the whole database is checked before they are on again.
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things: batch mode copies tables
        compare_type=True,
    )
    try:
        with context.begin_transaction():
            context.run_migrations()
    finally:
        if sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()
    if sqlite and broken:
        raise RuntimeError(f"migration left rows pointing nowhere: {broken[:5]}")


run()
