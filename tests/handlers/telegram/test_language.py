"""Languages: from Telegram or the customer, `/language` to change, the command menu in each."""

from __future__ import annotations

from sqlalchemy import select

from storage.tables import Contact
from tests.handlers.telegram.harness import ACME_CHAT, GAMA_CHAT, BotRig, texts


async def test_the_command_menu_is_registered_for_the_default_and_each_language(rig: BotRig) -> None:
    menus = {language: [c["description"] for c in commands] for (_scope, language), commands in rig.tg.commands.items()}
    assert set(menus) == {None, "en", "es", "pt", "fa"} or set(menus) == {"", "en", "es", "pt", "fa"}
    names = {tuple(c["command"] for c in commands) for commands in rig.tg.commands.values()}
    assert names == {("menu", "statement", "paid", "dispute", "plan", "promise", "person", "language", "cancel")}
    assert menus["es"][2] == "Avisar de un pago realizado" and menus["fa"][1] == "صورت‌حساب شما"
    assert menus["en"] == menus[None if None in menus else ""]


async def test_telegram_language_first_then_the_customers_and_language_changes_it(rig: BotRig) -> None:
    # a Spanish customer's contact whose Telegram speaks German: collectbot has no German, so Spanish
    await rig.send(GAMA_CHAT, f"/start {rig.link(GAMA_CHAT, 'GAMA', language='de')}")
    assert "Este chat ya está vinculado" in rig.said(GAMA_CHAT)
    # an English customer's contact whose Telegram speaks Portuguese: Portuguese
    await rig.send(ACME_CHAT, f"/start {rig.link(ACME_CHAT, 'ACME', language='pt-br')}")
    assert "Este chat agora está vinculado" in rig.said(ACME_CHAT)
    replies = await rig.send(ACME_CHAT, "/language")
    assert replies[-1].button_texts == [["English"], ["Español"], ["Português"], ["فارسی"]]
    replies = await rig.click(ACME_CHAT, "فارسی")
    assert "از این پس به فارسی برایتان می‌نویسم" in texts(replies)
    assert replies[-1].button_texts[0] == ["پرداخت کردم", "اعتراض"]
    with rig.app.engine.connect() as conn:
        assert conn.execute(select(Contact.locale).where(Contact.telegram_chat_id == ACME_CHAT)).scalar_one() == "fa"
    replies = await rig.click(ACME_CHAT, "صورت‌حساب")
    assert "صورت‌حساب" in texts(replies) and "\u200eINV-1\u200e" in replies[0].text  # refs held left to right
