"""Every rule value of every shipped referential says where it comes from.

A rule a document states carries that document's sentence, which must be found verbatim
(whitespace and apostrophes aside) in the source documents; a rule no document states is a
product convention with a note, shown as such to administrators.
"""

from __future__ import annotations

import dataclasses
from importlib import resources

import pytest
import yaml

from ltiservice.grading.interface import CertificationPlugin, Referential, RuleProvenance
from ltiservice.grading.loader import load_plugins
from ltiservice.grading.schema import ReferentialError, build_referential
from tests.support import seeds

#: RNCP41351's facts were read on its France compétences fiche into this note (no seed has them).
NOTES = seeds.SEEDS.parent / "notes"


def _plugins() -> dict[str, CertificationPlugin]:
    return load_plugins()


VERSIONS = [(code, v) for code, p in _plugins().items() for v in p.referentials]


def _referential(code: str, version: str) -> Referential:
    return _plugins()[code].referential(version)


def required_rules(referential: Referential) -> set[str]:
    """The rule values a referential applies, each of which must say where it comes from."""
    rules = {
        "jury.min_evaluators",
        "jury.roles",
        "jury.required_roles",
        "jury.exclusions",
        "jury.min_sessions",
        "jury.distinct_session_dates",
        "combination",
        "thresholds.competency",
        "thresholds.not_observed",
        "thresholds.block",
        "grade.score_maximum",
        "grade.mapping",
        "equivalences",
        "certification.registration_end_date",
    }
    if referential.jury.decisions:
        rules.add("jury.decisions")
    jury = referential.certification_jury
    rules |= {
        "certification_jury.acquires_blocks",
        "certification_jury.outcomes",
        "certification_jury.routes",
        "certification_jury.seats",
        "certification_jury.president_required",
        "certification_jury.substitutes_only_for_absent",
    }
    if jury.equal_seats:
        rules.add("certification_jury.equal_seats")
    if jury.observers:
        rules.add("certification_jury.observers")
    return rules


def _documents() -> str:
    texts = [path.read_text(encoding="utf-8") for path in sorted(seeds.SEEDS.glob("*.txt"))]
    texts += [path.read_text(encoding="utf-8") for path in sorted(NOTES.glob("*.md"))]
    return "\n".join(seeds.normalise(text) for text in texts)


def quote_found(entry: RuleProvenance, documents: str) -> bool:
    return entry.quote is not None and seeds.normalise(entry.quote) in documents


@pytest.mark.parametrize(("code", "version"), VERSIONS)
def test_every_rule_has_a_provenance_entry(code: str, version: str) -> None:
    referential = _referential(code, version)

    missing = sorted(r for r in required_rules(referential) if referential.provenance_of(r) is None)

    assert missing == []


@pytest.mark.parametrize(("code", "version"), VERSIONS)
def test_every_document_quote_is_in_the_documents(code: str, version: str) -> None:
    if not seeds.SEEDS.is_dir():
        pytest.skip(f"source documents not found in {seeds.SEEDS}")
    documents = _documents()
    referential = _referential(code, version)

    quoted = [e for e in referential.provenance if e.source == "document"]
    not_found = [e.rule for e in quoted if not quote_found(e, documents)]

    assert quoted and not_found == []


def test_a_fabricated_quote_is_not_found() -> None:
    if not seeds.SEEDS.is_dir():
        pytest.skip(f"source documents not found in {seeds.SEEDS}")
    documents = _documents()
    real = _referential("CRCA", "RNCP36140").provenance_of("jury.min_sessions")
    assert real is not None and quote_found(real, documents)

    for fabricated in (
        real.quote.replace("3 sessions", "2 sessions"),  # type: ignore[union-attr]
        "Le bloc est acquis lorsque 80 % des critères sont validés.",
    ):
        assert not quote_found(dataclasses.replace(real, quote=fabricated), documents)


def test_the_thresholds_the_documents_do_not_state_are_conventions() -> None:
    """Only Mutualité states its block threshold: « Chaque bloc peut être obtenu séparément
    dès lors que le candidat valide 100% des compétences du bloc. » (fiche RNCP39866)."""
    for code, version in VERSIONS:
        entry = _referential(code, version).provenance_of("thresholds.block")
        assert entry is not None
        assert entry.source == ("document" if code == "MUTUALITE" else "convention"), code
        not_observed = _referential(code, version).provenance_of("thresholds.not_observed")
        assert not_observed is not None and not_observed.is_convention


def test_a_provenance_entry_for_a_rule_that_does_not_exist_is_a_schema_error() -> None:
    plugin = _plugins()["MUTUALITE"]
    text = resources.files(plugin.package).joinpath(plugin.files[0]).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    data["provenance"].append(
        {"rule": "jury.quorum", "source": "convention", "note": "Une règle qui n'existe pas."}
    )

    with pytest.raises(ReferentialError) as caught:
        build_referential(data)

    index = len(data["provenance"]) - 1
    assert caught.value.problems == (
        f"provenance[{index}].rule: Unknown rule 'jury.quorum': not a rule of this referential.",
    )
