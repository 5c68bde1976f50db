"""Self-tests of the Open edX LTI platform peer, alone (no ltiservice involved).

They pin down the peer's HTTP contract that the tool's tests rely on, and that its glue is
strict where the library is lenient (token assertion claims, deep-linking claims).
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.peers.platform import PeerRequestError, PlatformPeer

pytestmark = pytest.mark.peer

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
AGS = "https://purl.imsglobal.org/spec/lti-ags/"
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
TOOL = "http://127.0.0.1:9"  # never contacted, except its JWKS (served below)
CLIENT_ID = "tool-client-1"
DEPLOYMENT_ID = "deploy-1"
SCORE_CT = "application/vnd.ims.lis.v1.score+json"


class ToolKeys:
    """A tool's RSA key, its JWKS served over HTTP on 127.0.0.1, and JWT helpers."""

    def __init__(self) -> None:
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = f"tool-{secrets.token_hex(4)}"
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key()))
        self.jwks = {"keys": [{**jwk, "kid": self.kid, "alg": "RS256", "use": "sig"}]}
        body = json.dumps(self.jwks).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/jwks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def sign(self, claims: dict[str, Any], key: Any = None) -> str:
        return jwt.encode(claims, key or self.private, algorithm="RS256", headers={"kid": self.kid})

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture(scope="module")
def tool_keys() -> Iterator[ToolKeys]:
    keys = ToolKeys()
    yield keys
    keys.close()


@pytest.fixture
def peer(platform_peer: PlatformPeer, tool_keys: ToolKeys) -> PlatformPeer:
    """The session's peer, reset and knowing our fake tool."""
    platform_peer.reset()
    platform_peer.retire_previous_key()
    platform_peer.configure_tool(
        client_id=CLIENT_ID,
        deployment_id=DEPLOYMENT_ID,
        login_url=f"{TOOL}/login",
        launch_url=f"{TOOL}/launch",
        redirect_uris=[f"{TOOL}/launch"],
        jwks_url=tool_keys.url,
        deep_link_launch_url=f"{TOOL}/deep-link",
    )
    return platform_peer


def _auth_params(login: dict[str, Any], nonce: str = "nonce-1", **changes: str) -> dict[str, str]:
    """What a tool's OIDC initiation sends to /authorize."""
    params = login["login_params"]
    out = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": params["client_id"],
        "redirect_uri": f"{TOOL}/launch",
        "login_hint": params["login_hint"],
        "lti_message_hint": params["lti_message_hint"],
        "nonce": nonce,
        "state": "state-1",
    }
    out.update(changes)
    return {k: v for k, v in out.items() if v != ""}


def _launch(peer: PlatformPeer, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Start a launch and run the auth request; return (login answer, verified claims)."""
    user = kwargs.pop(
        "user",
        {"sub": "learner-1", "name": "Ann Learner", "email": "ann@example.org", "roles": [LEARNER]},
    )
    kwargs.setdefault("context", {"id": "course-1", "title": "CQP course", "label": "CQP"})
    kwargs.setdefault("resource_link", {"id": "link-1", "title": "Practical case"})
    login = peer.start_launch(user, **kwargs)
    answer = peer.authorize(_auth_params(login))
    claims = _verify(peer, answer["id_token"])
    return login, claims


def _verify(peer: PlatformPeer, token: str) -> dict[str, Any]:
    """Verify a platform JWT against the peer's published JWKS, as a tool would."""
    kid = jwt.get_unverified_header(token)["kid"]
    jwk = next(k for k in peer.jwks()["keys"] if k["kid"] == kid)
    key = jwt.PyJWK.from_dict(jwk, algorithm="RS256").key
    return jwt.decode(
        token,
        key,
        algorithms=["RS256"],
        audience=CLIENT_ID,
        issuer=peer.issuer,
        options={"require": ["exp", "iat", "iss", "aud", "sub"]},
    )


def _assertion(tool_keys: ToolKeys, peer: PlatformPeer, **changes: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": CLIENT_ID,
        "sub": CLIENT_ID,
        "aud": peer.auth_token_url,
        "iat": now,
        "exp": now + 60,
        "jti": uuid.uuid4().hex,
    }
    claims.update(changes)
    return tool_keys.sign({k: v for k, v in claims.items() if v is not None})


def _token_request(peer: PlatformPeer, assertion: str, scope: str) -> requests.Response:
    return requests.post(
        peer.auth_token_url,
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
            "scope": scope,
        },
        timeout=30,
    )


