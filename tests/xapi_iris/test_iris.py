"""Every IRI the statements carry dereferences on the running service (real HTTP on 127.0.0.1)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask
from lxml import html

from tests.conftest import LiveApp
from tests.peers.ralph import RalphLRS
from tests.peers.xapi_validator import XapiValidator
from tests.xapi_delivery.conftest import queued_statements
from tests.xapi_delivery.factories import add_lrs, full_history, make_world
from xapi.profile_document import build_profile
from xapi.vocabulary import LEGACY_BASE, Vocabulary

JSON_LD = "application/ld+json"


def _activities(statement: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    if statement["object"].get("objectType") == "Activity":
        found.append(statement["object"])
    for values in statement["context"].get("contextActivities", {}).values():
        found.extend(values)
    return found


def _history(live: LiveApp, ralph: RalphLRS) -> list[dict[str, Any]]:
    world = make_world(live.app, score_maximum=20)
    add_lrs(live.app, world, ralph)
    full_history(live.app, world)
    return [m.payload for m in queued_statements(live.app)]


@pytest.mark.peer
def test_every_minted_activity_iri_answers_its_activity_definition(
    live_app: LiveApp, ralph_lrs: RalphLRS, xapi_validator: XapiValidator
) -> None:
    statements = _history(live_app, ralph_lrs)
    base = live_app.app.config["SETTINGS"].xapi_base
    assert base == f"{live_app.url}/xapi"
    activities = {a["id"]: a for s in statements for a in _activities(s)}
    ours = {iri: a for iri, a in activities.items() if iri.startswith(base + "/")}
    # Assessments, course, case, certification, blocks, competencies, and the profile version.
    assert len(ours) == len(activities) > 10

    served = {}
    for iri, activity in ours.items():
        response = requests.get(iri, timeout=10)
        assert response.status_code == 200, iri
        if activity["definition"]["type"] == "http://adlnet.gov/expapi/activities/profile":
            assert response.headers["Content-Type"].startswith(JSON_LD)
            continue
        assert response.headers["Content-Type"].startswith("application/json"), iri
        definition = response.json()
        assert definition["type"] == activity["definition"]["type"], iri
        if "name" in activity["definition"]:
            assert definition["name"] == activity["definition"]["name"], iri
        served[iri] = definition
    # The served definitions are valid xAPI Activity Definitions (Learning Locker's validator).
    probes = [
        {
            "actor": {"objectType": "Agent", "account": {"homePage": live_app.url, "name": "x"}},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
            "object": {"objectType": "Activity", "id": iri, "definition": definition},
        }
        for iri, definition in served.items()
    ]
    assert [w for w in xapi_validator.validate(probes) if w] == []


def test_profile_and_concepts_dereference_with_content_negotiation(live_app: LiveApp) -> None:
    vocab = Vocabulary(live_app.app.config["SETTINGS"].xapi_base)
    as_json = requests.get(vocab.profile, headers={"Accept": JSON_LD}, timeout=10)
    assert as_json.status_code == 200
    assert as_json.headers["Content-Type"].startswith(JSON_LD)
    assert as_json.headers["Vary"] == "Accept"
    assert as_json.json() == build_profile(vocab)
    plain = requests.get(vocab.profile_version, headers={"Accept": "application/json"}, timeout=10)
    assert plain.headers["Content-Type"].startswith("application/json")
    assert plain.json()["id"] == vocab.profile

    browser = requests.get(
        vocab.profile,
        headers={"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
        timeout=10,
    )
    assert browser.headers["Content-Type"].startswith("text/html")
    page = html.fromstring(browser.text)
    assert page.xpath("string(//h1)") == "ltiservice : évaluation des blocs de certification"
    assert vocab.achieved in browser.text

    achieved = requests.get(vocab.achieved, timeout=10).json()
    assert achieved["type"] == "Verb" and achieved["id"] == vocab.achieved
    attempt = requests.get(vocab.extension("attempt"), timeout=10).json()
    assert attempt["type"] == "ContextExtension" and '"minimum": 1' in attempt["inlineSchema"]
    template = requests.get(vocab.template("acquired"), timeout=10).json()
    assert template["verb"] == vocab.achieved
    for missing in (vocab.profile + "/1.0", vocab.verb("guessed"), vocab.block("CRCA", "B9")):
        assert requests.get(missing, timeout=10).status_code == 404, missing


def test_block_definitions_relate_the_per_version_iris_and_the_equivalences(
    live_app: LiveApp,
) -> None:
    vocab = Vocabulary(live_app.app.config["SETTINGS"].xapi_base)
    current = requests.get(vocab.block("CRCA", "B1"), timeout=10).json()
    assert current["extensions"] == {
        vocab.extension("version-iris"): [f"{LEGACY_BASE}/certifications/CRCA/RNCP41351/blocks/B1"]
    }
    older = requests.get(vocab.block("CRCA", "BC02"), timeout=10).json()
    assert older["description"]["fr-FR"].startswith("Bloc de compétences BC02 (RNCP36140BC02)")
    assert older["extensions"] == {
        vocab.extension("version-iris"): [
            f"{LEGACY_BASE}/certifications/CRCA/RNCP36140/blocks/BC02"
        ],
        # No official RNCP36140 -> RNCP41351 correspondence: BC02 counts as no current block.
        vocab.extension("counts-as"): [],
    }
    certification = requests.get(vocab.certification("CRCA"), timeout=10).json()
    assert certification["moreInfo"] == "https://www.francecompetences.fr/recherche/rncp/41351/"
    assert certification["extensions"][vocab.extension("version-iris")] == [
        "https://www.francecompetences.fr/recherche/rncp/41351/",
        "https://www.francecompetences.fr/recherche/rncp/36140/",
    ]


def test_the_iri_base_is_a_setting_on_another_host(database_url: str, tmp_path: Any) -> None:
    from tests.conftest import make_app

    app: Flask = make_app(
        database_url,
        tmp_path / "instance",
        xapi_iri_base="https://xapi.branche-assurance.example/lti",
    )
    try:
        client = app.test_client()
        vocab = Vocabulary("https://xapi.branche-assurance.example/lti")
        path = urlsplit(vocab.block("CRCA", "B1")).path
        assert path == "/lti/certifications/CRCA/blocks/B1"
        assert client.get(path).json["type"] == vocab.activity_type("block")  # type: ignore[index]
        profile = client.get("/lti/profile", headers={"Accept": JSON_LD}).json
        assert profile["id"] == vocab.profile  # type: ignore[index]
        assert client.get("/xapi/profile").status_code == 404
    finally:
        app.extensions["db_engine"].dispose()
