"""Placement settings of issue 12: the grade mapping, and registrations that have ended."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from lxml import html
from sqlalchemy import select

from ltiservice import db
from ltiservice.models import Assessment, Person
from tests.assessments.test_placement import PLACEMENT
from tests.support.browser import form_of
from tests.support.lti_harness import INSTRUCTOR

ADMINISTRATOR = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"

pytestmark = pytest.mark.peer

# Courtage evaluates each block by three épreuves: the activity places one of them.
COURTAGE_BC1 = {**PLACEMENT, "block": "COURTAGE:BC1:OF", "title": "Courtage BC1"}


def _configure(lti, sub="trainer-1", *roles: str):
    browser = lti.browser()
    user = lti.user(sub, INSTRUCTOR, *roles, name="Claire Formatrice")
    page = lti.launch(user, browser=browser, ags=True)
    assert page.status_code == 200, page.text[:600]
    return browser, page


def _text(page) -> str:
    return " ".join(html.fromstring(page.text).text_content().split())


def _assessments(lti) -> list[Assessment]:
    with lti.live.app.app_context():
        return list(db.session().scalars(select(Assessment)))


def test_the_decision_mapping_is_the_default_and_is_shown_on_the_dashboard(lti):
    browser, page = _configure(lti)
    tree = html.fromstring(page.text)
    assert tree.xpath("//input[@id='grade_mapping-decision']/@checked")
    labels = [" ".join(x.split()) for x in tree.xpath("//fieldset/label/text()|//div/label/text()")]
    assert "Acquis = note maximale, non acquis = 0 (recommandé)" in labels
    assert "Part des compétences acquises" in labels
    action, fields = form_of(page)
    fields.update(PLACEMENT)
    placed = browser.post(action, data=fields)

    assert placed.status_code == 200 and "/dashboard" in placed.url
    assert "Note transmise au carnet de notes : acquis = note maximale, non acquis = 0." in _text(
        placed
    )
    [assessment] = _assessments(lti)
    assert assessment.grade_mapping == "decision"
    assert assessment.expired_registration_confirmed_at is None


def test_the_share_mapping_is_saved_and_shown(lti):
    browser, page = _configure(lti)
    action, fields = form_of(page)
    fields.update({**PLACEMENT, "grade_mapping": "competency_share"})
    placed = browser.post(action, data=fields)

    assert "Note transmise au carnet de notes : part des compétences acquises." in _text(placed)
    assert [a.grade_mapping for a in _assessments(lti)] == ["competency_share"]


def test_an_unknown_mapping_is_refused_in_french_and_nothing_is_stored(lti):
    browser, page = _configure(lti)
    action, fields = form_of(page)
    fields.update({**PLACEMENT, "grade_mapping": "moyenne"})
    refused = browser.post(action, data=fields)

    assert refused.status_code == 400
    assert (
        "Choisissez comment le résultat du bloc devient une note : « acquis = note maximale, "
        "non acquis = 0 » ou « part des compétences acquises »."
    ) in _text(refused)
    assert _assessments(lti) == []


def test_an_expired_registration_is_refused_without_confirmation_and_nothing_is_stored(lti):
    browser, page = _configure(lti)
    warning = _text(page)
    assert "Certifications dont l'enregistrement au RNCP a pris fin" in warning
    assert "L'enregistrement au RNCP de la certification RNCP31395 a pris fin le 07/08/2021" in (
        warning
    )
    action, fields = form_of(page)
    fields.update(COURTAGE_BC1)
    assert "started_before_end" not in fields  # unticked by default
    refused = browser.post(action, data=fields)

    assert refused.status_code == 400
    text = _text(refused)
    assert "a pris fin le 07/08/2021" in text
    assert (
        "Pour placer cette évaluation, cochez la case confirmant qu'elle concerne des candidats "
        "entrés en parcours avant cette date."
    ) in text
    assert _assessments(lti) == []


def test_a_trainer_who_is_not_an_administrator_may_not_confirm(lti):
    browser, page = _configure(lti)
    action, fields = form_of(page)
    fields.update({**COURTAGE_BC1, "started_before_end": "on"})
    refused = browser.post(action, data=fields)

    assert refused.status_code == 400
    assert "Seul un administrateur de la plateforme peut confirmer" in _text(refused)
    assert _assessments(lti) == []


def test_a_confirmed_placement_under_an_expired_registration_records_who_and_when(lti):
    browser, page = _configure(lti, "admin-1", ADMINISTRATOR)
    action, fields = form_of(page)
    fields.update({**COURTAGE_BC1, "started_before_end": "on"})
    before = datetime.now(UTC)
    placed = browser.post(action, data=fields)

    assert placed.status_code == 200 and "/dashboard" in placed.url
    text = _text(placed)
    assert "Enregistrement au RNCP terminé" in text
    assert "a pris fin le 07/08/2021" in text
    assert (
        "Placement confirmé pour des candidats entrés en parcours avant cette date par "
        "Claire Formatrice" in text
    )
    with lti.live.app.app_context():
        [assessment] = db.session().scalars(select(Assessment)).all()
        confirmer = db.session().get(Person, assessment.expired_registration_confirmed_by_id)
        assert (confirmer.sub, assessment.certification_code) == ("admin-1", "COURTAGE")
        confirmed_at = assessment.expired_registration_confirmed_at.replace(tzinfo=UTC)
        assert before.replace(microsecond=0) <= confirmed_at <= datetime.now(UTC)


def test_a_current_registration_ignores_the_confirmation(lti):
    browser, page = _configure(lti)
    action, fields = form_of(page)
    fields.update({**PLACEMENT, "started_before_end": "on"})
    placed = browser.post(action, data=fields)

    assert "Enregistrement au RNCP terminé" not in _text(placed)
    [assessment] = _assessments(lti)
    assert assessment.expired_registration_confirmed_by_id is None
