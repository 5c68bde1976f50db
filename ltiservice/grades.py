"""Scores for the LMS gradebook (AGS), queued in the outbox with the fact they report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ltiservice import outbox
from ltiservice.models import Assessment, OutboxMessage, Person

AGS_SCORE = "ags_score"


def _timestamp_after(db: Session, assessment: Assessment, person: Person) -> datetime:
    """Now, or just after the last score queued for this learner: Moodle answers 409 to a
    timestamp that is not strictly newer than the one it holds."""
    now = datetime.now(UTC)
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)
    last = db.scalar(
        select(OutboxMessage.payload)
        .where(
            OutboxMessage.kind == AGS_SCORE,
            OutboxMessage.dedupe_key.like(f"ags:{assessment.id}:{person.id}:%"),
        )
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    )
    if last is not None:
        previous = datetime.fromisoformat(last["score"]["timestamp"])
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
) -> None:
    """Queue one AGS score for the learner on the assessment's line item."""
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
    outbox.enqueue(
        db,
        organisation_id=assessment.organisation_id,
        kind=AGS_SCORE,
        destination=f"platform:{assessment.platform_id}",
        dedupe_key=f"ags:{assessment.id}:{person.id}:{event_key}",
        payload={"assessment_id": assessment.id, "person_id": person.id, "score": score},
        person_id=person.id,
        fact=f"{event_key}",
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
