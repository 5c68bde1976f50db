"""Golden cases of the courtage plugin, written from the fiche RNCP31395 (seed 002).

Verdicts in, block and certification outcome out; the expected structure is counted by hand in
the fiche so that a competency or criterion dropped from the referential fails here.
"""

from __future__ import annotations

import datetime
from importlib.metadata import entry_points

import pytest

from ltiservice.grading.interface import (
    CertificationPlugin,
    CertificationStatus,
    Referential,
    Seat,
    Verdict,
)
from ltiservice.grading.loader import load_plugins

# Block -> competency -> number of criteria (the fiche gives none: one derived criterion each).
EXPECTED_STRUCTURE = {
    "BC1": {"C1": 1, "C2": 1, "C3": 1},
    "BC2": {"C4": 1, "C5": 1},
    "BC3": {"C6": 1, "C7": 1},
    "BC4": {"C8": 1, "C9": 1, "C10": 1, "C11": 1, "C12": 1},
    "BC5": {"C13": 1, "C14": 1, "C15": 1},
    "BC6": {"C16": 1},
    "BC7": {"C17": 1},
    "BC8": {"C18": 1, "C19": 1},
}
# "Bloc de compétence n°k de la fiche n° 31395" -> the BC code of the lists of the same fiche,
# matched through the competencies each table row lists.
EXPECTED_FICHE_NUMBERS = {
    "BC1": "Bloc n°5",
    "BC2": "Bloc n°1",
    "BC3": "Bloc n°2",
    "BC4": "Bloc n°3",
    "BC5": "Bloc n°6",
    "BC6": "Bloc n°7",
    "BC7": "Bloc n°8",
    "BC8": "Bloc n°4",
}
COMMON = ("BC1", "BC2", "BC3", "BC4", "BC5")
JURY_ROLES = ("training_organisation", "company_referent", "evaluation_commission")


@pytest.fixture(scope="module")
def plugin() -> CertificationPlugin:
    return load_plugins()["COURTAGE"]


@pytest.fixture(scope="module")
def referential(plugin: CertificationPlugin) -> Referential:
    return plugin.current


def _verdicts(referential: Referential, block: str, verdict: Verdict = "met") -> dict[str, Verdict]:
    return {criterion.id: verdict for criterion in referential.block(block).criteria()}


def _status(plugin: CertificationPlugin, blocks: set[str]) -> CertificationStatus:
    return plugin.rules.certification_status(plugin.current, blocks)


def _seats(*roles: str, trained: str | None = None) -> list[Seat]:
    return [
        Seat(f"evaluateur-{index}", role, trained_candidate=role == trained)
        for index, role in enumerate(roles)
    ]


# ------------------------------------------------------------------ the transcription itself


def test_registered_under_the_courtage_entry_point() -> None:
    names = {ep.name: ep.value for ep in entry_points(group="ltiservice.plugins")}
    assert names["courtage"] == "ltiservice_cqp_courtage:plugin"


def test_certification_header_follows_the_fiche(referential: Referential) -> None:
    certification = referential.certification
    assert certification.code == "COURTAGE"
    assert certification.rncp_code == "RNCP31395"
    assert certification.version == "RNCP31395"
    assert certification.supersedes is None
    assert certification.level is None  # the fiche states no level for the CQP
    assert certification.registration_end_date == datetime.date(2021, 8, 7)
    assert len(certification.certifiers) == 1
    assert "(CSCA)" in certification.certifiers[0]
    assert "Chargé de clientèle en courtage d'assurances" in certification.title


def test_blocks_competencies_and_criteria_are_all_there(referential: Referential) -> None:
    structure = {
        block.code: {c.code: len(c.criteria) for c in block.competencies}
        for block in referential.blocks
    }
    assert structure == EXPECTED_STRUCTURE
    assert sum(len(block.competencies) for block in referential.blocks) == 19
    assert [block.code for block in referential.blocks] == list(EXPECTED_STRUCTURE)


def test_criteria_are_marked_derived_since_the_fiche_gives_none(referential: Referential) -> None:
    for block in referential.blocks:
        for competency in block.competencies:
            (criterion,) = competency.criteria
            assert criterion.derived is True
            assert criterion.id == f"{competency.code}-1"
            assert criterion.wording.endswith(competency.wording)


def test_wording_is_verbatim(referential: Referential) -> None:
    assert referential.competency("C9").wording == (
        "Etablir le cahier des charges du besoin client ou du/des risque(s) à couvrir et lancer "
        "l'appel d'offres auprès des organismes assureurs."
    )
    assert referential.block("BC8").title == (
        "Réaliser le suivi et l'instruction des dossiers sinistres"
    )


