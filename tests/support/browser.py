"""A requests-based browser for LTI flows over plain HTTP on 127.0.0.1.

Our cookies are `Secure; SameSite=None` (LMS iframes need that). Real browsers treat
127.0.0.1 as a secure context and send them over http; Python's cookie jar does not (and
requests copies cookies into a fresh jar per request, dropping any custom policy), so this
client clears the secure flag of loopback cookies as they arrive, which is what a browser
does in effect.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin

import requests
from lxml import html

LOOPBACK = {"127.0.0.1", "localhost", "localhost.local"}


class Browser:
    """Follows an LTI launch the way a browser does: redirects, auto-submitted forms, cookies."""

    def __init__(self) -> None:
        self.http = requests.Session()

    def _loopback_cookies(self) -> None:
        for cookie in self.http.cookies:
            if cookie.domain.lstrip(".") in LOOPBACK:
                cookie.secure = False

    def request(
        self, method: str, url: str, allow_redirects: bool = True, **kwargs: Any
    ) -> requests.Response:
        """One request, then redirects followed here so cookies are fixed at every hop."""
        kwargs.setdefault("timeout", 30)
        response = self.http.request(method, url, allow_redirects=False, **kwargs)
        self._loopback_cookies()
        hops = 0
        while allow_redirects and response.is_redirect and hops < 10:
            hops += 1
            target = urljoin(response.url, response.headers["Location"])
            if response.status_code in (307, 308):
                response = self.http.request(method, target, allow_redirects=False, **kwargs)
            else:
                kwargs.pop("data", None)
                kwargs.pop("files", None)
                response = self.http.request("GET", target, allow_redirects=False, **kwargs)
            self._loopback_cookies()
        return response

    def cookie_attributes(self, response: requests.Response) -> list[str]:
        """Raw Set-Cookie headers of a response (to check Secure / SameSite)."""
        return list(response.raw.headers.getlist("Set-Cookie"))

    def close(self) -> None:
        self.http.close()

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", url, **kwargs)

    def submit_auto_form(self, response: requests.Response) -> requests.Response:
        """Submit the first form of an auto-posting page (the platform's id_token form)."""
        action, fields = form_of(response)
        return self.post(action, data=fields, allow_redirects=True)


def form_of(response: requests.Response, index: int = 0) -> tuple[str, dict[str, str]]:
    tree = html.fromstring(response.text)
    form = tree.forms[index]
    action = urljoin(response.url, form.action or response.url)
    fields = {name: value for name, value in form.form_values()}
    return action, fields


def launch_id_of(url: str) -> str:
    match = re.search(r"launch=([^&]+)", url)
    assert match, f"no launch id in {url}"
    return match.group(1)
