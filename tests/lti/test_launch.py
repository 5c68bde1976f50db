"""Launches from a real LTI platform (Open edX's consumer) into the live tool."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ltiservice import db
from ltiservice.models import Course, Person
from tests.support.lti_harness import INSTRUCTOR, LEARNER

pytestmark = pytest.mark.peer


def test_learner_launch_records_the_person_and_course(lti):
    page = lti.launch(lti.user("learner-1", LEARNER, name="Camille Martin"))
    # Nothing is placed on this link yet: the learner is told to come back later.
    assert page.status_code == 404, page.text[:800]
    assert "pas encore été configurée" in page.text
    with lti.live.app.app_context():
        person = db.session().scalar(select(Person).where(Person.sub == "learner-1"))
        course = db.session().scalar(select(Course))
        assert person.name == "Camille Martin"
        assert person.email is None  # only what the platform sends
        assert course.context_id == "course-1"
        assert course.title == "CQP CRCA 2026"


def test_instructor_launch_on_an_unplaced_link_opens_the_configuration(lti):
    page = lti.launch(lti.user("trainer-1", INSTRUCTOR))
    assert page.status_code == 200, page.text[:800]
    assert "/placement/configure?launch=" in page.url
    assert "Configurer cette activité" in page.text
