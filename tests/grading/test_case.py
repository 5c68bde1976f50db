"""The installed referentials as CASE v1.1: valid by 1EdTech's own JSON Schema, served over the
REST binding on a running service, and the same JSON from ``ltiservice plugins export-case``."""

from __future__ import annotations

import copy
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner
from jsonschema import Draft201909Validator, FormatChecker

from ltiservice.grading.case import build_case_package, load_case_packages
from ltiservice.grading.cli import plugins_cli
from ltiservice.grading.loader import load_plugins
from tests.conftest import LiveApp

SCHEMA = json.loads(
    (Path(__file__).parent / "data" / "case" / "case_v1p1_cfpackage-jsonschema1.json").read_text(
        encoding="utf-8"
    )
)
BASE_URL = "https://lti.of-exemple.fr"
CHANGED = datetime(2026, 1, 15, 8, 0, tzinfo=UTC)


def _validator(definition: str | None = None) -> Draft201909Validator:
    """The package schema, or one of its ``$defs`` on its own."""
    schema = SCHEMA
    if definition is not None:
        schema = {
            "$schema": SCHEMA["$schema"],
            "$id": SCHEMA["$id"],
            "$defs": SCHEMA["$defs"],
            "$ref": f"#/$defs/{definition}",
        }
    return Draft201909Validator(schema, format_checker=FormatChecker())


def _errors(document: Any, definition: str | None = None) -> list[str]:
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in _validator(definition).iter_errors(document)
    ]


def _packages() -> dict[str, Any]:
    return load_case_packages(load_plugins(), BASE_URL)


def test_the_schema_is_1edtech_s_and_can_fail() -> None:
    assert SCHEMA["$id"].startswith("https://purl.imsglobal.org/spec/case/v1p1/schema/json/")
    package = next(iter(_packages().values())).package
    broken = copy.deepcopy(package)
    del broken["CFItems"][0]["fullStatement"]
    broken["CFAssociations"][0]["associationType"] = "isCousinOf"
    broken["CFDocument"]["identifier"] = "not-a-uuid"
    broken["CFItems"][1]["lastChangeDateTime"] = "2026-13-45T25:00:00Z"
    problems = _errors(broken)
    assert any(p.startswith("CFItems/1/lastChangeDateTime") for p in problems)
    assert any("fullStatement" in p for p in problems)
    assert any(p.startswith("CFAssociations/0/associationType") for p in problems)
    assert any(p.startswith("CFDocument/identifier") for p in problems)


def test_every_shipped_referential_is_a_valid_case_package() -> None:
    packages = _packages()
    versions = {p.package["CFDocument"]["version"] for p in packages.values()}
    assert versions == {"RNCP36140", "RNCP41351", "RNCP31395", "RNCP39866"}
    for package in packages.values():
        assert _errors(package.package) == [], package.package["CFDocument"]["version"]


def test_items_codes_wording_and_hierarchy_follow_the_referential() -> None:
    plugin = load_plugins()["CRCA"]
    former = plugin.referential("RNCP36140")
    package = build_case_package(former, BASE_URL, CHANGED, current=False).package
    document = package["CFDocument"]
    assert document["adoptionStatus"] == "Deprecated"
    assert document["officialSourceURL"] == "https://www.francecompetences.fr/recherche/rncp/36140/"
    items = {item["identifier"]: item for item in package["CFItems"]}
    by_code = {item["humanCodingScheme"]: item for item in items.values()}
    block = by_code["RNCP36140BC01"]
    assert block["CFItemType"] == "Bloc de compétences"
    assert block["fullStatement"] == former.block("BC01").title
    competency = former.block("BC01").competencies[0]
    assert by_code[competency.code]["fullStatement"] == competency.wording
    criterion = competency.criteria[0]
    assert by_code[criterion.id]["CFItemType"] == "Critère d'évaluation"

    parents = {a["originNodeURI"]["identifier"]: a for a in package["CFAssociations"]}
    assert Counter(a["associationType"] for a in package["CFAssociations"]) == {
        "isChildOf": len(items)
    }
    assert set(parents) == set(items)  # every item has exactly one parent
    assert (
        parents[block["identifier"]]["destinationNodeURI"]["identifier"] == document["identifier"]
    )
    assert (
        parents[by_code[competency.code]["identifier"]]["destinationNodeURI"]["identifier"]
        == (block["identifier"])
    )
    assert (
        parents[by_code[criterion.id]["identifier"]]["destinationNodeURI"]["identifier"]
        == (by_code[competency.code]["identifier"])
    )
    # No RNCP36140 -> RNCP41351 equivalence is shipped (none is official): no cross-version
    # association is published.
    assert {a["associationType"] for a in package["CFAssociations"]} == {"isChildOf"}


