"""Authorisation for assessment pages: every lookup goes through the launch context.

A page names an assessment (and maybe a submission) in its URL; these functions load it only
if the validated launch of this browser is for that very assessment, on that platform and
course, with the right role. Anything else is a 403/404 that reveals nothing.
"""

from __future__ import annotations

from flask import request
from sqlalchemy.orm import Session

from ltiservice.errors import AuthorisationError, ConflictError, NotFoundError
from ltiservice.lti.context import LaunchContext, current_launch
from ltiservice.models import Assessment, Submission


def assessment_for(db: Session, context: LaunchContext, assessment_id: int) -> Assessment:
    """The assessment this launch was for; nothing else, whatever the URL says.

    Or, to read only, one it replaced on the same link (the LMS's content was re-selected):
    its work stays readable, but nothing is graded, handed in or sent from it any more.
    """
    assessment = db.get(Assessment, assessment_id)
    if (
        assessment is None
        or assessment.platform_id != context.platform_id
        or assessment.course_id != context.course_id
        or assessment.organisation_id != context.organisation_id
        or not (
            context.assessment_id == assessment.id or _replaced_by_launched(db, assessment, context)
        )
    ):
        raise NotFoundError(
            "Cette évaluation n'existe pas ou n'est pas accessible depuis ce lancement."
        )
    if assessment.id != context.assessment_id and request.method not in ("GET", "HEAD"):
        raise ConflictError(
            "Le contenu de cette activité a été remplacé dans votre plateforme : ce travail "
            "reste consultable, mais plus rien ne peut y être remis, évalué ou décidé.",
            code="content_replaced",
        )
    return assessment


def _replaced_by_launched(db: Session, assessment: Assessment, context: LaunchContext) -> bool:
    """Whether the launch's assessment replaced this one, directly or down the chain."""
    seen = 0
    current: Assessment | None = assessment
    while current is not None and current.replaced_by_id is not None and seen < 20:
        if current.replaced_by_id == context.assessment_id:
            return True
        current = db.get(Assessment, current.replaced_by_id)
        seen += 1
    return False


def own_submission(
    db: Session, context: LaunchContext, assessment: Assessment, submission_id: int
) -> Submission:
    """A learner's own submission to this assessment."""
    submission = db.get(Submission, submission_id)
    if (
        submission is None
        or submission.assessment_id != assessment.id
        or submission.person_id != context.person_id
    ):
        raise NotFoundError("Ce travail n'existe pas ou ne vous appartient pas.")
    return submission


def course_submission(
    db: Session, context: LaunchContext, assessment: Assessment, submission_id: int
) -> Submission:
    """Any submission to this assessment, for the course's trainers only."""
    if not context.is_trainer:
        raise AuthorisationError("Cette page est réservée aux formateurs et évaluateurs du cours.")
    submission = db.get(Submission, submission_id)
    if submission is None or submission.assessment_id != assessment.id:
        raise NotFoundError("Ce travail n'existe pas dans cette évaluation.")
    return submission


__all__ = ["assessment_for", "course_submission", "current_launch", "own_submission"]
