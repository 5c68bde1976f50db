"""The learner page in headless Chromium: axe-core on each page, and a keyboard-only remise."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from ltiservice import db
from ltiservice.models import Submission
from tests.assessments.learner_support import COURSE, LINK, pdf_bytes, place, sha256
from tests.evaluations.axe import axe_script
from tests.support.chromium import Chromium
from tests.support.lti_harness import LtiHarness

pytestmark = [pytest.mark.browser, pytest.mark.peer]


def serious_violations(page: Any) -> list[str]:
    """axe-core's serious and critical violations. The source is evaluated through the
    DevTools protocol: our CSP (rightly) refuses an injected inline script tag."""
    page.evaluate(axe_script().read_text(encoding="utf-8"))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} - "
        + "; ".join(node["target"][0] for node in v["nodes"][:5])
        for v in result["violations"]
        if v["impact"] in {"serious", "critical"}
    ]


def _tab_to(page: Any, selector: str, limit: int = 300) -> None:
    """Press Tab until the element matching ``selector`` has the focus."""
    for _ in range(limit):
        if page.evaluate(f"document.activeElement.matches({selector!r})"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} never got the focus with Tab")


def _submission(lti: LtiHarness) -> Submission:
    with lti.live.app.app_context():
        row = db.session().scalar(select(Submission))
        assert row is not None
        row.files  # noqa: B018 - load while the session is open
        return row


def test_learner_page_is_accessible_and_a_remise_works_with_the_keyboard(
    lti: LtiHarness, chromium: Chromium, tmp_path: Any
) -> None:
    assessment_id = place(lti)
    started = lti.start(
        lti.user("learner-kb", name="Léa Apprenante"), context=COURSE, resource_link=LINK, ags=True
    )
    page = chromium.context(third_party_cookies=True).pages[0]
    page.goto(started["launch_page_url"])
    page.wait_for_url(f"{lti.tool_url}/a/{assessment_id}?launch=*")
    assert serious_violations(page) == []

    # Typing is saved by the script, and the status line says so.
    _tab_to(page, "#text")
    page.keyboard.type("Analyse du dégât des eaux chez M. Martin.")
    page.wait_for_selector("#autosave-status:has-text('Brouillon enregistré à')")
    assert _submission(lti).text == "Analyse du dégât des eaux chez M. Martin."

    # The file input opens the system chooser from the keyboard.
    document = tmp_path / "constat amiable.pdf"
    data = pdf_bytes(4096)
    document.write_bytes(data)
    _tab_to(page, "#files")
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    chooser.value.set_files(str(document))
    _tab_to(page, "button[formaction$='/files']")
    page.keyboard.press("Enter")
    page.wait_for_selector(".flash-success")
    assert "« constat amiable.pdf »" in page.inner_text(".flash")
    assert serious_violations(page) == []

    _tab_to(page, "button[value='confirm']")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{lti.tool_url}/a/{assessment_id}/submit?launch=*")
    assert serious_violations(page) == []
    _tab_to(page, "form.actions button[type='submit']")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{lti.tool_url}/a/{assessment_id}/receipt/*")
    assert serious_violations(page) == []
    receipt = page.inner_text("table.receipt-files")
    assert "constat amiable.pdf" in receipt and sha256(data) in receipt and "4096" in receipt

    submission = _submission(lti)
    assert submission.status == "submitted"
    assert [(f.filename, f.size) for f in submission.files] == [("constat amiable.pdf", 4096)]

    for tail in ("/results", "/path"):
        page.goto(f"{lti.tool_url}/a/{assessment_id}{tail}?launch={page.url.split('launch=')[1]}")
        assert serious_violations(page) == [], tail


def test_the_receipt_prints_without_its_buttons_and_explains_the_fingerprint(
    lti: LtiHarness, chromium: Chromium
) -> None:
    assessment_id = place(lti)
    started = lti.start(
        lti.user("learner-print", name="Léa Apprenante"),
        context=COURSE,
        resource_link=LINK,
        ags=True,
    )
    page = chromium.context(third_party_cookies=True).pages[0]
    page.goto(started["launch_page_url"])
    page.wait_for_url(f"{lti.tool_url}/a/{assessment_id}?launch=*")
    page.fill("#text", "Analyse du dégât des eaux.")
    page.click("button[value='confirm']")
    page.wait_for_url(f"{lti.tool_url}/a/{assessment_id}/submit?launch=*")
    page.click("form.actions button[type='submit']")
    page.wait_for_url(f"{lti.tool_url}/a/{assessment_id}/receipt/*")

    assert page.is_visible("#imprimer")  # the script revealed the print button
    assert page.is_visible("text=Revenir à l'évaluation")
    page.emulate_media(media="print")
    assert not page.is_visible("#imprimer")
    assert not page.is_visible("text=Revenir à l'évaluation")
    assert page.is_visible("h1:has-text('Récépissé de remise')")
    assert "SHA-256" not in page.inner_text("main")
