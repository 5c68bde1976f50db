"""Launches from a real LTI platform (Open edX's consumer) into the live tool."""

from __future__ import annotations

import pytest

from tests.support.lti_harness import INSTRUCTOR, LEARNER

pytestmark = pytest.mark.peer


def test_learner_launch_opens_the_learner_page(lti):
    page = lti.launch(lti.user("learner-1", LEARNER, name="Camille Martin"))
    assert page.status_code == 200, page.text[:800]
    assert "/start?launch=" in page.url
    assert "en tant qu'apprenant" in page.text


def test_instructor_launch_opens_the_trainer_page(lti):
    page = lti.launch(lti.user("trainer-1", INSTRUCTOR))
    assert page.status_code == 200, page.text[:800]
    assert "formateur ou évaluateur" in page.text
