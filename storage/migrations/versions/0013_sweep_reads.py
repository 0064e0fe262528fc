"""sweep reads: the debtors' payment claims found without reading every payment

- ix_payment_debtor: payment (customer_id) WHERE source = 'debtor', a partial index holding only
  the debtors' claims. Every sweep asks which customers have a claim waiting on staff
  (bot.services.payments.unmatched_claims); without it SQLite walked the whole payment table in
  customer order (~1 s of a sweep at 1,000,000 payments). Imported payments are not in it, so
  an import writes nothing more.

Revision ID: 0013_sweep_reads
Revises: 0012_scheduled_report
Create Date: 2026-11-30 12:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_sweep_reads"
down_revision = "0012_scheduled_report"
branch_labels = None
depends_on = None

_DEBTOR = sa.text("source = 'debtor'")


def upgrade() -> None:
    op.create_index("ix_payment_debtor", "payment", ["customer_id"], sqlite_where=_DEBTOR, postgresql_where=_DEBTOR)


def downgrade() -> None:
    op.drop_index("ix_payment_debtor", table_name="payment")
