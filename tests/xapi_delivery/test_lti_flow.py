"""The real pages report to the LRS: an LMS launch, trainers signing, the jury deciding."""

from __future__ import annotations

import json

import pytest
import requests
from flask import Flask
from lxml import html
from sqlalchemy import select

from ltiservice import db
from ltiservice.lrs import DestinationSpec, add_destination
from ltiservice.models import Assessment, Organisation, Platform
from ltiservice.statements import registration
from tests.evaluations.support import (
    criteria,
    errors_of,
    hand_in,
    launch,
    learner,
    paths,
    place,
    text_of,
    verdict_form,
)
from tests.peers.ralph import RalphLRS
from tests.support.lti_harness import LtiHarness
from tests.xapi_delivery.conftest import queued_statements, run_worker
from xapi.vocabulary import Extension, Verb, Vocabulary

pytestmark = pytest.mark.peer


def _destination(lti: LtiHarness, lrs: RalphLRS) -> None:
    app = lti.live.app
    with app.app_context(), db.transaction() as session:
        platform = session.get(Platform, lti.platform_id)
        assert platform is not None
        slug = session.scalar(
            select(Organisation.slug).where(Organisation.id == platform.organisation_id)
        )
        spec = DestinationSpec(slug, "LRS", lrs.endpoint, lrs.username, lrs.password)
        add_destination(session, app.config["SECRET_KEY"], spec)


def competency_count(app: Flask, block: str) -> int:
    referential = app.extensions["plugins"]["CRCA"].referential("RNCP41351")
    return len(referential.block(block).competencies)


def _grade_out_of_20(lti: LtiHarness, assessment_id: int) -> None:
    """The trainer placed the block « sur 20 » (the referential's own scale is 100)."""
    with lti.live.app.app_context(), db.transaction() as session:
        row = session.get(Assessment, assessment_id)
        assert row is not None
        row.score_maximum = 20.0


def test_launch_signatures_and_decision_made_on_the_pages_reach_the_lrs(
    lti: LtiHarness, ralph_lrs: RalphLRS
) -> None:
    app = lti.live.app
    _destination(lti, ralph_lrs)
    assessment = place(lti, "B2B")
    _grade_out_of_20(lti, assessment)
    sub = f"xapi-learner-{lti.platform_id}-{id(lti)}"
    learner(lti, sub, "B2B")
    submission = hand_in(lti, assessment, sub)
    url = paths(assessment, submission)
    chief, colleague = launch(lti, "chef-x", "B2B"), launch(lti, "collegue-x", "B2B")
    for trainer, role in ((chief, "hierarchy"), (colleague, "other_service")):
        trainer.page = trainer.get(url["grade"])
        signed = trainer.post(url["sign"], verdict_form(criteria("B2B"), "met", role=role))
        assert "Évaluation signée" in text_of(signed), errors_of(signed)
    chief.page = chief.get(url["decision"])
    expected = html.fromstring(chief.page.text).xpath("//input[@name='expected_decision']")
    decided = chief.post(
        url["decision"], {"expected_decision": expected[0].get("value") if expected else ""}
    )
    assert decided.status_code == 200, errors_of(decided)

    queued = queued_statements(app)
    report = run_worker(app)

    vocab = Vocabulary(app.config["SETTINGS"].xapi_base)
    competency = vocab.activity_type("competency")
    verbs = [
        m.payload["verb"]["id"]
        for m in queued
        if m.payload["object"]["definition"]["type"] != competency
    ]
    # Trainers' launches are not reported; hand_in stores the attempt without the event.
    # The committee's decision is a proposal: ``achieved`` waits for the jury paritaire.
    assert verbs == [Verb.LAUNCHED, Verb.SCORED, Verb.SCORED, Verb.PASSED]
    per_competency = [
        m.payload for m in queued if m.payload["object"]["definition"]["type"] == competency
    ]
    assert len(per_competency) == competency_count(app, "B2B")
    assert {s["verb"]["id"] for s in per_competency} == {Verb.PASSED}
    assert report.delivered == len(queued)
    agent = json.dumps({"account": {"homePage": lti.peer.issuer, "name": sub}})
    stored = ralph_lrs.query(agent=agent)
    assert sorted(s["verb"]["id"] for s in stored) == sorted(
        [*verbs, *(s["verb"]["id"] for s in per_competency)]
    )
    scored = ralph_lrs.query(agent=agent, verb=Verb.SCORED)
    assert {s["context"]["extensions"][vocab.extension(Extension.JURY_ROLE)] for s in scored} == {
        "hierarchy",
        "other_service",
    }
    # One scale for the assessment: each evaluator's score and the jury's are out of the
    # placement's maximum.
    decided = ralph_lrs.query(agent=agent, verb=Verb.PASSED, activity=vocab.block("CRCA", "B2B"))
    assert {s["result"]["score"]["max"] for s in [*scored, *decided]} == {20.0}
    assert {s["result"]["score"]["raw"] for s in [*scored, *decided]} == {20.0}
    # The jury (evaluators who sat and the signer) is the decision's team.
    assert sorted(m["account"]["name"] for m in decided[0]["context"]["team"]["member"]) == [
        "chef-x",
        "collegue-x",
    ]
    assert {s["context"]["instructor"]["account"]["name"] for s in scored} == {
        "chef-x",
        "collegue-x",
    }
    candidature = str(registration(lti.peer.issuer, sub, "CRCA"))
    assert {s["context"]["registration"] for s in stored} == {candidature}
    # Every IRI of ours in what the LRS stored dereferences on the running service.
    ours = {
        activity["id"]
        for statement in stored
        for activity in [
            statement["object"],
            *(a for group in statement["context"]["contextActivities"].values() for a in group),
        ]
        if activity["id"].startswith(vocab.base + "/")
    }
    assert vocab.block("CRCA", "B2B") in ours and vocab.certification("CRCA") in ours
    for iri in ours:
        assert requests.get(iri, timeout=10).status_code == 200, iri