def _token(peer: PlatformPeer, tool_keys: ToolKeys, scope: str) -> str:
    response = _token_request(peer, _assertion(tool_keys, peer), scope)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def _bearer(token: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **headers}


# ------------------------------------------------------------------------------ launches


def test_info_and_jwks(peer: PlatformPeer) -> None:
    assert peer.issuer == peer.base_url
    assert peer.auth_login_url == f"{peer.base_url}/authorize"
    assert peer.auth_token_url == f"{peer.base_url}/token"
    keys = peer.jwks()["keys"]
    assert len(keys) == 1 and keys[0]["kid"] and keys[0]["kty"] == "RSA"


def test_resource_link_launch_verifies_and_carries_claims(peer: PlatformPeer) -> None:
    login, claims = _launch(peer, custom={"case": "bc01"}, ags=True, nrps=True)
    params = login["login_params"]
    assert login["login_url"] == f"{TOOL}/login"
    assert params == {
        "iss": peer.issuer,
        "login_hint": "learner-1",
        "target_link_uri": f"{TOOL}/launch",
        "client_id": CLIENT_ID,
        "lti_deployment_id": DEPLOYMENT_ID,
        "lti_message_hint": login["lti_message_hint"],
    }
    assert claims[CLAIM + "message_type"] == "LtiResourceLinkRequest"
    assert claims[CLAIM + "version"] == "1.3.0"
    assert claims[CLAIM + "deployment_id"] == DEPLOYMENT_ID
    assert claims[CLAIM + "target_link_uri"] == f"{TOOL}/launch"
    assert claims["sub"] == "learner-1" and claims["azp"] == CLIENT_ID
    assert claims["nonce"] == "nonce-1"
    assert claims["name"] == "Ann Learner" and claims["email"] == "ann@example.org"
    assert claims[CLAIM + "roles"] == [LEARNER]
    assert claims[CLAIM + "resource_link"] == {"id": "link-1", "title": "Practical case"}
    assert claims[CLAIM + "context"]["id"] == "course-1"
    assert claims[CLAIM + "custom"] == {"case": "bc01"}
    endpoint = claims[AGS + "claim/endpoint"]
    assert endpoint["lineitems"] == f"{peer.base_url}/ags/course-1/lineitems"
    assert set(endpoint["scope"]) == {
        AGS + "scope/lineitem",
        AGS + "scope/result.readonly",
        AGS + "scope/score",
    }
    nrps = claims["https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"]
    assert nrps["context_memberships_url"] == f"{peer.base_url}/nrps/course-1/memberships"


def test_each_launch_gets_its_own_hint(peer: PlatformPeer) -> None:
    first = peer.start_launch({"sub": "u", "roles": [LEARNER]}, resource_link={"id": "l"})
    second = peer.start_launch({"sub": "u", "roles": [INSTRUCTOR]}, resource_link={"id": "l"})
    assert first["lti_message_hint"] != second["lti_message_hint"]
    roles = _verify(peer, peer.authorize(_auth_params(first))["id_token"])[CLAIM + "roles"]
    assert roles == [LEARNER]


def test_deep_linking_launch(peer: PlatformPeer) -> None:
    login, claims = _launch(
        peer,
        message_type="LtiDeepLinkingRequest",
        user={"sub": "teacher-1", "roles": [INSTRUCTOR]},
        resource_link=None,
    )
    assert login["login_params"]["target_link_uri"] == f"{TOOL}/deep-link"
    assert claims[CLAIM + "message_type"] == "LtiDeepLinkingRequest"
    assert CLAIM + "resource_link" not in claims
    settings = claims[DL + "deep_linking_settings"]
    assert settings["deep_link_return_url"] == f"{peer.base_url}/deep_link_return"
    assert "ltiResourceLink" in settings["accept_types"]
    assert settings["accept_multiple"] is True
    assert settings["data"] == login["deep_linking_data"]


def test_submission_review_launch(peer: PlatformPeer) -> None:
    _, claims = _launch(
        peer,
        message_type="LtiSubmissionReviewRequest",
        ags=True,
        user={"sub": "teacher-1", "roles": [INSTRUCTOR]},
        for_user={"sub": "learner-1", "name": "Ann"},
    )
    assert claims[CLAIM + "message_type"] == "LtiSubmissionReviewRequest"
    assert claims[CLAIM + "for_user"] == {"user_id": "learner-1", "name": "Ann"}


