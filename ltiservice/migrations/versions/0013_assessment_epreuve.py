"""assessment épreuve: the épreuve of a block an assessment evaluates

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 14:10:00

Where the referential evaluates a block by several épreuves (courtage: the training
organisation, the company referent, the evaluation commission), each épreuve is its own placed
assessment. Assessments placed before keep None: the block's one implicit épreuve.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assessment") as batch:
        batch.add_column(sa.Column("epreuve_code", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("assessment") as batch:
        batch.drop_column("epreuve_code")
