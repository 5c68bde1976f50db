"""The branch's questions, each answered by one query to a real LRS (Ralph 5.1.0).

Three organisations report to the branch's LRS: one capitalised BC01 of the CRCA under the
former referential (RNCP36140, which counts as no block of RNCP41351 until an official
correspondence is loaded: docs/referential-format.md), one capitalised B1 under the
current one and had B2B corrected from failed to passed, and one capitalised B1 before the
period asked about.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask

from ltiservice import db
from ltiservice.statements import registration
from tests.peers.ralph import RalphLRS
from tests.xapi_delivery.conftest import run_worker
from tests.xapi_delivery.factories import (
    World,
    add_lrs,
    decide,
    jury_validates,
    make_world,
    sign,
    submit,
)
from xapi.vocabulary import Verb, Vocabulary

pytestmark = pytest.mark.peer

PERIOD = ("2026-01-01T00:00:00Z", "2026-12-31T23:59:59Z")
EARLY = datetime(2025, 6, 2, 10, 0, tzinfo=UTC)
IN_2026 = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
LATER_IN_2026 = datetime(2026, 9, 21, 9, 30, tzinfo=UTC)


def _acquire(app: Flask, world: World, block: str, at: datetime) -> None:
    with app.app_context(), db.transaction() as session:
        hierarchy, other = world.evaluator_ids
        submission = submit(session, world, block)
        sign(session, submission, hierarchy, "hierarchy", "met")
        sign(session, submission, other, "other_service", "met")
        decide(session, submission, "met", hierarchy, at=at)
        version = submission.assessment.referential_version
        # RNCP36140's jury sat while the registration ran (no delivery after 26/01/2025).
        jury_at = None if version == "RNCP36140" else at
        jury_validates(
            session, world, (block,), "validation_partielle", hierarchy, version, jury_at
        )


def _failed_then_corrected(app: Flask, world: World, block: str) -> None:
    with app.app_context(), db.transaction() as session:
        hierarchy, other = world.evaluator_ids
        submission = submit(session, world, block)
        sign(session, submission, hierarchy, "hierarchy", "not_met")
        failed = decide(session, submission, "not_met", hierarchy, at=IN_2026)
        decide(session, submission, "met", other, supersedes=failed, at=LATER_IN_2026)
        # B1 is held already: with B2B the jury awards the certification.
        version = submission.assessment.referential_version
        jury_validates(
            session, world, (block,), "validation_totale", hierarchy, version, LATER_IN_2026
        )


def _world(app: Flask, lrs: RalphLRS, blocks: tuple[str, ...], version: str) -> World:
    world = make_world(app, blocks=blocks, version=version, score_maximum=20)
    add_lrs(app, world, lrs, name="Branche", kind="branch")
    return world


def _learner(statement: dict) -> tuple[str, str]:
    account = statement["actor"]["account"]
    return (account["homePage"], account["name"])


def test_the_branch_questions_are_single_queries(app: Flask, branch_lrs: RalphLRS) -> None:
    branch = branch_lrs
    former = _world(app, branch, ("BC01",), "RNCP36140")
    current = _world(app, branch, ("B1", "B2B"), "RNCP41351")
    before = _world(app, branch, ("B1",), "RNCP41351")
    _acquire(app, former, "BC01", IN_2026)
    _acquire(app, current, "B1", LATER_IN_2026)
    _failed_then_corrected(app, current, "B2B")
    _acquire(app, before, "B1", EARLY)
    report = run_worker(app)
    assert report.dead == report.retried == 0
    vocab = Vocabulary(app.config["SETTINGS"].xapi_base)
    since, until = PERIOD
    former_learner = (former.issuer, former.learner_sub)
    current_learner = (current.issuer, current.learner_sub)

    # 1. Who acquired block B1 of the CRCA in 2026, across the renewal: one query. No
    # document maps RNCP36140's BC01 onto B1, so the former learner is not among them.
    acquired_b1 = branch.query(
        verb=vocab.achieved,
        activity=vocab.block("CRCA", "B1"),
        related_activities="true",
        since=since,
        until=until,
    )
    assert {_learner(s) for s in acquired_b1} == {current_learner}
    strict = branch.query(
        verb=vocab.achieved, activity=vocab.block("CRCA", "B1"), since=since, until=until
    )
    assert {_learner(s) for s in strict} == {current_learner}
    # The former learner's block stays a block of its own version, found under its own IRI
    # (achieved when the jury sat, before the registration ended on 26/01/2025).
    [old] = branch.query(verb=vocab.achieved, activity=vocab.block("CRCA", "BC01"))
    assert old["timestamp"].startswith("2025-01-26")
    assert _learner(old) == former_learner
    assert old["context"]["extensions"][vocab.extension("referential-version")] == "RNCP36140"
    assert old["context"]["extensions"][vocab.extension("rncp-block-code")] == "RNCP36140BC01"
    others = [a["id"] for a in old["context"]["contextActivities"].get("other", [])]
    assert vocab.block("CRCA", "B1") not in others

    # 2. Which candidates the jury validated, block by block, and who sat: one query.
    passed = branch.query(
        verb=Verb.PASSED,
        activity=vocab.certification("CRCA"),
        related_activities="true",
        since=since,
        until=until,
    )
    blocks = [
        s for s in passed if s["object"]["definition"]["type"] == vocab.activity_type("block")
    ]
    assert sorted((_learner(s), s["object"]["id"].rsplit("/", 1)[-1]) for s in blocks) == sorted(
        [(former_learner, "BC01"), (current_learner, "B1"), (current_learner, "B2B")]
    )
    for statement in blocks:
        team = {m["account"]["name"] for m in statement["context"]["team"]["member"]}
        assert team and team <= {f"jury-1-{w.slug[3:]}" for w in (former, current)} | {
            f"jury-2-{w.slug[3:]}" for w in (former, current)
        }
        assert statement["result"]["score"]["max"] == 20

    # 3. Which corrections happened in the period: one query; each names the candidature,
    # and the correcting decision points to what it superseded.
    voids = branch.query(verb=Verb.VOIDED, since=since, until=until)
    candidature = str(registration(current.issuer, current.learner_sub, "CRCA"))
    assert {s["context"]["registration"] for s in voids} == {candidature}
    failed = branch.query(verb=Verb.FAILED, registration=candidature)
    assert {s["id"] for s in failed} == {s["object"]["id"] for s in voids}
    failed_block = [s for s in failed if s["object"]["id"] == vocab.block("CRCA", "B2B")]
    correction = [s for s in blocks if s["object"]["id"] == vocab.block("CRCA", "B2B")]
    assert correction[0]["context"]["statement"]["id"] == failed_block[0]["id"]
