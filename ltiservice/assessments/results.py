"""A learner's result on a block: the decision in force, per competency and criterion."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ltiservice.grading.interface import Block
from ltiservice.models import Assessment, Decision, Submission

VERDICT_LABELS = {
    "met": "Acquis",
    "not_met": "Non acquis",
    "not_observed": "Non observé",
}


@dataclass(frozen=True)
class CriterionResult:
    id: str
    wording: str
    verdict: str | None
    label: str
    remarks: tuple[str, ...]


@dataclass(frozen=True)
class CompetencyView:
    code: str
    wording: str
    acquired: bool | None
    criteria: tuple[CriterionResult, ...]


@dataclass(frozen=True)
class BlockResult:
    decision: Decision
    acquired: bool
    competencies: tuple[CompetencyView, ...]


def decision_in_force(db: Session, assessment: Assessment, person_id: int) -> Decision | None:
    """The newest decision on the learner's work that no other decision supersedes."""
    decisions = list(
        db.scalars(
            select(Decision)
            .join(Submission, Decision.submission_id == Submission.id)
            .where(Submission.assessment_id == assessment.id, Submission.person_id == person_id)
            .order_by(Decision.id)
        )
    )
    superseded = {d.supersedes_id for d in decisions if d.supersedes_id is not None}
    standing = [d for d in decisions if d.id not in superseded]
    return standing[-1] if standing else None


def block_result(decision: Decision, block: Block) -> BlockResult:
    """The decision laid over the block's competencies and criteria, in document order."""
    acquired = _competency_flags(decision.competency_results)
    competencies = []
    for competency in block.competencies:
        criteria = tuple(
            _criterion(c.id, c.wording, decision.verdicts, decision.remarks)
            for c in competency.criteria
        )
        competencies.append(
            CompetencyView(
                competency.code, competency.wording, acquired.get(competency.code), criteria
            )
        )
    return BlockResult(decision, decision.block_acquired, tuple(competencies))


def _criterion(
    id: str, wording: str, verdicts: dict[str, Any], remarks: dict[str, Any]
) -> CriterionResult:
    raw = verdicts.get(id)
    verdict = raw.get("verdict") if isinstance(raw, dict) else raw
    label = VERDICT_LABELS.get(str(verdict), "Non évalué")
    return CriterionResult(id, wording, verdict, label, _remarks(remarks.get(id)))


def _remarks(raw: Any) -> tuple[str, ...]:
    """Remarks as the decision stored them: one text, a list of texts, or of {remark|text}."""
    if raw is None:
        return ()
    items = raw if isinstance(raw, list) else [raw]
    texts = []
    for item in items:
        if isinstance(item, dict):
            item = item.get("remark") or item.get("text") or ""
        if str(item).strip():
            texts.append(str(item).strip())
    return tuple(texts)


def _competency_flags(raw: Any) -> dict[str, bool]:
    """Competency code -> acquired, from a list of results or a {code: result} mapping."""
    flags: dict[str, bool] = {}
    if isinstance(raw, dict):
        for code, value in raw.items():
            flags[code] = (
                value is True
                or value == "acquired"
                or (isinstance(value, dict) and bool(value.get("acquired")))
            )
    elif isinstance(raw, list):
        for item in raw:
            if isinstance(item, dict) and "code" in item:
                flags[item["code"]] = bool(item.get("acquired"))
    return flags
