"""Rate limits on what anonymous requests can make the service store or fetch.

Flask-Limiter counts per client address, in fixed windows, on Redis in production (shared
by every worker) and on the service's own database on the embedded default (no Redis to
run, still shared by the gunicorn workers). A refused request gets a French 429 with
`Retry-After`, before the view runs: nothing is stored, nothing is fetched.
"""

from __future__ import annotations

import math
import time
from typing import Any, cast

from flask import Flask, Response, current_app, g, has_request_context
from flask_limiter import Limiter, RequestLimit
from flask_limiter.util import get_remote_address
from limits.storage import Storage
from sqlalchemy import Engine, Table, bindparam, case, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from ltiservice.errors import render_error
from ltiservice.models import RateLimitCounter

# Each group shares one budget: the three steps of a registration, the two of a launch.
LIMITED_ENDPOINTS = {
    "registration": (
        "rate_limit_registration",
        ("lti_registration.without_link", "lti_registration.start", "lti_registration.finish"),
    ),
    "launch": ("rate_limit_launch", ("lti.login", "lti.launch")),
}


def init_app(app: Flask) -> None:
    """One limiter per app, wrapped around the anonymous endpoints once they are registered."""
    settings = app.config["SETTINGS"]
    if settings.redis_url:
        storage: dict[str, Any] = {"storage_uri": settings.redis_url}
    else:
        storage = {
            "storage_uri": "ltiservice-sql://",
            "storage_options": {"engine": app.extensions["db_engine"]},
        }
    limiter = Limiter(
        get_remote_address,
        app=app,
        strategy="fixed-window",
        headers_enabled=True,
        on_breach=_refusal,
        key_prefix=settings.redis_prefix + "ratelimit",
        **storage,
    )
    for scope, (setting, endpoints) in LIMITED_ENDPOINTS.items():
        shared = limiter.shared_limit(_setting(setting), scope=scope)
        for endpoint in endpoints:
            app.view_functions[endpoint] = shared(app.view_functions[endpoint])  # type: ignore[assignment]
    app.extensions["limiter"] = limiter


def _setting(name: str) -> Any:
    return lambda: cast(str, getattr(current_app.config["SETTINGS"], name))


def _refusal(limit: RequestLimit) -> Response:
    wait = max(1, math.ceil(limit.reset_at - time.time()))
    response = render_error(
        429,
        "rate_limited",
        "Trop de demandes",
        "Trop de demandes sont arrivées de votre adresse en peu de temps. Rien n'a été "
        f"enregistré : réessayez dans {_duration(wait)}.",
    )
    response.headers["Retry-After"] = str(wait)
    return response


def _duration(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} seconde{'s' if seconds > 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minutes"


_COUNTER = cast(Table, RateLimitCounter.__table__)


class SqlStorage(Storage):
    """limits' storage contract (fixed windows) on the `rate_limit_counter` table."""

    STORAGE_SCHEME = ["ltiservice-sql"]  # noqa: RUF012 - limits reads it off the class
    SWEEP_EVERY = 500

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any):
        self._engine: Engine = options.pop("engine")
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._writes = 0
        module = {"sqlite": sqlite, "postgresql": postgresql}[self._engine.dialect.name]
        insert = module.insert(_COUNTER)
        expired = _COUNTER.c.expires_at < bindparam("now")
        # One statement: a new window starts when the old one has expired, else count up.
        self._incr = insert.on_conflict_do_update(
            index_elements=[_COUNTER.c.key],
            set_={
                "hits": case(
                    (expired, insert.excluded.hits), else_=_COUNTER.c.hits + insert.excluded.hits
                ),
                "expires_at": case(
                    (expired, insert.excluded.expires_at), else_=_COUNTER.c.expires_at
                ),
            },
        ).returning(_COUNTER.c.hits, _COUNTER.c.expires_at)

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        with self._engine.begin() as conn:
            row = conn.execute(
                self._incr, {"key": key, "hits": amount, "expires_at": now + expiry, "now": now}
            ).one()
        if has_request_context():
            # Flask-Limiter reads the counter back for its headers right after counting:
            # the row this request just wrote is the answer, without two more queries.
            g.setdefault("ratelimit_rows", {})[key] = row
        self._maybe_sweep(now)
        return int(row.hits)

    def get(self, key: str) -> int:
        row = self._row(key)
        return int(row.hits) if row is not None else 0

    def get_expiry(self, key: str) -> float:
        row = self._row(key)
        return float(row.expires_at) if row is not None else time.time()

    def check(self) -> bool:
        try:
            with self._engine.connect() as conn:
                conn.execute(select(1))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with self._engine.begin() as conn:
            return int(conn.execute(delete(_COUNTER)).rowcount)

    def clear(self, key: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(delete(_COUNTER).where(_COUNTER.c.key == key))

    def _row(self, key: str) -> Any:
        counted = g.get("ratelimit_rows", {}).get(key) if has_request_context() else None
        if counted is not None:
            return counted if counted.expires_at > time.time() else None
        with self._engine.connect() as conn:
            row = conn.execute(
                select(_COUNTER.c.hits, _COUNTER.c.expires_at).where(_COUNTER.c.key == key)
            ).first()
        return row if row is not None and row.expires_at > time.time() else None

    def _maybe_sweep(self, now: float) -> None:
        self._writes += 1
        if self._writes % self.SWEEP_EVERY:
            return
        with self._engine.begin() as conn:
            conn.execute(delete(_COUNTER).where(_COUNTER.c.expires_at < now))
