"""Golden cases of the Mutualité plugin, written from the fiche RNCP39866 (seed 003).

Verdicts in, block and certification outcome out. The fiche: « Chaque bloc peut être obtenu
séparément dès lors que le candidat valide 100% des compétences du bloc » and the certification
needs every block plus the final interview held by the jury de délivrance.
"""

from __future__ import annotations

import datetime
from importlib.metadata import entry_points

import pytest
from ltiservice_cqp_mutualite import MutualiteRules

from ltiservice.grading.interface import (
    CertificationPlugin,
    CertificationStatus,
    Referential,
    Rules,
    Seat,
    Verdict,
)
from ltiservice.grading.loader import load_plugins

# Block -> competency -> number of criteria (the fiche gives none: one derived criterion each).
EXPECTED_STRUCTURE = {
    "BC01": {"C1.1": 1, "C1.2": 1, "C1.3": 1, "C1.4": 1, "C1.5": 1, "C1.6": 1},
    "BC02": {"C2.1": 1, "C2.2": 1, "C2.3": 1, "C2.4": 1},
    "BC03": {"C3.1": 1, "C3.2": 1, "C3.3": 1, "C3.4": 1},
    "BC04": {"C4.1": 1, "C4.2": 1, "C4.3": 1, "C4.4": 1, "C4.5": 1},
}
ALL_BLOCKS = frozenset(EXPECTED_STRUCTURE)
INTERVIEW = "final_interview_passed"


@pytest.fixture(scope="module")
def plugin() -> CertificationPlugin:
    return load_plugins()["MUTUALITE"]


@pytest.fixture(scope="module")
def referential(plugin: CertificationPlugin) -> Referential:
    return plugin.current


def _all_met(referential: Referential) -> dict[str, Verdict]:
    return {c.id: "met" for block in referential.blocks for c in block.criteria()}


def _acquired(plugin: CertificationPlugin, verdicts: dict[str, Verdict]) -> set[str]:
    referential = plugin.current
    return {
        block.code
        for block in referential.blocks
        if plugin.rules.block_outcome(block, verdicts).acquired
    }


def _status(plugin: CertificationPlugin, blocks: set[str], interview: bool) -> CertificationStatus:
    return plugin.rules.certification_status(plugin.current, blocks, {INTERVIEW: interview})


# ------------------------------------------------------------------ the transcription itself


def test_registered_under_the_mutualite_entry_point() -> None:
    names = {ep.name: ep.value for ep in entry_points(group="ltiservice.plugins")}
    assert names["mutualite"] == "ltiservice_cqp_mutualite:plugin"


def test_certification_header_follows_the_fiche(referential: Referential) -> None:
    certification = referential.certification
    assert certification.code == "MUTUALITE"
    assert certification.rncp_code == "RNCP39866"
    assert certification.level == 5
    assert certification.registration_end_date == datetime.date(2027, 11, 28)
    assert certification.certifiers == (
        "ASSOCIATION NATIONALE DES EMPLOYEURS DE LA MUTUALITE",
        "CPNEFP Mutualité",
    )


def test_blocks_competencies_and_criteria_are_all_there(referential: Referential) -> None:
    structure = {
        block.code: {c.code: len(c.criteria) for c in block.competencies}
        for block in referential.blocks
    }
    assert structure == EXPECTED_STRUCTURE
    assert sum(len(block.competencies) for block in referential.blocks) == 19
    assert [block.rncp_block_code for block in referential.blocks] == [
        "RNCP39866BC01",
        "RNCP39866BC02",
        "RNCP39866BC03",
        "RNCP39866BC04",
    ]
    assert {block.option_group for block in referential.blocks} == {None}


def test_criteria_are_marked_derived_since_the_fiche_gives_none(referential: Referential) -> None:
    for block in referential.blocks:
        for competency in block.competencies:
            (criterion,) = competency.criteria
            assert criterion.derived is True
            assert criterion.wording.endswith(competency.wording)


def test_wording_is_verbatim(referential: Referential) -> None:
    assert referential.block("BC01").title == "Assurer l\u2019accueil des clients et des prospects"
    assert referential.competency("C1.6").wording == (
        "Traiter les situations difficiles en utilisant des techniques de gestion de conflits "
        "pour restaurer la relation avec les clients/adhérents"
    )
    assert referential.block("BC02").evaluation_modalities == ("Mise en situation et entretien",)


def test_combination_is_every_block_and_the_final_interview(referential: Referential) -> None:
    combination = referential.combination
    assert combination.required_blocks == ("BC01", "BC02", "BC03", "BC04")
    assert combination.choose == ()
    assert combination.final_interview is True


def test_every_block_has_a_usable_case(referential: Referential) -> None:
    assert {case.block for case in referential.cases} == ALL_BLOCKS
    for case in referential.cases:
        assert case.statement.count("\n\n") >= 2, case.id
        assert len(case.deliverables) >= 3, case.id
        assert case.duration_minutes is not None


def test_optical_case_describes_the_documents(referential: Referential) -> None:
    (case,) = [case for case in referential.cases if case.block == "BC01"]
    for document in ("facture de l'opticien", "décompte", "tableau des garanties", "ordonnance"):
        assert document in case.statement


# ------------------------------------------------------------------ verdicts -> block


