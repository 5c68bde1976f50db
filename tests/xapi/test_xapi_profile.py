"""The published profile: well formed, in sync with the constants, and obeyed by the builders."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tests.xapi.samples import all_statements
from xapi.profile import ProfileError, check_statement, evaluate_path, find_template, load_profile
from xapi.vocabulary import PROFILE, PROFILE_BASE, PROFILE_VERSION, Extension, Verb, all_iris


def _iris_in(document: Any) -> set[str]:
    """Every http(s) string of the document, at any depth (rule locations' IRIs included)."""
    found: set[str] = set()
    if isinstance(document, dict):
        for value in document.values():
            found |= _iris_in(value)
    elif isinstance(document, list):
        for value in document:
            found |= _iris_in(value)
    elif isinstance(document, str):
        if document.startswith(("http://", "https://")):
            found.add(document)
        elif "['http" in document:  # a JSONPath naming an extension
            found.add(document.split("['", 1)[1].split("']", 1)[0])
    return found


def test_profile_header() -> None:
    profile = load_profile()
    assert profile["@context"] == "https://w3id.org/xapi/profiles/context"
    assert profile["id"] == PROFILE
    assert profile["type"] == "Profile"
    assert profile["conformsTo"] == "https://w3id.org/xapi/profiles#1.0"
    assert set(profile["prefLabel"]) == set(profile["definition"]) == {"en", "fr"}
    assert [v["id"] for v in profile["versions"]] == [PROFILE_VERSION]
    assert profile["author"]["type"] in {"Organization", "Person"}


def test_concepts_and_templates_are_well_formed() -> None:
    profile = load_profile()
    ids = [c["id"] for c in profile["concepts"]] + [t["id"] for t in profile["templates"]]
    assert len(ids) == len(set(ids))
    for item in profile["concepts"] + profile["templates"]:
        assert item["inScheme"] == PROFILE_VERSION, item["id"]
        assert set(item["prefLabel"]) == set(item["definition"]) == {"en", "fr"}, item["id"]
        # Only IRIs we control are defined here; borrowed ones are only referenced.
        assert item["id"].startswith(PROFILE_BASE), item["id"]
    for concept in profile["concepts"]:
        if concept["type"].endswith("Extension"):
            assert isinstance(json.loads(concept["inlineSchema"]), dict)


def test_every_constant_is_in_the_profile_and_back() -> None:
    constants = set(all_iris().values())
    in_profile = _iris_in(load_profile())
    template_ids = {t["id"] for t in load_profile()["templates"]}
    other_profile_iris = {
        "https://w3id.org/xapi/profiles/context",
        "https://w3id.org/xapi/profiles#1.0",
    }

    assert constants - in_profile == set()
    assert in_profile - constants - template_ids - other_profile_iris == set()


def test_every_verb_has_a_template() -> None:
    verbs = {t["verb"] for t in load_profile()["templates"]}
    assert verbs == {v for k, v in vars(Verb).items() if k.isupper()}


@pytest.mark.parametrize("kind", list(all_statements()))
def test_every_builder_conforms_to_its_template(kind: str) -> None:
    statement = all_statements()[kind]
    template = find_template(statement)
    assert template is not None
    assert template["id"].endswith(f"/templates/{kind}/1")
    assert check_statement(statement) == []


def _broken(kind: str) -> dict[str, Any]:
    return copy.deepcopy(all_statements()[kind])


def test_violations_are_reported() -> None:
    with_email = _broken("launched")
    with_email["actor"]["mbox"] = "mailto:learner@example.org"
    assert check_statement(with_email) == [
        "https://ltiservice.fr/xapi/profile/templates/launched/1: $.actor.mbox must be absent"
    ]

    success_on_score = _broken("evaluated")
    success_on_score["result"]["success"] = True
    assert any("$.result.success must be absent" in p for p in check_statement(success_on_score))

    passed_without_success = _broken("passed")
    passed_without_success["result"]["success"] = False
    assert any(
        "values must all be among [True]" in p for p in check_statement(passed_without_success)
    )

    missing_version = _broken("submitted")
    del missing_version["context"]["extensions"][Extension.REFERENTIAL_VERSION]
    problems = check_statement(missing_version)
    assert len(problems) == 1 and "referential-version" in problems[0] and "present" in problems[0]

    no_parent = _broken("launched")
    del no_parent["context"]["contextActivities"]["parent"]
    assert any("parent needs an activity of type" in p for p in check_statement(no_parent))

    wrong_category = _broken("earned")
    wrong_category["context"]["contextActivities"]["category"][0]["id"] = PROFILE + "/0.9"
    assert any("category[*].id must include" in p for p in check_statement(wrong_category))


def test_extension_values_are_checked_against_their_schema() -> None:
    statement = _broken("evaluated")
    statement["result"]["extensions"][Extension.RESULT_CRITERION_VERDICTS]["C9"] = "maybe"
    statement["context"]["extensions"][Extension.RNCP_CODE] = "36140"
    statement["context"]["extensions"][PROFILE_BASE + "/extensions/unknown"] = 1
    problems = check_statement(statement)
    assert len(problems) == 3
    assert any("'maybe' is not one of" in p for p in problems)
    assert any("'36140' does not match" in p for p in problems)
    assert any("unknown is not in the profile" in p for p in problems)


def test_unknown_verb_or_object_type_matches_no_template() -> None:
    statement = _broken("launched")
    statement["object"]["definition"]["type"] = "http://adlnet.gov/expapi/activities/lesson"
    assert check_statement(statement)[0].startswith("no template of")


def test_jsonpath_subset() -> None:
    document = {"a": {"b.c": [1, {"d": 2}], "e": [{"d": 3}, {"d": 4}]}}
    assert evaluate_path("$.a['b.c'][0]", document) == [1]
    assert evaluate_path("$.a.e[*].d", document) == [3, 4]
    assert evaluate_path("$.a.missing.d", document) == []
    with pytest.raises(ProfileError):
        evaluate_path("$..d", document)
    with pytest.raises(ProfileError):
        evaluate_path("a.b", document)
