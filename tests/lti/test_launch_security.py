"""Hostile launches: every check of the launch chain, probed with tokens the REAL platform signs.

Each probe runs the real OIDC login (so state cookie and nonce are genuine), then posts an
id_token the Open edX peer signed with its own key (or a forgery), and asserts the HTTP status,
the French message a learner reads, and that no Person or Course row appeared.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import time
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import func, select

from ltiservice import db
from ltiservice.lti.launch import _FRENCH
from ltiservice.models import Course, Person
from tests.support.browser import Browser, form_of
from tests.support.lti_harness import CLIENT_ID, INSTRUCTOR, LEARNER, LtiHarness

pytestmark = pytest.mark.peer

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"


# -- helpers ---------------------------------------------------------------------------------


def _login(lti: LtiHarness, browser: Browser | None = None) -> dict[str, Any]:
    """A real login up to the platform's answer: browser, action, id_token, state, nonce, hint."""
    # A trainer: the launch lands on a page even before any assessment is placed.
    browser, answer, started = lti.id_token_for(lti.user("trainer-1", INSTRUCTOR), browser)
    claims = jwt.decode(answer["id_token"], options={"verify_signature": False})
    return {
        "browser": browser,
        "action": answer["action"],
        "id_token": answer["id_token"],
        "state": answer["state"],
        "nonce": claims["nonce"],
        "hint": started["lti_message_hint"],
        "claims": claims,
    }


def _post(flow: dict[str, Any], id_token: str | None = None, **form: str) -> requests.Response:
    data = {"id_token": id_token or flow["id_token"], "state": flow["state"], **form}
    return flow["browser"].post(flow["action"], data=data, allow_redirects=False)


def _forge(lti: LtiHarness, flow: dict[str, Any], **overrides: Any) -> str:
    """The platform's own id_token for this login, re-signed by the platform with changes."""
    return lti.peer.forge_id_token(flow["hint"], flow["nonce"], overrides)


def _counts(lti: LtiHarness) -> tuple[int, int]:
    with lti.live.app.app_context():
        persons = db.session().scalar(select(func.count()).select_from(Person))
        courses = db.session().scalar(select(func.count()).select_from(Course))
    return int(persons or 0), int(courses or 0)


def _assert_refused(
    lti: LtiHarness,
    response: requests.Response,
    status: int,
    code: str,
    rows: tuple[int, int] = (0, 0),
) -> None:
    """Refused with `status` and the French message of `code`; people and courses unchanged."""
    assert response.status_code == status, (response.status_code, response.text[:600])
    assert _FRENCH[code] in html.unescape(response.text), response.text[:600]
    assert _counts(lti) == rows, "a refused launch must not create people or courses"


def _assert_launched(lti: LtiHarness, response: requests.Response) -> None:
    """Accepted: 303 to the page of this launch, and the person recorded."""
    assert response.status_code == 303, response.text[:600]
    assert "launch=" in response.headers["Location"]
    assert _counts(lti)[0] >= 1


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jwks_hits(lti: LtiHarness) -> int:
    return int(lti.peer.stats()["requests_by_path"].get("/jwks", 0))


# -- signature and keys ----------------------------------------------------------------------


def test_forged_signature_with_the_platform_kid_is_refused(lti):
    flow = _login(lti)
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = jwt.get_unverified_header(flow["id_token"])["kid"]
    forged = jwt.encode(flow["claims"], other_key, algorithm="RS256", headers={"kid": kid})
    _assert_refused(lti, _post(flow, forged), 403, "bad_signature")
    # The forgery did not burn the nonce: the genuine token still launches.
    _assert_launched(lti, _post(flow))


def test_alg_none_is_refused(lti):
    flow = _login(lti)
    kid = jwt.get_unverified_header(flow["id_token"])["kid"]
    header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": kid}).encode())
    body = _b64(json.dumps(flow["claims"]).encode())
    _assert_refused(lti, _post(flow, f"{header}.{body}."), 403, "bad_signature")


