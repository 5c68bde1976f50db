"""Where a validated launch lands: the page that serves its message type and role."""

from __future__ import annotations

from typing import Any

from flask import url_for
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ltiservice import events
from ltiservice.errors import AuthorisationError, NotFoundError
from ltiservice.lti.context import LaunchContext, update_launch
from ltiservice.models import Assessment, Person, Submission

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
RESOURCE_ID_PARAM = "ltiservice_resource_id"


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
    """The assessment this launch opens, binding a deep-linked one on its first launch.

    Matched on the launch's platform, course and resource link, and its deployment: resource
    link ids are unique within a deployment only, so a launch from another course or
    deployment with the same link id finds nothing here (and changes nothing).
    """
    found = assessment_on_link(db, context)
    if found is not None:
        if found.deployment_id is None:
            found.deployment_id = context.deployment_id
        return found
    if context.course_id is None:
        return None
    custom = body.get(CLAIM + "custom") or {}
    resource_id = custom.get(RESOURCE_ID_PARAM) if isinstance(custom, dict) else None
    if not resource_id:
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
    if placed.resource_link_id is None and context.resource_link_id:
        placed.resource_link_id = context.resource_link_id
        placed.deployment_id = context.deployment_id
        db.flush()
    elif placed.resource_link_id != context.resource_link_id:
        # The LMS copied the activity (course backup/restore): a new link, same placement.
        return None
    return placed


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
