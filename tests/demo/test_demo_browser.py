"""The demo in headless Chromium: the cookie check and the auto-posted id_token run as real
page scripts under the service's CSP, and the demo pages pass axe-core."""

from __future__ import annotations

import re

import pytest
import requests

from tests.conftest import LiveApp
from tests.evaluations.axe import install_axe, serious_violations
from tests.support.chromium import Chromium

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_learner_and_trainer_enter_from_the_demo_home_in_chromium(
    demo_app: LiveApp, chromium: Chromium
) -> None:
    context = chromium.context(third_party_cookies=True)
    install_axe(context)
    page = context.new_page()
    page.goto(demo_app.url + "/demo/")
    assert page.locator(".demo-banner").inner_text().startswith("DÉMONSTRATION")
    assert serious_violations(page) == []

    page.get_by_role("link", name=re.compile("Entrer en tant que Camille Martin")).first.click()
    page.wait_for_url(re.compile(r"/a/\d+\?launch="))
    assert "/demo/" not in page.url

    page.goto(demo_app.url + "/demo/")
    page.get_by_role("link", name=re.compile("Entrer en tant que Thomas Petit")).first.click()
    page.wait_for_url(re.compile(r"/a/\d+/dashboard\?launch="))

    page.goto(demo_app.url + "/demo/gradebook")
    assert page.get_by_role("heading", level=1).inner_text() == "Carnet de notes de démo"
    assert page.locator("tr[data-user='demo-camille']").count() == 1
    assert serious_violations(page) == []


def test_trainer_opens_the_placement_picker_from_the_demo(
    demo_app: LiveApp, chromium: Chromium
) -> None:
    requests.get(demo_app.url + "/demo/", timeout=10)
    context = chromium.context(third_party_cookies=True)
    page = context.new_page()
    page.goto(demo_app.url + "/demo/")
    page.get_by_role("link", name=re.compile("Placer une évaluation")).click()
    page.wait_for_url(re.compile(r"/placement/picker\?launch="))
