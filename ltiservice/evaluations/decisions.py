"""The evaluation committee: signed evaluations side by side, its requirements, and the signed
block proposal (a `Decision`).

A decision is immutable. Signing one writes, in the caller's single transaction: the
Decision, the submission's `decided` status, the ledger entry when the block is acquired AND
the plugin gives the committee that power (``certification_jury.acquires_blocks``; elsewhere the
certification jury acquires blocks, see `ltiservice.certification`), and the outbox messages
(`events.decision_signed`). It never awards the certification: only the certification jury
does. A correction is a new Decision pointing at the one it supersedes, with a reason; it may
never take a block the committee acquired away (capitalisation).

`Decision.remarks` is ``{criterion id: [remark, ...]}``: the evaluators' remarks on that
criterion, in the order they signed. `Decision.competency_results` is
``[{code, acquired, met, total}]``. `Decision.facts` is no longer written: the final
interview is recorded by the certification jury.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from datetime import UTC
from datetime import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ltiservice import events
from ltiservice.errors import ConflictError, ServiceError
from ltiservice.evaluations import ledger, proposals
from ltiservice.evaluations.rubric import VERDICT_LABELS, Rubric, outcome_summary
from ltiservice.evaluations.service import verdicts_of
from ltiservice.grades import block_score
from ltiservice.grading.interface import (
    VERDICTS,
    BlockOutcome,
    JuryProblem,
    Seat,
)
from ltiservice.models import (
    Assessment,
    CertificationAward,
    Decision,
    Evaluation,
    LedgerEntry,
    Person,
    Submission,
)


@dataclass(frozen=True)
class Jury:
    """The signed evaluations of a submission and what the jury must settle before signing."""

    evaluations: tuple[Evaluation, ...]
    names: dict[int, str]  # evaluation id -> evaluator's name as shown
    agreed: dict[str, str]  # criterion id -> the verdict every evaluator gave
    disagreements: dict[str, dict[int, str]]  # criterion id -> {evaluation id: verdict}
    problems: tuple[JuryProblem, ...]
    drafts: int  # evaluations started but not signed


@dataclass(frozen=True)
class DecisionInput:
    """What the jury sends with its signature."""

    resolved: dict[str, str] = field(default_factory=dict)  # disputed criterion -> verdict
    resolution: str = ""
    correction_reason: str = ""
    # The decision the jury saw as standing when it opened the page (None: no decision yet).
    expected_current_id: int | None = None


@dataclass(frozen=True)
class SignedDecision:
    decision: Decision
    ledger_entry: LedgerEntry | None
    award: CertificationAward | None  # always None: only the certification jury awards


def _name(person: Person) -> str:
    return person.name or person.sub


def jury_of(db: Session, rubric: Rubric, submission: Submission) -> Jury:
    """The jury as the signed evaluations make it up, with the plugin's problems."""
    every = db.scalars(
        select(Evaluation)
        .where(Evaluation.submission_id == submission.id)
        .order_by(Evaluation.signed_at, Evaluation.id)
    ).all()
    signed = tuple(e for e in every if e.status == "signed")
    names = {e.id: _name(e.evaluator) for e in signed}
    if len(set(names.values())) < len(names):  # homonyms: tell them apart by their LMS id
        names = {e.id: f"{_name(e.evaluator)} ({e.evaluator.sub})" for e in signed}
    agreed: dict[str, str] = {}
    disagreements: dict[str, dict[int, str]] = {}
    for cid in rubric.criterion_ids:
        given = {e.id: verdicts_of(e).get(cid, "") for e in signed}
        if len(set(given.values())) == 1 and "" not in given.values():
            agreed[cid] = next(iter(given.values()))
        elif given:
            disagreements[cid] = given
    seats = [
        Seat(
            evaluator_id=names[e.id],
            role=e.jury_role or "",
            trained_candidate=e.trained_candidate,
            session_dates=tuple(datetime.date.fromisoformat(d) for d in e.session_dates or ()),
        )
        for e in signed
    ]
    problems = rubric.plugin.rules.committee_problems(
        rubric.referential, rubric.block, rubric.epreuve, seats
    )
    return Jury(signed, names, agreed, disagreements, tuple(problems), len(every) - len(signed))


