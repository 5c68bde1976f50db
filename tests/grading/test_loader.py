"""Plugin discovery: good plugins load; every way of being broken names plugin, file and field."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from ltiservice.grading.interface import CertificationPlugin, PluginError
from ltiservice.grading.loader import load_plugins, reset_plugins, validate_plugin_path

EntryPoints = Callable[..., list[EntryPoint]]

FIXTURES = Path(__file__).parent / "fixtures"
DEMO_PACKAGE = FIXTURES / "ltiservice_fixture_plugins"
DEMO_2024 = DEMO_PACKAGE / "demo-2024.yaml"


def test_good_plugin_loads_under_its_certification_code(fixture_plugins: EntryPoints) -> None:
    plugins = load_plugins(fixture_plugins("good"))

    assert list(plugins) == ["DEMO"]
    plugin = plugins["DEMO"]
    assert isinstance(plugin, CertificationPlugin)
    assert plugin.name == "good"
    assert plugin.code == "DEMO"
    assert list(plugin.referentials) == ["2019", "2024"]
    assert plugin.current.version == "2024"
    assert plugin.referential("2019").certification.rncp_code == "RNCP11111"


def _load_error(eps: list[EntryPoint]) -> PluginError:
    with pytest.raises(PluginError) as caught:
        load_plugins(eps)
    return caught.value


def test_plugin_that_fails_to_import(fixture_plugins: EntryPoints) -> None:
    eps = [EntryPoint("broken", "ltiservice_fixture_plugins.broken:plugin", "ltiservice.plugins")]
    error = _load_error(eps)

    assert (error.plugin, error.file) == ("broken", "ltiservice_fixture_plugins.broken:plugin")
    assert error.problems == (
        "cannot import: RuntimeError: dépendance absente : ltiservice_cqp_inexistant",
    )


def test_entry_point_that_is_not_a_plugin(fixture_plugins: EntryPoints) -> None:
    error = _load_error(fixture_plugins("not_a_plugin"))

    assert error.plugin == "not_a_plugin"
    assert error.problems == ("entry point is a dict, not a CertificationPlugin instance",)


def test_missing_referential_file(fixture_plugins: EntryPoints) -> None:
    error = _load_error(fixture_plugins("missing_file"))

    assert (error.plugin, error.file) == ("missing_file", "ltiservice_fixture_plugins/absent.yaml")
    assert error.problems[0].startswith("cannot read file:")


def test_invalid_yaml(fixture_plugins: EntryPoints) -> None:
    error = _load_error(fixture_plugins("bad_yaml"))

    assert error.file == "ltiservice_fixture_plugins/bad-yaml.yaml"
    assert error.problems[0].startswith("(document): Invalid YAML:")
    assert "line " in error.problems[0]


def test_schema_error_names_plugin_file_and_field(fixture_plugins: EntryPoints) -> None:
    error = _load_error(fixture_plugins("bad_schema"))

    assert error.problems == (
        "blocks[0].competencies[1].criteria[0].wording: Missing data for required field.",
    )
    assert str(error) == (
        "plugin 'bad_schema', file ltiservice_fixture_plugins/bad-schema.yaml: "
        "blocks[0].competencies[1].criteria[0].wording: Missing data for required field."
    )


def test_supersedes_an_unknown_version(fixture_plugins: EntryPoints) -> None:
    error = _load_error(fixture_plugins("bad_supersedes"))

    assert error.file == "ltiservice_fixture_plugins/bad-supersedes.yaml"
    assert error.problems == ("certification.supersedes: unknown version '1999' (2019, 2024)",)


def test_two_plugins_with_the_same_code(fixture_plugins: EntryPoints) -> None:
    error = _load_error(fixture_plugins("good", "duplicate"))

    # entry points load in name order: the second one to claim the code is named
    assert error.plugin == "good"
    assert error.problems == (
        "certification.code: 'DEMO' is already the code of plugin 'duplicate'",
    )


def test_installed_plugins_are_read_once_until_reset(installed: Callable[..., None]) -> None:
    installed("good")

    first = load_plugins()
    second = load_plugins()

    assert first == second and list(first) == ["DEMO"]
    assert installed.calls == ["ltiservice.plugins"]  # type: ignore[attr-defined]
    reset_plugins()
    load_plugins()
    assert installed.calls == ["ltiservice.plugins", "ltiservice.plugins"]  # type: ignore[attr-defined]


def test_a_broken_installed_plugin_stops_loading(installed: Callable[..., None]) -> None:
    installed("good", "bad_schema")

    with pytest.raises(PluginError, match=r"bad-schema\.yaml"):
        load_plugins()


def test_translate_blocks_through_equivalences(fixture_plugins: EntryPoints) -> None:
    plugin = load_plugins(fixture_plugins("good"))["DEMO"]

    assert plugin.translate_blocks("2019", {"OLD1"}) == frozenset({"B1"})
    assert plugin.translate_blocks("2019", ["OLD1", "OLD2"]) == frozenset({"B1", "B2A", "B3"})
    assert plugin.translate_blocks("2024", {"B1", "B4"}) == frozenset({"B1", "B4"})
    with pytest.raises(KeyError, match="1999"):
        plugin.translate_blocks("1999", {"OLD1"})


def test_translate_blocks_across_two_renewals(fixture_plugins: EntryPoints) -> None:
    import dataclasses

    from ltiservice.grading.referential import Equivalence

    base = load_plugins(fixture_plugins("good"))["DEMO"]
    v2019, v2024 = base.referential("2019"), base.referential("2024")
    certification = dataclasses.replace(v2024.certification, version="2030", supersedes="2024")
    v2030 = dataclasses.replace(
        v2024,
        certification=certification,
        equivalences=(Equivalence("2024", "B1", ("B1",)), Equivalence("2024", "B3", ("B3",))),
    )
    plugin = CertificationPlugin.from_referentials(
        "demo", [("a.yaml", v2019), ("b.yaml", v2024), ("c.yaml", v2030)]
    )

    assert plugin.current.version == "2030"
    # 2019 -> 2024 gives B1, B2A, B3; 2024 -> 2030 keeps B1 and B3 only
    assert plugin.translate_blocks("2019", {"OLD1", "OLD2"}) == frozenset({"B1", "B3"})


def test_two_current_versions_are_refused(fixture_plugins: EntryPoints) -> None:
    import dataclasses

    base = load_plugins(fixture_plugins("good"))["DEMO"]
    v2024 = base.referential("2024")
    twin = dataclasses.replace(
        v2024, certification=dataclasses.replace(v2024.certification, version="2025")
    )

    with pytest.raises(PluginError, match="exactly one version must be current"):
        CertificationPlugin.from_referentials(
            "demo", [("a.yaml", base.referential("2019")), ("b.yaml", v2024), ("c.yaml", twin)]
        )


def test_equivalence_from_a_block_the_old_version_lacks(fixture_plugins: EntryPoints) -> None:
    import dataclasses

    from ltiservice.grading.referential import Equivalence

    base = load_plugins(fixture_plugins("good"))["DEMO"]
    v2024 = dataclasses.replace(
        base.referential("2024"), equivalences=(Equivalence("2019", "OLD9", ("B1",)),)
    )

    with pytest.raises(PluginError) as caught:
        CertificationPlugin.from_referentials(
            "demo", [("a.yaml", base.referential("2019")), ("b.yaml", v2024)]
        )
    assert caught.value.file == "demo/b.yaml"
    assert caught.value.problems == (
        "equivalences[0].from_block: no block 'OLD9' in version '2019'",
    )


def test_plugin_referential_files_are_read_lazily() -> None:
    # Building the object (what a plugin module does at import) reads nothing.
    plugin = CertificationPlugin("ltiservice_no_such_package", ["x.yaml"])

    assert plugin.files == ("x.yaml",)
    with pytest.raises(PluginError, match=r"ltiservice_no_such_package/x\.yaml"):
        _ = plugin.current


def test_validate_a_single_referential_file() -> None:
    (referential,) = validate_plugin_path(DEMO_2024)
    assert (referential.certification.code, referential.version) == ("DEMO", "2024")


def test_validate_a_broken_file_names_the_field() -> None:
    with pytest.raises(PluginError) as caught:
        validate_plugin_path(DEMO_PACKAGE / "bad-schema.yaml")

    assert caught.value.file == str(DEMO_PACKAGE / "bad-schema.yaml")
    assert caught.value.problems == (
        "blocks[0].competencies[1].criteria[0].wording: Missing data for required field.",
    )


def test_validate_an_uninstalled_plugin_directory_imports_it_from_there() -> None:
    referentials = validate_plugin_path(FIXTURES / "uninstalled_plugin")

    assert [(r.certification.code, r.version) for r in referentials] == [("UNINSTALLED", "1")]
    # the checked-out package is not left importable for the rest of the process
    assert "ltiservice_fixture_uninstalled" not in sys.modules
    assert str(FIXTURES / "uninstalled_plugin") not in sys.path


def test_validate_a_directory_of_referentials_checks_versions_together(tmp_path: Path) -> None:
    shutil.copy(DEMO_PACKAGE / "demo-2019.yaml", tmp_path)
    shutil.copy(DEMO_2024, tmp_path)

    referentials = validate_plugin_path(tmp_path)
    assert sorted(r.version for r in referentials) == ["2019", "2024"]

    (tmp_path / "demo-2019.yaml").unlink()
    with pytest.raises(PluginError, match="unknown version '2019'"):
        validate_plugin_path(tmp_path)


def test_validate_a_path_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(PluginError, match="no such file or directory"):
        validate_plugin_path(tmp_path / "absent")
