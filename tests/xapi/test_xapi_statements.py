"""Pure statement builders: exact values, deterministic ids, privacy, xAPI producer rules."""

from __future__ import annotations

import ast
import json
import re
import uuid
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

import xapi
from tests.xapi.samples import (
    AT,
    BLOCK_1,
    CRCA,
    DECISION,
    EVALUATION,
    EVALUATOR,
    LEARNER,
    PLACEMENT,
    REGISTRATION,
    all_statements,
)
from xapi.model import Actor, BlockRef, CertificationRef, Decision, Evaluation, Score
from xapi.statements import (
    block_iri,
    build_block_acquired,
    build_block_decided,
    build_evaluated,
    build_launched,
    build_voided,
    decided_statement_id,
    format_timestamp,
    statement_id,
)
from xapi.vocabulary import (
    PROFILE_VERSION,
    STATEMENT_ID_NAMESPACE,
    ActivityType,
    Extension,
    Verb,
)

BLOCK_IRI = "https://ltiservice.fr/xapi/certifications/CRCA/2021/blocks/B1"
RNCP_IRI = "https://www.francecompetences.fr/recherche/rncp/36140/"


def test_launched_statement_exact_shape() -> None:
    statement = build_launched(LEARNER, PLACEMENT, REGISTRATION, "launch-1", AT)

    key = "\x1f".join(
        ("launched", LEARNER.homepage, LEARNER.name, PLACEMENT.assessment.iri, "launch-1")
    )
    assert statement["id"] == str(uuid.uuid5(STATEMENT_ID_NAMESPACE, key))
    assert statement["actor"] == {
        "objectType": "Agent",
        "account": {"homePage": "https://moodle.example.org", "name": "a1b2c3d4-learner-sub"},
    }
    assert statement["verb"] == {
        "id": "http://adlnet.gov/expapi/verbs/launched",
        "display": {"en-US": "launched"},
    }
    assert statement["object"] == {
        "objectType": "Activity",
        "id": "https://tool.example.org/assessments/7",
        "definition": {
            "type": "http://adlnet.gov/expapi/activities/assessment",
            "name": {"fr": "Étude de cas bloc 1"},
        },
    }
    # 09:30:00.123 at +01:00 is 08:30:00.123 UTC.
    assert statement["timestamp"] == "2025-03-14T08:30:00.123Z"
    context = statement["context"]
    assert context["registration"] == "5b0f6a0e-7c1d-4b7e-9a53-0c1f2a3b4c5d"
    activities = context["contextActivities"]
    assert [a["id"] for a in activities["parent"]] == [BLOCK_IRI]
    assert [a["id"] for a in activities["grouping"]] == [
        RNCP_IRI,
        "https://moodle.example.org/course/view.php?id=42",
    ]
    assert [a["definition"]["type"] for a in activities["grouping"]] == [
        ActivityType.CERTIFICATION,
        ActivityType.COURSE,
    ]
    assert [a["id"] for a in activities["other"]] == [
        "https://tool.example.org/cases/crca-b1-habitation"
    ]
    assert [a["id"] for a in activities["category"]] == [PROFILE_VERSION]
    assert context["extensions"] == {
        Extension.REFERENTIAL_VERSION: "2021",
        Extension.RNCP_CODE: "RNCP36140",
        Extension.RNCP_BLOCK_CODE: "RNCP36140BC01",
    }
    assert "result" not in statement


def test_ids_are_deterministic_and_distinct_per_event() -> None:
    first = all_statements()
    again = all_statements()
    other = all_statements(suffix="-b")

    assert first == again  # byte-for-byte the same: a retry is an identical re-POST
    ids = [s["id"] for s in first.values()]
    assert len(set(ids)) == len(ids) == 8
    # Earned is once per person and certification version: the same id whatever the events.
    assert other["earned"]["id"] == first["earned"]["id"]
    other_ids = {s["id"] for kind, s in other.items() if kind != "earned"}
    assert not set(ids) & other_ids
    for value in ids:
        assert uuid.UUID(value).version == 5


