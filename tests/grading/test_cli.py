"""``ltiservice plugins list|show|validate`` through click's CliRunner."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click
from click.testing import CliRunner

from ltiservice.grading.cli import plugins_cli

FIXTURES = Path(__file__).parent / "fixtures"
DEMO_PACKAGE = FIXTURES / "ltiservice_fixture_plugins"


def _run(*args: str | Path) -> click.testing.Result:
    return CliRunner().invoke(plugins_cli, [str(arg) for arg in args])


def test_group_is_named_plugins_and_open_to_more_commands() -> None:
    assert plugins_cli.name == "plugins"
    assert {"list", "show", "validate"} <= set(plugins_cli.commands)


def test_list_shows_code_rncp_title_versions_and_blocks(installed: Callable[..., None]) -> None:
    installed("good")

    result = _run("list")

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "DEMO  RNCP99999  CQP Démonstration (référentiel de test)",
        "    versions : 2019, 2024 (courante)",
        "    blocs : B1, B2A, B2B, B3, B4, B5",
    ]


def test_list_with_no_plugin_says_so(installed: Callable[..., None]) -> None:
    installed()

    result = _run("list")

    assert (result.exit_code, result.output) == (0, "Aucun plugin de certification installé.\n")


def test_list_stops_on_a_broken_plugin(installed: Callable[..., None]) -> None:
    installed("good", "bad_schema")

    result = _run("list")

    assert result.exit_code == 1
    assert "plugin invalide : plugin 'bad_schema'" in result.stderr
    assert "blocks[0].competencies[1].criteria[0].wording" in result.stderr


def test_show_prints_the_referential_tree(installed: Callable[..., None]) -> None:
    installed("good")

    result = _run("show", "DEMO")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "DEMO — CQP Démonstration (référentiel de test)"
    for expected in [
        "  version : 2024 (remplace 2019)",
        "  B2A (option « option ») Option souscription",
        "    2 compétences, 3 critères",
        "    C3.1 : 1 critère(s) (critère déduit)",
        "    cas : demo-b1 — Accueil, 30 min",
        "  au moins 2 évaluateurs",
        "  rôle other_service : Évaluateur d'un autre service (obligatoire)",
        "  exclusion : other_service ne peut pas avoir trained_candidate",
        "  au moins 3 séances d'observation à des dates différentes",
        "  Acquérir les blocs obligatoires : B1.",
        "  Acquérir 1 bloc(s) parmi : B2A, B2B.",
        "  Acquérir 2 bloc(s) parmi : B3, B4, B5.",
        "  Réussir l'entretien final avec le jury.",
        "Note LMS : sur 20",
        "  2019 OLD2 → B2A, B3",
    ]:
        assert expected in lines


def test_show_an_older_version(installed: Callable[..., None]) -> None:
    installed("good")

    result = _run("show", "demo", "--version", "2019")

    assert result.exit_code == 0, result.output
    assert "  OLD1 Ancien bloc 1" in result.output.splitlines()


def test_show_unknown_code_or_version_fails(installed: Callable[..., None]) -> None:
    installed("good")

    unknown = _run("show", "NOPE")
    assert unknown.exit_code == 1
    assert "certification inconnue : NOPE (installées : DEMO)" in unknown.stderr

    bad_version = _run("show", "DEMO", "--version", "1999")
    assert bad_version.exit_code == 1
    assert "no referential version '1999'" in bad_version.stderr


def test_validate_a_good_file_prints_a_summary() -> None:
    result = _run("validate", DEMO_PACKAGE / "demo-2024.yaml")

    assert result.exit_code == 0, result.output
    assert result.output == (
        "OK DEMO version 2024 : 6 blocs, 7 compétences, 8 critères, 6 cas pratiques\n"
    )


def test_validate_an_uninstalled_plugin_directory() -> None:
    result = _run("validate", FIXTURES / "uninstalled_plugin")

    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK UNINSTALLED version 1 : 1 blocs")


def test_validate_a_broken_file_exits_non_zero_with_the_field() -> None:
    result = _run("validate", DEMO_PACKAGE / "bad-schema.yaml")

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "Plugin 'bad-schema' invalide",
        f"  fichier : {DEMO_PACKAGE / 'bad-schema.yaml'}",
        "  - blocks[0].competencies[1].criteria[0].wording: Missing data for required field.",
    ]


def test_validate_a_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    result = _run("validate", tmp_path / "absent")

    assert result.exit_code == 2
    assert "does not exist" in result.stderr
