"""Pure builders of the xAPI 1.0.3 statements ltiservice emits (no I/O, no clock, no randomness).

Shape, shared by every builder:
- ``id`` is a UUIDv5 of a stable event key (kind, actor, object, the service's own id for the
  event), so a statement rebuilt for a retry is byte-for-byte the same and an LRS never stores
  it twice;
- the actor is pseudonymous: ``account {homePage: LMS issuer, name: LTI sub}``, never a name or
  an email; so are the jury members in ``context.instructor`` / ``context.team``;
- ``timestamp`` is the moment of the fact, in UTC with a ``Z``; naive datetimes are refused;
- language maps are ``fr-FR`` (verb displays also ``en-US``), ``context.language`` is ``fr-FR``
  and ``context.platform`` is ``ltiservice`` (except on voids: xAPI allows ``platform`` only when
  the object is an Activity);
- certifications, blocks and competencies have version-independent IRIs (certification code +
  block / competency code); the RNCP codes and the referential version are context extensions;
- every score about an assessment is on the assessment's own scale (``Placement.score_maximum``);
- ``contextActivities`` values are arrays; ``category`` always holds our profile version, which
  commits the statement to one of the profile's templates (``xapi.profile``).

cmi5's discipline is borrowed without claiming cmi5: ``result.success`` only on passed/failed.
A correction is a new decision: its passed/failed statement points (``context.statement``) to
the one it supersedes, which is voided together with every statement resting on it
(``superseded_statement_ids``), and ``achieved`` / ``earned`` are issued again on the new one.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from xapi.model import (
    ActivityRef,
    Actor,
    BlockRef,
    CertificationRef,
    CompetencyResult,
    Decision,
    Evaluation,
    Placement,
    Score,
)
from xapi.vocabulary import (
    CRITERION_VERDICTS,
    LANGUAGE,
    PLATFORM,
    STATEMENT_ID_NAMESPACE,
    ActivityType,
    Extension,
    OurActivityType,
    Verb,
    Vocabulary,
)

Statement = dict[str, Any]

_JURY_ROLE = re.compile(r"^[a-z][a-z0-9_]*$")


def statement_id(kind: str, actor: Actor, object_iri: str, local_id: str) -> str:
    """Deterministic statement id: UUIDv5 of the event key (never random, never a counter)."""
    if not local_id:
        raise ValueError("an event needs the service's own id to get a stable statement id")
    key = "\x1f".join((kind, actor.homepage, actor.name, object_iri, local_id))
    return str(uuid.uuid5(STATEMENT_ID_NAMESPACE, key))


def format_timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and ``Z``; a naive datetime is a ValueError."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("timestamps must be timezone-aware datetimes")
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def build_launched(
    vocab: Vocabulary,
    actor: Actor,
    placement: Placement,
    registration: uuid.UUID,
    launch_id: str,
    at: datetime,
) -> Statement:
    """A learner opened the assessment from the LMS (one statement per LTI launch).

    ``launch_id`` is the service's id of that launch (e.g. the launch row id).
    """
    assessment = placement.assessment
    return _statement(
        vocab,
        statement_id("launched", actor, assessment.iri, launch_id),
        actor,
        Verb.LAUNCHED,
        _activity(assessment.iri, ActivityType.ASSESSMENT, assessment.title),
        _assessment_context(vocab, placement, registration, None),
        at,
    )


def build_submitted(
    vocab: Vocabulary,
    actor: Actor,
    placement: Placement,
    registration: uuid.UUID,
    submission_id: str,
    attempt: int,
    at: datetime,
) -> Statement:
    """A learner handed in attempt number ``attempt`` (drafts are not reported).

    ``result.completion`` is true: the work is complete as far as the learner is concerned.
    """
    assessment = placement.assessment
    return _statement(
        vocab,
        statement_id("submitted", actor, assessment.iri, submission_id),
        actor,
        Verb.SUBMITTED,
        _activity(assessment.iri, ActivityType.ASSESSMENT, assessment.title),
        _assessment_context(vocab, placement, registration, attempt),
        at,
        {"completion": True},
    )


def build_evaluated(
    vocab: Vocabulary,
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
    placement.check_scale(evaluation.score)
    assessment = placement.assessment
    context = _assessment_context(vocab, placement, registration, evaluation.attempt)
    context["instructor"] = _agent(evaluation.evaluator)
    context["extensions"][vocab.extension(Extension.JURY_ROLE)] = evaluation.jury_role
    result = {
        "score": _score(evaluation.score),
        "extensions": {vocab.extension(Extension.CRITERION_VERDICTS): dict(evaluation.verdicts)},
    }
    return _statement(
        vocab,
        statement_id("evaluated", actor, assessment.iri, evaluation.evaluation_id),
        actor,
        Verb.SCORED,
        _activity(assessment.iri, ActivityType.ASSESSMENT, assessment.title),
        context,
        at,
        result,
    )


def build_block_decided(
    vocab: Vocabulary,
    actor: Actor,
    placement: Placement,
    registration: uuid.UUID,
    decision: Decision,
    at: datetime,
) -> Statement:
    """The jury decided the block: ``passed`` (acquired) or ``failed``, with ``success``.

    The object is the block; the jury is ``context.team``; the competencies decided (named
    with their wording) are in ``contextActivities.other`` and their results in a result
    extension (each also gets its own statement: ``build_competency_results``). A correction
    points to the statement it supersedes in ``context.statement``.
    """
    cert, block = placement.certification, placement.block
    placement.check_scale(decision.score)
    context = _block_context(vocab, cert, block, placement.course, registration, decision.jury)
    context["extensions"][vocab.extension(Extension.ATTEMPT)] = decision.attempt
    context["contextActivities"]["other"] = [
        _activity(placement.assessment.iri, ActivityType.ASSESSMENT, placement.assessment.title),
        *(_competency_activity(vocab, cert, c) for c in decision.competencies),
    ]
    if decision.supersedes is not None:
        context["statement"] = _statement_ref(
            decided_statement_id(vocab, actor, cert, block, decision.supersedes)
        )
    result = {
        "score": _score(decision.score),
        "success": decision.acquired,
        "completion": True,
        "extensions": {vocab.extension(Extension.COMPETENCY_RESULTS): decision.competency_results},
    }
    return _statement(
        vocab,
        decided_statement_id(vocab, actor, cert, block, decision.decision_id),
        actor,
        Verb.PASSED if decision.acquired else Verb.FAILED,
        _activity(
            vocab.block(cert.code, block.code),
            vocab.activity_type(OurActivityType.BLOCK),
            block.title,
        ),
        context,
        at,
        result,
    )


def decided_statement_id(
    vocab: Vocabulary,
    actor: Actor,
    certification: CertificationRef,
    block: BlockRef,
    decision_id: str,
) -> str:
    """The id ``build_block_decided`` gives the statement of ``decision_id``."""
    return statement_id("decided", actor, vocab.block(certification.code, block.code), decision_id)


def build_competency_results(
    vocab: Vocabulary,
    actor: Actor,
    placement: Placement,
    registration: uuid.UUID,
    decision: Decision,
    at: datetime,
) -> list[Statement]:
    """One statement per competency the decision rules on: ``passed`` when acquired, else
    ``failed``, object the competency, pointing to the block's decided statement.

    So « who holds competency C1.2 » is one query (verb + competency IRI). No score: the
    assessment's scale belongs to the block, and a competency is acquired or not.
    """
    cert, block = placement.certification, placement.block
    decided = decided_statement_id(vocab, actor, cert, block, decision.decision_id)
    statements = []
    for competency in decision.competencies:
        context = _block_context(vocab, cert, block, placement.course, registration, decision.jury)
        context["contextActivities"]["parent"] = [_block_activity(vocab, cert, block)]
        context["contextActivities"]["grouping"].insert(0, _certification_activity(vocab, cert))
        context["contextActivities"]["other"] = [
            _activity(placement.assessment.iri, ActivityType.ASSESSMENT, placement.assessment.title)
        ]
        context["extensions"][vocab.extension(Extension.ATTEMPT)] = decision.attempt
        context["statement"] = _statement_ref(decided)
        statements.append(
            _statement(
                vocab,
                competency_statement_id(vocab, actor, cert, competency.code, decision.decision_id),
                actor,
                Verb.PASSED if competency.acquired else Verb.FAILED,
                _competency_activity(vocab, cert, competency),
                context,
                at,
                {"success": competency.acquired, "completion": True},
            )
        )
    return statements


def competency_statement_id(
    vocab: Vocabulary,
    actor: Actor,
    certification: CertificationRef,
    competency_code: str,
    decision_id: str,
) -> str:
    """The id ``build_competency_results`` gives one competency's statement of a decision."""
    iri = vocab.competency(certification.code, competency_code)
    return statement_id("competency", actor, iri, decision_id)


