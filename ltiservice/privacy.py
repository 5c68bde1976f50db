"""Learners' personal data (RGPD): export everything we hold about a person, erase it.

Erasure keeps what the certifier must keep — decisions, the capitalisation ledger and
certification awards — but anonymised: the person's LMS identifier is replaced by a random
pseudonym, name and email are dropped, submitted texts and files are deleted, and remarks
written about the person are cleared. The command says so when it runs.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ltiservice.assessments import files
from ltiservice.errors import NotFoundError
from ltiservice.models import (
    CertificationAward,
    Decision,
    Evaluation,
    JuryDecision,
    LedgerEntry,
    OutboxMention,
    OutboxMessage,
    Person,
    Platform,
    Submission,
)

KEPT_FOR_CERTIFIER = (
    "Conservés de façon anonymisée (obligation du certificateur) : décisions du jury, blocs "
    "acquis (capitalisation) et certifications obtenues."
)


def find_person(db: Session, platform_id: int, sub: str) -> Person:
    person = db.scalar(select(Person).where(Person.platform_id == platform_id, Person.sub == sub))
    if person is None:
        raise NotFoundError(f"Aucune personne {sub!r} sur la plateforme {platform_id}.")
    return person


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def export_person(db: Session, person: Person) -> dict[str, Any]:
    """Everything stored about `person`, as plain JSON-ready data."""
    platform = db.get(Platform, person.platform_id)
    submissions = db.scalars(
        select(Submission).where(Submission.person_id == person.id).order_by(Submission.id)
    ).all()
    as_candidate = db.scalars(
        select(Evaluation).join(Submission).where(Submission.person_id == person.id)
    ).all()
    as_evaluator = db.scalars(select(Evaluation).where(Evaluation.evaluator_id == person.id)).all()
    decisions = db.scalars(select(Decision).where(Decision.person_id == person.id)).all()
    ledger = db.scalars(select(LedgerEntry).where(LedgerEntry.person_id == person.id)).all()
    awards = db.scalars(
        select(CertificationAward).where(CertificationAward.person_id == person.id)
    ).all()
    jury = db.scalars(
        select(JuryDecision).where(JuryDecision.person_id == person.id).order_by(JuryDecision.id)
    ).all()
    return {
        "person": {
            "platform": platform.issuer if platform else None,
            "lti_sub": person.sub,
            "name": person.name,
            "email": person.email,
            "first_seen": _iso(person.created_at),
            "last_seen": _iso(person.last_seen_at),
        },
        "submissions": [
            {
                "assessment": s.assessment.title,
                "attempt": s.attempt,
                "status": s.status,
                "text": s.text,
                "submitted_at": _iso(s.submitted_at),
                "files": [
                    {"name": f.filename, "size": f.size, "sha256": f.sha256, "erased": f.erased}
                    for f in s.files
                ],
            }
            for s in submissions
        ],
        "evaluations_received": [
            {
                "submission": e.submission_id,
                "jury_role": e.jury_role,
                "verdicts": e.verdicts,
                "remark": e.remark,
                "signed_at": _iso(e.signed_at),
            }
            for e in as_candidate
        ],
        "evaluations_written": [
            {
                "submission": e.submission_id,
                "jury_role": e.jury_role,
                "trained_candidate": e.trained_candidate,
                "signed_at": _iso(e.signed_at),
            }
            for e in as_evaluator
        ],
        "decisions": [
            {
                "certification": d.certification_code,
                "version": d.referential_version,
                "block": d.block_code,
                "acquired": d.block_acquired,
                "score": d.score_given,
                "score_maximum": d.score_maximum,
                "competencies": d.competency_results,
                "remarks": d.remarks,
                "comment": d.comment,
                "decided_at": _iso(d.decided_at),
                "supersedes": d.supersedes_id,
            }
            for d in decisions
        ],
        "acquired_blocks": [
            {
                "certification": e.certification_code,
                "version": e.referential_version,
                "block": e.block_code,
                "acquired_at": _iso(e.acquired_at),
            }
            for e in ledger
        ],
        "certifications": [
            {
                "certification": a.certification_code,
                "version": a.referential_version,
                "granted_at": _iso(a.granted_at),
                "by_certification_jury": a.jury_decision_id is not None,
            }
            for a in awards
        ],
        "certification_jury_decisions": [
            {
                "certification": j.certification_code,
                "version": j.referential_version,
                "session_date": j.session.held_on.isoformat(),
                "session_signed": j.session.status == "signed",
                "route": j.route,
                "dossier_reference": j.dossier_reference,
                "outcome": j.outcome,
                "blocks": j.blocks,
                "final_interview_passed": j.final_interview_passed,
                "reason": j.reason,
            }
            for j in jury
        ],
    }


def erase_person(db: Session, person: Person, upload_dir: str) -> dict[str, int]:
    """Erase the person's personal data, keeping anonymised certifier records. Commits.

    Deliveries follow the rule of ``docs/privacy.md``: those about the person not yet sent are
    dropped (status ``dropped``, kept as a record without the identifier); those already sent
    keep only their statement id; other people's deliveries that name the person (as
    evaluator or voiding signer) stay queued, under the person's new pseudonym.
    """
    counts = {"files": 0, "submissions": 0, "remarks": 0}
    submissions = db.scalars(select(Submission).where(Submission.person_id == person.id)).all()
    for submission in submissions:
        submission.text = ""
        counts["submissions"] += 1
        for stored in submission.files:
            if not stored.erased:
                files.discard(upload_dir, stored.storage_key)
                stored.erased = True
                counts["files"] += 1
    for evaluation in db.scalars(
        select(Evaluation).join(Submission).where(Submission.person_id == person.id)
    ):
        evaluation.remark = ""
        evaluation.verdicts = {cid: {**v, "remark": ""} for cid, v in evaluation.verdicts.items()}
        counts["remarks"] += 1
    for decision in db.scalars(select(Decision).where(Decision.person_id == person.id)):
        # Decisions are otherwise immutable; erasure is the one lawful exception.
        decision.remarks = {}
        decision.comment = ""
    pseudonym = f"efface-{secrets.token_hex(12)}"
    counts.update(_erase_deliveries(db, person, pseudonym))
    person.sub = pseudonym
    person.name = None
    person.email = None
    db.commit()
    return counts


ERASED_DELIVERY = "effacement RGPD : non envoyé (voir docs/privacy.md)"


def _erase_deliveries(db: Session, person: Person, pseudonym: str) -> dict[str, int]:
    """Apply the erasure rule to the outbox rows about or naming ``person``."""
    counts = {"pending_deliveries": 0, "sent_deliveries": 0, "renamed_deliveries": 0}
    issuer = person.platform.issuer
    about = db.scalars(
        select(OutboxMessage).where(OutboxMessage.person_id == person.id).with_for_update()
    )
    for message in about:
        if message.status == "delivered":
            counts["sent_deliveries"] += 1
        else:
            # Not sent yet (pending, or dead and retriable): never sent now. The row stays as
            # the record of what was dropped, and keeps a replay from re-sending the fact.
            message.status = "dropped"
            message.last_error = ERASED_DELIVERY
            counts["pending_deliveries"] += 1
        message.payload = _without_identity(message.payload)
    mentioned = select(OutboxMention.message_id).where(OutboxMention.person_id == person.id)
    naming = db.scalars(
        select(OutboxMessage)
        .where(
            or_(OutboxMessage.agent_id == person.id, OutboxMessage.id.in_(mentioned)),
            or_(OutboxMessage.person_id.is_(None), OutboxMessage.person_id != person.id),
        )
        .with_for_update()
    )
    for message in naming:
        message.payload = _renamed(message.payload, issuer, person.sub, pseudonym)
        counts["renamed_deliveries"] += 1
    db.flush()
    return counts


def _without_identity(payload: dict[str, Any]) -> dict[str, Any]:
    """What a delivery about an erased person keeps: the ids needed to recognise it."""
    kept: dict[str, Any] = {"erased": True}
    for key in ("id", "assessment_id"):
        if key in payload:
            kept[key] = payload[key]
    score = payload.get("score")
    if isinstance(score, dict) and "timestamp" in score:
        kept["score"] = {"timestamp": score["timestamp"]}  # the next score's lower bound
    return kept


def _renamed(payload: Any, issuer: str, sub: str, pseudonym: str) -> Any:
    """The payload with the person's account (issuer + sub) renamed to the pseudonym."""
    if isinstance(payload, list):
        return [_renamed(item, issuer, sub, pseudonym) for item in payload]
    if not isinstance(payload, dict):
        return payload
    if payload.get("homePage") == issuer and payload.get("name") == sub:
        return {**payload, "name": pseudonym}
    return {key: _renamed(value, issuer, sub, pseudonym) for key, value in payload.items()}


def purge_expired_files(db: Session, upload_dir: str, retention_days: int) -> int:
    """Delete the files of decided submissions older than the retention period."""
    if retention_days <= 0:
        return 0
    limit = datetime.now(UTC) - timedelta(days=retention_days)
    purged = 0
    decided = db.scalars(
        select(Submission)
        .join(Decision, Decision.submission_id == Submission.id)
        .where(Decision.decided_at < limit)
        .distinct()
    )
    for submission in decided:
        for stored in submission.files:
            if not stored.erased:
                files.discard(upload_dir, stored.storage_key)
                stored.erased = True
                purged += 1
    db.commit()
    return purged
