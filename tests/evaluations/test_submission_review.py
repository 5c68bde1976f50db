"""LtiSubmissionReviewRequest (Moodle's gradebook link) opens the right person's graded work."""

from __future__ import annotations

import pytest

from tests.evaluations.support import COURSE, hand_in, link, place
from tests.support.lti_harness import INSTRUCTOR, LEARNER

pytestmark = pytest.mark.peer


def _review(lti, user, for_sub):
    # The spec (and pylti1p3) require the reviewed line item in the AGS claim.
    return lti.launch(
        user,
        message_type="LtiSubmissionReviewRequest",
        context=COURSE,
        resource_link=link("B2B"),
        for_user={"sub": for_sub},
        ags=True,
        lineitem=f"{lti.peer.base_url}/ags/{COURSE['id']}/lineitems/1",
    )


def test_a_trainer_reviewing_a_learner_lands_on_that_learners_grading_page(lti):
    assessment = place(lti, "B2B")
    hand_in(lti, assessment, "learner-1", text="Travail de l'apprenant 1.")
    second = hand_in(lti, assessment, "learner-2", text="Travail de l'apprenant 2.")
    page = _review(lti, lti.user("trainer-1", INSTRUCTOR), "learner-2")
    assert page.status_code == 200, page.text[:600]
    assert f"/a/{assessment}/submissions/{second}/grade" in page.url
    assert "Travail de l&#39;apprenant 2." in page.text or "Travail de l'apprenant 2." in page.text
    assert "apprenant 1." not in page.text


def test_a_learner_reviewing_lands_on_their_own_results_whatever_for_user_says(lti):
    assessment = place(lti, "B2B")
    hand_in(lti, assessment, "learner-1")
    hand_in(lti, assessment, "learner-2", text="Le travail de quelqu'un d'autre.")
    page = _review(lti, lti.user("learner-1", LEARNER), "learner-2")
    assert page.status_code == 200, page.text[:600]
    assert f"/a/{assessment}/results" in page.url
    assert "quelqu" not in page.text


def test_reviewing_someone_who_handed_nothing_in_is_a_clear_404(lti):
    place(lti, "B2B")
    page = _review(lti, lti.user("trainer-1", INSTRUCTOR), "nobody")
    assert page.status_code == 404
    assert "rien remis" in page.text
