"""Results after the jury's decision, and « mon parcours » drawn from the ledger."""

from __future__ import annotations

from typing import Any

import pytest
from lxml import etree, html
from sqlalchemy import select

from ltiservice import db
from ltiservice.models import Decision, LedgerEntry, Person, Submission
from tests.assessments.learner_support import launch_learner, pdf_bytes, place, text_of

pytestmark = pytest.mark.peer

SVG = "{http://www.w3.org/2000/svg}"


def _submit(lti, assessment_id):
    learner = launch_learner(lti)
    learner.post(
        assessment_id,
        "/files",
        {"text": "Réponse"},
        files=[("files", ("a.pdf", pdf_bytes(), "application/pdf"))],
    )
    learner.post(assessment_id, "/submit")
    return learner


def _decide(lti, acquired: bool, supersedes: int | None = None, **extra: Any) -> int:
    """A decision as the jury's signing stores it (formats of ltiservice.evaluations)."""
    with lti.live.app.app_context():
        session = db.session()
        submission = session.scalar(select(Submission))
        submission.status = "decided"
        block = lti.live.app.extensions["plugins"]["CRCA"].referential("RNCP41351").block("B2B")
        verdicts = {c.id: "met" for c in block.criteria()}
        if not acquired:
            verdicts["C2B.2-3"] = "not_met"
        decision = Decision(
            organisation_id=submission.assessment.organisation_id,
            submission_id=submission.id,
            person_id=submission.person_id,
            certification_code="CRCA",
            referential_version="RNCP41351",
            block_code="B2B",
            verdicts=verdicts,
            remarks={
                "C2B.2-3": ["Franchise mal expliquée à l'assuré.", "Revoir la convention IRSI."]
            },
            competency_results=[
                {"code": c.code, "acquired": acquired or c.code != "C2B.2", "met": 0, "total": 0}
                for c in block.competencies
            ],
            block_acquired=acquired,
            score_given=20.0 if acquired else 16.7,
            score_maximum=20.0,
            evaluators=[],
            comment="Bloc B2B acquis" if acquired else "Bloc B2B non acquis",
            supersedes_id=supersedes,
            **extra,
        )
        session.add(decision)
        session.flush()
        if acquired:
            session.add(
                LedgerEntry(
                    organisation_id=decision.organisation_id,
                    person_id=decision.person_id,
                    certification_code="CRCA",
                    referential_version="RNCP41351",
                    block_code="B2B",
                    decision_id=decision.id,
                )
            )
        session.commit()
        return decision.id


def _verdict_cells(page) -> dict[str, str]:
    tree = html.fromstring(page.text)
    cells = {}
    for row in tree.xpath("//section[contains(@class,'competency')]//tbody/tr"):
        tds = row.xpath("td")
        cells[" ".join(tds[0].text_content().split())] = " ".join(tds[1].text_content().split())
    return cells


def test_results_wait_for_the_decision_then_show_it_per_criterion(lti):
    assessment_id = place(lti)
    learner = _submit(lti, assessment_id)
    waiting = learner.get(assessment_id, "/results")
    assert waiting.status_code == 200
    assert "en attente d'évaluation" in text_of(waiting)

    _decide(lti, acquired=False)
    page = learner.get(assessment_id, "/results")
    text = text_of(page)
    assert "Bloc B2B : non acquis" in text
    assert "Franchise mal expliquée à l'assuré." in text and "Revoir la convention IRSI." in text
    cells = _verdict_cells(page)
    with lti.live.app.app_context():
        referential = lti.live.app.extensions["plugins"]["CRCA"].referential("RNCP41351")
        wording = " ".join(referential.criterion("C2B.2-3").wording.split())
        other = " ".join(referential.criterion("C2B.1-1").wording.split())
    assert cells[wording] == "Non acquis"
    assert cells[other] == "Acquis"
    assert len(cells) == 31
    assert "C2B.2" in text and "non acquise" in text
    # What next, in the learner's words: nothing held yet, B1 and the 2A/2B option remain.
    section = " ".join(
        html.fromstring(page.text).xpath("string(//*[@id='ou-j-en-suis-section'])").split()
    )
    assert "Acquis définitivement Aucun bloc pour l'instant." in section
    assert "B1 — " in section and "B2B — " in section
    [step, *_] = html.fromstring(page.text).xpath("//ul[@id='prochaines-etapes']/li")
    step_text = " ".join(step.text_content().split())
    assert step_text.startswith("Une nouvelle tentative n'est pas possible ici") or (
        step_text.startswith("Vous pouvez remettre un nouveau travail pour le bloc B2B")
    )
    assert "formateur ou formatrice" in step_text or "nouvelle tentative" in step_text
    # The case page now links to the results.
    assert "Le jury a rendu sa décision." in text_of(learner.get(assessment_id))


