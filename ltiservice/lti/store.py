"""Short-lived values shared by every worker: OIDC state, nonces, launch data, JWKS cache.

Two backends with the same contract: the database (embedded default) and Redis (production).
Every operation is a primary-key lookup, so the cost of a launch does not grow with the
number of launches stored; expired rows are swept in small batches.
"""

from __future__ import annotations

import json
import time
from typing import Any, Protocol, cast

from sqlalchemy import Engine, Table, bindparam, delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from ltiservice.errors import ServiceError
from ltiservice.models import LtiStoreEntry

# The largest value kept: anonymous requests create entries (OIDC state, pending
# registrations), so none may be large. A real id_token's launch data is a few KB.
MAX_VALUE_BYTES = 96 * 1024


class StoreValueTooLargeError(ServiceError):
    status = 413
    code = "state_too_large"
    title = "Données trop volumineuses"


def _encode(value: Any) -> str:
    text = json.dumps(value)
    if len(text) > MAX_VALUE_BYTES:
        raise StoreValueTooLargeError(
            "Les données transmises par la plateforme sont anormalement volumineuses : elles "
            "n'ont pas été conservées. Relancez l'activité ; si le refus persiste, prévenez "
            "l'exploitant du service."
        )
    return text


class SharedStore(Protocol):
    """A key-value store with expiry, visible to every process of the service."""

    def get(self, key: str) -> Any | None: ...

    def set(self, key: str, value: Any, ttl_s: int) -> None: ...

    def add(self, key: str, value: Any, ttl_s: int) -> bool:
        """Store only if absent; True when this call stored it (atomic)."""
        ...

    def pop(self, key: str) -> Any | None:
        """Remove and return the value; of two concurrent callers only one gets it."""
        ...

    def delete(self, key: str) -> None: ...


# Statements built once (a launch runs five of them): composing SQLAlchemy expressions per
# call cost more CPU than executing their cached compiled form.
_ENTRY = cast(Table, LtiStoreEntry.__table__)
_GET = select(_ENTRY.c.value, _ENTRY.c.expires_at).where(_ENTRY.c.key == bindparam("k"))
_DELETE = delete(_ENTRY).where(_ENTRY.c.key == bindparam("k"))
_POP = _DELETE.returning(_ENTRY.c.value, _ENTRY.c.expires_at)
_DELETE_EXPIRED = delete(_ENTRY).where(
    _ENTRY.c.key == bindparam("k"), _ENTRY.c.expires_at < bindparam("now")
)
_INSERT = insert(_ENTRY)


def _upsert(dialect: str) -> Any:
    """INSERT … ON CONFLICT (key) DO UPDATE: one statement instead of delete + insert."""
    module = {"sqlite": sqlite, "postgresql": postgresql}.get(dialect)
    if module is None:
        return None
    statement = module.insert(_ENTRY)
    return statement.on_conflict_do_update(
        index_elements=[_ENTRY.c.key],
        set_={"value": statement.excluded.value, "expires_at": statement.excluded.expires_at},
    )


class SqlStore:
    """The store on the service's own database (SQLite on the embedded default)."""

    SWEEP_EVERY = 500  # writes between two sweeps of expired rows

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._writes = 0
        self._upsert = _upsert(engine.dialect.name)

    def get(self, key: str) -> Any | None:
        with self._engine.connect() as conn:
            row = conn.execute(_GET, {"k": key}).first()
        if row is None or row.expires_at < time.time():
            return None
        return json.loads(row.value)

    def set(self, key: str, value: Any, ttl_s: int) -> None:
        row = {"key": key, "value": _encode(value), "expires_at": time.time() + ttl_s}
        with self._engine.begin() as conn:
            if self._upsert is not None:
                conn.execute(self._upsert, row)
            else:
                conn.execute(_DELETE, {"k": key})
                conn.execute(_INSERT, row)
        self._maybe_sweep()

    def add(self, key: str, value: Any, ttl_s: int) -> bool:
        now = time.time()
        try:
            with self._engine.begin() as conn:
                conn.execute(_DELETE_EXPIRED, {"k": key, "now": now})
                conn.execute(
                    _INSERT, {"key": key, "value": _encode(value), "expires_at": now + ttl_s}
                )
        except IntegrityError:
            return False
        return True

    def pop(self, key: str) -> Any | None:
        with self._engine.begin() as conn:
            row = conn.execute(_POP, {"k": key}).first()
        if row is None or row.expires_at < time.time():
            return None
        return json.loads(row.value)

    def delete(self, key: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(_DELETE, {"k": key})

    def _maybe_sweep(self) -> None:
        self._writes += 1
        if self._writes % self.SWEEP_EVERY:
            return
        with self._engine.begin() as conn:
            expired = (
                select(LtiStoreEntry.key)
                .where(LtiStoreEntry.expires_at < time.time())
                .limit(1000)
                .scalar_subquery()
            )
            conn.execute(delete(LtiStoreEntry).where(LtiStoreEntry.key.in_(expired)))


REDIS_PREFIX = "ltiservice:"


class RedisStore:
    """The store on Redis: expiry is Redis's own, pop is GETDEL."""

    def __init__(self, url: str, prefix: str = REDIS_PREFIX) -> None:
        import redis

        self._redis = redis.Redis.from_url(url)
        self._prefix = prefix

    def get(self, key: str) -> Any | None:
        raw = self._redis.get(self._prefix + key)
        return None if raw is None else json.loads(raw)

    def set(self, key: str, value: Any, ttl_s: int) -> None:
        self._redis.set(self._prefix + key, _encode(value), ex=ttl_s)

    def add(self, key: str, value: Any, ttl_s: int) -> bool:
        return bool(self._redis.set(self._prefix + key, _encode(value), ex=ttl_s, nx=True))

    def pop(self, key: str) -> Any | None:
        raw = self._redis.getdel(self._prefix + key)
        return None if raw is None else json.loads(raw)  # type: ignore[arg-type]

    def delete(self, key: str) -> None:
        self._redis.delete(self._prefix + key)


def build_store(redis_url: str, engine: Engine, redis_prefix: str = REDIS_PREFIX) -> SharedStore:
    """Redis when configured, else the database."""
    if redis_url:
        return RedisStore(redis_url, redis_prefix)
    return SqlStore(engine)
