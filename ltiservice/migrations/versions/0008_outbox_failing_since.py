"""outbox rows remember when their failures began

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 10:10:00

Deliveries died after 12 attempts (73 to 145 minutes of outage). They now die only once they
have been failing for the retry schedule's give-up window (72 h by default), counted from
``failing_since``: set at the first failure, cleared when delivered or re-queued by an admin.
Rows failing at upgrade time start their window at the upgrade.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_message") as batch:
        batch.add_column(sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE outbox_message SET failing_since = CURRENT_TIMESTAMP "
        "WHERE status = 'pending' AND last_error IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("outbox_message") as batch:
        batch.drop_column("failing_since")
