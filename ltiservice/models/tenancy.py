"""Tenancy: organisations own platforms; people and courses belong to one platform."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, DateTime, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ltiservice.db import Base


def utcnow() -> datetime:
    return datetime.now(UTC)


class Organisation(Base):
    """A training organisation: the tenant. No query ever crosses organisations."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    platforms: Mapped[list[Platform]] = relationship(back_populates="organisation")


class Platform(Base):
    """An LMS registration, keyed by (issuer, client_id): Canvas shares one issuer."""

    __tablename__ = "platform"
    __table_args__ = (UniqueConstraint("issuer", "client_id", name="uq_platform_issuer_client"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    issuer: Mapped[str] = mapped_column(String(512))
    client_id: Mapped[str] = mapped_column(String(255))
    auth_login_url: Mapped[str] = mapped_column(String(1024))
    auth_token_url: Mapped[str] = mapped_column(String(1024))
    auth_audience: Mapped[str | None] = mapped_column(String(1024), default=None)
    key_set_url: Mapped[str] = mapped_column(String(1024))
    product_family: Mapped[str | None] = mapped_column(String(64), default=None)
    # How the registration arrived (cli, file, dynamic) and, for dynamic ones, the raw answer.
    source: Mapped[str] = mapped_column(String(16), default="cli")
    registration: Mapped[dict | None] = mapped_column(JSON, default=None)
    # active, or pending until an operator approves a dynamic registration (a setting).
    status: Mapped[str] = mapped_column(String(16), default="active", server_default="active")
    registration_link_id: Mapped[int | None] = mapped_column(
        ForeignKey("registration_link.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    organisation: Mapped[Organisation] = relationship(back_populates="platforms")
    deployments: Mapped[list[Deployment]] = relationship(
        back_populates="platform", cascade="all, delete-orphan"
    )


class Deployment(Base):
    """One deployment of the tool on a platform (Moodle: the tool type id)."""

    __tablename__ = "deployment"
    __table_args__ = (UniqueConstraint("platform_id", "deployment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"))
    deployment_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    platform: Mapped[Platform] = relationship(back_populates="deployments")


class Person(Base):
    """A user as one platform knows them. Name and email only when the LMS sends them."""

    __tablename__ = "person"
    __table_args__ = (UniqueConstraint("platform_id", "sub"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"))
    sub: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255), default=None)
    email: Mapped[str | None] = mapped_column(String(320), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    platform: Mapped[Platform] = relationship()


class Course(Base):
    """An LTI context on one platform."""

    __tablename__ = "course"
    __table_args__ = (UniqueConstraint("platform_id", "context_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"))
    context_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str | None] = mapped_column(Text, default=None)
    label: Mapped[str | None] = mapped_column(String(255), default=None)
    nrps_url: Mapped[str | None] = mapped_column(String(1024), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    platform: Mapped[Platform] = relationship()
