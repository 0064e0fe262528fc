"""telegram: chat sessions (debtor flows that survive a restart), claims' receipts and decisions, disputed amounts

Revision ID: 0008_telegram
Revises: 0003_names
Create Date: 2026-12-01 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_telegram"
down_revision = "0003_names"
branch_labels = None
depends_on = None

_PAYMENT_TEXT = (("claimed_by", 64), ("receipt_file_id", 255), ("receipt_kind", 16), ("decided_by", 64))


def upgrade() -> None:
    op.create_table(
        "chat_session",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("flow", sa.String(length=16), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("nonce", sa.String(length=16), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("last_update_id", sa.BigInteger(), nullable=False),
        sa.Column("link_failures", sa.Integer(), nullable=False),
        sa.Column("link_window_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("chat_id"),
    )
    with op.batch_alter_table("payment") as batch:
        for name, length in _PAYMENT_TEXT:
            batch.add_column(sa.Column(name, sa.String(length=length), nullable=False, server_default=""))
        batch.add_column(sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("decision_reason", sa.String(), nullable=False, server_default=""))
    with op.batch_alter_table("dispute_item") as batch:
        batch.add_column(sa.Column("disputed_cents", sa.BigInteger(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("credited_cents", sa.BigInteger(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("dispute_item") as batch:
        batch.drop_column("credited_cents")
        batch.drop_column("disputed_cents")
    with op.batch_alter_table("payment") as batch:
        batch.drop_column("decision_reason")
        batch.drop_column("decided_at")
        for name, _ in reversed(_PAYMENT_TEXT):
            batch.drop_column(name)
    op.drop_table("chat_session")