@pytest.mark.parametrize(
    "change",
    [
        {"redirect_uri": "http://evil.example/launch"},
        {"scope": "profile"},
        {"response_type": "code"},
        {"response_mode": "query"},
        {"prompt": "login"},
        {"client_id": "someone-else"},
        {"login_hint": "another-user"},
        {"lti_message_hint": "unknown"},
        {"nonce": ""},
    ],
)
def test_authorize_refuses_bad_requests(peer: PlatformPeer, change: dict[str, str]) -> None:
    login = peer.start_launch(
        {"sub": "learner-1", "roles": [LEARNER]}, resource_link={"id": "link-1"}
    )
    response = peer.authorize_raw(_auth_params(login, **change))
    assert response.status_code == 400, response.text
    assert response.json()["error_description"]


def test_authorize_html_mode_posts_to_redirect_uri(peer: PlatformPeer) -> None:
    login = peer.start_launch(
        {"sub": "learner-1", "roles": [LEARNER]}, resource_link={"id": "link-1"}
    )
    response = peer.authorize_raw(_auth_params(login), method="POST", accept_json=False)
    assert response.status_code == 200
    assert f'action="{TOOL}/launch"' in response.text
    assert re.search(r'name="id_token" value="[\w.-]+"', response.text)
    assert 'name="state" value="state-1"' in response.text


def test_launch_page_posts_login_initiation(peer: PlatformPeer) -> None:
    login = peer.start_launch(
        {"sub": "learner-1", "roles": [LEARNER]}, resource_link={"id": "link-1"}
    )
    page = requests.get(login["launch_page_url"], timeout=30).text
    assert f'action="{TOOL}/login"' in page
    assert f'name="lti_message_hint" value="{login["lti_message_hint"]}"' in page


# ------------------------------------------------------------------------------ signing / keys


def test_sign_and_forge_use_the_platform_key(peer: PlatformPeer) -> None:
    now = int(time.time())
    token = peer.sign(
        {"iss": peer.issuer, "aud": CLIENT_ID, "sub": "x", "iat": now, "exp": now - 10}
    )
    with pytest.raises(jwt.ExpiredSignatureError):
        _verify(peer, token)
    login = peer.start_launch(
        {"sub": "learner-1", "roles": [LEARNER]}, resource_link={"id": "link-1"}
    )
    forged = peer.forge_id_token(
        login["lti_message_hint"],
        "n-2",
        overrides={CLAIM + "version": None, "aud": [CLIENT_ID, "x"]},
    )
    claims = jwt.decode(forged, options={"verify_signature": False})
    assert CLAIM + "version" not in claims and claims["nonce"] == "n-2"
    assert claims["aud"] == [CLIENT_ID, "x"]
    kid = jwt.get_unverified_header(forged)["kid"]
    assert kid in {k["kid"] for k in peer.jwks()["keys"]}
    unknown = peer.sign({"iss": peer.issuer}, headers={"kid": "nope"})
    assert jwt.get_unverified_header(unknown)["kid"] == "nope"


def test_key_rotation_publishes_both_kids(peer: PlatformPeer, tool_keys: ToolKeys) -> None:
    old_token = _token(peer, tool_keys, AGS + "scope/lineitem")
    old_kid = peer.jwks()["keys"][0]["kid"]
    rotated = peer.rotate_keys()
    assert rotated["previous_kid"] == old_kid
    assert {k["kid"] for k in peer.jwks()["keys"]} == {old_kid, rotated["current_kid"]}
    login = peer.start_launch(
        {"sub": "learner-1", "roles": [LEARNER]}, resource_link={"id": "link-1"}
    )
    id_token = peer.authorize(_auth_params(login))["id_token"]
    assert jwt.get_unverified_header(id_token)["kid"] == rotated["current_kid"]
    _verify(peer, id_token)
    previous = peer.sign({"iss": peer.issuer}, key="previous")
    assert jwt.get_unverified_header(previous)["kid"] == old_kid
    # An access token signed before the rotation still works while the old key is published.
    listed = requests.get(
        f"{peer.base_url}/ags/course-1/lineitems", headers=_bearer(old_token), timeout=30
    )
    assert listed.status_code == 200
    peer.retire_previous_key()
    assert [k["kid"] for k in peer.jwks()["keys"]] == [rotated["current_kid"]]


