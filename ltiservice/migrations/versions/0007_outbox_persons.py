"""outbox rows name the persons and the fact they report

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 09:30:00

RGPD erasure used to find a person's deliveries by matching their id inside dedupe keys, which
hit other people's rows and missed the person's own. Each row now carries ``person_id`` (whom
it is about), ``agent_id`` (the other person it names: evaluator, voiding signer) and ``fact``
(the stored fact it reports, so a replay never sends a fact twice to one destination).
Existing rows are backfilled: AGS scores from their payload's ``person_id``, xAPI statements
from their actor and instructor accounts (issuer + sub, an exact lookup).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BACKFILL_BATCH = 500


def upgrade() -> None:
    with op.batch_alter_table("outbox_message") as batch:
        batch.add_column(sa.Column("person_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("agent_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("fact", sa.String(length=64), nullable=True))
        batch.create_foreign_key(
            "fk_outbox_message_person_id", "person", ["person_id"], ["id"], ondelete="SET NULL"
        )
        batch.create_foreign_key(
            "fk_outbox_message_agent_id", "person", ["agent_id"], ["id"], ondelete="SET NULL"
        )
        batch.create_index("ix_outbox_message_person_id", ["person_id"])
        batch.create_index("ix_outbox_message_agent_id", ["agent_id"])
        batch.create_index("ix_outbox_fact", ["fact", "destination"])
    _backfill()


def _backfill() -> None:
    bind = op.get_bind()
    message = sa.table(
        "outbox_message",
        sa.column("id", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("payload", sa.JSON),
        sa.column("person_id", sa.Integer),
        sa.column("agent_id", sa.Integer),
    )
    people = {
        (issuer, sub): person_id
        for person_id, issuer, sub in bind.execute(
            sa.text(
                "SELECT person.id, platform.issuer, person.sub FROM person "
                "JOIN platform ON platform.id = person.platform_id"
            )
        )
    }

    def named(account: object) -> int | None:
        if not isinstance(account, dict):
            return None
        return people.get((account.get("homePage"), account.get("name")))

    last = 0
    while True:
        rows = bind.execute(
            sa.select(message.c.id, message.c.kind, message.c.payload)
            .where(message.c.id > last)
            .order_by(message.c.id)
            .limit(BACKFILL_BATCH)
        ).all()
        if not rows:
            return
        for row_id, kind, payload in rows:
            last = row_id
            payload = payload or {}
            if kind == "ags_score":
                person, agent = payload.get("person_id"), None
            else:
                person = named((payload.get("actor") or {}).get("account"))
                instructor = (payload.get("context") or {}).get("instructor") or {}
                agent = named(instructor.get("account"))
                if payload.get("verb", {}).get("id", "").endswith("/voided"):
                    person, agent = None, person
            if person is not None or agent is not None:
                bind.execute(
                    sa.update(message)
                    .where(message.c.id == row_id)
                    .values(person_id=person, agent_id=agent)
                )


def downgrade() -> None:
    with op.batch_alter_table("outbox_message") as batch:
        batch.drop_index("ix_outbox_fact")
        batch.drop_index("ix_outbox_message_agent_id")
        batch.drop_index("ix_outbox_message_person_id")
        batch.drop_constraint("fk_outbox_message_agent_id", type_="foreignkey")
        batch.drop_constraint("fk_outbox_message_person_id", type_="foreignkey")
        batch.drop_column("fact")
        batch.drop_column("agent_id")
        batch.drop_column("person_id")
