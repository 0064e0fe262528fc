"""I paid: the whole flow, its validations in each locale, cancel, and the record it leaves."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.tables import Allocation, ChatSession, Event, Payment, StaffAlert
from tests.handlers.telegram.harness import ACME_CHAT, BETA_CHAT, GAMA_CHAT, PARS_CHAT, BotRig, texts


async def linked(rig: BotRig, chat: int, ref: str, language: str = "en") -> None:
    await rig.send(chat, f"/start {rig.link(chat, ref, language=language)}")


def claims(rig: BotRig) -> list:
    with rig.app.engine.connect() as conn:
        return conn.execute(select(Payment.__table__).where(Payment.source == "debtor")).all()


async def test_i_paid_records_a_claim_on_the_chosen_invoices_and_alerts_staff(rig: BotRig) -> None:
    await linked(rig, ACME_CHAT, "ACME")
    await rig.click(ACME_CHAT, "I paid")
    q = rig.tg.last(ACME_CHAT)
    assert "Which invoices did you pay?" in q.plain_text
    assert q.button_texts[:3] == [["INV-1 · $900.00 · due Feb 4, 2026"], ["INV-2 · $300.50 · due Mar 12, 2026"],
                                  ["All in USD ($1,200.50)"]]
    assert all(len(b["callback_data"].encode()) <= 64 and "INV" not in b["callback_data"]
               for row in q.buttons for b in row)  # opaque, short
    edited = await rig.click(ACME_CHAT, "INV-1 · $900.00 · due Feb 4, 2026")
    assert edited == []  # the same message, ticked in place
    assert rig.tg.last(ACME_CHAT).button_texts[0] == ["✅ INV-1 · $900.00 · due Feb 4, 2026"]
    replies = await rig.click(ACME_CHAT, "Continue with 1 selected ▶")
    assert "How much did you pay for INV-1? Open: $900.00" in texts(replies)
    assert (await rig.send(ACME_CHAT, "800.00"))[0].plain_text.startswith("When did you pay?")
    assert "payment reference" in (await rig.send(ACME_CHAT, "2026-03-14"))[0].plain_text
    assert "receipt" in (await rig.send(ACME_CHAT, "<b>WIRE-77</b> & co"))[0].plain_text
    photo = rig.tg.user_sends_photo(ACME_CHAT, caption="receipt")
    await rig.settle()
    summary = rig.said(ACME_CHAT)
    assert "Amount: $800.00" in summary and "Paid on: Mar 14, 2026" in summary
    assert "Reference: <b>WIRE-77</b> & co" in summary and "Receipt: attached" in summary
    assert "&lt;b&gt;WIRE-77&lt;/b&gt; &amp; co" in rig.tg.last(ACME_CHAT).text  # escaped before it went out
    assert claims(rig) == []  # nothing is written before the debtor confirms
    replies = await rig.click(ACME_CHAT, "✔ Confirm")
    assert "We have recorded your payment of $800.00 for INV-1" in texts(replies)

    (pay,) = claims(rig)
    with rig.app.engine.connect() as conn:
        allocs = conn.execute(select(Allocation.document_ref, Allocation.amount_cents)
                              .where(Allocation.payment_id == pay.id)).all()
        events = conn.execute(select(Event.kind, Event.actor, Event.doc_refs)
                              .where(Event.kind == "payment_claimed")).all()
        alerts = conn.execute(select(StaffAlert.kind, StaffAlert.payload, StaffAlert.text, StaffAlert.status)).all()
        session = conn.execute(select(ChatSession.flow).where(ChatSession.chat_id == ACME_CHAT)).scalar_one()
    assert (pay.status, pay.amount_cents, pay.currency, pay.date.isoformat()) == ("claimed", 80000, "USD", "2026-03-14")
    assert pay.reference == "<b>WIRE-77</b> & co" and pay.ref == f"CLAIM-{pay.id}"
    assert (pay.receipt_kind, pay.receipt_file_id) == ("photo", photo.file_id)
    assert allocs == [("INV-1", 80000)]
    assert events == [("payment_claimed", f"debtor:{ACME_CHAT}", ["INV-1"])]
    ((kind, payload, text, status),) = alerts
    assert (kind, payload, status) == ("payment_claimed", {"decision": "payment", "id": pay.id}, "pending")
    assert "&lt;b&gt;WIRE-77&lt;/b&gt; &amp; co" in text and "ACME &lt;Corp&gt; &amp; Sons" in text  # mrkdwn-escaped
    assert session == ""  # the flow is over


async def test_balance_shows_the_claimed_item_and_the_sweep_pauses_it(rig: BotRig) -> None:
    from bot.services.balances import balance_document
    from bot.services.customers import resolve

    await linked(rig, ACME_CHAT, "ACME")
    await rig.click(ACME_CHAT, "I paid")
    await rig.click(ACME_CHAT, "All in USD ($1,200.50)")
    await rig.click(ACME_CHAT, "$1,200.50")
    await rig.click(ACME_CHAT, "Yesterday")
    await rig.send(ACME_CHAT, "TRF-1")
    await rig.click(ACME_CHAT, "Skip")
    await rig.click(ACME_CHAT, "✔ Confirm")
    (pay,) = claims(rig)
    assert pay.date.isoformat() == "2026-03-15" and pay.amount_cents == 120050
    with rig.app.engine.connect() as conn:
        doc = balance_document(conn, resolve(conn, "ACME"), rig.app.today())
    assert {i["doc_ref"]: i["status"] for i in doc["open_items"]} == {"INV-1": "claimed", "INV-2": "claimed"}


async def test_cancel_at_any_question_leaves_nothing(rig: BotRig) -> None:
    await linked(rig, ACME_CHAT, "ACME")
    await rig.click(ACME_CHAT, "I paid")
    await rig.click(ACME_CHAT, "All in USD ($1,200.50)")
    await rig.send(ACME_CHAT, "100")
    replies = await rig.send(ACME_CHAT, "/cancel")
    assert texts(replies) == "Cancelled. Nothing was recorded."
    await rig.click(ACME_CHAT, "I paid")
    question = rig.tg.last(ACME_CHAT)
    old_button = question.buttons[0][0]["callback_data"]
    replies = await rig.click(ACME_CHAT, "✖ Cancel")
    assert texts(replies) == "Cancelled. Nothing was recorded."
    assert rig.tg.sent(ACME_CHAT)[-2].buttons == []  # the answered question lost its buttons
    stale = await rig.click(ACME_CHAT, data=old_button, message=question, forge=True)  # replayed
    assert "no longer active" in texts(stale)
    assert claims(rig) == []
    with rig.app.engine.connect() as conn:
        assert conn.execute(select(Event.kind).where(Event.kind == "payment_claimed")).all() == []


@pytest.mark.parametrize(
    ("chat", "ref", "language", "typed", "cents", "refusal", "over", "tomorrow", "future"),
    [
        (BETA_CHAT, "BETA", "pt", "1.234,56", 123456, "Não consegui ler esse valor", "é mais do que os",
         "17/03/2026", "Essa data está no futuro"),
        (GAMA_CHAT, "GAMA", "es", "1.234,5", 123450, "No he podido leer ese importe", "es más que los",
         "17/03/2026", "Esa fecha es futura"),
        (ACME_CHAT, "ACME", "en", "1,034.56", 103456, "I could not read that amount", "is more than the",
         "2026-03-17", "That date is in the future"),
        (PARS_CHAT, "PARS", "fa", "۱۲۳٬۴۵۶", 12345600, "این مبلغ را نتوانستم بخوانم", "بیشتر از",
         "۱۴۰۴/۱۲/۲۶", "این تاریخ در آینده است"),
    ],
)
async def test_validation_in_each_language(  # noqa: PLR0913
    rig: BotRig, chat: int, ref: str, language: str, typed: str, cents: int, refusal: str, over: str,
    tomorrow: str, future: str,
) -> None:
    """Amounts the locale's way (refused with the locale's example), more than the open amount asked
    about, a date in the future refused: each in the debtor's language."""
    await linked(rig, chat, ref, language)
    await rig.click(chat, data="a:paid", message=rig.tg.last(chat))
    q = rig.tg.last(chat)
    await rig.click(chat, q.button_texts[0][0] if len(q.button_texts) == 2 else q.button_texts[-2][0])  # all
    assert refusal in texts(await rig.send(chat, "12abc"))
    assert over in texts(await rig.send(chat, "99.999.999,99" if language in ("pt", "es") else "99,999,999.99"))
    no = rig.tg.last(chat).buttons[0][1]["callback_data"]  # [Yes] [No]: no, change it
    await rig.click(chat, data=no, message=rig.tg.last(chat))
    await rig.send(chat, typed)
    assert _session(rig, chat)[0]["amount"] == cents
    refused = await rig.send(chat, tomorrow)  # tomorrow in the debtor's zone, in the locale's short form
    assert future in texts(refused)
    assert "date" not in _session(rig, chat)[0]


