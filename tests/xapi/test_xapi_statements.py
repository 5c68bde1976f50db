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
    BC01,
    BLOCK_1,
    CHAIR,
    CRCA,
    CRCA_2021,
    DECISION,
    EVALUATION,
    EVALUATOR,
    LEARNER,
    PLACEMENT,
    REGISTRATION,
    VOCAB,
    all_statements,
)
from xapi.model import (
    Actor,
    BlockRef,
    CertificationRef,
    CompetencyResult,
    Decision,
    Evaluation,
    Score,
)
from xapi.statements import (
    build_block_acquired,
    build_block_decided,
    build_competency_results,
    build_evaluated,
    build_launched,
    build_submitted,
    build_voided,
    decided_statement_id,
    format_timestamp,
    statement_id,
    superseded_statement_ids,
)
from xapi.vocabulary import (
    STATEMENT_ID_NAMESPACE,
    ActivityType,
    Verb,
    Vocabulary,
)

BASE = "https://lti.of-exemple.fr/xapi"
BLOCK_IRI = f"{BASE}/certifications/CRCA/blocks/B1"
CERT_IRI = f"{BASE}/certifications/CRCA"


def ext(name: str) -> str:
    return f"{BASE}/extensions/{name}"


def test_launched_statement_exact_shape() -> None:
    statement = build_launched(VOCAB, LEARNER, PLACEMENT, REGISTRATION, "launch-1", AT)

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
        "display": {"fr-FR": "a ouvert", "en-US": "launched"},
    }
    assert statement["object"] == {
        "objectType": "Activity",
        "id": f"{BASE}/assessments/res-7",
        "definition": {
            "type": "http://adlnet.gov/expapi/activities/assessment",
            "name": {"fr-FR": "Étude de cas bloc 1"},
        },
    }
    # 09:30:00.123 at +01:00 is 08:30:00.123 UTC.
    assert statement["timestamp"] == "2025-03-14T08:30:00.123Z"
    context = statement["context"]
    assert context["registration"] == "5b0f6a0e-7c1d-4b7e-9a53-0c1f2a3b4c5d"
    assert context["language"] == "fr-FR" and context["platform"] == "ltiservice"
    activities = context["contextActivities"]
    assert [a["id"] for a in activities["parent"]] == [BLOCK_IRI]
    assert [a["id"] for a in activities["grouping"]] == [CERT_IRI, f"{BASE}/courses/42"]
    assert [a["definition"]["type"] for a in activities["grouping"]] == [
        f"{BASE}/activity-types/certification",
        ActivityType.COURSE,
    ]
    assert [a["id"] for a in activities["other"]] == [
        f"{BASE}/certifications/CRCA/cases/crca-b1-habitation"
    ]
    assert [a["id"] for a in activities["category"]] == [f"{BASE}/profile/2.0"]
    assert context["extensions"] == {
        ext("certification-code"): "CRCA",
        ext("referential-version"): "RNCP41351",
        ext("rncp-code"): "RNCP41351",
        ext("block-code"): "B1",
    }
    assert "result" not in statement


def test_block_iris_do_not_depend_on_the_referential_version() -> None:
    placement = replace(PLACEMENT, certification=CRCA_2021)
    now = build_block_decided(VOCAB, LEARNER, PLACEMENT, REGISTRATION, DECISION, AT)
    before = build_block_decided(VOCAB, LEARNER, placement, REGISTRATION, DECISION, AT)
    assert now["object"]["id"] == before["object"]["id"] == BLOCK_IRI
    parents = [s["context"]["contextActivities"]["parent"][0]["id"] for s in (now, before)]
    assert parents == [CERT_IRI, CERT_IRI]
    versions = [s["context"]["extensions"][ext("referential-version")] for s in (now, before)]
    assert versions == ["RNCP41351", "RNCP36140"]


def test_rncp_block_code_is_sent_when_the_referential_has_one() -> None:
    placement = replace(PLACEMENT, certification=CRCA_2021, block=BC01)
    statement = build_submitted(VOCAB, LEARNER, placement, REGISTRATION, "s-1", 1, AT)
    assert statement["context"]["extensions"][ext("rncp-block-code")] == "RNCP36140BC01"
    assert statement["context"]["extensions"][ext("block-code")] == "BC01"
    assert statement["object"]["id"] == PLACEMENT.assessment.iri


