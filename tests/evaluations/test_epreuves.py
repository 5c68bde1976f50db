"""Several épreuves per block (courtage), each its own assessment and committee, and the block
proposal that waits for all of them; CRCA keeps one épreuve per block."""

from __future__ import annotations

from typing import Any

import requests
from lxml import html
from sqlalchemy import select

from ltiservice import db
from ltiservice.evaluations import proposals
from ltiservice.evaluations.proposals import BlockProposal
from ltiservice.exports.scope import as_utc
from ltiservice.models import Decision, LedgerEntry, OutboxMessage, Person, Platform, Submission
from tests.evaluations.support import (
    Visitor,
    criteria,
    errors_of,
    hand_in,
    launch,
    learner,
    paths,
    place,
    text_of,
    verdict_form,
)
from tests.support.lti_harness import LtiHarness

COURTAGE = {"certification": "COURTAGE", "version": "RNCP31395"}
#: Épreuve code -> the one role of its committee (referential_rncp31395.yaml, `epreuves:`).
ROLES = {
    "OF": "training_organisation",
    "REF": "company_referent",
    "COM": "evaluation_commission",
}


def _bc1_criteria() -> list[str]:
    return criteria("BC1", version="RNCP31395", certification="COURTAGE")


def _evaluate(
    evaluator: Visitor, url: dict[str, str], ids: list[str], role: str, verdict: str = "met"
) -> requests.Response:
    evaluator.page = evaluator.get(url["grade"])
    return evaluator.post(url["sign"], verdict_form(ids, verdict, role=role))


def _decide(evaluator: Visitor, url: dict[str, str]) -> requests.Response:
    evaluator.page = evaluator.get(url["decision"])
    expected = html.fromstring(evaluator.page.text).xpath("//input[@name='expected_decision']")
    value = expected[0].get("value") if expected else ""
    return evaluator.post(url["decision"], {"expected_decision": value or ""})


def _grade_epreuve(
    lti: LtiHarness, epreuve: str, learner_sub: str = "learner-1", verdict: str = "met"
) -> Decision:
    """Place BC1's épreuve, hand in, have its own evaluator grade it and sign the decision."""
    assessment = place(lti, "BC1", epreuve=epreuve, **COURTAGE)
    submission = hand_in(lti, assessment, learner_sub)
    url = paths(assessment, submission)
    evaluator = launch(lti, f"evaluateur-{epreuve}", f"BC1-{epreuve}")
    signed = _evaluate(evaluator, url, _bc1_criteria(), ROLES[epreuve], verdict)
    assert "Évaluation signée" in text_of(signed), errors_of(signed)
    decided = _decide(evaluator, url)
    assert decided.status_code == 200, errors_of(decided)
    with lti.live.app.app_context():
        found = db.session().scalar(select(Decision).where(Decision.submission_id == submission))
        assert found is not None
        db.session().expunge(found)
        return found


def _proposals(lti: LtiHarness, sub: str = "learner-1", code: str = "COURTAGE") -> Any:
    with lti.live.app.app_context():
        session = db.session()
        person = session.scalar(select(Person).where(Person.sub == sub))
        assert person is not None
        platform = session.get(Platform, person.platform_id)
        assert platform is not None
        plugin = lti.live.app.extensions["plugins"][code]
        found = proposals.block_proposals(session, plugin, platform.organisation_id, person.id)
        by_person = proposals.proposals_by_person(session, plugin, platform.organisation_id)
        return found, by_person, person.id


def _ledger(lti: LtiHarness) -> list[LedgerEntry]:
    with lti.live.app.app_context():
        return list(db.session().scalars(select(LedgerEntry).order_by(LedgerEntry.id)))


def test_three_epreuves_each_graded_by_its_own_actor_make_the_proposal(
    lti: LtiHarness,
) -> None:
    of = _grade_epreuve(lti, "OF")
    ref = _grade_epreuve(lti, "REF")

    [waiting], by_person, person_id = _proposals(lti)
    assert (waiting.block_code, waiting.complete, waiting.acquired) == ("BC1", False, False)
    assert waiting.pending_epreuves == ("COM",)
    assert [d.id for d in waiting.decisions] == [of.id, ref.id]
    assert waiting.signed_at == as_utc(max(of.decided_at, ref.decided_at))
    assert by_person == {person_id: [waiting]}
    # Two épreuves acquired are not the block: nothing is capitalised yet.
    assert _ledger(lti) == []

    com = _grade_epreuve(lti, "COM")

    [proposal], _, _ = _proposals(lti)
    assert proposal == BlockProposal(
        person_id=person_id,
        certification_code="COURTAGE",
        referential_version="RNCP31395",
        block_code="BC1",
        complete=True,
        acquired=True,
        decisions=proposal.decisions,
        pending_epreuves=(),
        signed_at=as_utc(com.decided_at),
    )
    assert [d.id for d in proposal.decisions] == [of.id, ref.id, com.id]


