"""One row per learner and block: jury decisions and the capitalisation ledger, streamed.

Rows are plain dicts of JSON-ready values (str, int, float, bool, None, lists of str), read
with ``yield_per`` so a certification's whole history never sits in memory. Every query is
filtered on the organisation at each table that carries it: no row crosses organisations.

A person is pseudonymous by default: ``person_id`` (ours), ``platform_issuer`` and ``lti_sub``
(the key the identities CSV of the accrochage export uses). ``name``/``email`` only on request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from ltiservice.exports.scope import Period, iso
from ltiservice.grading.interface import CertificationPlugin
from ltiservice.models import Assessment, Decision, LedgerEntry, Person, Platform, Submission

BATCH = 500

PERSON_COLUMNS = ("person_id", "platform_issuer", "lti_sub")
NAME_COLUMNS = ("name", "email")
DECISION_COLUMNS = (
    "organisation",
    "certification_code",
    "rncp_code",
    "referential_version",
    "block_code",
    "rncp_block_code",
    *PERSON_COLUMNS,
    "assessment_id",
    "submission_id",
    "attempt",
    "submitted_at",
    "decision_id",
    "decided_at",
    "decision",
    "competencies_acquired",
    "competencies_total",
    "score_given",
    "score_maximum",
    "evaluator_roles",
    "supersedes_id",
    "correction_reason",
)
LEDGER_COLUMNS = (
    "organisation",
    "certification_code",
    "rncp_code",
    "referential_version",
    "block_code",
    "rncp_block_code",
    *PERSON_COLUMNS,
    "ledger_entry_id",
    "acquired_at",
    "decision_id",
    "decided_at",
    "assessment_id",
    "evaluator_roles",
)


@dataclass(frozen=True)
class Scope:
    """One organisation, one certification, one period, and what to include."""

    organisation_id: int
    organisation_slug: str
    plugin: CertificationPlugin
    period: Period
    with_names: bool = False
    all_versions: bool = False

    @property
    def certification_code(self) -> str:
        return self.plugin.code


def decision_columns(scope: Scope) -> tuple[str, ...]:
    """Column order of the decisions export for this scope."""
    columns = _with_names(DECISION_COLUMNS, scope)
    return (*columns, "superseded_by") if scope.all_versions else columns


def ledger_columns(scope: Scope) -> tuple[str, ...]:
    """Column order of the ledger export for this scope."""
    return _with_names(LEDGER_COLUMNS, scope)


def _with_names(columns: tuple[str, ...], scope: Scope) -> tuple[str, ...]:
    if not scope.with_names:
        return columns
    at = columns.index("lti_sub") + 1
    return (*columns[:at], *NAME_COLUMNS, *columns[at:])


# -- decisions ---------------------------------------------------------------------------------

_successor = aliased(Decision)


def _decisions_query(scope: Scope, *columns: Any) -> Select[Any]:
    stmt = (
        select(*columns)
        .join(Submission, Decision.submission_id == Submission.id)
        .join(Assessment, Submission.assessment_id == Assessment.id)
        .join(Person, Decision.person_id == Person.id)
        .join(Platform, Person.platform_id == Platform.id)
        .outerjoin(_successor, _successor.supersedes_id == Decision.id)
        .where(
            Decision.organisation_id == scope.organisation_id,
            Assessment.organisation_id == scope.organisation_id,
            Platform.organisation_id == scope.organisation_id,
            Decision.certification_code == scope.certification_code,
        )
    )
    if not scope.all_versions:
        # Only the standing decision of each submission: the one no correction supersedes.
        stmt = stmt.where(_successor.id.is_(None))
    return _within(stmt, Decision.decided_at, scope)


def _within(stmt: Select[Any], moment: Any, scope: Scope) -> Select[Any]:
    """The statement limited to the scope's period (start included, end excluded)."""
    if scope.period.start is not None:
        stmt = stmt.where(moment >= scope.period.start)
    if scope.period.end is not None:
        stmt = stmt.where(moment < scope.period.end)
    return stmt


def count_decisions(db: Session, scope: Scope) -> int:
    """How many rows `decision_records` will yield (for the progress bar)."""
    return int(db.scalar(_decisions_query(scope, func.count(Decision.id))) or 0)


def decision_records(db: Session, scope: Scope) -> Iterator[dict[str, Any]]:
    """One dict per decision in scope, oldest first, keys in `decision_columns` order."""
    stmt = _decisions_query(
        scope,
        Decision.id,
        Decision.referential_version,
        Decision.block_code,
        Decision.decided_at,
        Decision.block_acquired,
        Decision.competency_results,
        Decision.score_given,
        Decision.score_maximum,
        Decision.evaluators,
        Decision.supersedes_id,
        Decision.correction_reason,
        Submission.id.label("submission_id"),
        Submission.assessment_id,
        Submission.attempt,
        Submission.submitted_at,
        Person.id.label("person_id"),
        Person.sub,
        Person.name,
        Person.email,
        Platform.issuer,
        _successor.id.label("superseded_by"),
    ).order_by(Decision.decided_at, Decision.id)
    codes = _Codes(scope.plugin)
    columns = decision_columns(scope)
    for row in db.execute(stmt.execution_options(yield_per=BATCH)):
        results = row.competency_results or []
        record = {
            **codes.of(row.referential_version, row.block_code, scope),
            **_person(row),
            "assessment_id": row.assessment_id,
            "submission_id": row.submission_id,
            "attempt": row.attempt,
            "submitted_at": iso(row.submitted_at),
            "decision_id": row.id,
            "decided_at": iso(row.decided_at),
            "decision": "acquis" if row.block_acquired else "non_acquis",
            "competencies_acquired": sum(1 for r in results if _acquired(r)),
            "competencies_total": len(results),
            "score_given": row.score_given,
            "score_maximum": row.score_maximum,
            "evaluator_roles": _roles(row.evaluators),
            "supersedes_id": row.supersedes_id,
            "correction_reason": row.correction_reason,
            "superseded_by": row.superseded_by,
        }
        yield {name: record[name] for name in columns}


