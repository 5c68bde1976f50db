"""Golden cases written from the documents' own sentences: block rules and combination rules.

Each test quotes the sentence it checks; where the plugin's provenance entry quotes the same
sentence, the test checks that too, so the rule, its source and its behaviour stay together.
"""

# ruff: noqa: RUF001, RUF002  (the sources use the typographic apostrophe; quotes are verbatim)
from __future__ import annotations

import pytest

from ltiservice.grading.interface import CertificationPlugin, Referential, Verdict
from ltiservice.grading.loader import load_plugins
from tests.support.seeds import normalise


@pytest.fixture(scope="module")
def plugins() -> dict[str, CertificationPlugin]:
    return load_plugins()


def _all_met(referential: Referential, block: str) -> dict[str, Verdict]:
    return {c.id: "met" for c in referential.block(block).criteria()}


def _quotes(referential: Referential, rule: str, sentence: str) -> None:
    entry = referential.provenance_of(rule)
    assert entry is not None and entry.quote is not None
    assert normalise(sentence) in normalise(entry.quote) or normalise(entry.quote) in normalise(
        sentence
    )


def test_crca_rncp36140_needs_both_blocks(plugins: dict[str, CertificationPlugin]) -> None:
    """Fiche RNCP36140: « Le CQP chargé de relation clientèle assurance s’obtient par la
    validation des 2 blocs de compétences »."""
    plugin = plugins["CRCA"]
    old = plugin.referential("RNCP36140")
    _quotes(old, "combination", "s’obtient par la validation des 2 blocs de compétences")

    assert not plugin.rules.certification_status(old, {"BC01"}).granted
    assert not plugin.rules.certification_status(old, {"BC02"}).granted
    assert plugin.rules.certification_status(old, {"BC01", "BC02"}).granted


def test_crca_partial_validation_leaves_only_the_missing_block(
    plugins: dict[str, CertificationPlugin],
) -> None:
    """FAQ du CQP CRCA: « En cas de validation partielle par bloc(s), les compétences sont
    acquises définitivement. » and « Le candidat peut représenter un dossier de validation pour
    le bloc à acquérir »."""
    plugin = plugins["CRCA"]
    old = plugin.referential("RNCP36140")

    status = plugin.rules.certification_status(old, {"BC01"})

    assert status.acquired_blocks == frozenset({"BC01"})
    assert status.missing == (f"Bloc BC02 à acquérir : {old.block('BC02').title}",)


def test_crca_current_block_1_and_one_option(plugins: dict[str, CertificationPlugin]) -> None:
    """Referential (seed 001): « Bloc de compétences 2A (option « souscription ») » and « Bloc de
    compétences 2B (option « indemnisation ») » after the common « Bloc de compétences 1 ».

    No sentence states the combination: the provenance entry marks it as a convention."""
    plugin = plugins["CRCA"]
    current = plugin.current
    entry = current.provenance_of("combination")
    assert entry is not None and entry.is_convention

    status = plugin.rules.certification_status
    assert status(current, {"B1", "B2A"}).granted
    assert status(current, {"B1", "B2B"}).granted
    assert not status(current, {"B2A", "B2B"}).granted
    assert not status(current, {"B1"}).granted


def test_crca_a_criterion_not_observed_keeps_the_block_not_acquired(
    plugins: dict[str, CertificationPlugin],
) -> None:
    """No document states the CRCA block threshold: « every criterion met » and « not observed
    counts as not met » are the product's conventions, and say so."""
    plugin = plugins["CRCA"]
    current = plugin.current
    verdicts = _all_met(current, "B1") | {"C1.10-2": "not_observed"}

    outcome = plugin.rules.block_outcome(current.block("B1"), verdicts)

    assert not outcome.acquired
    assert [r.code for r in outcome.competencies if not r.acquired] == ["C1.10"]
    for rule in ("thresholds.competency", "thresholds.not_observed", "thresholds.block"):
        entry = current.provenance_of(rule)
        assert entry is not None and entry.is_convention, rule


def test_courtage_five_common_blocks_and_two_optional_ones(
    plugins: dict[str, CertificationPlugin],
) -> None:
    """Fiche RNCP31395: « Le CQP est composé de 7 blocs de compétences » : BC1 to BC5 « + 2 blocs
    optionnels obligatoires au choix du candidat parmi les blocs suivants : » BC6, BC7, BC8."""
    plugin = plugins["COURTAGE"]
    referential = plugin.current
    _quotes(referential, "combination", "+ 2 blocs optionnels obligatoires au choix du candidat")
    common = {"BC1", "BC2", "BC3", "BC4", "BC5"}

    status = plugin.rules.certification_status
    assert status(referential, common | {"BC6", "BC8"}).granted
    assert not status(referential, common | {"BC7"}).granted
    assert not status(referential, (common - {"BC3"}) | {"BC6", "BC7", "BC8"}).granted


def test_mutualite_block_needs_100_percent_of_its_competencies(
    plugins: dict[str, CertificationPlugin],
) -> None:
    """Fiche RNCP39866: « Chaque bloc peut être obtenu séparément dès lors que le candidat valide
    100% des compétences du bloc. »"""
    plugin = plugins["MUTUALITE"]
    referential = plugin.current
    _quotes(referential, "thresholds.block", "valide 100% des compétences du bloc")
    block = referential.block("BC01")
    last = block.competencies[-1].criteria[0].id

    assert plugin.rules.block_outcome(block, _all_met(referential, "BC01")).acquired
    outcome = plugin.rules.block_outcome(block, _all_met(referential, "BC01") | {last: "not_met"})
    assert not outcome.acquired
    assert outcome.acquired_count == outcome.competency_count - 1


def test_mutualite_every_block_then_the_final_interview(
    plugins: dict[str, CertificationPlugin],
) -> None:
    """Fiche RNCP39866: « Le candidat acquière la certification dans sa totalité dès lors qu'il
    a validé l’ensemble des blocs de compétences composants le CQP. Le jury de délivrance
    effectue un entretien final pour valider et délivrer la certification. »"""
    plugin = plugins["MUTUALITE"]
    referential = plugin.current
    _quotes(referential, "combination", "a validé l’ensemble des blocs de compétences")
    _quotes(referential, "combination.final_interview", "effectue un entretien final")
    every = {"BC01", "BC02", "BC03", "BC04"}

    status = plugin.rules.certification_status
    assert not status(referential, every).granted
    assert not status(referential, every - {"BC04"}, {"final_interview_passed": True}).granted
    assert status(referential, every, {"final_interview_passed": True}).granted
