"""Short-lived LTI values (OIDC state, nonces, launch data, cached JWKS) on the embedded default."""

from __future__ import annotations

from sqlalchemy import Float, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ltiservice.db import Base


class LtiStoreEntry(Base):
    """One key of the shared LTI store: primary-key lookups only, so cost stays flat."""

    __tablename__ = "lti_store"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[float] = mapped_column(Float, index=True)
