"""Dispute, payment plan, promise, statement and talk to a person: each flow end to end, and cancel."""

from __future__ import annotations

import csv
import io
from datetime import date

from sqlalchemy import select

from bot.services.balances import balance_document
from bot.services.customers import resolve
from storage.tables import (
    Conversation,
    Dispute,
    DisputeItem,
    Event,
    PaymentPlan,
    PlanInstallment,
    Promise,
    StaffAlert,
)
from tests.handlers.telegram.harness import ACME_CHAT, BETA_CHAT, GAMA_CHAT, PARS_CHAT, BotRig, texts


async def linked(rig: BotRig, chat: int, ref: str, language: str = "en") -> None:
    await rig.send(chat, f"/start {rig.link(chat, ref, language=language)}")


def rows(rig: BotRig, stmt) -> list:  # noqa: ANN001
    with rig.app.engine.connect() as conn:
        return conn.execute(stmt).all()


def statuses(rig: BotRig, ref: str) -> dict[str, str]:
    with rig.app.engine.connect() as conn:
        doc = balance_document(conn, resolve(conn, ref), rig.app.today())
    return {i["doc_ref"]: i["status"] for i in doc["open_items"]}


# -- dispute ----------------------------------------------------------------------------------


async def test_a_dispute_in_spanish_pauses_the_invoice_and_alerts_staff(rig: BotRig) -> None:
    await linked(rig, GAMA_CHAT, "GAMA", "es")
    replies = await rig.click(GAMA_CHAT, "Reclamar")
    assert "¿Qué factura desea reclamar?" in texts(replies)
    replies = await rig.click(GAMA_CHAT, "ES-1 · 2.500,00 € · vence 9 feb 2026")
    assert "¿Cuál es el problema con ES-1?" in texts(replies)
    assert replies[-1].button_texts[:4] == [["No recibido", "Dañado o defectuoso"],
                                            ["Precio o cantidad erróneos", "Ya pagado"],
                                            ["Mercancía devuelta", "El saldo no coincide"], ["Otro"]]
    await rig.click(GAMA_CHAT, "Dañado o defectuoso")
    replies = await rig.send(GAMA_CHAT, "Llegaron 3 cajas <rotas> & mojadas")
    assert "Detalles: Llegaron 3 cajas <rotas> & mojadas" in texts(replies)
    assert rows(rig, select(Dispute.id)) == []
    replies = await rig.click(GAMA_CHAT, "✔ Confirmar")
    assert "Su reclamación de ES-1 ha quedado registrada (número 1)" in texts(replies)
    ((status, reason, text, opened_by),) = rows(rig, select(Dispute.status, Dispute.reason, Dispute.text,
                                                            Dispute.opened_by))
    assert (status, reason, text, opened_by) == ("open", "damaged", "Llegaron 3 cajas <rotas> & mojadas",
                                                 f"debtor:{GAMA_CHAT}")
    assert rows(rig, select(DisputeItem.disputed_cents)) == [(250000,)]
    assert statuses(rig, "GAMA") == {"ES-1": "disputed"}
    ((payload, alert),) = rows(rig, select(StaffAlert.payload, StaffAlert.text)
                               .where(StaffAlert.kind == "dispute_opened"))
    assert payload == {"decision": "dispute", "id": 1} and "&lt;rotas&gt; &amp; mojadas" in alert
    # a disputed invoice is not offered again
    replies = await rig.click(GAMA_CHAT, data="a:dispute", message=rig.tg.sent(GAMA_CHAT)[0])
    assert "No tiene facturas abiertas que reclamar" in texts(replies)


async def test_dispute_cancel_writes_nothing(rig: BotRig) -> None:
    await linked(rig, ACME_CHAT, "ACME")
    await rig.click(ACME_CHAT, "Dispute")
    await rig.click(ACME_CHAT, "INV-2 · $300.50 · due Mar 12, 2026")
    await rig.click(ACME_CHAT, "Already paid")
    replies = await rig.send(ACME_CHAT, "/cancel")
    assert texts(replies) == "Cancelled. Nothing was recorded."
    assert rows(rig, select(Dispute.id)) == []
    assert statuses(rig, "ACME") == {"INV-1": "open", "INV-2": "open"}


