"""open badges 3.0 credentials for the certifications the certification jury awards

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 15:00:00

An issued credential is a block's (ledger_entry_id) or, now, a certification's (award_id).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("issued_credential") as batch:
        batch.alter_column("ledger_entry_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("award_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_issued_credential_award",
            "certification_award",
            ["award_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_unique_constraint("uq_issued_credential_award_id", ["award_id"])


def downgrade() -> None:
    op.execute("DELETE FROM issued_credential WHERE award_id IS NOT NULL")
    with op.batch_alter_table("issued_credential") as batch:
        batch.drop_constraint("uq_issued_credential_award_id", type_="unique")
        batch.drop_constraint("fk_issued_credential_award", type_="foreignkey")
        batch.drop_column("award_id")
        batch.alter_column("ledger_entry_id", existing_type=sa.Integer(), nullable=False)