def test_ids_are_deterministic_and_distinct_per_event() -> None:
    first = all_statements()
    again = all_statements()
    other = all_statements(suffix="-b")

    assert first == again  # byte-for-byte the same: a retry is an identical re-POST
    ids = [s["id"] for s in first.values()]
    assert len(set(ids)) == len(ids) == 10
    assert not set(ids) & {s["id"] for s in other.values()}
    for value in ids:
        assert uuid.UUID(value).version == 5


def test_same_local_id_for_another_learner_gives_another_id() -> None:
    other = Actor(LEARNER.homepage, "other-sub")
    assert statement_id("launched", LEARNER, "https://x.example/a", "1") != statement_id(
        "launched", other, "https://x.example/a", "1"
    )
    with pytest.raises(ValueError, match="own id"):
        statement_id("launched", LEARNER, "https://x.example/a", "")


def test_evaluated_puts_evaluator_in_context_verdicts_and_attempt() -> None:
    statement = build_evaluated(VOCAB, LEARNER, PLACEMENT, REGISTRATION, EVALUATION, AT)

    assert statement["verb"]["id"] == Verb.SCORED
    assert statement["actor"]["account"]["name"] == LEARNER.name
    assert statement["context"]["instructor"] == {
        "objectType": "Agent",
        "account": {"homePage": EVALUATOR.homepage, "name": EVALUATOR.name},
    }
    assert statement["context"]["extensions"][ext("jury-role")] == "other_service"
    assert statement["context"]["extensions"][ext("attempt")] == 2
    assert statement["result"] == {
        "score": {"scaled": 0.7, "raw": 14, "min": 0, "max": 20},
        "extensions": {
            ext("criterion-verdicts"): {
                "C1.1-1": "met",
                "C1.1-2": "not_met",
                "C1.2-1": "not_observed",
            }
        },
    }


def test_every_score_is_on_the_assessment_scale() -> None:
    with pytest.raises(ValueError, match="scale"):
        build_evaluated(
            VOCAB,
            LEARNER,
            PLACEMENT,
            REGISTRATION,
            replace(EVALUATION, score=Score(70, 0, 100)),
            AT,
        )
    with pytest.raises(ValueError, match="scale"):
        build_block_decided(
            VOCAB, LEARNER, PLACEMENT, REGISTRATION, replace(DECISION, score=Score(8, 0, 10)), AT
        )
    maxima = {
        s["result"]["score"]["max"]
        for s in all_statements().values()
        if "score" in s.get("result", {})
    }
    assert maxima == {20}


def test_block_decided_passed_and_failed() -> None:
    passed = build_block_decided(VOCAB, LEARNER, PLACEMENT, REGISTRATION, DECISION, AT)
    failed_decision = replace(DECISION, decision_id="dec-10", acquired=False)
    failed = build_block_decided(VOCAB, LEARNER, PLACEMENT, REGISTRATION, failed_decision, AT)

    assert passed["verb"]["id"] == Verb.PASSED
    assert failed["verb"]["id"] == Verb.FAILED
    assert passed["result"]["success"] is True and passed["result"]["completion"] is True
    assert failed["result"]["success"] is False
    assert passed["object"]["id"] == BLOCK_IRI
    assert passed["object"]["definition"]["type"] == f"{BASE}/activity-types/block"
    assert passed["result"]["score"] == {"scaled": 0.8335, "raw": 16.67, "min": 0, "max": 20}
    activities = passed["context"]["contextActivities"]
    assert [a["id"] for a in activities["parent"]] == [CERT_IRI]
    assert [(a["id"], a["definition"]["name"]) for a in activities["other"]] == [
        (f"{BASE}/assessments/res-7", {"fr-FR": "Étude de cas bloc 1"}),
        (
            f"{BASE}/certifications/CRCA/competencies/C1.1",
            {"fr-FR": "Personnaliser l'accueil du client"},
        ),
        (
            f"{BASE}/certifications/CRCA/competencies/C1.2",
            {"fr-FR": "Orienter le client vers le bon interlocuteur"},
        ),
    ]
    assert passed["result"]["extensions"] == {
        ext("competency-results"): {"C1.1": "acquired", "C1.2": "acquired"}
    }
    assert passed["context"]["extensions"][ext("attempt")] == 2
    assert passed["id"] == decided_statement_id(VOCAB, LEARNER, CRCA, BLOCK_1, "dec-9")
    assert "statement" not in passed["context"]  # not a correction


