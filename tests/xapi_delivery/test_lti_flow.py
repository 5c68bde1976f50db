"""The real pages report to the LRS: an LMS launch, trainers signing, the jury deciding."""

from __future__ import annotations

import json

import pytest
from lxml import html
from sqlalchemy import select

from ltiservice import db
from ltiservice.lrs import DestinationSpec, add_destination
from ltiservice.models import Organisation, Platform
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
from xapi.vocabulary import Extension, Verb

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


def test_launch_signatures_and_decision_made_on_the_pages_reach_the_lrs(
    lti: LtiHarness, ralph_lrs: RalphLRS
) -> None:
    app = lti.live.app
    _destination(lti, ralph_lrs)
    assessment = place(lti, "B2B")
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

    verbs = [m.payload["verb"]["id"] for m in queued]
    # Trainers' launches are not reported; hand_in stores the attempt without the event.
    assert verbs == [Verb.LAUNCHED, Verb.SCORED, Verb.SCORED, Verb.PASSED, Verb.ACHIEVED]
    assert report.delivered == len(queued)
    agent = json.dumps({"account": {"homePage": lti.peer.issuer, "name": sub}})
    stored = ralph_lrs.query(agent=agent)
    assert sorted(s["verb"]["id"] for s in stored) == sorted(verbs)
    scored = ralph_lrs.query(agent=agent, verb=Verb.SCORED)
    assert {s["context"]["extensions"][Extension.JURY_ROLE] for s in scored} == {
        "hierarchy",
        "other_service",
    }
    assert {s["context"]["instructor"]["account"]["name"] for s in scored} == {
        "chef-x",
        "collegue-x",
    }
    candidature = str(registration(lti.peer.issuer, sub, "CRCA"))
    assert {s["context"]["registration"] for s in stored} == {candidature}