def build_block_acquired(
    vocab: Vocabulary,
    actor: Actor,
    certification: CertificationRef,
    block: BlockRef,
    course: ActivityRef,
    registration: uuid.UUID,
    decision_id: str,
    jury: Sequence[Actor],
    at: datetime,
    counts_as: Sequence[BlockRef] = (),
) -> Statement:
    """The block is in the capitalisation ledger, acquired for good (our verb ``achieved``).

    ``context.statement`` points to the ``passed`` statement of ``decision_id``, the standing
    decision it rests on (after a correction, the correcting one: the statement is issued
    again). ``counts_as`` are the blocks of the certification's current version this block
    counts as (equivalence table), in ``contextActivities.other``, so that a query on a current
    block with ``related_activities`` also finds what was acquired under an older version.
    """
    iri = vocab.block(certification.code, block.code)
    context = _block_context(vocab, certification, block, course, registration, jury)
    context["statement"] = _statement_ref(
        decided_statement_id(vocab, actor, certification, block, decision_id)
    )
    equivalents = [b for b in counts_as if b.code != block.code]
    if equivalents:
        context["contextActivities"]["other"] = [
            _block_activity(vocab, certification, b) for b in equivalents
        ]
    return _statement(
        vocab,
        acquired_statement_id(vocab, actor, certification, block, decision_id),
        actor,
        vocab.achieved,
        _activity(iri, vocab.activity_type(OurActivityType.BLOCK), block.title),
        context,
        at,
    )


