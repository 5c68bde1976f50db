"""Trainers place assessments: the deep-linking round trip with the real platform peer."""

from __future__ import annotations

import jwt
import pytest
from lxml import html
from sqlalchemy import select

from ltiservice import db
from ltiservice.models import Assessment
from tests.support.browser import form_of
from tests.support.lti_harness import INSTRUCTOR, LEARNER

pytestmark = pytest.mark.peer

PLACEMENT = {
    "block": "CRCA:B2B",
    "case": "",
    "title": "Étude de cas sinistre",
    "deadline": "2030-06-30T18:00",
    "allowed_extensions": [".pdf", ".docx"],
    "max_file_mb": "5",
    "max_attempts": "2",
    "score_maximum": "20",
}


def _picker(lti, sub="trainer-1"):
    browser = lti.browser()
    page = lti.launch(
        lti.user(sub, INSTRUCTOR),
        browser=browser,
        message_type="LtiDeepLinkingRequest",
        deep_linking={"accept_types": ["ltiResourceLink"], "data": "opaque-42"},
    )
    return browser, page


def test_deep_linking_places_an_assessment_with_its_line_item(lti):
    browser, page = _picker(lti)
    assert page.status_code == 200, page.text[:600]
    assert "Placer une évaluation" in page.text
    assert "B2B" in page.text and "Chargé(e) de relation clientèle assurance" in page.text

    action, fields = form_of(page)
    fields.update(PLACEMENT)
    returned = browser.post(action, data=fields)
    assert returned.status_code == 200, returned.text[:600]
    return_url, jwt_fields = form_of(returned)
    assert return_url == lti.peer.deep_link_return_url
    claims = jwt.decode(jwt_fields["JWT"], options={"verify_signature": False})
    assert claims["https://purl.imsglobal.org/spec/lti-dl/claim/data"] == "opaque-42"

    accepted = browser.post(return_url, data=jwt_fields)
    assert accepted.status_code == 200, accepted.text[:600]
    items = lti.peer.deep_links()[-1]["content_items"]
    assert len(items) == 1
    item = items[0]
    assert item["type"] == "ltiResourceLink"
    assert item["title"] == "Étude de cas sinistre"
    assert item["url"] == f"{lti.tool_url}/lti/launch"
    assert item["lineItem"]["scoreMaximum"] == 20
    assert item["lineItem"]["tag"] == "ltiservice:CRCA:B2B"

    with lti.live.app.app_context():
        assessment = db.session().scalar(select(Assessment))
        assert assessment.block_code == "B2B"
        assert assessment.certification_code == "CRCA"
        assert assessment.referential_version == "RNCP41351"
        assert assessment.case_id.startswith("crca-")
        assert assessment.allowed_extensions == [".pdf", ".docx"]
        assert assessment.max_attempts == 2
        assert assessment.resource_link_id is None
        assert item["custom"] == {"ltiservice_resource_id": assessment.resource_id}
        assert item["lineItem"]["resourceId"] == assessment.resource_id


def test_invalid_placement_is_refused_with_french_errors_and_nothing_stored(lti):
    browser, page = _picker(lti)
    action, fields = form_of(page)
    fields.update({**PLACEMENT, "block": "CRCA:NOPE", "allowed_extensions": []})
    refused = browser.post(action, data=fields)
    assert refused.status_code == 400
    assert "Choisissez un bloc de compétences." in refused.text
    with lti.live.app.app_context():
        assert db.session().scalar(select(Assessment)) is None


def test_a_learner_cannot_open_the_picker(lti):
    page = lti.launch(
        lti.user("learner-1", LEARNER),
        message_type="LtiDeepLinkingRequest",
        deep_linking={"accept_types": ["ltiResourceLink"]},
    )
    assert page.status_code == 403
    assert "Seuls les formateurs" in page.text


def test_placement_without_csrf_token_is_refused(lti):
    browser, page = _picker(lti)
    action, fields = form_of(page)
    fields.update(PLACEMENT)
    fields.pop("csrf_token")
    assert browser.post(action, data=fields).status_code == 400
    with lti.live.app.app_context():
        assert db.session().scalar(select(Assessment)) is None


def test_configuring_a_link_twice_keeps_one_assessment(lti):
    first = lti.browser()
    page = lti.launch(lti.user("trainer-1", INSTRUCTOR), browser=first, ags=True)
    second = lti.browser()
    other_tab = lti.launch(lti.user("trainer-2", INSTRUCTOR), browser=second, ags=True)
    action, fields = form_of(page)
    fields.update(PLACEMENT)
    placed = first.post(action, data=fields)
    assert placed.status_code == 200 and "/dashboard" in placed.url

    action, fields = form_of(other_tab)
    fields.update({**PLACEMENT, "block": "CRCA:B1"})
    again = second.post(action, data=fields)
    assert again.status_code == 200 and "/dashboard" in again.url
    with lti.live.app.app_context():
        assessments = db.session().scalars(select(Assessment)).all()
        assert [a.block_code for a in assessments] == ["B2B"]
        assert assessments[0].resource_link_id == "link-1"


def test_the_picker_shows_each_product_convention_as_such(lti):
    _browser, page = _picker(lti)
    assert page.status_code == 200, page.text[:600]
    with lti.live.app.app_context():
        crca = lti.live.app.extensions["plugins"]["CRCA"].current
    conventions = crca.conventions()
    assert conventions, "the CRCA thresholds are not stated by any document"

    [section] = html.fromstring(page.text).xpath("//section[@aria-labelledby='conventions-titre']")
    text = " ".join(section.text_content().split())
    assert "Règles à confirmer par le certificateur" in text
    for entry in conventions:
        assert " ".join(entry.note.split()) in text
    assert "Seuil d'acquisition d'un bloc" in text
    assert text.count("Convention du produit, à confirmer par le certificateur") >= len(conventions)
    # A rule a document states is not listed as a convention.
    stated = crca.provenance_of("jury.decisions")
    assert stated is not None and stated.source == "document"
    assert "Décisions possibles du jury —" not in text
