"""Debtor A never sees B, through the real Application on the fake Bot API (more in
tests/handlers/telegram/test_security.py and test_linking.py: forged buttons, used, expired and
guessed links, rate limits). Here: A's link taken by another chat, HTML in every name echoed back."""

from __future__ import annotations

from sqlalchemy import select

from storage.tables import Contact
from tests.handlers.telegram.harness import ACME_CHAT, STRANGER, BotRig, texts


async def test_a_link_used_by_one_chat_tells_another_chat_nothing(rig: BotRig) -> None:
    token = rig.link(ACME_CHAT, "ACME", name="<b>Ana</b> & co", contact="<i>Ana</i> <script>")
    linked = await rig.send(ACME_CHAT, f"/start {token}")
    assert "ACME <Corp> & Sons" in texts(linked)  # the customer's name, as written, escaped on the wire
    assert "<Corp>" not in linked[0].text and "&lt;Corp&gt; &amp; Sons" in linked[0].text
    assert "<script>" not in linked[0].text and "<i>" not in linked[0].text
    rig.tg.add_user(STRANGER, "<a href='http://evil'>Eve</a>", language_code="en")
    stolen = await rig.send(STRANGER, f"/start {token}")
    menu = await rig.send(STRANGER, "/statement")
    seen = texts(stolen + menu) + str([m.buttons for m in stolen + menu])
    for secret in ("ACME", "INV-", "1,200", "Ana"):
        assert secret not in seen, secret
    with rig.app.engine.connect() as conn:
        assert conn.execute(select(Contact.telegram_chat_id)).scalars().all() == [ACME_CHAT]
