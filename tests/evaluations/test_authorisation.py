"""Every trainer route, asked by the wrong people: learners, other courses, other platforms."""

from __future__ import annotations

import requests
from sqlalchemy import func, select

from ltiservice import db
from ltiservice.models import Evaluation, Submission
from tests.evaluations.support import (
    Visitor,
    criteria,
    hand_in,
    launch,
    learner,
    other_platform,
    paths,
    place,
    use_client,
    verdict_form,
)
from tests.support.lti_harness import CLIENT_ID, LtiHarness

OTHER_CLIENT = "ltiservice-other-client"


def _answers(visitor: Visitor, url: dict[str, str]) -> dict[str, int]:
    """Status of every route of the blueprint for this visitor."""
    form = verdict_form(criteria("B2B"), "met", role="hierarchy")
    return {
        "dashboard": visitor.get(url["dashboard"]).status_code,
        "grade": visitor.get(url["grade"]).status_code,
        "decision": visitor.get(url["decision"]).status_code,
        "save": visitor.post(url["save"], form).status_code,
        "autosave": visitor.post_json(url["save"], {"verdicts": {}}).status_code,
        "sign": visitor.post(url["sign"], form).status_code,
        "sign_decision": visitor.post(url["decision"], {"resolution": "x"}).status_code,
    }


def _with_token(lti: LtiHarness, visitor: Visitor, own_assessment: int) -> Visitor:
    """Open a grading page of the visitor's own assessment, so their posts carry a valid
    CSRF token: what stops them must be the authorisation, not the token."""
    own = hand_in(lti, own_assessment, f"own-learner-{own_assessment}")
    visitor.page = visitor.get(paths(own_assessment, own)["grade"])
    assert visitor.csrf
    return visitor


def _untouched(lti: LtiHarness, submission_id: int) -> None:
    with lti.live.app.app_context():
        session = db.session()
        touched = select(func.count()).where(Evaluation.submission_id == submission_id)
        assert session.scalar(touched) == 0
        submission = session.get(Submission, submission_id)
        assert submission is not None and submission.status == "submitted"


def test_learners_get_403_on_every_trainer_route(lti: LtiHarness) -> None:
    assessment = place(lti, "B2B")
    submission = hand_in(lti, assessment, "learner-1")
    url = paths(assessment, submission)
    # The learner whose work it is, and another learner of the course (whose case page
    # carries a valid CSRF token), each on their own launch of this very assessment.
    owner = learner(lti, "learner-1")
    other = learner(lti, "learner-2")
    assert other.csrf

    assert set(_answers(owner, url).values()) == {403}
    assert set(_answers(other, url).values()) == {403}
    _untouched(lti, submission)


def test_trainers_of_another_course_or_assessment_see_nothing(lti: LtiHarness) -> None:
    assessment = place(lti, "B2B")
    submission = hand_in(lti, assessment, "learner-1")
    url = paths(assessment, submission)
    course_2 = place(lti, "B1", context_id="course-2")
    other_course = launch(lti, "trainer-2", "B1", context={"id": "course-2", "title": "Autre"})
    _with_token(lti, other_course, course_2)
    b2a = place(lti, "B2A")
    other_assessment = _with_token(lti, launch(lti, "trainer-1", "B2A"), b2a)

    assert set(_answers(other_course, url).values()) == {404}
    assert set(_answers(other_assessment, url).values()) == {404}
    _untouched(lti, submission)


def test_trainers_of_another_platform_see_nothing(lti: LtiHarness) -> None:
    assessment = place(lti, "B2B")
    submission = hand_in(lti, assessment, "learner-1")
    url = paths(assessment, submission)
    platform = other_platform(lti, OTHER_CLIENT)
    # Same course id, same resource link id, same user id: only the platform differs.
    mirror = place(lti, "B2B", platform_id=platform)
    use_client(lti, OTHER_CLIENT)
    try:
        foreign = launch(lti, "trainer-1", "B2B")
    finally:
        use_client(lti, CLIENT_ID)
    assert foreign.page.url.split("?")[0].endswith(f"/a/{mirror}/dashboard")
    _with_token(lti, foreign, mirror)

    assert set(_answers(foreign, url).values()) == {404}
    _untouched(lti, submission)


def test_pages_need_a_launch_of_this_browser(lti: LtiHarness) -> None:
    assessment = place(lti, "B2B")
    submission = hand_in(lti, assessment, "learner-1")
    url = paths(assessment, submission)
    trainer = launch(lti, "trainer-1")

    bare = requests.get(f"{trainer.base}{url['grade']}", timeout=30)
    stranger = requests.get(
        f"{trainer.base}{url['grade']}", params={"launch": trainer.launch}, timeout=30
    )

    assert (bare.status_code, stranger.status_code) == (401, 401)


def test_state_changes_need_the_csrf_token(lti: LtiHarness) -> None:
    assessment = place(lti, "B2B")
    submission = hand_in(lti, assessment, "learner-1")
    url = paths(assessment, submission)
    trainer = launch(lti, "trainer-1")
    trainer.page = trainer.get(url["grade"])
    form = dict(verdict_form(criteria("B2B"), "met", role="hierarchy"))
    base = trainer.base

    no_token = trainer.browser.post(f"{base}{url['sign']}", data={"launch": trainer.launch, **form})
    wrong = trainer.browser.post(
        f"{base}{url['save']}",
        data={"launch": trainer.launch, "csrf_token": "forged", **form},
    )
    json_without = trainer.post_json(url["save"], {"verdicts": {}}, csrf=None)
    json_wrong = trainer.post_json(url["save"], {"verdicts": {}}, csrf="forged")
    decision = trainer.browser.post(
        f"{base}{url['decision']}", data={"launch": trainer.launch, "resolution": "x"}
    )

    assert [r.status_code for r in (no_token, wrong, json_without, json_wrong, decision)] == [
        400
    ] * 5
    with lti.live.app.app_context():
        assert db.session().scalar(select(func.count()).select_from(Evaluation)) == 0
