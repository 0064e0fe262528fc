"""/start <token>: linking a chat, and what a chat that is not linked may learn (nothing)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from storage.tables import Contact, Event
from tests.handlers.telegram.harness import ACME_CHAT, BETA_CHAT, STRANGER, BotRig, texts


async def test_a_link_makes_the_chat_a_verified_contact_of_its_customer(rig: BotRig) -> None:
    token = rig.link(ACME_CHAT, "ACME", contact="Accounts payable")
    replies = await rig.send(ACME_CHAT, f"/start {token}")
    assert "ACME <Corp> & Sons" in texts(replies)  # user text escaped in HTML, read back as written
    assert "&lt;Corp&gt;" in replies[-1].text
    assert replies[-1].button_texts == [["I paid", "Dispute"], ["Payment plan", "Promise a date"],
                                        ["Statement", "Talk to a person"]]
    with rig.app.engine.connect() as conn:
        contact = conn.execute(select(Contact.__table__).where(Contact.telegram_chat_id == ACME_CHAT)).one()
        kinds = conn.execute(select(Event.kind, Event.actor)).all()
    assert contact.verified and contact.reachable and contact.name == "Accounts payable"
    assert ("chat_linked", f"debtor:{ACME_CHAT}") in kinds



STRANGER_TEXT = "This assistant works with a personal link"


async def test_used_expired_unknown_and_no_token_all_get_the_strangers_answer(rig: BotRig) -> None:
    token = rig.link(ACME_CHAT, "ACME")
    await rig.send(ACME_CHAT, f"/start {token}")
    old = rig.link(BETA_CHAT, "BETA", language="pt")
    rig.app.clock.set(rig.app.now() + timedelta(days=7, seconds=1))  # links last 7 days
    answers = {
        "reused": await rig.send(BETA_CHAT, f"/start {token}"),
        "expired": await rig.send(BETA_CHAT, f"/start {old}"),
        "unknown": await rig.send(BETA_CHAT, "/start AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        "malformed": await rig.send(BETA_CHAT, "/start <b>x</b>"),
        "no token": await rig.send(BETA_CHAT, "/start"),
        "text": await rig.send(BETA_CHAT, "what do I owe?"),
        "command": await rig.send(BETA_CHAT, "/statement"),
    }
    said = {k: [m.plain_text for m in v] for k, v in answers.items()}
    assert all(len(v) == 1 for v in said.values()), said
    assert len({v[0] for v in said.values()}) == 1, said  # the same answer for all of them
    assert "Este assistente funciona com um link pessoal" in said["reused"][0]  # the chat's Telegram language
    assert "ACME" not in said["reused"][0] and "Beta" not in said["expired"][0]
    with rig.app.engine.connect() as conn:
        linked = conn.execute(select(Contact.telegram_chat_id)).scalars().all()
    assert linked == [ACME_CHAT]  # BETA's chat linked nothing


async def test_a_forged_reminder_button_in_an_unlinked_chat_touches_nothing(rig: BotRig) -> None:
    rig.tg.add_user(STRANGER, "Mallory")
    await rig.send(STRANGER, "hello")
    replies = await rig.click(STRANGER, data="a:statement", message=rig.tg.last(STRANGER), forge=True)
    assert [m.plain_text for m in replies] == [rig.said(STRANGER)]
    assert STRANGER_TEXT in replies[0].plain_text
    assert rig.tg.callback_answers  # the button was answered at once all the same
    with rig.app.engine.connect() as conn:
        assert conn.execute(select(Event.kind).where(Event.kind != "import")).scalars().all() == []


async def test_guessing_is_limited_per_chat_and_says_so(rig: BotRig) -> None:
    rig.tg.add_user(STRANGER, "Mallory")
    for i in range(5):
        replies = await rig.send(STRANGER, f"/start guess{i:040d}")
        assert STRANGER_TEXT in replies[0].plain_text
    good = link_for_stranger = rig.link(STRANGER, "ACME")
    replies = await rig.send(STRANGER, f"/start {good}")
    assert "Too many links that did not work from this chat (5 in 60 minutes)" in replies[0].plain_text
    with rig.app.engine.connect() as conn:
        assert conn.execute(select(Contact.telegram_chat_id)).scalars().all() == []
    rig.app.clock.set(rig.app.now() + timedelta(hours=1))  # the window is over: the link still works
    replies = await rig.send(STRANGER, f"/start {link_for_stranger}")
    assert "This chat is now linked to" in replies[0].plain_text
    # another chat was never limited
    token = rig.link(ACME_CHAT, "ACME")
    assert "now linked" in (await rig.send(ACME_CHAT, f"/start {token}"))[0].plain_text


async def test_a_chat_linked_with_a_new_link_moves_and_a_customer_may_have_several_chats(rig: BotRig) -> None:
    await rig.send(ACME_CHAT, f"/start {rig.link(ACME_CHAT, 'ACME')}")
    await rig.send(BETA_CHAT, f"/start {rig.link(BETA_CHAT, 'ACME')}")  # a second contact of ACME
    await rig.send(ACME_CHAT, f"/start {rig.link(ACME_CHAT, 'BETA')}")  # the first one now speaks for BETA
    with rig.app.engine.connect() as conn:
        rows = conn.execute(
            select(Contact.telegram_chat_id, Contact.customer_id).where(Contact.telegram_chat_id.is_not(None))
            .order_by(Contact.id)
        ).all()
    assert [chat for chat, _ in rows] == [BETA_CHAT, ACME_CHAT]
    assert rows[0][1] != rows[1][1]
    statement = await rig.send(ACME_CHAT, "/statement")
    assert "BR-1" in texts(statement) and "INV-1" not in texts(statement)


async def test_a_chat_that_had_blocked_the_bot_and_writes_again_is_reachable_again(rig: BotRig) -> None:
    from sqlalchemy import update

    await rig.send(ACME_CHAT, f"/start {rig.link(ACME_CHAT, 'ACME')}")
    with rig.app.engine.begin() as conn:
        conn.execute(update(Contact).where(Contact.telegram_chat_id == ACME_CHAT).values(reachable=False))
    await rig.send(ACME_CHAT, "/menu")
    with rig.app.engine.connect() as conn:
        assert conn.execute(select(Contact.reachable).where(Contact.telegram_chat_id == ACME_CHAT)).scalar_one()


async def test_a_linked_debtor_opening_their_used_link_again_keeps_their_chat(rig: BotRig) -> None:
    token = rig.link(ACME_CHAT, "ACME")
    await rig.send(ACME_CHAT, f"/start {token}")
    replies = await rig.send(ACME_CHAT, f"/start {token}")
    assert "this chat is already linked to ACME <Corp> & Sons" in texts(replies)
    assert replies[-1].button_texts[0] == ["I paid", "Dispute"]
