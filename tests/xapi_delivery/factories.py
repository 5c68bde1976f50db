"""Rows for the xAPI delivery tests, made with the models and the service's own functions.

Facts are stored the way the service stores them (the ledger and awards through
``ltiservice.evaluations.ledger``) and reported through ``ltiservice.events``; every
organisation gets its own platform issuer and learner ``sub``, so tests sharing the session's
Ralph never see each other's statements.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app
from sqlalchemy.orm import Session

from ltiservice import db, events
from ltiservice.evaluations import ledger
from ltiservice.lrs import DestinationSpec, add_destination
from ltiservice.models import (
    Assessment,
    Course,
    Decision,
    Evaluation,
    JurySession,
    LrsDestination,
    Organisation,
    Person,
    Platform,
    Submission,
)
from tests.peers.ralph import RalphLRS

CERTIFICATION = "CRCA"
VERSION = "RNCP41351"


@dataclass(frozen=True)
class World:
    """Ids of one organisation's rows: a platform, a course, placed blocks and people."""

    organisation_id: int
    slug: str
    issuer: str
    learner_id: int
    learner_sub: str
    evaluator_ids: tuple[int, int]
    assessment_ids: dict[str, int]  # block code -> assessment id


def make_world(
    app: Flask,
    blocks: tuple[str, ...] = ("B1", "B2B"),
    version: str = VERSION,
    score_maximum: float = 100.0,
) -> World:
    """An organisation with one course where each block of CRCA (in ``version``) is placed
    once, graded out of ``score_maximum``."""
    token = secrets.token_hex(4)
    with app.app_context():
        session = db.session()
        organisation = Organisation(slug=f"of-{token}", name=f"Organisme {token}")
        session.add(organisation)
        session.flush()
        issuer = f"https://lms-{token}.example.org"
        platform = Platform(
            organisation_id=organisation.id,
            name="LMS",
            issuer=issuer,
            client_id=f"client-{token}",
            auth_login_url=f"{issuer}/auth",
            auth_token_url=f"{issuer}/token",
            key_set_url=f"{issuer}/jwks",
        )
        session.add(platform)
        session.flush()
        course = Course(platform_id=platform.id, context_id="course-1", title="CQP CRCA 2026")
        learner = Person(platform_id=platform.id, sub=f"learner-{token}", name="Ne pas envoyer")
        evaluators = [Person(platform_id=platform.id, sub=f"jury-{n}-{token}") for n in (1, 2)]
        session.add_all([course, learner, *evaluators])
        session.flush()
        assessments = {}
        for block in blocks:
            cases = _plugin().referential(version).cases_for(block)
            assessment = Assessment(
                organisation_id=organisation.id,
                platform_id=platform.id,
                course_id=course.id,
                resource_id=f"res-{block}-{token}",
                resource_link_id=f"link-{block}-{token}",
                title=f"Cas pratique {block}",
                certification_code=CERTIFICATION,
                referential_version=version,
                block_code=block,
                case_id=cases[0].id if cases else None,
                score_maximum=score_maximum,
            )
            session.add(assessment)
            session.flush()
            assessments[block] = assessment.id
        session.commit()
        return World(
            organisation.id,
            organisation.slug,
            issuer,
            learner.id,
            learner.sub,
            (evaluators[0].id, evaluators[1].id),
            assessments,
        )


def _plugin() -> Any:
    return current_app.extensions["plugins"][CERTIFICATION]


def add_lrs(
    app: Flask, world: World, lrs: RalphLRS, name: str = "LRS de l'organisme", **kwargs: Any
) -> int:
    """A destination for this organisation through the service (password encrypted)."""
    endpoint = kwargs.pop("endpoint", lrs.endpoint)
    password = kwargs.pop("password", lrs.password)
    with app.app_context():
        spec = DestinationSpec(world.slug, name, endpoint, lrs.username, password, **kwargs)
        with db.transaction() as session:
            return add_destination(session, app.config["SECRET_KEY"], spec).id


def set_active(app: Flask, destination_id: int, active: bool) -> None:
    with app.app_context(), db.transaction() as session:
        session.get(LrsDestination, destination_id).active = active  # type: ignore[union-attr]


def submit(session: Session, world: World, block: str, attempt: int = 1) -> Submission:
    """The learner hands in an attempt (the event is reported in the same transaction)."""
    submission = Submission(
        assessment_id=world.assessment_ids[block],
        person_id=world.learner_id,
        attempt=attempt,
        status="submitted",
        text="Ma proposition au client…",
        submitted_at=datetime.now(UTC),
    )
    session.add(submission)
    session.flush()
    events.submission_submitted(session, submission)
    return submission


def criteria(block: str, version: str = VERSION) -> list[str]:
    referential = _plugin().referential(version)
    return [c.id for comp in referential.block(block).competencies for c in comp.criteria]


def sign(
    session: Session, submission: Submission, evaluator_id: int, role: str, verdict: str
) -> Evaluation:
    """One evaluator signs the same verdict on every criterion of the block."""
    assessment = submission.assessment
    evaluation = Evaluation(
        submission_id=submission.id,
        evaluator_id=evaluator_id,
        jury_role=role,
        verdicts={
            cid: {"verdict": verdict, "remark": ""}
            for cid in criteria(assessment.block_code, assessment.referential_version)
        },
        status="signed",
        signed_at=datetime.now(UTC),
    )
    session.add(evaluation)
    session.flush()
    events.evaluation_signed(session, evaluation)
    return evaluation


