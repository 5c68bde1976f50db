"""A real platform key rotation on the Open edX peer while made-up kids keep arriving.

The service runs with a short re-fetch interval and a small cap so the worst case fits in a
test: the attacker spends every allowance just before the rotation, then sends a token with a
new made-up kid every two seconds. Once the allowances taken before the rotation have expired
(one interval), whoever fetches next brings the new key in: the genuine launch is accepted,
and the platform's JWKS is never fetched more than the cap per interval. The keyset is kept
no longer than the platform's own Cache-Control allows (never below the interval).
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jwt
import pytest
import redis

from ltiservice import db
from ltiservice.models import LtiStoreEntry, Platform
from tests.conftest import LiveApp, _wipe, make_app
from tests.lti.test_launch_security import (
    _assert_launched,
    _assert_refused,
    _attacker_token,
    _jwks_hits,
    _login,
    _post,
)
from tests.peers.platform import PlatformPeer
from tests.support.live_server import free_port, serve
from tests.support.lti_harness import CLIENT_ID, LtiHarness

pytestmark = [pytest.mark.peer, pytest.mark.slow]

INTERVAL_S = 8
CAP = 2
STEP_S = 2.0


@pytest.fixture
def lti_fast_refetch(
    platform_peer: PlatformPeer, database_url: str, tmp_path: Path
) -> Iterator[LtiHarness]:
    port = free_port()
    application = make_app(
        database_url,
        tmp_path / "instance",
        base_url=f"http://127.0.0.1:{port}",
        jwks_refetch_interval_s=INTERVAL_S,
        jwks_refetch_max=CAP,
    )
    with serve(application, port) as url:
        platform_peer.reset()
        harness = LtiHarness(platform_peer, LiveApp(application, url))
        harness.use_client(CLIENT_ID)
        harness.platform_id = harness.register_platform("of-test", CLIENT_ID, "Open edX (peer)")
        yield harness
        for browser in harness.browsers:
            browser.close()
    application.extensions["db_engine"].dispose()
    _wipe(database_url)


def test_a_rotation_is_accepted_within_the_interval_while_made_up_kids_keep_coming(
    lti_fast_refetch: LtiHarness,
) -> None:
    lti = lti_fast_refetch
    _assert_launched(lti, _post(_login(lti)))  # the platform's JWKS is cached
    # Worst case: every allowance of this interval spent on made-up kids.
    for n in range(CAP + 2):
        _assert_refused(lti, _attacker_token(lti, f"avant-{n}"), 403, "unknown_key", (1, 1))
    before = _jwks_hits(lti)
    rotated = lti.peer.rotate_keys()
    rotated_at = time.monotonic()
    # Every allowance taken before the rotation has expired by then (+1 s: clock granularity).
    all_expired_at = rotated_at + INTERVAL_S + 1
    attempts = 0
    while True:
        attempts += 1
        attack = _attacker_token(lti, f"pendant-{attempts}")
        assert attack.status_code == 403, attack.text[:300]
        flow = _login(lti)
        assert jwt.get_unverified_header(flow["id_token"])["kid"] == rotated["current_kid"]
        started = time.monotonic()
        response = _post(flow)
        if response.status_code == 303:
            break
        _assert_refused(lti, response, 403, "unknown_key", (1, 1))
        assert started <= all_expired_at, (
            f"refused {started - rotated_at:.1f} s after the rotation, although every "
            "allowance taken before it had expired"
        )
        time.sleep(STEP_S)
    _assert_launched(lti, response)
    elapsed = time.monotonic() - rotated_at
    fetches = _jwks_hits(lti) - before
    assert 1 <= fetches <= CAP * (math.ceil(elapsed / INTERVAL_S) + 1), (fetches, elapsed)
    lti.peer.retire_previous_key()


class _JwksWithHeaders:
    """The peer's JWKS served from 127.0.0.1 with the Cache-Control a platform chose."""

    def __init__(self, peer: PlatformPeer, cache_control: str) -> None:
        peer_jwks = peer.jwks

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = json.dumps(peer_jwks()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Cache-Control", cache_control)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/jwks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _cached_for(lti: LtiHarness, url: str) -> float:
    """How long the shared store still keeps the keyset fetched from `url`, in seconds."""
    key = "jwks-" + hashlib.sha256(url.encode()).hexdigest()
    settings = lti.live.app.config["SETTINGS"]
    if settings.redis_url:
        client = redis.Redis.from_url(settings.redis_url)
        try:
            return float(client.pttl(settings.redis_prefix + key)) / 1000
        finally:
            client.close()
    with lti.live.app.app_context():
        entry = db.session().get(LtiStoreEntry, key)
        assert entry is not None, "no keyset cached"
        return float(entry.expires_at - time.time())


@pytest.mark.parametrize(
    ("cache_control", "lifetime"),
    [
        ("public, max-age=30", 30),  # shorter than ours: the platform's
        ("max-age=86400", 3600),  # longer: jwks_cache_lifetime_s
        ("no-cache", INTERVAL_S),  # never below the re-fetch interval
        ("", 3600),
    ],
)
def test_the_keyset_is_cached_no_longer_than_the_platform_allows(
    lti_fast_refetch: LtiHarness, cache_control: str, lifetime: int
) -> None:
    lti = lti_fast_refetch
    server = _JwksWithHeaders(lti.peer, cache_control)
    try:
        with lti.live.app.app_context():
            platform = db.session().get(Platform, lti.platform_id)
            assert platform is not None
            platform.key_set_url = server.url
            db.session().commit()
        _assert_launched(lti, _post(_login(lti)))
        remaining = _cached_for(lti, server.url)
        assert lifetime - 5 <= remaining <= lifetime, remaining
    finally:
        server.close()