def test_plugin_states_the_100_percent_rule(plugin: CertificationPlugin) -> None:
    assert isinstance(plugin.rules, MutualiteRules)
    assert "100% des compétences du bloc" in (MutualiteRules.__doc__ or "")


def test_block_at_four_competencies_out_of_five_is_not_acquired(
    plugin: CertificationPlugin, referential: Referential
) -> None:
    verdicts = _all_met(referential) | {"C4.3-1": "not_met"}
    outcome = plugin.rules.block_outcome(referential.block("BC04"), verdicts)
    assert outcome.acquired is False
    assert (outcome.acquired_count, outcome.competency_count) == (4, 5)
    assert plugin.rules.lms_grade(referential, outcome) == (80.0, 100.0)


def test_block_with_every_competency_is_acquired(
    plugin: CertificationPlugin, referential: Referential
) -> None:
    outcome = plugin.rules.block_outcome(referential.block("BC04"), _all_met(referential))
    assert outcome.acquired is True
    assert plugin.rules.lms_grade(referential, outcome) == (100.0, 100.0)


def test_lms_grade_is_the_share_of_competencies(
    plugin: CertificationPlugin, referential: Referential
) -> None:
    verdicts = _all_met(referential) | {
        "C1.1-1": "not_observed",
        "C1.4-1": "not_met",
        "C1.6-1": "not_met",
    }
    outcome = plugin.rules.block_outcome(referential.block("BC01"), verdicts)
    assert outcome.acquired is False
    assert plugin.rules.lms_grade(referential, outcome) == (50.0, 100.0)
    outcome = plugin.rules.block_outcome(referential.block("BC02"), {"C2.1-1": "met"})
    assert plugin.rules.lms_grade(referential, outcome) == (25.0, 100.0)


def test_explicit_rule_agrees_with_the_core_default(
    plugin: CertificationPlugin, referential: Referential
) -> None:
    verdicts = _all_met(referential) | {"C3.2-1": "not_observed"}
    for block in referential.blocks:
        assert plugin.rules.block_outcome(block, verdicts) == Rules().block_outcome(block, verdicts)


# ------------------------------------------------------------------ blocks -> certification


def test_eighteen_competencies_out_of_nineteen_do_not_certify(plugin: CertificationPlugin) -> None:
    verdicts = _all_met(plugin.current) | {"C4.5-1": "not_met"}
    acquired = _acquired(plugin, verdicts)
    assert acquired == {"BC01", "BC02", "BC03"}
    status = _status(plugin, acquired, interview=True)
    assert status.granted is False
    (sentence,) = status.missing
    assert "BC04" in sentence
    assert "Mettre en œuvre les actions commerciales" in sentence


def test_four_blocks_without_the_final_interview_do_not_certify(
    plugin: CertificationPlugin,
) -> None:
    acquired = _acquired(plugin, _all_met(plugin.current))
    assert acquired == ALL_BLOCKS
    status = _status(plugin, acquired, interview=False)
    assert status.granted is False
    (sentence,) = status.missing
    assert "entretien final" in sentence.lower()
    # Without the fact at all, the interview is not taken for granted either.
    assert plugin.rules.certification_status(plugin.current, acquired).granted is False


def test_four_blocks_and_the_final_interview_certify(plugin: CertificationPlugin) -> None:
    status = _status(plugin, set(ALL_BLOCKS), interview=True)
    assert status.granted is True
    assert status.missing == ()
    assert status.acquired_blocks == ALL_BLOCKS


def test_interview_alone_does_not_certify(plugin: CertificationPlugin) -> None:
    status = _status(plugin, {"BC01", "BC03"}, interview=True)
    assert status.granted is False
    assert len(status.missing) == 2
    assert "BC02" in status.missing[0] and "BC04" in status.missing[1]


# ------------------------------------------------------------------ jury


def test_expert_and_professional_form_the_jury(
    plugin: CertificationPlugin, referential: Referential
) -> None:
    seats = [Seat("expert-1", "expert"), Seat("tuteur-1", "professional")]
    assert plugin.rules.jury_problems(referential, referential.block("BC01"), seats) == []


def test_jury_without_its_second_evaluator_cannot_decide(
    plugin: CertificationPlugin, referential: Referential
) -> None:
    seats = [Seat("expert-1", "expert")]
    problems = plugin.rules.jury_problems(referential, referential.block("BC02"), seats)
    assert [problem.code for problem in problems] == ["min_evaluators", "missing_role"]
    assert "au moins 2 évaluateurs" in problems[0].message


def test_same_person_in_both_seats_is_one_evaluator(
    plugin: CertificationPlugin, referential: Referential
) -> None:
    seats = [Seat("expert-1", "expert"), Seat("expert-1", "professional")]
    problems = plugin.rules.jury_problems(referential, referential.block("BC02"), seats)
    assert [problem.code for problem in problems] == ["min_evaluators"]


def test_professional_who_trained_the_candidate_may_not_sit(
    plugin: CertificationPlugin, referential: Referential
) -> None:
    seats = [
        Seat("expert-1", "expert"),
        Seat("formatrice-1", "professional", trained_candidate=True),
    ]
    problems = plugin.rules.jury_problems(referential, referential.block("BC03"), seats)
    assert [problem.code for problem in problems] == ["exclusion"]
    assert "formatrice-1" in problems[0].message
    assert "formé le candidat" in problems[0].message
