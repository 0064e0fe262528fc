"""What a button on a staff alert in a customer's Slack thread does, and who may press it.

DESIGN "Chat behaviour" and issue 13 §5-6: plans carry Approve / Reject, claimed payments
Confirm / Reject, disputes Valid (credit note) / Not valid, hold requests Approve / Reject
(only credit staff, COLLECTBOT_CREDIT_STAFF); a sales heads-up carries "Hold 7 days" (a hold
request for credit staff) and "Go ahead" (a note), a step that waits for sales "Agree" (a step
approval) — those for credit staff or the customer's own sales rep.

Every button's value is the id of the staff alert it sits on; what it acts on comes from that
alert's row (its customer, kind and payload), never from the click, so a forged value can only
name another alert, which must belong to the thread the click came from. The decision is taken
by the same services as the CLI's, in one transaction with the alert row locked, and the alert
remembers it (payload "acted"), so a second click — or two at once — changes nothing.
Pure database work: the Slack adapter acks, calls `act` through run_db, then updates the message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select, update

from bot.domain.policy import Policy
from bot.services import disputes, holds, payments, plan_decisions, relay
from bot.services.approvals import NothingToApprove, approve_step
from bot.services.customers import CustomerRow, customers_by_id
from messages.words import step_words
from storage import heads_ups
from storage.tables import Dispute, Hold, Payment, PaymentPlan, StaffAlert


@dataclass(frozen=True)
class Button:
    action: str  # the Slack action_id's suffix: "payment_confirm", ...
    label: str  # plain text, at most 75 characters
    style: str | None = None  # "primary" | "danger" | None


# decision (payload "decision") -> its two buttons: (approve-like, reject-like)
DECISION_BUTTONS: dict[str, tuple[Button, Button]] = {
    "plan": (Button("plan_approve", "Approve", "primary"), Button("plan_reject", "Reject", "danger")),
    "payment": (Button("payment_confirm", "Confirm", "primary"), Button("payment_reject", "Reject", "danger")),
    "dispute": (Button("dispute_valid", "Valid (credit note)", "primary"), Button("dispute_not_valid", "Not valid")),
    "hold": (Button("hold_approve", "Approve", "primary"), Button("hold_reject", "Reject", "danger")),
}
SALES_BUTTONS: dict[str, tuple[Button, ...]] = {
    "heads_up": (Button("headsup_hold", f"Hold {holds.HOLD_REQUEST_DAYS} days"), Button("headsup_go", "Go ahead")),
    "approval_needed": (Button("step_agree", "Agree", "primary"),),
}
# What the updated message says was done (past tense).
VERDICTS = {
    "plan_approve": "Plan approved", "plan_reject": "Plan rejected",
    "payment_confirm": "Payment confirmed", "payment_reject": "Payment rejected",
    "dispute_valid": "Dispute valid (credit note to follow)", "dispute_not_valid": "Dispute not valid",
    "hold_approve": "Hold approved", "hold_reject": "Hold rejected",
    "headsup_hold": f"Hold of {holds.HOLD_REQUEST_DAYS} days requested", "headsup_go": "Go ahead",
    "step_agree": "Agreed",
}
CREDIT_ONLY = frozenset(b.action for pair in DECISION_BUTTONS.values() for b in pair)

REFUSED_CREDIT = "Only credit staff can decide this. Nothing was changed."
REFUSED_SALES = "Only the customer's sales rep or credit staff can do this. Nothing was changed."
NOT_HERE = "This button does not belong to this case any more. Nothing was changed."


def buttons_for(kind: str, payload: dict) -> tuple[Button, ...]:
    """The buttons an alert of `kind` with `payload` carries (none for most alerts)."""
    decision = payload.get("decision")
    if decision in DECISION_BUTTONS:
        return DECISION_BUTTONS[decision]
    return SALES_BUTTONS.get(kind, ())


@dataclass(frozen=True)
class ActionResult:
    """What a click did. status: done | repeat (done before from Slack: nothing changed, the message shows
    it already) | already (decided elsewhere first, e.g. the CLI: nothing changed) | refused | unknown.

    `note` is one line for the person who clicked (refusals, "already"), plain text; `verdict`,
    `actor` and `at` describe the decision the message should show (this one, or the earlier one);
    `notices` are debtor outbox ids to deliver after the commit.
    """

    status: str
    note: str = ""
    verdict: str = ""
    actor: str = ""
    at: datetime | None = None
    notices: tuple[int, ...] = ()
    customer: CustomerRow | None = None


def _step_of(conn: Connection, row) -> str:  # noqa: ANN001
    """The step(s) an alert is about: its payload's `step`; a heads-up's from the heads-up records
    (storage.heads_ups, by alert key); an approval's from its key (approval:<doc id>:<step>)."""
    if row.payload.get("step"):
        return str(row.payload["step"])
    if row.kind == "heads_up":
        steps = heads_ups.steps_of_alert(conn, row.key)
        if steps:
            return " and ".join(steps)
    parts = row.key.split(":")
    return parts[-1] if len(parts) == 3 and parts[-1] else "next"