def acquired_statement_id(
    vocab: Vocabulary,
    actor: Actor,
    certification: CertificationRef,
    block: BlockRef,
    decision_id: str,
) -> str:
    """The id ``build_block_acquired`` gives the achieved statement resting on ``decision_id``."""
    return statement_id("acquired", actor, vocab.block(certification.code, block.code), decision_id)


def build_certification_earned(
    vocab: Vocabulary,
    actor: Actor,
    certification: CertificationRef,
    blocks: Sequence[BlockRef],
    basis: tuple[BlockRef, str],
    jury: Sequence[Actor],
    at: datetime,
    registration: uuid.UUID | None = None,
) -> Statement:
    """The ledger satisfies the certification's combination rule (``earned``).

    ``basis`` is the (block, decision id) of the jury decision that completed it:
    ``context.statement`` points to that decision's statement, and a correction of it issues
    the statement again. The blocks that made it are in ``contextActivities.other``.
    """
    if not blocks:
        raise ValueError("a certification is earned with at least one block")
    basis_block, decision_id = basis
    context: dict[str, Any] = {
        "contextActivities": {
            "other": [_block_activity(vocab, certification, b) for b in blocks],
            "category": _category(vocab),
        },
        "extensions": _certification_extensions(vocab, certification, None),
        "statement": _statement_ref(
            decided_statement_id(vocab, actor, certification, basis_block, decision_id)
        ),
    }
    if registration is not None:
        context["registration"] = _registration(registration)
    if jury:
        context["team"] = _team(jury)
    return _statement(
        vocab,
        earned_statement_id(vocab, actor, certification, decision_id),
        actor,
        Verb.EARNED,
        _certification_activity(vocab, certification),
        context,
        at,
    )


