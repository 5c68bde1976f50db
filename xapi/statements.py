"""Pure builders of the xAPI 1.0.3 statements ltiservice emits (no I/O, no clock, no randomness).

Shape, shared by every builder:
- ``id`` is a UUIDv5 of a stable event key (kind, actor, object, the service's own id for the
  event), so a statement rebuilt for a retry is byte-for-byte the same and an LRS never stores
  it twice;
- the actor is pseudonymous: ``account {homePage: LMS issuer, name: LTI sub}``, never a name or
  an email;
- ``timestamp`` is the moment of the fact, in UTC with a ``Z``; naive datetimes are refused;
- ``contextActivities`` values are arrays; ``category`` always holds our profile version, which
  commits the statement to one of the profile's templates (``xapi/profile.jsonld``).

cmi5's discipline is borrowed without claiming cmi5: ``result.success`` only on passed/failed.
Ordering rules across statements (one ``passed`` per block and registration, no ``failed`` after
``passed``) need history and are the caller's job.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from xapi.model import (
    ActivityRef,
    Actor,
    BlockRef,
    CertificationRef,
    Decision,
    Evaluation,
    Placement,
    Score,
)
from xapi.vocabulary import (
    COMPETENCY_RESULTS,
    CRITERION_VERDICTS,
    PROFILE_VERSION,
    STATEMENT_ID_NAMESPACE,
    ActivityType,
    Extension,
    Verb,
)

Statement = dict[str, Any]

_JURY_ROLE = re.compile(r"^[a-z][a-z0-9_]*$")


def statement_id(kind: str, actor: Actor, object_iri: str, local_id: str) -> str:
    """Deterministic statement id: UUIDv5 of the event key (never random, never a counter)."""
    if not local_id:
        raise ValueError("an event needs the service's own id to get a stable statement id")
    key = "\x1f".join((kind, actor.homepage, actor.name, object_iri, local_id))
    return str(uuid.uuid5(STATEMENT_ID_NAMESPACE, key))


def block_iri(certification: CertificationRef, block: BlockRef) -> str:
    """Our IRI of a block under one referential version."""
    return f"{certification.referential_iri}/blocks/{quote(block.code)}"


def competency_iri(certification: CertificationRef, code: str) -> str:
    """Our IRI of a competency under one referential version."""
    return f"{certification.referential_iri}/competencies/{quote(code)}"


def format_timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and ``Z``; a naive datetime is a ValueError."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("timestamps must be timezone-aware datetimes")
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def build_launched(
    actor: Actor, placement: Placement, registration: uuid.UUID, launch_id: str, at: datetime
) -> Statement:
    """A learner opened the assessment from the LMS (one statement per LTI launch).

    ``launch_id`` is the service's id of that launch (e.g. the launch row id).
    """
    assessment = placement.assessment
    return _statement(
        statement_id("launched", actor, assessment.iri, launch_id),
        actor,
        Verb.LAUNCHED,
        _activity(assessment.iri, ActivityType.ASSESSMENT, assessment.title),
        _assessment_context(placement, registration),
        at,
    )


def build_submitted(
    actor: Actor, placement: Placement, registration: uuid.UUID, submission_id: str, at: datetime
) -> Statement:
    """A learner handed in an attempt (one statement per submission, drafts excluded)."""
    assessment = placement.assessment
    return _statement(
        statement_id("submitted", actor, assessment.iri, submission_id),
        actor,
        Verb.SUBMITTED,
        _activity(assessment.iri, ActivityType.ASSESSMENT, assessment.title),
        _assessment_context(placement, registration),
        at,
    )


def build_evaluated(
    actor: Actor,
    placement: Placement,
    registration: uuid.UUID,
    evaluation: Evaluation,
    at: datetime,
) -> Statement:
    """One evaluator signed their evaluation of the learner's submission (verb ``scored``).

    The actor is the learner (the performance is theirs); the evaluator is the context's
    ``instructor`` (pseudonymous too) with their jury role as a context extension. The verdict
    per criterion is a result extension. No ``success``: nothing is decided yet.
    """
    _check_values(evaluation.verdicts, CRITERION_VERDICTS, "criterion verdict")
    if not _JURY_ROLE.match(evaluation.jury_role):
        raise ValueError(f"jury role must match {_JURY_ROLE.pattern}: {evaluation.jury_role!r}")
    assessment = placement.assessment
    context = _assessment_context(placement, registration)
    context["instructor"] = _agent(evaluation.evaluator)
    context["extensions"][Extension.JURY_ROLE] = evaluation.jury_role
    result = {
        "score": _score(evaluation.score),
        "extensions": {Extension.RESULT_CRITERION_VERDICTS: dict(evaluation.verdicts)},
    }
    return _statement(
        statement_id("evaluated", actor, assessment.iri, evaluation.evaluation_id),
        actor,
        Verb.SCORED,
        _activity(assessment.iri, ActivityType.ASSESSMENT, assessment.title),
        context,
        at,
        result,
    )


def build_block_decided(
    actor: Actor,
    placement: Placement,
    registration: uuid.UUID,
    decision: Decision,
    at: datetime,
) -> Statement:
    """The jury decided the block: ``passed`` (acquired) or ``failed``, with ``success``.

    The object is the block; the competencies decided are in ``contextActivities.other`` and
    their results in a result extension. A superseding decision has its own ``decision_id``;
    void the previous statement with ``build_voided``.
    """
    _check_values(decision.competency_results, COMPETENCY_RESULTS, "competency result")
    cert, block = placement.certification, placement.block
    iri = block_iri(cert, block)
    context = _block_context(cert, block, placement.course, registration)
    context["contextActivities"]["other"] = [
        _activity(placement.assessment.iri, ActivityType.ASSESSMENT, placement.assessment.title),
        *(
            _activity(competency_iri(cert, code), ActivityType.COMPETENCY, None)
            for code in sorted(decision.competency_results)
        ),
    ]
    result = {
        "score": _score(decision.score),
        "success": decision.acquired,
        "extensions": {Extension.RESULT_COMPETENCY_RESULTS: dict(decision.competency_results)},
    }
    return _statement(
        decided_statement_id(actor, cert, block, decision.decision_id),
        actor,
        Verb.PASSED if decision.acquired else Verb.FAILED,
        _activity(iri, ActivityType.BLOCK, block.title),
        context,
        at,
        result,
    )


def decided_statement_id(
    actor: Actor, certification: CertificationRef, block: BlockRef, decision_id: str
) -> str:
    """The id ``build_block_decided`` gives the statement of ``decision_id``."""
    return statement_id("decided", actor, block_iri(certification, block), decision_id)


def build_block_acquired(
    actor: Actor,
    certification: CertificationRef,
    block: BlockRef,
    course: ActivityRef,
    registration: uuid.UUID,
    decision_id: str,
    at: datetime,
) -> Statement:
    """The block entered the capitalisation ledger: acquired for good (TLA ``achieved``).

    ``context.statement`` points to the ``passed`` statement of the decision it rests on.
    """
    context = _block_context(certification, block, course, registration)
    context["statement"] = {
        "objectType": "StatementRef",
        "id": decided_statement_id(actor, certification, block, decision_id),
    }
    iri = block_iri(certification, block)
    return _statement(
        statement_id("acquired", actor, iri, decision_id),
        actor,
        Verb.ACHIEVED,
        _activity(iri, ActivityType.BLOCK, block.title),
        context,
        at,
    )


def build_certification_earned(
    actor: Actor,
    certification: CertificationRef,
    blocks: Sequence[BlockRef],
    at: datetime,
    registration: uuid.UUID | None = None,
) -> Statement:
    """The ledger now satisfies the certification's combination rule (``earned``).

    One per person, certification and referential version; the blocks that made it are in
    ``contextActivities.other``.
    """
    if not blocks:
        raise ValueError("a certification is earned with at least one block")
    context: dict[str, Any] = {
        "contextActivities": {
            "other": [
                _activity(block_iri(certification, b), ActivityType.BLOCK, b.title) for b in blocks
            ],
            "category": _category(),
        },
        "extensions": _certification_extensions(certification, None),
    }
    if registration is not None:
        context["registration"] = _registration(registration)
    return _statement(
        statement_id("earned", actor, certification.iri, certification.version),
        actor,
        Verb.EARNED,
        _activity(certification.iri, ActivityType.CERTIFICATION, certification.title),
        context,
        at,
    )


def build_voided(actor: Actor, voided_statement_id: str, at: datetime) -> Statement:
    """Void a statement we sent (a decision superseded, an evaluation withdrawn).

    ``actor`` is who voids (the jury member or the platform's admin, pseudonymous).
    """
    target = str(uuid.UUID(voided_statement_id))
    return _statement(
        statement_id("voided", actor, target, target),
        actor,
        Verb.VOIDED,
        {"objectType": "StatementRef", "id": target},
        {"contextActivities": {"category": _category()}},
        at,
    )


def _statement(
    statement_id: str,
    actor: Actor,
    verb: str,
    obj: dict[str, Any],
    context: dict[str, Any],
    at: datetime,
    result: dict[str, Any] | None = None,
) -> Statement:
    statement: Statement = {
        "id": statement_id,
        "actor": _agent(actor),
        "verb": {"id": verb, "display": {"en-US": _VERB_DISPLAY[verb]}},
        "object": obj,
    }
    if result is not None:
        statement["result"] = result
    statement["context"] = context
    statement["timestamp"] = format_timestamp(at)
    return statement


_VERB_DISPLAY = {
    Verb.LAUNCHED: "launched",
    Verb.SUBMITTED: "submitted",
    Verb.SCORED: "scored",
    Verb.PASSED: "passed",
    Verb.FAILED: "failed",
    Verb.ACHIEVED: "achieved",
    Verb.EARNED: "earned",
    Verb.VOIDED: "voided",
}


def _agent(actor: Actor) -> dict[str, Any]:
    return {"objectType": "Agent", "account": {"homePage": actor.homepage, "name": actor.name}}


def _activity(iri: str, type_iri: str, title: str | None) -> dict[str, Any]:
    definition: dict[str, Any] = {"type": type_iri}
    if title is not None:
        definition["name"] = {"fr": title}
    return {"objectType": "Activity", "id": iri, "definition": definition}


def _category() -> list[dict[str, Any]]:
    return [_activity(PROFILE_VERSION, ActivityType.PROFILE, None)]


def _registration(registration: uuid.UUID) -> str:
    if not isinstance(registration, uuid.UUID):
        raise TypeError("registration must be a uuid.UUID")
    return str(registration)


def _certification_extensions(
    certification: CertificationRef, block: BlockRef | None
) -> dict[str, Any]:
    extensions: dict[str, Any] = {Extension.REFERENTIAL_VERSION: certification.version}
    if certification.rncp_code is not None:
        extensions[Extension.RNCP_CODE] = certification.rncp_code
    if block is not None and block.rncp_block_code is not None:
        extensions[Extension.RNCP_BLOCK_CODE] = block.rncp_block_code
    return extensions


def _certification_activity(certification: CertificationRef) -> dict[str, Any]:
    return _activity(certification.iri, ActivityType.CERTIFICATION, certification.title)


def _assessment_context(placement: Placement, registration: uuid.UUID) -> dict[str, Any]:
    cert, block = placement.certification, placement.block
    return {
        "registration": _registration(registration),
        "contextActivities": {
            "parent": [_activity(block_iri(cert, block), ActivityType.BLOCK, block.title)],
            "grouping": [
                _certification_activity(cert),
                _activity(placement.course.iri, ActivityType.COURSE, placement.course.title),
            ],
            "other": [_activity(placement.case.iri, ActivityType.CASE, placement.case.title)],
            "category": _category(),
        },
        "extensions": _certification_extensions(cert, block),
    }


def _block_context(
    certification: CertificationRef,
    block: BlockRef,
    course: ActivityRef,
    registration: uuid.UUID,
) -> dict[str, Any]:
    return {
        "registration": _registration(registration),
        "contextActivities": {
            "parent": [_certification_activity(certification)],
            "grouping": [_activity(course.iri, ActivityType.COURSE, course.title)],
            "category": _category(),
        },
        "extensions": _certification_extensions(certification, block),
    }


def _score(score: Score) -> dict[str, float]:
    return {"scaled": score.scaled, "raw": score.raw, "min": score.min, "max": score.max}


def _check_values(values: Mapping[str, str], allowed: frozenset[str], what: str) -> None:
    if not values:
        raise ValueError(f"at least one {what} is required")
    for key, value in values.items():
        if not key:
            raise ValueError(f"empty code in {what}s")
        if value not in allowed:
            raise ValueError(f"{what} for {key!r} must be one of {sorted(allowed)}, got {value!r}")
