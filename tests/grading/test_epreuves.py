"""Épreuves in the referential format: a block's own, the referential's default, the implicit
one; their committees checked by the rules."""

from __future__ import annotations

from typing import Any

import pytest

from ltiservice.grading.interface import JuryRequirements, Rules, Seat
from ltiservice.grading.schema import ReferentialError, build_referential

WRITTEN = {
    "code": "ECRIT",
    "title": "Évaluation écrite",
    "actor": "l'organisme de formation",
    "modality": "Cas pratique écrit",
    "roles": {"trainer": "Formateur de l'organisme"},
    "required_roles": ["trainer"],
}
OBSERVED = {
    "code": "OBS",
    "title": "Observation",
    "actor": "le tuteur",
    "modality": "Observation au poste",
    "required": False,
}


def test_a_block_without_epreuves_has_the_implicit_one(demo_data: dict[str, Any]) -> None:
    referential = build_referential(demo_data)

    assert all(block.epreuves == () for block in referential.blocks)


def test_the_referential_default_applies_to_every_block_that_declares_none(
    demo_data: dict[str, Any],
) -> None:
    demo_data["epreuves"] = [WRITTEN, OBSERVED]
    demo_data["blocks"][1]["epreuves"] = [{**OBSERVED, "code": "SEUL", "required": True}]

    referential = build_referential(demo_data)

    b1 = referential.block("B1")
    assert [e.code for e in b1.epreuves] == ["ECRIT", "OBS"]
    assert [e.code for e in b1.required_epreuves] == ["ECRIT"]
    assert b1.epreuve("ECRIT").jury == JuryRequirements(
        min_evaluators=1, roles={"trainer": "Formateur de l'organisme"}, required_roles=("trainer",)
    )
    assert b1.epreuve("OBS").jury is None  # no roles of its own: the referential's jury
    assert [e.code for e in referential.blocks[1].epreuves] == ["SEUL"]
    with pytest.raises(KeyError, match="NOPE"):
        b1.epreuve("NOPE")


@pytest.mark.parametrize(
    ("epreuves", "problem"),
    [
        ([WRITTEN, WRITTEN], "epreuves[1].code: Duplicate épreuve code 'ECRIT'."),
        ([OBSERVED], "epreuves[0].required: At least one épreuve must be required."),
        ([], "epreuves: Shorter than minimum length 1."),
        (
            [{**WRITTEN, "required_roles": ["jury"]}],
            "epreuves[0].required_roles[0]: Unknown role 'jury': not in the épreuve's roles.",
        ),
        (
            [{**OBSERVED, "required": True, "required_roles": ["trainer"]}],
            "epreuves[0].roles: Declare the épreuve's roles before naming any.",
        ),
        ([{**WRITTEN, "actor": ""}], "epreuves[0].actor: Shorter than minimum length 1."),
    ],
)
def test_bad_epreuves_are_refused_at_their_path(
    demo_data: dict[str, Any], epreuves: list[dict[str, Any]], problem: str
) -> None:
    demo_data["blocks"][0]["epreuves"] = epreuves

    with pytest.raises(ReferentialError) as refused:
        build_referential(demo_data)

    assert refused.value.problems == (f"blocks[0].{problem}",)


def test_an_epreuve_committee_is_checked_against_its_own_roles(
    demo_data: dict[str, Any],
) -> None:
    demo_data["epreuves"] = [WRITTEN]
    referential = build_referential(demo_data)
    block = referential.block("B1")
    rules = Rules()

    trainer = [Seat("formateur", "trainer")]
    assert rules.committee_problems(referential, block, block.epreuve("ECRIT"), trainer) == []
    # The same seat before the referential's own committee is not a jury.
    problems = rules.committee_problems(referential, block, None, trainer)
    assert "unknown_role" in [problem.code for problem in problems]


def test_the_convention_every_required_epreuve_acquired(demo_data: dict[str, Any]) -> None:
    demo_data["epreuves"] = [WRITTEN, OBSERVED, {**WRITTEN, "code": "ORAL"}]
    block = build_referential(demo_data).block("B1")
    rules = Rules()

    assert rules.epreuves_acquired(block, {"ECRIT": True, "ORAL": True}) is True
    assert rules.epreuves_acquired(block, {"ECRIT": True, "ORAL": True, "OBS": False}) is True
    assert rules.epreuves_acquired(block, {"ECRIT": True, "ORAL": False}) is False
    assert rules.epreuves_acquired(block, {"ECRIT": True}) is False