# -- payment plan -----------------------------------------------------------------------------


async def test_a_monthly_plan_in_portuguese_shows_a_cent_exact_schedule_before_it_is_proposed(rig: BotRig) -> None:
    await linked(rig, BETA_CHAT, "BETA", "pt")
    await rig.click(BETA_CHAT, "Parcelamento")
    await rig.click(BETA_CHAT, "Todas em BRL (R$ 6.234,56)")
    replies = await rig.click(BETA_CHAT, "7x")
    shown = texts(replies)
    lines = [line for line in shown.splitlines() if line[:2] in {f"{n}." for n in range(1, 8)}]
    assert len(lines) == 7
    amounts = [int("".join(ch for ch in line.rsplit("R$", 1)[1] if ch.isdigit())) for line in lines]
    assert sum(amounts) == 623456 and amounts[:6] == [89065] * 6 and amounts[6] == 89066
    assert "1. 16 de abr. de 2026" in shown  # as if approved today, in Portuguese
    assert rows(rig, select(PaymentPlan.id)) == []
    replies = await rig.click(BETA_CHAT, "✔ Propor este parcelamento")
    assert "A sua proposta de parcelamento (número 1" in texts(replies)
    ((status, total, count, by),) = rows(rig, select(PaymentPlan.status, PaymentPlan.total_cents,
                                                     PaymentPlan.installment_count, PaymentPlan.proposed_by))
    assert (status, total, count, by) == ("proposed", 623456, 7, f"debtor:{BETA_CHAT}")
    assert rows(rig, select(PlanInstallment.id)) == []  # monthly: scheduled when credit staff approve
    ((payload,),) = rows(rig, select(StaffAlert.payload).where(StaffAlert.kind == "plan_proposed"))
    assert payload == {"decision": "plan", "id": 1}


async def test_a_plan_on_the_debtors_own_dates_in_persian(rig: BotRig) -> None:
    await linked(rig, PARS_CHAT, "PARS", "fa")
    await rig.click(PARS_CHAT, "طرح اقساط")
    await rig.click(PARS_CHAT, rig.tg.last(PARS_CHAT).button_texts[0][0])  # the one invoice
    await rig.click(PARS_CHAT, "📅 تاریخ‌های دلخواه من")
    refused = await rig.send(PARS_CHAT, "۱۴۰۵/۰۲/۱۰")  # one date is not a plan
    assert "لطفاً ۲ تا ۱۲ تاریخ بدهید" in texts(refused)  # Persian digits in fa
    replies = await rig.send(PARS_CHAT, "۱۴۰۵/۰۲/۱۰\n۱۴۰۵/۰۳/۱۰، 2026-07-01")
    assert "این پیشنهاد برای واحد اعتبارات ما فرستاده شود؟" in texts(replies)
    await rig.click(PARS_CHAT, "✔ پیشنهاد این طرح")
    inst = rows(rig, select(PlanInstallment.due_date, PlanInstallment.amount_cents).order_by(PlanInstallment.seq))
    assert [d for d, _ in inst] == [date(2026, 4, 30), date(2026, 5, 31), date(2026, 7, 1)]
    assert sum(c for _, c in inst) == 900000000 and [c for _, c in inst] == [300000000] * 3


# -- promise ----------------------------------------------------------------------------------


async def test_a_promise_for_one_invoice_pauses_it_until_the_date(rig: BotRig) -> None:
    await linked(rig, ACME_CHAT, "ACME")
    await rig.click(ACME_CHAT, "Promise a date")
    q = rig.tg.last(ACME_CHAT)
    assert "All in USD ($1,200.50)" in [b for row in q.button_texts for b in row]
    await rig.click(ACME_CHAT, "INV-1 · $900.00 · due Feb 4, 2026")
    await rig.send(ACME_CHAT, "900")
    too_far = await rig.send(ACME_CHAT, "2026-12-31")
    assert "more than 90 days away" in texts(too_far)
    past = await rig.send(ACME_CHAT, "2026-03-01")
    assert "That date has passed" in texts(past)
    replies = await rig.click(ACME_CHAT, "In 14 days")
    assert "you will pay $900.00 for INV-1 by Mar 30, 2026" in texts(replies)
    await rig.click(ACME_CHAT, "✔ Confirm")
    ((promised, cents, doc, by),) = rows(rig, select(Promise.promised_date, Promise.amount_cents,
                                                     Promise.document_id, Promise.made_by))
    assert (promised, cents, by) == (date(2026, 3, 30), 90000, f"debtor:{ACME_CHAT}") and doc is not None
    assert statuses(rig, "ACME") == {"INV-1": "promised", "INV-2": "open"}


