"""Make the demo ready (idempotently): its organisation, platform, deployment, course, and a
first CRCA B2B assessment placed in the course with its gradebook column."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ltiservice.assessments.placement import create_assessment, parse_placement
from ltiservice.demo import cast
from ltiservice.demo.gradebook import Gradebook
from ltiservice.demo.platform import DemoUrls
from ltiservice.lti.context import LaunchContext
from ltiservice.models import Assessment, Course, Person, Platform
from ltiservice.platforms import (
    PlatformSpec,
    add_deployment,
    add_platform,
    get_or_create_organisation,
)


@dataclass(frozen=True)
class DemoState:
    """What the demo command prepared (ids in the service's database)."""

    platform_id: int
    course_id: int
    assessment_id: int
    created: bool  # False when everything already existed


def find_demo_platform(db: Session, urls: DemoUrls) -> Platform | None:
    return db.scalar(
        select(Platform).where(Platform.issuer == urls.issuer, Platform.client_id == cast.CLIENT_ID)
    )


def ensure_demo(
    db: Session, urls: DemoUrls, gradebook: Gradebook, plugins: dict[str, Any]
) -> DemoState:
    """Register the demo platform and place the first assessment, once. Commits."""
    platform = find_demo_platform(db, urls)
    created = platform is None
    if platform is None:
        get_or_create_organisation(db, cast.ORGANISATION_SLUG, cast.ORGANISATION_NAME)
        platform = add_platform(
            db,
            PlatformSpec(
                organisation=cast.ORGANISATION_SLUG,
                name=cast.PLATFORM_NAME,
                issuer=urls.issuer,
                client_id=cast.CLIENT_ID,
                auth_login_url=urls.auth,
                auth_token_url=urls.token,
                key_set_url=urls.jwks,
                deployment_ids=(cast.DEPLOYMENT_ID,),
                product_family="ltiservice-demo",
                source="demo",
            ),
        )
    add_deployment(db, platform, cast.DEPLOYMENT_ID)
    course = _course(db, platform, urls)
    assessment = db.scalar(
        select(Assessment).where(
            Assessment.platform_id == platform.id, Assessment.resource_link_id == cast.FIRST_LINK_ID
        )
    )
    if assessment is None:
        created = True
        assessment = _first_assessment(db, platform, course, plugins)
    # Commit before the store writes: on SQLite the store's own connection would wait for
    # this session's write lock.
    db.commit()
    activity = gradebook.add_activity(
        assessment.title,
        custom={"ltiservice_resource_id": assessment.resource_id},
        line_item={
            "label": assessment.title,
            "scoreMaximum": assessment.score_maximum,
            "resourceId": assessment.resource_id,
            "tag": f"ltiservice:{assessment.certification_code}:{assessment.block_code}",
        },
        resource_link_id=cast.FIRST_LINK_ID,
    )
    assessment.lineitem_url = activity.get("lineitem")
    assessment.lineitems_url = urls.lineitems
    db.commit()
    return DemoState(platform.id, course.id, assessment.id, created)


def _course(db: Session, platform: Platform, urls: DemoUrls) -> Course:
    course = db.scalar(
        select(Course).where(Course.platform_id == platform.id, Course.context_id == cast.COURSE_ID)
    )
    if course is None:
        course = Course(
            platform_id=platform.id,
            context_id=cast.COURSE_ID,
            title=cast.COURSE_TITLE,
            label=cast.COURSE_LABEL,
            nrps_url=urls.memberships,
        )
        db.add(course)
        db.flush()
    return course


def _first_assessment(
    db: Session, platform: Platform, course: Course, plugins: dict[str, Any]
) -> Assessment:
    placer = cast.member(cast.PLACER)
    assert placer is not None
    person = db.scalar(
        select(Person).where(Person.platform_id == platform.id, Person.sub == placer.sub)
    )
    if person is None:
        person = Person(platform_id=platform.id, sub=placer.sub, name=placer.name)
        db.add(person)
        db.flush()
    context = LaunchContext(
        launch_id="demo-bootstrap",
        organisation_id=platform.organisation_id,
        platform_id=platform.id,
        person_id=person.id,
        course_id=course.id,
        roles=(cast.INSTRUCTOR,),
        message_type="LtiResourceLinkRequest",
    )
    choice = parse_placement(
        {
            "block": f"{cast.FIRST_CERTIFICATION}:{cast.FIRST_BLOCK}",
            "allowed_extensions": [".pdf", ".docx", ".odt"],
            "max_file_mb": 10,
            "max_attempts": 2,
            "score_maximum": 20,
        },
        plugins,
    )
    return create_assessment(db, context, choice, plugins, resource_link_id=cast.FIRST_LINK_ID)
