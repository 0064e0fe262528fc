"""What one chat can reach: its own customer only, whatever it sends or forges."""

from __future__ import annotations

from sqlalchemy import select

from storage.tables import ChatSession, Dispute, Event, Payment
from tests.handlers.telegram.harness import ACME_CHAT, BETA_CHAT, BotRig, texts


async def linked(rig: BotRig, chat: int, ref: str, language: str = "en") -> None:
    await rig.send(chat, f"/start {rig.link(chat, ref, language=language)}")


async def test_chat_a_never_sees_or_touches_customer_b(rig: BotRig) -> None:
    await linked(rig, ACME_CHAT, "ACME")
    await linked(rig, BETA_CHAT, "BETA", "pt")
    everything = []
    for action in ("statement", "paid", "dispute", "plan", "promise"):
        everything += await rig.click(ACME_CHAT, data=f"a:{action}", message=rig.tg.sent(ACME_CHAT)[0])
        await rig.send(ACME_CHAT, "/cancel")
    everything += await rig.send(ACME_CHAT, "BR-1")  # typing B's invoice ref outside a flow
    await rig.click(ACME_CHAT, data="a:dispute", message=rig.tg.sent(ACME_CHAT)[0])
    typed = await rig.send(ACME_CHAT, "BR-1")  # ... and as an answer
    assert "I could not find that among your open invoices" in texts(typed)
    seen = texts(everything) + texts(typed) + "".join(str(b) for m in everything for b in m.buttons)
    for secret in ("BR-1", "BR-2", "Beta", "5.000,00", "R$"):
        assert secret not in seen.replace("BR-1?", ""), secret
    assert all(m.chat_id == ACME_CHAT for m in everything)


async def test_a_flow_button_forged_or_from_another_chat_touches_nothing_and_tells_nothing(rig: BotRig) -> None:
    await linked(rig, ACME_CHAT, "ACME")
    await linked(rig, BETA_CHAT, "BETA", "pt")
    await rig.click(BETA_CHAT, "Contestar")
    beta_question = rig.tg.last(BETA_CHAT)
    beta_choice = beta_question.buttons[0][0]["callback_data"]  # B's invoice, in B's flow
    await rig.click(ACME_CHAT, "Dispute")
    acme_question = rig.tg.last(ACME_CHAT)
    with rig.app.engine.connect() as conn:
        before = conn.execute(select(ChatSession.step, ChatSession.data).where(ChatSession.chat_id == ACME_CHAT)).one()
    forged = []
    for data in (beta_choice, "f:xxxxxxxx:i0", "f::i0", "a:delete_everything", "l:xx", "zz" * 32, "f:" + "A" * 60):
        forged += await rig.click(ACME_CHAT, data=data, message=acme_question, forge=True)
    assert {m.plain_text for m in forged} <= {"That button is no longer active. Use /menu to start again.",
                                             "Please choose with the buttons, or type the invoice number.\n\n"
                                             + acme_question.plain_text}
    assert all("BR-" not in m.text for m in forged)
    with rig.app.engine.connect() as conn:
        after = conn.execute(select(ChatSession.step, ChatSession.data).where(ChatSession.chat_id == ACME_CHAT)).one()
        assert conn.execute(select(Dispute.id)).all() == []
    assert after == before  # A's flow is where it was
    replies = await rig.click(BETA_CHAT, data=beta_choice, message=beta_question)  # B's own button still works
    assert "Qual é o problema com BR-1?" in texts(replies)


async def test_a_confirm_replayed_after_the_record_was_written_records_nothing_more(rig: BotRig) -> None:
    await linked(rig, ACME_CHAT, "ACME")
    await rig.click(ACME_CHAT, "I paid")
    await rig.click(ACME_CHAT, "All in USD ($1,200.50)")
    await rig.click(ACME_CHAT, "$1,200.50")
    await rig.click(ACME_CHAT, "Today")
    await rig.send(ACME_CHAT, "REF")
    await rig.send(ACME_CHAT, "skip")
    summary = rig.tg.last(ACME_CHAT)
    confirm = summary.callback_data("✔ Confirm")
    await rig.click(ACME_CHAT, "✔ Confirm")
    replay = await rig.click(ACME_CHAT, data=confirm, message=summary, forge=True)
    assert "no longer active" in texts(replay)
    with rig.app.engine.connect() as conn:
        assert len(conn.execute(select(Payment.id).where(Payment.source == "debtor")).all()) == 1


async def test_an_update_delivered_twice_is_handled_once(rig: BotRig) -> None:
    """Telegram redelivers updates a crashed process fetched but never confirmed."""
    await linked(rig, ACME_CHAT, "ACME")
    await rig.click(ACME_CHAT, "Talk to a person")
    rig.tg.user_sends(ACME_CHAT, "first message")
    update = dict(rig.tg.updates[-1])
    await rig.settle()
    await rig.stop()  # the process dies before getUpdates confirmed the update ...
    with rig.tg.lock:
        rig.tg.updates.append(update)  # ... so Telegram hands it to the next process again
    await rig.start()
    await rig.settle()
    assert rig.tg.updates == []  # fetched and confirmed by the new Application
    with rig.app.engine.connect() as conn:
        texts_in = conn.execute(select(Event.text).where(Event.kind == "message_in")).scalars().all()
    assert texts_in == ["first message"]


async def test_user_html_is_escaped_everywhere_it_is_echoed(rig: BotRig) -> None:
    await linked(rig, ACME_CHAT, "ACME", "en")
    await rig.click(ACME_CHAT, "Dispute")
    await rig.click(ACME_CHAT, "INV-1 · $900.00 · due Feb 4, 2026")
    await rig.click(ACME_CHAT, "Other")
    replies = await rig.send(ACME_CHAT, '<a href="http://evil">click</a> <b>unclosed & <i>')
    assert 'Details: <a href="http://evil">click</a> <b>unclosed & <i>' in texts(replies)  # shown as typed
    raw = replies[0].text
    assert "&lt;a href=" in raw and "<a " not in raw and "<i>" not in raw and "&amp;" in raw