def test_both_block_numberings_are_kept(referential: Referential) -> None:
    numbers = {block.code: block.other_codes.get("fiche") for block in referential.blocks}
    assert numbers == EXPECTED_FICHE_NUMBERS
    # The fiche gives no RNCP31395BCxx code.
    assert {block.rncp_block_code for block in referential.blocks} == {None}


def test_blocks_six_to_eight_are_the_optional_ones(referential: Referential) -> None:
    groups = {block.code: block.option_group for block in referential.blocks}
    assert {code for code, group in groups.items() if group is None} == set(COMMON)
    assert len({groups["BC6"], groups["BC7"], groups["BC8"]} - {None}) == 1
    (choose,) = referential.combination.choose
    assert (choose.from_blocks, choose.count) == (("BC6", "BC7", "BC8"), 2)
    assert referential.combination.required_blocks == COMMON
    assert referential.combination.final_interview is False


def test_every_block_is_assessed_by_the_three_sources(referential: Referential) -> None:
    for block in referential.blocks:
        modalities = block.evaluation_modalities
        assert len(modalities) == 3, block.code
        assert modalities[0].startswith("Evaluation par l'organisme de formation")
        assert modalities[1].startswith("Evaluation par le référent en entreprise")
        assert modalities[2].startswith("Evaluation par la commission d'évaluation")
        assert "Cas pratique à préparer par le candidat dans un temps limité" in modalities[2]


# Each block's « Modalités d'évaluation » in the fiche, one épreuve each (seed 002, verbatim).
EXPECTED_EPREUVES = (
    (
        "OF",
        "Evaluation par l'organisme de formation",
        "Cas pratique : épreuve écrite + présentation orale",
        "training_organisation",
    ),
    (
        "REF",
        "Evaluation par le référent en entreprise",
        "Observation au poste ou mise en situation professionnelle reconstituée",
        "company_referent",
    ),
    (
        "COM",
        "Evaluation par la commission d'évaluation",
        "Question de connaissances sur les fondamentaux de l'assurance, la réglementation des "
        "produits d'assurances. + Cas pratique à préparer par le candidat dans un temps limité "
        "et à présenter oralement",
        "evaluation_commission",
    ),
)


def test_every_block_has_the_three_epreuves_of_the_fiche(referential: Referential) -> None:
    for block in referential.blocks:
        found = [
            (e.code, e.title, e.modality, *(e.jury.required_roles if e.jury else ()))
            for e in block.epreuves
        ]
        assert found == [tuple(expected) for expected in EXPECTED_EPREUVES], block.code
        assert [e.code for e in block.required_epreuves] == ["OF", "REF", "COM"]
        for epreuve, modality in zip(block.epreuves, block.evaluation_modalities, strict=True):
            # The épreuve is the modality the fiche lists: « <title> <modality> ».
            assert modality == f"{epreuve.title} {epreuve.modality}"


def test_each_epreuve_is_graded_by_its_one_actor(
    plugin: CertificationPlugin, referential: Referential
) -> None:
    block = referential.block("BC4")
    for code, _, _, role in EXPECTED_EPREUVES:
        epreuve = block.epreuve(code)
        seats = [Seat("evaluateur-1", role)]
        assert plugin.rules.committee_problems(referential, block, epreuve, seats) == []
        other = next(r for r in JURY_ROLES if r != role)
        problems = plugin.rules.committee_problems(
            referential, block, epreuve, [Seat("evaluateur-2", other)]
        )
        assert [p.code for p in problems] == ["unknown_role", "missing_role"]


def test_a_block_is_proposed_acquired_only_with_its_three_epreuves_acquired(
    plugin: CertificationPlugin, referential: Referential
) -> None:
    block = referential.block("BC1")
    assert plugin.rules.epreuves_acquired(block, {"OF": True, "REF": True, "COM": True})
    assert not plugin.rules.epreuves_acquired(block, {"OF": True, "REF": False, "COM": True})


def test_every_block_has_a_usable_case(referential: Referential) -> None:
    by_block = {case.block for case in referential.cases}
    assert by_block == set(EXPECTED_STRUCTURE)
    for case in referential.cases:
        assert case.statement.count("\n\n") >= 2, case.id  # several paragraphs
        assert len(case.deliverables) >= 3, case.id
        assert case.duration_minutes is not None and case.duration_minutes >= 60


def test_fleet_case_gives_three_quotes_to_benchmark(referential: Referential) -> None:
    (case,) = [case for case in referential.cases if case.block == "BC4"]
    assert "| Prime annuelle TTC | 100 480 € | 91 200 € | 86 700 € |" in case.statement
    assert any("Cahier des charges" in item for item in case.deliverables)