def test_same_local_id_for_another_learner_gives_another_id() -> None:
    other = Actor(LEARNER.homepage, "other-sub")
    assert statement_id("launched", LEARNER, "https://x.example/a", "1") != statement_id(
        "launched", other, "https://x.example/a", "1"
    )
    with pytest.raises(ValueError, match="own id"):
        statement_id("launched", LEARNER, "https://x.example/a", "")


def test_evaluated_puts_evaluator_in_context_and_verdicts_in_result() -> None:
    statement = build_evaluated(LEARNER, PLACEMENT, REGISTRATION, EVALUATION, AT)

    assert statement["verb"]["id"] == Verb.SCORED
    assert statement["actor"]["account"]["name"] == LEARNER.name
    assert statement["context"]["instructor"] == {
        "objectType": "Agent",
        "account": {"homePage": EVALUATOR.homepage, "name": EVALUATOR.name},
    }
    assert statement["context"]["extensions"][Extension.JURY_ROLE] == "other_service"
    assert statement["result"] == {
        "score": {"scaled": 0.7, "raw": 14, "min": 0, "max": 20},
        "extensions": {
            Extension.RESULT_CRITERION_VERDICTS: {
                "C1.1-1": "met",
                "C1.1-2": "not_met",
                "C1.2-1": "not_observed",
            }
        },
    }


def test_block_decided_passed_and_failed() -> None:
    passed = build_block_decided(LEARNER, PLACEMENT, REGISTRATION, DECISION, AT)
    failed_decision = replace(DECISION, decision_id="dec-10", acquired=False)
    failed = build_block_decided(LEARNER, PLACEMENT, REGISTRATION, failed_decision, AT)

    assert passed["verb"]["id"] == Verb.PASSED
    assert failed["verb"]["id"] == Verb.FAILED
    assert passed["result"]["success"] is True
    assert failed["result"]["success"] is False
    assert passed["object"]["id"] == BLOCK_IRI
    assert passed["object"]["definition"]["type"] == ActivityType.BLOCK
    assert passed["result"]["score"] == {"scaled": 0.8, "raw": 80, "min": 0, "max": 100}
    activities = passed["context"]["contextActivities"]
    assert [a["id"] for a in activities["parent"]] == [RNCP_IRI]
    assert [a["id"] for a in activities["other"]] == [
        "https://tool.example.org/assessments/7",
        "https://ltiservice.fr/xapi/certifications/CRCA/2021/competencies/C1.1",
        "https://ltiservice.fr/xapi/certifications/CRCA/2021/competencies/C1.2",
    ]
    assert passed["result"]["extensions"] == {
        Extension.RESULT_COMPETENCY_RESULTS: {"C1.1": "acquired", "C1.2": "acquired"}
    }
    assert passed["id"] == decided_statement_id(LEARNER, CRCA, BLOCK_1, "dec-9")


def test_block_acquired_points_to_the_passed_statement() -> None:
    passed = build_block_decided(LEARNER, PLACEMENT, REGISTRATION, DECISION, AT)
    acquired = build_block_acquired(
        LEARNER, CRCA, BLOCK_1, PLACEMENT.course, REGISTRATION, "dec-9", AT
    )
    assert acquired["verb"]["id"] == Verb.ACHIEVED
    assert acquired["object"]["id"] == block_iri(CRCA, BLOCK_1) == BLOCK_IRI
    assert acquired["context"]["statement"] == {"objectType": "StatementRef", "id": passed["id"]}
    assert "result" not in acquired


def test_success_only_on_passed_and_failed() -> None:
    for kind, statement in all_statements().items():
        has_success = "success" in statement.get("result", {})
        assert has_success == (kind in {"passed", "failed"}), kind


def test_context_activities_are_arrays_and_scores_are_consistent() -> None:
    for kind, statement in all_statements().items():
        for name, value in statement["context"].get("contextActivities", {}).items():
            assert isinstance(value, list) and value, (kind, name)
        score = statement.get("result", {}).get("score")
        if score is not None:
            assert -1 <= score["scaled"] <= 1
            assert score["min"] <= score["raw"] <= score["max"]
            assert score["scaled"] == round(
                (score["raw"] - score["min"]) / (score["max"] - score["min"]), 4
            )


