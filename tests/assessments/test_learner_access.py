"""Authorisation of every learner route: own work only, this launch's assessment only."""

from __future__ import annotations

import pytest
from flask import url_for
from sqlalchemy import select
from werkzeug.routing import BuildError

from ltiservice import db
from ltiservice.models import Submission, SubmissionFile
from tests.assessments.learner_support import (
    OTHER_CLIENT_ID,
    launch_learner,
    pdf_bytes,
    place,
    second_platform,
    text_of,
    use_client,
)
from tests.support.lti_harness import CLIENT_ID, INSTRUCTOR

pytestmark = pytest.mark.peer

COURSE_2 = {"id": "course-2", "title": "Autre cours", "label": "AUTRE"}
LINK_2 = {"id": "link-2", "title": "Autre évaluation"}


def _submitted_work(lti, assessment_id):
    """learner-1 hands in a text and a file; returns (learner, file id, submission id)."""
    learner = launch_learner(lti, "learner-1")
    learner.post(
        assessment_id,
        "/files",
        {"text": "Texte confidentiel de l'apprenant 1"},
        files=[("files", ("a.pdf", pdf_bytes(), "application/pdf"))],
    )
    learner.post(assessment_id, "/submit")
    with lti.live.app.app_context():
        row = db.session().scalar(select(SubmissionFile))
        return learner, row.id, row.submission_id


def _submission(lti, submission_id):
    with lti.live.app.app_context():
        return db.session().get(Submission, submission_id)


def _learner_routes(file_id: int, submission_id: int):
    gets = ["", f"/files/{file_id}", f"/receipt/{submission_id}", "/results", "/path", "/submit"]
    posts = ["/draft", "/files", f"/files/{file_id}/delete", "/submit", "/attempts"]
    return gets, posts


def test_another_learner_cannot_see_download_or_submit_someone_elses_work(lti):
    assessment_id = place(lti)
    _, file_id, submission_id = _submitted_work(lti, assessment_id)
    other = launch_learner(lti, "learner-2")
    assert "Texte confidentiel" not in other.page.text

    assert other.get(assessment_id, f"/files/{file_id}").status_code == 404
    receipt = other.get(assessment_id, f"/receipt/{submission_id}")
    assert receipt.status_code == 404
    assert "ne vous appartient pas" in text_of(receipt)
    assert other.post(assessment_id, f"/files/{file_id}/delete").status_code == 404
    # Submitting acts on learner-2's own (empty) draft, never on learner-1's work.
    assert other.post(assessment_id, "/submit").status_code == 409
    work = _submission(lti, submission_id)
    assert work.status == "submitted" and work.text == "Texte confidentiel de l'apprenant 1"
    with lti.live.app.app_context():
        assert db.session().scalar(select(SubmissionFile).where(SubmissionFile.id == file_id))


def test_a_launch_for_another_course_cannot_open_this_assessment(lti):
    assessment_id = place(lti)
    learner, file_id, submission_id = _submitted_work(lti, assessment_id)
    other_id = place(lti, context_id="course-2", resource_link_id="link-2")
    # Same person, same browser, but this launch is for the other course's assessment.
    elsewhere = launch_learner(
        lti, "learner-1", context=COURSE_2, link=LINK_2, browser=learner.browser
    )
    assert elsewhere.page.url.startswith(f"{lti.tool_url}/a/{other_id}?")
    gets, posts = _learner_routes(file_id, submission_id)
    for tail in gets:
        assert elsewhere.get(assessment_id, tail).status_code == 404, tail
    for tail in posts:
        assert elsewhere.post(assessment_id, tail, {"text": "x"}).status_code == 404, tail
    # The other assessment does not serve this one's file either.
    assert elsewhere.get(other_id, f"/files/{file_id}").status_code == 404
    assert elsewhere.get(other_id, f"/receipt/{submission_id}").status_code == 404
    assert _submission(lti, submission_id).text == "Texte confidentiel de l'apprenant 1"