def earned_statement_id(
    vocab: Vocabulary, actor: Actor, certification: CertificationRef, decision_id: str
) -> str:
    """The id ``build_certification_earned`` gives the earned statement resting on a decision."""
    return statement_id(
        "earned",
        actor,
        vocab.certification(certification.code),
        f"{certification.version}\x1f{decision_id}",
    )


def build_voided(
    vocab: Vocabulary,
    actor: Actor,
    voided_statement_id: str,
    registration: uuid.UUID | None,
    at: datetime,
) -> Statement:
    """Void a statement we sent (a decision superseded, and what rested on it).

    ``actor`` is who voids (the jury member who signed the correction, pseudonymous); the
    registration is the learner's, so a query by registration finds the correction too.
    """
    target = str(uuid.UUID(voided_statement_id))
    context: dict[str, Any] = {"contextActivities": {"category": _category(vocab)}}
    if registration is not None:
        context["registration"] = _registration(registration)
    return _statement(
        vocab,
        statement_id("voided", actor, target, target),
        actor,
        Verb.VOIDED,
        _statement_ref(target),
        context,
        at,
    )


def superseded_statement_ids(
    vocab: Vocabulary,
    actor: Actor,
    placement: Placement,
    decision: Decision,
    acquired: bool,
    earned: CertificationRef | None,
) -> list[str]:
    """Ids of the statements a correction of ``decision`` voids, in the order they were sent.

    The decided statement, its competency statements, the ``achieved`` resting on it when it
    put the block in the ledger (``acquired``), and the ``earned`` resting on it when it
    completed the certification (``earned``: the certification as it was awarded).
    """
    cert, block = placement.certification, placement.block
    ids = [decided_statement_id(vocab, actor, cert, block, decision.decision_id)]
    ids += [
        competency_statement_id(vocab, actor, cert, c.code, decision.decision_id)
        for c in decision.competencies
    ]
    if acquired:
        ids.append(acquired_statement_id(vocab, actor, cert, block, decision.decision_id))
    if earned is not None:
        ids.append(earned_statement_id(vocab, actor, earned, decision.decision_id))
    return ids


def _statement(
    vocab: Vocabulary,
    statement_id: str,
    actor: Actor,
    verb: str,
    obj: dict[str, Any],
    context: dict[str, Any],
    at: datetime,
    result: dict[str, Any] | None = None,
) -> Statement:
    english, french = _verb_display(vocab, verb)
    statement: Statement = {
        "id": statement_id,
        "actor": _agent(actor),
        "verb": {"id": verb, "display": {LANGUAGE: french, "en-US": english}},
        "object": obj,
    }
    if result is not None:
        statement["result"] = result
    context["language"] = LANGUAGE
    if obj.get("objectType") == "Activity":  # xAPI: platform only about an Activity
        context["platform"] = PLATFORM
    statement["context"] = context
    statement["timestamp"] = format_timestamp(at)
    return statement


_VERB_DISPLAY = {
    Verb.LAUNCHED: ("launched", "a ouvert"),
    Verb.SUBMITTED: ("submitted", "a déposé"),
    Verb.SCORED: ("scored", "a été évalué(e)"),
    Verb.PASSED: ("passed", "a validé"),
    Verb.FAILED: ("failed", "n'a pas validé"),
    Verb.EARNED: ("earned", "a obtenu"),
    Verb.VOIDED: ("voided", "a annulé"),
}


def _verb_display(vocab: Vocabulary, verb: str) -> tuple[str, str]:
    if verb == vocab.achieved:
        return ("achieved", "a acquis")
    return _VERB_DISPLAY[verb]


def _agent(actor: Actor) -> dict[str, Any]:
    return {"objectType": "Agent", "account": {"homePage": actor.homepage, "name": actor.name}}


def _team(jury: Sequence[Actor]) -> dict[str, Any]:
    """The jury as an anonymous Group of pseudonymous agents, each once, in a stable order."""
    members = sorted(set(jury), key=lambda a: (a.homepage, a.name))
    return {"objectType": "Group", "member": [_agent(member) for member in members]}


