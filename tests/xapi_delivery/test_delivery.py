"""Every assessment event reaches a real LRS (Ralph) through the outbox, in batches."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from flask import Flask
from sqlalchemy import select

from ltiservice import outbox, passback
from ltiservice.models import OutboxMessage
from ltiservice.statements import registration
from tests.peers.ralph import RalphLRS
from tests.xapi_delivery.conftest import EMITTED, queued_statements, run_worker
from tests.xapi_delivery.factories import World, add_lrs, full_history, make_world, set_active
from xapi.vocabulary import Verb, Vocabulary

pytestmark = pytest.mark.peer


def _agent(world: World) -> str:
    return json.dumps({"account": {"homePage": world.issuer, "name": world.learner_sub}})


def _kinds(statements: list[dict]) -> Counter[tuple[str, str]]:
    """(verb, object activity type) by their last IRI segment."""
    return Counter(
        (s["verb"]["id"].rsplit("/", 1)[-1], s["object"]["definition"]["type"].rsplit("/", 1)[-1])
        for s in statements
    )


def _competencies(app: Flask, block: str) -> int:
    with app.app_context():
        referential = app.extensions["plugins"]["CRCA"].referential("RNCP41351")
        return len(referential.block(block).competencies)


def test_the_history_of_a_candidate_is_in_the_lrs_and_found_by_xapi_filters(
    app: Flask, ralph_lrs: RalphLRS
) -> None:
    world = make_world(app)
    add_lrs(app, world, ralph_lrs)
    full_history(app, world)

    queued = queued_statements(app)
    assert {m.destination for m in queued} == {f"lrs:{queued[0].destination.split(':')[1]}"}
    report = run_worker(app)

    assert (report.delivered, report.retried, report.dead) == (len(queued), 0, 0)
    assert [m.status for m in queued_statements(app)] == ["delivered"] * len(queued)
    by_agent = ralph_lrs.query(agent=_agent(world))
    vocab = Vocabulary(app.config["SETTINGS"].xapi_base)
    b1, b2b = _competencies(app, "B1"), _competencies(app, "B2B")
    # One statement per competency result; the void's actor is the jury member who signed the
    # correction, not the learner.
    assert _kinds(by_agent) == Counter(
        {
            ("submit", "assessment"): 2,
            ("scored", "assessment"): 3,
            ("passed", "block"): 2,
            ("failed", "block"): 1,
            ("passed", "competency"): b1 + b2b,
            ("failed", "competency"): b2b,
            ("achieved", "block"): 2,
            ("earned", "certification"): 1,
        }
    )
    assert {s["id"] for s in by_agent} | {
        s["id"]
        for s in ralph_lrs.query(verb=Verb.VOIDED)
        if s["actor"]["account"]["homePage"] == world.issuer
    } == {m.payload["id"] for m in queued}
    for statement_id in (m.payload["id"] for m in queued):
        assert ralph_lrs.count_stored(statement_id) == 1

    passed = [
        s
        for s in ralph_lrs.query(agent=_agent(world), verb=Verb.PASSED)
        if s["object"]["id"].startswith(vocab.certification("CRCA") + "/blocks/")
    ]
    assert sorted(s["object"]["id"] for s in passed) == [
        vocab.block("CRCA", "B1"),
        vocab.block("CRCA", "B2B"),
    ]
    assert {s["result"]["success"] for s in passed} == {True}
    assert {s["result"]["score"]["scaled"] for s in passed} == {1.0}
    results = passed[0]["result"]["extensions"]
    assert set(next(iter(results.values())).values()) == {"acquired"}

    earned = ralph_lrs.query(agent=_agent(world), verb=Verb.EARNED)
    assert [s["object"]["id"] for s in earned] == [vocab.certification("CRCA")]
    on_certification = ralph_lrs.query(agent=_agent(world), activity=vocab.certification("CRCA"))
    assert [s["id"] for s in on_certification] == [earned[0]["id"]]

    candidature = str(registration(world.issuer, world.learner_sub, "CRCA"))
    in_registration = ralph_lrs.query(registration=candidature)
    failed = ralph_lrs.query(agent=_agent(world), verb=Verb.FAILED)
    voids = [
        s
        for s in ralph_lrs.query(verb=Verb.VOIDED)
        if s["context"].get("registration") == candidature
    ]
    # The correction voids the failed block statement and its competency statements.
    assert {s["object"]["id"] for s in voids} == {s["id"] for s in failed}
    assert len(in_registration) == len(by_agent) + len(voids)
    # Pseudonymous: no name or email from the LMS in what we sent (the LRS adds its own
    # ``authority``, an mbox of its user).
    ours = json.dumps([{k: v for k, v in s.items() if k != "authority"} for s in by_agent + voids])
    assert "Ne pas envoyer" not in ours and "mbox" not in ours and "@" not in ours


def test_statements_are_queued_only_for_active_destinations_of_the_organisation(
    app: Flask, ralph_lrs: RalphLRS, branch_lrs: RalphLRS
) -> None:
    world, neighbour = make_world(app), make_world(app)
    ours = add_lrs(app, world, ralph_lrs)
    paused = add_lrs(app, world, branch_lrs, name="Branche", kind="branch")
    add_lrs(app, neighbour, branch_lrs)
    set_active(app, paused, False)
    full_history(app, world)

    queued = queued_statements(app)
    assert {m.destination for m in queued} == {f"lrs:{ours}"}
    assert {m.organisation_id for m in queued} == {world.organisation_id}
    assert {m.dedupe_key for m in queued} == {f"xapi:{ours}:{m.payload['id']}" for m in queued}
    EMITTED.extend(m.payload for m in queued)


def test_two_destinations_get_the_same_statements(
    app: Flask, ralph_lrs: RalphLRS, branch_lrs: RalphLRS
) -> None:
    world = make_world(app)
    add_lrs(app, world, ralph_lrs)
    add_lrs(app, world, branch_lrs, name="Branche (certificateur)", kind="branch")
    full_history(app, world)

    queued = queued_statements(app)
    report = run_worker(app)

    assert report.delivered == len(queued) and report.retried == report.dead == 0
    ids = {m.payload["id"] for m in queued}
    assert len(queued) == 2 * len(ids)
    agent = _agent(world)
    organisation_side = {s["id"]: s for s in ralph_lrs.query(agent=agent)}
    branch_side = {s["id"]: s for s in branch_lrs.query(agent=agent)}
    voids = {m.payload["id"] for m in queued if m.payload["verb"]["id"] == Verb.VOIDED}
    assert organisation_side.keys() == branch_side.keys()
    assert len(branch_side) == len(ids) - len(voids)
    for statement_id, statement in branch_side.items():
        assert statement["context"] == organisation_side[statement_id]["context"]
        assert branch_lrs.count_stored(statement_id) == 1


def test_the_worker_runs_grade_passback_and_xapi_batches_together(
    app: Flask, ralph_lrs: RalphLRS
) -> None:
    world = make_world(app)
    add_lrs(app, world, ralph_lrs)
    full_history(app, world)
    queued = queued_statements(app)
    EMITTED.extend(m.payload for m in queued)
    registry = passback.deliverers(app)
    assert isinstance(registry["xapi_statement"], outbox.BatchDelivery)
    report = outbox.run_once(app.extensions["db_sessionmaker"], registry)

    # The AGS scores have no gradebook in this test: they fail on their own per-message path
    # (dead, with the reason) while the statements are delivered in a batch.
    assert report.delivered == len(queued)
    assert [m.status for m in queued_statements(app)] == ["delivered"] * len(queued)
    with app.extensions["db_sessionmaker"]() as session:
        scores = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "ags_score"))
        assert {(m.status, m.last_error) for m in scores} == {
            ("dead", "la plateforme n'a fourni aucun service de notes (AGS) pour cette activité")
        }
