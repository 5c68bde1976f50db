"""/lti/login redirects only to the authorisation endpoint of a registered, active platform:
never an open redirect for an unknown issuer, client or target."""

from __future__ import annotations

import pytest
import requests

from tests.support.lti_harness import CLIENT_ID

EVIL = "https://evil.example"


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize(
    "params",
    [
        {"iss": EVIL, "login_hint": "x", "target_link_uri": f"{EVIL}/x"},
        {"iss": EVIL, "login_hint": "x", "client_id": "c", "lti1p3_new_window": "1"},
        {"iss": EVIL, "login_hint": "x", "client_id": CLIENT_ID},
    ],
)
def test_unknown_issuers_get_no_redirect(live_app, method, params):
    params = {"target_link_uri": f"{live_app.url}/lti/launch", **params}
    kwargs = {"params": params} if method == "get" else {"data": params}
    answer = getattr(requests, method)(
        f"{live_app.url}/lti/login", allow_redirects=False, timeout=10, **kwargs
    )
    assert answer.status_code in (400, 403)
    assert "Location" not in answer.headers
    assert EVIL not in answer.text


@pytest.mark.peer
def test_a_known_platform_is_sent_to_its_own_authorisation_endpoint(lti):
    started = lti.start(lti.user("learner-1"))
    redirected = lti.login(lti.browser(), started)
    assert redirected.status_code == 302
    assert redirected.headers["Location"].startswith(lti.peer.auth_login_url + "?")
    # The same login with the issuer swapped: refused, not redirected.
    forged = {**started["login_params"], "iss": EVIL}
    refused = requests.post(started["login_url"], data=forged, allow_redirects=False, timeout=10)
    assert refused.status_code == 403 and "Location" not in refused.headers