def _lock_alert(conn: Connection, alert_id: int):  # noqa: ANN202
    t = StaffAlert.__table__
    q = select(t).where(t.c.id == alert_id)
    if conn.dialect.name == "postgresql":
        q = q.with_for_update()
    return conn.execute(q).first()


def _earlier(conn: Connection, decision: str, target: int) -> tuple[str, str, datetime | None]:
    """(verdict, actor, at) of a decision taken elsewhere (the CLI) before this click."""
    if decision == "plan":
        t = PaymentPlan.__table__
        r = conn.execute(select(t.c.status, t.c.decided_by, t.c.decided_at).where(t.c.id == target)).first()
    elif decision == "payment":
        t = Payment.__table__
        r = conn.execute(select(t.c.status, t.c.decided_by, t.c.decided_at).where(t.c.id == target)).first()
    elif decision == "dispute":
        t = Dispute.__table__
        r = conn.execute(select(t.c.status, t.c.opened_by, t.c.resolved_at).where(t.c.id == target)).first()
        r = r and (r[0], "", r[2])
    else:
        t = Hold.__table__
        r = conn.execute(select(t.c.status, t.c.approved_by, t.c.ended_at).where(t.c.id == target)).first()
    if r is None:
        return "It no longer exists", "", None
    return f"Already {str(r[0]).replace('_', ' ')}", r[1] or "", r[2]


def act(
    conn: Connection,
    *,
    alert_id: int,
    action: str,
    user_id: str,
    credit_staff: bool,
    thread_customer_id: int | None,
    policy: Policy,
    now: datetime,
    today: date,
) -> ActionResult:
    """Carry out the button `action` pressed by Slack user `user_id` on staff alert `alert_id`.

    `thread_customer_id` is the customer whose case thread the clicked message is in (None: not in
    a case thread): the alert must be about that customer. Raises nothing for a user's mistake:
    refusals and repeated clicks come back as a status with a line to show.
    """
    row = _lock_alert(conn, alert_id)
    if row is None or row.customer_id is None or row.customer_id != thread_customer_id:
        return ActionResult("unknown", NOT_HERE)
    payload = dict(row.payload or {})
    if action not in {b.action for b in buttons_for(row.kind, payload)}:
        return ActionResult("unknown", NOT_HERE)
    customer = customers_by_id(conn, [row.customer_id])[row.customer_id]
    if action in CREDIT_ONLY and not credit_staff:
        return ActionResult("refused", REFUSED_CREDIT, customer=customer)
    if action not in CREDIT_ONLY and not (credit_staff or (customer.sales_rep_slack_id
                                                            and customer.sales_rep_slack_id == user_id)):
        return ActionResult("refused", REFUSED_SALES, customer=customer)
    acted = payload.get("acted")
    if acted:
        at = datetime.fromisoformat(acted["at"]) if acted.get("at") else None
        return ActionResult("repeat", f"{acted['verdict']} already; nothing was changed.", acted["verdict"],
                            acted.get("by", ""), at, customer=customer)
    actor = f"slack:{user_id}"
    verdict = VERDICTS[action]
    notices: list[int | None] = []
    try:
        notices, verdict = _carry_out(conn, row, payload, action, actor=actor, user_id=user_id, customer=customer,
                                      policy=policy, now=now, today=today)
    except (LookupError, ValueError) as exc:
        decision = payload.get("decision")
        if decision in DECISION_BUTTONS:
            earlier, by, at = _earlier(conn, decision, int(payload["id"]))
            return ActionResult("already", f"{earlier}; nothing was changed.", earlier, by, at, customer=customer)
        return ActionResult("already", f"{exc}. Nothing was changed.", customer=customer)
    payload["acted"] = {"action": action, "verdict": verdict, "by": actor, "at": now.isoformat()}
    t = StaffAlert.__table__
    conn.execute(update(t).where(t.c.id == alert_id).values(payload=payload))
    return ActionResult("done", "", verdict, actor, now, tuple(n for n in notices if n is not None), customer)


