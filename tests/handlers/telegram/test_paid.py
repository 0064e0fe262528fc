"""I paid: the whole flow, its validations in each locale, cancel, and the record it leaves."""

from __future__ import annotations

from sqlalchemy import select

from storage.tables import Allocation, Event, Payment, StaffAlert
from tests.handlers.telegram.harness import ACME_CHAT, BotRig, texts


async def linked(rig: BotRig, chat: int, ref: str, language: str = "en") -> None:
    await rig.send(chat, f"/start {rig.link(chat, ref, language=language)}")


async def test_i_paid_records_a_claim_on_the_chosen_invoices_and_alerts_staff(rig: BotRig) -> None:
    await linked(rig, ACME_CHAT, "ACME")
    await rig.click(ACME_CHAT, "I paid")
    q = rig.tg.last(ACME_CHAT)
    assert "Which invoices did you pay?" in q.plain_text
    print(q.button_texts)
    await rig.click(ACME_CHAT, data=q.buttons[0][0]["callback_data"])  # tick INV-1
    ticked = rig.tg.last(ACME_CHAT)
    print(ticked.button_texts)
    replies = await rig.click(ACME_CHAT, ticked.button_texts[-2][0])  # Continue
    print(texts(replies))
    replies = await rig.send(ACME_CHAT, "800.00")
    print(texts(replies))
    replies = await rig.send(ACME_CHAT, "2026-03-14")
    print(texts(replies))
    replies = await rig.send(ACME_CHAT, "<b>WIRE-77</b> & co")
    print(texts(replies))
    replies = await rig.send(ACME_CHAT, "/skip")
    print(texts(replies))
    replies = await rig.click(ACME_CHAT, "✔ Confirm")
    print(texts(replies))
    with rig.app.engine.connect() as conn:
        pay = conn.execute(select(Payment.__table__).where(Payment.source == "debtor")).one()
        allocs = conn.execute(select(Allocation.document_ref, Allocation.amount_cents)
                              .where(Allocation.payment_id == pay.id)).all()
        events = conn.execute(select(Event.kind, Event.doc_refs).where(Event.kind == "payment_claimed")).all()
        alerts = conn.execute(select(StaffAlert.kind, StaffAlert.payload, StaffAlert.text)).all()
    assert pay.status == "claimed" and pay.amount_cents == 80000 and pay.reference == "<b>WIRE-77</b> & co"
    assert allocs == [("INV-1", 80000)]
    assert events == [("payment_claimed", "INV-1")]
    print(alerts)
    assert alerts[0][1] == {"decision": "payment", "id": pay.id}
    assert "&lt;b&gt;WIRE-77&lt;/b&gt; &amp; co" in alerts[0][2]
