"""Mutualité in Chromium through the real Open edX peer: the evaluation jury acquires each block
at 100 %, then the jury de délivrance holds the final interview and delivers the certification.

The four committee decisions are signed through the real pages over HTTP (as in
tests/certification); the jury de délivrance's session is held in the browser, with axe-core
on every page.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from ltiservice import db
from ltiservice.models import CertificationAward, JurySession, LedgerEntry
from tests.certification.test_jury_chain import ADMINISTRATOR, MUTUALITE, MUTUALITE_ROLES, _propose
from tests.evaluations.axe import install_axe, serious_violations
from tests.evaluations.support import COURSE, link
from tests.support.chromium import Chromium
from tests.support.lti_harness import LtiHarness

pytestmark = [pytest.mark.browser, pytest.mark.peer, pytest.mark.slow]


def test_the_jury_de_delivrance_records_the_interview_and_delivers(
    lti: LtiHarness, chromium: Chromium
) -> None:
    """Fiche RNCP39866: « Le jury de délivrance effectue un entretien final pour valider et
    délivrer la certification. »"""
    for block in ("BC01", "BC02", "BC03", "BC04"):
        _propose(lti, block, "learner-m", roles=MUTUALITE_ROLES, **MUTUALITE)
    with lti.live.app.app_context():
        held = db.session().scalars(select(LedgerEntry.body)).all()
    assert held == ["evaluation_committee"] * 4  # the evaluation jury's power (100 %)

    started = lti.start(
        lti.user("secretaire-m", ADMINISTRATOR, name="Sacha Secrétaire"),
        context=COURSE,
        resource_link=link("BC01"),
        ags=True,
    )
    context = chromium.context(third_party_cookies=True)
    install_axe(context)
    page = context.pages[0]
    page.goto(started["launch_page_url"])
    page.wait_for_url(re.compile(r".*[?&]launch=.*"))
    launch = re.search(r"launch=([^&#]+)", page.url)
    assert launch is not None
    page.goto(f"{lti.tool_url}/jury/?launch={launch.group(1)}")
    page.select_option("#certification", "MUTUALITE")
    page.get_by_role("button", name="Ouvrir la session").click()
    page.wait_for_selector("#composition")
    assert "Jury de délivrance (CPNEFP de la Mutualité)" in page.inner_text("h1")
    for name, seat in (("Régine Employeur", "employers"), ("Samir Syndicat", "employees")):
        page.fill("#member-name", name)
        page.select_option("#member-seat", seat)
        page.uncheck("#member-president")
        page.get_by_role("button", name="Inscrire").click()
        page.wait_for_selector(f"td:has-text('{name}')")
        page.locator("summary", has_text="Inscrire un membre").click()
    page.fill("#member-name", "Secrétariat CPNEFP")
    page.check("#kind-observer")
    page.select_option("#member-seat", "secretariat")
    page.get_by_role("button", name="Inscrire").click()
    page.wait_for_selector("text=Composition conforme")
    assert serious_violations(page) == []
    _reflows(page)

    page.get_by_label("Apprenant learner-m", exact=False).check()
    page.get_by_role("button", name="Présenter au jury").click()
    page.wait_for_selector("h3:has-text('Apprenant learner-m')")
    candidate = page.locator("article.candidate", has_text="Apprenant learner-m")
    # The jury de délivrance validates no block outside VAE: no block to tick.
    assert candidate.locator("input[name='block']").count() == 0
    candidate.get_by_label("Validation totale").check()
    candidate.get_by_role("button", name="Enregistrer la décision").click()
    page.wait_for_selector("#erreurs")
    assert "Indiquez le résultat de l'entretien final avec le candidat." in page.inner_text(
        "#erreurs"
    )
    candidate = page.locator("article.candidate", has_text="Apprenant learner-m")
    candidate.get_by_label("Validation totale").check()
    candidate.get_by_label("Réussi", exact=True).check()
    candidate.get_by_role("button", name="Enregistrer la décision").click()
    page.wait_for_selector("[data-outcome='validation_totale']")
    assert serious_violations(page) == []
    page.check("#confirm")
    page.get_by_role("button", name="Signer le procès-verbal").click()
    page.wait_for_selector("text=Procès-verbal signé")
    assert "1 certification(s) attribuée(s)" in page.inner_text("main")
    assert serious_violations(page) == []
    _reflows(page)

    with lti.live.app.app_context():
        session = db.session().scalars(select(JurySession)).one()
        (award,) = db.session().scalars(select(CertificationAward)).all()
        assert award.jury_decision_id == session.decisions[0].id
        assert session.decisions[0].final_interview_passed is True
        assert len(db.session().scalars(select(LedgerEntry)).all()) == 4


def _reflows(page: object) -> None:
    """WCAG 1.4.10: no horizontal scrolling in a 688 px LMS frame nor at 320 px."""
    for width in (688, 320):
        page.set_viewport_size({"width": width, "height": 900})  # type: ignore[attr-defined]
        scroll = page.evaluate("document.documentElement.scrollWidth")  # type: ignore[attr-defined]
        wide = page.evaluate(  # type: ignore[attr-defined]
            "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right"
            " > document.documentElement.clientWidth).map(e => e.tagName + '#' + e.id + '.' +"
            " e.className).slice(0, 5)"
        )
        assert scroll <= width, (width, scroll, wide)
    page.set_viewport_size({"width": 1000, "height": 900})  # type: ignore[attr-defined]
