"""outboxes: debtor messages rendered before they are recorded; staff alerts delivered after commit; rate budget

Revision ID: 0005_outbox
Revises: 0002
Create Date: 2026-11-30 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_outbox"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbound_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("candidates", sa.JSON(), nullable=False),
        sa.Column("doc_refs", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(length=128), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=True),
        sa.Column("telegram_message_id", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_outbound_message_customer_id", "outbound_message", ["customer_id"], unique=False)
    op.create_index("ix_outbound_message_status", "outbound_message", ["status"], unique=False)

    op.create_table(
        "rate_budget",
        sa.Column("key", sa.String(length=96), nullable=False),
        sa.Column("next_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )

    with op.batch_alter_table("reminder_send") as batch:
        batch.add_column(sa.Column("message_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_reminder_send_message_id", "outbound_message", ["message_id"], ["id"])
        batch.create_index("ix_reminder_send_message_id", ["message_id"], unique=False)

    with op.batch_alter_table("staff_alert") as batch:
        batch.add_column(sa.Column("doc_refs", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("payload", sa.JSON(), nullable=False, server_default="{}"))
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("not_before", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("claimed_by", sa.String(length=128), nullable=False, server_default=""))
        batch.add_column(sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("slack_channel", sa.String(length=32), nullable=False, server_default=""))
        batch.add_column(sa.Column("slack_ts", sa.String(length=32), nullable=False, server_default=""))
        batch.add_column(sa.Column("error", sa.String(), nullable=False, server_default=""))
        batch.create_index("ix_staff_alert_status", ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("staff_alert") as batch:
        batch.drop_index("ix_staff_alert_status")
        for name in ("error", "slack_ts", "slack_channel", "posted_at", "claimed_by", "not_before", "attempts",
                     "payload", "doc_refs"):
            batch.drop_column(name)
    with op.batch_alter_table("reminder_send") as batch:
        batch.drop_index("ix_reminder_send_message_id")
        batch.drop_constraint("fk_reminder_send_message_id", type_="foreignkey")
        batch.drop_column("message_id")
    op.drop_table("rate_budget")
    op.drop_index("ix_outbound_message_status", table_name="outbound_message")
    op.drop_index("ix_outbound_message_customer_id", table_name="outbound_message")
    op.drop_table("outbound_message")