def _statement_ref(statement_id: str) -> dict[str, str]:
    return {"objectType": "StatementRef", "id": str(uuid.UUID(statement_id))}


def _activity(iri: str, type_iri: str, title: str | None) -> dict[str, Any]:
    definition: dict[str, Any] = {"type": type_iri}
    if title is not None:
        definition["name"] = {LANGUAGE: title}
    return {"objectType": "Activity", "id": iri, "definition": definition}


def _certification_activity(vocab: Vocabulary, certification: CertificationRef) -> dict[str, Any]:
    return _activity(
        vocab.certification(certification.code),
        vocab.activity_type(OurActivityType.CERTIFICATION),
        certification.title,
    )


def _block_activity(
    vocab: Vocabulary, certification: CertificationRef, block: BlockRef
) -> dict[str, Any]:
    return _activity(
        vocab.block(certification.code, block.code),
        vocab.activity_type(OurActivityType.BLOCK),
        block.title,
    )


def _competency_activity(
    vocab: Vocabulary, certification: CertificationRef, competency: CompetencyResult
) -> dict[str, Any]:
    return _activity(
        vocab.competency(certification.code, competency.code),
        vocab.activity_type(OurActivityType.COMPETENCY),
        competency.wording,
    )


def _category(vocab: Vocabulary) -> list[dict[str, Any]]:
    return [_activity(vocab.profile_version, ActivityType.PROFILE, None)]


def _registration(registration: uuid.UUID) -> str:
    if not isinstance(registration, uuid.UUID):
        raise TypeError("registration must be a uuid.UUID")
    return str(registration)


def _certification_extensions(
    vocab: Vocabulary, certification: CertificationRef, block: BlockRef | None
) -> dict[str, Any]:
    extensions: dict[str, Any] = {
        vocab.extension(Extension.CERTIFICATION_CODE): certification.code,
        vocab.extension(Extension.REFERENTIAL_VERSION): certification.version,
    }
    if certification.rncp_code is not None:
        extensions[vocab.extension(Extension.RNCP_CODE)] = certification.rncp_code
    if block is not None:
        extensions[vocab.extension(Extension.BLOCK_CODE)] = block.code
        if block.rncp_block_code is not None:
            extensions[vocab.extension(Extension.RNCP_BLOCK_CODE)] = block.rncp_block_code
    return extensions


def _assessment_context(
    vocab: Vocabulary, placement: Placement, registration: uuid.UUID, attempt: int | None
) -> dict[str, Any]:
    cert, block = placement.certification, placement.block
    extensions = _certification_extensions(vocab, cert, block)
    if attempt is not None:
        if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 1:
            raise ValueError(f"attempt numbers start at 1, got {attempt!r}")
        extensions[vocab.extension(Extension.ATTEMPT)] = attempt
    return {
        "registration": _registration(registration),
        "contextActivities": {
            "parent": [_block_activity(vocab, cert, block)],
            "grouping": [
                _certification_activity(vocab, cert),
                _activity(placement.course.iri, ActivityType.COURSE, placement.course.title),
            ],
            "other": [
                _activity(
                    placement.case.iri,
                    vocab.activity_type(OurActivityType.CASE),
                    placement.case.title,
                )
            ],
            "category": _category(vocab),
        },
        "extensions": extensions,
    }


def _block_context(
    vocab: Vocabulary,
    certification: CertificationRef,
    block: BlockRef,
    course: ActivityRef,
    registration: uuid.UUID,
    jury: Sequence[Actor],
) -> dict[str, Any]:
    context: dict[str, Any] = {
        "registration": _registration(registration),
        "contextActivities": {
            "parent": [_certification_activity(vocab, certification)],
            "grouping": [_activity(course.iri, ActivityType.COURSE, course.title)],
            "category": _category(vocab),
        },
        "extensions": _certification_extensions(vocab, certification, block),
    }
    if jury:
        context["team"] = _team(jury)
    return context


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
