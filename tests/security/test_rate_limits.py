"""What anonymous requests can create is bounded: per-address rate limits (French 429 with
Retry-After, before the view runs) and a size cap on every entry of the shared store."""

from __future__ import annotations

import html
import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
import requests
from sqlalchemy import func, select, update

from ltiservice import db
from ltiservice.lti.store import MAX_VALUE_BYTES, StoreValueTooLargeError
from ltiservice.models import LtiStoreEntry, RateLimitCounter
from ltiservice.ratelimit import SqlStorage
from tests.conftest import REDIS_TEST_PREFIX, LiveApp, served
from tests.support.registration import registration_link


@pytest.fixture
def limited(database_url: str, tmp_path: Any) -> Iterator[LiveApp]:
    with served(
        database_url,
        tmp_path / "instance",
        rate_limit_registration="3 per minute",
        rate_limit_launch="2 per minute",
        # Counters of this app only, whatever earlier tests of the run counted on Redis.
        redis_prefix=f"{REDIS_TEST_PREFIX}{secrets.token_hex(4)}:",
    ) as live:
        yield live


def store_entries(live: LiveApp) -> int:
    with live.app.app_context():
        return int(db.session().scalar(select(func.count()).select_from(LtiStoreEntry)) or 0)


def test_registration_is_limited_per_address_before_the_view_runs(limited):
    link = registration_link(limited.app)
    bogus = f"{limited.url}/lti/register/{'x' * 43}"
    answers = [requests.get(bogus, timeout=10) for _ in range(3)]
    assert [a.status_code for a in answers] == [403, 403, 403]
    refused = requests.get(link, params={"openid_configuration": "http://127.0.0.1:9/"}, timeout=10)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    text = html.unescape(refused.text)
    assert "Trop de demandes" in text and "réessayez dans" in text and "Rien n'a été" in text
    assert store_entries(limited) == 0
    as_json = requests.post(link, headers={"Accept": "application/json"}, timeout=10)
    assert as_json.status_code == 429 and as_json.json()["error"] == "rate_limited"


def test_login_and_launch_are_limited(limited):
    login = f"{limited.url}/lti/login"
    statuses = [requests.post(login, data={"iss": "x"}, timeout=10).status_code for _ in range(3)]
    assert statuses[:2] == [400, 400] and statuses[2] == 429
    # One budget for the two steps of a launch.
    assert requests.post(f"{limited.url}/lti/launch", data={}, timeout=10).status_code == 429


def test_counters_live_in_the_shared_storage(limited):
    requests.get(f"{limited.url}/lti/register", timeout=10)
    settings = limited.app.config["SETTINGS"]
    if settings.redis_url:
        keys = redis.Redis.from_url(settings.redis_url).keys(f"*{settings.redis_prefix}ratelimit*")
        assert keys, "the counters are on Redis, shared by every worker"
    else:
        with limited.app.app_context():
            rows = db.session().scalars(select(RateLimitCounter)).all()
        assert [r.hits for r in rows] == [1]  # the one window of "3 per minute"


def test_sql_storage_windows(app):
    engine = app.extensions["db_engine"]
    storage = SqlStorage("ltiservice-sql://", engine=engine)
    assert storage.check()
    assert [storage.incr("k", 60) for _ in range(3)] == [1, 2, 3]
    assert storage.get("k") == 3 and storage.get_expiry("k") > time.time()
    with engine.begin() as conn:  # the window ends: the next hit starts a new one
        conn.execute(update(RateLimitCounter).values(expires_at=time.time() - 1))
    assert storage.get("k") == 0
    assert storage.incr("k", 60) == 1
    storage.clear("k")
    assert storage.get("k") == 0


def test_no_entry_of_the_shared_store_is_large(app):
    store = app.extensions["lti_store"]
    store.set("small", {"a": "b"}, 60)
    for write in (store.set, store.add):
        with pytest.raises(StoreValueTooLargeError) as refused:
            write("big", {"pad": "x" * MAX_VALUE_BYTES}, 60)
        assert refused.value.status == 413
    assert store.get("big") is None and store.get("small") == {"a": "b"}
