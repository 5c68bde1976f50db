"""Short-lived values shared by every worker: OIDC state, nonces, launch data, JWKS cache.

Two backends with the same contract: the database (embedded default) and Redis (production).
Every operation is a primary-key lookup, so the cost of a launch does not grow with the
number of launches stored; expired rows are swept in small batches.
"""

from __future__ import annotations

import json
import time
from typing import Any, Protocol

from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.exc import IntegrityError

from ltiservice.models import LtiStoreEntry


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


class SqlStore:
    """The store on the service's own database (SQLite on the embedded default)."""

    SWEEP_EVERY = 500  # writes between two sweeps of expired rows

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._writes = 0

    def get(self, key: str) -> Any | None:
        with self._engine.connect() as conn:
            row = conn.execute(
                select(LtiStoreEntry.value, LtiStoreEntry.expires_at).where(
                    LtiStoreEntry.key == key
                )
            ).first()
        if row is None or row.expires_at < time.time():
            return None
        return json.loads(row.value)

    def set(self, key: str, value: Any, ttl_s: int) -> None:
        payload = json.dumps(value)
        expires = time.time() + ttl_s
        with self._engine.begin() as conn:
            conn.execute(delete(LtiStoreEntry).where(LtiStoreEntry.key == key))
            conn.execute(insert(LtiStoreEntry).values(key=key, value=payload, expires_at=expires))
        self._maybe_sweep()

    def add(self, key: str, value: Any, ttl_s: int) -> bool:
        now = time.time()
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    delete(LtiStoreEntry).where(
                        LtiStoreEntry.key == key, LtiStoreEntry.expires_at < now
                    )
                )
                conn.execute(
                    insert(LtiStoreEntry).values(
                        key=key, value=json.dumps(value), expires_at=now + ttl_s
                    )
                )
        except IntegrityError:
            return False
        return True

    def pop(self, key: str) -> Any | None:
        with self._engine.begin() as conn:
            row = conn.execute(
                delete(LtiStoreEntry)
                .where(LtiStoreEntry.key == key)
                .returning(LtiStoreEntry.value, LtiStoreEntry.expires_at)
            ).first()
        if row is None or row.expires_at < time.time():
            return None
        return json.loads(row.value)

    def delete(self, key: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(delete(LtiStoreEntry).where(LtiStoreEntry.key == key))

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


class RedisStore:
    """The store on Redis: expiry is Redis's own, pop is GETDEL."""

    def __init__(self, url: str, prefix: str = "ltiservice:") -> None:
        import redis

        self._redis = redis.Redis.from_url(url)
        self._prefix = prefix

    def get(self, key: str) -> Any | None:
        raw = self._redis.get(self._prefix + key)
        return None if raw is None else json.loads(raw)

    def set(self, key: str, value: Any, ttl_s: int) -> None:
        self._redis.set(self._prefix + key, json.dumps(value), ex=ttl_s)

    def add(self, key: str, value: Any, ttl_s: int) -> bool:
        return bool(self._redis.set(self._prefix + key, json.dumps(value), ex=ttl_s, nx=True))

    def pop(self, key: str) -> Any | None:
        raw = self._redis.getdel(self._prefix + key)
        return None if raw is None else json.loads(raw)  # type: ignore[arg-type]

    def delete(self, key: str) -> None:
        self._redis.delete(self._prefix + key)


def build_store(redis_url: str, engine: Engine) -> SharedStore:
    """Redis when configured, else the database."""
    if redis_url:
        return RedisStore(redis_url)
    return SqlStore(engine)
