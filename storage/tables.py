"""All tables of collectbot.

Money is stored as integer minor units (cents) beside an ISO currency code, so
both SQLite and PostgreSQL keep it exact. Datetimes are aware UTC. Every change
here needs an Alembic migration in `storage/migrations/versions/`.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Column, Index, Text, UniqueConstraint, false, text
from sqlmodel import Field, SQLModel

from bot.domain.statuses import DisputeStatus, HoldStatus, PaymentStatus, PlanStatus, PromiseStatus
from storage.types import UTCDateTime

# ix_payment_debtor's condition, and the same written out literally for a query that should use that index
# (a bound parameter in its place would not let SQLite's planner see that the partial index covers it).
_DEBTOR = "source = 'debtor'"
DEBTOR_CLAIMS = "payment.source = 'debtor'"


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
    credit_hold: bool = False  # the stop on new sales (DESIGN "Dunning policy"); not a pause of reminders
    # Whether the sweep lifts the credit hold once nothing is overdue: set by a step's credit_hold
    # action or by hand while something was overdue; a hold set by hand on an account with nothing
    # overdue stays until `collectbot credit-hold --release` (bot.services.credit_holds).
    credit_hold_auto_release: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


class CustomerKey(SQLModel, table=True):
    """Folded ref, name and aliases of each customer (bot.domain.names), kept by storage.customer_keys.

    `key` is found exactly (B-tree); `whole` is the whole folded name when the key dropped
    its legal form; `search`, the whole name's ASCII letters and digits (NULL for a ref),
    is found by trigrams: an FTS5 table `customer_key_fts` on SQLite, a pg_trgm GIN index
    on PostgreSQL (both made by migration 0003, outside this model). Row ids are never
    reused on SQLite, so the FTS table can never lend a removed key's trigrams to a new row.
    """

    __tablename__ = "customer_key"
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True, ondelete="CASCADE")
    key: str = Field(sa_type=Text, index=True)
    whole: str | None = Field(default=None, sa_type=Text)
    search: str | None = Field(default=None, sa_type=Text)


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
    # The debtors' claims alone (migration 0013): what every sweep asks about, among a million imported payments.
    __table_args__ = (
        Index("ix_payment_debtor", "customer_id", sqlite_where=text(_DEBTOR), postgresql_where=text(_DEBTOR)),
    )

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(unique=True, max_length=64)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    date: date
    amount_cents: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    method: str = Field(default="", max_length=255)
    status: str = Field(default=PaymentStatus.CONFIRMED, max_length=16)  # PaymentStatus
    source: str = Field(default="import", max_length=16)  # import | debtor
    reference: str = Field(default="", max_length=255)
    created_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    # A debtor's claim (source "debtor"): who claimed it, the receipt, and the staff's decision.
    claimed_by: str = Field(default="", max_length=64)  # "debtor:<chat id>"
    receipt_file_id: str = Field(default="", max_length=255)  # Telegram file id of a photo or document
    receipt_kind: str = Field(default="", max_length=16)  # "" | photo | document
    decided_by: str = Field(default="", max_length=64)
    decided_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    decision_reason: str = ""


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
    status: str = Field(default=DisputeStatus.OPEN, max_length=16)  # DisputeStatus
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
    # When the dispute was opened: the item's open amount, and the credit notes naming it so far.
    # A dispute found valid waits for a credit note beyond `credited_cents` (the ERP's, imported).
    disputed_cents: int = Field(default=0, sa_type=BigInteger)
    credited_cents: int = Field(default=0, sa_type=BigInteger)


class PaymentPlan(SQLModel, table=True):
    __tablename__ = "payment_plan"

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    status: str = Field(default=PlanStatus.PROPOSED, max_length=16)  # PlanStatus
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
    status: str = Field(default=PromiseStatus.OPEN, max_length=16)  # PromiseStatus
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
    status: str = Field(default=HoldStatus.ACTIVE, max_length=16)  # HoldStatus
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
    message_id: int | None = Field(default=None, foreign_key="outbound_message.id", index=True)
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
    """The staff alert outbox: a message to staff (heads-up, chase by phone, formal notice, a debtor's claim...).

    Recorded once per `key` in the transaction of the decision that raises it, posted after that
    commits. status: pending (recorded, not posted yet: safe to post) | posting (intent recorded just
    before the call) | posted | unknown (the call may or may not have reached Slack). `claimed_by` names
    the live process or database session delivering it (bot.scheduler.claims); `not_before` delays a
    retry. `payload` carries what an adapter needs beyond the text (e.g. the decision a button acts on).
    """

    __tablename__ = "staff_alert"
    __table_args__ = (Index("ix_staff_alert_status", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=128, unique=True)
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    kind: str = Field(max_length=32)
    text: str = ""
    status: str = Field(default="pending", max_length=16)
    doc_refs: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    payload: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    attempts: int = 0
    not_before: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    claimed_by: str = Field(default="", max_length=128)
    posted_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    slack_channel: str = Field(default="", max_length=32)
    slack_ts: str = Field(default="", max_length=32)
    error: str = ""
    created_at: datetime = Field(sa_column=_ts())


class OutboundMessage(SQLModel, table=True):
    """The debtor message outbox: one row per message to a debtor (a reminder, a decision notice, a relayed reply).

    Rendered before it is recorded: `candidates` lists, in the order to try them, each linked chat
    of the customer with the text in that contact's language, as
    `[{"contact_id": int, "chat_id": int, "locale": str, "text": str (Telegram HTML),
    "buttons": [[{"text": str, "callback_data": str}, ...], ...] | null}]`; a 403 moves on to the next.
    status: pending (recorded, not attempted, or failed before the request left: safe to send) |
    sending (intent recorded just before the call) | sent | unknown (a timeout after the request left,
    or a crash between intent and result: never resent, shown to staff) | no_channel (every chat blocked
    the bot). `claimed_by` names the live process or database session delivering it
    (bot.scheduler.claims); `not_before` delays a retry (429 retry_after, backoff after a 5xx).
    DESIGN "Reliability and security".
    """

    __tablename__ = "outbound_message"
    __table_args__ = (Index("ix_outbound_message_status", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=128, unique=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    kind: str = Field(max_length=16)  # reminder | notice | relay | reply
    step: str = Field(default="", max_length=32)  # a reminder's tone; "" otherwise
    status: str = Field(default="pending", max_length=16)
    candidates: list[dict] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    doc_refs: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    attempts: int = 0
    not_before: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    claimed_by: str = Field(default="", max_length=128)
    chat_id: int | None = Field(default=None, sa_type=BigInteger)  # the chat it went to
    telegram_message_id: int | None = Field(default=None, sa_type=BigInteger)
    error: str = ""
    created_at: datetime = Field(sa_column=_ts())
    updated_at: datetime = Field(sa_column=_ts())


class ChatSession(SQLModel, table=True):
    """One Telegram chat's place in a debtor flow, kept here so a restart (or kill -9) resumes it.

    `flow` ("" when idle) and `step` name the question the debtor was asked; `data` holds the
    answers so far as plain JSON; `nonce` is the flow's share of its buttons' callback data, so a
    button from an older flow (or a forged one) matches nothing. `last_update_id` is the last
    Telegram update handled for this chat: an update delivered again after a crash is ignored.
    `link_failures` counts invalid /start tokens since `link_window_start` (the per-chat guessing
    limit). The record a flow makes is written only on its final confirmation, in one transaction.
    """

    __tablename__ = "chat_session"

    chat_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    flow: str = Field(default="", max_length=16)
    step: str = Field(default="", max_length=32)
    nonce: str = Field(default="", max_length=16)
    data: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    last_update_id: int = Field(default=0, sa_type=BigInteger)
    link_failures: int = 0
    link_window_start: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    updated_at: datetime = Field(sa_column=_ts())


class RateBudget(SQLModel, table=True):
    """A rate limit shared by every process on the database (bot.scheduler.ratelimit).

    `next_at`: the earliest wall-clock instant, in microseconds since the epoch, at which the
    next message under `key` (a bot token's digest, a chat, a Slack channel) may go.
    """

    __tablename__ = "rate_budget"

    key: str = Field(primary_key=True, max_length=96)
    next_at: int = Field(default=0, sa_type=BigInteger)
    # The claim holder token (bot.scheduler.claims) of the process whose request holds the key; ""
    # once given back. A dead holder's key is free after its interval, not after the whole lease.
    holder: str = Field(default="", max_length=96, sa_column_kwargs={"server_default": ""})


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
    # A real list (JSON), never a joined string in a length-limited column: a message may name
    # hundreds of invoices.
    doc_refs: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]"))
    text: str = ""


class HeadsUp(SQLModel, table=True):
    """A sales heads-up given for one (item, step): at most one ever (DESIGN "Ladder dates and windows").

    `projected_on` is the debtor's local date the step was projected to go out when the rep
    was told; the message itself is a staff alert (`alert_key`), one per customer per sweep.
    """

    __tablename__ = "heads_up"
    __table_args__ = (UniqueConstraint("document_id", "step"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    document_id: int = Field(foreign_key="document.id")
    step: str = Field(max_length=32)
    projected_on: date
    alert_key: str = Field(default="", max_length=128)
    created_at: datetime = Field(sa_column=_ts())


class SweepSetting(SQLModel, table=True):
    """Small facts the sweep keeps between runs, e.g. the fingerprint of the policy that armed the items."""

    __tablename__ = "sweep_setting"

    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(default="", max_length=128)


class SlackThread(SQLModel, table=True):
    """The one Slack thread of a customer's case in a channel (bot.handlers.slack.threads).

    `root_ts` is the thread's root message ("" while the process in `claimed_by` is posting it:
    a reservation, so two processes never open two threads for one customer). Found again after
    a restart by (channel, customer); a reply in the channel is mapped back by (channel, root_ts).
    """

    __tablename__ = "slack_thread"
    __table_args__ = (
        UniqueConstraint("channel", "customer_id"),
        Index("ix_slack_thread_root", "channel", "root_ts"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    channel: str = Field(max_length=32)
    root_ts: str = Field(default="", max_length=32)
    claimed_by: str = Field(default="", max_length=128)
    created_at: datetime = Field(sa_column=_ts())


class SlackEvent(SQLModel, table=True):
    """A Slack Events API delivery acted on, by its `event_id`: Slack's retries of it are not acted on again."""

    __tablename__ = "slack_event"

    event_id: str = Field(primary_key=True, max_length=64)
    received_at: datetime = Field(sa_column=_ts(index=True))


class ScheduledReport(SQLModel, table=True):
    """A scheduled Slack report (the daily digest, the weekly summary) for one period, claimed before it is
    posted: one row per (kind, period) across every process on the database, so it is posted once."""

    __tablename__ = "scheduled_report"
    __table_args__ = (UniqueConstraint("kind", "period"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # "digest" | "weekly"
    period: str = Field(max_length=16)  # the company date it is for, YYYY-MM-DD
    status: str = Field(max_length=16)  # "posting" | "posted" | "failed"
    claimed_by: str = Field(default="", max_length=128)  # the claim holder's token (bot.scheduler.claims)
    slack_ts: str = Field(default="", max_length=64)  # "channel ts" once posted
    error: str = Field(default="", max_length=500)
    created_at: datetime = Field(sa_column=_ts())