def test_a_block_with_epreuves_is_only_proposed_to_the_certification_jury(
    lti: LtiHarness,
) -> None:
    # Courtage's blocks are acquired by its certification jury: the three épreuves make a
    # complete proposal, and nothing enters the ledger until the jury decides.
    _grade_epreuve(lti, "OF")
    _grade_epreuve(lti, "REF")
    com = _grade_epreuve(lti, "COM")
    assert _ledger(lti) == []
    [proposal], _, _ = _proposals(lti)
    assert (proposal.complete, proposal.acquired) == (True, True)
    assert proposal.decisions[-1].id == com.id


def test_each_epreuve_has_its_own_committee_and_says_so_in_the_lms(lti: LtiHarness) -> None:
    assessment = place(lti, "BC1", epreuve="REF", **COURTAGE)
    submission = hand_in(lti, assessment, "learner-1")
    url = paths(assessment, submission)
    trainer = launch(lti, "formateur-1", "BC1-REF")

    grade = trainer.get(url["grade"])
    assert "Épreuve REF : Evaluation par le référent en entreprise" in text_of(grade)
    roles = html.fromstring(grade.text).xpath("//select[@id='jury_role']/option/@value")
    assert [r for r in roles if r] == ["company_referent"]
    refused = _evaluate(trainer, url, _bc1_criteria(), "training_organisation")
    assert "Le rôle de jury « training_organisation » n'existe pas" in text_of(refused)

    signed = _evaluate(trainer, url, _bc1_criteria(), "company_referent")
    assert "Évaluation signée" in text_of(signed), errors_of(signed)
    # One referent is this épreuve's whole committee: no « 3 évaluateurs » asked.
    decided = _decide(trainer, url)
    assert decided.status_code == 200, errors_of(decided)
    with lti.live.app.app_context():
        [score] = db.session().scalars(select(OutboxMessage).filter_by(kind="ags_score"))
        assert score.payload["score"]["comment"].startswith(
            "Épreuve REF (Evaluation par le référent en entreprise) : Bloc BC1 acquis — "
            "3/3 compétences"
        )


def test_one_epreuve_not_acquired_keeps_the_complete_proposal_not_acquired(
    lti: LtiHarness,
) -> None:
    _grade_epreuve(lti, "OF")
    _grade_epreuve(lti, "REF", verdict="not_met")
    _grade_epreuve(lti, "COM")

    [proposal], _, _ = _proposals(lti)
    assert (proposal.complete, proposal.acquired, proposal.pending_epreuves) == (True, False, ())
    assert [d.block_acquired for d in proposal.decisions] == [True, False, True]
    assert _ledger(lti) == []


def test_the_learner_sees_which_epreuve_the_activity_is(lti: LtiHarness) -> None:
    place(lti, "BC1", epreuve="COM", **COURTAGE)

    page = learner(lti, "learner-1", "BC1-COM").page

    text = text_of(page)
    assert "Épreuve COM : Evaluation par la commission d'évaluation" in text
    assert "évaluée par la commission d'évaluation" in text


def test_the_learner_result_is_the_epreuve_s_not_the_block_s(lti: LtiHarness) -> None:
    decision = _grade_epreuve(lti, "OF")
    with lti.live.app.app_context():
        submission = db.session().get(Submission, decision.submission_id)
        assert submission is not None
        assessment_id = submission.assessment_id

    visitor = learner(lti, "learner-1", "BC1-OF")
    text = text_of(visitor.get(f"/a/{assessment_id}/results"))

    assert "Épreuve OF du bloc BC1 : acquise" in text
    assert "Le résultat du bloc attend celui de chacune de ses épreuves obligatoires." in text


# ---------------------------------------------------------------- one épreuve: CRCA unchanged


def _again(lti: LtiHarness, submission_id: int) -> int:
    """The learner's next attempt at the same assessment."""
    with lti.live.app.app_context():
        session = db.session()
        first = session.get(Submission, submission_id)
        assert first is not None
        attempt = Submission(
            assessment_id=first.assessment_id,
            person_id=first.person_id,
            attempt=first.attempt + 1,
            status="submitted",
            text="Ma deuxième analyse.",
        )
        session.add(attempt)
        session.commit()
        return attempt.id


def _crca_decision(
    lti: LtiHarness, verdict: str = "met", after: int | None = None
) -> tuple[int, Decision]:
    """B2B graded by its two-person committee; ``after``: a new attempt after that submission."""
    if after is None:
        assessment = place(lti, "B2B")
        submission = hand_in(lti, assessment, "learner-1")
    else:
        submission = _again(lti, after)
        with lti.live.app.app_context():
            found_submission = db.session().get(Submission, submission)
            assert found_submission is not None
            assessment = found_submission.assessment_id
    url = paths(assessment, submission)
    chief = launch(lti, "chef-1")
    colleague = launch(lti, "collegue-1")
    for evaluator, role in ((chief, "hierarchy"), (colleague, "other_service")):
        signed = _evaluate(evaluator, url, criteria("B2B"), role, verdict)
        assert "Évaluation signée" in text_of(signed), errors_of(signed)
    assert _decide(chief, url).status_code == 200
    with lti.live.app.app_context():
        found = db.session().scalar(select(Decision).where(Decision.submission_id == submission))
        assert found is not None
        db.session().expunge(found)
        return submission, found