def test_hs256_keyed_with_the_platform_public_key_is_refused(lti):
    flow = _login(lti)
    kid = jwt.get_unverified_header(flow["id_token"])["kid"]
    jwk = next(k for k in lti.peer.jwks()["keys"] if k["kid"] == kid)
    public_pem = jwt.PyJWK(jwk, algorithm="RS256").key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    body = _b64(json.dumps(flow["claims"]).encode())
    mac = hmac.new(public_pem, f"{header}.{body}".encode(), hashlib.sha256).digest()
    _assert_refused(lti, _post(flow, f"{header}.{body}.{_b64(mac)}"), 403, "bad_signature")


def _attacker_token(lti: LtiHarness, kid: str) -> requests.Response:
    """A token with a made-up kid, signed by the attacker's own key, posted with a state
    cookie the attacker set themselves: no login needed to reach the key lookup."""
    now = int(time.time())
    claims = {"iss": lti.peer.issuer, "aud": CLIENT_ID, "iat": now, "exp": now + 300, "nonce": kid}
    token = jwt.encode(claims, _ATTACKER_KEY, algorithm="RS256", headers={"kid": kid})
    browser = lti.browser()
    browser.http.cookies.set("lti1p3-etat", "etat", domain="127.0.0.1", path="/")
    return browser.post(
        f"{lti.tool_url}/lti/launch",
        data={"id_token": token, "state": "etat"},
        allow_redirects=False,
    )


_ATTACKER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def test_the_same_unknown_kid_refetches_the_platform_jwks_once_per_interval(lti):
    _assert_launched(lti, _post(_login(lti)))  # JWKS now cached
    before = _jwks_hits(lti)

    flow = _login(lti)
    token = lti.peer.sign(flow["claims"], headers={"kid": "cle-inconnue-1"})
    _assert_refused(lti, _post(flow, token), 403, "unknown_key", rows=(1, 1))
    assert _jwks_hits(lti) == before + 1, "an unknown kid must trigger one JWKS re-fetch"

    flow = _login(lti)
    token = lti.peer.sign(flow["claims"], headers={"kid": "cle-inconnue-1"})
    _assert_refused(lti, _post(flow, token), 403, "unknown_key", rows=(1, 1))
    assert _jwks_hits(lti) == before + 1, "the same unknown kid within the interval: no re-fetch"


def test_each_unknown_kid_refetches_once_under_a_cap_per_platform(lti):
    _assert_launched(lti, _post(_login(lti)))  # JWKS now cached
    cap = lti.live.app.config["SETTINGS"].jwks_refetch_max
    before = _jwks_hits(lti)
    for n in range(cap + 3):
        _assert_refused(lti, _attacker_token(lti, f"cle-inventee-{n}"), 403, "unknown_key", (1, 1))
    assert _jwks_hits(lti) == before + cap, "distinct kids: one fetch each, capped per interval"


def test_first_launch_with_an_unknown_kid_fetches_the_jwks_only_once(lti):
    before = _jwks_hits(lti)
    flow = _login(lti)
    token = lti.peer.sign(flow["claims"], headers={"kid": "cle-inconnue"})
    _assert_refused(lti, _post(flow, token), 403, "unknown_key")
    assert _jwks_hits(lti) == before + 1, "a keyset fetched this instant is not fetched again"


def test_platform_key_rotation_is_followed_by_one_refetch(lti):
    _assert_launched(lti, _post(_login(lti)))
    before = _jwks_hits(lti)
    rotated = lti.peer.rotate_keys()
    flow = _login(lti)
    assert jwt.get_unverified_header(flow["id_token"])["kid"] == rotated["current_kid"]
    _assert_launched(lti, _post(flow))
    assert _jwks_hits(lti) == before + 1


def test_unknown_kid_tokens_before_a_rotation_do_not_delay_it(lti):
    """Issue 9: one made-up kid spent the platform's only allowance, and the conformance
    probe's genuine rotation right after was refused until the interval ran out."""
    _assert_launched(lti, _post(_login(lti)))
    for n in range(3):
        _assert_refused(lti, _attacker_token(lti, f"cle-sonde-{n}"), 403, "unknown_key", (1, 1))
    rotated = lti.peer.rotate_keys()
    flow = _login(lti)
    assert jwt.get_unverified_header(flow["id_token"])["kid"] == rotated["current_kid"]
    _assert_launched(lti, _post(flow))
    lti.peer.retire_previous_key()


