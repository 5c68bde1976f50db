"""Placing one épreuve of a block the referential evaluates by several (courtage)."""

from __future__ import annotations

import jwt
import pytest
from lxml import html
from sqlalchemy import select

from ltiservice import db
from ltiservice.models import Assessment
from tests.support.browser import form_of
from tests.support.lti_harness import INSTRUCTOR

ADMINISTRATOR = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"

pytestmark = pytest.mark.peer

PLACEMENT = {
    "block": "COURTAGE:BC1:REF",
    "case": "",
    "title": "",
    "deadline": "",
    "allowed_extensions": [".pdf"],
    "max_file_mb": "5",
    "max_attempts": "1",
    "score_maximum": "20",
}


def _picker(lti):
    browser = lti.browser()
    page = lti.launch(
        # Courtage's registration ended in 2021: only an administrator may confirm a placement.
        lti.user("trainer-1", INSTRUCTOR, ADMINISTRATOR),
        browser=browser,
        message_type="LtiDeepLinkingRequest",
        deep_linking={"accept_types": ["ltiResourceLink"]},
    )
    assert page.status_code == 200, page.text[:600]
    return browser, page


def _stored(lti):
    with lti.live.app.app_context():
        return db.session().scalars(select(Assessment)).all()


def test_the_picker_offers_each_epreuve_of_a_courtage_block_and_one_entry_for_crca(lti):
    _, page = _picker(lti)
    values = html.fromstring(page.text).xpath("//select[@id='block']//option/@value")
    assert [v for v in values if v.startswith("COURTAGE:BC1")] == [
        "COURTAGE:BC1:OF",
        "COURTAGE:BC1:REF",
        "COURTAGE:BC1:COM",
    ]
    assert [v for v in values if v.startswith("CRCA:B2B")] == ["CRCA:B2B"]


def test_placing_an_epreuve_stores_it_and_tags_the_line_item(lti):
    browser, page = _picker(lti)
    action, fields = form_of(page)
    fields.update({**PLACEMENT, "started_before_end": "on"})
    returned = browser.post(action, data=fields)
    assert returned.status_code == 200, returned.text[:600]
    _, jwt_fields = form_of(returned)
    claims = jwt.decode(jwt_fields["JWT"], options={"verify_signature": False})
    [item] = claims["https://purl.imsglobal.org/spec/lti-dl/claim/content_items"]

    [assessment] = _stored(lti)
    assert (assessment.block_code, assessment.epreuve_code) == ("BC1", "REF")
    assert assessment.title.startswith("BC1 — Evaluation par le référent en entreprise — ")
    assert item["lineItem"]["tag"] == "ltiservice:COURTAGE:BC1:REF"


@pytest.mark.parametrize(
    ("block", "message"),
    [
        (
            "COURTAGE:BC1:XYZ",
            "L'épreuve « XYZ » n'existe pas pour le bloc BC1 : les épreuves de ce bloc sont "
            "OF, REF, COM.",
        ),
        (
            "COURTAGE:BC1",
            "Le bloc BC1 s'évalue par plusieurs épreuves : choisissez l'épreuve que cette activité "
            "évalue (OF, REF, COM).",
        ),
        (
            "CRCA:B2B:OF",
            "L'épreuve « OF » n'existe pas pour le bloc B2B : ce bloc s'évalue par une seule "
            "épreuve, sans code.",
        ),
    ],
)
def test_a_wrong_epreuve_is_refused_in_french_and_nothing_is_stored(lti, block, message):
    browser, page = _picker(lti)
    action, fields = form_of(page)
    fields.update({**PLACEMENT, "block": block})

    refused = browser.post(action, data=fields)

    assert refused.status_code == 400
    summary = html.fromstring(refused.text).xpath("//div[@id='erreurs']/p")[0].text_content()
    assert summary == message
    assert _stored(lti) == []
