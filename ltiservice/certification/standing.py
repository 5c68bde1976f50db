"""Where a candidate stands: what they hold for good, what the committee proposes, and whether
the certification jury has awarded the certification.

« Conditions réunies » means the committee's proposals and the blocks held would satisfy the
combination rule: the candidate is to be presented to the certification jury, and is never
shown as certified until the jury decides.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from ltiservice.evaluations import ledger, proposals
from ltiservice.grading.interface import (
    FINAL_INTERVIEW_FACT,
    CertificationPlugin,
    CertificationStatus,
)
from ltiservice.models import CertificationAward


@dataclass(frozen=True)
class Standing:
    """A candidate's position in one certification, in the current version's block codes."""

    held: frozenset[str]  # acquired for good (ledger)
    proposed: frozenset[str]  # proposed acquired by the committee, not held yet
    status: CertificationStatus  # the combination rule over what is held and recorded
    would_be: CertificationStatus  # the same if the jury followed every proposal
    conditions_met: bool  # held + proposed would make the certification
    award: CertificationAward | None  # the certification jury's award

    @property
    def certified(self) -> bool:
        """Only an award of the certification jury makes a candidate certified."""
        return self.award is not None and self.award.jury_decision_id is not None

    @property
    def to_present(self) -> bool:
        """Conditions met and not certified yet: « à présenter au jury »."""
        return self.conditions_met and not self.certified


def _held(
    db: Session, plugin: CertificationPlugin, version: str, organisation_id: int, person_id: int
) -> frozenset[str]:
    if version == plugin.current.version:
        return ledger.acquired_blocks(db, plugin, organisation_id, person_id)
    # An older version's certification counts only that version's own blocks.
    return ledger.blocks_of_version(db, plugin.code, version, organisation_id, person_id)


def standing_of(
    db: Session,
    plugin: CertificationPlugin,
    organisation_id: int,
    person_id: int,
    version: str | None = None,
) -> Standing:
    """The candidate's standing under one referential version (default: the current one),
    from the ledger, their proposals and the jury's award."""
    referential = plugin.referential(version)
    held = _held(db, plugin, referential.version, organisation_id, person_id)
    facts = ledger.jury_facts(db, plugin.code, organisation_id, person_id)
    proposed: set[str] = set()
    for proposal in proposals.block_proposals(db, plugin, organisation_id, person_id):
        if not (proposal.complete and proposal.acquired):
            continue
        if proposal.referential_version == referential.version:
            proposed.add(proposal.block_code)
        elif referential.version == plugin.current.version:
            proposed |= plugin.translate_blocks(proposal.referential_version, {proposal.block_code})
    proposed -= held
    status = plugin.rules.certification_status(referential, held, facts)
    # The final interview is the certification jury's own act: it does not hold back the
    # presentation of a candidate whose blocks are all there.
    would_be = plugin.rules.certification_status(
        referential, held | proposed, {**facts, FINAL_INTERVIEW_FACT: True}
    )
    return Standing(
        held=held,
        proposed=frozenset(proposed),
        status=status,
        would_be=would_be,
        conditions_met=would_be.granted,
        award=ledger.award_of(db, person_id, plugin.code),
    )
