"""Our rows → the xAPI model's inputs → statements (the pure builders live in ``xapi/``).

Used twice with the same result: by ``ltiservice.events`` at the moment a fact is stored, and by
``ltiservice xapi replay`` to rebuild history for a newly added LRS. Everything a statement
carries is read from rows that never change once the fact is stored (a signed evaluation, an
immutable decision, the append-only ledger), so a rebuilt statement equals the one queued at
the time and the LRS sees the same id with the same content.

IRIs minted here live under the xAPI IRI base (setting ``xapi_iri_base``, by default
``<base_url>/xapi``): ``/courses/<course id>``, ``/assessments/<resource id>`` (our own
placement id, also the AGS ``resourceId``), ``/certifications/<code>[/blocks|/competencies|
/cases/<code>]``; a trainer's own case is ``<assessment IRI>/case``. The service serves an
activity definition at each (``ltiservice.xapi_iris``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

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
    JuryDecision,
    JurySession,
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
    build_competency_results,
    build_evaluated,
    build_launched,
    build_submitted,
    build_voided,
    superseded_statement_ids,
)
from xapi.vocabulary import CRITERION_VERDICTS, LEGACY_BASE, Vocabulary

# UUIDv5 namespace of registrations (a learner's candidature to one certification). Never
# change it: every LRS groups a learner's statements by this id.
REGISTRATION_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, f"{LEGACY_BASE}/registrations")

# Scores reported to LRSs are rounded to the hundredth, the precision of the gradebook scale.
SCORE_DECIMALS = 2


def registration(issuer: str, sub: str, certification_code: str) -> uuid.UUID:
    """The learner's candidature to a certification: stable across courses and attempts."""
    return uuid.uuid5(REGISTRATION_NAMESPACE, "\x1f".join((issuer, sub, certification_code)))


def vocabulary() -> Vocabulary:
    """Our IRIs under the configured base (``xapi_iri_base``, else ``<base_url>/xapi``)."""
    return Vocabulary(current_app.config["SETTINGS"].xapi_base)


def actor_of(person: Person) -> model.Actor:
    """The pseudonymous actor: the platform's issuer and the LTI ``sub`` (never name/email)."""
    return model.Actor(person.platform.issuer, person.sub)


def _aware(moment: datetime | None) -> datetime:
    # SQLite hands timezone-aware columns back naive; every stored moment is UTC.
    if moment is None:
        return datetime.now(UTC)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _plugin(code: str) -> Any:
    return current_app.extensions["plugins"][code]


def _referential(code: str, version: str) -> Referential:
    return _plugin(code).referential(version)  # type: ignore[no-any-return]


def certification_ref(referential: Referential) -> model.CertificationRef:
    """The certification under this referential version."""
    cert = referential.certification
    return model.CertificationRef(cert.code, cert.rncp_code, cert.title, cert.version)


def block_ref(referential: Referential, block_code: str) -> model.BlockRef:
    block = referential.block(block_code)
    return model.BlockRef(block.code, block.rncp_block_code, block.title or block.code)


def course_ref(assessment: Assessment) -> model.ActivityRef:
    course = assessment.course
    title = course.title or course.label or course.context_id
    return model.ActivityRef(vocabulary().course(str(course.id)), title)


def placement_of(assessment: Assessment) -> model.Placement:
    """Certification ▸ block ▸ case of a placed assessment, the course it sits in, its scale."""
    vocab = vocabulary()
    referential = _referential(assessment.certification_code, assessment.referential_version)
    certification = certification_ref(referential)
    assessment_iri = vocab.assessment(assessment.resource_id)
    if assessment.case_id:
        titles = {case.id: case.title for case in referential.cases}
        case = model.ActivityRef(
            vocab.case(certification.code, assessment.case_id),
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
        float(assessment.score_maximum),
    )


