"""Evaluators' readings, jury decisions and the capitalisation ledger."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ltiservice.db import Base
from ltiservice.models.assessment import Submission
from ltiservice.models.tenancy import Person, utcnow


class Evaluation(Base):
    """One evaluator's reading of one submission: a verdict and remark per criterion."""

    __tablename__ = "evaluation"
    __table_args__ = (UniqueConstraint("submission_id", "evaluator_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submission.id", ondelete="CASCADE"), index=True
    )
    evaluator_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    jury_role: Mapped[str | None] = mapped_column(String(64), default=None)
    trained_candidate: Mapped[bool] = mapped_column(Boolean, default=False)
    session_dates: Mapped[list] = mapped_column(JSON, default=list)  # ISO dates
    # {criterion_id: {"verdict": "met"|"not_met"|"not_observed", "remark": str}}
    verdicts: Mapped[dict] = mapped_column(JSON, default=dict)
    remark: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft | signed
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    signed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)

    submission: Mapped[Submission] = relationship()
    evaluator: Mapped[Person] = relationship()


class Decision(Base):
    """The jury's outcome for one submission's block. Never updated: a correction supersedes."""

    __tablename__ = "decision"
    # A decision is superseded by one correction at most (migration 0003).
    __table_args__ = (Index("uq_decision_supersedes_id", "supersedes_id", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submission.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    certification_code: Mapped[str] = mapped_column(String(64))
    referential_version: Mapped[str] = mapped_column(String(64))
    block_code: Mapped[str] = mapped_column(String(64))
    verdicts: Mapped[dict] = mapped_column(JSON)  # the jury's resolved verdict per criterion
    remarks: Mapped[dict] = mapped_column(JSON, default=dict)  # criterion id -> remarks shown
    competency_results: Mapped[list] = mapped_column(JSON)
    block_acquired: Mapped[bool] = mapped_column(Boolean)
    score_given: Mapped[float] = mapped_column(Float)
    score_maximum: Mapped[float] = mapped_column(Float)
    evaluators: Mapped[list] = mapped_column(JSON)  # [{person_id, role, evaluation_id}]
    resolution: Mapped[str] = mapped_column(Text, default="")  # how disagreements were settled
    comment: Mapped[str] = mapped_column(Text, default="")
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("decision.id"), default=None)
    correction_reason: Mapped[str | None] = mapped_column(Text, default=None)
    # Jury facts the combination rule reads, e.g. {"final_interview_passed": true} (Mutualité).
    facts: Mapped[dict | None] = mapped_column(JSON, default=None)

    submission: Mapped[Submission] = relationship()


class LedgerEntry(Base):
    """Capitalisation: a block acquired for good. Append-only.

    ``body`` says who acquired it: the evaluation committee (its ``decision_id``, where the
    plugin gives it that power) or the certification jury (its ``jury_decision_id``, with the
    committee's decision the jury followed, if any, in ``decision_id``).
    """

    __tablename__ = "ledger_entry"
    __table_args__ = (
        UniqueConstraint("person_id", "certification_code", "referential_version", "block_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    certification_code: Mapped[str] = mapped_column(String(64))
    referential_version: Mapped[str] = mapped_column(String(64))
    block_code: Mapped[str] = mapped_column(String(64))
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decision.id"), default=None)
    body: Mapped[str] = mapped_column(String(32), default="evaluation_committee")
    jury_decision_id: Mapped[int | None] = mapped_column(
        ForeignKey("jury_decision.id"), default=None, index=True
    )
    acquired_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CertificationAward(Base):
    """The certification the certification jury awarded (``jury_decision_id``).

    Rows without a jury decision predate the certification jury (migration 0011): they were
    granted by the service alone and are never declared to the Caisse des Dépôts.
    """

    __tablename__ = "certification_award"
    __table_args__ = (UniqueConstraint("person_id", "certification_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    certification_code: Mapped[str] = mapped_column(String(64))
    referential_version: Mapped[str] = mapped_column(String(64))
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decision.id"), default=None)
    jury_decision_id: Mapped[int | None] = mapped_column(
        ForeignKey("jury_decision.id"), default=None, index=True
    )
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