def _session(rig: BotRig, chat: int) -> list[dict]:
    with rig.app.engine.connect() as conn:
        return [conn.execute(select(ChatSession.data).where(ChatSession.chat_id == chat)).scalar_one()]


async def test_a_payment_date_in_the_future_is_refused_and_dates_read_the_locales_way(rig: BotRig) -> None:
    await linked(rig, BETA_CHAT, "BETA", "pt")
    await rig.click(BETA_CHAT, data="a:paid", message=rig.tg.last(BETA_CHAT))
    await rig.click(BETA_CHAT, "Todas em BRL (R$ 6.234,56)")
    await rig.send(BETA_CHAT, "100,00")
    # the clock is 2026-03-16 13:00 UTC: 10:00 in São Paulo, so the 17th is tomorrow there
    future = await rig.send(BETA_CHAT, "17/03/2026")
    assert "Essa data está no futuro" in texts(future)
    assert "Quando você pagou?" in texts(future)  # asked again, in the same message
    nonsense = await rig.send(BETA_CHAT, "31/02/2026")
    assert "Essa data não existe" in texts(nonsense)
    await rig.send(BETA_CHAT, "15/03/2026")
    assert _session(rig, BETA_CHAT)[0]["date"] == "2026-03-15"


async def test_more_than_the_open_amount_is_asked_about(rig: BotRig) -> None:
    await linked(rig, ACME_CHAT, "ACME")
    await rig.click(ACME_CHAT, "I paid")
    await rig.click(ACME_CHAT, "INV-2 · $300.50 · due Mar 12, 2026")
    await rig.click(ACME_CHAT, "Continue with 1 selected ▶")
    replies = await rig.send(ACME_CHAT, "500")
    assert "$500.00 is more than the $300.50 open on those invoices. Is that right?" in texts(replies)
    replies = await rig.click(ACME_CHAT, "No")
    assert "How much did you pay" in texts(replies)
    await rig.send(ACME_CHAT, "500")
    replies = await rig.click(ACME_CHAT, "Yes")
    assert "When did you pay?" in texts(replies)
    assert _session(rig, ACME_CHAT)[0]["amount"] == 50000
