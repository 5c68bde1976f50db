"""Our rows → the xAPI model's inputs → statements (the pure builders live in ``xapi/``).

Used twice with the same result: by ``ltiservice.events`` at the moment a fact is stored, and by
``ltiservice xapi replay`` to rebuild history for a newly added LRS. Everything a statement
carries is read from rows that never change once the fact is stored (a signed evaluation, an
immutable decision, the append-only ledger), so a rebuilt statement equals the one queued at
the time and the LRS sees the same id with the same content.

IRIs minted here live under the tool's ``base_url``: ``/xapi/courses/<course id>`` and
``/xapi/assessments/<resource id>`` (our own placement id, also the AGS ``resourceId``); a
plugin case is ``<referential IRI>/cases/<case id>``, a trainer's own case
``<assessment IRI>/case``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from ltiservice.grading.referential import Referential
from ltiservice.lti.context import LaunchContext
from ltiservice.models import (
    Assessment,
    CertificationAward,
    Decision,
    Evaluation,
    LedgerEntry,
    Person,
    Submission,
)
from xapi import model
from xapi.statements import (
    Statement,
    build_block_acquired,
    build_block_decided,
    build_certification_earned,
    build_evaluated,
    build_launched,
    build_submitted,
    build_voided,
    decided_statement_id,
)
from xapi.vocabulary import CRITERION_VERDICTS, PROFILE_BASE, rncp_iri

# UUIDv5 namespace of registrations (a learner's candidature to one certification). Never
# change it: every LRS groups a learner's statements by this id.
REGISTRATION_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, f"{PROFILE_BASE}/registrations")


def registration(issuer: str, sub: str, certification_code: str) -> uuid.UUID:
    """The learner's candidature to a certification: stable across courses and attempts."""
    return uuid.uuid5(REGISTRATION_NAMESPACE, "\x1f".join((issuer, sub, certification_code)))


def actor_of(person: Person) -> model.Actor:
    """The pseudonymous actor: the platform's issuer and the LTI ``sub`` (never name/email)."""
    return model.Actor(person.platform.issuer, person.sub)


def _aware(moment: datetime | None) -> datetime:
    # SQLite hands timezone-aware columns back naive; every stored moment is UTC.
    if moment is None:
        return datetime.now(UTC)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _referential(code: str, version: str) -> Referential:
    return current_app.extensions["plugins"][code].referential(version)  # type: ignore[no-any-return]


def _base_url() -> str:
    return str(current_app.config["SETTINGS"].base_url).rstrip("/")


def certification_ref(referential: Referential) -> model.CertificationRef:
    """The certification under this referential version, identified by its RNCP page."""
    cert = referential.certification
    iri = (
        rncp_iri(cert.rncp_code)
        if cert.rncp_code
        else f"{PROFILE_BASE}/certifications/{quote(cert.code)}"
    )
    return model.CertificationRef(cert.code, cert.rncp_code, cert.title, cert.version, iri)


def block_ref(referential: Referential, block_code: str) -> model.BlockRef:
    block = referential.block(block_code)
    return model.BlockRef(block.code, block.rncp_block_code, block.title or block.code)


def course_ref(assessment: Assessment) -> model.ActivityRef:
    course = assessment.course
    title = course.title or course.label or course.context_id
    return model.ActivityRef(f"{_base_url()}/xapi/courses/{course.id}", title)


def placement_of(assessment: Assessment) -> model.Placement:
    """Certification ▸ block ▸ case of a placed assessment, and the course it sits in."""
    referential = _referential(assessment.certification_code, assessment.referential_version)
    certification = certification_ref(referential)
    assessment_iri = f"{_base_url()}/xapi/assessments/{quote(assessment.resource_id)}"
    if assessment.case_id:
        titles = {case.id: case.title for case in referential.cases}
        case = model.ActivityRef(
            f"{certification.referential_iri}/cases/{quote(assessment.case_id)}",
            titles.get(assessment.case_id) or assessment.title,
        )
    else:
        custom = assessment.custom_case or {}
        case = model.ActivityRef(f"{assessment_iri}/case", custom.get("title") or assessment.title)
    return model.Placement(
        certification,
        block_ref(referential, assessment.block_code),
        course_ref(assessment),
        model.ActivityRef(assessment_iri, assessment.title),
        case,
    )


