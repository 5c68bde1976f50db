"""The jury: its requirements, disagreements, the signed decision and what it writes."""

from __future__ import annotations

import threading
from typing import Any

import requests
from lxml import html
from sqlalchemy import func, select

from ltiservice import db
from ltiservice.models import (
    CertificationAward,
    Decision,
    LedgerEntry,
    OutboxMessage,
    Submission,
)
from tests.evaluations.support import (
    Visitor,
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

HIERARCHY = "hierarchy"
OTHER = "other_service"


def _evaluate(
    trainer: Visitor,
    url: dict[str, str],
    block: str,
    role: str,
    verdict: str = "met",
    extra: list[tuple[str, str]] | None = None,
    **overrides: str,
) -> None:
    trainer.page = trainer.get(url["grade"])
    fields = verdict_form(criteria(block), verdict, role=role, **overrides) + (extra or [])
    signed = trainer.post(url["sign"], fields)
    assert "Évaluation signée" in text_of(signed), errors_of(signed)


def _rows(lti: LtiHarness, model: Any, **where: Any) -> list[Any]:
    with lti.live.app.app_context():
        query = select(model).filter_by(**where).order_by(model.id)
        return list(db.session().scalars(query))


def _decide(trainer: Visitor, url: dict[str, str], **fields: str) -> requests.Response:
    trainer.page = trainer.get(url["decision"])
    expected = html.fromstring(trainer.page.text).xpath("//input[@name='expected_decision']")
    data = {"expected_decision": expected[0].get("value") if expected else "", **fields}
    return trainer.post(url["decision"], data)


def _two_evaluators(
    lti: LtiHarness, block: str = "B2B", learner: str = "learner-1", **overrides: str
) -> tuple[int, int, dict[str, str], Visitor]:
    assessment = place(lti, block)
    submission = hand_in(lti, assessment, learner)
    url = paths(assessment, submission)
    chief = launch(lti, "chef-1", block)
    colleague = launch(lti, "collegue-1", block)
    _evaluate(chief, url, block, HIERARCHY)
    _evaluate(colleague, url, block, OTHER, **overrides)
    return assessment, submission, url, chief


def test_one_evaluator_is_not_a_crca_jury(lti: LtiHarness) -> None:
    assessment = place(lti, "B2B")
    submission = hand_in(lti, assessment, "learner-1")
    url = paths(assessment, submission)
    chief = launch(lti, "chef-1")
    _evaluate(chief, url, "B2B", HIERARCHY)

    page = chief.get(url["decision"])
    assert "Le jury doit compter au moins 2 évaluateurs distincts (1 à ce jour)." in text_of(page)
    refused = _decide(chief, url)

    assert refused.status_code == 422
    errors = errors_of(refused)
    assert "Le jury doit compter au moins 2 évaluateurs distincts (1 à ce jour)." in errors
    assert any("« Évaluateur appartenant à un service distinct" in e for e in errors)
    assert _rows(lti, Decision) == []


def test_other_service_evaluator_who_trained_the_candidate_may_not_sit(lti: LtiHarness) -> None:
    assessment = place(lti, "B2B")
    submission = hand_in(lti, assessment, "learner-1")
    url = paths(assessment, submission)
    _evaluate(launch(lti, "chef-1"), url, "B2B", HIERARCHY)
    colleague = launch(lti, "collegue-1")
    _evaluate(colleague, url, "B2B", OTHER, extra=[("trained_candidate", "on")])

    refused = _decide(colleague, url)

    assert refused.status_code == 422
    assert errors_of(refused) == [
        "L'évaluateur Personne collegue-1 ne peut pas siéger comme « Évaluateur appartenant à "
        "un service distinct, voire un site distinct, de celui où travaille le candidat » : "
        "il ou elle a formé le candidat."
    ]
    assert _rows(lti, Decision) == []


def test_a_signed_decision_writes_ledger_status_and_the_lms_score(lti: LtiHarness) -> None:
    _, _, url, chief = _two_evaluators(lti)

    page = _decide(chief, url)

    assert page.status_code == 200, errors_of(page)
    assert "Décision signée : Bloc B2B acquis — 6/6 compétences" in text_of(page)
    [decision] = _rows(lti, Decision)
    assert decision.block_acquired is True
    assert decision.verdicts == dict.fromkeys(criteria("B2B"), "met")
    assert [r["acquired"] for r in decision.competency_results] == [True] * 6
    assert (decision.score_given, decision.score_maximum) == (20.0, 20.0)
    assert [e["role"] for e in decision.evaluators] == [HIERARCHY, OTHER]
    assert decision.comment == "Bloc B2B acquis — 6/6 compétences"
    assert decision.supersedes_id is None and decision.facts is None
    # A CRCA committee proposes: only the jury paritaire acquires the block for good.
    assert _rows(lti, LedgerEntry) == []
    assert _rows(lti, Submission)[0].status == "decided"
    [message] = _rows(lti, OutboxMessage, kind="ags_score")
    score = message.payload["score"]
    assert score["userId"] == "learner-1"
    assert (score["activityProgress"], score["gradingProgress"]) == ("Completed", "FullyGraded")
    assert (score["scoreGiven"], score["scoreMaximum"]) == (20.0, 20.0)
    assert score["comment"] == (
        "Bloc B2B acquis — 6/6 compétences. Proposition du comité d'évaluation, en attente de "
        "la décision du jury de certification. Note : acquis = note maximale, non acquis = 0."
    )
    # B2B alone is not the certification: the page says what is missing.
    assert "Bloc B1 à acquérir" in text_of(page)
    assert _rows(lti, CertificationAward) == []


def test_a_partial_result_is_graded_by_the_plugin_under_the_share_mapping(
    lti: LtiHarness,
) -> None:
    overrides = {"C2B.2-1": "not_met", "C2B.6-1": "not_observed"}
    assessment = place(lti, "B2B", grade_mapping="competency_share")
    submission = hand_in(lti, assessment, "learner-1")
    url = paths(assessment, submission)
    _evaluate(launch(lti, "chef-1"), url, "B2B", HIERARCHY, **overrides)
    colleague = launch(lti, "collegue-1")
    _evaluate(colleague, url, "B2B", OTHER, **overrides)

    _decide(colleague, url)

    [decision] = _rows(lti, Decision)
    assert decision.block_acquired is False
    assert decision.comment == "Bloc B2B non acquis — 4/6 compétences"
    assert round(decision.score_given, 4) == round(20.0 * 4 / 6, 4)
    assert _rows(lti, LedgerEntry) == []


def test_disagreements_must_be_resolved_with_a_note(lti: LtiHarness) -> None:
    _, _, url, chief = _two_evaluators(lti, **{"C2B.1-1": "not_met", "C2B.3-2": "not_observed"})
    page = chief.get(url["decision"])
    disputed = html.fromstring(page.text).xpath("//tr[@class='disagree']/@data-criterion")
    assert disputed == ["C2B.1-1", "C2B.3-2"]
    assert "2 critère(s) en divergence" in text_of(page)

    refused = _decide(chief, url, **{"resolved-C2B.1-1": "met"})
    assert refused.status_code == 422
    assert errors_of(refused) == [
        "Les évaluateurs divergent : choisissez l'appréciation retenue par le jury pour C2B.3-2.",
        "Rédigez la note de résolution des divergences.",
    ]
    assert _rows(lti, Decision) == []

    signed = _decide(
        chief,
        url,
        **{
            "resolved-C2B.1-1": "met",
            "resolved-C2B.3-2": "not_met",
            "resolution": "Entretien du jury : C2B.1-1 établi par l'oral.",
        },
    )
    assert signed.status_code == 200, errors_of(signed)
    [decision] = _rows(lti, Decision)
    assert (decision.verdicts["C2B.1-1"], decision.verdicts["C2B.3-2"]) == ("met", "not_met")
    assert decision.resolution == "Entretien du jury : C2B.1-1 établi par l'oral."
    assert decision.comment == "Bloc B2B non acquis — 5/6 compétences"


def test_b1_and_b2b_proposed_make_a_candidate_to_present_never_a_certified_one(
    lti: LtiHarness,
) -> None:
    """FAQ CRCA: « Le dossier du candidat est étudié par le jury paritaire qui se prononce sur
    l'obtention du CQP. » The committee never awards (tests/certification: the jury does)."""
    _, _, url_b2b, chief_b2b = _two_evaluators(lti, "B2B")
    _decide(chief_b2b, url_b2b)
    _, _, url_b1, chief_b1 = _two_evaluators(lti, "B1")

    page = _decide(chief_b1, url_b1)

    assert "Conditions réunies — à présenter au jury." in text_of(page)
    assert "Certification CRCA obtenue" not in text_of(page)
    assert _rows(lti, CertificationAward) == []
    assert _rows(lti, LedgerEntry) == []
    comments = [
        m.payload["score"].get("comment") for m in _rows(lti, OutboxMessage, kind="ags_score")
    ]
    assert (
        "Bloc B1 acquis — 11/11 compétences. Proposition du comité d'évaluation, en attente de la "
        "décision du jury de certification. Note : acquis = note maximale, non acquis = 0."
    ) in comments


def test_a_correction_supersedes_with_a_reason(
    lti: LtiHarness,
) -> None:
    _, _, url, chief = _two_evaluators(lti, **{"C2B.1-1": "not_met"})
    _decide(
        chief, url, **{"resolved-C2B.1-1": "not_met", "resolution": "Le jury suit le collègue."}
    )
    [first] = _rows(lti, Decision)
    assert first.block_acquired is False

    no_reason = _decide(chief, url, **{"resolved-C2B.1-1": "met", "resolution": "Revu."})
    assert no_reason.status_code == 422
    assert any("motif de la correction" in e for e in errors_of(no_reason))

    corrected = _decide(
        chief,
        url,
        **{
            "resolved-C2B.1-1": "met",
            "resolution": "Revu sur pièces.",
            "correction_reason": "Pièce jointe oubliée lors de la première délibération.",
        },
    )
    assert corrected.status_code == 200, errors_of(corrected)
    first_again, second = _rows(lti, Decision)
    assert second.supersedes_id == first.id
    assert second.correction_reason == "Pièce jointe oubliée lors de la première délibération."
    assert second.block_acquired is True
    assert first_again.block_acquired is False  # the superseded decision is untouched
    # A CRCA proposal acquires nothing for good: the committee may correct it again until the
    # jury paritaire decides (a block the jury validated stays in the ledger whatever follows).
    again = _decide(
        chief,
        url,
        **{
            "resolved-C2B.1-1": "not_met",
            "resolution": "Finalement non.",
            "correction_reason": "Relecture.",
        },
    )
    assert again.status_code == 200, errors_of(again)
    assert len(_rows(lti, Decision)) == 3
    assert _rows(lti, LedgerEntry) == []


def test_a_double_click_signs_one_decision(lti: LtiHarness) -> None:
    _, _, url, chief = _two_evaluators(lti)
    chief.page = chief.get(url["decision"])
    fields = [("launch", chief.launch), ("csrf_token", chief.csrf), ("expected_decision", "")]
    statuses: list[int] = []
    start = threading.Barrier(4)

    def click() -> None:
        with requests.Session() as http:
            http.cookies.update(chief.browser.http.cookies)
            start.wait()
            answer = http.post(
                f"{chief.base}{url['decision']}", data=fields, allow_redirects=False, timeout=60
            )
            statuses.append(answer.status_code)

    threads = [threading.Thread(target=click) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses)[0] == 303 and statuses.count(303) == 1, statuses
    assert set(statuses) <= {303, 409, 422}
    with lti.live.app.app_context():
        assert db.session().scalar(select(func.count()).select_from(Decision)) == 1
        assert db.session().scalar(select(func.count()).select_from(LedgerEntry)) == 0
        ags = select(func.count()).where(OutboxMessage.kind == "ags_score")
        assert db.session().scalar(ags) == 1
