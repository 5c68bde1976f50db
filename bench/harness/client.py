"""One simulated browser + platform: runs complete launches into a tool and times them.

Cookies are kept by hand: our tool's cookies are `Secure` (LMS iframes need that) and a
browser sends them to 127.0.0.1 over http, while Python's cookie jar would not.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
from lxml import html

from harness.platform import BenchPlatform
from harness.tools import ToolUnderLoad


class LaunchError(Exception):
    """A launch that did not reach the tool's page; the message says at which step."""


@dataclass
class Outcome:
    ok: bool
    seconds: float
    error: str = ""


class LaunchClient:
    """Launches learners one after the other into `tool` (one per thread)."""

    def __init__(self, platform: BenchPlatform, tool: ToolUnderLoad) -> None:
        self.platform = platform
        self.tool = tool
        self.http = requests.Session()
        self.jar: dict[str, str] = {}

    def _send(self, method: str, url: str, **kwargs: object) -> requests.Response:
        response = self.http.request(
            method, url, cookies=self.jar, allow_redirects=False, timeout=60, **kwargs
        )
        for cookie in response.cookies:
            self.jar[cookie.name] = cookie.value or ""
        self.http.cookies.clear()  # one jar, ours: requests would also keep the non-Secure ones
        return response

    def launch(self, user: str) -> Outcome:
        self.jar = {}
        started = time.perf_counter()
        try:
            self._launch(user)
        except (LaunchError, requests.RequestException) as exc:
            return Outcome(False, time.perf_counter() - started, str(exc)[:200])
        return Outcome(True, time.perf_counter() - started)

    def _launch(self, user: str) -> None:
        tool = self.tool
        target = tool.launch_url
        params = self.platform.login_params(target, user)
        response = self._send("POST", tool.login_url, data=params)
        if tool.flow in ("ours", "example"):
            # Both answer the first login with a cookie-check page, then continue on a
            # second request flagged lti1p3_new_window (ours lists its params in data-params).
            if response.status_code != 200:
                raise LaunchError(f"login: {response.status_code} instead of the cookie check")
            again = self._cookie_check_params(response.text, params)
            response = self._send("GET", tool.login_url, params=again)
        if response.status_code != 302:
            raise LaunchError(f"login: {response.status_code} instead of 302")
        auth = {k: v[0] for k, v in parse_qs(urlsplit(response.headers["Location"]).query).items()}
        if auth.get("redirect_uri") != tool.launch_url or not auth.get("nonce"):
            raise LaunchError("auth request: wrong redirect_uri or no nonce")
        id_token = self.platform.id_token(user, auth["nonce"], target)
        form = {"id_token": id_token, "state": auth["state"]}
        response = self._send("POST", auth["redirect_uri"], data=form)
        if tool.flow == "ours":
            if response.status_code != 303:
                raise LaunchError(f"launch: {response.status_code} instead of 303")
            response = self._send("GET", urljoin(tool.launch_url, response.headers["Location"]))
        if response.status_code != 200 or tool.page_marker not in response.text:
            raise LaunchError(f"page: {response.status_code} {response.text[:120]!r}")

    def _cookie_check_params(self, page: str, params: dict[str, str]) -> dict[str, str]:
        if self.tool.flow == "ours":
            node = html.fromstring(page).get_element_by_id("cookie-check")
            return dict(json.loads(node.get("data-params")))
        return {**params, "lti1p3_new_window": "1"}  # pylti1p3's page builds this in JS
