"""learning record store destinations

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 09:00:00

Each organisation sends its xAPI statements to one or more LRSs (its own, the branch's), each
with its own credentials; the password is stored encrypted (Fernet, key derived from the
application's secret key).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lrs_destination",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("endpoint", sa.String(length=1024), nullable=False),
        sa.Column("username", sa.String(length=255), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organisation_id", "name"),
    )
    op.create_index("ix_lrs_destination_organisation_id", "lrs_destination", ["organisation_id"])


def downgrade() -> None:
    op.drop_index("ix_lrs_destination_organisation_id", table_name="lrs_destination")
    op.drop_table("lrs_destination")
