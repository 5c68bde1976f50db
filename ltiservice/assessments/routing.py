"""Where a validated launch lands: the page that serves its message type and role."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import url_for
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ltiservice import events
from ltiservice.errors import AuthorisationError, NotFoundError
from ltiservice.lti.context import LaunchContext, update_launch
from ltiservice.models import Assessment, Decision, Person, Submission

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
RESOURCE_ID_PARAM = "ltiservice_resource_id"
MAX_PREVIOUS = 20  # contents replaced on one link that stay readable from it
log = logging.getLogger(__name__)


def assessment_on_link(db: Session, context: LaunchContext) -> Assessment | None:
    """The assessment bound to this launch's resource link, in its course and deployment."""
    if context.course_id is None or not context.resource_link_id:
        return None
    return db.scalar(
        select(Assessment).where(
            Assessment.platform_id == context.platform_id,
            Assessment.course_id == context.course_id,
            Assessment.resource_link_id == context.resource_link_id,
            or_(
                Assessment.deployment_id == context.deployment_id,
                Assessment.deployment_id.is_(None),  # placed before deployments were kept
            ),
        )
    )


def find_assessment(db: Session, context: LaunchContext, body: dict[str, Any]) -> Assessment | None:
    """The assessment this launch opens, following the LMS's content selection.

    Matched on the launch's platform, course, deployment and resource link (resource link ids
    are unique within a deployment only: a launch from elsewhere finds nothing here). When
    the launch's `ltiservice_resource_id` names another assessment of this course than the
    one bound to the link, the trainer chose new content in the LMS (Moodle's « Select
    content » on an activity in use): the link moves to it, and the previous assessment
    keeps its work, readable from the new one (`replaced_by_id`).
    """
    bound = assessment_on_link(db, context)
    selected = _selected_in_lms(db, context, body)
    if selected is not None and selected is not bound:
        if bound is not None and _may_take_link(selected, context):
            _replace(db, bound, selected, context)
            return selected
        if bound is None:
            if _may_take_link(selected, context):
                _bind(db, selected, context)
                return selected
            # The LMS copied the activity (course backup/restore): a new link, same
            # placement; the trainer configures the copy.
            return None
    if bound is not None and bound.deployment_id is None:
        bound.deployment_id = context.deployment_id  # placed before deployments were kept
    return bound


def _selected_in_lms(
    db: Session, context: LaunchContext, body: dict[str, Any]
) -> Assessment | None:
    """The assessment the launch's custom parameter names, if it is of this very course."""
    custom = body.get(CLAIM + "custom") or {}
    resource_id = custom.get(RESOURCE_ID_PARAM) if isinstance(custom, dict) else None
    if not resource_id or context.course_id is None or not context.resource_link_id:
        return None
    placed = db.scalar(select(Assessment).where(Assessment.resource_id == str(resource_id)))
    # A resource id copied into another platform, deployment or course opens nothing.
    if (
        placed is None
        or placed.platform_id != context.platform_id
        or placed.course_id != context.course_id
        or placed.deployment_id not in (None, context.deployment_id)
    ):
        return None
    return placed


def _may_take_link(placed: Assessment, context: LaunchContext) -> bool:
    """Free to be bound to this link: deep-linked and never launched, or replaced on this
    very link before (the trainer chose it back); never one still bound elsewhere."""
    return placed.resource_link_id is None and placed.replaced_link_id in (
        None,
        context.resource_link_id,
    )


def _bind(db: Session, placed: Assessment, context: LaunchContext) -> None:
    placed.resource_link_id = context.resource_link_id
    placed.deployment_id = context.deployment_id
    placed.replaced_by_id = placed.replaced_link_id = placed.replaced_at = None
    db.flush()


def _replace(db: Session, bound: Assessment, selected: Assessment, context: LaunchContext) -> None:
    # Moodle keeps the same gradebook column and re-tags it: the old assessment must send
    # nothing more there. Grades it already sent stay in the column until replaced.
    bound.resource_link_id = None
    bound.replaced_link_id = context.resource_link_id
    bound.replaced_by_id = selected.id
    bound.replaced_at = datetime.now(UTC)
    bound.lineitem_url = None
    db.flush()  # the link is free before the new assessment takes it (unique constraint)
    _bind(db, selected, context)
    log.info("resource link re-selected: assessment %s replaced by %s", bound.id, selected.id)


@dataclass(frozen=True)
class PreviousContent:
    assessment: Assessment
    handed_in: int
    decisions: int


def previous_contents_summary(db: Session, assessment: Assessment) -> list[PreviousContent]:
    """What each replaced content holds: hand-ins and decisions, for the notice."""
    return [content_summary(db, old) for old in previous_contents(db, assessment)]


