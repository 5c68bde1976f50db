"""The published profile: well formed, in sync with the constants, and obeyed by the builders."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from pyld import jsonld

from tests.xapi.samples import VOCAB, all_statements
from xapi.profile import ProfileError, check_statement, evaluate_path, find_template, load_profile
from xapi.vocabulary import ActivityType, Extension, Verb

BASE = VOCAB.base
CONTEXT_FILE = Path(__file__).with_name("data") / "xapi-profiles-context.jsonld"
PROFILES_CONTEXT = "https://w3id.org/xapi/profiles/context"


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


def test_profile_header_has_the_required_properties() -> None:
    profile = load_profile(BASE)
    assert profile["@context"] == PROFILES_CONTEXT
    assert profile["id"] == f"{BASE}/profile"
    assert profile["type"] == "Profile"
    assert profile["conformsTo"] == "https://w3id.org/xapi/profiles#1.0"
    assert set(profile["prefLabel"]) == set(profile["definition"]) == {"en", "fr"}
    assert [v["id"] for v in profile["versions"]] == [f"{BASE}/profile/2.0"]
    assert all("generatedAtTime" in v for v in profile["versions"])
    assert profile["author"]["type"] in {"Organization", "Person"}
    assert profile["author"]["name"]


def test_concepts_and_templates_are_well_formed() -> None:
    profile = load_profile(BASE)
    ids = [c["id"] for c in profile["concepts"]] + [t["id"] for t in profile["templates"]]
    assert len(ids) == len(set(ids))
    for item in profile["concepts"] + profile["templates"]:
        assert item["inScheme"] == VOCAB.profile_version, item["id"]
        assert set(item["prefLabel"]) == set(item["definition"]) == {"en", "fr"}, item["id"]
        # Only IRIs under our base are defined here; borrowed ones are only referenced.
        assert item["id"].startswith(BASE + "/"), item["id"]
    for concept in profile["concepts"]:
        assert concept["type"] in {
            "Verb",
            "ActivityType",
            "ContextExtension",
            "ResultExtension",
            "ActivityExtension",
        }
        if concept["type"].endswith("Extension"):
            assert isinstance(json.loads(concept["inlineSchema"]), dict)
    for template in profile["templates"]:
        assert template["type"] == "StatementTemplate" and template["verb"], template["id"]


def test_every_iri_of_ours_is_defined_and_nothing_else_is_invented() -> None:
    ours = set(VOCAB.ours().values())
    profile = load_profile(BASE)
    defined = {c["id"] for c in profile["concepts"]} | {profile["id"]}
    versions = {v["id"] for v in profile["versions"]}
    assert ours - defined - versions == set()
    in_profile = {i for i in _iris_in(profile) if i.startswith(BASE + "/")}
    templates = {t["id"] for t in profile["templates"]}
    assert in_profile - ours - templates == set()


def test_the_achieved_verb_is_ours_and_defined() -> None:
    concepts = {c["id"]: c for c in load_profile(BASE)["concepts"]}
    assert concepts[f"{BASE}/verbs/achieved"]["type"] == "Verb"
    assert "https://w3id.org/xapi/tla/verbs/achieved" not in json.dumps(load_profile(BASE))


def test_every_verb_has_a_template() -> None:
    verbs = {t["verb"] for t in load_profile(BASE)["templates"]}
    assert verbs == {v for k, v in vars(Verb).items() if k.isupper()} | {VOCAB.achieved}


def _offline_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    if url != PROFILES_CONTEXT:
        raise AssertionError(f"the round trip must not fetch {url}")
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        "document": json.loads(CONTEXT_FILE.read_text(encoding="utf-8")),
    }


def test_profile_survives_a_json_ld_round_trip() -> None:
    profile = load_profile(BASE)
    options = {"documentLoader": _offline_loader}
    expanded = jsonld.expand(profile, options)
    compacted = jsonld.compact(expanded, PROFILES_CONTEXT, options)
    assert compacted["id"] == profile["id"]
    assert compacted["type"] == "Profile"
    expanded_again = jsonld.expand(compacted, options)
    nquads = jsonld.normalize(
        expanded, {**options, "algorithm": "URDNA2015", "format": "application/n-quads"}
    )
    assert (
        f"<{BASE}/verbs/achieved> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://w3id.org/xapi/ontology#Verb>"
        in nquads
    )
    assert jsonld.normalize(expanded, {**options, "algorithm": "URDNA2015"}) == jsonld.normalize(
        expanded_again, {**options, "algorithm": "URDNA2015"}
    )
    # Every concept and template survived as a node with its type.
    graph = jsonld.flatten(expanded, None, options)
    typed = {node["@id"] for node in graph if "@type" in node}
    for item in profile["concepts"] + profile["templates"]:
        assert item["id"] in typed, item["id"]


@pytest.mark.parametrize("kind", list(all_statements()))
def test_every_builder_conforms_to_its_template(kind: str) -> None:
    statement = all_statements()[kind]
    template = find_template(statement)
    assert template is not None
    assert template["id"] == f"{BASE}/profile/templates/{kind}/2"
    assert check_statement(statement) == []


def _broken(kind: str) -> dict[str, Any]:
    return copy.deepcopy(all_statements()[kind])


def test_violations_are_reported() -> None:
    with_email = _broken("launched")
    with_email["actor"]["mbox"] = "mailto:learner@example.org"
    assert check_statement(with_email) == [
        f"{BASE}/profile/templates/launched/2: $.actor.mbox must be absent"
    ]

    success_on_score = _broken("evaluated")
    success_on_score["result"]["success"] = True
    assert any("$.result.success must be absent" in p for p in check_statement(success_on_score))

    passed_without_success = _broken("block-passed")
    passed_without_success["result"]["success"] = False
    assert any(
        "values must all be among [True]" in p for p in check_statement(passed_without_success)
    )

    missing_version = _broken("submitted")
    del missing_version["context"]["extensions"][VOCAB.extension(Extension.REFERENTIAL_VERSION)]
    problems = check_statement(missing_version)
    assert len(problems) == 1 and "referential-version" in problems[0] and "present" in problems[0]

    no_parent = _broken("launched")
    del no_parent["context"]["contextActivities"]["parent"]
    assert any("parent needs an activity of type" in p for p in check_statement(no_parent))

    wrong_category = _broken("earned")
    wrong_category["context"]["contextActivities"]["category"][0]["id"] = VOCAB.profile + "/1.0"
    assert check_statement(wrong_category) == ["no profile version .../profile/2.0 in the category"]

    named_jury = _broken("acquired")
    named_jury["context"]["team"]["member"][0]["name"] = "Jeanne Dupont"
    assert any("team.member[*].name must be absent" in p for p in check_statement(named_jury))

    no_attempt = _broken("submitted")
    del no_attempt["context"]["extensions"][VOCAB.extension(Extension.ATTEMPT)]
    assert any("attempt" in p and "present" in p for p in check_statement(no_attempt))

    english = _broken("competency-passed")
    english["context"]["language"] = "en-US"
    assert any("language values must all be among" in p for p in check_statement(english))

    no_basis = _broken("competency-failed")
    del no_basis["context"]["statement"]
    assert any("statement.objectType must be present" in p for p in check_statement(no_basis))


def test_extension_values_are_checked_against_their_schema() -> None:
    statement = _broken("evaluated")
    statement["result"]["extensions"][VOCAB.extension(Extension.CRITERION_VERDICTS)]["C9"] = "maybe"
    statement["context"]["extensions"][VOCAB.extension(Extension.RNCP_CODE)] = "36140"
    statement["context"]["extensions"][BASE + "/extensions/unknown"] = 1
    statement["context"]["extensions"][VOCAB.extension(Extension.ATTEMPT)] = 0
    problems = check_statement(statement)
    assert len(problems) == 4
    assert any("below the minimum 1" in p for p in problems)
    assert any("'maybe' is not one of" in p for p in problems)
    assert any("'36140' does not match" in p for p in problems)
    assert any("unknown is not in the profile" in p for p in problems)


def test_unknown_verb_or_object_type_matches_no_template() -> None:
    statement = _broken("launched")
    statement["object"]["definition"]["type"] = ActivityType.COURSE
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
