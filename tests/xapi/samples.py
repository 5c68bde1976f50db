"""Sample inputs for the xAPI tests: CQP CRCA (RNCP36140), block 1, one learner, one jury."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from xapi.model import (
    ActivityRef,
    Actor,
    BlockRef,
    CertificationRef,
    Decision,
    Evaluation,
    Placement,
    Score,
)
from xapi.statements import (
    build_block_acquired,
    build_block_decided,
    build_certification_earned,
    build_evaluated,
    build_launched,
    build_submitted,
    build_voided,
)
from xapi.vocabulary import rncp_iri

ISSUER = "https://moodle.example.org"
LEARNER = Actor(ISSUER, "a1b2c3d4-learner-sub")
EVALUATOR = Actor(ISSUER, "e5f6-evaluator-sub")
REGISTRATION = uuid.UUID("5b0f6a0e-7c1d-4b7e-9a53-0c1f2a3b4c5d")
AT = datetime(2025, 3, 14, 9, 30, 0, 123000, tzinfo=timezone(timedelta(hours=1)))

CRCA = CertificationRef(
    code="CRCA",
    rncp_code="RNCP36140",
    title="CQP Chargé(e) de relation clientèle assurance",
    version="2021",
    iri=rncp_iri("RNCP36140"),
)
BLOCK_1 = BlockRef(
    code="B1",
    rncp_block_code="RNCP36140BC01",
    title="Analyser les besoins des clients et proposer des solutions adaptées",
)
PLACEMENT = Placement(
    certification=CRCA,
    block=BLOCK_1,
    course=ActivityRef("https://moodle.example.org/course/view.php?id=42", "CQP CRCA 2025"),
    assessment=ActivityRef("https://tool.example.org/assessments/7", "Étude de cas bloc 1"),
    case=ActivityRef("https://tool.example.org/cases/crca-b1-habitation", "Cas habitation"),
)
EVALUATION = Evaluation(
    evaluation_id="eval-31",
    evaluator=EVALUATOR,
    jury_role="other_service",
    verdicts={"C1.1-1": "met", "C1.1-2": "not_met", "C1.2-1": "not_observed"},
    score=Score(raw=14, min=0, max=20),
)
DECISION = Decision(
    decision_id="dec-9",
    acquired=True,
    score=Score(raw=80, min=0, max=100),
    competency_results={"C1.1": "acquired", "C1.2": "acquired"},
)


def all_statements(learner: Actor = LEARNER, suffix: str = "") -> dict[str, dict[str, Any]]:
    """One statement per builder (and both outcomes of a decision), keyed by kind.

    ``suffix`` makes the events distinct (new ids) so several tests can share one LRS.
    """
    failed = Decision(
        decision_id="dec-8" + suffix,
        acquired=False,
        score=Score(raw=40, min=0, max=100),
        competency_results={"C1.1": "acquired", "C1.2": "not_acquired"},
    )
    passed = Decision(
        decision_id=DECISION.decision_id + suffix,
        acquired=True,
        score=DECISION.score,
        competency_results=DECISION.competency_results,
    )
    evaluation = Evaluation(
        evaluation_id=EVALUATION.evaluation_id + suffix,
        evaluator=EVALUATOR,
        jury_role=EVALUATION.jury_role,
        verdicts=EVALUATION.verdicts,
        score=EVALUATION.score,
    )
    statements = {
        "launched": build_launched(learner, PLACEMENT, REGISTRATION, "launch-1" + suffix, AT),
        "submitted": build_submitted(learner, PLACEMENT, REGISTRATION, "sub-5" + suffix, AT),
        "evaluated": build_evaluated(learner, PLACEMENT, REGISTRATION, evaluation, AT),
        "failed": build_block_decided(learner, PLACEMENT, REGISTRATION, failed, AT),
        "passed": build_block_decided(learner, PLACEMENT, REGISTRATION, passed, AT),
        "acquired": build_block_acquired(
            learner, CRCA, BLOCK_1, PLACEMENT.course, REGISTRATION, passed.decision_id, AT
        ),
        "earned": build_certification_earned(learner, CRCA, [BLOCK_1], AT.astimezone(UTC)),
    }
    statements["voided"] = build_voided(EVALUATOR, statements["failed"]["id"], AT)
    return statements
