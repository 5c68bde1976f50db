"""Scores for the LMS gradebook (AGS), queued in the outbox with the fact they report.

A block result reaches the gradebook through the assessment's ``grade_mapping``:
``decision`` (acquired = the column's maximum, not acquired = 0: a course pass grade reads it
right) or ``competency_share`` (the share of the block's competencies acquired, the behaviour
before migration 0012, which makes a failed block look like a pass). The comment always says
which mapping applies and whose result it is: a committee's block proposal that a
certification jury must still decide says so (docs/gradebook.md).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ltiservice import outbox
from ltiservice.models import Assessment, OutboxMessage, Person

AGS_SCORE = "ags_score"

#: grade_mapping value -> its French wording (placement form, comments).
GRADE_MAPPINGS: dict[str, str] = {
    "decision": "acquis = note maximale, non acquis = 0",
    "competency_share": "part des compétences acquises",
}
DEFAULT_GRADE_MAPPING = "decision"

AWAITING_JURY = (
    "Proposition du comité d'évaluation, en attente de la décision du jury de certification."
)


def block_score(
    assessment: Assessment, *, acquired: bool, competency_share: float | None
) -> tuple[float, str]:
    """(score given, mapping applied) for a block result on the assessment's column.

    ``competency_share`` is 0..1. Without it (a block the jury decided with no submission)
    the share is unknown and the decision mapping applies, which the comment then says. An
    acquired block is acquired in full: it scores the maximum under both mappings.
    """
    maximum = float(assessment.score_maximum)
    mapping = assessment.grade_mapping or DEFAULT_GRADE_MAPPING
    if mapping == "competency_share" and competency_share is not None and not acquired:
        share = min(max(float(competency_share), 0.0), 1.0)
        return round(share * maximum, 4), mapping
    if mapping == "competency_share" and competency_share is None:
        mapping = "decision"
    return (maximum if acquired else 0.0), mapping


def mapping_note(mapping: str) -> str:
    """The sentence of a comment that says how the score reads."""
    return f"Note : {GRADE_MAPPINGS[mapping]}."


def gradebook_comment(summary: str, mapping: str, *, awaiting_jury: bool) -> str:
    """The comment beside a score: the result, whose result it is, how the score reads."""
    parts = [summary.rstrip(".") + "."]
    if awaiting_jury:
        parts.append(AWAITING_JURY)
    parts.append(mapping_note(mapping))
    return " ".join(parts)


def _last_score(
    db: Session, assessment: Assessment, person: Person, *, held_only: bool = False
) -> dict[str, Any] | None:
    """The last score queued for this learner on this assessment. ``held_only``: among those
    the LMS holds or will hold once delivered (a dead-lettered score never reached it)."""
    query = (
        select(OutboxMessage.payload)
        .where(
            OutboxMessage.kind == AGS_SCORE,
            OutboxMessage.dedupe_key.like(f"ags:{assessment.id}:{person.id}:%"),
        )
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    )
    if held_only:
        query = query.where(OutboxMessage.status != "dead")
    payload = db.scalar(query)
    return payload["score"] if payload else None


def _timestamp_after(db: Session, assessment: Assessment, person: Person) -> datetime:
    """Now, or just after the last score queued for this learner: Moodle answers 409 to a
    timestamp that is not strictly newer than the one it holds."""
    now = datetime.now(UTC)
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)
    last = _last_score(db, assessment, person)
    if last is not None:
        previous = datetime.fromisoformat(last["timestamp"])
        if previous >= now:
            return previous + timedelta(milliseconds=1)
    return now


def queue_score(
    db: Session,
    assessment: Assessment,
    person: Person,
    *,
    event_key: str,
    activity_progress: str,
    grading_progress: str,
    score_given: float | None = None,
    comment: str | None = None,
) -> bool:
    """Queue one AGS score for the learner on the assessment's line item; False when this
    event's score was queued already (the dedupe key is known)."""
    score: dict[str, Any] = {
        "userId": person.sub,
        "activityProgress": activity_progress,
        "gradingProgress": grading_progress,
        "timestamp": _timestamp_after(db, assessment, person).isoformat(timespec="milliseconds"),
    }
    if score_given is not None:
        score["scoreGiven"] = round(float(score_given), 4)
        score["scoreMaximum"] = float(assessment.score_maximum)
    if comment:
        score["comment"] = comment[:4000]
    message = outbox.enqueue(
        db,
        organisation_id=assessment.organisation_id,
        kind=AGS_SCORE,
        destination=f"platform:{assessment.platform_id}",
        dedupe_key=f"ags:{assessment.id}:{person.id}:{event_key}",
        payload={"assessment_id": assessment.id, "person_id": person.id, "score": score},
        person_id=person.id,
        fact=f"{event_key}",
    )
    return message is not None


def queue_jury_block_result(
    db: Session,
    assessment: Assessment,
    person: Person,
    *,
    acquired: bool,
    competency_share: float | None,
    event_key: str,
    comment: str,
) -> bool:
    """Queue the certification jury's decision on a block where the gradebook shows otherwise.

    ``acquired`` goes through the assessment's ``grade_mapping`` (`block_score`);
    ``competency_share`` (0..1) is the share the committee's proposal found, None when the jury
    decided without one. ``comment`` is the jury's wording; the mapping's note is appended.
    Returns False, queuing nothing, when the last score queued for this learner (and not
    dead-lettered) already has this score and comment: the LMS holds it; False too when
    ``event_key`` was queued already. The caller commits.
    """
    score, mapping = block_score(assessment, acquired=acquired, competency_share=competency_share)
    full_comment = gradebook_comment(comment, mapping, awaiting_jury=False)[:4000]
    last = _last_score(db, assessment, person, held_only=True)
    if (
        last is not None
        and last.get("gradingProgress") == "FullyGraded"
        and last.get("scoreGiven") == round(score, 4)
        and last.get("comment") == full_comment
    ):
        return False
    return queue_score(
        db,
        assessment,
        person,
        event_key=event_key,
        activity_progress="Completed",
        grading_progress="FullyGraded",
        score_given=score,
        comment=full_comment,
    )


def failed_scores(db: Session, assessment: Assessment) -> int:
    """How many of this assessment's scores the platform refused for good."""
    return int(
        db.scalar(
            select(func.count(OutboxMessage.id)).where(
                OutboxMessage.kind == AGS_SCORE,
                OutboxMessage.status == "dead",
                OutboxMessage.dedupe_key.like(f"ags:{assessment.id}:%"),
            )
        )
        or 0
    )
