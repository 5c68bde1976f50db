"""The plugins' wording checked against the source documents themselves (shared/seeds).

For every referential version: each block title, each competency's wording and block, each
criterion's wording, competency and block. The seeds are parsed at test time along their own
layout (tests/support/seeds.py); derived criteria (the source gives none) are checked against
their competency's wording. The mutation tests prove the check fails on the slips it exists for.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from ltiservice.grading.interface import Block, CertificationPlugin, Competency, Referential
from ltiservice.grading.loader import load_plugins
from tests.support import seeds

if not seeds.SEEDS.is_dir():
    pytest.skip(f"source documents not found in {seeds.SEEDS}", allow_module_level=True)

#: (plugin code, referential version, seed file prefix, parser of that document's layout)
SOURCES: list[tuple[str, str, str, Callable[[str], list[seeds.SeedBlock]]]] = [
    ("CRCA", "RNCP41351", "001", seeds.parse_crca_referential),
    ("CRCA", "RNCP36140", "000", seeds.parse_rncp36140_fiche),
    ("COURTAGE", "RNCP31395", "002", seeds.parse_courtage_fiche),
    ("MUTUALITE", "RNCP39866", "003", seeds.parse_rncp39866_fiche),
]


@pytest.fixture(scope="module")
def plugins() -> dict[str, CertificationPlugin]:
    return load_plugins()


def _source(version: str) -> list[seeds.SeedBlock]:
    (_, _, prefix, parse) = next(s for s in SOURCES if s[1] == version)
    return parse(seeds.seed_text(prefix))


def test_every_shipped_referential_version_has_a_source(
    plugins: dict[str, CertificationPlugin],
) -> None:
    shipped = {(code, v) for code, p in plugins.items() for v in p.referentials}
    assert {(code, version) for code, version, _, _ in SOURCES} >= shipped


@pytest.mark.parametrize(
    ("code", "version", "prefix", "parse"), SOURCES, ids=[s[1] for s in SOURCES]
)
def test_transcription_matches_the_document(
    plugins: dict[str, CertificationPlugin],
    code: str,
    version: str,
    prefix: str,
    parse: Callable[[str], list[seeds.SeedBlock]],
) -> None:
    referential = plugins[code].referential(version)
    seed = parse(seeds.seed_text(prefix))

    assert seeds.transcription_problems(referential, seed) == []
    # The parse itself found the whole document, not an empty or partial reading.
    assert len(seed) == len(referential.blocks)


def test_the_crca_parse_reads_every_criterion_line() -> None:
    seed = {b.code: b for b in _source("RNCP41351")}
    c18 = next(c for c in seed["B1"].competencies if c.code == "C1.8")
    assert c18.criteria_lines is not None
    # The page break's activity bullets (« Suivi du respect … ») are not criteria.
    assert not any("Suivi du respect" in line for line in c18.criteria_lines)
    assert c18.criteria_lines[-2].startswith("La formulation des commentaires")
    assert c18.criteria_lines[-1] == "conformes à la réglementation en vigueur"


# --- the check can fail --------------------------------------------------------------------------


def _with_block(referential: Referential, block: Block) -> Referential:
    blocks = tuple(block if b.code == block.code else b for b in referential.blocks)
    return dataclasses.replace(referential, blocks=blocks)


def _with_competencies(block: Block, *competencies: Competency) -> Block:
    changed = {c.code: c for c in competencies}
    return dataclasses.replace(
        block, competencies=tuple(changed.get(c.code, c) for c in block.competencies)
    )


def test_a_criterion_moved_to_another_competency_is_reported(
    plugins: dict[str, CertificationPlugin],
) -> None:
    referential = plugins["CRCA"].referential("RNCP41351")
    block = referential.block("B1")
    quality, non_conformity = referential.competency("C1.10"), referential.competency("C1.11")
    moved = quality.criteria[-1]
    mutated = _with_block(
        referential,
        _with_competencies(
            block,
            dataclasses.replace(quality, criteria=quality.criteria[:-1]),
            dataclasses.replace(non_conformity, criteria=(moved, *non_conformity.criteria)),
        ),
    )

    problems = seeds.transcription_problems(mutated, _source("RNCP41351"))

    assert any("competency C1.10 criteria" in p for p in problems), problems
    assert any("competency C1.11 criteria" in p for p in problems), problems


def test_a_word_dropped_from_a_criterion_is_reported(
    plugins: dict[str, CertificationPlugin],
) -> None:
    referential = plugins["CRCA"].referential("RNCP41351")
    competency = referential.competency("C2B.5")
    criteria = list(competency.criteria)
    target = next(i for i, c in enumerate(criteria) if c.id == "C2B.5-3")
    criteria[target] = dataclasses.replace(
        criteria[target], wording=criteria[target].wording.replace(" factuels et", " et")
    )
    assert criteria[target].wording != competency.criteria[target].wording
    mutated = _with_block(
        referential,
        _with_competencies(
            referential.block("B2B"), dataclasses.replace(competency, criteria=tuple(criteria))
        ),
    )

    problems = seeds.transcription_problems(mutated, _source("RNCP41351"))

    assert len(problems) == 1 and "competency C2B.5 criteria" in problems[0], problems


@pytest.mark.parametrize("version", [s[1] for s in SOURCES])
def test_a_typo_in_a_block_title_is_reported(
    plugins: dict[str, CertificationPlugin], version: str
) -> None:
    code = next(s[0] for s in SOURCES if s[1] == version)
    referential = plugins[code].referential(version)
    block = referential.blocks[0]
    mutated = _with_block(referential, dataclasses.replace(block, title=block.title[:-1] + "x"))

    problems = seeds.transcription_problems(mutated, _source(version))

    keys = (block.code, block.rncp_block_code)
    source_title = next(b.title for b in _source(version) if b.code in keys)
    assert problems == [
        f"block {block.code} title: {block.title[:-1] + 'x'!r} != document {source_title!r}"
    ]


def test_a_derived_criterion_moved_to_another_competency_is_reported(
    plugins: dict[str, CertificationPlugin],
) -> None:
    referential = plugins["CRCA"].referential("RNCP36140")
    quality, cash = referential.competency("BC02-C10"), referential.competency("BC02-C11")
    mutated = _with_block(
        referential,
        _with_competencies(
            referential.block("BC02"),
            dataclasses.replace(quality, criteria=cash.criteria),
        ),
    )

    problems = seeds.transcription_problems(mutated, _source("RNCP36140"))

    assert problems == [
        "block BC02 competency BC02-C10 derived criterion BC02-C11-1: not the competency's wording"
    ]


def test_a_competency_moved_to_another_block_is_reported(
    plugins: dict[str, CertificationPlugin],
) -> None:
    referential = plugins["COURTAGE"].current
    bc1, bc2 = referential.block("BC1"), referential.block("BC2")
    moved = bc1.competencies[-1]
    mutated = _with_block(
        _with_block(referential, dataclasses.replace(bc1, competencies=bc1.competencies[:-1])),
        dataclasses.replace(bc2, competencies=(moved, *bc2.competencies)),
    )

    problems = seeds.transcription_problems(mutated, _source("RNCP31395"))

    assert "block BC1 competencies: ['C1', 'C2'] != document ['C1', 'C2', 'C3']" in problems
    assert "block BC2 competencies: ['C3', 'C4', 'C5'] != document ['C4', 'C5']" in problems


def test_a_mutualite_competency_cut_short_is_reported(
    plugins: dict[str, CertificationPlugin],
) -> None:
    referential = plugins["MUTUALITE"].current
    block = referential.blocks[0]
    first = block.competencies[0]
    shortened = dataclasses.replace(first, wording=first.wording.rsplit(" ", 1)[0])
    mutated = _with_block(referential, _with_competencies(block, shortened))

    problems = seeds.transcription_problems(mutated, _source("RNCP39866"))

    assert any(p.startswith(f"block {block.code} competencies:") for p in problems), problems