# -- times -----------------------------------------------------------------------------------


@pytest.mark.parametrize("claim", ["exp", "iat"])
def test_missing_time_claim_is_refused(lti, claim):
    flow = _login(lti)
    _assert_refused(lti, _post(flow, _forge(lti, flow, **{claim: None})), 403, "bad_times")


def test_expired_id_token_is_refused(lti):
    flow = _login(lti)
    now = int(time.time())
    token = _forge(lti, flow, iat=now - 7200, exp=now - 3600)
    _assert_refused(lti, _post(flow, token), 401, "expired")


def test_id_token_issued_in_the_future_is_refused(lti):
    flow = _login(lti)
    now = int(time.time())
    token = _forge(lti, flow, iat=now + 3600, exp=now + 7200)
    _assert_refused(lti, _post(flow, token), 403, "bad_times")


# -- replay and nonce ------------------------------------------------------------------------


def test_replayed_id_token_is_refused(lti):
    flow = _login(lti)
    _assert_launched(lti, _post(flow))
    # Same browser: the launch cleared the state cookie.
    _assert_refused(lti, _post(flow), 401, "state_mismatch", rows=(1, 1))
    # An attacker who copied the state cookie: the nonce was consumed by the first launch.
    name = "lti1p3-" + flow["state"]
    flow["browser"].http.cookies.set(name, flow["state"], domain="127.0.0.1", path="/")
    _assert_refused(lti, _post(flow), 403, "bad_nonce", rows=(1, 1))


def test_nonce_reused_with_a_fresh_state_is_refused(lti):
    first = _login(lti)
    _assert_launched(lti, _post(first))
    second = _login(lti, first["browser"])
    token = lti.peer.forge_id_token(second["hint"], first["nonce"])
    _assert_refused(lti, _post(second, token), 403, "bad_nonce", rows=(1, 1))


def test_nonce_never_issued_is_refused(lti):
    flow = _login(lti)
    token = lti.peer.forge_id_token(flow["hint"], "nonce-jamais-emis")
    _assert_refused(lti, _post(flow, token), 403, "bad_nonce")


# -- audience and registration ---------------------------------------------------------------


def test_aud_list_with_us_second_and_azp_us_is_accepted(lti):
    flow = _login(lti)
    token = _forge(lti, flow, aud=["autre-outil", CLIENT_ID], azp=CLIENT_ID)
    _assert_launched(lti, _post(flow, token))


def test_aud_list_with_azp_another_tool_is_refused(lti):
    flow = _login(lti)
    token = _forge(lti, flow, aud=[CLIENT_ID, "autre-outil"], azp="autre-outil")
    _assert_refused(lti, _post(flow, token), 403, "bad_audience")


def test_aud_list_without_azp_is_refused(lti):
    flow = _login(lti)
    token = _forge(lti, flow, aud=[CLIENT_ID, "autre-outil"], azp=None)
    _assert_refused(lti, _post(flow, token), 403, "bad_audience")


def test_single_aud_with_azp_another_tool_is_refused(lti):
    flow = _login(lti)
    token = _forge(lti, flow, aud=CLIENT_ID, azp="autre-outil")
    _assert_refused(lti, _post(flow, token), 403, "bad_audience")


def test_unknown_issuer_is_refused(lti):
    flow = _login(lti)
    token = _forge(lti, flow, iss="https://plateforme-inconnue.example")
    _assert_refused(lti, _post(flow, token), 403, "unknown_registration")


def test_unknown_client_id_is_refused(lti):
    flow = _login(lti)
    token = _forge(lti, flow, aud="client-inconnu", azp=None)
    _assert_refused(lti, _post(flow, token), 403, "unknown_registration")


