"""Delivery to a real LRS (Ralph 5.1.0): storage, queries, batches, re-sends, refusals."""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

import pytest
import requests

from tests.peers.ralph import RalphLRS
from tests.xapi.samples import AT, PLACEMENT, REGISTRATION, VOCAB, all_statements
from xapi.client import AuthError, LrsClient
from xapi.model import Actor
from xapi.statements import build_launched
from xapi.vocabulary import Verb

pytestmark = pytest.mark.peer


def _learner() -> Actor:
    # One fresh learner per test keeps the session-wide LRS's queries independent.
    return Actor("https://moodle.example.org", f"sub-{uuid.uuid4().hex[:12]}")


def _launches(learner: Actor, count: int) -> list[dict[str, Any]]:
    return [
        build_launched(VOCAB, learner, PLACEMENT, REGISTRATION, f"launch-{n}", AT)
        for n in range(count)
    ]


def _client(lrs: RalphLRS, **kwargs: Any) -> LrsClient:
    return LrsClient(lrs.endpoint, lrs.username, lrs.password, timeout=10, **kwargs)


def _agent(learner: Actor) -> str:
    return json.dumps({"account": {"homePage": learner.homepage, "name": learner.name}})


def _ids_in_store(lrs: RalphLRS, ids: list[str]) -> dict[str, int]:
    wanted = set(ids)
    counts = dict.fromkeys(ids, 0)
    for statement in lrs.stored_statements():
        if statement["id"] in wanted:
            counts[statement["id"]] += 1
    return counts


def test_statements_are_stored_and_found_by_xapi_filters(ralph_lrs: RalphLRS) -> None:
    learner = _learner()
    statements = all_statements(learner)
    with _client(ralph_lrs) as client:
        result = client.send_statements(list(statements.values()))

    assert result.delivered == tuple(s["id"] for s in statements.values())
    assert result.rejected == {} and result.pending == () and result.conflicts == ()

    agent = _agent(learner)
    by_agent = ralph_lrs.query(agent=agent)
    # The voiding statement's actor is the evaluator, not the learner.
    assert {s["id"] for s in by_agent} == {
        s["id"] for kind, s in statements.items() if kind != "voided"
    }
    scored = ralph_lrs.query(agent=agent, verb=Verb.SCORED)
    assert [s["id"] for s in scored] == [statements["evaluated"]["id"]]
    on_assessment = ralph_lrs.query(agent=agent, activity=PLACEMENT.assessment.iri)
    assert {s["verb"]["id"] for s in on_assessment} == {Verb.LAUNCHED, Verb.SUBMITTED, Verb.SCORED}
    in_registration = ralph_lrs.query(agent=agent, registration=str(REGISTRATION))
    assert len(in_registration) == 9  # all but the void, whose actor is the jury member

    stored = {s["id"]: s for s in by_agent}
    for kind in ("evaluated", "block-passed", "competency-failed", "earned"):
        sent, got = statements[kind], stored[statements[kind]["id"]]
        for key in ("actor", "verb", "object", "result", "context"):
            assert got.get(key) == sent.get(key), (kind, key)


def test_batch_of_150_in_one_post_then_resent_without_duplicates(ralph_lrs: RalphLRS) -> None:
    statements = _launches(_learner(), 150)
    ids = [s["id"] for s in statements]
    posts: list[int] = []
    session = requests.Session()
    session.hooks["response"].append(lambda response, *a, **k: posts.append(response.status_code))
    with session, _client(ralph_lrs, session=session) as client:
        first = client.send_statements(statements)
        again = client.send_statements(statements)

    assert posts == [200, 204]  # one POST each; the identical re-POST is accepted as is
    assert first.delivered == again.delivered == tuple(ids)
    assert again.conflicts == () and again.rejected == {}
    assert set(_ids_in_store(ralph_lrs, ids).values()) == {1}


def test_same_id_other_content_counts_as_delivered_and_is_reported(
    ralph_lrs: RalphLRS, caplog: pytest.LogCaptureFixture
) -> None:
    learner = _learner()
    original, new_one, new_two = _launches(learner, 3)
    altered = copy.deepcopy(original)
    altered["timestamp"] = "2025-03-15T10:00:00.000Z"
    with _client(ralph_lrs) as client:
        client.send_statements([original])
        result = client.send_statements([new_one, altered, new_two])

    # Ralph refuses the whole batch with 409; bisecting still stores the two new ones.
    assert set(result.delivered) == {new_one["id"], original["id"], new_two["id"]}
    assert result.conflicts == (original["id"],)
    assert result.pending == () and result.rejected == {}
    counts = _ids_in_store(ralph_lrs, [original["id"], new_one["id"], new_two["id"]])
    assert counts == {original["id"]: 1, new_one["id"]: 1, new_two["id"]: 1}
    kept = [s for s in ralph_lrs.stored_statements() if s["id"] == original["id"]]
    assert kept[0]["timestamp"] == original["timestamp"]
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warnings == [f"LRS holds statement {original['id']} with other content (409)"]


def test_invalid_statement_is_isolated_and_the_others_stored(
    ralph_lrs: RalphLRS, caplog: pytest.LogCaptureFixture
) -> None:
    learner = _learner()
    statements = _launches(learner, 10)
    bad = statements[6]
    bad["actor"] = {"objectType": "Agent"}  # no identifier: every LRS must refuse it
    posts: list[int] = []
    session = requests.Session()
    session.hooks["response"].append(lambda response, *a, **k: posts.append(response.status_code))
    with session, _client(ralph_lrs, session=session) as client:
        result = client.send_statements(statements)

    good_ids = [s["id"] for s in statements if s is not bad]
    assert sorted(result.delivered) == sorted(good_ids)
    assert list(result.rejected) == [bad["id"]]
    message = result.rejected[bad["id"]]
    assert "actor" in message and "Field required" in message
    assert '"input"' not in message  # the LRS's echo of the statement is dropped
    assert posts[0] == 422 and posts.count(422) <= 5 and len(posts) <= 9
    assert set(_ids_in_store(ralph_lrs, good_ids).values()) == {1}
    assert _ids_in_store(ralph_lrs, [bad["id"]]) == {bad["id"]: 0}
    # Logs name the statement by id only: no content, no LRS echo, no credentials.
    assert bad["id"] in caplog.text
    for secret in (learner.name, "Field required", ralph_lrs.password, PLACEMENT.case.iri):
        assert secret not in caplog.text


def test_wrong_password_raises_auth_error(ralph_lrs: RalphLRS) -> None:
    statements = _launches(_learner(), 2)
    with (
        LrsClient(ralph_lrs.endpoint, ralph_lrs.username, "wrong", timeout=10) as client,
        pytest.raises(AuthError) as caught,
    ):
        client.send_statements(statements)
    assert caught.value.status == 401
    assert "wrong" not in str(caught.value)
    assert _ids_in_store(ralph_lrs, [s["id"] for s in statements]) == {
        s["id"]: 0 for s in statements
    }


def test_repeated_ids_in_one_call_are_sent_once(ralph_lrs: RalphLRS) -> None:
    first, second = _launches(_learner(), 2)
    with _client(ralph_lrs) as client:
        result = client.send_statements([first, second, copy.deepcopy(first)])
    # Ralph would refuse the whole batch (400) for a repeated id.
    assert result.delivered == (first["id"], second["id"])
    assert _ids_in_store(ralph_lrs, [first["id"], second["id"]]) == {
        first["id"]: 1,
        second["id"]: 1,
    }