def test_a_crca_block_is_proposed_on_its_one_decision(lti: LtiHarness) -> None:
    _, decision = _crca_decision(lti)

    [proposal], by_person, person_id = _proposals(lti, code="CRCA")

    assert proposal == BlockProposal(
        person_id=person_id,
        certification_code="CRCA",
        referential_version="RNCP41351",
        block_code="B2B",
        complete=True,
        acquired=True,
        decisions=proposal.decisions,
        pending_epreuves=(),
        signed_at=as_utc(decision.decided_at),
    )
    assert [d.id for d in proposal.decisions] == [decision.id]
    assert by_person == {person_id: [proposal]}
    assert _proposals(lti, code="COURTAGE")[0] == []


def test_the_latest_standing_decision_is_the_current_proposal(lti: LtiHarness) -> None:
    submission, first = _crca_decision(lti)
    _, later = _crca_decision(lti, verdict="not_met", after=submission)

    [proposal], _, _ = _proposals(lti, code="CRCA")

    assert [d.id for d in proposal.decisions] == [later.id]
    assert (proposal.complete, proposal.acquired) == (True, False)
    assert first.block_acquired is True  # still in the first submission's history


# ---------------------------------------------------------------- corrections and legacy


def test_a_correction_of_the_last_epreuve_completes_the_proposal(
    lti: LtiHarness,
) -> None:
    _grade_epreuve(lti, "OF")
    _grade_epreuve(lti, "REF")
    assessment = place(lti, "BC1", epreuve="COM", **COURTAGE)
    submission = hand_in(lti, assessment, "learner-1")
    url = paths(assessment, submission)
    # Two members of the commission, who disagree on C1-1.
    first = launch(lti, "commission-1", "BC1-COM")
    second = launch(lti, "commission-2", "BC1-COM")
    ids = _bc1_criteria()
    for member, verdict in ((first, "met"), (second, "not_met")):
        member.page = member.get(url["grade"])
        fields = verdict_form(ids, "met", role="evaluation_commission", **{"C1-1": verdict})
        assert "Évaluation signée" in text_of(member.post(url["sign"], fields))

    def decide(**fields: str) -> requests.Response:
        first.page = first.get(url["decision"])
        expected = html.fromstring(first.page.text).xpath("//input[@name='expected_decision']")
        value = (expected[0].get("value") if expected else "") or ""
        return first.post(url["decision"], {"expected_decision": value, **fields})

    assert decide(**{"resolved-C1-1": "not_met", "resolution": "Non démontré."}).status_code == 200
    assert _proposals(lti)[0][0].acquired is False
    assert _ledger(lti) == []

    corrected = decide(
        **{"resolved-C1-1": "met", "resolution": "Revu.", "correction_reason": "Oral réécouté."}
    )
    assert corrected.status_code == 200, errors_of(corrected)
    [proposal], _, _ = _proposals(lti)
    assert (proposal.complete, proposal.acquired) == (True, True)
    assert proposal.decisions[-1].supersedes_id is not None  # the correction, not the first

    # Before the certification jury decides, the committee may still correct its proposal:
    # nothing is acquired for good yet (the jury, not the committee, acquires courtage blocks).
    again = decide(
        **{"resolved-C1-1": "not_met", "resolution": "Non.", "correction_reason": "Relecture."}
    )
    assert again.status_code == 200, errors_of(again)
    assert _proposals(lti)[0][0].acquired is False
    assert _ledger(lti) == []


def test_a_block_graded_whole_before_epreuves_counts_for_each_of_them(lti: LtiHarness) -> None:
    assessment = place(lti, "BC1", **COURTAGE)  # no épreuve: the referential's three-seat jury
    submission = hand_in(lti, assessment, "learner-1")
    url = paths(assessment, submission)
    for role in ROLES.values():
        evaluator = launch(lti, f"evaluateur-{role}", "BC1")
        signed = _evaluate(evaluator, url, _bc1_criteria(), role)
        assert "Évaluation signée" in text_of(signed), errors_of(signed)
    assert _decide(evaluator, url).status_code == 200

    [proposal], _, _ = _proposals(lti)

    assert (proposal.complete, proposal.acquired, proposal.pending_epreuves) == (True, True, ())
    assert len({d.id for d in proposal.decisions}) == 1 and len(proposal.decisions) == 3


def test_the_trainer_dashboard_speaks_of_the_epreuve_not_the_block(lti: LtiHarness) -> None:
    decision = _grade_epreuve(lti, "OF")
    with lti.live.app.app_context():
        submission = db.session().get(Submission, decision.submission_id)
        assert submission is not None
        assessment_id = submission.assessment_id
    trainer = launch(lti, "formateur-1", "BC1-OF")

    page = trainer.get(f"/a/{assessment_id}/dashboard")

    text = text_of(page)
    assert "Épreuve OF : Evaluation par l'organisme de formation" in text
    row = html.fromstring(page.text).xpath("//tr[@data-sub='learner-1']")[0]
    assert "Épreuve OF acquise" in row.text_content()
    assert "Bloc acquis" not in text
