"""Sessions with an absolute end, and roles that are only good until the next launch.

Real launches from the Open edX peer into the live app. To stand for hours passing, a test
re-signs the browser's session cookie with the app's own key and moves the launch's date back:
nothing else in the service is touched, and the service decides from the cookie alone.
"""

from __future__ import annotations

import html
from typing import Any

import pytest
import requests

from tests.assessments.learner_support import launch_learner, place
from tests.support.browser import Browser
from tests.support.lti_harness import INSTRUCTOR, LEARNER, LtiHarness

pytestmark = pytest.mark.peer

EXPIRED = "Votre session a expiré : relancez l'activité depuis votre plateforme de formation."
ROLES_CHANGED = "Vos rôles dans ce cours ont changé depuis ce lancement"
COURSE_2 = {"id": "course-2", "title": "Autre cours", "label": "AUTRE"}
LINK_2 = {"id": "link-2", "title": "Autre étude"}


def _session(lti: LtiHarness, browser: Browser) -> dict[str, Any]:
    serializer = lti.live.app.session_interface.get_signing_serializer(lti.live.app)
    return dict(serializer.loads(browser.http.cookies.get("ltiservice_session")))


def _store_session(lti: LtiHarness, browser: Browser, data: dict[str, Any]) -> None:
    serializer = lti.live.app.session_interface.get_signing_serializer(lti.live.app)
    cookie = next(c for c in browser.http.cookies if c.name == "ltiservice_session")
    browser.http.cookies.set(
        cookie.name, serializer.dumps(data), domain=cookie.domain, path=cookie.path
    )


def _age_launch(lti: LtiHarness, browser: Browser, launch: str, seconds: float) -> None:
    """As if the launch had been validated `seconds` earlier than it was."""
    data = _session(lti, browser)
    data["launches"][launch]["issued_at"] -= seconds
    _store_session(lti, browser, data)


def _session_cookies(response: requests.Response) -> list[str]:
    raw = response.raw.headers.getlist("Set-Cookie")
    return [c for c in raw if c.startswith("ltiservice_session=")]


def _refused(response: requests.Response, message: str) -> bool:
    return response.status_code == 401 and message in html.unescape(response.text)


def test_a_session_ends_at_its_absolute_end_however_often_it_is_used(lti: LtiHarness) -> None:
    assessment = place(lti)
    learner = launch_learner(lti)
    lifetime = lti.live.app.config["SETTINGS"].session_lifetime_s
    issued_at = _session(lti, learner.browser)["launches"][learner.launch]["issued_at"]

    # Using the pages does not refresh the cookie…
    for _ in range(3):
        page = learner.get(assessment)
        assert page.status_code == 200
        assert _session_cookies(page) == [], "the session cookie must not be refreshed by use"
    # …and a request that writes the session (a flash message) keeps the launch's date.
    saved = learner.post(assessment, "/draft", {"text": "Premier jet"}, allow_redirects=False)
    assert saved.status_code == 303 and _session_cookies(saved)
    assert _session(lti, learner.browser)["launches"][learner.launch]["issued_at"] == issued_at

    _age_launch(lti, learner.browser, learner.launch, lifetime - 120)
    assert learner.get(assessment).status_code == 200, "two minutes left: still open"

    _age_launch(lti, learner.browser, learner.launch, 121)
    assert _refused(learner.get(assessment), EXPIRED)
    answer = learner.browser.post(
        learner.url(assessment, "/draft"),
        params={"launch": learner.launch},
        json={"text": "Après la fin"},
        headers={"Accept": "application/json", "X-CSRF-Token": learner.csrf},
        allow_redirects=False,
    )
    assert answer.status_code == 401 and answer.json()["error"] == "session_expired"

    # A new launch opens a new session of its own.
    again = launch_learner(lti, browser=learner.browser)
    assert again.get(assessment).status_code == 200


def test_a_launch_with_other_roles_ends_the_earlier_ones_in_every_browser(
    lti: LtiHarness,
) -> None:
    assessment = place(lti)
    place(lti, context_id=COURSE_2["id"], resource_link_id=LINK_2["id"])
    as_trainer = launch_learner(lti, "personne-1", roles=(INSTRUCTOR,))
    assert as_trainer.get(assessment, "/dashboard").status_code == 200

    # The LMS took the trainer role away: the next launch, in another browser, is a learner's.
    as_learner = launch_learner(lti, "personne-1", roles=(LEARNER,))
    assert as_learner.get(assessment).status_code == 200
    assert _refused(as_trainer.get(assessment, "/dashboard"), ROLES_CHANGED)
    assert _refused(as_trainer.get(assessment), ROLES_CHANGED)

    # Given back: a new trainer launch works, the learner launch ends, the first one stays ended.
    back = launch_learner(lti, "personne-1", roles=(INSTRUCTOR,))
    assert back.get(assessment, "/dashboard").status_code == 200
    assert _refused(as_learner.get(assessment), ROLES_CHANGED)
    assert _refused(as_trainer.get(assessment, "/dashboard"), ROLES_CHANGED)

    # Same roles in another tab go on working; other roles in another course change nothing.
    tab = launch_learner(lti, "personne-1", roles=(INSTRUCTOR,), browser=back.browser)
    elsewhere = launch_learner(lti, "personne-1", roles=(LEARNER,), context=COURSE_2, link=LINK_2)
    assert elsewhere.page.status_code == 200
    assert back.get(assessment, "/dashboard").status_code == 200
    assert tab.get(assessment, "/dashboard").status_code == 200


def test_a_launch_with_other_roles_drops_the_earlier_one_from_the_same_browser(
    lti: LtiHarness,
) -> None:
    place(lti)
    first = launch_learner(lti, "personne-2", roles=(INSTRUCTOR,))
    launch_learner(lti, "personne-2", roles=(LEARNER,), browser=first.browser)
    assert first.launch not in _session(lti, first.browser)["launches"]
