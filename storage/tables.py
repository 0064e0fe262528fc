"""All tables of collectbot.

Money is stored as integer minor units (cents) beside an ISO currency code, so
both SQLite and PostgreSQL keep it exact. Datetimes are aware UTC. Every change
here needs an Alembic migration in `storage/migrations/versions/`.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


def _ts(nullable: bool = False, index: bool = False) -> Column:
    return Column(UTCDateTime(), nullable=nullable, index=index)


class Customer(SQLModel, table=True):
    __tablename__ = "customer"

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(unique=True, max_length=64)
    name: str = Field(max_length=255)
    aliases: str = Field(default="", max_length=1024)  # "|"-separated, as imported
    segment: str = Field(default="default", max_length=32)
    currency: str = Field(max_length=3)
    credit_limit_cents: int | None = Field(default=None, sa_type=BigInteger)
    payment_terms_days: int = 30
    locale: str = Field(default="en", max_length=16)
    timezone: str = Field(default="UTC", max_length=64)
    country: str = Field(default="", max_length=2)
    sales_rep_slack_id: str = Field(default="", max_length=32)
    credit_hold: bool = False


class CustomerKey(SQLModel, table=True):
    """Folded ref, name and aliases of each customer, for exact lookups by index."""

    __tablename__ = "customer_key"

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True, ondelete="CASCADE")
    key: str = Field(max_length=255, index=True)


class Contact(SQLModel, table=True):
    __tablename__ = "contact"

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    name: str = Field(default="", max_length=255)
    telegram_chat_id: int | None = Field(default=None, sa_type=BigInteger, index=True)
    locale: str | None = Field(default=None, max_length=16)
    verified: bool = False
    reachable: bool = True
    linked_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class Document(SQLModel, table=True):
    __tablename__ = "document"
    __table_args__ = (
        Index("ix_document_customer_type", "customer_id", "type"),
        Index("ix_document_armed", "settled_on", "next_action_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(unique=True, max_length=64)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    type: str = Field(max_length=16)  # invoice | credit_note | debit_note | withholding
    issue_date: date
    due_date: date | None = None
    amount_cents: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    related_ref: str | None = Field(default=None, max_length=64)
    # The sweep's index (storage/arming.py): the earliest local date on which this item may
    # need action again (a step, a skip, a heads-up; NULL: nothing more to do), and the date
    # from which the ledger's credit settles it (NULL: not settled by what the ledger holds).
    next_action_on: date | None = None
    settled_on: date | None = None


class Payment(SQLModel, table=True):
    __tablename__ = "payment"

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(unique=True, max_length=64)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    date: date
    amount_cents: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    method: str = Field(default="", max_length=255)
    status: str = Field(default="confirmed", max_length=16)  # claimed | confirmed | rejected
    source: str = Field(default="import", max_length=16)  # import | debtor
    reference: str = Field(default="", max_length=255)
    created_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class Allocation(SQLModel, table=True):
    """A payment's explicit `applies_to` share of one document."""

    __tablename__ = "allocation"

    id: int | None = Field(default=None, primary_key=True)
    payment_id: int = Field(foreign_key="payment.id", index=True, ondelete="CASCADE")
    document_ref: str = Field(max_length=64, index=True)
    amount_cents: int = Field(sa_type=BigInteger)
    position: int = 0


class Dispute(SQLModel, table=True):
    __tablename__ = "dispute"

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    status: str = Field(default="open", max_length=16)  # open | valid | not_valid
    reason: str = Field(default="", max_length=64)
    text: str = ""
    resolution: str = ""
    opened_by: str = Field(default="", max_length=64)
    opened_at: datetime = Field(sa_column=_ts())
    resolved_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class DisputeItem(SQLModel, table=True):
    __tablename__ = "dispute_item"

    id: int | None = Field(default=None, primary_key=True)
    dispute_id: int = Field(foreign_key="dispute.id", index=True, ondelete="CASCADE")
    document_id: int = Field(foreign_key="document.id", index=True)


class PaymentPlan(SQLModel, table=True):
    __tablename__ = "payment_plan"

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    # proposed | approved | rejected | active | broken | completed
    status: str = Field(default="proposed", max_length=16)
    currency: str = Field(max_length=3)
    total_cents: int = Field(sa_type=BigInteger)
    installment_count: int = 1
    proposed_by: str = Field(default="", max_length=64)
    proposed_at: datetime = Field(sa_column=_ts())
    decided_by: str = Field(default="", max_length=64)
    decided_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    reason: str = ""


