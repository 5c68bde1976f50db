"""Meta-test: every plugin REGISTERED through the real entry points honours the plugin contract.

Like datasette's tests/test_plugins.py, it reads what is installed, not fixtures: install the
shipped plugins (``pip install -e plugins/<name>``) or this test fails on purpose.
"""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest

from ltiservice.grading.interface import CertificationPlugin, Rules
from ltiservice.grading.loader import ENTRY_POINT_GROUP, load_plugins, reset_plugins
from ltiservice.grading.referential import Referential

SHIPPED = {"CRCA", "COURTAGE", "MUTUALITE"}
REGISTERED = sorted(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))


@pytest.fixture(scope="module")
def plugins() -> dict[str, CertificationPlugin]:
    """Every registered plugin, loaded afresh (a broken one fails here, naming its field)."""
    reset_plugins()
    return load_plugins()


def _plugin(plugins: dict[str, CertificationPlugin], name: str) -> CertificationPlugin:
    by_name = {plugin.name: plugin for plugin in plugins.values()}
    assert name in by_name, f"entry point {name!r} did not load as a plugin"
    return by_name[name]


def _versions(plugin: CertificationPlugin) -> list[Referential]:
    return list(plugin.referentials.values())


def test_the_shipped_plugins_are_registered(plugins: dict[str, CertificationPlugin]) -> None:
    missing = SHIPPED - set(plugins)
    assert not missing, f"not registered: {sorted(missing)}; pip install -e plugins/<name>"


@pytest.mark.parametrize("name", REGISTERED)
def test_plugin_loads_with_rules_and_a_current_version(
    plugins: dict[str, CertificationPlugin], name: str
) -> None:
    plugin = _plugin(plugins, name)

    assert isinstance(plugin.rules, Rules)
    assert plugin.referentials, "a plugin ships at least one referential version"
    assert plugin.current is plugin.referentials[plugin.current.version]
    superseded = {r.certification.supersedes for r in _versions(plugin)}
    assert plugin.current.version not in superseded
    assert all(r.certification.code == plugin.code for r in _versions(plugin))


@pytest.mark.parametrize("name", REGISTERED)
def test_every_block_has_competencies_criteria_and_a_case(
    plugins: dict[str, CertificationPlugin], name: str
) -> None:
    for referential in _versions(_plugin(plugins, name)):
        where = f"{referential.certification.code} {referential.version}"
        for block in referential.blocks:
            assert block.competencies, f"{where} {block.code}: no competency"
            for competency in block.competencies:
                assert competency.criteria, f"{where} {competency.code}: no criterion"
            assert referential.cases_for(block.code), f"{where} {block.code}: no practical case"


@pytest.mark.parametrize("name", REGISTERED)
def test_equivalences_point_to_existing_blocks(
    plugins: dict[str, CertificationPlugin], name: str
) -> None:
    plugin = _plugin(plugins, name)
    for referential in _versions(plugin):
        codes = {block.code for block in referential.blocks}
        for equivalence in referential.equivalences:
            older = plugin.referential(equivalence.from_version)
            assert equivalence.from_block in {block.code for block in older.blocks}
            assert set(equivalence.to_blocks) <= codes


@pytest.mark.parametrize("name", REGISTERED)
def test_jury_roles_have_french_labels(plugins: dict[str, CertificationPlugin], name: str) -> None:
    for referential in _versions(_plugin(plugins, name)):
        for role, label in referential.jury.roles.items():
            assert label.strip() and label != role, f"{role}: label is the code"
            assert label[0].isupper() and " " in label, f"{role}: {label!r} is not a wording"
            assert "_" not in label, f"{role}: {label!r} looks like a code"


@pytest.mark.parametrize("name", REGISTERED)
def test_all_criteria_met_acquires_every_block_and_the_certification(
    plugins: dict[str, CertificationPlugin], name: str
) -> None:
    plugin = _plugin(plugins, name)
    rules, referential = plugin.rules, plugin.current
    all_met = {criterion.id: "met" for b in referential.blocks for criterion in b.criteria()}

    for block in referential.blocks:
        outcome = rules.block_outcome(block, all_met)  # type: ignore[arg-type]
        assert outcome.acquired, f"{block.code} not acquired with every criterion met"
        maximum = referential.grade_maximum
        assert rules.lms_grade(referential, outcome) == (maximum, maximum)
    every_block = {block.code for block in referential.blocks}
    status = rules.certification_status(referential, every_block, {"final_interview_passed": True})
    assert status.granted, status.missing
    assert not rules.certification_status(referential, set()).granted


@pytest.mark.parametrize("name", REGISTERED)
def test_translating_old_blocks_lands_in_the_current_version(
    plugins: dict[str, CertificationPlugin], name: str
) -> None:
    plugin = _plugin(plugins, name)
    current_codes = {block.code for block in plugin.current.blocks}
    for referential in _versions(plugin):
        codes = {block.code for block in referential.blocks}
        assert plugin.translate_blocks(referential.version, codes) <= current_codes
