"""Drives complete LTI 1.3 launches from the real platform peer into the live app."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from lxml import html

from ltiservice import db
from ltiservice.platforms import PlatformSpec, add_platform
from tests.peers.platform import PlatformPeer
from tests.support.browser import Browser

LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
CLIENT_ID = "ltiservice-test-client"
DEPLOYMENT_ID = "deployment-1"


@dataclass
class LtiHarness:
    """The live app registered on the peer platform, and the other way round."""

    peer: PlatformPeer
    live: Any
    platform_id: int = 0
    browsers: list[Browser] = field(default_factory=list)

    @property
    def tool_url(self) -> str:
        return self.live.url

    def register_platform(self, organisation: str, client_id: str, name: str) -> int:
        """Another registration of the peer (another client id) in `organisation`."""
        with self.live.app.app_context():
            platform = add_platform(
                db.session(), _peer_spec(self.peer, organisation, client_id, name)
            )
            db.session().commit()
            return platform.id

    def use_client(self, client_id: str) -> None:
        """Point the peer's one tool registration at `client_id`."""
        url = self.tool_url
        self.peer.configure_tool(
            client_id=client_id,
            deployment_id=DEPLOYMENT_ID,
            login_url=f"{url}/lti/login",
            launch_url=f"{url}/lti/launch",
            jwks_url=f"{url}/lti/jwks",
        )

    def browser(self) -> Browser:
        browser = Browser()
        self.browsers.append(browser)
        return browser

    def user(self, sub: str, *roles: str, name: str | None = None) -> dict[str, Any]:
        user: dict[str, Any] = {"sub": sub, "roles": list(roles) or [LEARNER]}
        if name:
            user["name"] = name
        return user

    def start(self, user: dict[str, Any], **launch: Any) -> dict[str, Any]:
        launch.setdefault("context", {"id": "course-1", "title": "CQP CRCA 2026", "label": "CRCA"})
        launch.setdefault("resource_link", {"id": "link-1", "title": "Étude de cas"})
        launch.setdefault("target_link_uri", f"{self.tool_url}/lti/launch")
        return self.peer.start_launch(user, **launch)

    def login(self, browser: Browser, started: dict[str, Any]) -> requests.Response:
        """The tool's OIDC login as a browser runs it, cookie check page included."""
        response = browser.post(
            started["login_url"], data=started["login_params"], allow_redirects=False
        )
        if response.status_code == 200 and "cookie-check" in response.text:
            params = json.loads(
                html.fromstring(response.text).get_element_by_id("cookie-check").get("data-params")
            )
            response = browser.get(started["login_url"], params=params, allow_redirects=False)
        return response

    def launch(
        self, user: dict[str, Any], browser: Browser | None = None, **launch: Any
    ) -> requests.Response:
        """Full flow: login initiation → platform auth → id_token form post → tool page."""
        browser = browser or self.browser()
        started = self.start(user, **launch)
        to_platform = self.login(browser, started)
        assert to_platform.status_code == 302, to_platform.text[:500]
        auth_page = browser.get(to_platform.headers["Location"])
        assert auth_page.status_code == 200, auth_page.text[:500]
        return browser.submit_auto_form(auth_page)

    def id_token_for(
        self, user: dict[str, Any], browser: Browser | None = None, **launch: Any
    ) -> tuple[Browser, dict[str, str], dict[str, Any]]:
        """Stop before the form post: (browser, {action, id_token, state}, started)."""
        browser = browser or self.browser()
        started = self.start(user, **launch)
        to_platform = self.login(browser, started)
        assert to_platform.status_code == 302, to_platform.text[:500]
        location = to_platform.headers["Location"]
        answer = browser.get(location, headers={"Accept": "application/json"}).json()
        return browser, answer, started


def _peer_spec(peer: PlatformPeer, organisation: str, client_id: str, name: str) -> PlatformSpec:
    return PlatformSpec(
        organisation=organisation,
        name=name,
        issuer=peer.issuer,
        client_id=client_id,
        auth_login_url=peer.auth_login_url,
        auth_token_url=peer.auth_token_url,
        key_set_url=peer.key_set_url,
        deployment_ids=(DEPLOYMENT_ID,),
    )


@pytest.fixture
def lti(platform_peer: PlatformPeer, live_app: Any) -> Iterator[LtiHarness]:
    """The live app and the peer platform registered with each other."""
    platform_peer.reset()
    harness = LtiHarness(platform_peer, live_app)
    harness.use_client(CLIENT_ID)
    harness.platform_id = harness.register_platform("of-test", CLIENT_ID, "Open edX (peer)")
    yield harness
    for browser in harness.browsers:
        browser.close()