def test_a_correction_supersedes_the_first_decision(lti):
    assessment_id = place(lti)
    learner = _submit(lti, assessment_id)
    first = _decide(lti, acquired=False)
    _decide(lti, acquired=True, supersedes=first, correction_reason="Erreur de saisie du jury.")
    text = text_of(learner.get(assessment_id, "/results"))
    assert "Bloc B2B : acquis" in text
    assert "Erreur de saisie du jury." in text
    assert "non acquis" not in text.replace("Non acquis", "")
    # B2B held: it is listed as acquired for good, B2A is no longer to acquire, B1 is.
    held, remaining = text.split("Acquis définitivement")[1].split("Reste à acquérir")
    assert "B2B — " in held
    assert "B1 — " in remaining and "B2A — " not in remaining


def test_another_learner_sees_no_result_of_someone_else(lti):
    assessment_id = place(lti)
    _submit(lti, assessment_id)
    _decide(lti, acquired=True)
    other = launch_learner(lti, "learner-2")
    text = text_of(other.get(assessment_id, "/results"))
    assert "en attente d'évaluation" in text and "Bloc B2B : acquis" not in text


def _svg(page):
    tree = html.fromstring(page.text)
    [svg] = tree.xpath("//*[local-name()='svg']")
    return etree.fromstring(etree.tostring(svg))


def test_path_draws_acquired_blocks_and_what_is_missing(lti):
    assessment_id = place(lti)
    learner = _submit(lti, assessment_id)
    before = learner.get(assessment_id, "/path")
    assert before.status_code == 200
    svg = _svg(before)
    assert svg.get("role") == "img"
    assert svg.find(f"{SVG}title").text.startswith("Mon parcours")
    assert "0 bloc acquis sur 3" in svg.find(f"{SVG}desc").text
    assert "1 parmi B2A / B2B" in text_of(before)
    assert "Bloc B1 à acquérir" in text_of(before)

    _decide(lti, acquired=True)
    after = learner.get(assessment_id, "/path")
    svg = _svg(after)
    acquired = [
        "".join(g.itertext())
        for g in svg.iter(f"{SVG}g")
        if "path-acquired" in (g.get("class") or "")
    ]
    assert acquired == ["✓ B2Bacquis"]
    text = text_of(after)
    assert "B2B — " in text and "Bloc B1 à acquérir" in text
    assert "1 bloc à acquérir parmi" not in text  # the option group is satisfied
    # B2B met the either/or: B2A is no longer « à acquérir » but an option not taken.
    assert "B2A — " in text and ": option non retenue" in text
    assert "Bloc B2A à acquérir" not in text
    not_chosen = [
        "".join(g.itertext())
        for g in svg.iter(f"{SVG}g")
        if "path-not-chosen" in (g.get("class") or "")
    ]
    assert not_chosen == ["B2Aoption non retenue"]


def test_path_does_not_count_an_older_version_block_without_an_official_equivalence(lti):
    assessment_id = place(lti)
    learner = _submit(lti, assessment_id)
    _decide(lti, acquired=True)
    with lti.live.app.app_context():
        session = db.session()
        person = session.scalar(select(Person).where(Person.sub == "learner-1"))
        decision = session.scalar(select(Decision))
        # BC01 acquired under RNCP36140: no document maps it onto B1, so it stays a BC01.
        session.add(
            LedgerEntry(
                organisation_id=decision.organisation_id,
                person_id=person.id,
                certification_code="CRCA",
                referential_version="RNCP36140",
                block_code="BC01",
                decision_id=decision.id,
            )
        )
        session.commit()
    page = learner.get(assessment_id, "/path")
    assert "Certification obtenue." not in text_of(page)
    assert "Bloc B1 à acquérir" in text_of(page)
    assert "1 bloc acquis sur 3" in _svg(page).find(f"{SVG}desc").text
