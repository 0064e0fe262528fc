"""rate budget holder: a lease on a permit or a chat names the process (or session) holding it

- rate_budget.holder: the claim holder's token (bot.scheduler.claims) of the process whose request
  holds the key, "" once given back. A process killed with a request out used to keep the debtor's
  chat (and its permit) for the whole lease, 40 s: a conversation resumed by a restarted `run` waited
  that long. Now a key held by a dead holder is free again after its interval, as if the request
  had just been done (bot.scheduler.ratelimit.SharedBudget.try_send).

Revision ID: 0014_rate_holder
Revises: 0013_sweep_reads
Create Date: 2026-11-30 14:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_rate_holder"
down_revision = "0013_sweep_reads"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rate_budget") as batch:
        batch.add_column(sa.Column("holder", sa.String(length=96), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("rate_budget") as batch:
        batch.drop_column("holder")
