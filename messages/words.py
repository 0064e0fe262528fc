"""Words for the codes the ledger, the ladder and the timeline keep, as staff read them in Slack.

One mapping for every place a code reaches a person in Slack: the owe answer, the reports,
the staff alerts (the templates' `words` filter: `{{ step | words("step") }}`). Slack is
English, like every staff text; the debtor's Telegram surface words its own codes per locale
in its templates (reasons, document kinds). A code no table knows reads with its underscores
as spaces (a policy's own step `courtesy_call` -> "courtesy call"), never as a bare code.
Commands that staff copy (`collectbot step approve ... --step formal_notice`) keep the code.
"""

from __future__ import annotations

# Ladder steps (the packaged policy's names; a policy's own names fall back to spaces).
STEPS = {
    "pre_due": "pre-due",
    "due": "due",
    "first": "first",
    "second": "second",
    "final": "final",
    "formal_notice": "formal notice",
    "installment": "instalment",
}

# A debtor's dispute reasons (the Telegram flow's choices, as its English labels say them).
DISPUTE_REASONS = {
    "not_received": "not received",
    "damaged": "damaged or defective",
    "wrong_price": "wrong price or quantity",
    "already_paid": "already paid",
    "returned": "goods returned",
    "balance_differs": "balance differs",
    "other": "other",
}

# Why an item gets no reminder now (bot.domain.pauses item statuses and ladder pause reasons).
ITEM_STATUSES = {
    "open": "open",
    "disputed": "disputed",
    "claimed": "payment claimed",
    "in_plan": "in a payment plan",
    "promised": "promised",
    "on_hold": "on hold",
    "conversation": "talking to a person",
    "awaiting_sales": "awaiting sales",
}

# Timeline event and staff alert kinds.
EVENT_KINDS = {
    "chat_linked": "chat linked",
    "reminder_sent": "reminder sent",
    "step_skipped": "step skipped",
    "message_in": "message from the debtor",
    "message_out": "message to the debtor",
    "payment_claimed": "payment claimed",
    "payment_confirmed": "payment confirmed",
    "payment_rejected": "payment rejected",
    "payment_unmatched": "claimed payment not matched",
    "dispute_opened": "dispute opened",
    "dispute_resolved": "dispute resolved",
    "plan_proposed": "payment plan proposed",
    "plan_approved": "payment plan approved",
    "plan_rejected": "payment plan rejected",
    "plan_broken": "payment plan broken",
    "plan_completed": "payment plan completed",
    "promise_made": "promise to pay",
    "promise_kept": "promise kept",
    "promise_broken": "promise broken",
    "hold_requested": "hold requested",
    "hold_set": "reminders held",
    "hold_ended": "hold ended",
    "hold_rejected": "hold request rejected",
    "note_added": "note",
    "contact_unreachable": "chat unreachable",
    "credit_hold_set": "credit hold set",
    "credit_hold_released": "credit hold released",
    "heads_up": "heads-up to sales",
    "chase_by_phone": "chase by phone",
    "escalated": "escalated to credit staff",
    "formal_notice_alert": "formal notice",
    "approval_needed": "sales approval needed",
    "step_approved": "sales agreed",
    "send_unknown": "reminder delivery unknown",
    "credit_note_missing": "credit note missing",
}

# Statuses of plans, promises, payments, disputes and holds: words already, but `in_plan`-like
# codes may come; listed where the word differs.
STATUSES = {
    "no_channel": "no chat",
    "in_plan": "in a payment plan",
}

TABLES = {
    "step": STEPS,
    "reason": DISPUTE_REASONS,
    "item": ITEM_STATUSES,
    "event": EVENT_KINDS,
    "status": STATUSES,
}


def words(code: object, kind: str) -> str:
    """The words for `code` of `kind` (one of TABLES: step, reason, item, event, status); a code the
    table does not know has its underscores read as spaces. Not escaped: callers escape for mrkdwn."""
    text = str(code)
    return TABLES[kind].get(text, text.replace("_", " "))


def step_words(name: str) -> str:
    """A ladder step as people say it: `formal_notice` -> "formal notice", `pre_due` -> "pre-due"."""
    return words(name, "step")
