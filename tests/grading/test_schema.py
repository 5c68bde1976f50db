"""ReferentialSchema: a valid referential loads; each violation is refused at its field path."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from ltiservice.grading.referential import ChooseGroup, Criterion, Equivalence
from ltiservice.grading.schema import (
    MAX_REFERENTIAL_BYTES,
    ReferentialError,
    build_referential,
    error_paths,
    parse_referential,
)


def test_valid_referential_becomes_frozen_dataclasses(demo_data: dict[str, Any]) -> None:
    referential = build_referential(demo_data)

    assert referential.certification.code == "DEMO"
    assert referential.certification.registration_end_date == datetime.date(2028, 9, 24)
    assert referential.certification.certifiers == ("Branche de démonstration",)
    assert referential.version == "2024"
    assert [b.code for b in referential.blocks] == ["B1", "B2A", "B2B", "B3", "B4", "B5"]
    assert [c.id for c in referential.block("B1").criteria()] == ["C1.1-1", "C1.1-2", "C1.2-1"]
    assert referential.criterion("C3.1-1").derived is True
    assert referential.criterion("C1.1-1") == Criterion("C1.1-1", "Le client est salué", False)
    assert referential.competency("C2B.1").wording == "Indemniser"
    assert referential.option_groups() == {"option": ("B2A", "B2B")}
    assert referential.combination.choose[1] == ChooseGroup(("B3", "B4", "B5"), 2)
    assert referential.combination.final_interview is True
    assert referential.grade_maximum == 20.0
    assert referential.equivalences[1] == Equivalence(
        "2019",
        "OLD2",
        ("B2A", "B3"),
        "Table de correspondance du certificateur (fixture)",
        "OLD2 correspond à B2A et B3.",
    )
    assert referential.jury.role_label("other_service") == "Évaluateur d'un autre service"
    assert [case.id for case in referential.cases_for("B1")] == ["demo-b1"]
    with pytest.raises(KeyError, match="B9"):
        referential.block("B9")


def test_optional_fields_take_their_defaults(demo_data: dict[str, Any]) -> None:
    for key in ("level", "registration_end_date", "supersedes", "source"):
        del demo_data["certification"][key]
    del demo_data["equivalences"], demo_data["cases"]
    referential = build_referential(demo_data)

    block = referential.block("B1")
    assert (block.rncp_block_code, dict(block.other_codes), block.option_group) == (None, {}, None)
    assert referential.certification.level is None
    assert referential.certification.supersedes is None
    assert referential.equivalences == () and referential.cases == ()


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A mutation that sets ``value`` at a dotted path (integers index lists)."""

    def mutate(data: dict[str, Any]) -> None:
        keys: list[Any] = [int(k) if k.isdigit() else k for k in path.split(".")]
        node = data
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value

    return mutate


VIOLATIONS = [
    ("blocks.1.code", "B1", "blocks[1].code: Duplicate block code 'B1'."),
    (
        "blocks.1.competencies.0.code",
        "C1.1",
        "blocks[1].competencies[0].code: Duplicate competency code 'C1.1'.",
    ),
    (
        "blocks.0.competencies.1.criteria.0.id",
        "C1.1-1",
        "blocks[0].competencies[1].criteria[0].id: Duplicate criterion id 'C1.1-1': "
        "a criterion belongs to exactly one competency.",
    ),
    (
        "blocks.0.competencies.0.criteria",
        [],
        "blocks[0].competencies[0].criteria: Shorter than minimum length 1.",
    ),
    ("blocks.3.competencies", [], "blocks[3].competencies: Shorter than minimum length 1."),
    (
        "blocks.0.competencies.1.criteria.0",
        {"id": "C1.2-1"},
        "blocks[0].competencies[1].criteria[0].wording: Missing data for required field.",
    ),
    ("blocks.0.titel", "x", "blocks[0].titel: Unknown field."),
    (
        "blocks.2.option_group",
        "autre",
        "blocks[1].option_group: Option group 'option' has a single block: needs at least 2.",
    ),
    (
        "combination.choose",
        [{"from": ["B3", "B4", "B5"], "count": 2}],
        "blocks[1].option_group: Option group 'option' (B2A, B2B) is covered by no "
        "combination.choose group.",
    ),
    (
        "combination.required_blocks",
        ["B1", "B2A"],
        "blocks[1].option_group: Alternative blocks cannot be required: B2A.",
    ),
    (
        "combination.required_blocks",
        ["B1", "B9"],
        "combination.required_blocks[1]: Unknown block 'B9'.",
    ),
    ("combination.choose.1.from.2", "B9", "combination.choose[1].from[2]: Unknown block 'B9'."),
    (
        "combination.choose.1.count",
        4,
        "combination.choose[1].count: Must not exceed the number of blocks in 'from'.",
    ),
    (
        "combination.required_blocks",
        ["B1", "B3"],
        "combination: Block 'B3' appears 2 times in the combination.",
    ),
    ("equivalences.1.to_blocks.1", "B9", "equivalences[1].to_blocks[1]: Unknown block 'B9'."),
    (
        "equivalences.0.from_version",
        "2024",
        "equivalences[0].from_version: Must name an older version, not this one.",
    ),
    ("cases.0.block", "B9", "cases[0].block: Unknown block 'B9'."),
    ("cases.1.id", "demo-b1", "cases[1].id: Duplicate case id 'demo-b1'."),
    (
        "jury.required_roles",
        ["hierarchy", "expert"],
        "jury.required_roles[1]: Unknown role 'expert': not in roles.",
    ),
    (
        "jury.exclusions.0.role",
        "trainer",
        "jury.exclusions[0].role: Unknown role 'trainer': not in roles.",
    ),
    (
        "jury.exclusions.0.may_not_have",
        "is_boss",
        "jury.exclusions[0].may_not_have: Must be one of: trained_candidate.",
    ),
    ("jury.min_evaluators", 0, "jury.min_evaluators: Must be greater than or equal to 1."),
    ("certification.code", "demo", "certification.code: Must match [A-Z0-9_-]+."),
    ("certification.version", 2024, "certification.version: Not a valid string."),
    (
        "certification.supersedes",
        "2024",
        "certification.supersedes: A version cannot supersede itself.",
    ),
    (
        "certification.registration_end_date",
        "24/09/2028",
        "certification.registration_end_date: Not a valid date.",
    ),
    ("grade.score_maximum", 0, "grade.score_maximum: Must be greater than 0."),
]


