"""What the gradebook gets when the committee signs: the mapping's score, FullyGraded, and a
comment that says how the score reads and whose result it is."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ltiservice import db
from ltiservice.models import Decision, OutboxMessage
from tests.evaluations.support import criteria, errors_of, hand_in, launch, paths, place
from tests.evaluations.test_decisions import HIERARCHY, OTHER, _decide, _evaluate
from tests.evaluations.test_final_interview import _decide_block
from tests.support.lti_harness import LtiHarness

AWAITING = "Proposition du comité d'évaluation, en attente de la décision du jury de certification."


def _graded_scores(lti: LtiHarness) -> list[dict[str, Any]]:
    with lti.live.app.app_context():
        payloads = db.session().scalars(
            select(OutboxMessage.payload)
            .where(OutboxMessage.kind == "ags_score")
            .order_by(OutboxMessage.id)
        )
        return [p["score"] for p in payloads if p["score"]["gradingProgress"] == "FullyGraded"]


def _failed_b1(lti: LtiHarness, mapping: str) -> dict[str, Any]:
    """CRCA B1 signed with one criterion of C1.1 not met: 10 of 11 competencies acquired."""
    assessment = place(lti, "B1", grade_mapping=mapping, score_maximum=100.0)
    url = paths(assessment, hand_in(lti, assessment, "learner-1"))
    first = criteria("B1")[0]
    assert first.startswith("C1.1-")
    chief = launch(lti, "chef-1", "B1")
    _evaluate(chief, url, "B1", HIERARCHY, **{first: "not_met"})
    _evaluate(launch(lti, "collegue-1", "B1"), url, "B1", OTHER, **{first: "not_met"})
    page = _decide(chief, url)
    assert page.status_code == 200, errors_of(page)
    [score] = _graded_scores(lti)
    return score


def test_a_failed_b1_shows_zero_under_the_default_decision_mapping(lti: LtiHarness) -> None:
    score = _failed_b1(lti, "decision")

    assert (score["activityProgress"], score["gradingProgress"]) == ("Completed", "FullyGraded")
    assert (score["scoreGiven"], score["scoreMaximum"]) == (0.0, 100.0)
    assert score["comment"] == (
        f"Bloc B1 non acquis — 10/11 compétences. {AWAITING} "
        "Note : acquis = note maximale, non acquis = 0."
    )
    with lti.live.app.app_context():
        [decision] = db.session().scalars(select(Decision)).all()
        # The page and the learner's results keep the committee's own wording and the score sent.
        assert decision.comment == "Bloc B1 non acquis — 10/11 compétences"
        assert (decision.score_given, decision.block_acquired) == (0.0, False)


def test_a_failed_b1_shows_its_competency_share_under_the_share_mapping(lti: LtiHarness) -> None:
    score = _failed_b1(lti, "competency_share")

    assert score["gradingProgress"] == "FullyGraded"
    assert (score["scoreGiven"], score["scoreMaximum"]) == (90.9091, 100.0)
    assert score["comment"] == (
        f"Bloc B1 non acquis — 10/11 compétences. {AWAITING} Note : part des compétences acquises."
    )


def test_a_mutualite_block_acquired_by_the_evaluation_jury_is_not_a_proposal(
    lti: LtiHarness,
) -> None:
    _decide_block(lti, "BC01")

    [score] = _graded_scores(lti)
    assert (score["scoreGiven"], score["scoreMaximum"]) == (20.0, 20.0)
    assert score["comment"] == (
        "Bloc BC01 acquis — 6/6 compétences. Note : acquis = note maximale, non acquis = 0."
    )


def test_which_certifications_wait_for_a_certification_jury() -> None:
    """The plugins declare which body acquires a block for good (certification_jury)."""
    from ltiservice.grading.loader import load_plugins

    plugins = dict(load_plugins())
    assert not plugins["CRCA"].current.certification_jury.committee_acquires
    assert not plugins["COURTAGE"].current.certification_jury.committee_acquires
    assert plugins["MUTUALITE"].current.certification_jury.committee_acquires