def _registration_of(person: Person, assessment: Assessment) -> uuid.UUID:
    return registration(person.platform.issuer, person.sub, assessment.certification_code)


def statements_for_launch(
    db: Session, context: LaunchContext, assessment: Assessment, at: datetime | None = None
) -> list[Statement]:
    """A learner opened the assessment (one statement per launch; trainers are not reported)."""
    if context.is_trainer:
        return []
    person = db.get(Person, context.person_id)
    if person is None:
        return []
    return [
        build_launched(
            actor_of(person),
            placement_of(assessment),
            _registration_of(person, assessment),
            context.launch_id,
            _aware(at),
        )
    ]


def statements_for_submission(db: Session, submission: Submission) -> list[Statement]:
    """The learner handed in this attempt."""
    assessment, person = submission.assessment, submission.person
    return [
        build_submitted(
            actor_of(person),
            placement_of(assessment),
            _registration_of(person, assessment),
            str(submission.id),
            _aware(submission.submitted_at),
        )
    ]


def _evaluator_score(
    referential: Referential, block_code: str, verdicts: dict[str, str]
) -> model.Score:
    """What this evaluator's verdicts alone would give, by the plugin's own rules."""
    plugin = current_app.extensions["plugins"][referential.certification.code]
    outcome = plugin.rules.block_outcome(referential.block(block_code), verdicts)
    given, maximum = plugin.rules.lms_grade(referential, outcome)
    return model.Score(min(max(float(given), 0.0), float(maximum)), 0.0, float(maximum))


def statements_for_evaluation(db: Session, evaluation: Evaluation) -> list[Statement]:
    """One evaluator signed their reading (actor: the learner; instructor: the evaluator)."""
    if evaluation.status != "signed":
        return []
    submission = evaluation.submission
    assessment, person = submission.assessment, submission.person
    verdicts = {
        cid: entry["verdict"]
        for cid, entry in (evaluation.verdicts or {}).items()
        if isinstance(entry, dict) and entry.get("verdict") in CRITERION_VERDICTS
    }
    referential = _referential(assessment.certification_code, assessment.referential_version)
    reading = model.Evaluation(
        str(evaluation.id),
        actor_of(evaluation.evaluator),
        evaluation.jury_role or "evaluator",
        verdicts,
        _evaluator_score(referential, assessment.block_code, verdicts),
    )
    return [
        build_evaluated(
            actor_of(person),
            placement_of(assessment),
            _registration_of(person, assessment),
            reading,
            _aware(evaluation.signed_at),
        )
    ]


def _decision_input(decision: Decision) -> model.Decision:
    maximum = float(decision.score_maximum)
    return model.Decision(
        str(decision.id),
        bool(decision.block_acquired),
        model.Score(min(max(float(decision.score_given), 0.0), maximum), 0.0, maximum),
        {
            str(result["code"]): "acquired" if result.get("acquired") else "not_acquired"
            for result in decision.competency_results or []
        },
    )


def statements_for_decision(
    db: Session,
    decision: Decision,
    ledger_entry: LedgerEntry | None,
    award: CertificationAward | None,
) -> list[Statement]:
    """Passed/failed for the block, then achieved (ledger), earned (award), and the void of
    the decided statement this decision supersedes."""
    submission = decision.submission
    assessment, person = submission.assessment, submission.person
    actor, placement = actor_of(person), placement_of(assessment)
    reg = _registration_of(person, assessment)
    at = _aware(decision.decided_at)
    statements = [build_block_decided(actor, placement, reg, _decision_input(decision), at)]
    if ledger_entry is not None:
        statements.append(
            build_block_acquired(
                actor,
                placement.certification,
                placement.block,
                placement.course,
                reg,
                str(ledger_entry.decision_id),
                at,
            )
        )
    if award is not None:
        statements.append(_earned(db, person, award, reg, at))
    if decision.supersedes_id is not None:
        statements.append(_void_superseded(db, decision, actor, at))
    return statements


