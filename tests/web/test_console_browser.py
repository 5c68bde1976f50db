"""The organisation console in headless Chromium: every page passes axe-core, tasks work."""

from __future__ import annotations

from typing import Any

import pytest

from tests.evaluations.axe import install_axe
from tests.security.world import place
from tests.support.chromium import Chromium
from tests.support.lti_harness import LtiHarness
from tests.web.support import ADMINISTRATOR, fake_lrs

pytestmark = pytest.mark.browser

PAGES = {
    "Accueil": "Console de l'organisme",
    "Liens d'enregistrement": "Liens d'enregistrement",
    "Plateformes": "Plateformes et déploiements",
    "Destinations LRS": "Destinations LRS",
    "Envois": "Envois vers le LMS et les LRS",
    "Exports": "Exports",
}


def _violations(page: Any) -> list[str]:
    """Every axe-core violation (not only the serious ones), one line each."""
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(node["target"][0] for node in v["nodes"][:5])
        for v in result["violations"]
    ]


def _open_console(lti: LtiHarness, chromium: Chromium) -> Any:
    place(lti, lti.platform_id, "course-1", "link-1", "Étude de cas B2B")
    started = lti.start(lti.user("admin-1", ADMINISTRATOR, name="Aline Administratrice"))
    context = chromium.context(third_party_cookies=True)
    install_axe(context)
    page = context.pages[0]
    page.goto(started["launch_page_url"])
    page.wait_for_load_state()
    launch = page.url.split("launch=")[1].split("&")[0]
    page.goto(f"{lti.tool_url}/admin/?launch={launch}")
    return page


def test_every_console_page_is_accessible_and_reached_from_the_menu(
    lti: LtiHarness, chromium: Chromium
) -> None:
    page = _open_console(lti, chromium)
    for label, heading in PAGES.items():
        page.get_by_role("navigation", name="Console de l'organisme").get_by_role(
            "link", name=label, exact=True
        ).click()
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == heading
        assert _violations(page) == [], label


def test_a_link_is_created_and_an_lrs_added_and_tested_from_the_browser(
    lti: LtiHarness, chromium: Chromium
) -> None:
    page = _open_console(lti, chromium)
    page.get_by_role("link", name="Liens d'enregistrement", exact=True).first.click()
    page.get_by_label("Pour qui").fill("Moodle de Lyon")
    page.get_by_role("button", name="Créer le lien").click()
    page.wait_for_selector("#url-lien")
    assert "/lti/register/" in page.input_value("#url-lien")
    assert _violations(page) == []

    page.get_by_role("link", name="Destinations LRS", exact=True).first.click()
    with fake_lrs() as endpoint:
        page.get_by_label("Nom", exact=True).fill("LRS de l'OF")
        page.get_by_label("Adresse xAPI").fill(endpoint)
        page.get_by_label("Identifiant", exact=True).fill("lrs-user")
        page.get_by_label("Mot de passe").fill("s3cret-lrs-password")
        page.get_by_role("button", name="Ajouter la destination").click()
        page.wait_for_selector("text=Destination « LRS de l'OF » ajoutée")
        page.get_by_role("button", name="Tester LRS de l'OF").click()
        page.wait_for_selector("#resultat-test")
    assert "Connexion réussie" in page.inner_text("#resultat-test")
    assert "s3cret-lrs-password" not in page.content()
    assert _violations(page) == []
    page.get_by_role("button", name="Mettre en pause LRS de l'OF").click()
    page.wait_for_selector("text=mise en pause")
    assert _violations(page) == []
