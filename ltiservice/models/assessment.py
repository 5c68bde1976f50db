"""Assessments placed in courses, and the learners' submissions to them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ltiservice.db import Base
from ltiservice.models.tenancy import Course, Person, utcnow


class Assessment(Base):
    """One placed activity: a plugin's block and case, with its submission rules."""

    __tablename__ = "assessment"
    # Resource link ids are unique within a deployment, not across a platform's deployments.
    __table_args__ = (
        UniqueConstraint(
            "platform_id", "deployment_id", "resource_link_id", name="uq_assessment_link"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"))
    # The deployment the placing launch came through (None: placed before 0005, set at the
    # next launch).
    deployment_id: Mapped[int | None] = mapped_column(
        ForeignKey("deployment.id", ondelete="CASCADE"), default=None
    )
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    # Our own id, sent as the line item's resourceId and a custom parameter at placement.
    resource_id: Mapped[str] = mapped_column(String(64), unique=True)
    resource_link_id: Mapped[str | None] = mapped_column(String(255), default=None)
    title: Mapped[str] = mapped_column(String(255))
    certification_code: Mapped[str] = mapped_column(String(64))
    referential_version: Mapped[str] = mapped_column(String(64))
    block_code: Mapped[str] = mapped_column(String(64))
    # The épreuve of the block this assessment evaluates, when the referential gives the block
    # several (courtage); None: the block's one implicit épreuve.
    epreuve_code: Mapped[str | None] = mapped_column(String(64), default=None)
    case_id: Mapped[str | None] = mapped_column(String(128), default=None)
    # A case written by the trainer instead of one of the plugin's: {title, statement}.
    custom_case: Mapped[dict | None] = mapped_column(JSON, default=None)
    deadline: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    allowed_extensions: Mapped[list] = mapped_column(JSON, default=list)
    max_file_mb: Mapped[int] = mapped_column(Integer, default=10)
    max_files: Mapped[int] = mapped_column(Integer, default=10)
    max_attempts: Mapped[int] = mapped_column(Integer, default=1)
    score_maximum: Mapped[float] = mapped_column(Float, default=100.0)
    # How a block result becomes a score (`grades.GRADE_MAPPINGS`): "decision" (acquired =
    # maximum, not acquired = 0) or "competency_share". Rows placed before 0012 keep the share.
    grade_mapping: Mapped[str] = mapped_column(
        String(32), default="decision", server_default="decision"
    )
    # Placed under a referential past its registration end date: the administrator who
    # confirmed it is for candidates who started before that date, and when (0012).
    expired_registration_confirmed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), default=None
    )
    expired_registration_confirmed_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), default=None
    )
    lineitem_url: Mapped[str | None] = mapped_column(String(1024), default=None)
    lineitems_url: Mapped[str | None] = mapped_column(String(1024), default=None)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The LMS chose other content for this assessment's link: its work stays readable from
    # the assessment that replaced it (`routing.find_assessment`), its grades go nowhere.
    replaced_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("assessment.id", ondelete="SET NULL"), default=None
    )
    replaced_link_id: Mapped[str | None] = mapped_column(String(255), default=None)
    replaced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)

    course: Mapped[Course] = relationship()


class Submission(Base):
    """A learner's attempt. A new attempt is a new row: nothing is ever overwritten."""

    __tablename__ = "submission"
    __table_args__ = (UniqueConstraint("assessment_id", "person_id", "attempt"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("assessment.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    # draft -> submitted -> under_evaluation -> decided
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)

    assessment: Mapped[Assessment] = relationship()
    person: Mapped[Person] = relationship()
    files: Mapped[list[SubmissionFile]] = relationship(
        back_populates="submission", cascade="all, delete-orphan", order_by="SubmissionFile.id"
    )


class SubmissionFile(Base):
    """A file handed in, stored under a random key, with its size and SHA-256."""

    __tablename__ = "submission_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submission.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    storage_key: Mapped[str] = mapped_column(String(255), unique=True)
    content_type: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    erased: Mapped[bool] = mapped_column(Boolean, default=False)

    submission: Mapped[Submission] = relationship(back_populates="files")