def assessment_score(given: float, maximum: float, assessment: Assessment) -> model.Score:
    """``given`` out of ``maximum`` on the assessment's scale, to the hundredth."""
    top = float(assessment.score_maximum)
    share = min(max(float(given) / float(maximum), 0.0), 1.0) if maximum > 0 else 0.0
    return model.Score(round(share * top, SCORE_DECIMALS), 0.0, top)


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
            vocabulary(),
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
            vocabulary(),
            actor_of(person),
            placement_of(assessment),
            _registration_of(person, assessment),
            str(submission.id),
            int(submission.attempt),
            _aware(submission.submitted_at),
        )
    ]


def _evaluator_score(
    referential: Referential, assessment: Assessment, verdicts: dict[str, str]
) -> model.Score:
    """What this evaluator's verdicts alone would give by the plugin's rules, on the
    assessment's scale (the one the jury's decision uses)."""
    plugin = _plugin(referential.certification.code)
    outcome = plugin.rules.block_outcome(referential.block(assessment.block_code), verdicts)
    given, maximum = plugin.rules.lms_grade(referential, outcome)
    return assessment_score(given, maximum, assessment)


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
        _evaluator_score(referential, assessment, verdicts),
        int(submission.attempt),
    )
    return [
        build_evaluated(
            vocabulary(),
            actor_of(person),
            placement_of(assessment),
            _registration_of(person, assessment),
            reading,
            _aware(evaluation.signed_at),
        )
    ]


def _jury(db: Session, decision: Decision) -> tuple[model.Actor, ...]:
    """Who sat and signed: the evaluators recorded on the decision and its signer."""
    ids = [e.get("person_id") for e in decision.evaluators or [] if isinstance(e, dict)]
    ids.append(decision.signed_by_id)
    people = (db.get(Person, person_id) for person_id in dict.fromkeys(ids) if person_id)
    return tuple(actor_of(person) for person in people if person is not None)


def _decision_input(db: Session, decision: Decision) -> model.Decision:
    submission = decision.submission
    referential = _referential(decision.certification_code, decision.referential_version)
    competencies = []
    for result in decision.competency_results or []:
        code = str(result["code"])
        competencies.append(
            model.CompetencyResult(
                code,
                referential.competency(code).wording,
                bool(result.get("acquired")),
                int(result.get("met", 0)),
                int(result.get("total", 0)),
            )
        )
    return model.Decision(
        str(decision.id),
        bool(decision.block_acquired),
        assessment_score(decision.score_given, decision.score_maximum, submission.assessment),
        tuple(competencies),
        _jury(db, decision),
        int(submission.attempt),
        str(decision.supersedes_id) if decision.supersedes_id is not None else None,
    )


def _counts_as(referential: Referential, block_code: str) -> list[model.BlockRef]:
    """The current version's blocks an older version's block counts as (equivalence table)."""
    plugin = _plugin(referential.certification.code)
    if referential.version == plugin.current.version:
        return []
    codes = plugin.translate_blocks(referential.version, {block_code})
    return [block_ref(plugin.current, code) for code in sorted(codes)]


def _rests_on(db: Session, decision: Decision, basis_id: int | None, acquired_only: bool) -> bool:
    """Whether the statement grounded on decision ``basis_id`` now rests on ``decision``:
    it is that decision, or corrects it (through a chain of corrections)."""
    current: Decision | None = decision
    while current is not None and (current.block_acquired or not acquired_only):
        if current.id == basis_id:
            return True
        current = db.get(Decision, current.supersedes_id) if current.supersedes_id else None
    return False


def _ledger_entry_of(db: Session, decision: Decision) -> LedgerEntry | None:
    """The entry the committee itself wrote for the block (the jury's have their own facts)."""
    return db.scalar(
        select(LedgerEntry).where(
            LedgerEntry.body == "evaluation_committee",
            LedgerEntry.person_id == decision.person_id,
            LedgerEntry.certification_code == decision.certification_code,
            LedgerEntry.referential_version == decision.referential_version,
            LedgerEntry.block_code == decision.block_code,
        )
    )