async def test_a_promise_for_the_whole_account(rig: BotRig) -> None:
    await linked(rig, ACME_CHAT, "ACME")
    await rig.click(ACME_CHAT, "Promise a date")
    await rig.click(ACME_CHAT, "All in USD ($1,200.50)")
    await rig.click(ACME_CHAT, "$1,200.50")
    await rig.send(ACME_CHAT, "2026-04-10")
    replies = await rig.click(ACME_CHAT, "✔ Confirm")
    assert "for your account by Apr 10, 2026" in texts(replies)
    assert rows(rig, select(Promise.document_id, Promise.amount_cents)) == [(None, 120050)]
    assert statuses(rig, "ACME") == {"INV-1": "promised", "INV-2": "promised"}


# -- statement --------------------------------------------------------------------------------


async def test_the_statement_traces_every_credit_and_payment_and_comes_with_a_csv(rig: BotRig) -> None:
    await linked(rig, ACME_CHAT, "ACME")
    replies = await rig.click(ACME_CHAT, "Statement")
    text, document = replies[0].plain_text, replies[-1]
    assert "INV-1 (invoice), issued Jan 5, 2026, due Feb 4, 2026" in text
    assert "− credit note CN-1 of Feb 20, 2026: $100.00" in text
    assert "− payment PAY-1 of Mar 1, 2026: $200.00" in text
    assert "Open: $900.00" in text and "Total open USD: $1,200.50" in text
    assert document.file is not None and document.file.file_name == "statement-2026-03-16.csv"
    table = list(csv.DictReader(io.StringIO(document.file.data.decode())))
    assert [(r["doc_ref"], r["applied_ref"], r["applied_amount"], r["open_amount"]) for r in table] == [
        ("INV-1", "", "", "900.00"), ("INV-1", "CN-1", "100.00", ""), ("INV-1", "PAY-1", "200.00", ""),
        ("INV-2", "", "", "300.50"),
    ]
    with rig.app.engine.connect() as conn:
        doc = balance_document(conn, resolve(conn, "ACME"), rig.app.today())
    assert doc["balances"][0]["total_open"] == "1200.50"  # the statement agrees with `balance`


# -- talk to a person -------------------------------------------------------------------------


async def test_talking_to_a_person_records_each_message_opens_a_conversation_and_alerts_staff(rig: BotRig) -> None:
    await linked(rig, ACME_CHAT, "ACME")
    replies = await rig.click(ACME_CHAT, "Talk to a person")
    assert "a person on our team will read it" in texts(replies)
    await rig.send(ACME_CHAT, "Can we talk about <INV-1>?")
    rig.tg.user_sends_photo(ACME_CHAT, caption="the delivery note")
    await rig.settle()
    replies = await rig.click(ACME_CHAT, "✔ Done")
    assert "A person on our team will answer you here" in texts(replies)
    events = rows(rig, select(Event.text).where(Event.kind == "message_in").order_by(Event.id))
    assert events[0] == ("Can we talk about <INV-1>?",) and events[1][0].endswith("the delivery note")
    ((opened, last, closed),) = rows(rig, select(Conversation.opened_at, Conversation.last_message_at,
                                                 Conversation.closed_at))
    assert closed is None and last >= opened
    alerts = rows(rig, select(StaffAlert.payload, StaffAlert.text).where(StaffAlert.kind == "message_in")
                  .order_by(StaffAlert.id))
    assert len(alerts) == 2
    assert alerts[0][0] == {"conversation": 1, "chat_id": ACME_CHAT, "contact_id": alerts[0][0]["contact_id"]}
    assert "Can we talk about &lt;INV-1&gt;?" in alerts[0][1]
    # after Done, a message is not for staff: it is only in the timeline
    replies = await rig.send(ACME_CHAT, "thanks")
    assert "What would you like to do?" in texts(replies)
    assert len(rows(rig, select(StaffAlert.id).where(StaffAlert.kind == "message_in"))) == 2
    assert rows(rig, select(Event.text).where(Event.kind == "message_in").order_by(Event.id.desc()))[0] == ("thanks",)


