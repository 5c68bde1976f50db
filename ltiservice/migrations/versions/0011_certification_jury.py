"""the certification jury: sessions, members, decisions; ledger and awards say which body

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 14:30:00

Existing ledger entries were written by evaluation committees (``body`` defaults to
``evaluation_committee``); existing awards keep their committee decision and no jury decision,
so they are never declared to the Caisse des Dépôts.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jury_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("certification_code", sa.String(length=64), nullable=False),
        sa.Column("referential_version", sa.String(length=64), nullable=False),
        sa.Column("body", sa.String(length=64), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed_by_id", sa.Integer(), nullable=True),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("minutes_pdf", sa.LargeBinary(), nullable=True),
        sa.Column("minutes_sha256", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        sa.ForeignKeyConstraint(["created_by_id"], ["person.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["signed_by_id"], ["person.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_jury_session_organisation_id", "jury_session", ["organisation_id"])
    op.create_table(
        "jury_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("seat", sa.String(length=64), nullable=False),
        sa.Column("observer", sa.Boolean(), nullable=False),
        sa.Column("titular", sa.Boolean(), nullable=False),
        sa.Column("present", sa.Boolean(), nullable=False),
        sa.Column("president", sa.Boolean(), nullable=False),
        sa.Column("substitute_for_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["session_id"], ["jury_session.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["substitute_for_id"], ["jury_member.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_jury_member_session_id", "jury_member", ["session_id"])
    op.create_table(
        "jury_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("certification_code", sa.String(length=64), nullable=False),
        sa.Column("referential_version", sa.String(length=64), nullable=False),
        sa.Column("route", sa.String(length=16), nullable=False),
        sa.Column("dossier_reference", sa.String(length=200), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("blocks", sa.JSON(), nullable=False),
        sa.Column("final_interview_passed", sa.Boolean(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("proposals", sa.JSON(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["jury_session.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["person.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("session_id", "person_id"),
    )
    op.create_index("ix_jury_decision_session_id", "jury_decision", ["session_id"])
    op.create_index("ix_jury_decision_organisation_id", "jury_decision", ["organisation_id"])
    op.create_index("ix_jury_decision_person_id", "jury_decision", ["person_id"])
    with op.batch_alter_table("ledger_entry") as batch:
        batch.alter_column("decision_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(
            sa.Column(
                "body",
                sa.String(length=32),
                nullable=False,
                server_default="evaluation_committee",
            )
        )
        batch.add_column(sa.Column("jury_decision_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_ledger_entry_jury_decision", "jury_decision", ["jury_decision_id"], ["id"]
        )
        batch.create_index("ix_ledger_entry_jury_decision_id", ["jury_decision_id"])
    with op.batch_alter_table("certification_award") as batch:
        batch.alter_column("decision_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("jury_decision_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_certification_award_jury_decision", "jury_decision", ["jury_decision_id"], ["id"]
        )
        batch.create_index("ix_certification_award_jury_decision_id", ["jury_decision_id"])


def downgrade() -> None:
    with op.batch_alter_table("certification_award") as batch:
        batch.drop_index("ix_certification_award_jury_decision_id")
        batch.drop_constraint("fk_certification_award_jury_decision", type_="foreignkey")
        batch.drop_column("jury_decision_id")
    with op.batch_alter_table("ledger_entry") as batch:
        batch.drop_index("ix_ledger_entry_jury_decision_id")
        batch.drop_constraint("fk_ledger_entry_jury_decision", type_="foreignkey")
        batch.drop_column("jury_decision_id")
        batch.drop_column("body")
    op.drop_index("ix_jury_decision_person_id", table_name="jury_decision")
    op.drop_index("ix_jury_decision_organisation_id", table_name="jury_decision")
    op.drop_index("ix_jury_decision_session_id", table_name="jury_decision")
    op.drop_table("jury_decision")
    op.drop_index("ix_jury_member_session_id", table_name="jury_member")
    op.drop_table("jury_member")
    op.drop_index("ix_jury_session_organisation_id", table_name="jury_session")
    op.drop_table("jury_session")
