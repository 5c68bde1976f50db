"""grade mapping and expired-registration confirmation on assessments

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 14:10:00

`grade_mapping` says how a block result becomes a gradebook score: "decision" (acquired =
maximum, not acquired = 0), the default for new placements, or "competency_share". Rows placed
before this revision sent shares: they keep "competency_share", so a column already in a
gradebook does not change meaning between two learners of the same cohort. The confirmation
columns record who confirmed a placement under an expired registration, and when.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assessment") as batch:
        batch.add_column(
            sa.Column(
                "grade_mapping", sa.String(length=32), nullable=False, server_default="decision"
            )
        )
        batch.add_column(
            sa.Column("expired_registration_confirmed_by_id", sa.Integer(), nullable=True)
        )
        batch.add_column(
            sa.Column(
                "expired_registration_confirmed_at", sa.DateTime(timezone=True), nullable=True
            )
        )
        batch.create_foreign_key(
            "fk_assessment_expired_registration_confirmed_by",
            "person",
            ["expired_registration_confirmed_by_id"],
            ["id"],
            ondelete="SET NULL",
        )
    # Every row existing now was graded by share: keep what its gradebook column shows.
    op.execute("UPDATE assessment SET grade_mapping = 'competency_share'")


def downgrade() -> None:
    with op.batch_alter_table("assessment") as batch:
        batch.drop_constraint("fk_assessment_expired_registration_confirmed_by", type_="foreignkey")
        batch.drop_column("expired_registration_confirmed_at")
        batch.drop_column("expired_registration_confirmed_by_id")
        batch.drop_column("grade_mapping")
