"""A real platform key rotation on the Open edX peer while made-up kids keep arriving.

The service runs with a short re-fetch interval and a small cap so the worst case fits in a
test: the attacker spends every allowance just before the rotation, then sends a token with a
new made-up kid every two seconds. Once the allowances taken before the rotation have expired
(one interval), whoever fetches next brings the new key in: the genuine launch is accepted,
and the platform's JWKS is never fetched more than the cap per interval.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest

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
