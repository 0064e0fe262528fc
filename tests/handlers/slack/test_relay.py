"""The relay both ways: the debtor's "talk to a person" into the case thread; `>>` replies to the debtor's Telegram.

Other thread replies are internal notes (`note_added`), never sent to the debtor.
"""

from __future__ import annotations

from tests.fakes import FakeSlack
from tests.handlers.slack.harness import ACME_CHAT, CHANNEL, CREDIT, REP, STRANGER, SlackRig, roots, visible_text
from tests.handlers.telegram.harness import BotRig


async def open_thread(rig: SlackRig) -> str:
    """ACME's case thread, opened by a staff alert (the debtor writing to a person, through Telegram)."""
    bot = BotRig(rig.app, rig.tg)
    await bot.start()
    try:
        token = bot.link(ACME_CHAT, "ACME", name="Ana", language="en")
        await bot.send(ACME_CHAT, f"/start {token}")
        await bot.send(ACME_CHAT, "/person")
        await bot.send(ACME_CHAT, "<!channel> please call me & see <http://evil.example|this>")
        await bot.click(ACME_CHAT, "✔ Done")
    finally:
        await bot.stop()
    [message] = await rig.post_alerts()
    return message.thread_ts


async def test_the_debtors_words_come_back_into_the_thread_escaped(rig: SlackRig, slack: FakeSlack) -> None:
    root = await open_thread(rig)
    [case] = roots(slack)
    assert case.ts == root and "ACME &lt;Corp&gt; &amp; Sons" in case.text
    [message] = slack.posts(CHANNEL, thread_ts=root)
    shown = visible_text(message)
    assert "&lt;!channel&gt; please call me &amp; see &lt;http://evil.example|this&gt;" in shown
    assert "<!channel>" not in shown and "<http" not in shown


async def test_a_double_chevron_reply_reaches_the_debtor_in_telegram(rig: SlackRig, slack: FakeSlack) -> None:
    root = await open_thread(rig)
    before = len(rig.tg.sent(ACME_CHAT))
    # Slack sends what people type escaped: ">> Hi <b>Ana</b> & co" arrives as below
    typed = "&gt;&gt; Hi &lt;b&gt;Ana&lt;/b&gt; &amp; co, see <https://pay.example|here>"
    assert await rig.reply(CREDIT, root, typed) == 200
    [relayed] = rig.tg.sent(ACME_CHAT)[before:]
    assert relayed.plain_text == "💬 Our team writes:\nHi <b>Ana</b> & co, see here (https://pay.example)"
    assert "&lt;b&gt;Ana&lt;/b&gt; &amp; co" in relayed.text  # escaped for Telegram HTML
    [out] = rig.outbound("relay")
    assert out.status == "sent" and out.chat_id == ACME_CHAT
    said = [e for e in rig.events_of("ACME", "message_out") if e.actor == "slack:U0CREDIT"]
    assert [e.text for e in said] == ["relayed to the debtor: Hi <b>Ana</b> & co, see here (https://pay.example)"]
    assert slack.ephemerals[-1]["text"] == "Sent to *ACME &lt;Corp&gt; &amp; Sons*'s Telegram chat."
    assert rig.events_of("ACME", "note_added") == []


async def test_other_replies_are_internal_notes(rig: SlackRig, slack: FakeSlack) -> None:
    root = await open_thread(rig)
    before = len(rig.tg.sent(ACME_CHAT))
    await rig.reply(REP, root, "check is in the mail &gt; 2 days ago")
    await rig.reply(REP, root, "<@U0BOT> what does ACME owe?")  # a question to the bot, not a note
    assert rig.tg.sent(ACME_CHAT)[before:] == []
    [note] = rig.events_of("ACME", "note_added")
    assert (note.actor, note.text) == ("slack:U0SALES01", "check is in the mail > 2 days ago")
    assert rig.outbound("relay") == []


async def test_only_staff_of_the_customer_may_relay(rig: SlackRig, slack: FakeSlack) -> None:
    root = await open_thread(rig)
    before = len(rig.tg.sent(ACME_CHAT))
    await rig.reply(STRANGER, root, "&gt;&gt; pay now or else")
    assert rig.tg.sent(ACME_CHAT)[before:] == [] and rig.outbound("relay") == []
    assert slack.ephemerals[-1]["user"] == STRANGER
    assert slack.ephemerals[-1]["text"].startswith("Only credit staff or the customer's sales rep")
    await rig.reply(REP, root, "&gt;&gt;   ")
    assert slack.ephemerals[-1]["text"] == "Write the message to the debtor after `>>`. Nothing was sent."
    await rig.reply(REP, root, "&gt;&gt; thanks, we got it")
    assert [m.plain_text for m in rig.tg.sent(ACME_CHAT)[before:]] == ["💬 Our team writes:\nthanks, we got it"]


async def test_a_retried_event_is_relayed_once(rig: SlackRig, slack: FakeSlack) -> None:
    root = await open_thread(rig)
    before = len(rig.tg.sent(ACME_CHAT))
    event = slack.message(CREDIT, CHANNEL, "&gt;&gt; once only", thread_ts=root)
    assert await rig.send(event) == 200
    assert await rig.send(event, retry_num=1) == 200
    assert await rig.send(event, retry_num=2) == 200
    await rig.settle()
    assert len(rig.tg.sent(ACME_CHAT)[before:]) == 1 and len(rig.outbound("relay")) == 1


async def test_no_linked_chat_nothing_is_sent_and_staff_are_told(rig: SlackRig, slack: FakeSlack) -> None:
    from bot.services.talk import talk_to_person

    beta = rig.customer("BETA")
    with rig.app.engine.begin() as conn:
        talk_to_person(conn, beta, chat_id=1, contact_id=0, message_key="k", text="hi", now=rig.app.now())
    [message] = await rig.post_alerts()
    await rig.reply(CREDIT, message.thread_ts, "&gt;&gt; hello")
    assert rig.outbound("relay") == []
    assert "has no linked Telegram chat" in slack.ephemerals[-1]["text"]