def used_in_course(db: Session, context: LaunchContext) -> list[PreviousContent]:
    """The assessments of the launch's course bound to a link and holding work."""
    if context.course_id is None:
        return []
    placed = db.scalars(
        select(Assessment)
        .where(
            Assessment.platform_id == context.platform_id,
            Assessment.course_id == context.course_id,
            Assessment.resource_link_id.is_not(None),
        )
        .order_by(Assessment.id)
    ).all()
    summaries = [content_summary(db, assessment) for assessment in placed]
    return [s for s in summaries if s.handed_in or s.decisions]


def content_summary(db: Session, assessment: Assessment) -> PreviousContent:
    handed_in = db.scalar(
        select(func.count())
        .select_from(Submission)
        .where(Submission.assessment_id == assessment.id, Submission.status != "draft")
    )
    decisions = db.scalar(
        select(func.count())
        .select_from(Decision)
        .join(Submission, Submission.id == Decision.submission_id)
        .where(Submission.assessment_id == assessment.id)
    )
    return PreviousContent(assessment, int(handed_in or 0), int(decisions or 0))


def previous_contents(db: Session, assessment: Assessment) -> list[Assessment]:
    """The assessments this one replaced on its link, newest first (the chain, bounded)."""
    found: list[Assessment] = []
    frontier = [assessment.id]
    while frontier and len(found) < MAX_PREVIOUS:
        rows = db.scalars(
            select(Assessment)
            .where(Assessment.replaced_by_id.in_(frontier))
            .order_by(Assessment.replaced_at.desc())
        ).all()
        rows = [r for r in rows if r not in found and r.id != assessment.id]
        found.extend(rows)
        frontier = [r.id for r in rows]
    return found[:MAX_PREVIOUS]


def route_launch(db: Session, context: LaunchContext, body: dict[str, Any]) -> str:
    """URL of the first page of this launch (the launch context is updated as needed)."""
    if context.message_type == "LtiDeepLinkingRequest":
        if not context.is_trainer:
            raise AuthorisationError("Seuls les formateurs peuvent placer une évaluation.")
        return url_for("placement.picker", launch=context.launch_id)

    assessment = find_assessment(db, context, body)
    if assessment is None:
        if context.is_trainer and context.resource_link_id and context.course_id:
            return url_for("placement.configure", launch=context.launch_id)
        raise NotFoundError(
            "Cette activité n'a pas encore été configurée par votre formateur. Revenez plus tard.",
            code="not_configured",
        )
    _remember_grade_service(assessment, body)
    context = update_launch(context, assessment_id=assessment.id)
    if context.message_type == "LtiResourceLinkRequest":
        events.launched(db, context, assessment)

    if context.message_type == "LtiSubmissionReviewRequest":
        return _review_url(db, context, assessment, body)
    if context.is_trainer:
        return url_for(
            "evaluations.dashboard", assessment_id=assessment.id, launch=context.launch_id
        )
    return url_for("assessments.case_page", assessment_id=assessment.id, launch=context.launch_id)


def _remember_grade_service(assessment: Assessment, body: dict[str, Any]) -> None:
    """Keep the line item URLs the platform announces (Moodle creates the column when it
    places a deep-linked activity and tells us its URL at each launch)."""
    endpoint = body.get("https://purl.imsglobal.org/spec/lti-ags/claim/endpoint")
    if not isinstance(endpoint, dict):
        return
    if isinstance(endpoint.get("lineitem"), str):
        assessment.lineitem_url = endpoint["lineitem"]
    if isinstance(endpoint.get("lineitems"), str):
        assessment.lineitems_url = endpoint["lineitems"]


def _review_url(
    db: Session, context: LaunchContext, assessment: Assessment, body: dict[str, Any]
) -> str:
    """Moodle's gradebook opens one learner's graded work: the trainer's grading page for
    that learner, or the learner's own results."""
    for_user = body.get(CLAIM + "for_user") or {}
    sub = for_user.get("user_id") if isinstance(for_user, dict) else None
    if not context.is_trainer or not sub:
        return url_for("assessments.results", assessment_id=assessment.id, launch=context.launch_id)
    person = db.scalar(
        select(Person).where(Person.platform_id == context.platform_id, Person.sub == str(sub))
    )
    submission = None
    if person is not None:
        submission = db.scalar(
            select(Submission)
            .where(
                Submission.assessment_id == assessment.id,
                Submission.person_id == person.id,
                Submission.status != "draft",
            )
            .order_by(Submission.attempt.desc())
        )
    if submission is None:
        raise NotFoundError("Ce(tte) apprenant(e) n'a rien remis pour cette évaluation.")
    return url_for(
        "evaluations.grade",
        assessment_id=assessment.id,
        submission_id=submission.id,
        launch=context.launch_id,
    )