def _award_of(db: Session, decision: Decision) -> CertificationAward | None:
    """An award a committee decision completed (before the certification jury, 0011)."""
    return db.scalar(
        select(CertificationAward).where(
            CertificationAward.jury_decision_id.is_(None),
            CertificationAward.person_id == decision.person_id,
            CertificationAward.certification_code == decision.certification_code,
        )
    )


def statements_for_decision(
    db: Session,
    decision: Decision,
    ledger_entry: LedgerEntry | None,
    award: CertificationAward | None,
) -> list[Statement]:
    """Passed/failed for the block and for each competency, then achieved (ledger), earned
    (award); for a correction, achieved / earned again when they rested on the superseded
    decision, and the voids of everything that rested on it."""
    vocab = vocabulary()
    submission = decision.submission
    assessment, person = submission.assessment, submission.person
    actor, placement = actor_of(person), placement_of(assessment)
    reg = _registration_of(person, assessment)
    at = _aware(decision.decided_at)
    facts = _decision_input(db, decision)
    statements = [build_block_decided(vocab, actor, placement, reg, facts, at)]
    statements += build_competency_results(vocab, actor, placement, reg, facts, at)
    old = db.get(Decision, decision.supersedes_id) if decision.supersedes_id else None
    entry = ledger_entry if ledger_entry is not None else _ledger_entry_of(db, decision)
    old_had_achieved = (
        old is not None and entry is not None and _rests_on(db, old, entry.decision_id, True)
    )
    if ledger_entry is not None or (old_had_achieved and decision.block_acquired):
        referential = _referential(decision.certification_code, decision.referential_version)
        statements.append(
            build_block_acquired(
                vocab,
                actor,
                placement.certification,
                placement.block,
                placement.course,
                reg,
                str(decision.id),
                facts.jury,
                at,
                _counts_as(referential, decision.block_code),
            )
        )
    standing_award = award if award is not None else _award_of(db, decision)
    old_had_earned = (
        old is not None
        and standing_award is not None
        and _rests_on(db, old, standing_award.decision_id, False)
    )
    if standing_award is not None and (award is not None or old_had_earned):
        statements.append(_earned(db, person, standing_award, decision, facts.jury, reg, at))
    if old is not None:
        earned_cert = None
        if old_had_earned and standing_award is not None:
            earned_cert = certification_ref(
                _referential(standing_award.certification_code, standing_award.referential_version)
            )
        superseded = superseded_statement_ids(
            vocab, actor, placement, _decision_input(db, old), old_had_achieved, earned_cert
        )
        signer = db.get(Person, decision.signed_by_id) if decision.signed_by_id else None
        voider = actor_of(signer) if signer is not None else actor
        statements += [build_voided(vocab, voider, target, reg, at) for target in superseded]
    return statements


def _earned(
    db: Session,
    person: Person,
    award: CertificationAward,
    basis: Decision,
    jury: tuple[model.Actor, ...],
    reg: uuid.UUID,
    at: datetime,
) -> Statement:
    referential = _referential(award.certification_code, award.referential_version)
    # The blocks held when the award was granted (never later ones: a replay must rebuild the
    # same statement), each under the referential version it was acquired in.
    held_then = (
        LedgerEntry.acquired_at <= award.granted_at
        if award.decision_id is None
        else LedgerEntry.decision_id <= award.decision_id
    )
    entries = db.scalars(
        select(LedgerEntry)
        .where(
            LedgerEntry.person_id == person.id,
            LedgerEntry.certification_code == award.certification_code,
            held_then,
        )
        .order_by(LedgerEntry.referential_version, LedgerEntry.block_code)
    )
    blocks = [
        block_ref(
            _referential(entry.certification_code, entry.referential_version), entry.block_code
        )
        for entry in entries
    ]
    basis_block = block_ref(
        _referential(basis.certification_code, basis.referential_version), basis.block_code
    )
    return build_certification_earned(
        vocabulary(),
        actor_of(person),
        certification_ref(referential),
        blocks,
        (basis_block, str(basis.id)),
        jury,
        at,
        reg,
    )


