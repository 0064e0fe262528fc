"""Escaping (issue 13 §10): every user value in every field of every Slack message stays text.

A customer named `<!channel> <http://x|click> & co`, with a debtor who writes the same, and a
dispute text with it: the thread root, the alerts, the decided message and the private lines
carry `&lt;!channel&gt;`, never a live `<!channel>` or link.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import update

from bot.handlers.slack.text import escape, to_plain
from bot.services import disputes
from bot.services.talk import talk_to_person
from storage.tables import Customer
from tests.fakes import FakeSlack
from tests.handlers.slack.harness import CHANNEL, CREDIT, SlackRig, visible_text

EVIL = "<!channel> <http://x|click> & co"
SAFE = "&lt;!channel&gt; &lt;http://x|click&gt; &amp; co"


def live_markup(text: str) -> bool:
    """Whether `text` holds Slack markup a person did not write: a broadcast, a link, a mention."""
    return any(s in text for s in ("<!channel", "<!here", "<!everyone", "<http"))


async def test_nothing_a_user_wrote_becomes_markup(rig: SlackRig, slack: FakeSlack, tmp_path: Path) -> None:
    with rig.app.engine.begin() as conn:
        conn.execute(update(Customer.__table__).where(Customer.__table__.c.ref == "ACME").values(name=EVIL))
    customer = rig.customer("ACME")
    with rig.app.engine.begin() as conn:
        talk_to_person(conn, customer, chat_id=1, contact_id=0, message_key="k", text=EVIL, now=rig.app.now())
        disputes.open_debtor_dispute(conn, customer, "INV-1", reason="other", text=EVIL, actor="debtor:1",
                                     now=rig.app.now())
    talk, dispute = await rig.post_alerts()
    await rig.click(CREDIT, dispute, "Not valid")
    await rig.reply(CREDIT, talk.thread_ts, "&gt;&gt; hello")  # no linked chat: a private line naming them
    messages = slack.posts(CHANNEL)
    assert len(messages) == 3  # the root and two alerts
    for message in messages:
        shown = visible_text(message)
        assert SAFE in shown, shown
        assert not live_markup(shown), shown
        for edit in message.edits:
            assert not live_markup(str(edit))
    assert "*Dispute not valid* by <@U0CREDIT>" in visible_text(dispute)
    assert slack.ephemerals and all(not live_markup(e["text"]) for e in slack.ephemerals)
    assert SAFE in slack.ephemerals[-1]["text"]


def test_the_one_escape_and_its_inverse() -> None:
    assert escape(EVIL) == SAFE
    assert to_plain(SAFE) == EVIL  # what Slack sends for what a person typed
    assert to_plain("<@U0SALES01> see <https://pay.example|here> &amp; <#C0CASES|collections>") == \
        "@U0SALES01 see here (https://pay.example) & #collections"


async def test_a_ref_in_a_decided_message_stays_text(rig: SlackRig, slack: FakeSlack) -> None:
    from storage.outbox import add_alert
    from storage.tables import Document

    with rig.app.engine.begin() as conn:
        conn.execute(update(Document.__table__).where(Document.__table__.c.ref == "INV-1").values(ref="INV<!here>&1"))
        conn.execute(update(Customer.__table__).where(Customer.__table__.c.ref == "ACME").values(segment="strategic"))
    with rig.app.engine.begin() as conn:
        add_alert(conn, key="approval:1:formal_notice", customer_id=rig.customer_id("ACME"), kind="approval_needed",
                  text="needs sales", at=rig.app.now(), doc_refs=["INV<!here>&1"])
    [alert] = await rig.post_alerts()
    await rig.click("U0SALES01", alert, "Agree")
    shown = visible_text(alert)
    assert "formal_notice agreed for INV&lt;!here&gt;&amp;1" in shown and not live_markup(shown)
    await rig.send(slack.block_action("U0SALES01", alert, "cb:step_agree", value=alert.edits[0]["blocks"][-1][
        "elements"][0]["value"], forge=True))
    await rig.settle()
    assert "INV&lt;!here&gt;&amp;1" in slack.responses[-1]["text"] and not live_markup(slack.responses[-1]["text"])