def test_timestamps_are_utc_with_zone() -> None:
    pattern = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
    for statement in all_statements().values():
        assert pattern.match(statement["timestamp"]), statement["timestamp"]
    with pytest.raises(ValueError, match="timezone-aware"):
        format_timestamp(datetime(2025, 3, 14, 9, 30))
    with pytest.raises(ValueError, match="timezone-aware"):
        build_launched(LEARNER, PLACEMENT, REGISTRATION, "l", datetime(2025, 1, 1))


def test_no_name_or_email_anywhere() -> None:
    text = json.dumps(list(all_statements().values()))
    for forbidden in ('"mbox', '"mbox_sha1sum"', '"openid"', "mailto:", "@"):
        assert forbidden not in text, forbidden
    for statement in all_statements().values():
        for agent in (statement["actor"], statement["context"].get("instructor", {})):
            assert "name" not in agent


def test_voided_references_the_statement() -> None:
    target = all_statements()["failed"]["id"]
    voided = build_voided(EVALUATOR, target, AT)
    assert voided["verb"]["id"] == Verb.VOIDED
    assert voided["object"] == {"objectType": "StatementRef", "id": target}
    with pytest.raises(ValueError):
        build_voided(EVALUATOR, "not-a-uuid", AT)


def test_certification_without_rncp_code_omits_rncp_extensions() -> None:
    cert = replace(CRCA, rncp_code=None, iri="https://ltiservice.fr/xapi/certifications/X")
    block = BlockRef(code="B2A", rncp_block_code=None, title="Souscription")
    placement = replace(PLACEMENT, certification=cert, block=block)
    statement = build_launched(LEARNER, placement, REGISTRATION, "l-2", AT)
    assert statement["context"]["extensions"] == {Extension.REFERENTIAL_VERSION: "2021"}


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Score(raw=21, min=0, max=20), "outside"),
        (lambda: Score(raw=1, min=5, max=5), "below max"),
        (lambda: Score(raw=float("nan"), min=0, max=1), "finite"),
        (lambda: Actor("moodle", "sub"), "absolute"),
        (lambda: Actor("https://m.example", " "), "empty"),
        (lambda: replace(CRCA, code="C R"), "code"),
        (lambda: CertificationRef("X", None, "t", "v 1", "https://x.example"), "version"),
        (
            lambda: build_evaluated(
                LEARNER, PLACEMENT, REGISTRATION, replace(EVALUATION, verdicts={"c": "ok"}), AT
            ),
            "criterion verdict",
        ),
        (
            lambda: build_evaluated(
                LEARNER, PLACEMENT, REGISTRATION, replace(EVALUATION, jury_role="Jury Role"), AT
            ),
            "jury role",
        ),
        (
            lambda: build_block_decided(
                LEARNER,
                PLACEMENT,
                REGISTRATION,
                Decision("d", True, Score(1, 0, 1), {"C1": "maybe"}),
                AT,
            ),
            "competency result",
        ),
        (
            lambda: build_evaluated(
                LEARNER,
                PLACEMENT,
                REGISTRATION,
                Evaluation("e", EVALUATOR, "trainer", {}, Score(1, 0, 1)),
                AT,
            ),
            "at least one",
        ),
    ],
)
def test_bad_inputs_are_refused(build: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()  # type: ignore[operator]


def test_registration_must_be_a_uuid() -> None:
    with pytest.raises(TypeError):
        build_launched(LEARNER, PLACEMENT, str(REGISTRATION), "l", AT)  # type: ignore[arg-type]


def test_xapi_imports_nothing_from_ltiservice() -> None:
    package = Path(xapi.__file__).parent
    for source in sorted(package.glob("*.py")):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            assert not any(n.split(".")[0] == "ltiservice" for n in names), source.name
