"""How the decisions and ledger CSV read for a person: French headers, labels and dates.

The records (``records.py``) hold codes and ISO UTC dates, which the JSON keeps for programs.
The CSV is a document an organisation files or opens in Excel: each column gets a French
header, dates become « JJ/MM/AAAA HH:MM » in Europe/Paris, the decision and the jury roles
their French wording; the codes stay, in extra columns at the end, for the machines that
read the CSV too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ltiservice.exports.scope import PARIS
from ltiservice.grading.interface import CertificationPlugin

HEADERS = {
    "organisation": "Organisme",
    "certification_code": "Certification",
    "rncp_code": "Code RNCP",
    "referential_version": "Version du référentiel",
    "block_code": "Bloc",
    "rncp_block_code": "Code RNCP du bloc",
    "person_id": "N° d'apprenant",
    "platform_issuer": "Plateforme",
    "lti_sub": "Identifiant sur la plateforme",
    "name": "Nom",
    "email": "Courriel",
    "assessment_id": "N° d'évaluation",
    "submission_id": "N° de travail remis",
    "attempt": "Tentative",
    "submitted_at": "Remis le",
    "decision_id": "N° de décision",
    "decided_at": "Décision du",
    "decision": "Décision",
    "competencies_acquired": "Compétences acquises",
    "competencies_total": "Compétences évaluées",
    "score_given": "Note",
    "score_maximum": "Note maximale",
    "evaluator_roles": "Composition du comité",
    "supersedes_id": "Corrige la décision n°",
    "correction_reason": "Motif de la correction",
    "superseded_by": "Corrigée par la décision n°",
    "ledger_entry_id": "N° d'inscription au registre",
    "acquired_at": "Acquis le",
}
#: Columns whose value is a code: the label goes in the column, the code in an extra one.
CODE_HEADERS = {"decision": "Code de la décision", "evaluator_roles": "Codes des rôles"}
DATES = ("submitted_at", "decided_at", "acquired_at")
DECISIONS = {"acquis": "Acquis", "non_acquis": "Non acquis"}


def french_moment(iso: str | None) -> str | None:
    """``2025-06-10T10:00:00+00:00`` → ``10/06/2025 12:00`` (Paris time)."""
    if not iso:
        return None
    return dt.datetime.fromisoformat(iso).astimezone(PARIS).strftime("%d/%m/%Y %H:%M")


@dataclass(frozen=True)
class Column:
    """One CSV column: its header and how it reads a record."""

    header: str
    value: Callable[[dict[str, Any]], Any]


def csv_columns(columns: Sequence[str], plugin: CertificationPlugin) -> list[Column]:
    """The CSV's columns for these record columns: French first, then the codes."""

    def roles(record: dict[str, Any]) -> list[str]:
        referential = plugin.referentials.get(record.get("referential_version") or "")
        label = referential.jury.role_label if referential else (lambda role: role)
        return [label(role) for role in record["evaluator_roles"] or []]

    def plain(name: str) -> Callable[[dict[str, Any]], Any]:
        if name in DATES:
            return lambda record: french_moment(record[name])
        if name == "decision":
            return lambda record: DECISIONS.get(record[name], record[name])
        if name == "evaluator_roles":
            return roles
        return lambda record: record[name]

    layout = [Column(HEADERS.get(name, name), plain(name)) for name in columns]
    layout += [
        Column(header, _raw(name)) for name, header in CODE_HEADERS.items() if name in columns
    ]
    return layout


def _raw(name: str) -> Callable[[dict[str, Any]], Any]:
    return lambda record: record[name]
