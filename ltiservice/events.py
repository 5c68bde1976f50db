"""What the rest of the world learns when something happens, queued in the same transaction.

Views and services call these at the moment a fact is stored; each one queues the AGS score
for the LMS and the xAPI statements for the learning record stores (one outbox message per
statement and active LRS destination of the organisation). Nothing is sent here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import current_app
from sqlalchemy.orm import Session

from ltiservice.credentials import certification_credential_issued, credential_issued
from ltiservice.evaluations.ledger import held_entry
from ltiservice.grades import (
    DEFAULT_GRADE_MAPPING,
    gradebook_comment,
    queue_jury_block_result,
    queue_score,
)
from ltiservice.lrs import active_destinations
from ltiservice.lti.context import LaunchContext
from ltiservice.models import (
    Assessment,
    CertificationAward,
    Decision,
    Evaluation,
    JuryDecision,
    LedgerEntry,
    Submission,
)
from ltiservice.statements import (
    statements_for_decision,
    statements_for_evaluation,
    statements_for_jury_decision,
    statements_for_launch,
    statements_for_submission,
)
from ltiservice.xapi_delivery import queue_statements
from xapi.statements import Statement

log = logging.getLogger(__name__)


def _report(
    db: Session,
    organisation_id: int,
    event: str,
    build: Callable[[], list[Statement]],
    person_id: int | None,
) -> None:
    """Queue the event's statements for every active LRS of the organisation.

    A statement that cannot be built (a plugin version removed, a bug) must not undo the fact
    the user just stored: it is logged, and ``ltiservice xapi replay`` rebuilds it once fixed.
    """
    destinations = active_destinations(db, organisation_id)
    if not destinations:
        return
    try:
        statements = build()
    except (ValueError, LookupError):
        log.exception("xAPI statements of %s not built (organisation %s)", event, organisation_id)
        return
    queue_statements(db, organisation_id, statements, destinations, fact=event, person_id=person_id)


def launched(db: Session, context: LaunchContext, assessment: Assessment) -> None:
    """A learner opened a placed assessment from the LMS (reported to LRSs only)."""

    _report(
        db,
        assessment.organisation_id,
        f"launch:{context.launch_id}",
        lambda: statements_for_launch(db, context, assessment),
        context.person_id,
    )


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
    _report(
        db,
        submission.assessment.organisation_id,
        f"submission:{submission.id}",
        lambda: statements_for_submission(db, submission),
        submission.person_id,
    )


def evaluation_signed(db: Session, evaluation: Evaluation) -> None:
    """One evaluator signed their reading (reported to LRSs only: no grade yet)."""

    _report(
        db,
        evaluation.submission.assessment.organisation_id,
        f"evaluation:{evaluation.id}",
        lambda: statements_for_evaluation(db, evaluation),
        evaluation.submission.person_id,
    )


def decision_signed(
    db: Session,
    decision: Decision,
    ledger_entry: LedgerEntry | None,
    award: CertificationAward | None,
    *,
    awaiting_jury: bool = False,
) -> None:
    """The evaluation committee decided: the grade goes to the gradebook at once, fully graded
    (Moodle drops a score otherwise), its comment saying how the score reads and, when
    ``awaiting_jury``, that it is a proposal the certification jury has still to decide; the
    LRSs get the block's passed/failed, achieved and earned, and the void of a superseded
    decision; a block entering the ledger gets its Open Badges 3.0 credential."""

    submission = decision.submission
    mapping = submission.assessment.grade_mapping or DEFAULT_GRADE_MAPPING
    queue_score(
        db,
        submission.assessment,
        submission.person,
        event_key=f"decision:{decision.id}",
        activity_progress="Completed",
        grading_progress="FullyGraded",
        score_given=decision.score_given,
        comment=gradebook_comment(decision.comment, mapping, awaiting_jury=awaiting_jury),
    )
    _report(
        db,
        decision.organisation_id,
        f"decision:{decision.id}",
        lambda: statements_for_decision(db, decision, ledger_entry, award),
        decision.person_id,
    )
    if ledger_entry is not None:
        credential_issued(db, ledger_entry)


def jury_decision_signed(
    db: Session,
    decision: JuryDecision,
    ledger_entries: list[LedgerEntry],
    award: CertificationAward | None,
) -> None:
    """The certification jury's decision took effect (its minutes were signed): the gradebook
    gets the jury's result on each block the committee proposed (where it differs from what
    the LMS holds), the LRSs get the blocks achieved and the certification earned, and each
    block entering the ledger gets its Open Badges 3.0 credential."""
    _gradebook_after_jury(db, decision)
    _report(
        db,
        decision.organisation_id,
        f"jurydecision:{decision.id}",
        lambda: statements_for_jury_decision(db, decision),
        decision.person_id,
    )
    for entry in ledger_entries:
        credential_issued(db, entry)
    if award is not None:
        certification_credential_issued(db, award)


def _gradebook_after_jury(db: Session, decision: JuryDecision) -> None:
    """Each proposed block's column says what the jury decided (the committee's score was a
    proposal). Blocks the committee acquires itself (Mutualité) keep their committee score."""
    session = decision.session
    plugin = current_app.extensions["plugins"][decision.certification_code]
    jury = plugin.referential(decision.referential_version).certification_jury
    if jury.committee_acquires and decision.route == "evaluation":
        return
    day = session.held_on.strftime("%d/%m/%Y")
    for proposal in decision.proposals or []:
        ids = proposal.get("decision_ids") or []
        followed = db.get(Decision, ids[-1]) if ids else None
        if followed is None:
            continue
        block = proposal["block"]
        acquired = (
            held_entry(
                db,
                decision.person_id,
                decision.certification_code,
                decision.referential_version,
                block,
            )
            is not None
        )
        verb = "validé" if acquired else "non validé"
        results = followed.competency_results or []
        share = sum(1 for r in results if r.get("acquired")) / len(results) if results else None
        queue_jury_block_result(
            db,
            followed.submission.assessment,
            followed.submission.person,
            acquired=acquired,
            competency_share=share,
            event_key=f"jurydecision:{decision.id}:{block}",
            comment=f"Bloc {block} {verb} par le {jury.label} (session du {day})",
        )
