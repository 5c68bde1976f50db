"""Small frozen inputs of the statement builders: what the service knows about an event.

They carry identifiers and French titles only; nothing here identifies a person beyond the LMS's
opaque ``sub`` (the service never puts a name or an email in a statement).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

_CODE = re.compile(r"^[A-Za-z0-9_.-]+$")


def _require_iri(value: str, field: str) -> None:
    if not value.startswith(("https://", "http://")):
        raise ValueError(f"{field} must be an absolute http(s) IRI, got {value!r}")


def _require_text(value: str, field: str) -> None:
    if not value or not value.strip():
        raise ValueError(f"{field} must not be empty")


@dataclass(frozen=True)
class Actor:
    """A person as one LMS knows them: the platform's issuer and the opaque LTI ``sub``."""

    homepage: str
    name: str

    def __post_init__(self) -> None:
        _require_iri(self.homepage, "Actor.homepage")
        _require_text(self.name, "Actor.name")


@dataclass(frozen=True)
class CertificationRef:
    """A certification under one referential version.

    ``code`` is the plugin's short code: with the block code it keys our version-independent
    IRIs (``Vocabulary.certification`` / ``.block``); ``rncp_code`` and ``version`` travel as
    context extensions.
    """

    code: str
    rncp_code: str | None
    title: str
    version: str

    def __post_init__(self) -> None:
        if not _CODE.match(self.code):
            raise ValueError(f"CertificationRef.code must match {_CODE.pattern}: {self.code!r}")
        if not _CODE.match(self.version):
            raise ValueError(f"CertificationRef.version must match {_CODE.pattern}")
        _require_text(self.title, "CertificationRef.title")


@dataclass(frozen=True)
class BlockRef:
    """A competency block (bloc de compétences) of a certification."""

    code: str
    rncp_block_code: str | None
    title: str

    def __post_init__(self) -> None:
        if not _CODE.match(self.code):
            raise ValueError(f"BlockRef.code must match {_CODE.pattern}: {self.code!r}")
        _require_text(self.title, "BlockRef.title")


@dataclass(frozen=True)
class ActivityRef:
    """Any other activity we only name: a course (LTI context), an assessment, a case."""

    iri: str
    title: str

    def __post_init__(self) -> None:
        _require_iri(self.iri, "ActivityRef.iri")
        _require_text(self.title, "ActivityRef.title")


@dataclass(frozen=True)
class Placement:
    """Where an assessment sits: certification ▸ block ▸ case, placed in one course.

    ``score_maximum`` is the assessment's scale (the LMS gradebook's): every score reported
    about this assessment (each evaluator's, the jury's) uses it, so an LRS never sees two
    scales for one assessment.
    """

    certification: CertificationRef
    block: BlockRef
    course: ActivityRef
    assessment: ActivityRef
    case: ActivityRef
    score_maximum: float = 100.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.score_maximum) and self.score_maximum > 0):
            raise ValueError("Placement.score_maximum must be a positive number")

    def check_scale(self, score: Score) -> None:
        """Refuse a score on another scale than the assessment's."""
        if score.min != 0 or score.max != self.score_maximum:
            raise ValueError(
                f"score [{score.min}, {score.max}] is not on the assessment's scale "
                f"[0, {self.score_maximum}]"
            )


@dataclass(frozen=True)
class Score:
    """A score with its bounds; ``scaled`` is derived, always within [0, 1]."""

    raw: float
    min: float
    max: float

    def __post_init__(self) -> None:
        for value in (self.raw, self.min, self.max):
            if not math.isfinite(value):
                raise ValueError("score values must be finite numbers")
        if not self.min < self.max:
            raise ValueError(f"score min {self.min} must be below max {self.max}")
        if not self.min <= self.raw <= self.max:
            raise ValueError(f"score raw {self.raw} outside [{self.min}, {self.max}]")

    @property
    def scaled(self) -> float:
        """(raw - min) / (max - min), rounded to 4 decimals (xAPI wants [-1, 1])."""
        return round((self.raw - self.min) / (self.max - self.min), 4)


@dataclass(frozen=True)
class Evaluation:
    """One evaluator's signed reading of a submission (attempt number ``attempt``)."""

    evaluation_id: str
    evaluator: Actor
    jury_role: str
    verdicts: dict[str, str]
    score: Score
    attempt: int = 1

    def __post_init__(self) -> None:
        _require_attempt(self.attempt)

    def __hash__(self) -> int:  # dict field: hash by identity of the signed evaluation
        return hash(self.evaluation_id)


@dataclass(frozen=True)
class CompetencyResult:
    """The jury's result on one competency of the block: acquired or not, criteria met."""

    code: str
    wording: str
    acquired: bool
    met: int
    total: int

    def __post_init__(self) -> None:
        if not _CODE.match(self.code):
            raise ValueError(f"CompetencyResult.code must match {_CODE.pattern}: {self.code!r}")
        _require_text(self.wording, "CompetencyResult.wording")
        if not 0 <= self.met <= self.total:
            raise ValueError(f"competency {self.code}: {self.met} met out of {self.total}")

    @property
    def result(self) -> str:
        return "acquired" if self.acquired else "not_acquired"


@dataclass(frozen=True)
class Decision:
    """The jury's outcome for one submission's block.

    ``jury`` are the people who sat and signed (pseudonymous); ``supersedes`` is the
    ``decision_id`` of the decision this one corrects, on the same submission.
    """

    decision_id: str
    acquired: bool
    score: Score
    competencies: tuple[CompetencyResult, ...]
    jury: tuple[Actor, ...] = ()
    attempt: int = 1
    supersedes: str | None = None

    def __post_init__(self) -> None:
        _require_attempt(self.attempt)
        if not self.competencies:
            raise ValueError("a decision has at least one competency result")
        codes = [c.code for c in self.competencies]
        if len(set(codes)) != len(codes):
            raise ValueError("a decision has one result per competency")
        if self.supersedes == self.decision_id:
            raise ValueError("a decision cannot supersede itself")

    @property
    def competency_results(self) -> dict[str, str]:
        """Competency code -> ``acquired`` / ``not_acquired``."""
        return {c.code: c.result for c in self.competencies}

    def __hash__(self) -> int:
        return hash(self.decision_id)


def _require_attempt(attempt: int) -> None:
    if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 1:
        raise ValueError(f"attempt numbers start at 1, got {attempt!r}")
