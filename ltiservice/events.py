"""What the rest of the world learns when something happens, queued in the same transaction.

Views and services call these at the moment a fact is stored; each one queues the AGS score
for the LMS and the xAPI statements for the learning record stores. Nothing is sent here.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ltiservice.grades import queue_score
from ltiservice.models import CertificationAward, Decision, Evaluation, LedgerEntry, Submission


def submission_submitted(db: Session, submission: Submission) -> None:
    """A learner handed in an attempt: the LMS shows it as submitted, awaiting grading."""
    queue_score(
        db,
        submission.assessment,
        submission.person,
        event_key=f"submitted:{submission.id}",
        activity_progress="Submitted",
        grading_progress="PendingManual",
    )


def evaluation_signed(db: Session, evaluation: Evaluation) -> None:
    """One evaluator signed their reading (reported to LRSs only: no grade yet)."""


def decision_signed(
    db: Session,
    decision: Decision,
    ledger_entry: LedgerEntry | None,
    award: CertificationAward | None,
) -> None:
    """The jury decided: the grade goes to the gradebook, fully graded."""
    submission = decision.submission
    queue_score(
        db,
        submission.assessment,
        submission.person,
        event_key=f"decision:{decision.id}",
        activity_progress="Completed",
        grading_progress="FullyGraded",
        score_given=decision.score_given,
        comment=decision.comment,
    )
