"""RGPD: a person's data exported whole, erased while the certifier's records stay, anonymised."""

from __future__ import annotations

import io
import json

from sqlalchemy import func, select

from ltiservice import db
from ltiservice.assessments import files
from ltiservice.cli import main
from ltiservice.models import Course, Decision, LedgerEntry, Person, SubmissionFile
from tests.exports.factories import (
    Jury,
    at,
    make_assessment,
    make_decision,
    make_ledger_entry,
    make_organisation,
    make_person,
    make_submission,
)


def _learner_with_history(app) -> dict:
    with app.app_context():
        session = db.session()
        _, platform = make_organisation(session, "alpha", "https://lms.alpha.example")
        course = Course(platform_id=platform.id, context_id="c1", title="CQP CRCA")
        session.add(course)
        session.flush()
        assessment = make_assessment(session, platform, course, "B1", "Bloc 1")
        learner = make_person(session, platform, "sub-camille", "Camille Martin", "c@m.fr")
        boss = make_person(session, platform, "sub-boss", "Nadia Haddad")
        other = make_person(session, platform, "sub-other", "Thomas Petit")
        submission = make_submission(session, assessment, learner, 1, at("2026-03-02"))
        submission.text = "Ma réponse personnelle au cas."
        settings = app.config["SETTINGS"]
        stored = files.store_upload(
            io.BytesIO(b"%PDF-1.4 mon rapport"),
            "rapport.pdf",
            upload_dir=settings.upload_dir,
            max_bytes=10_000,
            allowed_extensions=[".pdf"],
        )
        session.add(
            SubmissionFile(
                submission_id=submission.id,
                filename="rapport.pdf",
                storage_key=stored.storage_key,
                content_type="application/pdf",
                size=stored.size,
                sha256=stored.sha256,
            )
        )
        decision = make_decision(
            session,
            submission,
            Jury([(boss, "hierarchy"), (other, "other_service")]),
            acquired=11,
            decided=at("2026-03-10"),
        )
        make_ledger_entry(session, decision)
        session.commit()
        return {
            "platform": platform.id,
            "key": stored.storage_key,
            "path": files.path_of(settings.upload_dir, stored.storage_key),
        }


def test_export_holds_everything_about_the_person(app, tmp_path):
    facts = _learner_with_history(app)
    out = tmp_path / "camille.json"
    result = app.test_cli_runner().invoke(
        main,
        [
            "privacy",
            "export",
            "--platform",
            str(facts["platform"]),
            "--sub",
            "sub-camille",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["person"]["name"] == "Camille Martin"
    assert data["person"]["email"] == "c@m.fr"
    assert data["submissions"][0]["text"] == "Ma réponse personnelle au cas."
    assert data["submissions"][0]["files"][0]["name"] == "rapport.pdf"
    assert data["decisions"][0]["block"] == "B1"
    assert data["acquired_blocks"] == [
        {
            "certification": "CRCA",
            "version": "RNCP41351",
            "block": "B1",
            "acquired_at": data["acquired_blocks"][0]["acquired_at"],
        }
    ]


def test_erase_keeps_anonymised_decisions_and_ledger_and_says_so(app):
    facts = _learner_with_history(app)
    assert facts["path"].exists()
    result = app.test_cli_runner().invoke(
        main,
        ["privacy", "erase", "--platform", str(facts["platform"]), "--sub", "sub-camille", "--yes"],
    )
    assert result.exit_code == 0, result.output
    assert "Conservés de façon anonymisée" in result.output
    assert "1 fichier(s)" in result.output
    assert not facts["path"].exists()
    with app.app_context():
        session = db.session()
        assert session.scalar(select(Person).where(Person.sub == "sub-camille")) is None
        erased = session.scalar(select(Person).where(Person.sub.like("efface-%")))
        assert erased.name is None and erased.email is None
        decision = session.scalar(select(Decision).where(Decision.person_id == erased.id))
        assert decision.block_acquired is True and decision.remarks == {}
        assert (
            session.scalar(
                select(func.count(LedgerEntry.id)).where(LedgerEntry.person_id == erased.id)
            )
            == 1
        )
        stored = session.scalar(select(SubmissionFile))
        assert stored.erased is True
        assert decision.submission.text == ""
        # The evaluators are other people: their identity stays.
        assert session.scalar(select(Person).where(Person.sub == "sub-boss")).name == "Nadia Haddad"


def test_unknown_person_is_a_clear_error(app):
    _learner_with_history(app)
    result = app.test_cli_runner().invoke(
        main, ["privacy", "erase", "--platform", "1", "--sub", "nobody", "--yes"]
    )
    assert result.exit_code != 0
    assert "Aucune personne 'nobody'" in result.output
