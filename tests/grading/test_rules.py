"""Default rules: verdicts -> competency -> block, jury requirements, combination, LMS grade."""

from __future__ import annotations

import dataclasses
import datetime

import pytest

from ltiservice.grading.interface import (
    VERDICTS,
    BlockOutcome,
    CompetencyResult,
    JuryProblem,
    Rules,
    Seat,
    UnknownVerdictError,
)
from ltiservice.grading.referential import Referential

RULES = Rules()
D1, D2, D3 = datetime.date(2025, 3, 3), datetime.date(2025, 3, 10), datetime.date(2025, 3, 17)


def test_verdicts_are_the_three_of_the_design() -> None:
    assert VERDICTS == ("met", "not_met", "not_observed")


@pytest.mark.parametrize(
    ("verdicts", "expected"),
    [
        ({"C1.1-1": "met", "C1.1-2": "met"}, CompetencyResult("C1.1", True, 2, 2)),
        ({"C1.1-1": "met", "C1.1-2": "not_met"}, CompetencyResult("C1.1", False, 1, 2)),
        ({"C1.1-1": "met", "C1.1-2": "not_observed"}, CompetencyResult("C1.1", False, 1, 2)),
        ({"C1.1-1": "met"}, CompetencyResult("C1.1", False, 1, 2)),
        ({}, CompetencyResult("C1.1", False, 0, 2)),
        # verdicts of other competencies do not count here
        (
            {"C1.1-1": "met", "C1.1-2": "met", "C1.2-1": "not_met"},
            CompetencyResult("C1.1", True, 2, 2),
        ),
    ],
)
def test_competency_is_acquired_only_when_every_criterion_is_met(
    demo: Referential, verdicts: dict[str, str], expected: CompetencyResult
) -> None:
    assert RULES.competency_result(demo.competency("C1.1"), verdicts) == expected  # type: ignore[arg-type]


def test_unknown_verdict_is_an_error_not_a_silent_not_met(demo: Referential) -> None:
    with pytest.raises(UnknownVerdictError, match=r"C1\.1-2"):
        RULES.competency_result(demo.competency("C1.1"), {"C1.1-1": "met", "C1.1-2": "yes"})  # type: ignore[dict-item]


def test_block_is_acquired_when_every_competency_is(demo: Referential) -> None:
    all_met = {"C1.1-1": "met", "C1.1-2": "met", "C1.2-1": "met"}
    outcome = RULES.block_outcome(demo.block("B1"), all_met)  # type: ignore[arg-type]

    assert outcome == BlockOutcome(
        "B1", True, (CompetencyResult("C1.1", True, 2, 2), CompetencyResult("C1.2", True, 1, 1))
    )
    assert (outcome.acquired_count, outcome.competency_count) == (2, 2)


def test_block_with_one_competency_short_is_not_acquired(demo: Referential) -> None:
    verdicts = {"C1.1-1": "met", "C1.1-2": "not_observed", "C1.2-1": "met"}
    outcome = RULES.block_outcome(demo.block("B1"), verdicts)  # type: ignore[arg-type]

    assert outcome.acquired is False
    assert (outcome.acquired_count, outcome.competency_count) == (1, 2)
    assert RULES.lms_grade(demo, outcome) == (10.0, 20.0)


@pytest.mark.parametrize(
    ("verdicts", "grade"),
    [
        ({"C1.1-1": "met", "C1.1-2": "met", "C1.2-1": "met"}, (20.0, 20.0)),
        ({"C1.2-1": "met"}, (10.0, 20.0)),
        ({}, (0.0, 20.0)),
    ],
)
def test_lms_grade_is_the_share_of_competencies_acquired(
    demo: Referential, verdicts: dict[str, str], grade: tuple[float, float]
) -> None:
    outcome = RULES.block_outcome(demo.block("B1"), verdicts)  # type: ignore[arg-type]
    assert RULES.lms_grade(demo, outcome) == grade


def test_lms_grade_of_an_empty_outcome_is_zero(demo: Referential) -> None:
    assert RULES.lms_grade(demo, BlockOutcome("B1", False, ())) == (0.0, 20.0)


def _valid_jury() -> list[Seat]:
    return [
        Seat("alice", "hierarchy", session_dates=(D1, D2)),
        Seat("bruno", "other_service", trained_candidate=False, session_dates=(D2, D3)),
    ]


def test_a_complete_jury_has_no_problem(demo: Referential) -> None:
    assert RULES.jury_problems(demo, demo.block("B1"), _valid_jury()) == []


def test_the_other_service_evaluator_must_not_have_trained_the_candidate(demo: Referential) -> None:
    seats = [_valid_jury()[0], Seat("bruno", "other_service", True, (D2, D3))]

    assert RULES.jury_problems(demo, demo.block("B1"), seats) == [
        JuryProblem(
            "exclusion",
            "L'évaluateur bruno ne peut pas siéger comme « Évaluateur d'un autre service » : "
            "il ou elle a formé le candidat.",
        )
    ]


def test_a_trainer_in_the_hierarchy_role_is_not_excluded(demo: Referential) -> None:
    seats = [Seat("alice", "hierarchy", True, (D1, D2)), _valid_jury()[1]]
    assert RULES.jury_problems(demo, demo.block("B1"), seats) == []


