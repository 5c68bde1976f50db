"""Open Badges 3.0 credentials issued for capitalised blocks and awarded certifications, and
their revocation status."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ltiservice.db import Base
from ltiservice.models.evaluation import CertificationAward, LedgerEntry
from ltiservice.models.tenancy import utcnow


class IssuedCredential(Base):
    """One signed OpenBadgeCredential (JWT-VC) per ledger entry (a block) or per award of the
    certification jury (the certification): exactly one of the two is set.

    ``status_index`` is its bit in the organisation's Bitstring Status List; ``revoked_at``
    set means the bit is set (revoked). The token is kept as signed: it is what the learner
    downloads, byte for byte.
    """

    __tablename__ = "issued_credential"
    __table_args__ = (UniqueConstraint("organisation_id", "status_index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    ledger_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("ledger_entry.id", ondelete="CASCADE"), unique=True, default=None
    )
    award_id: Mapped[int | None] = mapped_column(
        ForeignKey("certification_award.id", ondelete="CASCADE"), unique=True, default=None
    )
    credential_id: Mapped[str] = mapped_column(String(64), unique=True)  # urn:uuid:…
    status_index: Mapped[int] = mapped_column(Integer)
    token: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    revocation_reason: Mapped[str | None] = mapped_column(Text, default=None)

    ledger_entry: Mapped[LedgerEntry | None] = relationship()
    award: Mapped[CertificationAward | None] = relationship()
