"""The app with the demo enabled, served on real HTTP, and a browser that enters as the cast."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Blueprint, Flask
from lxml import html

from tests.conftest import LiveApp, _wipe, make_app
from tests.support.browser import Browser
from tests.support.live_server import free_port, serve

# Pages other engineers are writing; when their blueprint is not wired yet, a stub with the
# same endpoint names lets the launch redirect to the URL the routing chose.
_WORKFLOW = {
    "assessments": ("ltiservice.assessments.views", ["/a/<int:assessment_id>", "case_page"]),
    "evaluations": (
        "ltiservice.evaluations.views",
        ["/a/<int:assessment_id>/dashboard", "dashboard"],
    ),
}


def _wire_workflow(app: Flask) -> None:
    for name, (module, (rule, endpoint)) in _WORKFLOW.items():
        if name in app.blueprints:
            continue
        try:
            bp = __import__(module, fromlist=["bp"]).bp
        except Exception:  # their work in progress must not break ours
            bp = Blueprint(name, __name__)
            bp.add_url_rule(rule, endpoint, lambda **_: "stub")
        app.register_blueprint(bp)


@pytest.fixture
def demo_app(database_url: str, tmp_path: Path) -> Iterator[LiveApp]:
    """The app served on 127.0.0.1 with `demo_enabled`."""
    port = free_port()
    application = make_app(
        database_url,
        tmp_path / "instance",
        base_url=f"http://127.0.0.1:{port}",
        demo_enabled=True,
    )
    if "demo" not in application.blueprints:  # until app.py calls ltiservice.demo.init_app
        from ltiservice import demo

        demo.init_app(application)
    _wire_workflow(application)
    with serve(application, port) as url:
        yield LiveApp(application, url)
    application.extensions["db_engine"].dispose()
    _wipe(database_url)


def follow_login(browser: Browser, response: requests.Response) -> requests.Response:
    """From the tool's login answer to the tool's page: cookie check, the demo platform's
    auth endpoint, then the auto-posted id_token."""
    if response.status_code == 200 and "cookie-check" in response.text:
        node = html.fromstring(response.text).get_element_by_id("cookie-check")
        params = json.loads(node.get("data-params"))
        response = browser.get(response.url.split("?")[0], params=params)
    assert response.status_code == 200, response.text[:800]
    assert "/demo/auth" in response.url, response.url
    return browser.submit_auto_form(response)


def enter(browser: Browser, url: str, **params: Any) -> requests.Response:
    """Click a demo home button (enter / place) and run the whole LTI launch."""
    path = "/demo/place" if params.pop("place", False) else "/demo/enter"
    return follow_login(browser, browser.get(url + path, params=params))
