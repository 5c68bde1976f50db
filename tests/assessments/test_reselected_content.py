"""Resource links follow the LMS's content selection: when a used activity is given other
content (Moodle's « Select content »), trainers and learners land on the new assessment, the
earlier work stays readable from it and its grades go nowhere any more; the picker says
beforehand what re-selecting a used activity means. Through the real Open edX peer's deep
linking."""

from __future__ import annotations

import html
from typing import Any

import pytest
from sqlalchemy import select

from ltiservice import db
from ltiservice.models import Assessment
from tests.assessments.learner_support import COURSE, LINK, Learner, text_of
from tests.support.browser import form_of, launch_id_of
from tests.support.lti_harness import INSTRUCTOR

pytestmark = pytest.mark.peer

PLACEMENT = {
    "case": "",
    "deadline": "2030-06-30T18:00",
    "allowed_extensions": [".pdf"],
    "max_file_mb": "5",
    "max_attempts": "1",
    "score_maximum": "20",
}


def deep_link(lti: Any, block: str, title: str) -> str:
    """A trainer picks content through the peer's deep linking; the resource id it returns."""
    browser = lti.browser()
    page = lti.launch(
        lti.user("trainer-1", INSTRUCTOR, name="Formatrice Une"),
        browser=browser,
        message_type="LtiDeepLinkingRequest",
        context=COURSE,
        deep_linking={"accept_types": ["ltiResourceLink"], "data": "dl"},
    )
    action, fields = form_of(page)
    fields.update({**PLACEMENT, "block": f"CRCA:{block}", "title": title})
    returned = browser.post(action, data=fields)
    assert returned.status_code == 200, returned.text[:600]
    return_url, jwt_fields = form_of(returned)
    assert browser.post(return_url, data=jwt_fields).status_code == 200
    item = lti.peer.deep_links()[-1]["content_items"][0]
    return str(item["custom"]["ltiservice_resource_id"])


def launch_with(lti: Any, sub: str, resource_id: str, *roles: str) -> Learner:
    browser = lti.browser()
    page = lti.launch(
        lti.user(sub, *(roles or ()), name=f"Personne {sub}"),
        browser=browser,
        context=COURSE,
        resource_link=LINK,
        custom={"ltiservice_resource_id": resource_id},
        ags=True,
        lineitem=f"{lti.peer.base_url}/ags/course-1/lineitems/1",
    )
    assert page.status_code == 200, page.text[:600]
    return Learner(browser, page, launch_id_of(page.url), lti.tool_url)


def assessment_ids(lti: Any) -> dict[str, int]:
    with lti.live.app.app_context():
        return {a.block_code: a.id for a in db.session().scalars(select(Assessment))}


def test_the_lms_choice_wins_and_earlier_work_stays_readable(lti):
    first = deep_link(lti, "B2B", "Cas B2B")
    learner = launch_with(lti, "learner-1", first)
    b2b = assessment_ids(lti)["B2B"]
    assert f"/a/{b2b}" in learner.page.url
    learner.post(b2b, "/draft", {"text": "Ma réponse B2B", "next": "confirm"})
    assert learner.post(b2b, "/submit").status_code == 200

    # The trainer edits the activity in the LMS and selects B1: Moodle keeps the link and its
    # column, and launches from now on carry the new resource id.
    second = deep_link(lti, "B1", "Cas B1")
    ids = assessment_ids(lti)
    trainer = launch_with(lti, "trainer-1", second, INSTRUCTOR)
    assert f"/a/{ids['B1']}/dashboard" in trainer.page.url
    dashboard = text_of(trainer.page)
    assert "Contenu précédent de cette activité" in dashboard
    assert "Cas B2B (bloc B2B) : 1 travail remis, aucune décision" in dashboard
    old_board = trainer.browser.get(
        f"{lti.tool_url}/a/{ids['B2B']}/dashboard", params={"launch": trainer.launch}
    )
    assert old_board.status_code == 200 and "a été remplacé" in html.unescape(old_board.text)

    again = launch_with(lti, "learner-1", second)
    assert f"/a/{ids['B1']}" in again.page.url
    assert "Cas B2B (bloc B2B) : 1 travail remis" in text_of(again.page)
    old_results = again.get(ids["B2B"], "/results")
    assert old_results.status_code == 200
    # Read only: nothing can be handed in under the replaced content any more.
    refused = again.post(ids["B2B"], "/draft", {"text": "trop tard"})
    assert refused.status_code == 409 and "a été remplacé" in html.unescape(refused.text)

    with lti.live.app.app_context():
        session = db.session()
        old, new = session.get(Assessment, ids["B2B"]), session.get(Assessment, ids["B1"])
        assert new.resource_link_id == LINK["id"] and old.resource_link_id is None
        assert old.replaced_by_id == new.id and old.replaced_link_id == LINK["id"]
        assert old.lineitem_url is None  # its grades would land in the column labelled B1
        assert new.lineitem_url.endswith("/lineitems/1")


def test_a_copied_activity_does_not_steal_the_link(lti):
    first = deep_link(lti, "B2B", "Cas B2B")
    launch_with(lti, "learner-1", first)
    copy = lti.launch(
        lti.user("trainer-2", INSTRUCTOR),
        context=COURSE,
        resource_link={"id": "link-copy", "title": "Copie"},
        custom={"ltiservice_resource_id": first},
    )
    assert "/placement/configure" in copy.url  # the copy is configured on its own
    with lti.live.app.app_context():
        (only,) = db.session().scalars(select(Assessment)).all()
        assert only.resource_link_id == LINK["id"] and only.replaced_by_id is None


def test_the_picker_says_what_re_selecting_a_used_activity_means(lti):
    first = deep_link(lti, "B2B", "Cas B2B")
    learner = launch_with(lti, "learner-1", first)
    b2b = assessment_ids(lti)["B2B"]
    learner.post(b2b, "/draft", {"text": "Réponse", "next": "confirm"})
    learner.post(b2b, "/submit")

    page = lti.launch(
        lti.user("trainer-1", INSTRUCTOR),
        message_type="LtiDeepLinkingRequest",
        context=COURSE,
        deep_linking={"accept_types": ["ltiResourceLink"], "data": "dl"},
    )
    text = text_of(page)
    assert "Activités de ce cours qui contiennent déjà du travail" in text
    assert "« Cas B2B » (bloc B2B) : 1 travail remis, aucune décision" in text
    assert "resteront consultables depuis la nouvelle évaluation" in text
    assert "y resteront jusqu'à ce qu'une nouvelle note les remplace" in text

    other_course = lti.launch(
        lti.user("trainer-1", INSTRUCTOR),
        message_type="LtiDeepLinkingRequest",
        context={"id": "course-2", "title": "Autre", "label": "2"},
        deep_linking={"accept_types": ["ltiResourceLink"], "data": "dl"},
    )
    assert "contiennent déjà du travail" not in text_of(other_course)
