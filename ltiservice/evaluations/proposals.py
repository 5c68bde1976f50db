"""Block proposals: what the evaluation committee proposes for each block of a person.

The committee signs one decision per submission, that is per épreuve: a block the referential
evaluates by several épreuves (courtage: the training organisation, the company referent, the
evaluation commission) is graded by several assessments. A block proposal gathers, for one
person and one block of one referential version, the standing decision of each épreuve, and says
whether the proposal is complete (every required épreuve has one) and acquired. It is what the
certification jury reads; it decides nothing by itself.

Which decision stands for an épreuve. A decision stands when no correction supersedes it. When
a person has several submissions for one épreuve (several attempts, or the épreuve placed in
two courses), the latest standing decision (by ``decided_at``, then id) is the committee's
current proposal, even if an earlier one was acquired: a later attempt is the committee's newer
reading of the candidate, and keeping blocks acquired for good (capitalisation) is the power of
the body that acquires them, recorded in the ledger and never lost there, not a property of the
committee's proposals. Earlier decisions stay in each submission's history. In practice an
acquired result is rarely followed: no new attempt is opened on an assessment whose decision in
force is acquired (`submissions.attempt_rights`) and a correction may not withdraw it
(`decisions.decision_problems`); only the same épreuve placed again elsewhere can follow it.

Épreuves of a decision are read from its submission's assessment (`Assessment.epreuve_code`).
A block with no declared épreuve has one implicit épreuve: its latest standing decision is the
proposal, complete, acquired when that decision found the block acquired. In a block with
several épreuves, a decision without an épreuve (an assessment placed before épreuves existed,
when one committee of every actor graded the whole block) counts for every épreuve; a decision
whose épreuve the referential no longer has counts for none.

How épreuve results combine is the plugin's `Rules.epreuves_acquired`; the core's default
(every required épreuve acquired) is a product convention to be confirmed by the certifier.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from ltiservice.grading.interface import Block, CertificationPlugin, Rules
from ltiservice.models import Assessment, Decision, Submission

__all__ = ["BlockProposal", "block_proposals", "proposals_by_person"]


@dataclass(frozen=True)
class BlockProposal:
    """The committee's proposal for one person's block, from its épreuves' standing decisions."""

    person_id: int
    certification_code: str
    referential_version: str
    block_code: str
    complete: bool  # every required épreuve has a standing decision
    acquired: bool  # the committee proposes the block as acquired (False unless complete)
    decisions: tuple[Decision, ...]  # the standing decisions it rests on, one per épreuve
    pending_epreuves: tuple[str, ...]  # codes of required épreuves without a standing decision
    signed_at: datetime | None  # the latest of the decisions' decided_at


#: A standing decision and the épreuve code of the assessment it grades.
_Row = tuple[Decision, str | None]


def block_proposals(
    db: Session, plugin: CertificationPlugin, organisation_id: int, person_id: int
) -> list[BlockProposal]:
    """The person's proposal per block (of every referential version of the plugin) that has at
    least one standing decision; blocks in referential order."""
    query = _standing(plugin, organisation_id).where(Decision.person_id == person_id)
    return _proposals(plugin, person_id, [(d, code) for d, code in db.execute(query)])


def proposals_by_person(
    db: Session, plugin: CertificationPlugin, organisation_id: int
) -> dict[int, list[BlockProposal]]:
    """Every person of the organisation with at least one standing decision for the plugin's
    certification."""
    rows: dict[int, list[_Row]] = defaultdict(list)
    for decision, code in db.execute(_standing(plugin, organisation_id)):
        rows[decision.person_id].append((decision, code))
    found = {person: _proposals(plugin, person, rows[person]) for person in sorted(rows)}
    return {person: proposals for person, proposals in found.items() if proposals}


def _standing(plugin: CertificationPlugin, organisation_id: int) -> Select[Decision, str | None]:
    """Standing decisions of the organisation for the certification, with their épreuve code."""
    superseded = select(Decision.supersedes_id).where(Decision.supersedes_id.is_not(None))
    return (
        select(Decision, Assessment.epreuve_code)
        .join(Submission, Submission.id == Decision.submission_id)
        .join(Assessment, Assessment.id == Submission.assessment_id)
        .where(
            Decision.organisation_id == organisation_id,
            Decision.certification_code == plugin.code,
            Decision.id.not_in(superseded),
        )
        .order_by(Decision.decided_at, Decision.id)
    )


def _proposals(
    plugin: CertificationPlugin, person_id: int, rows: Iterable[_Row]
) -> list[BlockProposal]:
    by_block: dict[tuple[str, str], list[_Row]] = defaultdict(list)
    for decision, code in rows:
        by_block[(decision.referential_version, decision.block_code)].append((decision, code))
    proposals = []
    for version, referential in plugin.referentials.items():
        for block in referential.blocks:
            found = by_block.get((version, block.code))
            if not found:
                continue
            proposal = _proposal(plugin.rules, person_id, block, found)
            if proposal is not None:
                proposals.append(proposal)
    return proposals


def _utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes, a decision signed in this transaction an aware one.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _latest(decisions: Sequence[Decision]) -> Decision:
    return max(decisions, key=lambda d: (_utc(d.decided_at), d.id))


def _proposal(
    rules: Rules, person_id: int, block: Block, rows: Sequence[_Row]
) -> BlockProposal | None:
    """One block's proposal, None when no decision counts for any of its épreuves."""
    if not block.epreuves:
        latest = _latest([decision for decision, _ in rows])
        return _build(person_id, latest, (latest,), (), latest.block_acquired)
    chosen: list[Decision] = []
    results: dict[str, bool] = {}
    for epreuve in block.epreuves:
        candidates = [d for d, code in rows if code is None or code == epreuve.code]
        if candidates:
            decision = _latest(candidates)
            chosen.append(decision)
            results[epreuve.code] = decision.block_acquired
    if not chosen:
        return None
    pending = tuple(e.code for e in block.required_epreuves if e.code not in results)
    acquired = not pending and rules.epreuves_acquired(block, results)
    return _build(person_id, chosen[0], tuple(chosen), pending, acquired)


def _build(
    person_id: int,
    first: Decision,
    decisions: tuple[Decision, ...],
    pending: tuple[str, ...],
    acquired: bool,
) -> BlockProposal:
    return BlockProposal(
        person_id=person_id,
        certification_code=first.certification_code,
        referential_version=first.referential_version,
        block_code=first.block_code,
        complete=not pending,
        acquired=acquired and not pending,
        decisions=decisions,
        pending_epreuves=pending,
        signed_at=max(_utc(decision.decided_at) for decision in decisions),
    )
