"""Provenance of rule values, sourced equivalences, example cases and what they observe."""

from __future__ import annotations

from typing import Any

import pytest

from ltiservice.grading.referential import RuleProvenance
from ltiservice.grading.schema import ReferentialError, build_referential

DOCUMENT = {
    "rule": "jury.min_evaluators",
    "source": "document",
    "document": "Fiche RNCP00000",
    "quote": "un comité d'au moins deux évaluateurs",
}
CONVENTION = {"rule": "thresholds.not_observed", "source": "convention", "note": "À confirmer."}


def _problems(data: dict[str, Any]) -> tuple[str, ...]:
    with pytest.raises(ReferentialError) as caught:
        build_referential(data)
    return caught.value.problems


def test_provenance_is_parsed_and_looked_up_by_rule(demo_data: dict[str, Any]) -> None:
    demo_data["provenance"] = [DOCUMENT, CONVENTION]

    referential = build_referential(demo_data)

    assert referential.provenance_of("jury.min_evaluators") == RuleProvenance(
        "jury.min_evaluators",
        "document",
        "Fiche RNCP00000",
        "un comité d'au moins deux évaluateurs",
        "",
    )
    assert referential.provenance_of("combination") is None
    assert [entry.rule for entry in referential.conventions()] == ["thresholds.not_observed"]


def test_a_provenance_entry_naming_no_rule_is_refused(demo_data: dict[str, Any]) -> None:
    demo_data["provenance"] = [DOCUMENT, {**CONVENTION, "rule": "jury.min_evaluator"}]

    assert _problems(demo_data) == (
        "provenance[1].rule: Unknown rule 'jury.min_evaluator': not a rule of this referential.",
    )


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({**DOCUMENT, "quote": None}, "provenance[0].quote: Required when source is 'document'."),
        (
            {k: v for k, v in DOCUMENT.items() if k != "document"},
            "provenance[0].document: Required when source is 'document'.",
        ),
        ({**CONVENTION, "note": " "}, "provenance[0].note: Required when source is 'convention'."),
        (
            {**CONVENTION, "source": "habit"},
            "provenance[0].source: Must be one of: document, convention.",
        ),
    ],
)
def test_each_provenance_field_is_checked_at_its_path(
    demo_data: dict[str, Any], entry: dict[str, Any], expected: str
) -> None:
    demo_data["provenance"] = [entry]

    assert expected in _problems(demo_data)


def test_the_same_rule_twice_is_refused(demo_data: dict[str, Any]) -> None:
    demo_data["provenance"] = [CONVENTION, CONVENTION]

    assert _problems(demo_data) == (
        "provenance[1].rule: Duplicate rule 'thresholds.not_observed'.",
    )


def test_the_certification_jury_rules_carry_their_provenance(demo_data: dict[str, Any]) -> None:
    demo_data["certification_jury"] = {
        "body": "jury_paritaire",
        "label": "Jury paritaire",
        "seats": [{"code": "employees", "label": "Salariés"}],
    }
    demo_data["provenance"] = [
        {"rule": "certification_jury.seats", "source": "convention", "note": "À confirmer."}
    ]

    referential = build_referential(demo_data)

    assert referential.certification_jury.seat_label("employees") == "Salariés"
    assert referential.provenance_of("certification_jury.seats") is not None
    demo_data["provenance"][0]["rule"] = "certification_jury.quorum"
    assert _problems(demo_data) == (
        "provenance[0].rule: Unknown rule 'certification_jury.quorum': not a rule of this "
        "referential.",
    )


def test_an_unsourced_equivalence_is_refused(demo_data: dict[str, Any]) -> None:
    del demo_data["equivalences"][0]["source"]
    demo_data["equivalences"][1]["source"]["quote"] = ""

    assert sorted(_problems(demo_data)) == [
        "equivalences[0].source: Missing data for required field.",
        "equivalences[1].source.quote: Shorter than minimum length 1.",
    ]


def test_cases_carry_example_and_observations(demo_data: dict[str, Any]) -> None:
    demo_data["cases"][0].update(example=True, observes={"C1.1-1": "L'accueil au téléphone."})

    case = build_referential(demo_data).cases[0]

    assert case.example is True
    assert dict(case.observes) == {"C1.1-1": "L'accueil au téléphone."}
    assert build_referential(demo_data).cases[1].example is False


def test_a_case_cannot_observe_a_criterion_of_another_block(demo_data: dict[str, Any]) -> None:
    demo_data["cases"][0]["observes"] = {"C2B.1-1": "Un sinistre."}

    assert _problems(demo_data) == (
        "cases[0].observes.C2B.1-1: Unknown criterion 'C2B.1-1': not in block 'B1'.",
    )
