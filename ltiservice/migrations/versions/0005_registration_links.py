"""registration links, pending platforms, rate-limit counters, assessments per deployment

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 09:20:00

Dynamic registration needs an operator's link (only its token's hash is stored); a platform
may wait for approval; rate limits count per client address on the embedded default; an
assessment is found by its deployment too, since resource link ids are unique per deployment.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# 0002 left the (platform, resource link) constraint unnamed: name it to drop it on SQLite.
_NAMING = {"uq": "uq_%(table_name)s_%(column_0_N_name)s"}
_OLD_UNIQUE_SQLITE = "uq_assessment_platform_id_resource_link_id"
_OLD_UNIQUE_POSTGRES = "assessment_platform_id_resource_link_id_key"


def upgrade() -> None:
    op.create_table(
        "registration_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("note", sa.String(length=255), nullable=True),
        sa.Column("uses_allowed", sa.Integer(), nullable=False),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index(
        op.f("ix_registration_link_organisation_id"), "registration_link", ["organisation_id"]
    )
    op.create_table(
        "rate_limit_counter",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index(op.f("ix_rate_limit_counter_expires_at"), "rate_limit_counter", ["expires_at"])
    with op.batch_alter_table("platform") as batch:
        batch.add_column(
            sa.Column("status", sa.String(length=16), server_default="active", nullable=False)
        )
        batch.add_column(sa.Column("registration_link_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_platform_registration_link",
            "registration_link",
            ["registration_link_id"],
            ["id"],
            ondelete="SET NULL",
        )
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("assessment", naming_convention=_NAMING if sqlite else None) as batch:
        batch.add_column(sa.Column("deployment_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_assessment_deployment", "deployment", ["deployment_id"], ["id"], ondelete="CASCADE"
        )
        batch.drop_constraint(
            _OLD_UNIQUE_SQLITE if sqlite else _OLD_UNIQUE_POSTGRES, type_="unique"
        )
        batch.create_unique_constraint(
            "uq_assessment_link", ["platform_id", "deployment_id", "resource_link_id"]
        )


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("assessment") as batch:
        batch.drop_constraint("uq_assessment_link", type_="unique")
        batch.create_unique_constraint(
            _OLD_UNIQUE_SQLITE if sqlite else _OLD_UNIQUE_POSTGRES,
            ["platform_id", "resource_link_id"],
        )
        batch.drop_constraint("fk_assessment_deployment", type_="foreignkey")
        batch.drop_column("deployment_id")
    with op.batch_alter_table("platform") as batch:
        batch.drop_constraint("fk_platform_registration_link", type_="foreignkey")
        batch.drop_column("registration_link_id")
        batch.drop_column("status")
    op.drop_index(op.f("ix_rate_limit_counter_expires_at"), table_name="rate_limit_counter")
    op.drop_table("rate_limit_counter")
    op.drop_index(op.f("ix_registration_link_organisation_id"), table_name="registration_link")
    op.drop_table("registration_link")
