"""Capitalisation: blocks acquired for good, and the certification status they add up to.

The ledger is append-only: an entry is written when a decision acquires a block the person
did not hold yet in that referential version, and never removed. The certification status
reads every entry of the person for the certification, older referential versions translated
to the current one through the plugin's equivalence table.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from ltiservice.grading.interface import (
    FINAL_INTERVIEW_FACT,
    CertificationPlugin,
    CertificationStatus,
)
from ltiservice.models import CertificationAward, Decision, LedgerEntry


def record_block(db: Session, decision: Decision) -> LedgerEntry | None:
    """The new ledger entry when the decision acquires a block not yet held, else None."""
    if not decision.block_acquired:
        return None
    held = db.scalar(
        select(LedgerEntry).where(
            LedgerEntry.person_id == decision.person_id,
            LedgerEntry.certification_code == decision.certification_code,
            LedgerEntry.referential_version == decision.referential_version,
            LedgerEntry.block_code == decision.block_code,
        )
    )
    if held is not None:
        return None
    entry = LedgerEntry(
        organisation_id=decision.organisation_id,
        person_id=decision.person_id,
        certification_code=decision.certification_code,
        referential_version=decision.referential_version,
        block_code=decision.block_code,
        decision_id=decision.id,
    )
    db.add(entry)
    db.flush()
    return entry


def acquired_blocks(
    db: Session, plugin: CertificationPlugin, organisation_id: int, person_id: int
) -> frozenset[str]:
    """Every block the person holds, as blocks of the certification's current version."""
    rows = db.execute(
        select(LedgerEntry.referential_version, LedgerEntry.block_code).where(
            LedgerEntry.organisation_id == organisation_id,
            LedgerEntry.person_id == person_id,
            LedgerEntry.certification_code == plugin.code,
        )
    )
    by_version: dict[str, set[str]] = defaultdict(set)
    for version, block in rows:
        by_version[version].add(block)
    acquired: set[str] = set()
    for version, blocks in by_version.items():
        if version in plugin.referentials:
            acquired |= plugin.translate_blocks(version, blocks)
    return frozenset(acquired)


def jury_facts(
    db: Session, certification_code: str, organisation_id: int, person_id: int
) -> Mapping[str, bool]:
    """Facts recorded by the person's standing (not superseded) decisions, e.g. the final
    interview: a fact holds when any standing decision records it true."""
    superseded = select(Decision.supersedes_id).where(Decision.supersedes_id.is_not(None))
    facts: dict[str, bool] = {}
    for recorded in db.scalars(
        select(Decision.facts).where(
            Decision.organisation_id == organisation_id,
            Decision.person_id == person_id,
            Decision.certification_code == certification_code,
            Decision.id.not_in(superseded),
        )
    ):
        for name, value in (recorded or {}).items():
            facts[name] = facts.get(name, False) or value is True
    return facts


def certification_status(
    db: Session, plugin: CertificationPlugin, organisation_id: int, person_id: int
) -> CertificationStatus:
    """The plugin's combination rule over the ledger and the jury facts."""
    return plugin.rules.certification_status(
        plugin.current,
        acquired_blocks(db, plugin, organisation_id, person_id),
        jury_facts(db, plugin.code, organisation_id, person_id),
    )


def award_if_granted(
    db: Session, plugin: CertificationPlugin, decision: Decision
) -> CertificationAward | None:
    """The award this decision completes, when the status becomes granted for the first time."""
    status = certification_status(db, plugin, decision.organisation_id, decision.person_id)
    if not status.granted:
        return None
    already = db.scalar(
        select(CertificationAward).where(
            CertificationAward.person_id == decision.person_id,
            CertificationAward.certification_code == plugin.code,
        )
    )
    if already is not None:
        return None
    award = CertificationAward(
        organisation_id=decision.organisation_id,
        person_id=decision.person_id,
        certification_code=plugin.code,
        referential_version=plugin.current.version,
        decision_id=decision.id,
    )
    db.add(award)
    db.flush()
    return award


__all__ = [
    "FINAL_INTERVIEW_FACT",
    "acquired_blocks",
    "award_if_granted",
    "certification_status",
    "jury_facts",
    "record_block",
]
