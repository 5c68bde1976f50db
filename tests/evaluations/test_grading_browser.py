"""The grading page in headless Chromium: axe-core, and grading with the keyboard alone."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from ltiservice import db
from ltiservice.models import Evaluation
from tests.evaluations.axe import install_axe, serious_violations
from tests.evaluations.support import COURSE, criteria, hand_in, link, place
from tests.support.chromium import Chromium
from tests.support.lti_harness import INSTRUCTOR, LtiHarness

pytestmark = pytest.mark.browser


def _tab_to(page: Any, selector: str, limit: int = 400) -> None:
    """Press Tab until the element matching ``selector`` has the focus."""
    for _ in range(limit):
        if page.evaluate(f"document.activeElement.matches({selector!r})"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} never got the focus with Tab")


def _open_as_trainer(lti: LtiHarness, chromium: Chromium, sub: str) -> Any:
    started = lti.start(
        lti.user(sub, INSTRUCTOR, name="Claire Évaluatrice"),
        context=COURSE,
        resource_link=link("B2B"),
        ags=True,
    )
    context = chromium.context(third_party_cookies=True)
    install_axe(context)
    page = context.pages[0]
    page.goto(started["launch_page_url"])
    page.wait_for_url(f"{lti.tool_url}/a/*/dashboard?launch=*")
    return page


def test_grading_page_is_accessible_and_works_with_the_keyboard(
    lti: LtiHarness, chromium: Chromium
) -> None:
    assessment = place(lti, "B2B")
    submission = hand_in(lti, assessment, "learner-1", text="Analyse du dégât des eaux.")
    page = _open_as_trainer(lti, chromium, "trainer-kb")
    assert serious_violations(page) == []

    page.get_by_role("link", name="Évaluer le travail de Apprenant learner-1").click()
    page.wait_for_selector("#grading-form")
    assert serious_violations(page) == []

    _tab_to(page, "#jury_role")
    page.keyboard.press("ArrowDown")
    assert page.eval_on_selector("#jury_role", "el => el.value") == "hierarchy"
    ids = criteria("B2B")
    for cid in ids:
        _tab_to(page, f'input[name="verdict-{cid}"]')
        page.keyboard.press("Space")
    page.keyboard.press("ArrowRight")  # last criterion: from « Acquis » to « Non acquis »
    checked = page.eval_on_selector_all(
        "input[type=radio]:checked", "els => els.map(e => e.name + '=' + e.value)"
    )
    assert checked[:2] == [f"verdict-{ids[0]}=met", f"verdict-{ids[1]}=met"]
    assert checked[-1] == f"verdict-{ids[-1]}=not_met"
    assert len(checked) == len(ids)

    # The live region reports the outcome the server computed by the plugin's rules.
    page.wait_for_function(
        "() => document.getElementById('resultat-bloc').textContent.trim() === "
        "'Bloc B2B non acquis — 5/6 compétences'"
    )
    page.wait_for_function(
        "() => document.getElementById('enregistrement').textContent"
        ".startsWith('Brouillon enregistré')"
    )
    assert page.get_attribute("#resultat", "aria-live") == "polite"

    _tab_to(page, "button[value=sign]")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Évaluation signée")
    assert serious_violations(page) == []
    with lti.live.app.app_context():
        evaluation = db.session().scalar(
            select(Evaluation).where(Evaluation.submission_id == submission)
        )
        assert evaluation is not None
        assert evaluation.status == "signed"
        assert evaluation.jury_role == "hierarchy"
        assert evaluation.verdicts[ids[-1]]["verdict"] == "not_met"
        assert evaluation.verdicts[ids[0]]["verdict"] == "met"

    page.get_by_role("link", name="Décision du jury").click()
    page.wait_for_selector("h1")
    assert "Décision du jury" in page.inner_text("h1")
    assert serious_violations(page) == []