async def test_every_open_invoice_is_offered_page_by_page_and_a_long_statement_is_split(
    rig: BotRig, tmp_path
) -> None:  # noqa: ANN001
    from bot.importer import import_file

    lines = ["doc_ref,customer_ref,type,issue_date,due_date,amount,currency,related_doc_ref"]
    lines += [f"LONG-REFERENCE-{n:03d},GAMA,invoice,2026-01-{1 + n % 28:02d},2026-02-{1 + n % 28:02d},"
              f"{100 + n}.00,EUR," for n in range(60)]
    path = tmp_path / "many.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    import_file(rig.app.engine, "documents", path, rig.app.import_context())
    await linked(rig, GAMA_CHAT, "GAMA", "es")
    await rig.click(GAMA_CHAT, "Ya pagué")
    first = rig.tg.last(GAMA_CHAT)
    assert "(página 1 de 8)" in first.plain_text
    offered = [b for row in first.button_texts for b in row if b.startswith(("ES-", "LONG-"))]
    assert len(offered) == 8
    await rig.click(GAMA_CHAT, "Siguientes ▶")
    second = rig.tg.last(GAMA_CHAT)  # the same message, now page 2
    assert second.message_id == first.message_id and "(página 2 de 8)" in second.plain_text
    seen = set(offered) | {b for row in second.button_texts for b in row if b.startswith(("ES-", "LONG-"))}
    assert len(seen) == 16
    await rig.send(GAMA_CHAT, "/cancel")
    replies = await rig.click(GAMA_CHAT, data="a:statement", message=rig.tg.sent(GAMA_CHAT)[0])
    assert len(replies) >= 3 and replies[-1].file is not None  # several messages, then the CSV
    assert all(len(m.plain_text) <= 4096 for m in replies[:-1])
    text = "\n".join(m.plain_text for m in replies[:-1])
    assert all(f"LONG-REFERENCE-{n:03d}" in text for n in range(60)) and "ES-1" in text


async def test_the_statement_in_the_middle_of_a_flow_leaves_the_debtor_where_they_were(rig: BotRig) -> None:
    await linked(rig, ACME_CHAT, "ACME")
    await rig.click(ACME_CHAT, "I paid")
    await rig.click(ACME_CHAT, "All in USD ($1,200.50)")
    await rig.send(ACME_CHAT, "/statement")
    replies = await rig.send(ACME_CHAT, "100")  # still the answer to "how much did you pay?"
    assert "When did you pay?" in texts(replies)


async def test_what_the_debtor_said_pauses_the_sweep(rig: BotRig) -> None:
    from bot.app import build_sweeper

    await linked(rig, GAMA_CHAT, "GAMA", "es")  # disputes its only invoice
    await rig.click(GAMA_CHAT, "Reclamar")
    await rig.click(GAMA_CHAT, "ES-1 · 2.500,00 € · vence 9 feb 2026")
    await rig.click(GAMA_CHAT, "No recibido")
    await rig.send(GAMA_CHAT, "/skip")
    await rig.click(GAMA_CHAT, "✔ Confirmar")
    await linked(rig, ACME_CHAT, "ACME")  # talks to a person
    await rig.click(ACME_CHAT, "Talk to a person")
    await rig.send(ACME_CHAT, "Please call me")
    await linked(rig, PARS_CHAT, "PARS", "fa")  # says nothing
    report = build_sweeper(rig.app).sweep(rig.app.now())
    assert sorted({m.customer_ref for m in report.messages}) == ["BETA", "PARS"]
