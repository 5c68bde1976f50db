"""Outbound requests cannot be turned against the service: internal addresses refused after
DNS (loopback only where allowed), no redirects followed, answers capped, an overall deadline,
and nothing of the remote answer shown to people. Real servers on 127.0.0.1 throughout."""

from __future__ import annotations

import html
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from ltiservice import db
from ltiservice.models import LtiStoreEntry, Platform
from ltiservice.net.outbound import (
    AddressRefusedError,
    DeadlineExceededError,
    OutboundPolicy,
    ResponseTooLargeError,
    build_session,
)
from tests.conftest import LiveApp, served
from tests.support.browser import form_of
from tests.support.hostile_server import Answer, HostileServer, hostile_server
from tests.support.registration import open_registration, registration_link

CONFIG_PATH = "/.well-known/openid-configuration"


def platform_configuration(base: str) -> dict[str, Any]:
    return {
        "issuer": base,
        "authorization_endpoint": f"{base}/auth",
        "token_endpoint": f"{base}/token",
        "jwks_uri": f"{base}/jwks",
        "registration_endpoint": f"{base}/register",
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["id_token"],
        "scopes_supported": ["openid"],
        "https://purl.imsglobal.org/spec/lti-platform-configuration": {
            "product_family_code": "moodle"
        },
    }


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    with hostile_server() as server:
        yield server


def live(database_url: str, tmp_path: Any, **settings: Any) -> Iterator[LiveApp]:
    with served(database_url, tmp_path / "instance", **settings) as app:
        yield app


@pytest.fixture
def strict(database_url: str, tmp_path: Any) -> Iterator[LiveApp]:
    """The production rule: loopback refused like every private address."""
    yield from live(database_url, tmp_path, outbound_allow_loopback=False)


@pytest.fixture
def quick(database_url: str, tmp_path: Any) -> Iterator[LiveApp]:
    """Loopback allowed (the peers live there), a short deadline to test it."""
    yield from live(database_url, tmp_path, outbound_deadline_s=2.0, http_timeout_s=1.5)


def stored(app: LiveApp) -> tuple[int, int]:
    with app.app.app_context():
        session = db.session()
        return (
            int(session.scalar(select(func.count()).select_from(Platform)) or 0),
            int(session.scalar(select(func.count()).select_from(LtiStoreEntry)) or 0),
        )


def refused_page(response: requests.Response) -> str:
    assert response.status_code == 502, response.text[:400]
    return html.unescape(response.text)


@pytest.mark.parametrize(
    "where",
    ["loopback", "localhost", "ipv6-loopback", "private", "link-local", "cgnat"],
)
def test_internal_addresses_are_never_called(where, strict, hostile):
    config = hostile.json(CONFIG_PATH, platform_configuration(hostile.url))
    port = hostile.url.rsplit(":", 1)[1]
    url = {
        "loopback": config,
        "localhost": f"http://localhost:{port}{CONFIG_PATH}",
        "ipv6-loopback": f"http://[::1]:{port}{CONFIG_PATH}",
        "private": f"http://10.20.30.40{CONFIG_PATH}",
        "link-local": f"http://169.254.169.254{CONFIG_PATH}",
        "cgnat": f"http://100.64.0.1{CONFIG_PATH}",
    }[where]
    page = refused_page(open_registration(requests, registration_link(strict.app), url))
    assert "n'a pas pu être lue" in page
    assert hostile.hits[CONFIG_PATH] == 0
    assert stored(strict) == (0, 0)