def _earned(
    db: Session, person: Person, award: CertificationAward, reg: uuid.UUID, at: datetime
) -> Statement:
    referential = _referential(award.certification_code, award.referential_version)
    # The blocks held when the award was granted (never later ones: a replay must rebuild the
    # same statement), each under the referential version it was acquired in.
    entries = db.scalars(
        select(LedgerEntry)
        .where(
            LedgerEntry.person_id == person.id,
            LedgerEntry.certification_code == award.certification_code,
            LedgerEntry.decision_id <= award.decision_id,
        )
        .order_by(LedgerEntry.referential_version, LedgerEntry.block_code)
    )
    blocks = [
        block_ref(
            _referential(entry.certification_code, entry.referential_version), entry.block_code
        )
        for entry in entries
    ]
    return build_certification_earned(
        actor_of(person), certification_ref(referential), blocks, at, reg
    )


def _void_superseded(
    db: Session, decision: Decision, learner: model.Actor, at: datetime
) -> Statement:
    old = db.get(Decision, decision.supersedes_id)
    if old is None:
        raise LookupError(f"decision {decision.supersedes_id} superseded by {decision.id} is gone")
    referential = _referential(old.certification_code, old.referential_version)
    voided = decided_statement_id(
        learner, certification_ref(referential), block_ref(referential, old.block_code), str(old.id)
    )
    signer = db.get(Person, decision.signed_by_id) if decision.signed_by_id else None
    return build_voided(actor_of(signer) if signer is not None else learner, voided, at)


@dataclass(frozen=True)
class HistoryItem:
    """One stored fact to report again: its moment and how to rebuild its statements."""

    at: datetime
    row: Any

    @property
    def fact(self) -> str:
        """The fact key its event queued the statements under (``submission:12``…)."""
        return f"{type(self.row).__name__.lower()}:{self.row.id}"

    @property
    def person_id(self) -> int:
        """The learner the fact is about."""
        row = self.row
        if isinstance(row, Evaluation):
            return int(row.submission.person_id)
        return int(row.person_id)


def history(db: Session, organisation_id: int, since: datetime) -> list[HistoryItem]:
    """The organisation's reportable facts since ``since``, oldest first.

    Submissions handed in, signed evaluations, and decisions (with their ledger entry, award
    and the void of what they supersede). Launches are not kept, so they are not replayed.
    """
    items: list[HistoryItem] = []
    submissions = db.scalars(
        select(Submission)
        .join(Assessment, Submission.assessment_id == Assessment.id)
        .where(
            Assessment.organisation_id == organisation_id,
            Submission.submitted_at.is_not(None),
            Submission.submitted_at >= since,
            Submission.status != "draft",
        )
    )
    items += [HistoryItem(_aware(s.submitted_at), s) for s in submissions]
    evaluations = db.scalars(
        select(Evaluation)
        .join(Submission, Evaluation.submission_id == Submission.id)
        .join(Assessment, Submission.assessment_id == Assessment.id)
        .where(
            Assessment.organisation_id == organisation_id,
            Evaluation.status == "signed",
            Evaluation.signed_at >= since,
        )
    )
    items += [HistoryItem(_aware(e.signed_at), e) for e in evaluations]
    decisions = db.scalars(
        select(Decision).where(
            Decision.organisation_id == organisation_id, Decision.decided_at >= since
        )
    )
    items += [HistoryItem(_aware(d.decided_at), d) for d in decisions]
    return sorted(items, key=lambda item: (item.at, type(item.row).__name__, item.row.id))


def statements_for(db: Session, item: HistoryItem) -> list[Statement]:
    """Rebuild the statements of one history item (the same ones its event queued)."""
    row = item.row
    if isinstance(row, Submission):
        return statements_for_submission(db, row)
    if isinstance(row, Evaluation):
        return statements_for_evaluation(db, row)
    entry = db.scalar(select(LedgerEntry).where(LedgerEntry.decision_id == row.id))
    award = db.scalar(select(CertificationAward).where(CertificationAward.decision_id == row.id))
    return statements_for_decision(db, row, entry, award)


def iter_history_statements(
    db: Session, organisation_id: int, since: datetime
) -> Iterator[Statement]:
    """Every statement of the history since ``since`` (convenience for tests and tools)."""
    for item in history(db, organisation_id, since):
        yield from statements_for(db, item)
