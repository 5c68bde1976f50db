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

    def page_outcome(self, verdicts: Mapping[str, Verdict]) -> dict[str, Any]:
        """The outcome as the grading page shows it, « en cours » while criteria are unset."""
        return outcome_json(
            self.block.code, self.outcome(verdicts), filled_by_competency(self.block, verdicts)
        )

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


def outcome_json(
    block_code: str, outcome: BlockOutcome, filled: Mapping[str, int] | None = None
) -> dict[str, Any]:
    """The outcome as the grading page's script reads it.

    ``filled``: competency code -> criteria with a verdict. A competency with a criterion
    still unset is « en cours », and so is the block while one is: the page does not call a
    block « non acquis » before the evaluator has said so.
    """
    counts = filled if filled is not None else {r.code: r.total for r in outcome.competencies}
    competencies = [
        {
            "code": r.code,
            "acquired": r.acquired,
            "met": r.met,
            "total": r.total,
            "filled": counts.get(r.code, 0),
            "complete": counts.get(r.code, 0) >= r.total,
        }
        for r in outcome.competencies
    ]
    criterion_count = sum(r.total for r in outcome.competencies)
    filled_count = sum(min(counts.get(r.code, 0), r.total) for r in outcome.competencies)
    in_progress = filled_count < criterion_count
    return {
        "block_code": block_code,
        "acquired": outcome.acquired and not in_progress,
        "acquired_count": outcome.acquired_count,
        "competency_count": outcome.competency_count,
        "in_progress": in_progress,
        "filled_count": filled_count,
        "criterion_count": criterion_count,
        "incomplete_count": sum(1 for c in competencies if not c["complete"]),
        "summary": (
            f"Bloc {block_code} en cours — {filled_count}/{criterion_count} critères renseignés"
            if in_progress
            else outcome_summary(block_code, outcome)
        ),
        "competencies": competencies,
    }


def filled_by_competency(block: Block, verdicts: Mapping[str, Any]) -> dict[str, int]:
    """competency code -> how many of its criteria have a verdict."""
    return {
        competency.code: sum(1 for c in competency.criteria if verdicts.get(c.id) in VERDICTS)
        for competency in block.competencies
    }


def first_missing(block: Block, verdicts: Mapping[str, Any]) -> dict[str, str]:
    """competency code -> its first criterion without a verdict (complete ones left out)."""
    found: dict[str, str] = {}
    for competency in block.competencies:
        for criterion in competency.criteria:
            if verdicts.get(criterion.id) not in VERDICTS:
                found[competency.code] = criterion.id
                break
    return found
