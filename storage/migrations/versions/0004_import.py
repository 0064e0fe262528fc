"""document.settled_on: the date from which an item is settled, beside next_action_on in one index

The sweep's candidates are the items whose next action date has come and that are not
settled at that date (storage/arming.py); the index (settled_on, next_action_on) reads
them in two range scans, so the sweep's cost follows the open items. It replaces the
index on next_action_on alone. Existing rows start with settled_on NULL (armed as before:
only a cost) until their customer's ledger next changes, or run `settle` by hand.

Revision ID: 0004_import
Revises: 0008_telegram
Create Date: 2026-11-24 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_import"
down_revision = "0008_telegram"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.add_column(sa.Column("settled_on", sa.Date(), nullable=True))
        batch_op.drop_index("ix_document_next_action_on")
        batch_op.create_index("ix_document_armed", ["settled_on", "next_action_on"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.drop_index("ix_document_armed")
        batch_op.create_index("ix_document_next_action_on", ["next_action_on"], unique=False)
        batch_op.drop_column("settled_on")