def test_the_jury_is_the_team_of_decision_statements() -> None:
    team = {
        "objectType": "Group",
        "member": [
            {"objectType": "Agent", "account": {"homePage": ISSUER_, "name": name}}
            for name in sorted((CHAIR.name, EVALUATOR.name))
        ],
    }
    statements = all_statements()
    for kind in ("block-passed", "competency-passed", "acquired", "earned"):
        assert statements[kind]["context"]["team"] == team, kind


ISSUER_ = LEARNER.homepage


def test_one_statement_per_competency_result() -> None:
    failed = replace(
        DECISION,
        decision_id="dec-11",
        acquired=False,
        competencies=(DECISION.competencies[0], CompetencyResult("C1.2", "Orienter", False, 0, 2)),
    )
    decided_id = decided_statement_id(VOCAB, LEARNER, CRCA, BLOCK_1, "dec-11")
    statements = build_competency_results(VOCAB, LEARNER, PLACEMENT, REGISTRATION, failed, AT)
    assert [(s["verb"]["id"], s["object"]["id"]) for s in statements] == [
        (Verb.PASSED, f"{BASE}/certifications/CRCA/competencies/C1.1"),
        (Verb.FAILED, f"{BASE}/certifications/CRCA/competencies/C1.2"),
    ]
    assert [s["result"] for s in statements] == [
        {"success": True, "completion": True},
        {"success": False, "completion": True},
    ]
    for statement in statements:
        assert statement["context"]["statement"] == {"objectType": "StatementRef", "id": decided_id}
        assert [a["id"] for a in statement["context"]["contextActivities"]["parent"]] == [BLOCK_IRI]
        assert statement["object"]["definition"]["type"] == f"{BASE}/activity-types/competency"


def test_a_correction_points_to_what_it_supersedes_and_voids_what_rested_on_it() -> None:
    statements = all_statements()
    correction = statements["block-passed"]
    assert correction["context"]["statement"] == {
        "objectType": "StatementRef",
        "id": statements["block-failed"]["id"],
    }
    failed = Decision("dec-8", False, Score(8, 0, 20), DECISION.competencies, (EVALUATOR,), 1)
    ids = superseded_statement_ids(VOCAB, LEARNER, PLACEMENT, failed, False, None)
    competency_ids = [
        s["id"]
        for s in build_competency_results(VOCAB, LEARNER, PLACEMENT, REGISTRATION, failed, AT)
    ]
    assert ids == [statements["block-failed"]["id"], *competency_ids]
    passed_before = replace(DECISION, decision_id="dec-5")
    with_chain = superseded_statement_ids(VOCAB, LEARNER, PLACEMENT, passed_before, True, CRCA)
    acquired = build_block_acquired(
        VOCAB, LEARNER, CRCA, BLOCK_1, PLACEMENT.course, REGISTRATION, "dec-5", (), AT
    )
    assert with_chain[-2] == acquired["id"] and len(with_chain) == 5
    voided = statements["voided"]
    assert voided["context"]["registration"] == str(REGISTRATION)
    assert voided["actor"]["account"]["name"] == CHAIR.name


def test_block_acquired_points_to_the_decision_and_to_current_equivalents() -> None:
    passed = build_block_decided(VOCAB, LEARNER, PLACEMENT, REGISTRATION, DECISION, AT)
    acquired = build_block_acquired(
        VOCAB, LEARNER, CRCA, BLOCK_1, PLACEMENT.course, REGISTRATION, "dec-9", DECISION.jury, AT
    )
    assert acquired["verb"]["id"] == f"{BASE}/verbs/achieved"
    assert acquired["verb"]["display"] == {"fr-FR": "a acquis", "en-US": "achieved"}
    assert acquired["object"]["id"] == BLOCK_IRI
    assert acquired["context"]["statement"] == {"objectType": "StatementRef", "id": passed["id"]}
    assert "other" not in acquired["context"]["contextActivities"]
    assert "result" not in acquired

    old = build_block_acquired(
        VOCAB,
        LEARNER,
        CRCA_2021,
        BC01,
        PLACEMENT.course,
        REGISTRATION,
        "dec-2",
        (),
        AT,
        counts_as=[BLOCK_1],
    )
    assert old["object"]["id"] == f"{BASE}/certifications/CRCA/blocks/BC01"
    assert [a["id"] for a in old["context"]["contextActivities"]["other"]] == [BLOCK_IRI]


def test_success_only_on_passed_and_failed() -> None:
    for kind, statement in all_statements().items():
        has_success = "success" in statement.get("result", {})
        assert has_success == (kind.endswith(("-passed", "-failed"))), kind


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


