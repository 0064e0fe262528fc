"""step approvals: sales agree before a gated step (strategic formal notice)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 16:25:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "step_approval",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("approved_by", sa.String(length=64), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"]),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("document_id", "step"),
    )
    op.create_index(op.f("ix_step_approval_customer_id"), "step_approval", ["customer_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_step_approval_customer_id"), table_name="step_approval")
    op.drop_table("step_approval")