def test_the_platforms_answer_never_reaches_the_page(quick, hostile, caplog):
    leak = b'{"error": "boom", "error_description": "db_password=hunter2 at 10.0.0.5"}'
    config = hostile.answer(CONFIG_PATH, Answer(500, leak))
    with caplog.at_level(logging.INFO, logger="ltiservice"):
        page = refused_page(open_registration(requests, registration_link(quick.app), config))
    assert "db_password" not in page and "hunter2" not in page and "500" not in page
    logged = " ".join(r.getMessage() for r in caplog.records if r.name.startswith("ltiservice"))
    assert "HTTP 500" in logged and "hunter2" not in logged

    # The registration endpoint's refusal, too.
    hostile.json(CONFIG_PATH, platform_configuration(hostile.url))
    hostile.answer("/register", Answer(400, leak, {"Content-Type": "application/json"}))
    page = open_registration(requests, registration_link(quick.app), config)
    action, fields = form_of(page)
    answer = refused_page(requests.post(action, data=fields, timeout=10))
    assert "hunter2" not in answer and "400" not in answer
    assert hostile.hits["/register"] == 1 and stored(quick)[0] == 0


def test_redirects_are_not_followed(quick, hostile):
    hostile.json("/elsewhere", platform_configuration(hostile.url))
    config = hostile.answer(CONFIG_PATH, Answer(302, b"", {"Location": f"{hostile.url}/elsewhere"}))
    refused_page(open_registration(requests, registration_link(quick.app), config))
    assert hostile.hits[CONFIG_PATH] == 1 and hostile.hits["/elsewhere"] == 0


@pytest.mark.parametrize("declared", [True, False])
def test_oversized_answers_are_cut_short(declared, quick, hostile):
    # 150 MB on offer; at most the 256 KB cap is read, and nothing is stored.
    chunk = b" " * (1024 * 1024)
    config = hostile.answer(CONFIG_PATH, Answer(200, chunk, repeat=150, declare_length=declared))
    page = refused_page(open_registration(requests, registration_link(quick.app), config))
    assert "n'a pas pu être lue" in page
    assert hostile.finished[CONFIG_PATH] == 0  # we hung up long before the end
    assert stored(quick) == (0, 0)


def test_a_configuration_too_large_to_keep_is_refused(quick, hostile):
    document = platform_configuration(hostile.url)
    document["padding"] = "x" * (150 * 1024)  # under the fetch cap, over the pending cap
    config = hostile.json(CONFIG_PATH, document)
    page = refused_page(open_registration(requests, registration_link(quick.app), config))
    assert "anormalement volumineuse" in page
    assert stored(quick) == (0, 0)


def test_a_trickling_server_costs_at_most_the_deadline(quick, hostile):
    body = b'{"issuer": "' + b" " * 400 + b'"}'
    config = hostile.answer(CONFIG_PATH, Answer(200, body, trickle_s=0.25))  # 100 s in all
    page = refused_page(open_registration(requests, registration_link(quick.app), config))
    assert "n'a pas pu être lue" in page
    assert hostile.finished[CONFIG_PATH] == 0
    assert stored(quick) == (0, 0)


def test_the_client_itself(hostile):
    """The same rules without the service around them, for the other callers."""
    hostile.json("/ok", {"ok": True})
    hostile.answer("/big", Answer(200, b"x" * 2048))
    hostile.answer("/slow", Answer(200, b"x" * 100, trickle_s=0.2))
    open_session = build_session(OutboundPolicy(True, 1024, 1.0, 0.5))
    assert open_session.get(f"{hostile.url}/ok").json() == {"ok": True}
    assert open_session.get(f"{hostile.url}/ok").json() == {"ok": True}  # pooled connection
    with pytest.raises(ResponseTooLargeError):
        open_session.get(f"{hostile.url}/big")
    with pytest.raises(ResponseTooLargeError):  # a call may lower the cap, never raise it
        open_session.get(f"{hostile.url}/big", max_bytes=4096)
    assert open_session.get(f"{hostile.url}/ok", max_bytes=100).json() == {"ok": True}
    with pytest.raises(DeadlineExceededError):  # 20 s of trickle, cut at the 1 s deadline
        open_session.get(f"{hostile.url}/slow")
    closed_session = build_session(OutboundPolicy(False, 1024, 1.0, 0.5))
    with pytest.raises(AddressRefusedError):
        closed_session.get(f"{hostile.url}/ok")
    assert hostile.hits["/ok"] == 3
