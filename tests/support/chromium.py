"""Headless Chromium (Debian's `/usr/bin/chromium`, driven by playwright) and a framing site.

No `playwright install`: the browser is the distribution's (`apt-get install chromium`). In CI
(`CI=true`) a missing browser FAILS the tests; elsewhere they are skipped with the reason.

Third-party cookies: Chromium's default profile blocks them in this build (measured with
Chromium 156: an iframe on another site can only set `Partitioned` cookies). Neither a
command-line flag nor the DevTools protocol turns that off per context; the profile
preference `profile.cookie_controls_mode` does (0 = allow, 1 = block third-party cookies), so
each context is a persistent profile whose `Preferences` file says which one a test wants.

The framing site plays the LMS page: a stdlib HTTP server on `localhost:<port>` (another site
than the tool on `127.0.0.1`) serving pages that embed a URL in an iframe; tests may add their
own pages (e.g. a platform frame answering LTI postMessages).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class Chromium:
    """A playwright driver for the system Chromium; one profile per context."""

    playwright: Any
    root: Path
    contexts: list[Any] = field(default_factory=list)

    def context(self, *, third_party_cookies: bool) -> Any:
        """A fresh persistent profile that allows or blocks third-party cookies."""
        profile = Path(tempfile.mkdtemp(prefix="profile-", dir=self.root))
        (profile / "Default").mkdir()
        prefs = {"profile": {"cookie_controls_mode": 0 if third_party_cookies else 1}}
        (profile / "Default" / "Preferences").write_text(json.dumps(prefs))
        context = self.playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            headless=True,
        )
        context.set_default_timeout(15_000)
        self.contexts.append(context)
        return context

    def close(self) -> None:
        for context in self.contexts:
            context.close()
        self.contexts.clear()


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is missing: apt-get install -y chromium"
    if os.environ.get("CI") == "true":
        pytest.fail(reason + " (CI must run the browser tests)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium_driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """playwright, started once per session on the system Chromium."""
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture
def chromium(chromium_driver: Any) -> Iterator[Chromium]:
    """Contexts for one test, closed (with their profiles) after it."""
    root = Path(tempfile.mkdtemp(prefix="chromium-"))
    browser = Chromium(chromium_driver, root)
    yield browser
    browser.close()
    shutil.rmtree(root, ignore_errors=True)


# -- the framing site --------------------------------------------------------------------

Page = Callable[[dict[str, str]], str]


class FramingSite:
    """Pages on `http://localhost:<port>`: `/embed?src=URL` frames URL; add others by path."""

    def __init__(self) -> None:
        self.pages: dict[str, Page] = {"/embed": _embed_page}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://localhost:{self._server.server_address[1]}"
        self.origin = self.url
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                page = site.pages.get(parts.path)
                if page is None:
                    self.send_error(404)
                    return
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                body = page(query).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return

        return Handler

    def start(self) -> FramingSite:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _embed_page(query: dict[str, str]) -> str:
    from html import escape

    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Cours (LMS)</title></head>"
        "<body><h1>Page de cours de la plateforme</h1>"
        f"<iframe name='activity' src='{escape(query.get('src', ''))}' "
        "width='900' height='700'></iframe></body></html>"
    )


@pytest.fixture
def framing_site() -> Iterator[FramingSite]:
    """An LMS-like page on another site than the tool (localhost vs 127.0.0.1)."""
    site = FramingSite().start()
    yield site
    site.stop()
