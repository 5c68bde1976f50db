"""Attempts as trainers and learners expect them: a new one only after a decision that did not
acquire the block and while attempts remain, optionally from the previous text; wording that
matches the count; every handed-in attempt reachable from the trainers' dashboard."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from lxml import html
from sqlalchemy import select

from ltiservice import db
from ltiservice.models import Person, Submission
from tests.assessments.learner_support import decide, launch_learner, place, text_of
from tests.support.lti_harness import INSTRUCTOR

pytestmark = pytest.mark.peer


def _attempts(lti) -> list[tuple[int, str, str]]:
    with lti.live.app.app_context():
        rows = db.session().scalars(select(Submission).order_by(Submission.attempt))
        return [(s.attempt, s.status, s.text) for s in rows]


def _submission_id(lti, attempt: int) -> int:
    with lti.live.app.app_context():
        found = db.session().scalar(select(Submission.id).where(Submission.attempt == attempt))
        assert found is not None
        return found


def _offer(page) -> list[str]:
    tree = html.fromstring(page.text)
    return tree.xpath("//form[contains(@class, 'new-attempt')]//input[@name='depart']/@value")


def _rule(page) -> str:
    return " ".join(html.fromstring(page.text).xpath("string(//p[@id='remise-regle'])").split())


def test_a_new_attempt_waits_for_the_decision_and_may_start_from_the_previous_text(lti):
    assessment_id = place(lti, max_attempts=3)
    learner = launch_learner(lti)
    first = learner.get(assessment_id)
    assert _rule(first).endswith(
        "Si le bloc n'est pas acquis après la décision du jury, il vous restera 2 tentatives."
    )
    learner.post(assessment_id, "/draft", {"text": "Ma première analyse."})
    learner.post(assessment_id, "/submit")

    waiting = learner.get(assessment_id)
    assert _offer(waiting) == []
    assert "Votre tentative n° 1 attend son évaluation" in text_of(waiting)
    refused = learner.post(assessment_id, "/attempts")
    assert refused.status_code == 409
    assert len(_attempts(lti)) == 1

    decide(lti, _submission_id(lti, 1), acquired=False)
    offered = learner.get(assessment_id)
    assert _offer(offered) == ["vide", "precedente"]
    assert "Repartir du texte de ma tentative n° 1" in text_of(offered)
    learner.post(assessment_id, "/attempts", {"depart": "precedente"})
    second = learner.get(assessment_id)
    assert html.fromstring(second.text).xpath("//textarea[@id='text']/text()") == [
        "Ma première analyse."
    ]
    assert _rule(second).endswith("il vous restera 1 tentative.")
    learner.post(assessment_id, "/draft", {"text": "Deuxième version."})
    learner.post(assessment_id, "/submit")
    decide(lti, _submission_id(lti, 2), acquired=False)

    # The last one: it starts blank when asked, and promises nothing more.
    last_offer = learner.get(assessment_id)
    assert "ce sera la dernière" in text_of(last_offer)
    learner.post(assessment_id, "/attempts", {"depart": "vide"})
    last = learner.get(assessment_id)
    assert html.fromstring(last.text).xpath("//textarea[@id='text']/text()") == []
    assert _rule(last) == (
        "Une fois remis, votre travail ne peut plus être modifié. C'est votre dernière tentative "
        "(3 sur 3) : il n'y en aura pas d'autre."
    )
    assert "nouvelle tentative" not in _rule(last)
    assert [(a, s) for a, s, _ in _attempts(lti)] == [(1, "decided"), (2, "decided"), (3, "draft")]


def test_a_single_attempt_promises_no_other(lti):
    assessment_id = place(lti, max_attempts=1)
    page = launch_learner(lti).get(assessment_id)
    assert _rule(page) == "Une fois remis, votre travail ne peut plus être modifié."


def test_no_new_attempt_once_the_block_is_acquired(lti):
    assessment_id = place(lti, max_attempts=3)
    learner = launch_learner(lti)
    learner.post(assessment_id, "/draft", {"text": "Réussi."})
    learner.post(assessment_id, "/submit")
    decide(lti, _submission_id(lti, 1), acquired=True)
    page = learner.get(assessment_id)
    assert _offer(page) == []
    assert "Le bloc est acquis : aucune nouvelle tentative n'est nécessaire." in text_of(page)
    refused = learner.post(assessment_id, "/attempts")
    assert refused.status_code == 409
    assert "Le bloc est acquis" in text_of(refused)
    assert len(_attempts(lti)) == 1


def test_the_dashboard_keeps_a_handed_in_attempt_gradable_behind_a_newer_draft(lti):
    assessment_id = place(lti, max_attempts=3)
    learner = launch_learner(lti)
    learner.post(assessment_id, "/draft", {"text": "Remis, jamais évalué."})
    learner.post(assessment_id, "/submit")
    # As the old rule allowed: attempt 2 opened while attempt 1 awaited grading.
    with lti.live.app.app_context():
        session = db.session()
        first = session.scalar(select(Submission))
        assert first is not None
        session.add(
            Submission(
                assessment_id=assessment_id,
                person_id=first.person_id,
                attempt=2,
                status="draft",
                text="",
            )
        )
        session.commit()
        sub = session.get(Person, first.person_id).sub  # type: ignore[union-attr]
    trainer = lti.launch(
        lti.user("trainer-1", INSTRUCTOR),
        browser=lti.browser(),
        context={"id": "course-1", "title": "CQP CRCA 2026"},
        resource_link={"id": "link-1", "title": "Étude de cas B2B"},
        ags=True,
    )
    assert trainer.status_code == 200
    row = html.fromstring(trainer.text).xpath(f"//tr[@data-sub='{sub}']")[0]
    state = " ".join(row.xpath("string(td[1])").split())
    assert state.startswith("Remis (tentative 1)")
    grade_links = row.xpath(".//a[starts-with(normalize-space(.), 'Évaluer')]/@href")
    attempt_1 = _submission_id(lti, 1)
    assert grade_links
    assert all(str(attempt_1) in urlsplit(h).path.split("/") for h in grade_links)
    history = [" ".join(li.text_content().split()) for li in row.xpath(".//details//li")]
    assert history[0].startswith("Tentative 1 : Remis — Évaluer")
    assert history[1] == "Tentative 2 : Brouillon"
