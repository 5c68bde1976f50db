"""Learning record stores an organisation sends its xAPI statements to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ltiservice.db import Base
from ltiservice.models.tenancy import utcnow


class LrsDestination(Base):
    """One LRS of one organisation: its own, or the branch's (the certifier's).

    ``secret`` holds the Basic-auth password encrypted with Fernet (``ltiservice.lrs``); the
    clear text never reaches the database, the logs or the command line's output.
    """

    __tablename__ = "lrs_destination"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    endpoint: Mapped[str] = mapped_column(String(1024))  # the xAPI base, without /statements
    username: Mapped[str] = mapped_column(String(255))
    secret: Mapped[str] = mapped_column(Text)  # Fernet token
    kind: Mapped[str] = mapped_column(String(16), default="organisation")  # organisation|branch
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
