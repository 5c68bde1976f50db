"""Mutualité: the evaluation jury acquires each block at 100 %; the final interview belongs to
the jury de délivrance (tests/certification), never to a checkbox on the committee's page."""

from __future__ import annotations

from lxml import html
from sqlalchemy import select

from ltiservice import db
from ltiservice.models import CertificationAward, Decision, LedgerEntry
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
    assert not html.fromstring(evaluator.page.text).xpath("//input[@name='final_interview_passed']")
    page = evaluator.post(url["decision"], {"expected_decision": "", **fields})
    assert page.status_code == 200, errors_of(page)
    return text_of(page)


def test_every_block_acquired_is_to_present_to_the_jury_de_delivrance(lti: LtiHarness) -> None:
    """Fiche RNCP39866: « Chaque bloc peut être obtenu séparément dès lors que le candidat
    valide 100% des compétences du bloc … Le jury de délivrance effectue un entretien final pour
    valider et délivrer la certification. »"""
    for block in ("BC01", "BC02", "BC03"):
        _decide_block(lti, block)
    last = _decide_block(lti, "BC04", final_interview_passed="on")  # ignored: not its power

    assert "Conditions réunies — à présenter au jury." in last
    with lti.live.app.app_context():
        session = db.session()
        assert session.scalars(select(CertificationAward)).all() == []
        blocks = session.scalars(select(LedgerEntry.block_code).order_by(LedgerEntry.id)).all()
        assert blocks == ["BC01", "BC02", "BC03", "BC04"]
        assert session.scalars(select(Decision.facts)).all() == [None] * 4