# ------------------------------------------------------------------ verdicts -> block


def test_block_with_every_criterion_met_is_acquired(
    plugin: CertificationPlugin, referential: Referential
) -> None:
    outcome = plugin.rules.block_outcome(referential.block("BC4"), _verdicts(referential, "BC4"))
    assert outcome.acquired is True
    assert (outcome.acquired_count, outcome.competency_count) == (5, 5)
    assert plugin.rules.lms_grade(referential, outcome) == (100.0, 100.0)


def test_one_competency_not_observed_keeps_the_block_not_acquired(
    plugin: CertificationPlugin, referential: Referential
) -> None:
    verdicts = _verdicts(referential, "BC4") | {"C10-1": "not_observed"}
    outcome = plugin.rules.block_outcome(referential.block("BC4"), verdicts)
    assert outcome.acquired is False
    assert (outcome.acquired_count, outcome.competency_count) == (4, 5)
    assert [r.code for r in outcome.competencies if not r.acquired] == ["C10"]
    assert plugin.rules.lms_grade(referential, outcome) == (80.0, 100.0)


def test_missing_verdict_counts_as_not_met(
    plugin: CertificationPlugin, referential: Referential
) -> None:
    verdicts = _verdicts(referential, "BC8")
    del verdicts["C19-1"]
    outcome = plugin.rules.block_outcome(referential.block("BC8"), verdicts)
    assert outcome.acquired is False
    assert plugin.rules.lms_grade(referential, outcome) == (50.0, 100.0)


# ------------------------------------------------------------------ blocks -> certification


def test_five_common_blocks_and_two_optional_ones_certify(plugin: CertificationPlugin) -> None:
    status = _status(plugin, {*COMMON, "BC6", "BC7"})
    assert status.granted is True
    assert status.missing == ()


def test_one_optional_block_is_not_enough(plugin: CertificationPlugin) -> None:
    status = _status(plugin, {*COMMON, "BC6"})
    assert status.granted is False
    (sentence,) = status.missing
    assert sentence.startswith("1 bloc à acquérir parmi")
    assert all(code in sentence for code in ("BC6", "BC7", "BC8"))


def test_three_optional_blocks_do_not_replace_a_common_one(plugin: CertificationPlugin) -> None:
    status = _status(plugin, {"BC1", "BC2", "BC3", "BC4", "BC6", "BC7", "BC8"})
    assert status.granted is False
    (sentence,) = status.missing
    assert "BC5" in sentence
    assert "Gérer un portefeuille clients et contribuer au développement commercial" in sentence


def test_all_eight_blocks_certify(plugin: CertificationPlugin) -> None:
    status = _status(plugin, set(EXPECTED_STRUCTURE))
    assert status.granted is True
    assert status.acquired_blocks == frozenset(EXPECTED_STRUCTURE)


def test_nothing_acquired_lists_every_need(plugin: CertificationPlugin) -> None:
    status = _status(plugin, set())
    assert status.granted is False
    assert len(status.missing) == 6  # five common blocks + two among BC6-BC8
    assert status.missing[-1].startswith("2 blocs à acquérir parmi")


# ------------------------------------------------------------------ jury


def test_the_three_sources_form_a_jury(
    plugin: CertificationPlugin, referential: Referential
) -> None:
    seats = _seats(*JURY_ROLES)
    assert plugin.rules.jury_problems(referential, referential.block("BC1"), seats) == []


def test_jury_without_the_company_referent_cannot_decide(
    plugin: CertificationPlugin, referential: Referential
) -> None:
    seats = _seats("training_organisation", "evaluation_commission")
    problems = plugin.rules.jury_problems(referential, referential.block("BC3"), seats)
    assert [problem.code for problem in problems] == ["min_evaluators", "missing_role"]
    assert "Référent en entreprise" in problems[1].message


def test_three_evaluators_still_need_each_source(
    plugin: CertificationPlugin, referential: Referential
) -> None:
    seats = _seats("training_organisation", "training_organisation", "evaluation_commission")
    problems = plugin.rules.jury_problems(referential, referential.block("BC3"), seats)
    assert [problem.code for problem in problems] == ["missing_role"]


def test_the_fiche_sets_no_exclusion(plugin: CertificationPlugin, referential: Referential) -> None:
    # The training organisation trains the candidate by definition; nothing bars it.
    seats = _seats(*JURY_ROLES, trained="training_organisation")
    assert plugin.rules.jury_problems(referential, referential.block("BC1"), seats) == []
