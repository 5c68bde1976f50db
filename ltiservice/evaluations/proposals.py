"""Block proposals: what the evaluation committee proposes to the certification jury.

A block proposal rests on the standing decisions (no correction supersedes them) of the
person's submissions on that block. With one épreuve per block (CRCA, Mutualité) it is complete
as soon as one standing decision exists, and proposes the block acquired when that decision
does. When a person sat the block several times, the latest standing decision is the proposal:
the committee's current view. A block acquired for good never depends on it (the ledger keeps
it), so a later, weaker attempt cannot take anything away.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from ltiservice.grading.interface import CertificationPlugin
from ltiservice.models import Decision


@dataclass(frozen=True)
class BlockProposal:
    """The committee's proposal for one block of one person."""

    person_id: int
    certification_code: str
    referential_version: str
    block_code: str
    complete: bool  # every required épreuve has a standing decision
    acquired: bool  # the committee proposes the block as acquired (False unless complete)
    decisions: tuple[Decision, ...]  # the standing decisions it rests on, in épreuve order
    pending_epreuves: tuple[str, ...]  # required épreuves without a standing decision
    signed_at: datetime | None  # the latest of the decisions' decided_at


def _standing(plugin: CertificationPlugin, organisation_id: int) -> Select[Any]:
    superseded = select(Decision.supersedes_id).where(Decision.supersedes_id.is_not(None))
    return (
        select(Decision)
        .where(
            Decision.organisation_id == organisation_id,
            Decision.certification_code == plugin.code,
            Decision.id.not_in(superseded),
        )
        .order_by(Decision.decided_at, Decision.id)
    )


def _proposals(plugin: CertificationPlugin, decisions: list[Decision]) -> list[BlockProposal]:
    latest: dict[tuple[str, str], Decision] = {}
    for row in decisions:  # oldest first: the last one seen is the latest
        latest[(row.referential_version, row.block_code)] = row
    proposals = []
    for version, referential in plugin.referentials.items():
        for block in referential.blocks:
            decision = latest.get((version, block.code))
            if decision is None:
                continue
            proposals.append(
                BlockProposal(
                    person_id=decision.person_id,
                    certification_code=plugin.code,
                    referential_version=version,
                    block_code=block.code,
                    complete=True,
                    acquired=bool(decision.block_acquired),
                    decisions=(decision,),
                    pending_epreuves=(),
                    signed_at=decision.decided_at,
                )
            )
    return proposals


def block_proposals(
    db: Session, plugin: CertificationPlugin, organisation_id: int, person_id: int
) -> list[BlockProposal]:
    """The person's proposal per block (of every referential version of the plugin) that has
    at least one standing decision; blocks in referential order."""
    stmt = _standing(plugin, organisation_id).where(Decision.person_id == person_id)
    return _proposals(plugin, list(db.scalars(stmt)))


def proposals_by_person(
    db: Session, plugin: CertificationPlugin, organisation_id: int
) -> dict[int, list[BlockProposal]]:
    """Every person of the organisation with at least one standing decision for the plugin's
    certification, and their proposals."""
    by_person: dict[int, list[Decision]] = defaultdict(list)
    row: Decision
    for row in db.scalars(_standing(plugin, organisation_id)):
        by_person[row.person_id].append(row)
    return {person: _proposals(plugin, rows) for person, rows in by_person.items()}