def test_unknown_deployment_is_refused(lti):
    flow = _login(lti)
    token = _forge(lti, flow, **{CLAIM + "deployment_id": "deploiement-inconnu"})
    _assert_refused(lti, _post(flow, token), 403, "unknown_deployment")


# -- message claims --------------------------------------------------------------------------


def test_wrong_lti_version_is_refused(lti):
    flow = _login(lti)
    token = _forge(lti, flow, **{CLAIM + "version": "1.1.0"})
    _assert_refused(lti, _post(flow, token), 400, "bad_message")


@pytest.mark.parametrize("message_type", [None, "LtiUnknownRequest"])
def test_missing_or_unknown_message_type_is_refused(lti, message_type):
    flow = _login(lti)
    token = _forge(lti, flow, **{CLAIM + "message_type": message_type})
    _assert_refused(lti, _post(flow, token), 400, "bad_message")


def test_tampered_target_link_uri_is_refused(lti):
    flow = _login(lti)
    token = _forge(lti, flow, **{CLAIM + "target_link_uri": "https://evil.example/lti/launch"})
    _assert_refused(lti, _post(flow, token), 403, "bad_target")


def test_login_initiation_with_a_foreign_target_link_uri_is_refused(lti):
    started = lti.start(lti.user("learner-1", LEARNER))
    params = {**started["login_params"], "target_link_uri": "https://evil.example/lti/launch"}
    browser = lti.browser()
    for method in ("GET", "POST"):
        kwargs = {"params": params} if method == "GET" else {"data": params}
        response = browser.request(method, started["login_url"], allow_redirects=False, **kwargs)
        _assert_refused(lti, response, 400, "bad_target")
        assert "Location" not in response.headers
        assert not response.headers.get("Set-Cookie")


# -- state and cookies -----------------------------------------------------------------------


def test_launch_without_the_state_cookie_is_refused(lti):
    flow = _login(lti)
    flow["browser"] = lti.browser()  # another browser: no cookie from this login
    _assert_refused(lti, _post(flow), 401, "state_mismatch")


def test_state_of_another_login_is_refused(lti):
    mine = _login(lti)
    theirs = _login(lti)  # another browser, its own state cookie
    response = mine["browser"].post(
        mine["action"], data={"id_token": theirs["id_token"], "state": theirs["state"]}
    )
    _assert_refused(lti, response, 401, "state_mismatch")
    # and the other way: my token under their state, from my browser
    response = mine["browser"].post(
        mine["action"], data={"id_token": mine["id_token"], "state": theirs["state"]}
    )
    _assert_refused(lti, response, 401, "state_mismatch")


def test_missing_state_is_refused(lti):
    flow = _login(lti)
    response = flow["browser"].post(flow["action"], data={"id_token": flow["id_token"]})
    _assert_refused(lti, response, 400, "missing_state")


def test_garbage_id_token_is_refused(lti):
    flow = _login(lti)
    _assert_refused(lti, _post(flow, "pas.un.jeton"), 400, "bad_format")


@pytest.mark.parametrize("depth", [40, 900, 5000])
def test_deeply_nested_id_token_is_refused_without_a_500(lti, depth):
    flow = _login(lti)
    header = _b64(json.dumps({"alg": "RS256", "kid": "k"}).encode())
    body = _b64(b'{"iss":' * depth + b'"x"' + b"}" * depth)
    token = f"{header}.{body}.{_b64(b'sig')}"
    _assert_refused(lti, _post(flow, token), 400, "bad_format")
    # The same token on the platform-storage path, read before any check.
    storage = flow["browser"].post(
        flow["action"],
        data={"id_token": token, "state": "autre", "lti_storage_target": "_parent"},
        allow_redirects=False,
    )
    assert storage.status_code < 500, storage.text[:300]


def _set_cookies(response: requests.Response) -> list[str]:
    return list(response.raw.headers.getlist("Set-Cookie"))


