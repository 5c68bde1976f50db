"""Frozen dataclasses mirroring the referential data format (docs/referential-format.md).

These objects are what the schema builds from a plugin's YAML file and what rules, views and
exports read. They hold data only; the arithmetic lives in `ltiservice.grading.interface.Rules`.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal


def _empty_mapping() -> Mapping[str, str]:
    return MappingProxyType({})


@dataclass(frozen=True)
class Criterion:
    """An evaluation criterion (critère d'évaluation) an evaluator marks met / not met."""

    id: str
    wording: str
    #: True when the source gives no explicit criterion and this one restates the competency.
    derived: bool = False


@dataclass(frozen=True)
class Competency:
    """A competency of a block and the criteria that evidence it."""

    code: str
    wording: str
    criteria: tuple[Criterion, ...]


@dataclass(frozen=True)
class Exclusion:
    """Who may not sit in a jury role, e.g. ``other_service`` may not have ``trained_candidate``."""

    role: str
    may_not_have: str


@dataclass(frozen=True)
class JuryRequirements:
    """How the evaluation committee of a block (or of one of its épreuves) must be made up."""

    min_evaluators: int
    roles: Mapping[str, str] = field(
        default_factory=_empty_mapping, hash=False
    )  # role code -> French label
    required_roles: tuple[str, ...] = ()
    exclusions: tuple[Exclusion, ...] = ()
    min_sessions: int | None = None
    distinct_session_dates: bool = False
    decisions: tuple[str, ...] = ()

    def role_label(self, role: str) -> str:
        """The French label of a role, or the code itself when the referential has none."""
        return self.roles.get(role, role)


@dataclass(frozen=True)
class Epreuve:
    """One épreuve of a block: a modality by one actor, placed and graded as its own assessment.

    A block without declared épreuves has one implicit épreuve (the assessment of the block
    itself, ``Assessment.epreuve_code`` None). ``jury`` is the épreuve's own committee when the
    referential gives it roles; None means the referential's ``jury`` applies.
    """

    code: str
    title: str
    actor: str
    modality: str
    required: bool = True
    jury: JuryRequirements | None = None


@dataclass(frozen=True)
class Block:
    """A block of competencies (bloc de compétences), the unit a jury decides on."""

    code: str
    rncp_block_code: str | None
    # Mappings are excluded from the hash: dicts are unhashable, codes identify the block.
    other_codes: Mapping[str, str] = field(default_factory=_empty_mapping, hash=False)
    title: str = ""
    option_group: str | None = None
    evaluation_modalities: tuple[str, ...] = ()
    competencies: tuple[Competency, ...] = ()
    #: The block's épreuves, the referential's default ones when the block declares none;
    #: empty: one implicit épreuve (the block is graded by one assessment).
    epreuves: tuple[Epreuve, ...] = ()

    def criteria(self) -> tuple[Criterion, ...]:
        """All criteria of the block, competency by competency, in document order."""
        return tuple(c for competency in self.competencies for c in competency.criteria)

    def epreuve(self, code: str) -> Epreuve:
        """The épreuve with this code; `KeyError` naming it when the block has none."""
        for epreuve in self.epreuves:
            if epreuve.code == code:
                return epreuve
        raise KeyError(f"no épreuve {code!r} in block {self.code}")

    @property
    def required_epreuves(self) -> tuple[Epreuve, ...]:
        """The épreuves a block proposal waits for, in referential order."""
        return tuple(epreuve for epreuve in self.epreuves if epreuve.required)


@dataclass(frozen=True)
class ChooseGroup:
    """``count`` blocks to acquire among ``from_blocks``: one group of a combination rule."""

    from_blocks: tuple[str, ...]
    count: int


@dataclass(frozen=True)
class CombinationRule:
    """Which acquired blocks (and facts) make the certification."""

    required_blocks: tuple[str, ...]
    choose: tuple[ChooseGroup, ...] = ()
    final_interview: bool = False


@dataclass(frozen=True)
class Equivalence:
    """A block of an older referential version and the blocks of this version it counts as.

    ``document`` and ``quote`` say where the correspondence is official (RNCP export
    CORRESPONDANCES, certifier's file): an equivalence nobody published is not loaded.
    """

    from_version: str
    from_block: str
    to_blocks: tuple[str, ...]
    document: str = ""
    quote: str = ""


#: Where a rule value comes from: a source document (quoted) or a product convention.
ProvenanceSource = Literal["document", "convention"]


@dataclass(frozen=True)
class RuleProvenance:
    """Where one rule value of the referential comes from (docs/referential-format.md)."""

    rule: str
    source: ProvenanceSource
    document: str | None
    quote: str | None
    note: str

    @property
    def is_convention(self) -> bool:
        """True when no document states the rule: the certifier has to confirm it."""
        return self.source == "convention"


@dataclass(frozen=True)
class Case:
    """A practical case (sujet) a learner works on for one block."""

    id: str
    block: str
    title: str
    statement: str
    deliverables: tuple[str, ...] = ()
    duration_minutes: int | None = None
    #: True for cases written for the product as examples, not issued by the certifier.
    example: bool = False
    #: Criterion id -> what in the case lets the evaluator observe it.
    observes: Mapping[str, str] = field(default_factory=_empty_mapping, hash=False)


#: What a certification jury may decide for a candidate (FAQ du CQP CRCA, seed 004).
JURY_OUTCOMES: Mapping[str, str] = MappingProxyType(
    {
        "validation_totale": "Validation totale",
        "validation_partielle": "Validation partielle par bloc(s)",
        "absence_de_validation": "Absence de validation",
    }
)
#: How a candidate comes before the certification jury.
JURY_ROUTES: Mapping[str, str] = MappingProxyType(
    {
        "evaluation": "Évaluation des compétences (propositions du comité d'évaluation)",
        "vae": "Validation des acquis de l'expérience (dossier et entretien)",
    }
)
#: The bodies that may acquire a block for good.
EVALUATION_COMMITTEE = "evaluation_committee"
CERTIFICATION_JURY = "certification_jury"


@dataclass(frozen=True)
class JurySeatRule:
    """A kind of seat on the certification jury and how many members must sit in it."""

    code: str
    label: str
    min: int = 1
    max: int | None = None


@dataclass(frozen=True)
class CertificationJury:
    """The sovereign body that decides per candidate, and what it is made of.

    ``acquires_blocks`` says which body acquires a block for good: the certification jury
    (CRCA, courtage) or the evaluation committee itself (Mutualité: a block at 100 % of its
    competencies), the certification jury then delivering the certification. When the
    combination asks for a final interview, the certification jury records its outcome.
    """

    body: str
    label: str
    acquires_blocks: str = CERTIFICATION_JURY
    outcomes: tuple[str, ...] = tuple(JURY_OUTCOMES)
    routes: tuple[str, ...] = ("evaluation",)
    seats: tuple[JurySeatRule, ...] = ()
    #: Seats that must count as many sitting members as each other (parity).
    equal_seats: tuple[str, ...] = ()
    #: The jury designates a president among its sitting members.
    president_required: bool = True
    #: A substitute sits only in the absence of the titular they replace.
    substitutes_only_for_absent: bool = True
    #: People present who do not sit (e.g. the CPNEFP's secretariat): role code -> label.
    observers: Mapping[str, str] = field(default_factory=_empty_mapping, hash=False)

    def seat(self, code: str) -> JurySeatRule | None:
        """The seat rule with this code, if the jury has one."""
        return next((seat for seat in self.seats if seat.code == code), None)

    def seat_label(self, code: str) -> str:
        """The French label of a seat, or the code itself when unknown."""
        seat = self.seat(code)
        return seat.label if seat is not None else code

    @property
    def committee_acquires(self) -> bool:
        """Whether the evaluation committee's decision acquires the block for good."""
        return self.acquires_blocks == EVALUATION_COMMITTEE


#: A referential that declares no certification jury: the jury acquires blocks, no seat rule.
DEFAULT_CERTIFICATION_JURY = CertificationJury(
    body="jury_certification", label="Jury de certification"
)


@dataclass(frozen=True)
class Certification:
    """The certification a referential describes, in one version."""

    code: str
    rncp_code: str | None
    title: str
    certifiers: tuple[str, ...]
    level: int | None
    registration_end_date: datetime.date | None
    version: str
    supersedes: str | None = None
    source: str | None = None
    # The fiche's « date de dernière délivrance possible » (None: the fiche states none).
    last_delivery_date: datetime.date | None = None


@dataclass(frozen=True)
class Referential:
    """One version of a certification's referential: blocks, jury, combination, cases."""

    certification: Certification
    blocks: tuple[Block, ...]
    jury: JuryRequirements
    combination: CombinationRule
    grade_maximum: float
    equivalences: tuple[Equivalence, ...] = ()
    cases: tuple[Case, ...] = ()
    certification_jury: CertificationJury = DEFAULT_CERTIFICATION_JURY
    provenance: tuple[RuleProvenance, ...] = ()

    @property
    def version(self) -> str:
        """Shortcut for ``certification.version``."""
        return self.certification.version

    def block(self, code: str) -> Block:
        """The block with this code; `KeyError` naming the code when there is none."""
        for block in self.blocks:
            if block.code == code:
                return block
        raise KeyError(f"no block {code!r} in {self.certification.code} {self.version}")

    def competency(self, code: str) -> Competency:
        """The competency with this code, whatever its block."""
        for block in self.blocks:
            for competency in block.competencies:
                if competency.code == code:
                    return competency
        raise KeyError(f"no competency {code!r} in {self.certification.code} {self.version}")

    def criterion(self, id: str) -> Criterion:
        """The criterion with this id, whatever its competency."""
        for block in self.blocks:
            for criterion in block.criteria():
                if criterion.id == id:
                    return criterion
        raise KeyError(f"no criterion {id!r} in {self.certification.code} {self.version}")

    def block_of_competency(self, code: str) -> Block:
        """The block a competency belongs to."""
        for block in self.blocks:
            if any(c.code == code for c in block.competencies):
                return block
        raise KeyError(f"no competency {code!r} in {self.certification.code} {self.version}")

    def provenance_of(self, rule: str) -> RuleProvenance | None:
        """The provenance entry of one rule (``jury.min_evaluators`` …), None when unsourced."""
        for entry in self.provenance:
            if entry.rule == rule:
                return entry
        return None

    def conventions(self) -> tuple[RuleProvenance, ...]:
        """The rules that are product conventions, to show administrators as such."""
        return tuple(entry for entry in self.provenance if entry.is_convention)

    def cases_for(self, block_code: str) -> tuple[Case, ...]:
        """The practical cases written for one block."""
        return tuple(case for case in self.cases if case.block == block_code)

    def option_groups(self) -> dict[str, tuple[str, ...]]:
        """Option group name -> codes of the blocks that are alternatives in it."""
        groups: dict[str, list[str]] = {}
        for block in self.blocks:
            if block.option_group is not None:
                groups.setdefault(block.option_group, []).append(block.code)
        return {name: tuple(codes) for name, codes in groups.items()}