class PlanItem(SQLModel, table=True):
    __tablename__ = "plan_item"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="payment_plan.id", index=True, ondelete="CASCADE")
    document_id: int = Field(foreign_key="document.id", index=True)


class PlanInstallment(SQLModel, table=True):
    __tablename__ = "plan_installment"
    __table_args__ = (UniqueConstraint("plan_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="payment_plan.id", index=True, ondelete="CASCADE")
    seq: int
    due_date: date
    amount_cents: int = Field(sa_type=BigInteger)


class Promise(SQLModel, table=True):
    __tablename__ = "promise"

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    document_id: int | None = Field(default=None, foreign_key="document.id", index=True)
    promised_date: date
    amount_cents: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    status: str = Field(default="open", max_length=16)  # open | kept | broken
    made_by: str = Field(default="", max_length=64)
    made_at: datetime = Field(sa_column=_ts())


class Hold(SQLModel, table=True):
    """A pause of reminders for a customer, or for one document (document_id set)."""

    __tablename__ = "hold"

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    document_id: int | None = Field(default=None, foreign_key="document.id", index=True)
    until: date
    reason: str
    status: str = Field(default="active", max_length=16)  # requested | active | rejected | released
    requested_by: str = Field(default="", max_length=64)
    approved_by: str = Field(default="", max_length=64)
    created_at: datetime = Field(sa_column=_ts())
    ended_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class Conversation(SQLModel, table=True):
    """A debtor's open "talk to a person" conversation: it pauses reminders."""

    __tablename__ = "conversation"

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    opened_at: datetime = Field(sa_column=_ts())
    last_message_at: datetime = Field(sa_column=_ts())
    closed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class ReminderSend(SQLModel, table=True):
    """The outbox: one row per (item, step), written before the send and updated after.

    `key` is unique: "doc:<document id>:<step>" or "plan:<id>:inst:<seq>:<kind>",
    so no step can ever be recorded (and so sent) twice, whatever runs at once.
    status: sending (intent recorded) | sent | no_channel | skipped | unknown
    (intent recorded, result lost in a crash) | failed.
    """

    __tablename__ = "reminder_send"
    __table_args__ = (Index("ix_reminder_send_status", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=128, unique=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    document_id: int | None = Field(default=None, foreign_key="document.id", index=True)
    step: str = Field(max_length=32)
    status: str = Field(max_length=16)
    message_key: str = Field(default="", max_length=64, index=True)  # one message, many rows
    tone: str = Field(default="", max_length=32)
    local_date: date  # the debtor's local date when the step was done
    attempts: int = 0
    channel: str = Field(default="", max_length=16)
    channel_message_id: str = Field(default="", max_length=64)
    claimed_by: str = Field(default="", max_length=128)
    error: str = ""
    created_at: datetime = Field(sa_column=_ts())
    updated_at: datetime = Field(sa_column=_ts())


class StepApproval(SQLModel, table=True):
    """Sales (or credit staff) agree that a gated step (policy `sales_approval`) may go out for an item."""

    __tablename__ = "step_approval"
    __table_args__ = (UniqueConstraint("document_id", "step"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    document_id: int = Field(foreign_key="document.id")
    step: str = Field(max_length=32)
    approved_by: str = Field(max_length=64)
    approved_at: datetime = Field(sa_column=_ts())


class StaffAlert(SQLModel, table=True):
    """A message to staff (heads-up, chase by phone, formal notice), once per key."""

    __tablename__ = "staff_alert"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=128, unique=True)
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    kind: str = Field(max_length=32)
    text: str = ""
    status: str = Field(default="pending", max_length=16)  # pending | posted | failed
    created_at: datetime = Field(sa_column=_ts())


class LinkToken(SQLModel, table=True):
    __tablename__ = "link_token"

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    contact_name: str = Field(default="", max_length=255)
    token_hash: str = Field(max_length=64, unique=True)
    expires_at: datetime = Field(sa_column=_ts())
    used_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    created_at: datetime = Field(sa_column=_ts())


class Event(SQLModel, table=True):
    """The append-only timeline: every message in and out and every decision."""

    __tablename__ = "event"
    __table_args__ = (Index("ix_event_customer_at", "customer_id", "at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int | None = Field(default=None, foreign_key="customer.id")
    at: datetime = Field(sa_column=_ts())
    kind: str = Field(max_length=32)
    actor: str = Field(max_length=64)
    doc_refs: str = Field(default="", max_length=2048)  # "|"-separated
    text: str = ""