def standing_decision(db: Session, submission: Submission) -> Decision | None:
    """The submission's decision no correction supersedes, if any."""
    superseded = select(Decision.supersedes_id).where(Decision.supersedes_id.is_not(None))
    return db.scalar(
        select(Decision)
        .where(Decision.submission_id == submission.id, Decision.id.not_in(superseded))
        .order_by(Decision.id.desc())
    )


def decision_history(db: Session, submission: Submission) -> list[Decision]:
    """Every decision of the submission, newest first."""
    return list(
        db.scalars(
            select(Decision)
            .where(Decision.submission_id == submission.id)
            .order_by(Decision.id.desc())
        )
    )


def _lock(db: Session, submission: Submission) -> None:
    """Serialise signers of one submission.

    The read transaction of the page is ended first so that, on SQLite (WAL), the UPDATE
    below opens a fresh write transaction and waits for a concurrent signer instead of failing
    on a stale snapshot; on PostgreSQL the UPDATE holds the row lock until commit.
    """
    db.commit()
    db.execute(
        update(Submission)
        .where(Submission.id == submission.id)
        .values(updated_at=dt.now(UTC))
        .execution_options(synchronize_session=False)
    )


def resolved_verdicts(jury: Jury, data: DecisionInput) -> dict[str, str]:
    """The verdicts the decision records: agreed ones, and the jury's choice where disputed."""
    verdicts = dict(jury.agreed)
    for cid in jury.disagreements:
        choice = data.resolved.get(cid)
        if choice in VERDICTS:
            verdicts[cid] = choice
    return verdicts


def decision_problems(
    rubric: Rubric, jury: Jury, standing: Decision | None, data: DecisionInput
) -> list[str]:
    """Why the jury cannot sign this decision yet, in French (empty: it can)."""
    problems = [problem.message for problem in jury.problems]
    unresolved = [cid for cid in jury.disagreements if data.resolved.get(cid) not in VERDICTS]
    if unresolved:
        problems.append(
            "Les évaluateurs divergent : choisissez l'appréciation retenue par le jury pour "
            + ", ".join(unresolved)
            + "."
        )
    if jury.disagreements and not data.resolution.strip():
        problems.append("Rédigez la note de résolution des divergences.")
    if standing is not None and not data.correction_reason.strip():
        problems.append(
            "Une décision est déjà signée : pour la corriger, indiquez le motif de la correction."
        )
    committee_acquires = rubric.referential.certification_jury.committee_acquires
    if not problems and committee_acquires and standing is not None and standing.block_acquired:
        if not rubric.outcome(resolved_verdicts(jury, data)).acquired:  # type: ignore[arg-type]
            problems.append(_withdrawal_refused(rubric))
    return problems


def _withdrawal_refused(rubric: Rubric) -> str:
    # An épreuve's acquired result is kept like a block's: the proposal rests on it.
    if rubric.epreuve is not None:
        return (
            f"Cette correction retirerait l'épreuve {rubric.epreuve.code} du bloc "
            f"{rubric.block.code}, déjà acquise : un résultat acquis l'est définitivement "
            "(capitalisation). La correction est refusée."
        )
    return (
        f"Cette correction retirerait le bloc {rubric.block.code}, déjà acquis : un "
        "bloc acquis l'est définitivement (capitalisation). La correction est refusée."
    )


def _check_standing(standing: Decision | None, data: DecisionInput) -> None:
    current_id = standing.id if standing else None
    if current_id != data.expected_current_id:
        raise ConflictError(
            "Une décision a déjà été signée pour ce travail pendant que vous étiez sur la page : "
            "rechargez-la pour voir la décision en vigueur.",
            code="decision_exists",
        )


def _remarks(jury: Jury) -> dict[str, list[str]]:
    remarks: dict[str, list[str]] = {}
    for evaluation in jury.evaluations:
        for cid, entry in (evaluation.verdicts or {}).items():
            text = (entry or {}).get("remark") if isinstance(entry, dict) else None
            if text:
                remarks.setdefault(cid, []).append(text)
    return remarks


