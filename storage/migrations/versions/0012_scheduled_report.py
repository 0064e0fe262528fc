"""scheduled reports: one row per (kind, period) claimed before posting, so several `collectbot run`s
post each daily digest and weekly summary once

Revision ID: 0012_scheduled_report
Revises: 0009_slack
Create Date: 2026-11-30 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_scheduled_report"
down_revision = "0009_slack"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scheduled_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("claimed_by", sa.String(length=128), nullable=False),
        sa.Column("slack_ts", sa.String(length=64), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "period"),
    )


def downgrade() -> None:
    op.drop_table("scheduled_report")
