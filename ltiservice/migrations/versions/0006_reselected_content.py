"""re-selected content: an assessment replaced on its link by the LMS's new choice

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 10:10:00

When a trainer chooses other content for an activity already in use, the LMS's choice wins:
the link moves to the new assessment and the old one keeps its work, readable from the new
one, with the link it was on and when it was replaced.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assessment") as batch:
        batch.add_column(sa.Column("replaced_by_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("replaced_link_id", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("replaced_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_foreign_key(
            "fk_assessment_replaced_by",
            "assessment",
            ["replaced_by_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("assessment") as batch:
        batch.drop_constraint("fk_assessment_replaced_by", type_="foreignkey")
        batch.drop_column("replaced_at")
        batch.drop_column("replaced_link_id")
        batch.drop_column("replaced_by_id")
