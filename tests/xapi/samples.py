"""Sample inputs for the xAPI tests: CQP CRCA (RNCP41351), block B1, one learner, one jury."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from xapi.model import (
    ActivityRef,
    Actor,
    BlockRef,
    CertificationRef,
    CompetencyResult,
    Decision,
    Evaluation,
    Placement,
    Score,
)
from xapi.statements import (
    build_block_acquired,
    build_block_decided,
    build_certification_earned,
    build_competency_results,
    build_evaluated,
    build_launched,
    build_submitted,
    build_voided,
)
from xapi.vocabulary import Vocabulary

VOCAB = Vocabulary("https://lti.of-exemple.fr/xapi")
ISSUER = "https://moodle.example.org"
LEARNER = Actor(ISSUER, "a1b2c3d4-learner-sub")
EVALUATOR = Actor(ISSUER, "e5f6-evaluator-sub")
CHAIR = Actor(ISSUER, "c7d8-chair-sub")
REGISTRATION = uuid.UUID("5b0f6a0e-7c1d-4b7e-9a53-0c1f2a3b4c5d")
AT = datetime(2025, 3, 14, 9, 30, 0, 123000, tzinfo=timezone(timedelta(hours=1)))

CRCA = CertificationRef(
    code="CRCA",
    rncp_code="RNCP41351",
    title="CQP Chargé(e) de relation clientèle assurance",
    version="RNCP41351",
)
CRCA_2021 = CertificationRef(
    code="CRCA",
    rncp_code="RNCP36140",
    title="CQP Chargé(e) de relation clientèle assurance",
    version="RNCP36140",
)
BLOCK_1 = BlockRef(
    code="B1",
    rncp_block_code=None,
    title="Analyser les besoins des clients et présenter des solutions d'assurance",
)
BC01 = BlockRef(
    code="BC01",
    rncp_block_code="RNCP36140BC01",
    title="Comprendre le besoin du client et lui proposer une offre",
)
PLACEMENT = Placement(
    certification=CRCA,
    block=BLOCK_1,
    course=ActivityRef(VOCAB.course("42"), "CQP CRCA 2025"),
    assessment=ActivityRef(VOCAB.assessment("res-7"), "Étude de cas bloc 1"),
    case=ActivityRef(VOCAB.case("CRCA", "crca-b1-habitation"), "Cas habitation"),
    score_maximum=20,
)
EVALUATION = Evaluation(
    evaluation_id="eval-31",
    evaluator=EVALUATOR,
    jury_role="other_service",
    verdicts={"C1.1-1": "met", "C1.1-2": "not_met", "C1.2-1": "not_observed"},
    score=Score(raw=14, min=0, max=20),
    attempt=2,
)
C11 = CompetencyResult("C1.1", "Personnaliser l'accueil du client", True, 5, 5)
C12 = CompetencyResult("C1.2", "Orienter le client vers le bon interlocuteur", True, 2, 2)
DECISION = Decision(
    decision_id="dec-9",
    acquired=True,
    score=Score(raw=16.67, min=0, max=20),
    competencies=(C11, C12),
    jury=(EVALUATOR, CHAIR),
    attempt=2,
)


def all_statements(learner: Actor = LEARNER, suffix: str = "") -> dict[str, dict[str, Any]]:
    """One statement per kind (both outcomes of a decision, one competency of each), keyed by
    the template kind.

    ``suffix`` makes the events distinct (new ids) so several tests can share one LRS.
    """
    failed = Decision(
        decision_id="dec-8" + suffix,
        acquired=False,
        score=Score(raw=8, min=0, max=20),
        competencies=(C11, CompetencyResult("C1.2", C12.wording, False, 1, 2)),
        jury=(EVALUATOR,),
        attempt=1,
    )
    passed = Decision(
        decision_id=DECISION.decision_id + suffix,
        acquired=True,
        score=DECISION.score,
        competencies=DECISION.competencies,
        jury=DECISION.jury,
        attempt=2,
        supersedes=failed.decision_id,
    )
    evaluation = Evaluation(
        evaluation_id=EVALUATION.evaluation_id + suffix,
        evaluator=EVALUATOR,
        jury_role=EVALUATION.jury_role,
        verdicts=EVALUATION.verdicts,
        score=EVALUATION.score,
        attempt=2,
    )
    failed_competencies = build_competency_results(
        VOCAB, learner, PLACEMENT, REGISTRATION, failed, AT
    )
    statements = {
        "launched": build_launched(
            VOCAB, learner, PLACEMENT, REGISTRATION, "launch-1" + suffix, AT
        ),
        "submitted": build_submitted(
            VOCAB, learner, PLACEMENT, REGISTRATION, "sub-5" + suffix, 2, AT
        ),
        "evaluated": build_evaluated(VOCAB, learner, PLACEMENT, REGISTRATION, evaluation, AT),
        "block-failed": build_block_decided(VOCAB, learner, PLACEMENT, REGISTRATION, failed, AT),
        "block-passed": build_block_decided(VOCAB, learner, PLACEMENT, REGISTRATION, passed, AT),
        "competency-passed": build_competency_results(
            VOCAB, learner, PLACEMENT, REGISTRATION, passed, AT
        )[0],
        "competency-failed": failed_competencies[1],
        "acquired": build_block_acquired(
            VOCAB,
            learner,
            CRCA,
            BLOCK_1,
            PLACEMENT.course,
            REGISTRATION,
            passed.decision_id,
            passed.jury,
            AT,
        ),
        "earned": build_certification_earned(
            VOCAB,
            learner,
            CRCA,
            [BLOCK_1],
            (BLOCK_1, passed.decision_id),
            passed.jury,
            AT.astimezone(UTC),
            REGISTRATION,
        ),
    }
    statements["voided"] = build_voided(
        VOCAB, CHAIR, statements["block-failed"]["id"], REGISTRATION, AT
    )
    return statements
