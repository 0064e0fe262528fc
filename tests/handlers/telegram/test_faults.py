"""Replies when the Bot API misbehaves: 5xx retried, a timeout never resent, a 403 marks the chat unreachable."""

from __future__ import annotations

from sqlalchemy import select

from storage.tables import ChatSession, Contact
from tests.handlers.telegram.harness import ACME_CHAT, BotRig, texts


async def linked(rig: BotRig) -> None:
    await rig.send(ACME_CHAT, f"/start {rig.link(ACME_CHAT, 'ACME')}")


async def test_a_5xx_or_a_dropped_connection_is_retried_and_the_reply_arrives_once(rig: BotRig) -> None:
    await linked(rig)
    rig.tg.fail_next(502, method="sendMessage", chat_id=ACME_CHAT)
    rig.tg.drop_next(method="sendMessage", chat_id=ACME_CHAT)
    replies = await rig.send(ACME_CHAT, "/statement")
    assert [m.plain_text.splitlines()[0] for m in replies if m.text] == ["Statement of account as of Mar 16, 2026"]
    assert len(rig.tg.faults.used) == 2


async def test_a_timeout_is_not_resent_and_the_next_message_gets_the_question_again(rig: BotRig) -> None:
    await linked(rig)
    await rig.click(ACME_CHAT, "I paid")
    await rig.click(ACME_CHAT, "All in USD ($1,200.50)")
    rig.tg.hang_next(3.0, method="sendMessage", chat_id=ACME_CHAT)  # delivered, the answer comes too late
    replies = await rig.send(ACME_CHAT, "100")
    assert [m.plain_text for m in replies].count("When did you pay? Write the date (like 2026-03-31) or tap a "
                                                 "button.") == 1  # once: not resent, no "sorry" either
    with rig.app.engine.connect() as conn:
        assert conn.execute(select(ChatSession.step).where(ChatSession.chat_id == ACME_CHAT)).scalar_one() == "date"
    replies = await rig.send(ACME_CHAT, "when?")
    assert "I could not read that date" in texts(replies) and "When did you pay?" in texts(replies)


async def test_a_403_on_a_reply_marks_the_chat_unreachable(rig: BotRig) -> None:
    await linked(rig)
    rig.tg.forbid_next("blocked", method="sendMessage", chat_id=ACME_CHAT)
    await rig.send(ACME_CHAT, "/menu")
    with rig.app.engine.connect() as conn:
        assert conn.execute(select(Contact.reachable).where(Contact.telegram_chat_id == ACME_CHAT)).scalar_one() \
            is False