def test_a_launch_from_another_platform_cannot_open_this_assessment(lti):
    assessment_id = place(lti)
    learner, file_id, submission_id = _submitted_work(lti, assessment_id)
    platform_2 = second_platform(lti)
    foreign_id = place(lti, platform_id=platform_2)
    use_client(lti, OTHER_CLIENT_ID)
    try:
        # Same sub, same course and link ids, same browser: another LMS all the same.
        foreign = launch_learner(lti, "learner-1", browser=learner.browser)
    finally:
        use_client(lti, CLIENT_ID)
    assert foreign.page.url.startswith(f"{lti.tool_url}/a/{foreign_id}?")
    gets, posts = _learner_routes(file_id, submission_id)
    for tail in gets:
        assert foreign.get(assessment_id, tail).status_code == 404, tail
    for tail in posts:
        assert foreign.post(assessment_id, tail, {"text": "x"}).status_code == 404, tail
    assert foreign.get(foreign_id, f"/files/{file_id}").status_code == 404


def test_pages_need_a_launch_of_this_browser(lti):
    assessment_id = place(lti)
    learner = launch_learner(lti)
    stranger = lti.browser()
    page = stranger.get(learner.url(assessment_id), params={"launch": learner.launch})
    assert page.status_code == 401
    assert "relancez" in text_of(page)
    assert stranger.get(learner.url(assessment_id)).status_code == 401


@pytest.mark.parametrize("tail", ["/draft", "/files", "/submit", "/attempts"])
def test_state_changes_without_csrf_token_are_refused(lti, tail):
    assessment_id = place(lti)
    learner = launch_learner(lti)
    learner.post(assessment_id, "/draft", {"text": "Avant"})
    response = learner.browser.post(
        learner.url(assessment_id, tail),
        data={"launch": learner.launch, "text": "Après"},
        files=[("files", ("a.pdf", pdf_bytes(), "application/pdf"))],
    )
    assert response.status_code == 400
    wrong = learner.browser.post(
        learner.url(assessment_id, tail),
        data={"launch": learner.launch, "csrf_token": "forged", "text": "Après"},
    )
    assert wrong.status_code == 400
    [draft] = _all_submissions(lti)
    assert (draft.text, draft.status, draft.files) == ("Avant", "draft", [])


def test_file_delete_without_csrf_token_is_refused(lti):
    assessment_id = place(lti)
    learner = launch_learner(lti)
    learner.post(
        assessment_id, "/files", files=[("files", ("a.pdf", pdf_bytes(), "application/pdf"))]
    )
    with lti.live.app.app_context():
        file_id = db.session().scalar(select(SubmissionFile.id))
    response = learner.browser.post(
        learner.url(assessment_id, f"/files/{file_id}/delete"), data={"launch": learner.launch}
    )
    assert response.status_code == 400
    with lti.live.app.app_context():
        assert db.session().get(SubmissionFile, file_id) is not None


def _all_submissions(lti):
    with lti.live.app.app_context():
        session = db.session()
        rows = list(session.scalars(select(Submission)))
        for row in rows:
            row.files  # noqa: B018 - load while the session is open
        return rows


def _endpoint_exists(lti, endpoint: str) -> bool:
    with lti.live.app.test_request_context():
        try:
            url_for(endpoint, assessment_id=1)
        except BuildError:
            return False
    return True


def test_a_learner_cannot_open_trainer_pages(lti):
    if not _endpoint_exists(lti, "evaluations.dashboard"):
        pytest.skip("the trainer blueprint is not registered in this app yet")
    assessment_id = place(lti)
    learner, _, submission_id = _submitted_work(lti, assessment_id)
    assert learner.get(assessment_id, "/dashboard").status_code == 403
    grade = learner.get(assessment_id, f"/submissions/{submission_id}/grade")
    assert grade.status_code == 403


def test_trainers_download_course_files_but_cannot_submit_as_learners(lti):
    if not _endpoint_exists(lti, "evaluations.dashboard"):
        pytest.skip("a trainer launch lands on the trainer blueprint, not registered yet")
    assessment_id = place(lti)
    _, file_id, submission_id = _submitted_work(lti, assessment_id)
    trainer = launch_learner(lti, "trainer-1", roles=(INSTRUCTOR,))
    download = trainer.get(assessment_id, f"/files/{file_id}")
    assert download.status_code == 200 and download.content == pdf_bytes()
    assert trainer.get(assessment_id, f"/receipt/{submission_id}").status_code == 200
    for tail in ["/draft", "/files", "/submit", "/attempts"]:
        answer = trainer.browser.post(
            trainer.url(assessment_id, tail), data={"launch": trainer.launch, "text": "x"}
        )
        assert answer.status_code == 403, tail
    assert trainer.get(assessment_id, "/results").status_code == 403
