"""Decisions in the case thread, with buttons: roles, the updated message, the timeline, the debtor told, double clicks.

Issue 13 §5-6: only credit staff decide (others: an ephemeral refusal, nothing changed); the
message then shows who decided and when, without buttons; the decision is in the timeline with
actor `slack:<user id>` and reaches the debtor in Telegram; a second click changes nothing.
Sales: "Hold 7 days" asks credit staff for a hold, "Go ahead" notes it, "Agree" approves a step.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select, update

from bot.services import disputes, payments, thread_actions
from bot.services.alerts import staff_alert
from bot.services.cases import propose_plan
from storage.outbox import add_alert
from storage.tables import Customer, Hold, Payment, PaymentPlan, StepApproval
from tests.fakes import FakeSlack
from tests.handlers.slack.harness import ACME_CHAT, CREDIT, OTHER_REP, REP, STRANGER, SlackRig, visible_text


def claim(rig: SlackRig, ref: str = "ACME", *, reference: str = "TX-1") -> int:
    customer = rig.customer(ref)
    with rig.app.engine.begin() as conn:
        return payments.claim_payment(
            conn, customer,
            payments.Claim(items=(("INV-1", 90000),), amount_cents=50000, currency="USD", paid_on=date(2026, 3, 10),
                           reference=reference),
            actor=f"debtor:{ACME_CHAT}", now=rig.app.now(),
        )


def buttons(message) -> list[str]:  # noqa: ANN001
    return [el["text"]["text"] for b in message.blocks or [] if b["type"] == "actions" for el in b["elements"]]


async def test_credit_staff_confirm_a_claimed_payment_and_the_debtor_is_told(rig: SlackRig, slack: FakeSlack) -> None:
    rig.link("ACME")
    pid = claim(rig)
    [alert] = await rig.post_alerts()
    assert buttons(alert) == ["Confirm", "Reject"]
    assert await rig.click(CREDIT, alert, "Confirm") == 200
    assert buttons(alert) == []  # the message was updated (chat.update): no more buttons
    assert "*Payment confirmed* by <@U0CREDIT> on 2026-03-16 13:00 UTC" in visible_text(alert)
    assert "ACME &lt;Corp&gt; &amp; Sons" in visible_text(alert)  # still escaped after the update
    [event] = rig.events_of("ACME", "payment_confirmed")
    assert event.actor == "slack:U0CREDIT"
    with rig.app.engine.connect() as conn:
        assert conn.execute(select(Payment.status).where(Payment.id == pid)).scalar() == "confirmed"
    [notice] = rig.tg.sent(ACME_CHAT)
    assert "is confirmed" in notice.plain_text and "500.00" in notice.plain_text
    assert slack.ephemerals == [] and slack.responses == []


async def test_only_credit_staff_decide_others_are_refused_in_private(rig: SlackRig, slack: FakeSlack) -> None:
    rig.link("ACME")
    pid = claim(rig)
    [alert] = await rig.post_alerts()
    for user in (REP, OTHER_REP, STRANGER):
        assert await rig.click(user, alert, "Reject") == 200
    assert [r["text"] for r in slack.responses] == ["Only credit staff can decide this. Nothing was changed."] * 3
    assert all(r["response_type"] == "ephemeral" and r["replace_original"] is False for r in slack.responses)
    assert buttons(alert) == ["Confirm", "Reject"] and alert.edits == []
    assert rig.events_of("ACME", "payment_rejected") == []
    with rig.app.engine.connect() as conn:
        assert conn.execute(select(Payment.status).where(Payment.id == pid)).scalar() == "claimed"
    assert rig.tg.sent(ACME_CHAT) == []


async def test_a_second_click_changes_nothing(rig: SlackRig, slack: FakeSlack) -> None:
    rig.link("ACME")
    claim(rig)
    [alert] = await rig.post_alerts()
    stale = slack.block_action("U0CREDIT2", alert, text="Reject")  # another screen, before the update
    await rig.click(CREDIT, alert, "Confirm")
    assert await rig.send(stale) == 200
    await rig.settle()
    assert [r["text"] for r in slack.responses] == ["Payment confirmed already; nothing was changed."]
    assert len(rig.events_of("ACME", "payment_confirmed")) == 1 and rig.events_of("ACME", "payment_rejected") == []
    assert len(rig.tg.sent(ACME_CHAT)) == 1
    assert len(alert.edits) == 1


async def test_a_decision_taken_on_the_cli_first_shows_on_the_message(rig: SlackRig, slack: FakeSlack) -> None:
    pid = claim(rig)
    [alert] = await rig.post_alerts()
    with rig.app.engine.begin() as conn:
        payments.decide_payment(conn, pid, confirm=False, reason="no such transfer", actor="cli", now=rig.app.now())
    await rig.click(CREDIT, alert, "Confirm")
    assert [r["text"] for r in slack.responses] == ["Already rejected; nothing was changed."]
    assert "*Already rejected* by cli" in visible_text(alert) and buttons(alert) == []
    assert rig.events_of("ACME", "payment_confirmed") == []


async def test_a_forged_value_naming_another_customers_alert_does_nothing(rig: SlackRig, slack: FakeSlack) -> None:
    claim(rig)
    beta = rig.customer("BETA")
    with rig.app.engine.begin() as conn:
        other = payments.claim_payment(
            conn, beta, payments.Claim(items=(("BR-1", 500000),), amount_cents=1000, currency="BRL",
                                       paid_on=date(2026, 3, 10), reference="X"), actor="debtor:1", now=rig.app.now())
    acme_alert, beta_alert = await rig.post_alerts()
    forged = slack.block_action(CREDIT, acme_alert, "cb:payment_confirm", value=beta_alert.blocks[-1]["elements"][0][
        "value"], forge=True)
    await rig.send(forged)
    await rig.settle()
    assert slack.responses[-1]["text"] == "This button does not belong to this case any more. Nothing was changed."
    with rig.app.engine.connect() as conn:
        assert conn.execute(select(Payment.status).where(Payment.id == other)).scalar() == "claimed"
    await rig.send(slack.block_action(CREDIT, acme_alert, "cb:payment_confirm", value="not-a-number", forge=True))
    await rig.settle()
    assert len(slack.responses) == 2


async def test_plan_approve_and_dispute_valid(rig: SlackRig, slack: FakeSlack) -> None:
    rig.link("ACME")
    customer = rig.customer("ACME")
    with rig.app.engine.begin() as conn:
        plan_id = propose_plan(conn, ["INV-2"], total_cents=30050, count=3, actor="debtor:5001", now=rig.app.now())
        staff_alert(conn, key=f"plan_proposed:{plan_id}", customer=customer, kind="plan_proposed", now=rig.app.now(),
                    doc_refs=["INV-2"], payload={"decision": "plan", "id": plan_id},
                    plan={"id": plan_id, "total_cents": 30050, "currency": "USD", "count": 3, "dates": []},
                    doc_list=["INV-2"])
        disputes.open_debtor_dispute(conn, customer, "INV-1", reason="damaged", text="<!channel> broken & <b>late</b>",
                                     actor="debtor:5001", now=rig.app.now())
    plan, dispute = await rig.post_alerts()
    assert buttons(plan) == ["Approve", "Reject"] and buttons(dispute) == ["Valid (credit note)", "Not valid"]
    assert "&lt;!channel&gt; broken &amp; &lt;b&gt;late&lt;/b&gt;" in visible_text(dispute)
    assert "<!channel>" not in visible_text(dispute)
    await rig.click(CREDIT, plan, "Approve")
    await rig.click(CREDIT, dispute, "Valid (credit note)")
    with rig.app.engine.connect() as conn:
        assert conn.execute(select(PaymentPlan.status).where(PaymentPlan.id == plan_id)).scalar() == "approved"
    assert [e.actor for e in rig.events_of("ACME", "plan_approved")] == ["slack:U0CREDIT"]
    assert [e.actor for e in rig.events_of("ACME", "dispute_resolved")] == ["slack:U0CREDIT"]
    assert "*Plan approved* by <@U0CREDIT>" in visible_text(plan)
    assert "*Dispute valid (credit note to follow)* by <@U0CREDIT>" in visible_text(dispute)
    told = [m.plain_text for m in rig.tg.sent(ACME_CHAT)]
    assert len(told) == 2 and "approved" in told[0].lower()


def heads_up(rig: SlackRig, ref: str = "ACME", doc: str = "INV-1", step: str = "final") -> None:
    """A heads-up as the sweep records it: the (item, step) in storage.heads_ups, one alert with a hashed key."""
    from storage import heads_ups
    from storage.tables import Document

    cid = rig.customer_id(ref)
    with rig.app.engine.begin() as conn:
        doc_id = conn.execute(select(Document.id).where(Document.ref == doc)).scalar_one()
        heads_ups.claim(conn, cid, [(doc_id, step, date(2026, 3, 19))], rig.app.now())
        key = f"headsup:{cid}:0123456789abcdef0123456789abcdef01234567"
        heads_ups.name_alert(conn, [(doc_id, step)], key)
        add_alert(conn, key=key, customer_id=cid, kind="heads_up",
                  text=f":wave: <@U0SALES01> Heads-up: *{ref}* gets the *{step}* reminder on 2026-03-19.",
                  at=rig.app.now(), doc_refs=[doc])


async def test_hold_seven_days_asks_credit_staff_who_approve(rig: SlackRig, slack: FakeSlack) -> None:
    heads_up(rig)
    [alert] = await rig.post_alerts()
    assert buttons(alert) == ["Hold 7 days", "Go ahead"]
    await rig.click(OTHER_REP, alert, "Hold 7 days")  # not ACME's rep
    assert slack.responses[-1]["text"] == thread_actions.REFUSED_SALES
    await rig.click(REP, alert, "Hold 7 days")
    assert "*Hold of 7 days requested* by <@U0SALES01>" in visible_text(alert)
    [requested] = rig.events_of("ACME", "hold_requested")
    assert requested.actor == "slack:U0SALES01" and "2026-03-23" in requested.text
    assert "asked from the heads-up for the final reminder" in requested.text
    with rig.app.engine.connect() as conn:
        assert conn.execute(select(Hold.status)).scalars().all() == ["requested"]  # pauses nothing yet
    [request] = await rig.post_alerts()
    assert request.thread_ts == alert.thread_ts
    assert buttons(request) == ["Approve", "Reject"]
    assert "<@U0SALES01> asks to hold reminders for *ACME &lt;Corp&gt; &amp; Sons*" in visible_text(request)
    await rig.click(REP, request, "Approve")  # the rep asked; only credit staff decide
    assert slack.responses[-1]["text"] == "Only credit staff can decide this. Nothing was changed."
    await rig.click(CREDIT, request, "Approve")
    with rig.app.engine.connect() as conn:
        assert conn.execute(select(Hold.status, Hold.approved_by)).all() == [("active", "slack:U0CREDIT")]
    assert [e.actor for e in rig.events_of("ACME", "hold_set")] == ["slack:U0CREDIT"]
    assert "Hold approved: reminders paused until 2026-03-23" in visible_text(request)


async def test_a_hold_approved_after_its_last_day_says_it_pauses_nothing(rig: SlackRig, slack: FakeSlack) -> None:
    heads_up(rig)
    [alert] = await rig.post_alerts()
    await rig.click(REP, alert, "Hold 7 days")  # until 2026-03-23
    [request] = await rig.post_alerts()
    rig.app.clock.set(rig.app.now() + timedelta(days=10))  # credit staff get to it late
    await rig.click(CREDIT, request, "Approve")
    assert ("Hold approved: reminders paused until 2026-03-23, a day already past (2026-03-26 for the customer): "
            "nothing is paused") in visible_text(request)


async def test_go_ahead_is_a_note_and_agree_approves_the_step(rig: SlackRig, slack: FakeSlack) -> None:
    heads_up(rig)
    with rig.app.engine.begin() as conn:
        conn.execute(update(Customer.__table__).where(Customer.__table__.c.ref == "ACME").values(segment="strategic"))
        add_alert(conn, key="approval:1:formal_notice", customer_id=rig.customer_id("ACME"), kind="approval_needed",
                  text="needs sales", at=rig.app.now(), doc_refs=["INV-1"])
    go, agree = await rig.post_alerts()
    assert buttons(agree) == ["Agree"]
    await rig.click(REP, go, "Go ahead")
    [note] = rig.events_of("ACME", "note_added")
    assert (note.actor, note.text) == ("slack:U0SALES01", "go ahead with the final reminder")
    await rig.click(STRANGER, agree, "Agree")
    assert slack.responses[-1]["text"].startswith("Only the customer's sales rep or credit staff")
    await rig.click(REP, agree, "Agree")
    with rig.app.engine.connect() as conn:
        assert conn.execute(select(StepApproval.step, StepApproval.approved_by)).all() == [
            ("formal_notice", "slack:U0SALES01")]
    assert "*Agreed: formal_notice agreed for INV-1* by <@U0SALES01>" in visible_text(agree)


async def test_two_clicks_at_the_same_moment_decide_once(rig: SlackRig, slack: FakeSlack) -> None:
    import asyncio

    rig.link("ACME")
    claim(rig)
    [alert] = await rig.post_alerts()
    confirm = slack.block_action(CREDIT, alert, text="Confirm")
    reject = slack.block_action("U0CREDIT2", alert, text="Reject")
    assert await asyncio.gather(rig.send(confirm), rig.send(reject)) == [200, 200]
    await rig.settle()
    decided = rig.events_of("ACME", "payment_confirmed") + rig.events_of("ACME", "payment_rejected")
    assert len(decided) == 1
    assert len(rig.tg.sent(ACME_CHAT)) == 1
    assert len(slack.responses) == 1 and "nothing was changed" in slack.responses[0]["text"]
