"""open badges 3.0 credentials issued for capitalised blocks

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 10:00:00

One signed OpenBadgeCredential (JWT-VC) per ledger entry, with its index in the
organisation's Bitstring Status List and its revocation.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "issued_credential",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("ledger_entry_id", sa.Integer(), nullable=False),
        sa.Column("credential_id", sa.String(length=64), nullable=False),
        sa.Column("status_index", sa.Integer(), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revocation_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["ledger_entry_id"], ["ledger_entry.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organisation_id", "status_index"),
        sa.UniqueConstraint("ledger_entry_id"),
        sa.UniqueConstraint("credential_id"),
    )
    op.create_index(
        "ix_issued_credential_organisation_id", "issued_credential", ["organisation_id"]
    )
    op.create_index("ix_issued_credential_person_id", "issued_credential", ["person_id"])


def downgrade() -> None:
    op.drop_index("ix_issued_credential_person_id", table_name="issued_credential")
    op.drop_index("ix_issued_credential_organisation_id", table_name="issued_credential")
    op.drop_table("issued_credential")