def statements_for_jury_decision(db: Session, decision: JuryDecision) -> list[Statement]:
    """The certification jury's signed decision: ``achieved`` for each block it validated and
    ``earned`` for the certification it awarded.

    Each statement rests on the committee decision the jury followed (``context.statement``
    points to its ``passed``). A block validated without one (VAE, or a departure from the
    proposals) has no statement yet: the vocabulary has no jury-decided statement to point to.
    """
    vocab = vocabulary()
    person = decision.person
    actor = actor_of(person)
    session = decision.session
    signer = db.get(Person, session.signed_by_id) if session.signed_by_id else None
    jury = (actor_of(signer),) if signer is not None else ()
    reg = registration(person.platform.issuer, person.sub, decision.certification_code)
    at = _aware(session.signed_at)
    referential = _referential(decision.certification_code, decision.referential_version)
    statements: list[Statement] = []
    basis: Decision | None = None
    for entry in db.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.jury_decision_id == decision.id)
        .order_by(LedgerEntry.id)
    ):
        followed = db.get(Decision, entry.decision_id) if entry.decision_id else None
        if followed is None:
            continue
        basis = followed
        placement = placement_of(followed.submission.assessment)
        statements.append(
            build_block_acquired(
                vocab,
                actor,
                placement.certification,
                placement.block,
                placement.course,
                reg,
                str(followed.id),
                jury + _jury(db, followed),
                at,
                _counts_as(referential, entry.block_code),
            )
        )
    award = db.scalar(
        select(CertificationAward).where(CertificationAward.jury_decision_id == decision.id)
    )
    if award is not None and basis is None:
        basis = _last_followed(db, decision)
    if award is not None and basis is not None:
        statements.append(_earned(db, person, award, basis, jury, reg, at))
    return statements


def _last_followed(db: Session, decision: JuryDecision) -> Decision | None:
    """The latest committee decision the jury had before it (the basis of an award that
    validated no new block, e.g. Mutualité's delivery after the final interview)."""
    ids = [i for p in decision.proposals or [] for i in p.get("decision_ids") or []]
    return db.get(Decision, max(ids)) if ids else None


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
    jury_decisions = db.scalars(
        select(JuryDecision)
        .join(JurySession, JuryDecision.session_id == JurySession.id)
        .where(
            JuryDecision.organisation_id == organisation_id,
            JurySession.status == "signed",
            JurySession.signed_at >= since,
        )
    )
    items += [HistoryItem(_aware(d.session.signed_at), d) for d in jury_decisions]
    return sorted(items, key=lambda item: (item.at, type(item.row).__name__, item.row.id))


def statements_for(db: Session, item: HistoryItem) -> list[Statement]:
    """Rebuild the statements of one history item (the same ones its event queued)."""
    row = item.row
    if isinstance(row, Submission):
        return statements_for_submission(db, row)
    if isinstance(row, Evaluation):
        return statements_for_evaluation(db, row)
    if isinstance(row, JuryDecision):
        return statements_for_jury_decision(db, row)
    entry = db.scalar(
        select(LedgerEntry).where(
            LedgerEntry.decision_id == row.id, LedgerEntry.body == "evaluation_committee"
        )
    )
    award = db.scalar(
        select(CertificationAward).where(
            CertificationAward.decision_id == row.id, CertificationAward.jury_decision_id.is_(None)
        )
    )
    return statements_for_decision(db, row, entry, award)


def iter_history_statements(
    db: Session, organisation_id: int, since: datetime
) -> Iterator[Statement]:
    """Every statement of the history since ``since`` (convenience for tests and tools)."""
    for item in history(db, organisation_id, since):
        yield from statements_for(db, item)