# ------------------------------------------------------------------------------ token endpoint


def test_token_endpoint_issues_and_counts(peer: PlatformPeer, tool_keys: ToolKeys) -> None:
    response = _token_request(
        peer,
        _assertion(tool_keys, peer),
        f"{AGS}scope/score {NRPS_SCOPE} https://example.org/unknown",
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0
    assert set(body["scope"].split()) == {AGS + "scope/score", NRPS_SCOPE}
    assert peer.stats()["tokens_issued"] == 1


@pytest.mark.parametrize(
    "changes",
    [
        {"aud": "http://127.0.0.1:1/token"},
        {"iss": "someone-else"},
        {"sub": "someone-else"},
        {"exp": None},
        {"exp": 1000},
        {"jti": None},
        {"iat": int(time.time()) + 3600, "exp": int(time.time()) + 4000},
    ],
)
def test_token_endpoint_refuses_bad_assertions(
    peer: PlatformPeer, tool_keys: ToolKeys, changes: dict[str, Any]
) -> None:
    response = _token_request(peer, _assertion(tool_keys, peer, **changes), NRPS_SCOPE)
    assert response.status_code in (400, 401), response.text
    assert peer.stats()["tokens_issued"] == 0


def test_token_endpoint_refuses_foreign_signature_and_replay(
    peer: PlatformPeer, tool_keys: ToolKeys
) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    forged = tool_keys.sign(
        {
            "iss": CLIENT_ID,
            "sub": CLIENT_ID,
            "aud": peer.auth_token_url,
            "iat": now,
            "exp": now + 60,
            "jti": "j-1",
        },
        key=stranger,
    )
    assert _token_request(peer, forged, NRPS_SCOPE).status_code == 401
    assertion = _assertion(tool_keys, peer)
    assert _token_request(peer, assertion, NRPS_SCOPE).status_code == 200
    replay = _token_request(peer, assertion, NRPS_SCOPE)
    assert replay.status_code == 401 and "jti" in replay.text


def test_services_require_a_token_with_the_right_scope(
    peer: PlatformPeer, tool_keys: ToolKeys
) -> None:
    url = f"{peer.base_url}/ags/course-1/lineitems"
    assert requests.get(url, timeout=30).status_code == 401
    assert requests.get(url, headers=_bearer("garbage"), timeout=30).status_code == 401
    nrps_only = _token(peer, tool_keys, NRPS_SCOPE)
    assert requests.get(url, headers=_bearer(nrps_only), timeout=30).status_code == 401
    forged = peer.sign(
        {"iss": "http://elsewhere", "scopes": AGS + "scope/lineitem", "exp": int(time.time()) + 60}
    )
    assert requests.get(url, headers=_bearer(forged), timeout=30).status_code == 401


# ------------------------------------------------------------------------------ AGS


def _post_score(peer: PlatformPeer, token: str, item_url: str, **score: Any) -> requests.Response:
    body = {
        "userId": "learner-1",
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
        "scoreGiven": 7,
        "scoreMaximum": 10,
        "timestamp": "2024-05-01T10:00:00.000+00:00",
    }
    body.update(score)
    return requests.post(
        f"{item_url}/scores",
        data=json.dumps(body),
        headers=_bearer(token, **{"Content-Type": SCORE_CT}),
        timeout=30,
    )


def test_line_items_crud_and_filters(peer: PlatformPeer, tool_keys: ToolKeys) -> None:
    token = _token(peer, tool_keys, AGS + "scope/lineitem")
    url = f"{peer.base_url}/ags/course-1/lineitems"
    created = requests.post(
        url,
        json={"label": "BC01", "scoreMaximum": 20, "tag": "bc01", "resourceLinkId": "link-1"},
        headers=_bearer(token),
        timeout=30,
    )
    assert created.status_code == 201, created.text
    item = created.json()
    assert item["id"].startswith(url + "/")
    requests.post(
        url,
        json={"label": "BC02", "scoreMaximum": 20, "tag": "bc02"},
        headers=_bearer(token),
        timeout=30,
    )
    bad = requests.post(url, json={"label": "no max"}, headers=_bearer(token), timeout=30)
    assert bad.status_code == 400
    by_tag = requests.get(url, params={"tag": "bc01"}, headers=_bearer(token), timeout=30)
    assert [i["label"] for i in by_tag.json()] == ["BC01"]
    by_link = requests.get(
        url, params={"resource_link_id": "link-1"}, headers=_bearer(token), timeout=30
    )
    assert [i["id"] for i in by_link.json()] == [item["id"]]
    updated = requests.put(
        item["id"],
        json={"label": "BC01 bis", "scoreMaximum": 40},
        headers=_bearer(token),
        timeout=30,
    )
    assert updated.json()["tag"] == "bc01" and updated.json()["scoreMaximum"] == 40
    assert requests.delete(item["id"], headers=_bearer(token), timeout=30).status_code == 204
    assert [i["label"] for i in peer.line_items("course-1")] == ["BC02"]


def test_scores_follow_moodle_rules(peer: PlatformPeer, tool_keys: ToolKeys) -> None:
    token = _token(
        peer, tool_keys, f"{AGS}scope/lineitem {AGS}scope/score {AGS}scope/result.readonly"
    )
    item = requests.post(
        f"{peer.base_url}/ags/course-1/lineitems",
        json={"label": "BC01", "scoreMaximum": 10},
        headers=_bearer(token),
        timeout=30,
    ).json()
    assert _post_score(peer, token, item["id"]).status_code == 204
    same = _post_score(peer, token, item["id"], scoreGiven=8)
    assert same.status_code == 409
    older = _post_score(peer, token, item["id"], timestamp="2024-04-01T10:00:00+00:00")
    assert older.status_code == 409
    other_user = _post_score(peer, token, item["id"], userId="learner-2")
    assert other_user.status_code == 204
    pending = _post_score(
        peer,
        token,
        item["id"],
        gradingProgress="Pending",
        scoreGiven=9,
        timestamp="2024-05-02T10:00:00+00:00",
    )
    assert pending.status_code == 204
    missing_max = _post_score(
        peer, token, item["id"], scoreMaximum=None, timestamp="2024-05-03T10:00:00+00:00"
    )
    assert missing_max.status_code == 400
    bad_progress = _post_score(
        peer, token, item["id"], activityProgress="Done", timestamp="2024-05-04T10:00:00+00:00"
    )
    assert bad_progress.status_code == 400
    wrong_type = requests.post(f"{item['id']}/scores", json={}, headers=_bearer(token), timeout=30)
    assert wrong_type.status_code == 415
    scores = peer.scores()
    assert [s["score"].get("scoreGiven") for s in scores] == [7, 7, None]
    assert scores[0]["line_item"]["label"] == "BC01"
    results = requests.get(f"{item['id']}/results", headers=_bearer(token), timeout=30).json()
    by_user = {r["userId"]: r for r in results}
    assert by_user["learner-2"]["resultScore"] == 7
    assert "resultScore" not in by_user["learner-1"]  # latest is Pending: no grade


# ------------------------------------------------------------------------------ NRPS


def test_nrps_pages_with_link_header(peer: PlatformPeer, tool_keys: ToolKeys) -> None:
    members = [
        {"user_id": f"u{i}", "name": f"User {i}", "email": f"u{i}@example.org", "roles": [LEARNER]}
        for i in range(5)
    ]
    members[0]["roles"] = [INSTRUCTOR]
    peer.set_members("course-1", members, context={"title": "CQP course", "label": "CQP"})
    token = _token(peer, tool_keys, NRPS_SCOPE)
    url: str | None = f"{peer.base_url}/nrps/course-1/memberships?limit=2"
    seen: list[str] = []
    pages = 0
    while url:
        response = requests.get(url, headers=_bearer(token), timeout=30)
        assert response.status_code == 200
        assert response.headers["Content-Type"] == (
            "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
        )
        body = response.json()
        assert body["context"] == {"id": "course-1", "title": "CQP course", "label": "CQP"}
        seen += [m["user_id"] for m in body["members"]]
        match = re.search(r'<([^>]+)>;\s*rel="next"', response.headers.get("Link", ""))
        url = match.group(1) if match else None
        pages += 1
    assert seen == [f"u{i}" for i in range(5)] and pages == 3
    full = requests.get(
        f"{peer.base_url}/nrps/course-1/memberships", headers=_bearer(token), timeout=30
    ).json()
    assert full["members"][0] == {
        "status": "Active",
        "user_id": "u0",
        "roles": [INSTRUCTOR],
        "name": "User 0",
        "email": "u0@example.org",
    }
    learners = requests.get(
        f"{peer.base_url}/nrps/course-1/memberships",
        params={"role": "Learner"},
        headers=_bearer(token),
        timeout=30,
    )
    assert len(learners.json()["members"]) == 4


# ------------------------------------------------------------------------------ deep linking


def _dl_response(tool_keys: ToolKeys, peer: PlatformPeer, data: str | None, **changes: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": CLIENT_ID,
        "aud": peer.issuer,
        "iat": now,
        "exp": now + 300,
        "nonce": uuid.uuid4().hex,
        CLAIM + "deployment_id": DEPLOYMENT_ID,
        CLAIM + "message_type": "LtiDeepLinkingResponse",
        CLAIM + "version": "1.3.0",
        DL + "data": data,
        DL + "content_items": [
            {
                "type": "ltiResourceLink",
                "title": "BC01",
                "url": f"{TOOL}/launch",
                "custom": {"case": "bc01"},
                "lineItem": {"label": "BC01", "scoreMaximum": 20},
            }
        ],
    }
    claims.update(changes)
    return tool_keys.sign({k: v for k, v in claims.items() if v is not None})


def test_deep_link_return(peer: PlatformPeer, tool_keys: ToolKeys) -> None:
    login, _ = _launch(
        peer,
        message_type="LtiDeepLinkingRequest",
        resource_link=None,
        user={"sub": "teacher-1", "roles": [INSTRUCTOR]},
    )
    data = login["deep_linking_data"]
    return_url = peer.deep_link_return_url
    good = _dl_response(tool_keys, peer, data, nonce="dl-nonce-1")
    ok = requests.post(
        return_url, data={"JWT": good}, headers={"Accept": "application/json"}, timeout=30
    )
    assert ok.status_code == 200, ok.text
    assert requests.post(return_url, data={"JWT": good}, timeout=30).status_code == 400
    for bad in (
        {"aud": CLIENT_ID},
        {CLAIM + "deployment_id": "other"},
        {"nonce": None},
        {"exp": None},
        {"iat": int(time.time()) - 7200},
        {DL + "data": "not-echoed"},
        {CLAIM + "message_type": "LtiResourceLinkRequest"},
    ):
        response = requests.post(
            return_url, data={"JWT": _dl_response(tool_keys, peer, data, **bad)}, timeout=30
        )
        assert response.status_code == 400, (bad, response.text)
    links = peer.deep_links()
    assert len(links) == 1 and links[0]["data"] == data
    assert links[0]["content_items"][0]["custom"] == {"case": "bc01"}
    # Moodle-like placement: the link gets an id and its lineItem a line item in the context.
    (placement,) = links[0]["placements"]
    assert placement["context_id"] == "course-1" and placement["custom"] == {"case": "bc01"}
    (item,) = peer.line_items("course-1")
    assert item["id"] == placement["lineitem"] and item["scoreMaximum"] == 20
    assert item["resourceLinkId"] == placement["resource_link_id"]
    _, claims = _launch(
        peer,
        resource_link={"id": placement["resource_link_id"]},
        custom=placement["custom"],
        ags=True,
        lineitem=placement["lineitem"],
    )
    assert claims[AGS + "claim/endpoint"]["lineitem"] == placement["lineitem"]


# ------------------------------------------------------------------------------ registration


def test_dynamic_registration(peer: PlatformPeer, tool_keys: ToolKeys) -> None:
    grant = peer.registration_token()
    assert grant["registration_params"] == {
        "openid_configuration": grant["openid_configuration_url"],
        "registration_token": grant["token"],
    }
    config = requests.get(grant["openid_configuration_url"], timeout=30).json()
    assert config["issuer"] == peer.issuer
    assert config["registration_endpoint"] == f"{peer.base_url}/register"
    platform_conf = config["https://purl.imsglobal.org/spec/lti-platform-configuration"]
    assert platform_conf["product_family_code"]
    registration = {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": "http://127.0.0.1:8/login",
        "redirect_uris": ["http://127.0.0.1:8/launch"],
        "client_name": "ltiservice",
        "jwks_uri": tool_keys.url,
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": NRPS_SCOPE,
        "https://purl.imsglobal.org/spec/lti-tool-configuration": {
            "domain": "127.0.0.1:8",
            "target_link_uri": "http://127.0.0.1:8/launch",
            "messages": [
                {"type": "LtiDeepLinkingRequest", "target_link_uri": "http://127.0.0.1:8/dl"}
            ],
        },
    }
    bad = requests.post(
        config["registration_endpoint"],
        json={**registration, "response_types": ["code"]},
        headers=_bearer(grant["token"]),
        timeout=30,
    )
    assert bad.status_code == 400
    grant = peer.registration_token()
    answer = requests.post(
        config["registration_endpoint"],
        json=registration,
        headers=_bearer(grant["token"]),
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    tool_conf = body["https://purl.imsglobal.org/spec/lti-tool-configuration"]
    assert body["client_id"] and tool_conf["deployment_id"]
    again = requests.post(
        config["registration_endpoint"],
        json=registration,
        headers=_bearer(grant["token"]),
        timeout=30,
    )
    assert again.status_code == 401
    tool = peer.info()["tool"]
    assert tool["client_id"] == body["client_id"]
    assert tool["deep_link_launch_url"] == "http://127.0.0.1:8/dl"
    login = peer.start_launch({"sub": "u", "roles": [LEARNER]}, resource_link={"id": "l"})
    assert login["login_url"] == "http://127.0.0.1:8/login"


# ------------------------------------------------------------------------------ pylti1p3


def test_pylti1p3_services_work_against_the_peer(peer: PlatformPeer, tool_keys: ToolKeys) -> None:
    """The tool's own library talks AGS and NRPS to the peer (paging included)."""
    from cryptography.hazmat.primitives import serialization
    from pylti1p3.assignments_grades import AssignmentsGradesService
    from pylti1p3.grade import Grade
    from pylti1p3.lineitem import LineItem
    from pylti1p3.names_roles import NamesRolesProvisioningService
    from pylti1p3.registration import Registration
    from pylti1p3.service_connector import ServiceConnector

    peer.set_members("Course-A", [{"user_id": f"u{i}", "roles": [LEARNER]} for i in range(5)])
    _, claims = _launch(peer, context={"id": "Course-A"}, ags=True, nrps=True)
    pem = tool_keys.private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    registration = (
        Registration()
        .set_client_id(CLIENT_ID)
        .set_issuer(peer.issuer)
        .set_auth_token_url(peer.auth_token_url)
        .set_tool_private_key(pem)
    )
    connector = ServiceConnector(registration)
    ags = AssignmentsGradesService(connector, claims[AGS + "claim/endpoint"])
    line_item = ags.find_or_create_lineitem(
        LineItem().set_tag("bc01").set_label("BC01").set_score_maximum(20).set_resource_id("r")
    )
    grade = (
        Grade()
        .set_user_id("u1")
        .set_score_given(15)
        .set_score_maximum(20)
        .set_timestamp("2024-05-01T10:00:00+00:00")
        .set_activity_progress("Completed")
        .set_grading_progress("FullyGraded")
    )
    ags.put_grade(grade, line_item)
    assert [r["resultScore"] for r in ags.get_grades(line_item)] == [15]
    nrps_claim = dict(claims["https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"])
    nrps_claim["context_memberships_url"] += "?limit=2"  # force three pages
    nrps = NamesRolesProvisioningService(connector, nrps_claim)
    assert [m["user_id"] for m in nrps.get_members()] == [f"u{i}" for i in range(5)]
    requests_by_path = peer.stats()["requests_by_path"]
    assert requests_by_path["/nrps/course-a/memberships"] == 2  # pylti1p3 lower-cases Link


# ------------------------------------------------------------------------------ faults


def test_fault_injection(peer: PlatformPeer) -> None:
    peer.set_fault("/jwks", status=503, count=2)
    assert requests.get(peer.jwks_url, timeout=30).status_code == 503
    assert requests.get(peer.jwks_url, timeout=30).status_code == 503
    assert requests.get(peer.jwks_url, timeout=30).status_code == 200
    peer.set_fault("/jwks", status="close")
    with pytest.raises(requests.ConnectionError):
        requests.get(peer.jwks_url, timeout=30)
    peer.set_fault("/jwks", status="timeout", seconds=1.5)
    with pytest.raises(requests.Timeout):
        requests.get(peer.jwks_url, timeout=0.5)
    peer.set_fault("/token", status=500, count=5)
    peer.clear_faults()
    assert requests.get(peer.jwks_url, timeout=30).status_code == 200
    assert peer.stats()["requests_by_path"]["/jwks"] >= 5


def test_admin_errors_are_reported(peer: PlatformPeer) -> None:
    with pytest.raises(PeerRequestError) as err:
        peer.start_launch({"roles": [LEARNER]})
    assert err.value.status == 400