def _carry_out(conn: Connection, row, payload: dict, action: str, *, actor: str, user_id: str,  # noqa: ANN001
               customer: CustomerRow, policy: Policy, now: datetime, today: date) -> tuple[list, str]:
    """Do it; ([debtor outbox ids], verdict). Raises LookupError / ValueError when it was decided already."""
    verdict = VERDICTS[action]
    target = int(payload["id"]) if "id" in payload else 0
    if action in ("plan_approve", "plan_reject"):
        _, notice = plan_decisions.decide_and_notify(conn, target, approve=action == "plan_approve", actor=actor,
                                                     now=now, today=today)
        return [notice], verdict
    if action in ("payment_confirm", "payment_reject"):
        _, notice = payments.decide_payment(conn, target, confirm=action == "payment_confirm", reason="",
                                            actor=actor, now=now)
        return [notice], verdict
    if action in ("dispute_valid", "dispute_not_valid"):
        _, notice = disputes.resolve(conn, target, valid=action == "dispute_valid", reason="", actor=actor, now=now)
        return [notice], verdict
    if action in ("hold_approve", "hold_reject"):
        status = holds.decide_hold(conn, target, approve=action == "hold_approve", actor=actor, now=now)
        if status == "active":
            until = conn.execute(select(Hold.__table__.c.until).where(Hold.__table__.c.id == target)).scalar()
            verdict = f"Hold approved: reminders paused until {until.isoformat()}"
            local_today = now.astimezone(ZoneInfo(customer.timezone or "UTC")).date()
            if until < local_today:  # approved after its last day: say that it pauses nothing
                verdict += f", a day already past ({local_today} for the customer): nothing is paused"
        return [], verdict
    step = _step_of(conn, row)
    if action == "headsup_hold":
        why = f"asked from the heads-up for the {step_words(step)} reminder"
        made = holds.request_hold(
            conn, customer, days=holds.HOLD_REQUEST_DAYS, reason=why,
            requester=user_id, actor=actor, now=now, doc_refs=list(row.doc_refs or []),
        )
        if made is None:
            raise ValueError("A hold request for this customer is already waiting for credit staff")
        return [], verdict
    if action == "headsup_go":
        relay.add_note(conn, customer, text=f"go ahead with the {step_words(step)} reminder", actor=actor, now=now)
        return [], verdict
    # step_agree: one item's alert agrees for that item; otherwise for the whole customer
    refs = list(row.doc_refs or [])
    what = refs[0] if len(refs) == 1 else customer.ref
    try:
        agreed = approve_step(conn, what, step, policy=policy, actor=actor, now=now)
    except NothingToApprove as exc:
        raise ValueError(str(exc)) from None
    if agreed.new:
        return [], f"Agreed: {agreed.step} agreed for {agreed.subject}"
    return [], f"Agreed: {agreed.step} was already agreed for {agreed.subject}"