def _score(rubric: Rubric, assessment: Assessment, outcome: BlockOutcome) -> float:
    """The score the assessment's grade mapping gives; the share is the plugin's `lms_grade`."""
    given, maximum = rubric.plugin.rules.lms_grade(rubric.referential, outcome)
    share = given / maximum if maximum > 0 else 0.0
    score, _ = block_score(assessment, acquired=outcome.acquired, competency_share=share)
    return score


def sign_decision(
    db: Session,
    rubric: Rubric,
    submission: Submission,
    signer_id: int,
    data: DecisionInput,
) -> SignedDecision:
    """Sign the jury's decision (see the module docstring); the caller commits."""
    _lock(db, submission)
    standing = standing_decision(db, submission)
    _check_standing(standing, data)
    jury = jury_of(db, rubric, submission)
    problems = decision_problems(rubric, jury, standing, data)
    if problems:
        raise ServiceError(
            "La décision ne peut pas être signée. " + " ".join(problems),
            code="decision_refused",
            status=422,
            details={"problems": problems},
        )
    verdicts = resolved_verdicts(jury, data)
    outcome = rubric.outcome(verdicts)  # type: ignore[arg-type]
    assessment = submission.assessment
    decision = Decision(
        organisation_id=assessment.organisation_id,
        submission_id=submission.id,
        person_id=submission.person_id,
        certification_code=assessment.certification_code,
        referential_version=assessment.referential_version,
        block_code=assessment.block_code,
        verdicts=verdicts,
        remarks=_remarks(jury),
        competency_results=[
            {"code": r.code, "acquired": r.acquired, "met": r.met, "total": r.total}
            for r in outcome.competencies
        ],
        block_acquired=outcome.acquired,
        score_given=_score(rubric, assessment, outcome),
        score_maximum=float(assessment.score_maximum),
        evaluators=[
            {
                "person_id": e.evaluator_id,
                "name": jury.names[e.id],
                "role": e.jury_role,
                "evaluation_id": e.id,
                "trained_candidate": e.trained_candidate,
            }
            for e in jury.evaluations
        ],
        resolution=data.resolution.strip(),
        signed_by_id=signer_id,
        supersedes_id=standing.id if standing else None,
        correction_reason=data.correction_reason.strip() or None if standing else None,
    )
    db.add(decision)
    db.flush()
    submission.status = "decided"
    entry = None
    if rubric.referential.certification_jury.committee_acquires and _proposes_block(
        db, rubric, decision
    ):
        entry = ledger.record_block(db, decision)
    decision.comment = _comment(rubric, outcome)
    events.decision_signed(
        db,
        decision,
        entry,
        None,
        awaiting_jury=not rubric.referential.certification_jury.committee_acquires,
    )
    return SignedDecision(decision, entry, None)


def _proposes_block(db: Session, rubric: Rubric, decision: Decision) -> bool:
    """Whether this decision lets the block itself be recorded as acquired.

    One épreuve's decision is not the block's: where the block has several épreuves, the
    block is acquired only once its proposal is complete and acquired (`proposals`), and the
    ledger entry then points to the decision that completed it.
    """
    if not rubric.block.epreuves:
        return True
    for proposal in proposals.block_proposals(
        db, rubric.plugin, decision.organisation_id, decision.person_id
    ):
        if (proposal.referential_version, proposal.block_code) == (
            decision.referential_version,
            decision.block_code,
        ):
            return proposal.acquired
    return False


def _comment(rubric: Rubric, outcome: BlockOutcome) -> str:
    """The committee's French summary (with its épreuve); the gradebook adds whose result it
    is (`grades.gradebook_comment`)."""
    comment = outcome_summary(rubric.block.code, outcome)
    if rubric.epreuve is not None:
        comment = f"Épreuve {rubric.epreuve.code} ({rubric.epreuve.title}) : {comment}"
    return comment


__all__ = [
    "VERDICT_LABELS",
    "DecisionInput",
    "Jury",
    "SignedDecision",
    "decision_history",
    "decision_problems",
    "jury_of",
    "resolved_verdicts",
    "sign_decision",
    "standing_decision",
]
