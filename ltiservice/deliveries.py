"""Deliveries as an administrator reads them: when, about whom and which assessment, why.

The outbox keeps what the worker needs (``lrs:3``, payloads, the receiver's raw answer);
this module turns one organisation's messages into lines a person can act on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ltiservice.models import (
    Assessment,
    Decision,
    LrsDestination,
    OutboxMessage,
    Person,
    Platform,
    Submission,
)

KINDS = {"ags_score": "Note vers le carnet de notes", "xapi_statement": "Déclaration xAPI"}
STATUSES = {
    "pending": "En attente",
    "delivered": "Livrés",
    "dead": "En échec définitif",
    "dropped": "Abandonnés (effacement RGPD)",
}
_JSON_TAIL = re.compile(r"\s*[:\-]?\s*[\[{].*$", re.DOTALL)
_ENGLISH = {
    "no deliverer for kind": "type d'envoi inconnu du service",
}


@dataclass(frozen=True)
class Delivery:
    """One outbox message, described for the organisation's administrators."""

    id: int
    kind: str
    status: str
    destination: str
    learner: str | None
    assessment: str | None
    attempts: int
    created_at: datetime
    failing_since: datetime | None
    reason: str | None


def french_reason(raw: str | None) -> str | None:
    """The receiver's answer without its raw JSON body; English service messages in French."""
    if not raw:
        return None
    text = raw.strip()
    for english, french in _ENGLISH.items():
        if text.startswith(english):
            return french
    if text.startswith(("{", "[")):
        return "le destinataire a refusé l'envoi (détail technique conservé dans les journaux)"
    cut = _JSON_TAIL.sub("", text)
    return cut if cut else text


def destination_label(db: Session, destination: str) -> str:
    """« le LRS « Branche » », « la plateforme « Moodle » » instead of ``lrs:1``."""
    prefix, _, number = destination.partition(":")
    row: LrsDestination | Platform | None = None
    if number.isdigit():
        if prefix == "lrs":
            row = db.get(LrsDestination, int(number))
        elif prefix == "platform":
            row = db.get(Platform, int(number))
    if isinstance(row, LrsDestination):
        return f"le LRS « {row.name} »"
    if isinstance(row, Platform):
        return f"la plateforme « {row.name} »"
    return "un destinataire supprimé depuis"


def deliveries_of(
    db: Session, organisation_id: int, statuses: tuple[str, ...], limit: int = 100
) -> list[Delivery]:
    """The organisation's messages in these states, newest first."""
    messages = db.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.organisation_id == organisation_id,
            OutboxMessage.status.in_(statuses),
        )
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    )
    return [_describe(db, message) for message in messages]


def _describe(db: Session, message: OutboxMessage) -> Delivery:
    return Delivery(
        id=message.id,
        kind=KINDS.get(message.kind, "Envoi"),
        status=message.status,
        destination=destination_label(db, message.destination),
        learner=_learner(db, message),
        assessment=_assessment(db, message),
        attempts=message.attempts,
        created_at=message.created_at,
        failing_since=message.failing_since,
        reason=french_reason(message.last_error),
    )


def _learner(db: Session, message: OutboxMessage) -> str | None:
    person = db.get(Person, message.person_id) if message.person_id else None
    if person is None or person.platform.organisation_id != message.organisation_id:
        return None
    return person.name or f"Apprenant {person.sub}"


def _assessment(db: Session, message: OutboxMessage) -> str | None:
    assessment_id = (message.payload or {}).get("assessment_id")
    prefix, _, number = (message.fact or "").partition(":")
    if not isinstance(assessment_id, int) and number.isdigit():
        if prefix == "submission":
            assessment_id = db.scalar(
                select(Submission.assessment_id).where(Submission.id == int(number))
            )
        elif prefix == "decision":
            assessment_id = db.scalar(
                select(Submission.assessment_id)
                .join(Decision, Decision.submission_id == Submission.id)
                .where(Decision.id == int(number))
            )
    assessment = db.get(Assessment, assessment_id) if isinstance(assessment_id, int) else None
    if assessment is None or assessment.organisation_id != message.organisation_id:
        return None
    return f"{assessment.title} ({assessment.certification_code}, bloc {assessment.block_code})"