def test_one_person_in_two_roles_is_one_evaluator(demo: Referential) -> None:
    seats = [Seat("alice", "hierarchy", session_dates=(D1, D2, D3)), Seat("alice", "other_service")]

    problems = RULES.jury_problems(demo, demo.block("B1"), seats)

    assert problems == [
        JuryProblem(
            "min_evaluators",
            "Le jury doit compter au moins 2 évaluateurs distincts (1 à ce jour).",
        )
    ]


def test_missing_role_unknown_role_and_sessions_are_all_reported(demo: Referential) -> None:
    seats = [
        Seat("alice", "hierarchy", session_dates=(D1, D1)),
        Seat("chloe", "trainer", session_dates=(D1,)),
    ]

    problems = RULES.jury_problems(demo, demo.block("B1"), seats)

    assert [p.code for p in problems] == ["unknown_role", "missing_role", "min_sessions"]
    assert problems[0].message == "Le rôle « trainer » n'existe pas pour ce jury."
    assert (
        problems[1].message
        == "Le rôle « Évaluateur d'un autre service » doit être tenu par un évaluateur."
    )
    assert problems[2].message == (
        "Il faut au moins 3 séances d'observation à des dates différentes (1 à ce jour)."
    )


def test_sessions_without_distinct_dates_count_the_longest_observation(demo: Referential) -> None:
    jury = dataclasses.replace(demo.jury, distinct_session_dates=False)
    referential = dataclasses.replace(demo, jury=jury)
    same_day = [
        Seat("alice", "hierarchy", session_dates=(D1, D1, D1)),
        Seat("bruno", "other_service"),
    ]
    two_days = [
        Seat("alice", "hierarchy", session_dates=(D1, D2)),
        Seat("bruno", "other_service", session_dates=(D3,)),
    ]

    assert RULES.jury_problems(referential, demo.block("B1"), same_day) == []
    assert [p.message for p in RULES.jury_problems(referential, demo.block("B1"), two_days)] == [
        "Il faut au moins 3 séances d'observation (2 à ce jour)."
    ]


def test_no_session_requirement_when_min_sessions_is_null(demo: Referential) -> None:
    referential = dataclasses.replace(demo, jury=dataclasses.replace(demo.jury, min_sessions=None))
    seats = [Seat("alice", "hierarchy"), Seat("bruno", "other_service")]
    assert RULES.jury_problems(referential, demo.block("B1"), seats) == []


FINAL = {"final_interview_passed": True}


@pytest.mark.parametrize(
    ("acquired", "facts", "missing"),
    [
        ({"B1", "B2A", "B3", "B4"}, FINAL, ()),
        ({"B1", "B2B", "B4", "B5"}, FINAL, ()),
        ({"B1", "B2A", "B2B", "B3", "B4", "B5"}, FINAL, ()),
        ({"B1", "B2A", "B3"}, FINAL, ("1 bloc à acquérir parmi B3, B4 et B5.",)),
        ({"B1", "B2A", "B3", "B4"}, {}, ("Entretien final avec le jury à réussir.",)),
        (
            {"B1", "B2A", "B3", "B4"},
            {"final_interview_passed": False},
            ("Entretien final avec le jury à réussir.",),
        ),
        (
            set(),
            {},
            (
                "Bloc B1 à acquérir : Accueillir le client",
                "1 bloc à acquérir parmi B2A et B2B.",
                "2 blocs à acquérir parmi B3, B4 et B5.",
                "Entretien final avec le jury à réussir.",
            ),
        ),
    ],
)
def test_certification_status_applies_the_combination_rule(
    demo: Referential, acquired: set[str], facts: dict[str, bool], missing: tuple[str, ...]
) -> None:
    status = RULES.certification_status(demo, acquired, facts)

    assert status.missing == missing
    assert status.granted is (missing == ())
    assert status.acquired_blocks == frozenset(acquired)


def test_blocks_unknown_to_the_referential_are_ignored(demo: Referential) -> None:
    status = RULES.certification_status(demo, {"B1", "OLD2", "B2A", "B3", "B4"}, FINAL)

    assert status.granted is True
    assert status.acquired_blocks == frozenset({"B1", "B2A", "B3", "B4"})


def test_without_final_interview_the_fact_is_not_needed(demo: Referential) -> None:
    rule = dataclasses.replace(demo.combination, final_interview=False)
    referential = dataclasses.replace(demo, combination=rule)

    assert RULES.certification_status(referential, {"B1", "B2A", "B3", "B4"}).granted is True


def test_a_plugin_overrides_one_rule_and_keeps_the_others(demo: Referential) -> None:
    class LenientRules(Rules):
        def competency_result(self, competency, verdicts):  # type: ignore[no-untyped-def]
            result = super().competency_result(competency, verdicts)
            return dataclasses.replace(result, acquired=result.met >= 1)

    outcome = LenientRules().block_outcome(demo.block("B1"), {"C1.1-1": "met", "C1.2-1": "met"})

    # block_outcome goes through the overridden competency_result
    assert outcome.acquired is True
    assert LenientRules().lms_grade(demo, outcome) == (20.0, 20.0)
