"""Records who launched from where: person, course and deployment rows, upserted per launch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ltiservice.lti.context import LaunchContext
from ltiservice.lti.roles import map_roles
from ltiservice.models import Course, Deployment, Person, Platform
from ltiservice.security import origin_of, platform_origins

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"


def record_launch(
    db: Session, platform: Platform, launch_id: str, body: dict[str, Any]
) -> LaunchContext:
    """Upsert the person and course of a validated launch; return its context."""
    sub = body.get("sub")
    if not isinstance(sub, str) or not sub:
        # Anonymous launches exist in the spec but nothing here can be graded anonymously.
        from ltiservice.lti.launch import launch_error

        raise launch_error("bad_message", 400)
    person = db.scalar(select(Person).where(Person.platform_id == platform.id, Person.sub == sub))
    if person is None:
        person = Person(platform_id=platform.id, sub=sub)
        db.add(person)
    # Only what the LMS chose to send, refreshed so a renamed learner is shown right.
    person.name = _text(body.get("name")) or person.name
    person.email = _text(body.get("email")) or person.email
    now = datetime.now(UTC)
    # An hour's precision is enough for "last seen", and spares a write on most launches.
    last_seen = person.last_seen_at
    if last_seen is None or now - _aware(last_seen) > timedelta(hours=1):
        person.last_seen_at = now

    course = None
    context_claim = body.get(CLAIM + "context") or {}
    if isinstance(context_claim, dict) and context_claim.get("id"):
        context_id = str(context_claim["id"])
        course = db.scalar(
            select(Course).where(Course.platform_id == platform.id, Course.context_id == context_id)
        )
        if course is None:
            course = Course(platform_id=platform.id, context_id=context_id)
            db.add(course)
        course.title = _text(context_claim.get("title")) or course.title
        course.label = _text(context_claim.get("label")) or course.label
        nrps = body.get(NRPS_CLAIM) or {}
        if isinstance(nrps, dict) and nrps.get("context_memberships_url"):
            course.nrps_url = str(nrps["context_memberships_url"])
    db.flush()
    deployment = db.scalar(
        select(Deployment.id).where(
            Deployment.platform_id == platform.id,
            Deployment.deployment_id == str(body.get(CLAIM + "deployment_id") or ""),
        )
    )
    link = body.get(CLAIM + "resource_link") or {}
    return LaunchContext(
        launch_id=launch_id,
        organisation_id=platform.organisation_id,
        platform_id=platform.id,
        person_id=person.id,
        course_id=course.id if course else None,
        roles=tuple(sorted(r.value for r in map_roles(body.get(CLAIM + "roles") or []))),
        message_type=str(body.get(CLAIM + "message_type")),
        resource_link_id=str(link["id"]) if isinstance(link, dict) and link.get("id") else None,
        deployment_id=deployment,
        frame_origins=_frame_origins(platform, body),
    )


def _frame_origins(platform: Platform, body: dict[str, Any]) -> tuple[str, ...]:
    """The platform's origins, and the one its signed launch names as the page it came from
    (Canvas frames the tool on the school's own host, not on its issuer's)."""
    origins = platform_origins(platform)
    presentation = body.get(CLAIM + "launch_presentation")
    if isinstance(presentation, dict):
        returned = origin_of(presentation.get("return_url"))
        if returned:
            origins.add(returned)
    return tuple(sorted(origins))


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; they were stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _text(value: Any) -> str | None:
    return value.strip()[:255] if isinstance(value, str) and value.strip() else None
