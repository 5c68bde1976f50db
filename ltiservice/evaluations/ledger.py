"""Capitalisation: blocks acquired for good, and the certification status they add up to.

The ledger is append-only: an entry is written when the body the plugin gives that power
acquires a block the person did not hold yet in that referential version, and never removed.
That body is the certification jury (its signed decision), or the evaluation committee where
the plugin says so (Mutualité: a block at 100 %). The certification status reads every entry
of the person, older referential versions translated to the current one through the plugin's
equivalence table, and the facts only the certification jury records (the final interview).
Awards come only from a certification jury decision.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from ltiservice.grading.interface import (
    CERTIFICATION_JURY,
    EVALUATION_COMMITTEE,
    FINAL_INTERVIEW_FACT,
    CertificationPlugin,
    CertificationStatus,
)
from ltiservice.models import CertificationAward, Decision, JuryDecision, JurySession, LedgerEntry


def held_entry(
    db: Session, person_id: int, certification_code: str, version: str, block_code: str
) -> LedgerEntry | None:
    """The person's ledger entry for that block of that version, if they hold it."""
    return db.scalar(
        select(LedgerEntry).where(
            LedgerEntry.person_id == person_id,
            LedgerEntry.certification_code == certification_code,
            LedgerEntry.referential_version == version,
            LedgerEntry.block_code == block_code,
        )
    )


def record_block(db: Session, decision: Decision) -> LedgerEntry | None:
    """The committee's own acquisition, where the plugin gives it that power: the new ledger
    entry when the decision acquires a block not yet held, else None. The caller checks the
    plugin's ``certification_jury.acquires_blocks``."""
    if not decision.block_acquired:
        return None
    version, block = decision.referential_version, decision.block_code
    if held_entry(db, decision.person_id, decision.certification_code, version, block):
        return None
    entry = LedgerEntry(
        organisation_id=decision.organisation_id,
        person_id=decision.person_id,
        certification_code=decision.certification_code,
        referential_version=version,
        block_code=block,
        decision_id=decision.id,
        body=EVALUATION_COMMITTEE,
    )
    db.add(entry)
    db.flush()
    return entry


def record_jury_block(
    db: Session, jury_decision: JuryDecision, block_code: str, basis_id: int | None
) -> LedgerEntry | None:
    """The certification jury validated a block: the new entry, or None when already held.
    ``basis_id`` is the committee decision the jury followed (None: VAE, or a departure)."""
    if held_entry(
        db,
        jury_decision.person_id,
        jury_decision.certification_code,
        jury_decision.referential_version,
        block_code,
    ):
        return None
    entry = LedgerEntry(
        organisation_id=jury_decision.organisation_id,
        person_id=jury_decision.person_id,
        certification_code=jury_decision.certification_code,
        referential_version=jury_decision.referential_version,
        block_code=block_code,
        decision_id=basis_id,
        body=CERTIFICATION_JURY,
        jury_decision_id=jury_decision.id,
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


def blocks_of_version(
    db: Session, certification_code: str, version: str, organisation_id: int, person_id: int
) -> frozenset[str]:
    """The blocks the person holds in that referential version, untranslated."""
    return frozenset(
        db.scalars(
            select(LedgerEntry.block_code).where(
                LedgerEntry.organisation_id == organisation_id,
                LedgerEntry.person_id == person_id,
                LedgerEntry.certification_code == certification_code,
                LedgerEntry.referential_version == version,
            )
        )
    )


def jury_facts(
    db: Session, certification_code: str, organisation_id: int, person_id: int
) -> Mapping[str, bool]:
    """Facts the certification jury recorded in signed sessions: the final interview holds
    once a signed decision records it passed."""
    passed = db.scalar(
        select(JuryDecision.id)
        .join(JurySession, JuryDecision.session_id == JurySession.id)
        .where(
            JuryDecision.organisation_id == organisation_id,
            JuryDecision.person_id == person_id,
            JuryDecision.certification_code == certification_code,
            JuryDecision.final_interview_passed.is_(True),
            JurySession.status == "signed",
        )
        .limit(1)
    )
    return {FINAL_INTERVIEW_FACT: passed is not None}


def certification_status(
    db: Session, plugin: CertificationPlugin, organisation_id: int, person_id: int
) -> CertificationStatus:
    """The plugin's combination rule over the ledger and the jury facts."""
    return plugin.rules.certification_status(
        plugin.current,
        acquired_blocks(db, plugin, organisation_id, person_id),
        jury_facts(db, plugin.code, organisation_id, person_id),
    )


def award_of(db: Session, person_id: int, certification_code: str) -> CertificationAward | None:
    """The person's award of the certification, if any."""
    return db.scalar(
        select(CertificationAward).where(
            CertificationAward.person_id == person_id,
            CertificationAward.certification_code == certification_code,
        )
    )


def award_from_jury(
    db: Session, plugin: CertificationPlugin, jury_decision: JuryDecision
) -> CertificationAward | None:
    """The award a signed validation totale grants, unless the person already holds one.
    The caller has checked that the combination rule is met."""
    if award_of(db, jury_decision.person_id, plugin.code) is not None:
        return None
    award = CertificationAward(
        organisation_id=jury_decision.organisation_id,
        person_id=jury_decision.person_id,
        certification_code=plugin.code,
        referential_version=jury_decision.referential_version,
        jury_decision_id=jury_decision.id,
    )
    db.add(award)
    db.flush()
    return award


__all__ = [
    "FINAL_INTERVIEW_FACT",
    "acquired_blocks",
    "award_from_jury",
    "award_of",
    "blocks_of_version",
    "certification_status",
    "held_entry",
    "jury_facts",
    "record_block",
    "record_jury_block",
]
