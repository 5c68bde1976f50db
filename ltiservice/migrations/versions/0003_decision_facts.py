"""decision facts and single supersession

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 09:00:00

A decision records the jury facts a certification's combination rule reads (Mutualité: the
final interview), and a decision can be superseded by one correction only.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.add_column(sa.Column("facts", sa.JSON(), nullable=True))
        batch_op.create_index("uq_decision_supersedes_id", ["supersedes_id"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.drop_index("uq_decision_supersedes_id")
        batch_op.drop_column("facts")
