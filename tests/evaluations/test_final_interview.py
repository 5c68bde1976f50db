"""Mutualité: BC01 to BC04 acquired AND the final interview recorded by the jury make the award."""

from __future__ import annotations

from lxml import html
from sqlalchemy import select

from ltiservice import db
from ltiservice.models import CertificationAward, Decision
from tests.evaluations.support import (
    criteria,
    errors_of,
    hand_in,
    launch,
    paths,
    place,
    text_of,
    verdict_form,
)
from tests.support.lti_harness import LtiHarness

MUTUALITE = {"certification": "MUTUALITE", "version": "RNCP39866"}


def _decide_block(lti: LtiHarness, block: str, **fields: str) -> str:
    assessment = place(lti, block, **MUTUALITE)
    url = paths(assessment, hand_in(lti, assessment, "learner-m"))
    ids = criteria(block, "RNCP39866", "MUTUALITE")
    for sub, role in ((f"expert-{block}", "expert"), (f"pro-{block}", "professional")):
        evaluator = launch(lti, sub, block)
        evaluator.page = evaluator.get(url["grade"])
        signed = evaluator.post(url["sign"], verdict_form(ids, "met", role=role))
        assert "Évaluation signée" in text_of(signed), errors_of(signed)
    evaluator.page = evaluator.get(url["decision"])
    assert html.fromstring(evaluator.page.text).xpath("//input[@id='final_interview_passed']")
    page = evaluator.post(url["decision"], {"expected_decision": "", **fields})
    assert page.status_code == 200, errors_of(page)
    return text_of(page)


def test_the_award_waits_for_the_final_interview(lti: LtiHarness) -> None:
    for block in ("BC01", "BC02", "BC03"):
        _decide_block(lti, block)
    last = _decide_block(lti, "BC04")  # every block acquired, interview not recorded

    assert "Entretien final avec le jury à réussir." in last
    with lti.live.app.app_context():
        assert db.session().scalars(select(CertificationAward)).all() == []
        facts = db.session().scalars(select(Decision.facts).order_by(Decision.id)).all()
    assert facts == [{"final_interview_passed": False}] * 4


def test_the_interview_recorded_with_the_last_block_grants_the_certification(
    lti: LtiHarness,
) -> None:
    for block in ("BC01", "BC02", "BC03"):
        _decide_block(lti, block)

    last = _decide_block(lti, "BC04", final_interview_passed="on")

    assert "Certification MUTUALITE obtenue" in last
    with lti.live.app.app_context():
        [award] = db.session().scalars(select(CertificationAward)).all()
        assert award.certification_code == "MUTUALITE"
