"""Small frozen inputs of the statement builders: what the service knows about an event.

They carry identifiers and French titles only; nothing here identifies a person beyond the LMS's
opaque ``sub`` (the service never puts a name or an email in a statement).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from urllib.parse import quote

from xapi.vocabulary import PROFILE_BASE

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

    ``code`` is the plugin's short code (used to mint our block IRIs); ``iri`` is the public
    identifier of the certification, normally its RNCP page (``vocabulary.rncp_iri``).
    """

    code: str
    rncp_code: str | None
    title: str
    version: str
    iri: str

    def __post_init__(self) -> None:
        if not _CODE.match(self.code):
            raise ValueError(f"CertificationRef.code must match {_CODE.pattern}: {self.code!r}")
        if not _CODE.match(self.version):
            raise ValueError(f"CertificationRef.version must match {_CODE.pattern}")
        _require_text(self.title, "CertificationRef.title")
        _require_iri(self.iri, "CertificationRef.iri")

    @property
    def referential_iri(self) -> str:
        """Our IRI for this referential version (the root of its blocks' IRIs)."""
        return f"{PROFILE_BASE}/certifications/{quote(self.code)}/{quote(self.version)}"


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
    """Where an assessment sits: certification ▸ block ▸ case, placed in one course."""

    certification: CertificationRef
    block: BlockRef
    course: ActivityRef
    assessment: ActivityRef
    case: ActivityRef


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
    """One evaluator's signed reading of a submission."""

    evaluation_id: str
    evaluator: Actor
    jury_role: str
    verdicts: dict[str, str]
    score: Score

    def __hash__(self) -> int:  # dict field: hash by identity of the signed evaluation
        return hash(self.evaluation_id)


@dataclass(frozen=True)
class Decision:
    """The jury's outcome for one submission's block."""

    decision_id: str
    acquired: bool
    score: Score
    competency_results: dict[str, str]

    def __hash__(self) -> int:
        return hash(self.decision_id)
