"""A launch opens an assessment only from the platform, deployment, course and resource link it
was placed on; a launch from elsewhere with the same link id changes nothing stored."""

from __future__ import annotations

import html
from typing import Any

import pytest
from sqlalchemy import select

from ltiservice import db
from ltiservice.models import Assessment, Platform
from ltiservice.platforms import add_deployment
from tests.assessments.learner_support import COURSE, LINK, place
from tests.support.lti_harness import CLIENT_ID, INSTRUCTOR, LEARNER

pytestmark = pytest.mark.peer

LINEITEM_A = "https://lms.example/course-1/lineitem/1"


def snapshot(lti: Any) -> list[dict[str, Any]]:
    with lti.live.app.app_context():
        rows = db.session().scalars(select(Assessment).order_by(Assessment.id)).all()
        return [
            {c.name: getattr(row, c.name) for c in Assessment.__table__.columns} for row in rows
        ]


def launch(lti: Any, sub: str, role: str, context: dict[str, Any], lineitem: str) -> Any:
    return lti.launch(
        lti.user(sub, role),
        context=context,
        resource_link=LINK,
        ags=True,
        lineitem=lineitem,
    )


@pytest.mark.parametrize("role", [INSTRUCTOR, LEARNER])
def test_a_launch_from_another_course_with_the_same_link_id_changes_nothing(lti, role):
    place(lti, lineitem_url=LINEITEM_A)
    before = snapshot(lti)
    other_course = {"id": "course-B", "title": "Autre cours", "label": "B"}
    page = launch(
        lti, "visitor", role, other_course, f"{lti.peer.base_url}/ags/course-B/lineitems/9"
    )
    if role == INSTRUCTOR:
        # The other course's trainer may place its own assessment on its own link...
        assert page.status_code == 200 and "/placement/configure" in page.url
    else:
        assert page.status_code == 404
        assert "pas encore été configurée" in html.unescape(page.text)
    # ...and assessment 1 keeps its course, its link and its gradebook column.
    assert snapshot(lti) == before
    assert before[0]["lineitem_url"] == LINEITEM_A


def test_a_launch_through_another_deployment_opens_nothing(lti):
    with lti.live.app.app_context():
        platform = db.session().get(Platform, lti.platform_id)
        deployment = platform.deployments[0]
        placed = place(lti, lineitem_url=LINEITEM_A, deployment_id=deployment.id)
        add_deployment(db.session(), platform, "deployment-2")
        db.session().commit()
    before = snapshot(lti)
    lti.peer.configure_tool(
        client_id=CLIENT_ID,
        deployment_id="deployment-2",
        login_url=f"{lti.tool_url}/lti/login",
        launch_url=f"{lti.tool_url}/lti/launch",
        jwks_url=f"{lti.tool_url}/lti/jwks",
    )
    page = launch(lti, "learner-d2", LEARNER, COURSE, f"{lti.peer.base_url}/ags/x/lineitems/7")
    assert page.status_code == 404
    assert snapshot(lti) == before
    lti.use_client(CLIENT_ID)  # back on deployment-1: the same launch opens the assessment
    page = launch(lti, "learner-d1", LEARNER, COURSE, LINEITEM_A)
    assert page.status_code == 200 and f"/a/{placed}" in page.url


def test_an_assessment_placed_before_deployments_were_kept_takes_the_first_launchs(lti):
    placed = place(lti)  # deployment_id None, as rows from before migration 0005
    page = launch(lti, "learner-1", LEARNER, COURSE, LINEITEM_A)
    assert page.status_code == 200 and f"/a/{placed}" in page.url
    with lti.live.app.app_context():
        assessment = db.session().get(Assessment, placed)
        assert (
            assessment.deployment_id
            == db.session().get(Platform, lti.platform_id).deployments[0].id
        )