@pytest.mark.parametrize(("path", "value", "expected"), VIOLATIONS, ids=[v[0] for v in VIOLATIONS])
def test_each_violation_is_refused_at_its_field_path(
    demo_data: dict[str, Any], path: str, value: Any, expected: str
) -> None:
    _set(path, value)(demo_data)

    with pytest.raises(ReferentialError) as caught:
        build_referential(demo_data)

    assert expected in caught.value.problems


def test_every_cross_field_problem_is_reported_at_once(demo_data: dict[str, Any]) -> None:
    demo_data["cases"][0]["block"] = "B8"
    demo_data["combination"]["required_blocks"] = ["B1", "B9"]

    with pytest.raises(ReferentialError) as caught:
        build_referential(demo_data)

    assert sorted(caught.value.problems) == [
        "cases[0].block: Unknown block 'B8'.",
        "combination.required_blocks[1]: Unknown block 'B9'.",
    ]


def test_error_paths_flattens_marshmallow_messages() -> None:
    messages = {
        "blocks": {2: {"competencies": {0: {"criteria": {3: {"wording": ["Missing."]}}}}}},
        "_schema": ["Whole document."],
        "jury": {"_schema": ["Jury-wide."]},
    }
    assert error_paths(messages) == [
        "blocks[2].competencies[0].criteria[3].wording: Missing.",
        "(document): Whole document.",
        "jury: Jury-wide.",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("certification: [unclosed\n", "(document): Invalid YAML: "),
        ("- just\n- a list\n", "(document): Must be a mapping"),
        ("", "(document): Must be a mapping"),
        ("!!python/object/apply:os.system ['true']\n", "(document): Invalid YAML: "),
    ],
)
def test_unusable_yaml_is_refused(text: str, expected: str) -> None:
    with pytest.raises(ReferentialError) as caught:
        parse_referential(text)

    assert caught.value.problems[0].startswith(expected)


def test_invalid_yaml_names_line_and_column() -> None:
    with pytest.raises(ReferentialError, match=r"line 3, column 1"):
        parse_referential("certification:\n  code: [DEMO\n")


def test_alias_bomb_is_refused_before_validation() -> None:
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 9):
        refs = ", ".join([f"*a{level - 1}"] * 10)
        levels.append(f"a{level}: &a{level} [{refs}]")
    with pytest.raises(ReferentialError, match="aliases are expanded"):
        parse_referential("\n".join(levels) + "\n")


def test_oversized_file_is_refused() -> None:
    text = "# " + "x" * MAX_REFERENTIAL_BYTES + "\n"
    with pytest.raises(ReferentialError, match="larger than"):
        parse_referential(text)


def test_yaml_round_trip_of_the_fixture_is_what_the_schema_reads(demo_data: dict[str, Any]) -> None:
    # The schema must not depend on the file: the same data re-serialised gives the same result.
    assert parse_referential(yaml.safe_dump(demo_data, allow_unicode=True)) == build_referential(
        demo_data
    )
