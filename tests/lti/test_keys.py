"""Tool keys: the `ltiservice keys` commands, the published JWKS, and a platform that follows.

The CLI runs through Flask's runner on the real `ltiservice` command group; the JWKS is read
over the app's HTTP interface; the platform side is the Open edX peer verifying client
assertions against our `/lti/jwks`.
"""

from __future__ import annotations

import stat
import time
import uuid
from pathlib import Path

import jwt
import pytest
import requests
from flask import Flask

from ltiservice.cli import main
from ltiservice.lti.keys import KeyRing
from tests.support.lti_harness import CLIENT_ID

PUBLIC_MEMBERS = {"kty", "alg", "use", "kid", "n", "e"}
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"


def _cli(app: Flask, *args: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(main, list(args))
    return result.exit_code, result.output


def _kids(app: Flask) -> list[str]:
    response = app.test_client().get("/lti/jwks")
    assert response.status_code == 200
    keys = response.get_json()["keys"]
    for key in keys:
        assert set(key) == PUBLIC_MEMBERS, f"JWKS must hold public members only: {sorted(key)}"
        assert not set(key) & PRIVATE_MEMBERS
    return [key["kid"] for key in keys]


def _states(app: Flask) -> dict[str, str]:
    code, output = _cli(app, "keys", "list")
    assert code == 0, output
    return {line.split("\t")[0]: line.split("\t")[1] for line in output.splitlines() if line}


@pytest.fixture
def empty_keys(app: Flask, tmp_path: Path) -> Flask:
    """The app with a key folder that holds nothing yet."""
    app.extensions["lti_keyring"] = KeyRing(tmp_path / "keys-vides")
    return app


def test_generate_creates_one_current_key_and_refuses_a_second(empty_keys):
    code, output = _cli(empty_keys, "keys", "list")
    assert code == 0 and "Aucune clé" in output
    code, output = _cli(empty_keys, "keys", "generate")
    assert code == 0 and "Clé créée" in output, output
    states = _states(empty_keys)
    assert list(states.values()) == ["current"]
    assert _kids(empty_keys) == list(states)

    code, output = _cli(empty_keys, "keys", "generate")
    assert code == 1
    assert "keys rotate" in output
    assert list(_states(empty_keys).values()) == ["current"]


def test_rotate_publishes_current_and_previous_and_retire_drops_previous(app):
    first = app.extensions["lti_keyring"].current().kid
    code, output = _cli(app, "keys", "rotate")
    assert code == 0 and "Nouvelle clé courante" in output, output
    second = app.extensions["lti_keyring"].current().kid
    assert second != first
    assert _states(app) == {first: "previous", second: "current"}
    assert sorted(_kids(app)) == sorted([first, second])

    code, output = _cli(app, "keys", "retire")
    assert code == 0 and first in output, output
    assert _states(app) == {first: "retired", second: "current"}
    assert _kids(app) == [second]

    code, output = _cli(app, "keys", "retire")
    assert code == 0 and "aucune" in output


def test_a_second_rotation_retires_the_oldest(app):
    first = app.extensions["lti_keyring"].current().kid
    _cli(app, "keys", "rotate")
    second = app.extensions["lti_keyring"].current().kid
    _cli(app, "keys", "rotate")
    third = app.extensions["lti_keyring"].current().kid
    assert _states(app) == {first: "retired", second: "previous", third: "current"}
    assert sorted(_kids(app)) == sorted([second, third])


def test_private_key_files_are_owner_only_and_never_listed(app):
    _cli(app, "keys", "rotate")
    ring: KeyRing = app.extensions["lti_keyring"]
    pems = sorted(ring.folder.glob("*.pem"))
    assert len(pems) == 2
    for pem in pems:
        assert stat.S_IMODE(pem.stat().st_mode) == 0o600, pem
        assert pem.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert stat.S_IMODE(ring.folder.stat().st_mode) & 0o077 == 0, "key folder: owner only"
    code, output = _cli(app, "keys", "list")
    assert code == 0 and "PRIVATE" not in output and "BEGIN" not in output


def test_jwks_response_is_cacheable_and_public(app):
    response = app.test_client().get("/lti/jwks")
    assert response.headers["Content-Type"].startswith("application/json")
    assert "public" in response.headers["Cache-Control"]
    assert "PRIVATE" not in response.get_data(as_text=True)


# -- the platform side ---------------------------------------------------------------------


def _assertion(lti, key_pem: bytes, kid: str) -> str:
    now = int(time.time())
    claims = {
        "iss": CLIENT_ID,
        "sub": CLIENT_ID,
        "aud": lti.peer.auth_token_url,
        "iat": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, key_pem, algorithm="RS256", headers={"kid": kid})


def _token(lti, assertion: str) -> requests.Response:
    return requests.post(
        lti.peer.auth_token_url,
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": JWT_BEARER,
            "client_assertion": assertion,
            "scope": SCORE_SCOPE,
        },
        timeout=30,
    )


@pytest.mark.peer
def test_platform_verifies_our_assertions_across_a_rotation(lti):
    app = lti.live.app
    ring: KeyRing = app.extensions["lti_keyring"]
    old = ring.current()
    answer = _token(lti, _assertion(lti, old.private_pem, old.kid))
    assert answer.status_code == 200, answer.text
    assert answer.json()["access_token"]

    code, output = _cli(app, "keys", "rotate")
    assert code == 0, output
    new = ring.current()
    assert new.kid != old.kid
    # The platform fetches our JWKS and finds the new key...
    answer = _token(lti, _assertion(lti, new.private_pem, new.kid))
    assert answer.status_code == 200, answer.text
    assert answer.json()["scope"] == SCORE_SCOPE
    # ...while a platform that cached the old one keeps working until we retire it.
    assert _token(lti, _assertion(lti, old.private_pem, old.kid)).status_code == 200

    code, output = _cli(app, "keys", "retire")
    assert code == 0, output
    refused = _token(lti, _assertion(lti, old.private_pem, old.kid))
    assert refused.status_code == 401, refused.text
    assert _token(lti, _assertion(lti, new.private_pem, new.kid)).status_code == 200


@pytest.mark.peer
def test_platform_refuses_an_assertion_signed_by_a_key_we_do_not_publish(lti, tmp_path):
    stranger = KeyRing(tmp_path / "etranger").ensure()
    refused = _token(lti, _assertion(lti, stranger.private_pem, stranger.kid))
    assert refused.status_code == 401, refused.text
    assert lti.peer.stats()["tokens_issued"] == 0
