"""The block an assessment grades, as its plugin describes it, and live outcomes for the page."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app

from ltiservice.errors import ServiceError
from ltiservice.grading.interface import (
    VERDICTS,
    Block,
    BlockOutcome,
    CertificationPlugin,
    Epreuve,
    JuryRequirements,
    Referential,
    Verdict,
)
from ltiservice.models import Assessment

#: French labels of the verdicts, in the order the rubric shows them.
VERDICT_LABELS: dict[str, str] = {
    "met": "Acquis",
    "not_met": "Non acquis",
    "not_observed": "Non observé",
}


@dataclass(frozen=True)
class Rubric:
    """The plugin, referential version, block and épreuve an assessment is graded against."""

    plugin: CertificationPlugin
    referential: Referential
    block: Block
    #: None: the block's one implicit épreuve.
    epreuve: Epreuve | None = None

    @property
    def jury(self) -> JuryRequirements:
        """The committee that grades this assessment: the épreuve's own, else the block's."""
        if self.epreuve is not None and self.epreuve.jury is not None:
            return self.epreuve.jury
        return self.referential.jury

    @property
    def criterion_ids(self) -> tuple[str, ...]:
        return tuple(criterion.id for criterion in self.block.criteria())

    def outcome(self, verdicts: Mapping[str, Verdict]) -> BlockOutcome:
        """The block's outcome by the plugin's rules (a missing verdict counts as not met)."""
        return self.plugin.rules.block_outcome(self.block, verdicts)

    def missing(self, verdicts: Mapping[str, Any]) -> list[str]:
        """Criteria ids without a verdict, in rubric order."""
        return [cid for cid in self.criterion_ids if verdicts.get(cid) not in VERDICTS]


def rubric_for(assessment: Assessment) -> Rubric:
    """The rubric of an assessment; a French error if its plugin or version is gone."""
    plugins: Mapping[str, CertificationPlugin] = current_app.extensions["plugins"]
    plugin = plugins.get(assessment.certification_code)
    if plugin is None:
        raise ServiceError(
            f"La certification « {assessment.certification_code} » n'est plus installée sur "
            "le service : contactez l'administrateur.",
            code="plugin_missing",
            status=500,
        )
    try:
        referential = plugin.referential(assessment.referential_version)
        block = referential.block(assessment.block_code)
        epreuve = block.epreuve(assessment.epreuve_code) if assessment.epreuve_code else None
    except KeyError as exc:
        raise ServiceError(
            f"Le référentiel {assessment.referential_version}, le bloc "
            f"{assessment.block_code} ou son épreuve {assessment.epreuve_code or ''} est "
            f"introuvable dans la certification {assessment.certification_code}.",
            code="referential_missing",
            status=500,
        ) from exc
    return Rubric(plugin, referential, block, epreuve)


def epreuve_label(epreuve: Epreuve) -> str:
    """« Épreuve OF — Évaluation par l'organisme de formation (cas pratique …) »."""
    return f"Épreuve {epreuve.code} — {epreuve.title} ({epreuve.actor} : {epreuve.modality})"


def outcome_summary(block_code: str, outcome: BlockOutcome) -> str:
    """One French sentence: « Bloc B2B acquis — 6/6 compétences »."""
    state = "acquis" if outcome.acquired else "non acquis"
    return (
        f"Bloc {block_code} {state} — {outcome.acquired_count}/{outcome.competency_count} "
        "compétences"
    )


def outcome_json(block_code: str, outcome: BlockOutcome) -> dict[str, Any]:
    """The outcome as the grading page's script reads it."""
    return {
        "block_code": block_code,
        "acquired": outcome.acquired,
        "acquired_count": outcome.acquired_count,
        "competency_count": outcome.competency_count,
        "summary": outcome_summary(block_code, outcome),
        "competencies": [
            {"code": r.code, "acquired": r.acquired, "met": r.met, "total": r.total}
            for r in outcome.competencies
        ],
    }