def decide(
    session: Session,
    submission: Submission,
    verdict: str,
    signer_id: int,
    supersedes: Decision | None = None,
    at: datetime | None = None,
) -> Decision:
    """The committee's decision with the plugin's outcome (a proposal: CRCA's committee
    acquires nothing), then the event. `jury_validates` is the certification jury's part."""
    plugin = _plugin()
    version = submission.assessment.referential_version
    referential = plugin.referential(version)
    block = referential.block(submission.assessment.block_code)
    verdicts = dict.fromkeys(criteria(block.code, version), verdict)
    outcome = plugin.rules.block_outcome(block, verdicts)
    given, maximum = plugin.rules.lms_grade(referential, outcome)
    decision = Decision(
        organisation_id=submission.assessment.organisation_id,
        submission_id=submission.id,
        person_id=submission.person_id,
        certification_code=CERTIFICATION,
        referential_version=version,
        block_code=block.code,
        verdicts=verdicts,
        competency_results=[
            {"code": r.code, "acquired": r.acquired, "met": r.met, "total": r.total}
            for r in outcome.competencies
        ],
        block_acquired=outcome.acquired,
        score_given=given,
        score_maximum=maximum,
        evaluators=[{"person_id": signer_id, "role": "hierarchy"}],
        signed_by_id=signer_id,
        supersedes_id=supersedes.id if supersedes else None,
        correction_reason="Erreur de saisie" if supersedes else None,
        decided_at=at or datetime.now(UTC),
    )
    session.add(decision)
    session.flush()
    submission.status = "decided"
    entry = (
        ledger.record_block(session, decision)
        if referential.certification_jury.committee_acquires
        else None
    )
    events.decision_signed(session, decision, entry, None)
    return decision


def jury_validates(
    session: Session,
    world: World,
    blocks: tuple[str, ...],
    outcome: str,
    signer_id: int,
    version: str = VERSION,
    at: datetime | None = None,
) -> JurySession:
    """The jury paritaire's signed session deciding on the world's learner."""
    return jury_decides(
        session, world.organisation_id, world.learner_id, blocks, outcome, signer_id, version, at
    )


def _while_registered(referential: Any) -> datetime:
    """Now, or the last day a certification whose registration has ended could be delivered:
    the jury sat while it still could."""
    end = referential.certification.registration_end_date
    now = datetime.now(UTC)
    if end is None or now.date() <= end:
        return now
    return datetime(end.year, end.month, end.day, 12, tzinfo=UTC)


def jury_decides(
    session: Session,
    organisation_id: int,
    person_id: int,
    blocks: tuple[str, ...],
    outcome: str,
    signer_id: int,
    version: str = VERSION,
    at: datetime | None = None,
) -> JurySession:
    """A CRCA jury paritaire's signed session deciding on one candidate, through the real
    service (composition check, ledger, award, events, stored minutes)."""
    from ltiservice.certification import minutes, sessions
    from ltiservice.certification.standing import standing_of

    plugin = _plugin()
    moment = at or _while_registered(plugin.referential(version))
    jury = sessions.open_session(
        session,
        plugin,
        organisation_id,
        version=version,
        held_on=moment.date(),
        place="",
        creator_id=signer_id,
    )
    sessions.add_member(
        session, plugin, jury, sessions.MemberInput("Salarié", "employees", president=True)
    )
    sessions.add_member(session, plugin, jury, sessions.MemberInput("Employeur", "employers"))
    decision = sessions.present(
        session, plugin, jury, person_id, route="evaluation", recorder_id=signer_id
    )
    if outcome == "auto":  # totale when the blocks complete the certification
        standing = standing_of(session, plugin, organisation_id, person_id, version)
        held = standing.held | set(blocks)
        granted = plugin.rules.certification_status(plugin.referential(version), held).granted
        outcome = "validation_totale" if granted else "validation_partielle"
    sessions.record(session, plugin, jury, decision, sessions.Choice(outcome, blocks), signer_id)
    organisation = session.get(Organisation, organisation_id)
    assert organisation is not None
    context = minutes.MinutesContext(organisation, plugin, (), "Secrétaire")
    sessions.sign_minutes(
        session, plugin, jury, signer_id, lambda s: minutes.render_minutes(s, context), moment
    )
    return jury


def full_history(app: Flask, world: World) -> None:
    """B1 proposed acquired; B2B failed, then corrected to acquired (the failure voided); the
    jury paritaire validates both: the blocks achieved and CRCA earned."""
    with app.app_context(), db.transaction() as session:
        hierarchy, other = world.evaluator_ids
        first = submit(session, world, "B1")
        sign(session, first, hierarchy, "hierarchy", "met")
        sign(session, first, other, "other_service", "met")
        decide(session, first, "met", hierarchy)
        second = submit(session, world, "B2B")
        sign(session, second, hierarchy, "hierarchy", "not_met")
        failed = decide(session, second, "not_met", hierarchy)
        decide(session, second, "met", other, supersedes=failed)
        jury_validates(session, world, ("B1", "B2B"), "validation_totale", hierarchy)
