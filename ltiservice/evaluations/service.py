"""Evaluations: one evaluator's reading of one submission, autosaved as a draft, then signed.

Every function takes objects already loaded through `ltiservice.assessments.access`, so the
caller has checked the launch may see them; these only enforce the workflow's own rules.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ltiservice import events
from ltiservice.errors import ConflictError, ServiceError
from ltiservice.evaluations.forms import EvaluationInput
from ltiservice.evaluations.rubric import VERDICT_LABELS, Rubric
from ltiservice.grading.interface import VERDICTS
from ltiservice.models import Evaluation, Submission


def open_for_grading(db: Session, submission: Submission) -> None:
    """Opening the grading page starts the evaluation of a handed-in attempt."""
    if submission.status == "draft":
        raise ConflictError(
            "Ce travail est encore un brouillon : il pourra être évalué une fois remis.",
            code="not_submitted",
        )
    if submission.status == "submitted":
        submission.status = "under_evaluation"
        submission.updated_at = datetime.now(UTC)


def evaluation_of(db: Session, submission: Submission, evaluator_id: int) -> Evaluation | None:
    """This evaluator's evaluation of the submission, if they started one."""
    return db.scalar(
        select(Evaluation).where(
            Evaluation.submission_id == submission.id, Evaluation.evaluator_id == evaluator_id
        )
    )


def draft_of(db: Session, submission: Submission, evaluator_id: int) -> Evaluation:
    """The evaluator's evaluation, created (empty draft) on first save."""
    evaluation = evaluation_of(db, submission, evaluator_id)
    if evaluation is not None:
        return evaluation
    evaluation = Evaluation(
        submission_id=submission.id, evaluator_id=evaluator_id, verdicts={}, session_dates=[]
    )
    try:
        with db.begin_nested():
            db.add(evaluation)
    except IntegrityError:
        # Two autosaves of a fresh page raced: the other one created the row.
        found = evaluation_of(db, submission, evaluator_id)
        assert found is not None
        return found
    return evaluation


def save_evaluation(
    db: Session, rubric: Rubric, evaluation: Evaluation, data: EvaluationInput
) -> None:
    """Replace the draft with what the page holds; refused once the evaluation is signed."""
    if evaluation.status == "signed":
        raise ConflictError(
            "Cette évaluation est signée : elle ne peut plus être modifiée.", code="signed"
        )
    known = set(rubric.criterion_ids)
    unknown = sorted((set(data.verdicts) | set(data.remarks)) - known)
    if unknown:
        raise ServiceError(
            "Critères inconnus pour ce bloc : " + ", ".join(unknown) + ".",
            code="unknown_criteria",
            details={"criteria": unknown},
        )
    wrong = sorted(cid for cid, verdict in data.verdicts.items() if verdict not in VERDICTS)
    if wrong:
        raise ServiceError(
            "Appréciation invalide pour : " + ", ".join(wrong) + ".", code="bad_verdict"
        )
    if data.jury_role is not None and data.jury_role not in rubric.jury.roles:
        raise ServiceError(
            f"Le rôle de jury « {data.jury_role} » n'existe pas pour cette certification.",
            code="unknown_role",
        )
    evaluation.verdicts = {
        cid: {"verdict": data.verdicts.get(cid), "remark": data.remarks.get(cid, "")}
        for cid in rubric.criterion_ids
        if cid in data.verdicts or cid in data.remarks
    }
    evaluation.jury_role = data.jury_role
    evaluation.trained_candidate = data.trained_candidate
    evaluation.session_dates = [day.isoformat() for day in data.session_dates]
    evaluation.remark = data.remark
    evaluation.updated_at = datetime.now(UTC)


def verdicts_of(evaluation: Evaluation | None) -> dict[str, str]:
    """criterion id -> verdict, for the criteria that have one."""
    if evaluation is None:
        return {}
    return {
        cid: entry["verdict"]
        for cid, entry in (evaluation.verdicts or {}).items()
        if isinstance(entry, dict) and entry.get("verdict") in VERDICTS
    }


def signing_problems(rubric: Rubric, evaluation: Evaluation) -> list[str]:
    """Why the evaluation cannot be signed yet, in French (empty: it can)."""
    problems = []
    missing = rubric.missing(verdicts_of(evaluation))
    if missing:
        problems.append(
            f"{len(missing)} critère(s) sans appréciation ("
            + " / ".join(VERDICT_LABELS.values())
            + ") : "
            + ", ".join(missing)
            + "."
        )
    if not evaluation.jury_role:
        problems.append("Indiquez votre rôle dans le jury.")
    return problems


def sign_evaluation(db: Session, rubric: Rubric, evaluation: Evaluation) -> None:
    """Freeze the evaluation: every criterion must have a verdict and the jury role be stated."""
    if evaluation.status == "signed":
        raise ConflictError("Cette évaluation est déjà signée.", code="already_signed")
    problems = signing_problems(rubric, evaluation)
    if problems:
        raise ServiceError(
            "L'évaluation ne peut pas être signée. " + " ".join(problems),
            code="incomplete_evaluation",
            status=422,
            details={"missing": rubric.missing(verdicts_of(evaluation)), "problems": problems},
        )
    evaluation.status = "signed"
    evaluation.signed_at = datetime.now(UTC)
    events.evaluation_signed(db, evaluation)