def test_cookies_are_secure_httponly_samesite_none(lti):
    browser = lti.browser()
    started = lti.start(lti.user("trainer-1", INSTRUCTOR))
    params = {**started["login_params"], "lti1p3_new_window": "1"}
    login = browser.post(started["login_url"], data=params, allow_redirects=False)
    assert login.status_code == 302
    state_cookies = [c for c in _set_cookies(login) if c.startswith("lti1p3-state-")]
    assert len(state_cookies) == 1, _set_cookies(login)
    action, fields = form_of(browser.get(login.headers["Location"]))
    launch = browser.post(action, data=fields, allow_redirects=False)
    assert launch.status_code == 303, launch.text[:600]
    session_cookies = [c for c in _set_cookies(launch) if c.startswith("ltiservice_session=")]
    assert len(session_cookies) == 1, _set_cookies(launch)
    cleared = [c for c in _set_cookies(launch) if c.startswith(state_cookies[0].split("=")[0])]
    assert len(cleared) == 1 and "Max-Age=0" in cleared[0], "the state is used once"
    for raw in state_cookies + session_cookies + cleared:
        attributes = {a.strip().split("=")[0].lower() for a in raw.split(";")[1:]}
        assert {"secure", "httponly"} <= attributes, raw
        assert "samesite=none" in raw.lower().replace(" ", ""), raw


# -- platform storage re-post ----------------------------------------------------------------


def _storage_login(lti: LtiHarness) -> dict[str, Any]:
    """A login initiation announcing platform storage, then the platform's id_token."""
    started = lti.start(lti.user("trainer-1", INSTRUCTOR))
    browser = lti.browser()
    params = {**started["login_params"], "lti_storage_target": "post_message_forwarding"}
    page = browser.post(started["login_url"], data=params, allow_redirects=False)
    assert page.status_code == 200 and 'data-mode="login"' in page.text, page.text[:600]
    next_url = html.unescape(page.text.split('data-next="')[1].split('"')[0])
    assert "lti_storage_target=post_message_forwarding" in next_url
    query = dict(parse_qsl(urlsplit(next_url).query))
    answer = lti.peer.authorize({k: v for k, v in query.items() if k != "lti_storage_target"})
    return {"action": answer["action"], "id_token": answer["id_token"], "state": answer["state"]}


def _repost(lti: LtiHarness, flow: dict[str, Any], origin: str) -> requests.Response:
    """The marked re-post, from a browser without the state cookie (blocked in the iframe)."""
    fields = {
        "id_token": flow["id_token"],
        "state": flow["state"],
        "lti_storage_target": "post_message_forwarding",
        "lti_storage_verified": "1",
    }
    return lti.browser().post(
        flow["action"], data=fields, headers={"Origin": origin}, allow_redirects=False
    )


def test_launch_without_cookie_asks_platform_storage_for_the_state(lti):
    flow = _storage_login(lti)
    fields = {**flow, "lti_storage_target": "post_message_forwarding"}
    fields.pop("action")
    page = lti.browser().post(flow["action"], data=fields, allow_redirects=False)
    assert page.status_code == 200
    assert 'data-mode="launch"' in page.text and 'name="lti_storage_verified"' in page.text
    assert "<script>" not in page.text, "external scripts only (CSP)"
    assert _counts(lti) == (0, 0)


def test_cross_origin_forged_storage_repost_is_refused(lti):
    flow = _storage_login(lti)
    _assert_refused(lti, _repost(lti, flow, "https://evil.example"), 403, "storage_refused")
    _assert_refused(lti, _repost(lti, flow, "null"), 403, "storage_refused")


def test_storage_repost_from_our_origin_is_accepted_once(lti):
    flow = _storage_login(lti)
    _assert_launched(lti, _repost(lti, flow, lti.tool_url))
    # The state was consumed: the same re-post again is refused.
    _assert_refused(lti, _repost(lti, flow, lti.tool_url), 403, "storage_refused", rows=(1, 1))


def test_storage_repost_of_a_cookie_login_state_is_refused(lti):
    flow = _login(lti)  # an ordinary login: its state was never issued for platform storage
    _assert_refused(lti, _repost(lti, flow, lti.tool_url), 403, "storage_refused")
