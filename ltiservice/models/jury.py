"""The certification jury: its sessions, who sat, and its sovereign decision per candidate.

A session is drafted (members, candidates, decisions may change) until its minutes are signed;
signing freezes it, stores the PDF minutes and only then gives the decisions their effect
(capitalisation, award, accrochage).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ltiservice.db import Base
from ltiservice.models.tenancy import Person, utcnow


class JurySession(Base):
    """One sitting of a certification's jury, for one referential version."""

    __tablename__ = "jury_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    certification_code: Mapped[str] = mapped_column(String(64))
    referential_version: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(String(64))  # the plugin's certification_jury.body
    held_on: Mapped[date] = mapped_column(Date)
    place: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft | signed
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    signed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), default=None
    )
    signed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    # The signed minutes as issued, and their digest: never regenerated once signed.
    minutes_pdf: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    minutes_sha256: Mapped[str | None] = mapped_column(String(64), default=None)

    members: Mapped[list[JuryMemberRow]] = relationship(
        back_populates="session", order_by="JuryMemberRow.id", cascade="all, delete-orphan"
    )
    decisions: Mapped[list[JuryDecision]] = relationship(
        back_populates="session", order_by="JuryDecision.id", cascade="all, delete-orphan"
    )


class JuryMemberRow(Base):
    """A person recorded on the session: a member (titular or substitute) or an observer."""

    __tablename__ = "jury_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("jury_session.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    seat: Mapped[str] = mapped_column(String(64))  # a seat code, or an observer role code
    observer: Mapped[bool] = mapped_column(Boolean, default=False)
    titular: Mapped[bool] = mapped_column(Boolean, default=True)
    present: Mapped[bool] = mapped_column(Boolean, default=True)
    president: Mapped[bool] = mapped_column(Boolean, default=False)
    substitute_for_id: Mapped[int | None] = mapped_column(
        ForeignKey("jury_member.id", ondelete="SET NULL"), default=None
    )

    session: Mapped[JurySession] = relationship(back_populates="members")


class JuryDecision(Base):
    """The jury's decision on one candidate presented at a session.

    ``blocks`` are the block codes the decision validates (of the session's referential
    version); ``proposals`` is the committee's proposals as the jury saw them
    (``[{block, acquired, decision_ids}]``), kept so that the minutes and the reason for a
    departure stay readable whatever happens later.
    """

    __tablename__ = "jury_decision"
    __table_args__ = (UniqueConstraint("session_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("jury_session.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    certification_code: Mapped[str] = mapped_column(String(64))
    referential_version: Mapped[str] = mapped_column(String(64))
    route: Mapped[str] = mapped_column(String(16), default="evaluation")  # evaluation | vae
    dossier_reference: Mapped[str] = mapped_column(String(200), default="")
    outcome: Mapped[str | None] = mapped_column(String(32), default=None)  # None: not decided
    blocks: Mapped[list] = mapped_column(JSON, default=list)
    final_interview_passed: Mapped[bool | None] = mapped_column(Boolean, default=None)
    reason: Mapped[str] = mapped_column(Text, default="")
    proposals: Mapped[list] = mapped_column(JSON, default=list)
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), default=None
    )
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    session: Mapped[JurySession] = relationship(back_populates="decisions")
    person: Mapped[Person] = relationship(foreign_keys=[person_id])
