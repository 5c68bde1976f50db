"""The product as its users live it, in headless Chromium through the real LTI platform peer.

A trainer places a block assessment by deep linking; two learners hand in their work; two
evaluators of the jury grade each submission criterion by criterion and sign; the jury signs
the decisions; the outbox worker sends the grades; the platform's gradebook holds the right
values. axe-core runs on every page a person sees.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from ltiservice import db, outbox
from ltiservice.models import Decision, JurySession, LedgerEntry
from ltiservice.passback import deliverers
from tests.assessments.learner_support import pdf_bytes
from tests.evaluations.axe import install_axe, serious_violations
from tests.evaluations.support import criteria
from tests.support.chromium import Chromium
from tests.support.lti_harness import INSTRUCTOR, LEARNER, LtiHarness

pytestmark = [pytest.mark.browser, pytest.mark.peer, pytest.mark.slow]

COURSE = {"id": "cqp-crca-2026", "title": "CQP CRCA — promotion 2026", "label": "CRCA26"}
LEARNERS = {"camille": "Camille Martin", "lucas": "Lucas Bernard"}
ADMINISTRATOR = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"
JURY = [("nadia", "Nadia Haddad", "hierarchy"), ("thomas", "Thomas Petit", "other_service")]


def _open(lti: LtiHarness, chromium: Chromium, started: dict[str, Any], landing: str) -> Any:
    context = chromium.context(third_party_cookies=True)
    install_axe(context)
    page = context.pages[0]
    page.goto(started["launch_page_url"])
    page.wait_for_url(f"{lti.tool_url}{landing}")
    assert serious_violations(page) == [], page.url
    return page


def _place_by_deep_linking(lti: LtiHarness, chromium: Chromium) -> dict[str, Any]:
    started = lti.start(
        lti.user("nadia", INSTRUCTOR, name="Nadia Haddad"),
        context=COURSE,
        message_type="LtiDeepLinkingRequest",
        deep_linking={"accept_types": ["ltiResourceLink"], "data": "e2e-placement"},
    )
    page = _open(lti, chromium, started, "/placement/picker?launch=*")
    page.select_option("#block", "CRCA:B2B")
    page.fill("#title", "Bloc 2B — gestion d'un sinistre")
    page.fill("#deadline", "2030-06-28T18:00")
    page.fill("#score_maximum", "20")
    # The default mapping: a block not acquired is 0, whatever share of it was acquired.
    assert page.is_checked("#grade_mapping-decision")
    page.get_by_role("button", name="Placer l'évaluation").click()
    page.wait_for_selector("#dl-result")  # the platform's answer after the auto-post
    [placement] = lti.peer.deep_links()[-1]["placements"]
    assert placement["lineitem"], "the platform created no gradebook column"
    return placement


def _resource_launch(
    lti: LtiHarness, placement: dict[str, Any], sub: str, name: str, role: str
) -> dict[str, Any]:
    return lti.start(
        lti.user(sub, role, name=name),
        context=COURSE,
        resource_link={"id": placement["resource_link_id"], "title": placement["title"]},
        custom=placement["custom"],
        ags=True,
        nrps=True,
        lineitem=placement["lineitem"],
    )


def _hand_in(lti, chromium, placement, sub: str, name: str, tmp_path) -> None:
    page = _open(
        lti, chromium, _resource_launch(lti, placement, sub, name, LEARNER), "/a/*?launch=*"
    )
    assert "dégât des eaux" in page.inner_text("main").lower()
    page.fill("#text", f"Analyse du dossier par {name} : garanties, franchise, convention IRSI.")
    report = tmp_path / f"rapport-{sub}.pdf"
    report.write_bytes(pdf_bytes(4000))
    page.set_input_files("#files", str(report))
    page.get_by_role("button", name="Joindre les fichiers").click()
    page.wait_for_selector(f"text=rapport-{sub}.pdf")
    page.get_by_role("button", name="Remettre mon travail…").click()
    page.wait_for_selector("text=Confirmer la remise")
    assert serious_violations(page) == []
    page.get_by_role("button", name="Confirmer la remise").click()
    page.wait_for_selector("text=Récépissé de remise")
    assert serious_violations(page) == []


def _grade(
    lti, chromium, placement, evaluator: tuple[str, str, str], verdicts: dict[str, dict[str, str]]
) -> Any:
    sub, name, role = evaluator
    page = _open(
        lti,
        chromium,
        _resource_launch(lti, placement, sub, name, INSTRUCTOR),
        "/a/*/dashboard?launch=*",
    )
    dashboard = page.url
    for learner, by_criterion in verdicts.items():
        page.goto(dashboard)
        page.get_by_role("link", name=f"Évaluer le travail de {LEARNERS[learner]}").click()
        page.wait_for_selector("#grading-form")
        assert serious_violations(page) == []
        page.select_option("#jury_role", role)
        for criterion, verdict in by_criterion.items():
            page.check(f'input[name="verdict-{criterion}"][value="{verdict}"]')
        page.get_by_role("button", name="Signer l'évaluation").click()
        page.wait_for_selector("text=Évaluation signée")
    return page


def test_place_submit_grade_decide_and_the_grade_reaches_the_lms(lti, chromium, tmp_path):
    lti.peer.set_members(
        COURSE["id"],
        [{"user_id": sub, "name": name, "roles": [LEARNER]} for sub, name in LEARNERS.items()],
    )
    placement = _place_by_deep_linking(lti, chromium)
    for sub, name in LEARNERS.items():
        _hand_in(lti, chromium, placement, sub, name, tmp_path)

    ids = criteria("B2B")
    all_met = dict.fromkeys(ids, "met")
    one_missed = {**all_met, ids[-1]: "not_met"}  # the last competency falls
    verdicts = {"camille": all_met, "lucas": one_missed}
    _grade(lti, chromium, placement, JURY[0], verdicts)
    page = _grade(lti, chromium, placement, JURY[1], verdicts)

    dashboard = page.url.split("/submissions/")[0] + "/dashboard?" + page.url.split("?")[1]
    for learner in LEARNERS.values():
        page.goto(dashboard)
        page.get_by_role("link", name=f"Décision du jury pour {learner}").click()
        page.wait_for_selector("#decision-form")
        assert serious_violations(page) == []
        page.get_by_role("button", name="Signer la décision").click()
        page.wait_for_selector("text=Décision signée")

    with lti.live.app.app_context():
        decisions = db.session().scalars(select(Decision)).all()
        assert sorted(d.block_acquired for d in decisions) == [False, True]
        # The committee proposes; only the jury paritaire acquires the block for good.
        assert db.session().scalars(select(LedgerEntry)).all() == []

    app = lti.live.app
    report = outbox.run_once(app.extensions["db_sessionmaker"], deliverers(app))
    assert report.dead == 0
    scores: dict[str, list[dict[str, Any]]] = {}
    for delivered in lti.peer.scores():
        assert delivered["line_item"]["id"] == placement["lineitem"]
        scores.setdefault(delivered["score"]["userId"], []).append(delivered["score"])
    assert sorted(scores) == ["camille", "lucas"]
    for sub, expected in (("camille", 20.0), ("lucas", 0.0)):
        submitted, graded = scores[sub]
        assert (submitted["activityProgress"], submitted["gradingProgress"]) == (
            "Submitted",
            "PendingManual",
        )
        assert "scoreGiven" not in submitted
        assert (graded["activityProgress"], graded["gradingProgress"]) == (
            "Completed",
            "FullyGraded",
        )
        assert graded["scoreGiven"] == pytest.approx(expected, abs=0.01)
        assert graded["scoreMaximum"] == 20
        assert graded["timestamp"] > submitted["timestamp"]
    proposal = (
        "Proposition du comité d'évaluation, en attente de la décision du jury de certification. "
        "Note : acquis = note maximale, non acquis = 0."
    )
    assert scores["camille"][1]["comment"] == f"Bloc B2B acquis — 6/6 compétences. {proposal}"
    assert scores["lucas"][1]["comment"] == f"Bloc B2B non acquis — 5/6 compétences. {proposal}"

    _jury_session(lti, chromium, placement)
    with lti.live.app.app_context():
        ledger = db.session().scalars(select(LedgerEntry)).all()
        assert [(e.block_code, e.body) for e in ledger] == [("B2B", "certification_jury")]
        session = db.session().scalars(select(JurySession)).one()
        assert session.status == "signed" and session.minutes_pdf.startswith(b"%PDF")
    report = outbox.run_once(app.extensions["db_sessionmaker"], deliverers(app))
    assert report.dead == 0
    jury_scores = {s["score"]["userId"]: s["score"] for s in lti.peer.scores()[-2:]}
    assert jury_scores["camille"]["comment"].startswith(
        "Bloc B2B validé par le Jury paritaire national (CPNFPE) (session du 15/12/2026)"
    )
    assert jury_scores["lucas"]["scoreGiven"] == 0.0

    # « Mon parcours » shows what the jury validated.
    page = _open(
        lti,
        chromium,
        _resource_launch(lti, placement, "camille", LEARNERS["camille"], LEARNER),
        "/a/*?launch=*",
    )
    page.goto(page.url.split("?")[0] + "/path?" + page.url.split("?")[1])
    assert "B2B — " in page.inner_text("main")
    assert serious_violations(page) == []


def _jury_session(lti: LtiHarness, chromium: Chromium, placement: dict[str, Any]) -> None:
    """The jury secretary holds a session in the pages: a composition check that refuses a
    missing employers' seat, one validation partielle, one absence de validation, the PV."""
    page = _open(
        lti,
        chromium,
        _resource_launch(lti, placement, "secretaire", "Sam Secrétaire", ADMINISTRATOR),
        "/a/*/dashboard?launch=*",
    )
    page.get_by_role(
        "link", name="Jury de certification : sessions, décisions et procès-verbaux"
    ).click()
    page.wait_for_selector("#nouvelle-titre")
    assert serious_violations(page) == []
    page.select_option("#certification", "CRCA")
    page.fill("#held_on", "2026-12-15")
    page.get_by_role("button", name="Ouvrir la session").click()
    page.wait_for_selector("#composition")
    assert "Apprenant" not in page.inner_text("main")  # real names from the roster
    page.fill("#member-name", "Claire Salariée")
    page.select_option("#member-seat", "employees")
    page.check("#member-president")
    page.get_by_role("button", name="Inscrire").click()
    page.wait_for_selector("text=Claire Salariée")
    for learner in ("Camille Martin", "Lucas Bernard"):
        page.get_by_label(learner, exact=False).check()
        page.get_by_role("button", name="Présenter au jury").click()
        page.wait_for_selector(f"h3:has-text('{learner}')")
    assert serious_violations(page) == []
    camille = page.locator("article.candidate", has_text="Camille Martin")
    camille.get_by_label("Validation partielle par bloc(s)").check()
    camille.get_by_role("button", name="Enregistrer la décision").click()
    page.wait_for_selector("text=Validation partielle par bloc(s) : B2B")
    lucas = page.locator("article.candidate", has_text="Lucas Bernard")
    lucas.get_by_label("Absence de validation").check()
    lucas.get_by_role("button", name="Enregistrer la décision").click()
    page.wait_for_selector(
        "article.candidate:has-text('Lucas Bernard') [data-outcome='absence_de_validation']"
    )

    page.check("#confirm")
    page.get_by_role("button", name="Signer le procès-verbal").click()
    page.wait_for_selector("#erreurs")
    assert "Représentant des organisations d'employeurs" in page.inner_text("#erreurs")
    assert serious_violations(page) == []

    page.locator("summary", has_text="Inscrire un membre").click()
    page.fill("#member-name", "Marc Employeur")
    page.select_option("#member-seat", "employers")
    page.get_by_role("button", name="Inscrire").click()
    page.wait_for_selector("text=Composition conforme")
    page.check("#confirm")
    page.get_by_role("button", name="Signer le procès-verbal").click()
    page.wait_for_selector("text=Procès-verbal signé")
    assert serious_violations(page) == []
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger le procès-verbal signé (PDF)").click()
    assert download.value.suggested_filename == "pv-jury-CRCA-2026-12-15.pdf"
