"""Moodle competency framework CSV: Moodle's header, one framework row, a sound hierarchy."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from ltiservice.grading.moodle import (
    MoodleExportError,
    build_moodle_framework_csv,
    framework_idnumber,
)
from ltiservice.grading.referential import Referential
from ltiservice.grading.schema import parse_referential

SAMPLE = Path(__file__).parent / "data" / "moodle-competency-framework-sample.csv"

TRICKY = """
certification:
  code: TEST
  rncp_code: RNCP99999
  title: 'CQP "fictif", assurance'
  certifiers: ["Branche, fictive"]
  level: 4
  version: "2025"
blocks:
  - code: B1
    rncp_block_code: RNCP99999BC01
    title: "Analyser le besoin, qualifier la demande"
    evaluation_modalities: ["Mise en situation, puis entretien"]
    competencies:
      - code: C1.1
        wording: "Accueillir le client, dire « bonjour » et \\"sourire\\""
        criteria:
          - {id: C1.1-1, wording: "L'accueil est courtois, rapide"}
          - {id: C1.1-2, wording: "Ligne un\\nligne deux, < et &"}
      - code: C1.2
        wording: "Qualifier la demande"
        criteria:
          - id: C1.2-1
            wording: "La compétence est démontrée : Qualifier la demande"
            derived: true
  - code: B2
    title: "Traiter le dossier"
    competencies:
      - code: C2.1
        wording: "Vérifier la garantie"
        criteria:
          - {id: C2.1-1, wording: "La garantie est vérifiée"}
jury:
  min_evaluators: 2
  roles: {evaluator: "Évaluateur"}
combination:
  required_blocks: [B1, B2]
grade:
  score_maximum: 100
"""


@pytest.fixture(scope="module")
def referential() -> Referential:
    return parse_referential(TRICKY)


def _rows(text: str) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader)
    return header, [dict(zip(header, row, strict=True)) for row in reader]


def _sample_header() -> list[str]:
    with SAMPLE.open(newline="", encoding="utf-8") as handle:
        return next(csv.reader(handle))


def test_header_is_the_sample_header(referential: Referential) -> None:
    header, rows = _rows(build_moodle_framework_csv(referential))
    assert header == _sample_header()
    assert len(header) == 14
    assert all(len(row) == 14 for row in rows)


def test_exactly_one_framework_row_carrying_the_scale(referential: Referential) -> None:
    _, rows = _rows(build_moodle_framework_csv(referential))
    frameworks = [row for row in rows if row["Is framework"] == "1"]
    assert len(frameworks) == 1
    framework = frameworks[0]
    assert rows[0] is framework
    assert framework["Id number"] == "TEST-2025"
    assert framework["Shortname"] == 'CQP "fictif", assurance'
    assert framework["Scale values"] == "Non acquis,Acquis"
    config = json.loads(framework["Scale configuration"])
    assert config[0] == {"scaleid": "2"}
    assert [c["proficient"] for c in config[1:]] == [0, 1]
    assert framework["Taxonomy"] == "domain,competency"
    assert all(row["Scale values"] == "" for row in rows[1:])


def test_hierarchy_counts_and_parents(referential: Referential) -> None:
    _, rows = _rows(build_moodle_framework_csv(referential))
    ids = [row["Id number"] for row in rows]
    assert len(ids) == len(set(ids))
    assert len(rows) - 1 == len(referential.blocks) + 3  # blocks + competencies
    for row in rows[1:]:
        assert row["Parent id number"] == "" or row["Parent id number"] in ids
    parents = {row["Id number"]: row["Parent id number"] for row in rows[1:]}
    assert parents == {
        "TEST-2025-B1": "",
        "TEST-2025-C1.1": "TEST-2025-B1",
        "TEST-2025-C1.2": "TEST-2025-B1",
        "TEST-2025-B2": "",
        "TEST-2025-C2.1": "TEST-2025-B2",
    }


def test_blocks_complete_when_all_competencies_do(referential: Referential) -> None:
    _, rows = _rows(build_moodle_framework_csv(referential))
    by_id = {row["Id number"]: row for row in rows}
    block = by_id["TEST-2025-B1"]
    assert block["Rule type (optional)"] == "core_competency\\competency_rule_all"
    assert block["Rule outcome (optional)"] == "2"
    leaf = by_id["TEST-2025-C1.1"]
    assert (leaf["Rule type (optional)"], leaf["Rule outcome (optional)"]) == ("", "0")


def test_french_text_with_commas_quotes_and_newlines_round_trips(
    referential: Referential,
) -> None:
    text = build_moodle_framework_csv(referential)
    _, rows = _rows(text)
    by_id = {row["Id number"]: row for row in rows}
    competency = by_id["TEST-2025-C1.1"]
    assert competency["Shortname"] == 'C1.1 - Accueillir le client, dire « bonjour » et "sourire"'
    assert "<li>C1.1-1 : L'accueil est courtois, rapide</li>" in competency["Description"]
    assert "<li>C1.1-2 : Ligne un<br>ligne deux, &lt; et &amp;</li>" in competency["Description"]
    assert '"C1.1 - Accueillir le client, dire « bonjour » et ""sourire"""' in text
    assert text.endswith("\r\n")


def test_criteria_as_third_level_when_asked(referential: Referential) -> None:
    _, rows = _rows(build_moodle_framework_csv(referential, include_criteria=True))
    ids = [row["Id number"] for row in rows]
    assert len(rows) - 1 == 2 + 3 + 4  # blocks + competencies + criteria
    assert rows[0]["Taxonomy"] == "domain,competency,indicator"
    by_id = {row["Id number"]: row for row in rows}
    criterion = by_id["TEST-2025-C1.1-2"]
    assert criterion["Parent id number"] == "TEST-2025-C1.1"
    assert criterion["Parent id number"] in ids
    assert by_id["TEST-2025-C1.1"]["Rule type (optional)"].endswith("competency_rule_all")
    assert "critère dérivé" in by_id["TEST-2025-C1.2-1"]["Description"]


def test_long_wording_is_cut_to_moodle_shortname_length() -> None:
    long = TRICKY.replace('wording: "Qualifier la demande"', f'wording: "{"Qualifier " * 30}"')
    _, rows = _rows(build_moodle_framework_csv(parse_referential(long)))
    shortname = {row["Id number"]: row["Shortname"] for row in rows}["TEST-2025-C1.2"]
    assert len(shortname) <= 100
    assert shortname.endswith("…")


def test_clashing_codes_are_refused() -> None:
    clash = TRICKY.replace("- code: C2.1", "- code: B1")
    with pytest.raises(MoodleExportError, match="en double : TEST-2025-B1"):
        build_moodle_framework_csv(parse_referential(clash))


def test_framework_id_uses_code_and_version(referential: Referential) -> None:
    assert framework_idnumber(referential) == "TEST-2025"


def test_crca_current_referential_exports(tmp_path: Path) -> None:
    path = Path(__file__).parents[2] / "plugins/crca/ltiservice_cqp_crca/referential-rncp41351.yaml"
    if not path.exists():
        pytest.skip("the crca plugin is not in this checkout")
    referential = parse_referential(path.read_text(encoding="utf-8"))
    _, rows = _rows(build_moodle_framework_csv(referential))
    assert rows[0]["Id number"] == "CRCA-RNCP41351"
    competencies = sum(len(b.competencies) for b in referential.blocks)
    assert len(rows) - 1 == len(referential.blocks) + competencies
    assert {r["Id number"] for r in rows[1:] if not r["Parent id number"]} == {
        f"CRCA-RNCP41351-{b.code}" for b in referential.blocks
    }