# -- ledger ------------------------------------------------------------------------------------


def _ledger_query(scope: Scope, *columns: Any) -> Select[Any]:
    stmt = (
        select(*columns)
        .join(Decision, LedgerEntry.decision_id == Decision.id)
        .join(Submission, Decision.submission_id == Submission.id)
        .join(Person, LedgerEntry.person_id == Person.id)
        .join(Platform, Person.platform_id == Platform.id)
        .where(
            LedgerEntry.organisation_id == scope.organisation_id,
            Decision.organisation_id == scope.organisation_id,
            Platform.organisation_id == scope.organisation_id,
            LedgerEntry.certification_code == scope.certification_code,
        )
    )
    return _within(stmt, LedgerEntry.acquired_at, scope)


def count_ledger(db: Session, scope: Scope) -> int:
    """How many rows `ledger_records` will yield."""
    return int(db.scalar(_ledger_query(scope, func.count(LedgerEntry.id))) or 0)


def ledger_records(db: Session, scope: Scope) -> Iterator[dict[str, Any]]:
    """One dict per acquired block (ledger entry) in scope, oldest first."""
    stmt = _ledger_query(
        scope,
        LedgerEntry.id,
        LedgerEntry.referential_version,
        LedgerEntry.block_code,
        LedgerEntry.acquired_at,
        LedgerEntry.decision_id,
        Decision.decided_at,
        Decision.evaluators,
        Submission.assessment_id,
        Person.id.label("person_id"),
        Person.sub,
        Person.name,
        Person.email,
        Platform.issuer,
    ).order_by(LedgerEntry.acquired_at, LedgerEntry.id)
    codes = _Codes(scope.plugin)
    columns = ledger_columns(scope)
    for row in db.execute(stmt.execution_options(yield_per=BATCH)):
        record = {
            **codes.of(row.referential_version, row.block_code, scope),
            **_person(row),
            "ledger_entry_id": row.id,
            "acquired_at": iso(row.acquired_at),
            "decision_id": row.decision_id,
            "decided_at": iso(row.decided_at),
            "assessment_id": row.assessment_id,
            "evaluator_roles": _roles(row.evaluators),
        }
        yield {name: record[name] for name in columns}


# -- shared pieces -----------------------------------------------------------------------------


class _Codes:
    """RNCP codes of a (version, block), read from the plugin's referentials once each."""

    def __init__(self, plugin: CertificationPlugin) -> None:
        self._plugin = plugin
        self.lookup = cache(self._lookup)

    def _lookup(self, version: str, block_code: str) -> tuple[str | None, str | None]:
        referential = self._plugin.referentials.get(version)
        if referential is None:  # a version the installed plugin no longer ships
            return None, None
        try:
            block = referential.block(block_code).rncp_block_code
        except KeyError:
            block = None
        return referential.certification.rncp_code, block

    def of(self, version: str, block_code: str, scope: Scope) -> dict[str, Any]:
        rncp, rncp_block = self.lookup(version, block_code)
        return {
            "organisation": scope.organisation_slug,
            "certification_code": scope.certification_code,
            "rncp_code": rncp,
            "referential_version": version,
            "block_code": block_code,
            "rncp_block_code": rncp_block,
        }


def _person(row: Any) -> dict[str, Any]:
    return {
        "person_id": row.person_id,
        "platform_issuer": row.issuer,
        "lti_sub": row.sub,
        "name": row.name,
        "email": row.email,
    }


def _roles(evaluators: list[dict[str, Any]] | None) -> list[str]:
    """Jury roles in signing order (the jury's composition, without who held them)."""
    return [str(e.get("role") or "") for e in evaluators or []]


def _acquired(result: Any) -> bool:
    return bool(result.get("acquired")) if isinstance(result, dict) else result == "acquired"


# -- the two tables, as the CLI and the console both write them ---------------------------------


@dataclass(frozen=True)
class Table:
    """One tabular export: how many rows, the rows, their columns, and its French name."""

    count: Callable[[Session, Scope], int]
    rows: Callable[[Session, Scope], Iterator[dict[str, Any]]]
    columns: Callable[[Scope], tuple[str, ...]]
    label: str


# Looked up at each call (not bound here), so a test may replace a query function.
TABLES = {
    "decisions": Table(
        lambda db, scope: count_decisions(db, scope),
        lambda db, scope: decision_records(db, scope),
        lambda scope: decision_columns(scope),
        "décisions",
    ),
    "ledger": Table(
        lambda db, scope: count_ledger(db, scope),
        lambda db, scope: ledger_records(db, scope),
        lambda scope: ledger_columns(scope),
        "blocs acquis",
    ),
}
