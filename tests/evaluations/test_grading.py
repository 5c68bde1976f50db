"""The grading page: the rubric, live outcomes by the plugin's rules, autosave, signature."""

from __future__ import annotations

from lxml import html
from sqlalchemy import select

from ltiservice import db
from ltiservice.models import Evaluation, Submission
from tests.evaluations.support import (
    criteria,
    errors_of,
    hand_in,
    launch,
    paths,
    place,
    text_of,
    verdict_form,
)
from tests.support.lti_harness import LtiHarness


def _submission(lti: LtiHarness, submission_id: int) -> Submission:
    with lti.live.app.app_context():
        found = db.session().get(Submission, submission_id)
        assert found is not None
        return found


def _evaluation(lti: LtiHarness, submission_id: int) -> Evaluation:
    with lti.live.app.app_context():
        found = db.session().scalar(
            select(Evaluation).where(Evaluation.submission_id == submission_id)
        )
        assert found is not None
        return found


def test_grading_page_shows_the_rubric_and_starts_the_evaluation(lti: LtiHarness) -> None:
    assessment = place(lti, "B2B")
    submission = hand_in(lti, assessment, "learner-1", text="Analyse : dégât des eaux, IRSI.")
    trainer = launch(lti, "trainer-1")
    url = paths(assessment, submission)

    page = trainer.get(url["grade"])

    assert page.status_code == 200, page.text[:500]
    tree = html.fromstring(page.text)
    ids = criteria("B2B")
    lines = tree.xpath("//div[@class='criterion']//p[@class='criterion-label']/span/text()")
    assert lines == ids  # every criterion of the block, one line each, in rubric order
    # Each criterion's verdicts are a radio group named by the criterion's line.
    groups = tree.xpath("//div[@role='radiogroup']")
    assert len(groups) == len(ids)
    assert all(tree.get_element_by_id(g.get("aria-labelledby")) is not None for g in groups)
    assert len(ids) == 31
    # Three verdicts per criterion, French labels, each radio labelled.
    radios = tree.xpath("//input[@type='radio']")
    assert len(radios) == 3 * len(ids)
    labels = {lbl.get("for"): lbl.text_content() for lbl in tree.xpath("//label[@for]")}
    assert {labels[r.get("id")] for r in radios} == {"Acquis", "Non acquis", "Non observé"}
    assert tree.xpath("//section[@class='competency']//h3/text()")[0].startswith("C2B.1 — ")
    roles = tree.xpath("//select[@id='jury_role']/option/@value")
    assert roles == ["", "hierarchy", "other_service"]
    assert "Analyse : dégât des eaux, IRSI." in text_of(page)
    # Nothing graded yet: the block is « en cours », not « non acquis ».
    assert "Bloc B2B en cours — 0/31 critères renseignés" in text_of(page)
    assert "0/31 critères renseignés · 6 compétences incomplètes" in text_of(page)
    assert _submission(lti, submission).status == "under_evaluation"


def test_autosave_returns_the_outcome_computed_by_the_rules(lti: LtiHarness) -> None:
    assessment = place(lti, "B2B")
    submission = hand_in(lti, assessment, "learner-1")
    trainer = launch(lti, "trainer-1")
    url = paths(assessment, submission)
    trainer.page = trainer.get(url["grade"])
    ids = criteria("B2B")
    first = [cid for cid in ids if cid.startswith("C2B.1-")]

    answer = trainer.post_json(
        url["save"],
        {"verdicts": dict.fromkeys(first, "met"), "remarks": {first[0]: "Bien vu"}},
    )

    assert answer.status_code == 200, answer.text
    outcome = answer.json()["outcome"]
    assert outcome["summary"] == "Bloc B2B en cours — 5/31 critères renseignés"
    assert outcome["in_progress"] is True
    assert outcome["competencies"][0] == {
        "code": "C2B.1",
        "acquired": True,
        "met": 5,
        "total": 5,
        "filled": 5,
        "complete": True,
    }
    assert outcome["competencies"][1]["complete"] is False
    assert outcome["competencies"][1]["acquired"] is False
    assert answer.json()["missing"] == ids[len(first) :]

    # One criterion not observed keeps its competency from being acquired.
    verdicts = dict.fromkeys(ids, "met") | {"C2B.6-3": "not_observed"}
    outcome = trainer.post_json(url["save"], {"verdicts": verdicts}).json()["outcome"]
    assert (outcome["acquired"], outcome["acquired_count"]) == (False, 5)
    outcome = trainer.post_json(url["save"], {"verdicts": dict.fromkeys(ids, "met")}).json()[
        "outcome"
    ]
    assert outcome["summary"] == "Bloc B2B acquis — 6/6 compétences"
    stored = _evaluation(lti, submission)
    assert stored.status == "draft"
    assert stored.verdicts["C2B.6-3"] == {"verdict": "met", "remark": ""}

    # The draft is on the page when it is opened again.
    tree = html.fromstring(trainer.get(url["grade"]).text)
    assert tree.xpath("//input[@name='verdict-C2B.2-4' and @value='met']/@checked") == ["checked"]


