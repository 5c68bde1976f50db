"""What an evaluator sends, read from the grading form or the autosave JSON body."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from werkzeug.datastructures import MultiDict

from ltiservice.errors import ServiceError
from ltiservice.grading.interface import Block

MAX_REMARK = 5000


@dataclass(frozen=True)
class EvaluationInput:
    """One evaluator's whole reading as the page holds it (autosave replaces the draft)."""

    verdicts: dict[str, str] = field(default_factory=dict)
    remarks: dict[str, str] = field(default_factory=dict)
    jury_role: str | None = None
    trained_candidate: bool = False
    session_dates: tuple[datetime.date, ...] = ()
    remark: str = ""


def _text(value: Any) -> str:
    text = value if isinstance(value, str) else ""
    if len(text) > MAX_REMARK:
        raise ServiceError(f"Une remarque dépasse {MAX_REMARK} caractères.", code="too_long")
    return text.strip()


def _dates(values: list[Any]) -> tuple[datetime.date, ...]:
    dates = []
    for value in values:
        if not isinstance(value, str) or not value.strip():
            continue
        try:
            dates.append(datetime.date.fromisoformat(value.strip()))
        except ValueError as exc:
            raise ServiceError(
                f"La date de séance « {value} » n'est pas une date valide (AAAA-MM-JJ).",
                code="bad_date",
            ) from exc
    return tuple(sorted(set(dates)))


def from_form(form: MultiDict[str, str], criterion_ids: tuple[str, ...]) -> EvaluationInput:
    """Fields `verdict-<id>`, `remark-<id>`, `jury_role`, `trained_candidate`,
    `session_dates` (repeated) and `remark`."""
    verdicts = {cid: form[f"verdict-{cid}"] for cid in criterion_ids if form.get(f"verdict-{cid}")}
    remarks = {cid: _text(form.get(f"remark-{cid}", "")) for cid in criterion_ids}
    return EvaluationInput(
        verdicts=verdicts,
        remarks={cid: text for cid, text in remarks.items() if text},
        jury_role=form.get("jury_role") or None,
        trained_candidate=form.get("trained_candidate") in {"on", "1", "true"},
        session_dates=_dates(form.getlist("session_dates")),
        remark=_text(form.get("remark", "")),
    )


def from_json(body: Any) -> EvaluationInput:
    """``{verdicts: {id: verdict}, remarks: {id: text}, jury_role, trained_candidate,
    session_dates: [iso], remark}``."""
    if not isinstance(body, Mapping):
        raise ServiceError("Le corps de la requête doit être un objet JSON.", code="bad_json")
    verdicts = body.get("verdicts") or {}
    remarks = body.get("remarks") or {}
    dates = body.get("session_dates") or []
    if not isinstance(verdicts, Mapping) or not isinstance(remarks, Mapping):
        raise ServiceError("« verdicts » et « remarks » doivent être des objets.", code="bad_json")
    if not isinstance(dates, list):
        raise ServiceError("« session_dates » doit être une liste de dates.", code="bad_json")
    role = body.get("jury_role")
    return EvaluationInput(
        verdicts={str(k): str(v) for k, v in verdicts.items() if v},
        remarks={str(k): _text(v) for k, v in remarks.items() if _text(v)},
        jury_role=str(role) if role else None,
        trained_candidate=body.get("trained_candidate") is True,
        session_dates=_dates(dates),
        remark=_text(body.get("remark", "")),
    )


def all_met(data: EvaluationInput, block: Block, competency_code: str) -> EvaluationInput:
    """« Tout acquis » for one competency (the no-script button): every criterion met."""
    competency = next((c for c in block.competencies if c.code == competency_code), None)
    if competency is None:
        raise ServiceError(
            f"La compétence « {competency_code} » n'existe pas dans ce bloc.",
            code="unknown_competency",
        )
    verdicts = dict(data.verdicts) | {criterion.id: "met" for criterion in competency.criteria}
    return replace(data, verdicts=verdicts)
