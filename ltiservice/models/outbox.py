"""Durable outbound deliveries, written in the same transaction as the fact they report."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ltiservice.db import Base
from ltiservice.models.tenancy import utcnow


class OutboxMessage(Base):
    """One delivery: an AGS score to a platform, or an xAPI statement to an LRS."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_fact", "fact", "destination"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # ags_score | xapi_statement
    destination: Mapped[str] = mapped_column(String(255))  # platform:<id> | lrs:<id>
    # A retry or a second enqueue of the same fact never creates a second delivery.
    dedupe_key: Mapped[str] = mapped_column(String(255), unique=True)
    payload: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|delivered|dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    # First failure of the current run of retries: it dies once this is older than the
    # schedule's give-up window (`outbox.RetrySchedule`); cleared when delivered or re-queued.
    failing_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    # Whom the delivery is about (the learner: AGS userId, statement actor) and the other person
    # it names (the evaluator of an `evaluated`, the signer of a void): erasure finds a
    # person's rows by these keys, never by matching strings.
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), index=True, default=None
    )
    agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), index=True, default=None
    )
    # The stored fact it reports (``submission:12``, ``decision:4``…): a replay skips facts a
    # destination already has, whatever ids the statements would be rebuilt with.
    fact: Mapped[str | None] = mapped_column(String(64), default=None)
    # Every other person the delivery names (a jury's members in `context.team`, the evaluator,
    # the voider): erasure renames them in it. `agent_id` is the first of them.
    mentions: Mapped[list[OutboxMention]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )


class OutboxMention(Base):
    """A person named by a delivery who is not the one it is about."""

    __tablename__ = "outbox_mention"

    message_id: Mapped[int] = mapped_column(
        ForeignKey("outbox_message.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), primary_key=True, index=True
    )
