"""The Slack adapter's database work, each call in its own short transaction (the services own them).

The Slack handlers (bot.handlers.slack) run no SQL of their own: they call these through
bot.scheduler.dbpool.run_db, so no blocking database call happens on the event loop and no
network call happens inside a transaction. Reads take no SQLite write lock (storage.engine.reading).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import Engine

from bot.domain.policy import Policy
from bot.services import relay, thread_actions
from bot.services.customers import CustomerRow, customers_by_id
from bot.services.thread_actions import ActionResult
from storage import slack as slack_store
from storage.engine import reading
from storage.slack import ThreadRow


def first_delivery(engine: Engine, event_id: str, now: datetime) -> bool:
    """Record a Slack event id; False for Slack's retry of an event already handled."""
    with engine.begin() as conn:
        return slack_store.first_delivery(conn, event_id, now)


# -- case threads


def thread_of(engine: Engine, channel: str, customer_id: int) -> ThreadRow | None:
    """The customer's case thread in `channel` (root_ts "" while its root is being posted), or None."""
    with reading(engine) as conn:
        return slack_store.thread_of(conn, channel, customer_id)


def reserve_thread(engine: Engine, channel: str, customer_id: int, holder: str, now: datetime,
                   stale_after: timedelta) -> bool:
    """The right to post the customer's thread root (storage.slack.reserve_thread)."""
    with engine.begin() as conn:
        return slack_store.reserve_thread(conn, channel, customer_id, holder, now, stale_after)


def set_root(engine: Engine, channel: str, customer_id: int, root_ts: str) -> None:
    """Record the posted root of the customer's thread."""
    with engine.begin() as conn:
        slack_store.set_root(conn, channel, customer_id, root_ts)


def release_thread(engine: Engine, channel: str, customer_id: int, holder: str) -> None:
    """Give up a reservation whose root could not be posted."""
    with engine.begin() as conn:
        slack_store.release_thread(conn, channel, customer_id, holder)


def forget_root(engine: Engine, channel: str, customer_id: int, root_ts: str) -> None:
    """Forget a thread whose root was deleted in Slack."""
    with engine.begin() as conn:
        slack_store.forget_root(conn, channel, customer_id, root_ts)


def customer(engine: Engine, customer_id: int) -> CustomerRow:
    """One customer by id (KeyError when there is none)."""
    with reading(engine) as conn:
        return customers_by_id(conn, [customer_id])[customer_id]


def case_of_thread(engine: Engine, channel: str, root_ts: str) -> CustomerRow | None:
    """The customer whose case thread in `channel` has the root `root_ts`, or None."""
    with reading(engine) as conn:
        cid = slack_store.customer_of_thread(conn, channel, root_ts)
        return None if cid is None else customers_by_id(conn, [cid]).get(cid)


# -- what people do in a thread


def act_in_thread(engine: Engine, *, alert_id: int, action: str, user_id: str, credit_staff: bool, channel: str,
                  thread_ts: str | None, policy: Policy, now: datetime, today: date) -> ActionResult:
    """A button pressed on a staff alert in the case thread (`channel`, `thread_ts`): thread_actions.act
    in one transaction, the alert's customer checked against the thread's."""
    with engine.begin() as conn:
        customer_id = slack_store.customer_of_thread(conn, channel, thread_ts or "")
        return thread_actions.act(
            conn, alert_id=alert_id, action=action, user_id=user_id, credit_staff=credit_staff,
            thread_customer_id=customer_id, policy=policy, now=now, today=today,
        )


def note(engine: Engine, customer: CustomerRow, *, text: str, actor: str, now: datetime) -> None:
    """An internal note on the case (relay.add_note) in its own transaction."""
    with engine.begin() as conn:
        relay.add_note(conn, customer, text=text, actor=actor, now=now)


def relay_to_debtor(engine: Engine, customer: CustomerRow, *, text: str, key: str, actor: str,
                    now: datetime) -> int | None:
    """relay.relay_to_debtor in its own transaction: the debtor outbox id, or None (no chat, or done before)."""
    with engine.begin() as conn:
        return relay.relay_to_debtor(conn, customer, text=text, key=key, actor=actor, now=now)


def message_status(engine: Engine, message_id: int) -> str:
    """The status of one debtor outbox message (sent, pending, no_channel, unknown, ...)."""
    with reading(engine) as conn:
        return slack_store.message_status(conn, message_id)
