"""One upload limit (`max_upload_mb`, 20 Mo here): the placement form cannot exceed it, and a
send over it is refused on the submission page with the text kept and nothing stored lost."""

from __future__ import annotations

import pytest
from lxml import html
from sqlalchemy import select

from ltiservice import db
from ltiservice.models import Assessment, Submission, SubmissionFile
from tests.assessments.learner_support import launch_learner, pdf_bytes, place
from tests.support.browser import form_of
from tests.support.lti_harness import INSTRUCTOR

pytestmark = pytest.mark.peer

MB = 1024 * 1024


def _draft(lti) -> Submission:
    with lti.live.app.app_context():
        row = db.session().scalar(select(Submission))
        assert row is not None
        row.files  # noqa: B018 - loaded while the session is open
        return row


def test_a_send_over_the_server_limit_keeps_the_text_and_says_why_beside_the_file_field(lti):
    # A placement made before the cap asked for 50 Mo per file; the server takes 20 Mo.
    assessment_id = place(lti, max_file_mb=50)
    learner = launch_learner(lti)
    kept = learner.post(
        assessment_id,
        "/files",
        {"text": "Premier jet."},
        files=[("files", ("constat.pdf", pdf_bytes(2048), "application/pdf"))],
    )
    assert kept.status_code == 200
    assert "20 Mo au plus par fichier" in kept.text  # not the 50 of the placement

    typed = "Analyse du sinistre, écrite depuis la dernière sauvegarde.\nDeuxième ligne."
    refused = learner.post(
        assessment_id,
        "/files",
        {"text": typed},
        files=[("files", ("rapport.pdf", pdf_bytes(25 * MB), "application/pdf"))],
    )

    assert refused.status_code == 413
    page = html.fromstring(refused.text)
    assert page.xpath("//textarea[@id='text']/text()") == [typed]
    box = page.xpath("//div[@id='erreurs-fichiers']")[0]
    assert box.get("role") == "alert" and box.get("hidden") is None
    assert [p.text_content() for p in box.xpath("p[@class='error-text']")] == [
        "« rapport.pdf » : le fichier dépasse la taille maximale de 20 Mo."
    ]
    assert "Votre texte est conservé" in box.text_content()
    draft = _draft(lti)
    assert draft.text == typed  # saved, not only shown
    assert [f.filename for f in draft.files] == ["constat.pdf"]  # what was stored stays
    # The page still works: the learner can go on from here.
    assert page.xpath("//form[@id='submission-form']//input[@name='csrf_token']/@value")


def test_several_files_over_one_send_get_the_per_send_message(lti):
    assessment_id = place(lti, max_file_mb=15)
    learner = launch_learner(lti)
    refused = learner.post(
        assessment_id,
        "/files",
        {"text": "Deux pièces."},
        files=[
            ("files", ("a.pdf", pdf_bytes(12 * MB), "application/pdf")),
            ("files", ("b.pdf", pdf_bytes(12 * MB), "application/pdf")),
        ],
    )
    assert refused.status_code == 413
    box = html.fromstring(refused.text).xpath("//div[@id='erreurs-fichiers']")[0]
    assert box.xpath("string(p[@class='error-text'])") == (
        "Les fichiers choisis dépassent ensemble la taille maximale d'un envoi (20 Mo) : "
        "joignez-les en plusieurs fois."
    )
    assert _draft(lti).text == "Deux pièces."
    with lti.live.app.app_context():
        assert db.session().scalar(select(SubmissionFile)) is None


def test_an_oversized_send_without_a_valid_token_saves_nothing(lti):
    assessment_id = place(lti)
    learner = launch_learner(lti)
    refused = learner.browser.post(
        learner.url(assessment_id, "/files"),
        data={"launch": learner.launch, "csrf_token": "forged", "text": "Écrasé ?"},
        files=[("files", ("rapport.pdf", pdf_bytes(25 * MB), "application/pdf"))],
    )
    assert refused.status_code == 400
    with lti.live.app.app_context():
        assert db.session().scalar(select(Submission)) is None


def test_the_placement_form_is_capped_by_the_service_limit(lti):
    browser = lti.browser()
    page = lti.launch(
        lti.user("trainer-1", INSTRUCTOR),
        browser=browser,
        message_type="LtiDeepLinkingRequest",
        deep_linking={"accept_types": ["ltiResourceLink"], "data": "opaque-42"},
    )
    field = html.fromstring(page.text).xpath("//input[@id='max_file_mb']")[0]
    assert field.get("max") == "20"
    assert (
        "20 Mo au plus : c'est la limite des envois sur ce service."
        in html.fromstring(page.text).text_content()
    )
    action, fields = form_of(page)
    fields.update(
        {
            "block": "CRCA:B2B",
            "allowed_extensions": [".pdf"],
            "max_file_mb": "50",
            "max_attempts": "1",
            "score_maximum": "20",
        }
    )
    refused = browser.post(action, data=fields)
    assert refused.status_code == 400
    assert (
        "La taille maximale par fichier ne peut pas dépasser 20 Mo : c'est la limite des envois "
        "sur ce service." in html.fromstring(refused.text).text_content()
    )
    with lti.live.app.app_context():
        assert db.session().scalar(select(Assessment)) is None
    fields["max_file_mb"] = "20"
    assert browser.post(action, data=fields).status_code == 200
