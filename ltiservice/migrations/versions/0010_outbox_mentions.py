"""outbox mentions: every person a delivery names besides the one it is about

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 10:30:00

Decision statements now name the whole jury (`context.team`), not one other agent: erasure
must rename the erased person in every delivery that names them. Rows queued before keep
their one `agent_id`, copied here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox_mention",
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["outbox_message.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("message_id", "person_id"),
    )
    op.create_index(op.f("ix_outbox_mention_person_id"), "outbox_mention", ["person_id"])
    op.execute(
        "INSERT INTO outbox_mention (message_id, person_id) "
        "SELECT id, agent_id FROM outbox_message WHERE agent_id IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_outbox_mention_person_id"), table_name="outbox_mention")
    op.drop_table("outbox_mention")
