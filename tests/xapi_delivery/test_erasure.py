"""RGPD erasure among several people with deliveries pending to two real LRSs and the LMS.

Erasing a trainer and a learner touches only their own rows (found by the outbox's person
columns): the learner's undelivered statements and scores are dropped and recorded, what was
already sent keeps only its ids, other learners' deliveries are all still delivered (those
naming the erased trainer under the trainer's pseudonym), and a replay of the history, to the
same LRS or to a fresh real Ralph, sends no fact twice.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from ltiservice import db
from ltiservice.cli import main
from ltiservice.lrs_cli import xapi_cli
from ltiservice.models import OutboxMessage, Person
from tests.peers.ralph import RalphLRS
from tests.xapi_delivery.conftest import run_worker
from tests.xapi_delivery.factories import World, add_lrs, decide, make_world, sign, submit

pytestmark = pytest.mark.peer


def _learner(app: Flask, world: World, sub: str) -> World:
    """The same organisation seen from a second learner."""
    with app.app_context(), db.transaction() as session:
        platform_id = session.get(Person, world.learner_id).platform_id  # type: ignore[union-attr]
        person = Person(platform_id=platform_id, sub=sub)
        session.add(person)
        session.flush()
        return dataclasses.replace(world, learner_id=person.id, learner_sub=sub)


def _rows(app: Flask) -> list[dict[str, Any]]:
    with app.extensions["db_sessionmaker"]() as session:
        return [
            {
                "person": m.person_id,
                "kind": m.kind,
                "destination": m.destination,
                "status": m.status,
                "payload": m.payload,
            }
            for m in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        ]


def _tally(rows: list[dict[str, Any]]) -> Counter[tuple[int | None, str, str]]:
    return Counter((r["person"], r["destination"], r["status"]) for r in rows)


def _fact_keys(statements: list[dict[str, Any]]) -> Counter[tuple[str, str, str]]:
    """One key per reported fact, whatever actor or id it was sent under."""
    keys: Counter[tuple[str, str, str]] = Counter()
    for s in statements:
        if s["object"].get("objectType") == "StatementRef":  # a void: of which statement
            keys[(s["verb"]["id"], s["object"]["id"], "")] += 1
        else:
            keys[(s["verb"]["id"], s["object"]["id"], s["timestamp"])] += 1
    return keys


def _erase(app: Flask, sub: str) -> str:
    with app.app_context():
        platform = db.session().scalar(select(Person.platform_id).where(Person.sub == sub))
    result = app.test_cli_runner().invoke(
        main, ["privacy", "erase", "--platform", str(platform), "--sub", sub, "--yes"]
    )
    assert result.exit_code == 0, result.output
    return result.output


def _replay(app: Flask, destination: int) -> str:
    since = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%d")
    result = app.test_cli_runner().invoke(
        xapi_cli, ["replay", "--since", since, "--to", str(destination)]
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_erasing_a_trainer_and_a_learner_drops_only_their_own_and_replays_nothing_twice(
    app: Flask, ralph_lrs: RalphLRS, branch_lrs: RalphLRS, tmp_path: Path
) -> None:
    camille = make_world(app)
    trainer, other_trainer = camille.evaluator_ids
    # Two learners of the same course, two LRSs: each learner's row ids and the destination
    # ids are small integers that a string match on keys would confuse.
    first, second = add_lrs(app, camille, ralph_lrs), add_lrs(app, camille, branch_lrs, "Branche")
    lina = _learner(app, camille, f"lina-{camille.slug}")
    noah = _learner(app, camille, f"noah-{camille.slug}")
    with app.app_context(), db.transaction() as session:
        for learner in (camille, lina, noah):  # delivered before the erasure
            work = submit(session, learner, "B1")
            sign(session, work, trainer, "hierarchy", "met")
            decide(session, work, "met", trainer)
    queued = [r for r in _rows(app) if r["kind"] == "xapi_statement"]
    assert queued and {r["status"] for r in queued} == {"pending"}
    delivered = run_worker(app).delivered
    assert delivered == len([r for r in _rows(app) if r["status"] == "delivered"])
    assert delivered >= len(queued)  # every statement to both LRSs, and the LMS scores
    with app.app_context(), db.transaction() as session:
        for learner in (camille, lina, noah):  # still pending when the erasure comes
            work = submit(session, learner, "B2B")
            sign(session, work, trainer, "hierarchy", "not_met")
            failed = decide(session, work, "not_met", other_trainer)
            decide(session, work, "met", trainer, supersedes=failed)  # void signed by trainer
    before = _rows(app)
    subs = {camille.learner_id: camille.learner_sub}
    with app.app_context():
        subs[trainer] = db.session().get(Person, trainer).sub  # type: ignore[union-attr]

    trainer_output = _erase(app, subs[trainer])
    learner_output = _erase(app, camille.learner_sub)

    after = _rows(app)
    pending_before = _tally([r for r in before if r["status"] == "pending"])
    for (person, destination, _), n in pending_before.items():
        counts = _tally([r for r in after if r["person"] == person])
        if person == camille.learner_id:  # the erased learner: nothing of theirs goes out now
            assert counts[(person, destination, "dropped")] == n, destination
            assert counts[(person, destination, "pending")] == 0
        else:  # everyone else keeps every pending delivery, to the LMS and to both LRSs
            assert counts[(person, destination, "pending")] == n, (person, destination)
    assert {d for (p, d, _) in pending_before if p == camille.learner_id} == {
        "platform:" + str(_platform_of(app, camille)),
        f"lrs:{first}",
        f"lrs:{second}",
    }
    assert "envoi(s) d'autres personnes qui la nommaient passés sous pseudonyme" in trainer_output
    # What was sent keeps only its ids; no row holds the erased identifiers any more.
    stored = json.dumps([r["payload"] for r in after])
    assert subs[trainer] not in stored and camille.learner_sub not in stored
    assert "non encore faits abandonnés" in learner_output

    report = run_worker(app)
    assert report.dead == 0
    for lrs, destination in ((ralph_lrs, first), (branch_lrs, second)):
        held = [s for s in lrs.stored_statements() if _ours(s, camille)]
        # What the LRS holds is exactly what the outbox sent: the statements delivered before
        # the erasure (under their actors of the time), then everything still pending after
        # it (under the trainer's pseudonym where it named the trainer), none of Camille's.
        sent_before = [
            r["payload"]
            for r in before
            if r["destination"] == f"lrs:{destination}" and r["status"] == "delivered"
        ]
        sent_after = [
            r["payload"]
            for r in after
            if r["destination"] == f"lrs:{destination}" and r["status"] == "pending"
        ]
        names = Counter(s["actor"]["account"]["name"] for s in held)
        assert names == Counter(s["actor"]["account"]["name"] for s in sent_before + sent_after)
        assert len(held) == len(sent_before) + len(sent_after)
        assert names[camille.learner_sub] == sum(
            1 for s in sent_before if s["actor"]["account"]["name"] == camille.learner_sub
        )
        assert all(camille.learner_sub not in json.dumps(s) for s in sent_after)
        assert all(subs[trainer] not in json.dumps(s) for s in sent_after)
        assert any(s["actor"]["account"]["name"] == lina.learner_sub for s in sent_after)
        assert Counter(s["id"] for s in held).most_common(1)[0][1] == 1

    # Replays after the erasure: to the same LRS nothing is queued again…
    for destination in (first, second):
        assert "\n0 déclaration(s) remise(s) en file" in _replay(app, destination)
    # …and a fresh real Ralph gets each fact exactly once, the erased ones anonymised.
    with RalphLRS(tmp_path / "fresh") as fresh:
        fresh_id = add_lrs(app, camille, fresh, "Nouveau LRS")
        _replay(app, fresh_id)
        assert run_worker(app).dead == 0
        statements = [s for s in fresh.stored_statements() if _ours(s, camille)]
    assert statements
    assert Counter(s["id"] for s in statements).most_common(1)[0][1] == 1
    assert _fact_keys(statements).most_common(1)[0][1] == 1
    text = json.dumps(statements)
    assert camille.learner_sub not in text and subs[trainer] not in text
    # Every fact the first LRS holds, and Camille's dropped ones too (anonymised): the whole
    # history once.
    first_held = [s for s in ralph_lrs.stored_statements() if _ours(s, camille)]
    assert set(_fact_keys(first_held)) <= set(_fact_keys(statements))
    assert len(statements) > len(first_held)


def _platform_of(app: Flask, world: World) -> int:
    with app.app_context():
        return db.session().get(Person, world.learner_id).platform_id  # type: ignore[union-attr,return-value]


def _ours(statement: dict[str, Any], world: World) -> bool:
    return json.dumps(statement).find(world.issuer) >= 0
