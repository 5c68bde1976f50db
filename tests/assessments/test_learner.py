"""The learner's side, through full launches from the real Open edX platform peer."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lxml import html
from sqlalchemy import select

from ltiservice import db
from ltiservice.models import OutboxMessage, Submission, SubmissionFile
from tests.assessments.learner_support import (
    decide,
    docx_bytes,
    launch_learner,
    messages_of,
    pdf_bytes,
    place,
    png_bytes,
    sha256,
    text_of,
)

pytestmark = pytest.mark.peer


def _rows(lti, model):
    with lti.live.app.app_context():
        return list(db.session().scalars(select(model).order_by(model.id)))


def _stored_files(lti) -> list[Path]:
    root = Path(lti.live.app.config["SETTINGS"].upload_dir)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_case_page_shows_the_case_the_criteria_and_the_deadline(lti):
    deadline = datetime(2030, 6, 28, 16, 0, tzinfo=UTC)  # 18 h 00 in Paris (summer time)
    assessment_id = place(lti, deadline=deadline)
    learner = launch_learner(lti)
    assert learner.page.url.startswith(f"{lti.tool_url}/a/{assessment_id}?launch=")
    text = text_of(learner.page)
    assert "Étude de cas B2B" in text
    # The plugin's case, rendered from its statement, and the block's criteria by competency.
    assert "dégât des eaux" in text.lower()
    with lti.live.app.app_context():
        block = lti.live.app.extensions["plugins"]["CRCA"].referential("RNCP41351").block("B2B")
    tree = html.fromstring(learner.page.text)
    headings = [
        " ".join(h.text_content().split()) for h in tree.xpath("//div[@class='competency']/h3")
    ]
    assert len(headings) == len(block.competencies) == 6
    assert headings[0].startswith(block.competencies[0].code)
    for criterion in block.criteria():
        assert " ".join(criterion.wording.split()) in text
    assert "vendredi 28 juin 2030 à 18 h 00" in text
    assert (
        "Formats acceptés : .pdf, .docx, .png, .odt — 1 Mo au plus par fichier, 3 fichiers" in text
    )
    assert tree.xpath("//textarea[@id='text']/preceding::label[@for='text']")
    assert tree.xpath("//*[@id='autosave-status'][@aria-live='polite']")


def test_custom_case_markdown_is_rendered_with_html_escaped(lti):
    assessment_id = place(
        lti,
        case_id=None,
        custom_case={"title": "Sinistre local", "statement": "**Important** <script>x()</script>"},
    )
    page = launch_learner(lti).page
    assert "<strong>Important</strong>" in page.text
    assert "<script>x()</script>" not in page.text
    assert "&lt;script&gt;x()&lt;/script&gt;" in page.text
    assert assessment_id


def test_autosave_stores_the_draft_text_and_says_when(lti):
    assessment_id = place(lti)
    learner = launch_learner(lti)
    answer = learner.browser.post(
        learner.url(assessment_id, "/draft"),
        params={"launch": learner.launch},
        json={"text": "Première analyse\r\ndu sinistre\x00"},
        headers={"X-CSRF-Token": learner.csrf, "Accept": "application/json"},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    saved_at = datetime.fromisoformat(body["saved_at"])
    assert abs((datetime.now(UTC) - saved_at).total_seconds()) < 30
    assert len(body["label"]) == 5 and body["label"][2] == ":"
    [submission] = _rows(lti, Submission)
    assert submission.text == "Première analyse\ndu sinistre"
    assert submission.status == "draft" and submission.attempt == 1
    page = learner.get(assessment_id)
    assert "Première analyse\ndu sinistre</textarea>" in page.text


def test_autosave_without_csrf_header_is_refused(lti):
    assessment_id = place(lti)
    learner = launch_learner(lti)
    answer = learner.browser.post(
        learner.url(assessment_id, "/draft"),
        params={"launch": learner.launch},
        json={"text": "x"},
        headers={"Accept": "application/json"},
    )
    assert answer.status_code == 400
    assert _rows(lti, Submission) == []


def test_form_without_javascript_saves_text_and_files_together(lti):
    assessment_id = place(lti)
    learner = launch_learner(lti)
    pdf = pdf_bytes(5000)
    page = learner.post(
        assessment_id,
        "/files",
        {"text": "Mon compte rendu"},
        files=[("files", ("compte-rendu été.pdf", pdf, "application/pdf"))],
    )
    assert page.status_code == 200
    assert "Fichier ajouté : « compte-rendu été.pdf »." in messages_of(page)
    [row] = _rows(lti, SubmissionFile)
    assert (row.filename, row.size, row.sha256) == ("compte-rendu été.pdf", 5000, sha256(pdf))
    assert row.content_type == "application/pdf"
    [submission] = _rows(lti, Submission)
    assert submission.text == "Mon compte rendu"
    stored = _stored_files(lti)
    assert len(stored) == 1 and stored[0].read_bytes() == pdf
    assert stored[0].name == row.storage_key and stored[0].parent.name == row.storage_key[:2]

    download = learner.get(assessment_id, f"/files/{row.id}")
    assert download.status_code == 200
    assert download.content == pdf
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "compte-rendu%20%C3%A9t%C3%A9.pdf" in download.headers["Content-Disposition"]


REFUSALS = [
    (
        "gros.pdf",
        pdf_bytes(1024 * 1024 + 10),
        "« gros.pdf » : le fichier dépasse la taille maximale de 1 Mo.",
    ),
    (
        "rapport.pdf",
        b"MZ\x90\x00 this is really an executable",
        "« rapport.pdf » : son contenu ne correspond pas à un fichier .pdf",
    ),
    ("note.docx", pdf_bytes(), "« note.docx » : son contenu ne correspond pas à un fichier .docx"),
    (
        "../../etc/passwd.pdf",
        pdf_bytes(),
        "« ../../etc/passwd.pdf » : nom de fichier refusé (il ne doit pas contenir de chemin).",
    ),
    ("..\\secret.pdf", pdf_bytes(), "nom de fichier refusé (il ne doit pas contenir de chemin)."),
    ("vide.pdf", b"", "« vide.pdf » : le fichier est vide."),
    (
        "script.exe",
        b"MZ\x90\x00",
        "« script.exe » : type de fichier non accepté "
        "(formats acceptés : .pdf, .docx, .png, .odt).",
    ),
]


@pytest.mark.parametrize(("name", "content", "message"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_each_refused_file_gets_a_french_message_and_nothing_is_stored(lti, name, content, message):
    assessment_id = place(lti)
    learner = launch_learner(lti)
    page = learner.post(
        assessment_id, "/files", files=[("files", (name, content, "application/pdf"))]
    )
    assert page.status_code == 200
    assert any(message in m for m in messages_of(page)), messages_of(page)
    assert _rows(lti, SubmissionFile) == []
    assert _stored_files(lti) == []  # no file left behind, not even a temporary one


def test_good_and_bad_files_in_one_batch(lti):
    assessment_id = place(lti)
    learner = launch_learner(lti)
    page = learner.post(
        assessment_id,
        "/files",
        files=[
            ("files", ("plan.docx", docx_bytes(), "application/octet-stream")),
            ("files", ("photo.png", b"GIF89a-not-a-png", "image/png")),
            ("files", ("sinistre.png", png_bytes(), "image/png")),
        ],
    )
    messages = messages_of(page)
    assert (
        "« photo.png » : son contenu ne correspond pas à un fichier .png "
        "(fichier renommé ou endommagé)." in messages
    )
    assert "Fichiers ajoutés : « plan.docx », « sinistre.png »." in messages
    assert [r.filename for r in _rows(lti, SubmissionFile)] == ["plan.docx", "sinistre.png"]
    assert len(_stored_files(lti)) == 2


def test_too_many_files_at_once_are_all_refused(lti):
    assessment_id = place(lti, max_files=3)
    learner = launch_learner(lti)
    learner.post(
        assessment_id, "/files", files=[("files", ("a.pdf", pdf_bytes(), "application/pdf"))]
    )
    page = learner.post(
        assessment_id,
        "/files",
        files=[("files", (f"p{i}.pdf", pdf_bytes(), "application/pdf")) for i in range(3)],
    )
    messages = messages_of(page)
    for i in range(3):
        assert (
            f"« p{i}.pdf » : trop de fichiers envoyés (3) : 3 fichiers au plus par travail, "
            "2 encore possibles." in messages
        )
    assert [r.filename for r in _rows(lti, SubmissionFile)] == ["a.pdf"]
    assert len(_stored_files(lti)) == 1


def test_removing_a_file_deletes_it_from_disk(lti):
    assessment_id = place(lti)
    learner = launch_learner(lti)
    learner.post(
        assessment_id, "/files", files=[("files", ("a.pdf", pdf_bytes(), "application/pdf"))]
    )
    [row] = _rows(lti, SubmissionFile)
    page = learner.post(assessment_id, f"/files/{row.id}/delete")
    assert "Fichier retiré du brouillon." in messages_of(page)
    assert _rows(lti, SubmissionFile) == [] and _stored_files(lti) == []


def test_submit_freezes_the_attempt_gives_a_receipt_and_queues_the_ags_score(lti):
    assessment_id = place(lti)
    learner = launch_learner(lti)
    pdf, docx = pdf_bytes(3210), docx_bytes()
    learner.post(
        assessment_id,
        "/files",
        {"text": "Réponse"},
        files=[
            ("files", ("analyse.pdf", pdf, "application/pdf")),
            ("files", ("courrier.docx", docx, "application/octet-stream")),
        ],
    )
    confirm = learner.post(assessment_id, "/draft", {"text": "Réponse finale", "next": "confirm"})
    assert confirm.url.split("?")[0].endswith(f"/a/{assessment_id}/submit")
    assert "Une fois remise, elle ne pourra plus être modifiée." in text_of(confirm)
    receipt = learner.post(assessment_id, "/submit")
    assert receipt.status_code == 200
    assert "Récépissé de remise" in receipt.text

    tree = html.fromstring(receipt.text)
    rows = [
        [" ".join(td.text_content().split()) for td in tr.xpath("td")]
        for tr in tree.xpath("//table[contains(@class,'receipt-files')]/tbody/tr")
    ]
    assert [r[0] for r in rows] == ["analyse.pdf", "courrier.docx"]
    assert rows[0][1].startswith("3210 ") and rows[0][2] == sha256(pdf)
    assert rows[1][1].startswith(f"{len(docx)} ") and rows[1][2] == sha256(docx)

    [submission] = _rows(lti, Submission)
    assert submission.status == "submitted" and submission.submitted_at is not None
    assert submission.text == "Réponse finale"
    [message] = [m for m in _rows(lti, OutboxMessage) if m.kind == "ags_score"]
    score = message.payload["score"]
    assert score["userId"] == "learner-1"
    assert score["activityProgress"] == "Submitted"
    assert score["gradingProgress"] == "PendingManual"
    assert "scoreGiven" not in score
    assert message.destination == f"platform:{lti.platform_id}"

    # The attempt is frozen: a second submit, an autosave, a new file are all refused.
    again = learner.post(assessment_id, "/submit")
    assert again.status_code == 409
    assert "a déjà été remis" in text_of(again)
    late = learner.post(
        assessment_id, "/files", files=[("files", ("x.pdf", pdf, "application/pdf"))]
    )
    assert late.status_code == 409
    assert len(_rows(lti, OutboxMessage)) == 1
    assert [r.filename for r in _rows(lti, SubmissionFile)] == ["analyse.pdf", "courrier.docx"]


def test_an_empty_submission_is_refused(lti):
    assessment_id = place(lti)
    learner = launch_learner(lti)
    page = learner.post(assessment_id, "/submit")
    assert page.status_code == 409
    assert "Votre travail est vide" in text_of(page)
    assert _rows(lti, OutboxMessage) == []


def test_a_second_attempt_keeps_the_first_intact(lti):
    assessment_id = place(lti, max_attempts=2)
    learner = launch_learner(lti)
    first_pdf = pdf_bytes(1500)
    learner.post(
        assessment_id,
        "/files",
        {"text": "Tentative 1"},
        files=[("files", ("v1.pdf", first_pdf, "application/pdf"))],
    )
    learner.post(assessment_id, "/submit")
    # No second attempt while the first awaits grading; after a "not acquired" decision, yes.
    early = learner.post(assessment_id, "/attempts")
    assert early.status_code == 409
    assert "Votre tentative n° 1 attend son évaluation" in text_of(early)
    decide(lti, _rows(lti, Submission)[0].id, acquired=False)
    page = learner.post(assessment_id, "/attempts")
    assert "Tentative n° 2 ouverte" in " ".join(messages_of(page))
    learner.post(
        assessment_id,
        "/files",
        {"text": "Tentative 2"},
        files=[("files", ("v2.pdf", pdf_bytes(1600), "application/pdf"))],
    )
    learner.post(assessment_id, "/submit")

    first, second = _rows(lti, Submission)
    assert (first.attempt, first.text, first.status) == (1, "Tentative 1", "decided")
    assert (second.attempt, second.text, second.status) == (2, "Tentative 2", "submitted")
    files = _rows(lti, SubmissionFile)
    assert [(f.submission_id, f.filename) for f in files] == [
        (first.id, "v1.pdf"),
        (second.id, "v2.pdf"),
    ]
    assert learner.get(assessment_id, f"/files/{files[0].id}").content == first_pdf
    # Two attempts used out of two: no third, even once the second is decided.
    decide(lti, second.id, acquired=False)
    third = learner.post(assessment_id, "/attempts")
    assert third.status_code == 409
    assert "toutes les tentatives permises (2)" in text_of(third)
    assert len(_rows(lti, Submission)) == 2


def test_after_the_deadline_nothing_can_be_submitted(lti):
    assessment_id = place(lti)
    learner = launch_learner(lti)
    learner.post(assessment_id, "/draft", {"text": "Presque fini"})
    with lti.live.app.app_context():
        session = db.session()
        from ltiservice.models import Assessment

        session.get(Assessment, assessment_id).deadline = datetime.now(UTC) - timedelta(minutes=1)
        session.commit()
    page = learner.get(assessment_id)
    assert "La date limite est passée" in text_of(page)
    refused = learner.post(assessment_id, "/submit")
    assert refused.status_code == 409
    assert "La date limite de remise est passée" in text_of(refused)
    [submission] = _rows(lti, Submission)
    assert submission.status == "draft"
    assert _rows(lti, OutboxMessage) == []


def test_upload_dir_keeps_no_temporary_file(lti):
    assessment_id = place(lti)
    learner = launch_learner(lti)
    learner.post(
        assessment_id, "/files", files=[("files", ("a.pdf", pdf_bytes(), "application/pdf"))]
    )
    root = Path(lti.live.app.config["SETTINGS"].upload_dir)
    leftovers = [
        name for _, _, names in os.walk(root) for name in names if name.startswith(".upload-")
    ]
    assert leftovers == []


def test_a_full_disk_is_explained_and_leaves_no_file(lti, monkeypatch):
    import errno

    from ltiservice.assessments import files

    assessment_id = place(lti)
    learner = launch_learner(lti)

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", full)
    page = learner.post(
        assessment_id, "/files", files=[("files", ("rapport.pdf", pdf_bytes(), "application/pdf"))]
    )
    monkeypatch.undo()
    assert page.status_code == 200
    assert any("l'espace de stockage du service est plein" in m for m in messages_of(page))
    assert _rows(lti, SubmissionFile) == [] and _stored_files(lti) == []