def test_identifiers_do_not_depend_on_the_host() -> None:
    plugin = load_plugins()["CRCA"]
    one = build_case_package(plugin.current, BASE_URL, CHANGED, True).package
    other = build_case_package(plugin.current, "http://127.0.0.1:5000", CHANGED, True).package
    assert [i["identifier"] for i in one["CFItems"]] == [i["identifier"] for i in other["CFItems"]]
    assert one["CFDocument"]["uri"].startswith(f"{BASE_URL}/ims/case/v1p1/CFDocuments/")


def test_the_rest_binding_serves_documents_packages_items_and_associations(
    live_app: LiveApp,
) -> None:
    root = f"{live_app.url}/ims/case/v1p1"
    documents = requests.get(f"{root}/CFDocuments", timeout=10).json()["CFDocuments"]
    assert len(documents) == 4
    crca = next(d for d in documents if d["version"] == "RNCP41351")
    assert requests.get(crca["uri"], timeout=10).json() == crca
    package = requests.get(f"{root}/CFPackages/{crca['identifier']}", timeout=10).json()
    assert _errors(package) == []
    assert package["CFDocument"] == crca

    item = package["CFItems"][0]
    served = requests.get(item["uri"], timeout=10).json()
    link = {"title": crca["title"], "identifier": crca["identifier"], "uri": crca["uri"]}
    assert served == {**item, "CFDocumentURI": link}
    assert _errors(served["CFDocumentURI"], "LinkURI") == []
    association = package["CFAssociations"][-1]
    assert requests.get(association["uri"], timeout=10).json() == {
        **association,
        "CFDocumentURI": link,
    }
    unknown = requests.get(f"{root}/CFItems/00000000-0000-4000-8000-000000000000", timeout=10)
    assert unknown.status_code == 404
    assert unknown.json()["imsx_codeMajor"] == "failure"

    # The CLI writes the same package (same base URL).
    result = CliRunner().invoke(plugins_cli, ["export-case", "CRCA", "--base-url", live_app.url])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == package


def test_export_case_writes_a_file_and_refuses_unknown_codes(tmp_path: Path) -> None:
    target = tmp_path / "crca-2021.json"
    done = CliRunner().invoke(
        plugins_cli,
        [
            "export-case",
            "crca",
            "--version",
            "RNCP36140",
            "--base-url",
            BASE_URL,
            "-o",
            str(target),
        ],
    )
    assert done.exit_code == 0, done.output
    written = json.loads(target.read_text(encoding="utf-8"))
    assert written["CFDocument"]["version"] == "RNCP36140"
    assert _errors(written) == []
    unknown = CliRunner().invoke(plugins_cli, ["export-case", "NOPE", "--base-url", BASE_URL])
    assert unknown.exit_code != 0 and "certification inconnue : NOPE" in unknown.output
    bad_version = CliRunner().invoke(
        plugins_cli, ["export-case", "CRCA", "--version", "1999", "--base-url", BASE_URL]
    )
    assert bad_version.exit_code != 0 and "1999" in bad_version.output


@pytest.mark.parametrize("definition", ["CFPckgItem", "CFPckgAssociation", "CFPckgDocument"])
def test_single_definitions_of_the_schema_are_usable(definition: str) -> None:
    # The $defs used alone refuse an empty object (their required members are checked).
    assert _errors({}, definition)