def test_autosave_refuses_what_the_rubric_does_not_know(lti: LtiHarness) -> None:
    assessment = place(lti, "B2B")
    submission = hand_in(lti, assessment, "learner-1")
    trainer = launch(lti, "trainer-1")
    url = paths(assessment, submission)
    trainer.page = trainer.get(url["grade"])

    typo = trainer.post_json(url["save"], {"verdicts": {"C2B.1-1": "acquis"}})
    assert typo.status_code == 400
    assert typo.json()["error"] == "bad_verdict"
    foreign = trainer.post_json(url["save"], {"verdicts": {"C1.1-1": "met"}})
    assert foreign.status_code == 400
    assert "C1.1-1" in foreign.json()["message"]
    role = trainer.post_json(url["save"], {"jury_role": "expert"})
    assert role.status_code == 400
    assert role.json()["error"] == "unknown_role"


def test_saving_without_script_saves_and_shows_the_outcome(lti: LtiHarness) -> None:
    assessment = place(lti, "B2B")
    submission = hand_in(lti, assessment, "learner-1")
    trainer = launch(lti, "trainer-1")
    url = paths(assessment, submission)
    trainer.page = trainer.get(url["grade"])
    fields = verdict_form(criteria("B2B"), "met", role="hierarchy")
    fields += [("session_dates", "2026-03-02"), ("trained_candidate", "on")]

    page = trainer.post(url["save"], fields)

    assert page.status_code == 200
    assert "Évaluation enregistrée. Bloc B2B acquis — 6/6 compétences" in text_of(page)
    stored = _evaluation(lti, submission)
    assert stored.jury_role == "hierarchy"
    assert stored.trained_candidate is True
    assert stored.session_dates == ["2026-03-02"]


def test_signing_needs_every_verdict_then_freezes(lti: LtiHarness) -> None:
    assessment = place(lti, "B2B")
    submission = hand_in(lti, assessment, "learner-1")
    trainer = launch(lti, "trainer-1")
    url = paths(assessment, submission)
    trainer.page = trainer.get(url["grade"])
    ids = criteria("B2B")
    partial = verdict_form(ids[:-2], "met")

    refused = trainer.post(url["sign"], partial)

    assert refused.status_code == 422
    errors = errors_of(refused)
    assert errors[0].startswith("2 critère(s) sans appréciation")
    assert "C2B.6-2, C2B.6-3" in errors[0]
    assert errors[1] == "Indiquez votre rôle dans le jury."
    assert html.fromstring(refused.text).xpath("//div[@id='erreurs']/@role") == ["alert"]
    assert _evaluation(lti, submission).status == "draft"

    signed = trainer.post(url["sign"], verdict_form(ids, "met", role="hierarchy"))
    assert signed.status_code == 200
    assert "Évaluation signée" in text_of(signed)
    stored = _evaluation(lti, submission)
    assert stored.status == "signed" and stored.signed_at is not None
    # Frozen: the page shows it read-only and autosave is refused.
    frozen = html.fromstring(signed.text)
    radios = frozen.xpath("//div[@class='criterion']//input[@type='radio']")
    assert radios and all(r.get("disabled") is not None for r in radios)
    assert not frozen.xpath("//button[@name='all_met']")
    late = trainer.post_json(url["save"], {"verdicts": {ids[0]: "not_met"}})
    assert late.status_code == 409
    assert _evaluation(lti, submission).verdicts[ids[0]]["verdict"] == "met"


def test_a_draft_submission_cannot_be_graded(lti: LtiHarness) -> None:
    assessment = place(lti, "B2B")
    submission = hand_in(lti, assessment, "learner-1", status="draft")
    trainer = launch(lti, "trainer-1")

    page = trainer.get(paths(assessment, submission)["grade"])

    assert page.status_code == 409
    assert "encore un brouillon" in text_of(page)
    assert _submission(lti, submission).status == "draft"


def test_tout_acquis_without_script_posts_the_form_and_links_what_is_missing(
    lti: LtiHarness,
) -> None:
    assessment = place(lti, "B2B")
    submission = hand_in(lti, assessment, "learner-1")
    trainer = launch(lti, "trainer-1")
    url = paths(assessment, submission)
    trainer.page = trainer.get(url["grade"])
    ids = criteria("B2B")

    page = trainer.post(url["save"], [("verdict-C2B.1-1", "not_met"), ("all_met", "C2B.1")])

    assert page.status_code == 200
    assert "Tous les critères de C2B.1 sont acquis." in text_of(page)
    stored = _evaluation(lti, submission)
    assert {cid for cid, e in stored.verdicts.items() if e["verdict"] == "met"} == {
        cid for cid in ids if cid.startswith("C2B.1-")
    }
    tree = html.fromstring(page.text)
    assert "5/31 critères renseignés" in tree.get_element_by_id("progression").text_content()
    jumps = tree.xpath("//nav[@id='incompletes']//li[not(@hidden)]/a/@href")
    assert jumps[0] == "#critere-C2B.2-1" and len(jumps) == 5

    refused = trainer.post(url["sign"], verdict_form(ids[:-1], "met"))
    links = html.fromstring(refused.text).xpath("//div[@id='erreurs']//a/@href")
    assert links == [f"#critere-{ids[-1]}", "#jury_role"]