def test_the_iri_base_is_a_parameter() -> None:
    other = Vocabulary("https://xapi.branche-assurance.fr/lti")
    statement = build_launched(other, LEARNER, PLACEMENT, REGISTRATION, "l-1", AT)
    category = statement["context"]["contextActivities"]["category"][0]["id"]
    assert category == "https://xapi.branche-assurance.fr/lti/profile/2.0"
    assert statement["context"]["contextActivities"]["parent"][0]["id"] == (
        "https://xapi.branche-assurance.fr/lti/certifications/CRCA/blocks/B1"
    )
    for bad in ("lti.example.org/xapi", "https://lti.example.org/xapi/", "https://x.org/a?b=1"):
        with pytest.raises(ValueError, match="IRI base"):
            Vocabulary(bad)


def test_timestamps_are_utc_with_zone() -> None:
    pattern = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
    for statement in all_statements().values():
        assert pattern.match(statement["timestamp"]), statement["timestamp"]
    with pytest.raises(ValueError, match="timezone-aware"):
        format_timestamp(datetime(2025, 3, 14, 9, 30))
    with pytest.raises(ValueError, match="timezone-aware"):
        build_launched(VOCAB, LEARNER, PLACEMENT, REGISTRATION, "l", datetime(2025, 1, 1))


def test_no_name_or_email_anywhere() -> None:
    text = json.dumps(list(all_statements().values()))
    for forbidden in ('"mbox', '"mbox_sha1sum"', '"openid"', "mailto:", "@"):
        assert forbidden not in text, forbidden
    for statement in all_statements().values():
        team = statement["context"].get("team", {}).get("member", [])
        for agent in (statement["actor"], statement["context"].get("instructor", {}), *team):
            assert "name" not in agent


def test_voided_references_the_statement() -> None:
    target = all_statements()["block-failed"]["id"]
    voided = build_voided(VOCAB, EVALUATOR, target, REGISTRATION, AT)
    assert voided["verb"]["id"] == Verb.VOIDED
    assert voided["object"] == {"objectType": "StatementRef", "id": target}
    with pytest.raises(ValueError):
        build_voided(VOCAB, EVALUATOR, "not-a-uuid", None, AT)


def test_certification_without_rncp_code_omits_rncp_extensions() -> None:
    cert = replace(CRCA, rncp_code=None)
    block = BlockRef(code="B2A", rncp_block_code=None, title="Souscription")
    placement = replace(PLACEMENT, certification=cert, block=block)
    statement = build_launched(VOCAB, LEARNER, placement, REGISTRATION, "l-2", AT)
    assert statement["context"]["extensions"] == {
        ext("certification-code"): "CRCA",
        ext("referential-version"): "RNCP41351",
        ext("block-code"): "B2A",
    }


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Score(raw=21, min=0, max=20), "outside"),
        (lambda: Score(raw=1, min=5, max=5), "below max"),
        (lambda: Score(raw=float("nan"), min=0, max=1), "finite"),
        (lambda: Actor("moodle", "sub"), "absolute"),
        (lambda: Actor("https://m.example", " "), "empty"),
        (lambda: replace(CRCA, code="C R"), "code"),
        (lambda: CertificationRef("X", None, "t", "v 1"), "version"),
        (
            lambda: build_evaluated(
                VOCAB,
                LEARNER,
                PLACEMENT,
                REGISTRATION,
                replace(EVALUATION, verdicts={"c": "ok"}),
                AT,
            ),
            "criterion verdict",
        ),
        (
            lambda: build_evaluated(
                VOCAB,
                LEARNER,
                PLACEMENT,
                REGISTRATION,
                replace(EVALUATION, jury_role="Jury Role"),
                AT,
            ),
            "jury role",
        ),
        (lambda: Decision("d", True, Score(1, 0, 1), ()), "at least one competency"),
        (lambda: CompetencyResult("C1", "Accueillir", True, 3, 2), "met out of"),
        (lambda: replace(EVALUATION, attempt=0), "attempt"),
        (lambda: replace(DECISION, supersedes=DECISION.decision_id), "itself"),
        (
            lambda: build_evaluated(
                VOCAB,
                LEARNER,
                PLACEMENT,
                REGISTRATION,
                Evaluation("e", EVALUATOR, "trainer", {}, Score(1, 0, 20)),
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
        build_launched(VOCAB, LEARNER, PLACEMENT, str(REGISTRATION), "l", AT)  # type: ignore[arg-type]


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
