"""slack: one thread per customer case, Slack event ids already acted on, hold requests from Slack

Revision ID: 0009_slack
Revises: 0011_sweepcore
Create Date: 2026-11-30 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_slack"
down_revision = "0011_sweepcore"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "slack_thread",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("root_ts", sa.String(length=32), nullable=False),
        sa.Column("claimed_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel", "customer_id"),
    )
    op.create_index("ix_slack_thread_customer_id", "slack_thread", ["customer_id"])
    op.create_index("ix_slack_thread_root", "slack_thread", ["channel", "root_ts"])
    op.create_table(
        "slack_event",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_index("ix_slack_event_received_at", "slack_event", ["received_at"])


def downgrade() -> None:
    op.drop_index("ix_slack_event_received_at", table_name="slack_event")
    op.drop_table("slack_event")
    op.drop_index("ix_slack_thread_root", table_name="slack_thread")
    op.drop_index("ix_slack_thread_customer_id", table_name="slack_thread")
    op.drop_table("slack_thread")
