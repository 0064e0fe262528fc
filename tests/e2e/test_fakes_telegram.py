"""The fake Bot API (tests/fakes) spoken to by the real python-telegram-bot over HTTP.

What is proved: PTB gets from the fake what it would get from api.telegram.org (its own
exception classes: BadRequest, Forbidden, RetryAfter, TimedOut, NetworkError,
InvalidToken), an Application polls and answers a callback, files go both ways, and the
fake records what the bot sent. Exact error texts are read from the fake's call record,
because PTB rewrites them (it drops "Bad Request: " and lower-cases the rest).
"""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, EndPointNotFound, Forbidden, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes
from telegram.request import HTTPXRequest

from tests.fakes import FakeTelegram

REPO = Path(__file__).resolve().parents[2]


def keyboard(*rows: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d) for t, d in row] for row in rows])


def bot_for(tg: FakeTelegram, token: str | None = None, read_timeout: float = 5.0) -> Bot:
    request = HTTPXRequest(read_timeout=read_timeout, connect_timeout=2.0)
    return Bot(token or tg.token, base_url=tg.api_url, base_file_url=tg.file_url, request=request)


def refusal(tg: FakeTelegram) -> str:
    """The exact description the fake answered last (PTB's exception text is rewritten)."""
    return tg.calls[-1].description or ""


async def test_a_reminder_with_buttons_is_recorded_as_sent(fake_telegram: FakeTelegram) -> None:
    ana = fake_telegram.add_user(1001, "Ana", language_code="pt")
    async with bot_for(fake_telegram) as bot:
        message = await bot.send_message(
            ana.id, "<b>INV-1</b> due 2026-03-04: R$ 1.234,56 &amp; more", parse_mode="HTML",
            reply_markup=keyboard([("I paid", "p:1"), ("Dispute", "d:1")], [("Statement", "s")]))
    assert message.text == "INV-1 due 2026-03-04: R$ 1.234,56 & more"
    assert message.entities[0].type == "bold" and message.entities[0].length == 5
    sent = fake_telegram.last(ana.id)
    assert sent.message_id == message.message_id
    assert sent.text.startswith("<b>INV-1</b>") and sent.parse_mode == "HTML"
    assert sent.button_texts == [["I paid", "Dispute"], ["Statement"]]
    assert sent.callback_data("Dispute") == "d:1"
    assert fake_telegram.transcript(ana.id) == [("bot", "INV-1 due 2026-03-04: R$ 1.234,56 & more")]


@pytest.mark.parametrize(
    ("kwargs", "description"),
    [
        ({"text": "<b>bold"}, "Bad Request: can't parse entities: Can't find end tag corresponding to start tag b"),
        ({"text": "<b><i>x</b></i>"},
         'Bad Request: can\'t parse entities: Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ({"text": "<p>para</p>"}, 'Bad Request: can\'t parse entities: Unsupported start tag "p" at byte offset 0'),
        ({"text": "José < 5"}, 'Bad Request: can\'t parse entities: Unsupported start tag "" at byte offset 6'),
        ({"text": "AT&T"}, 'Bad Request: can\'t parse entities: Unescaped "&" at byte offset 2: write &amp;'),
        ({"text": "x" * 4097}, "Bad Request: message is too long"),
        ({"text": "<b></b>  "}, "Bad Request: message text is empty"),
        ({"text": "ok", "markup": [[("x", "y" * 65)]]}, "Bad Request: BUTTON_DATA_INVALID"),
        ({"text": "ok", "markup": [[("x", "é" * 33)]]}, "Bad Request: BUTTON_DATA_INVALID"),
        ({"text": "ok", "markup": [[(str(i), str(i)) for i in range(8)]] * 13},
         "Bad Request: reply markup is too long"),
    ],
    ids=["unclosed", "misnested", "unsupported-tag", "bare-lt", "bare-amp", "too-long", "empty", "data-65-bytes",
         "data-66-utf8-bytes", "101-buttons"],
)
async def test_what_telegram_refuses_is_refused(fake_telegram: FakeTelegram, kwargs: dict, description: str) -> None:
    ana = fake_telegram.add_user(1001, "Ana")
    markup = keyboard(*kwargs["markup"]) if "markup" in kwargs else None
    async with bot_for(fake_telegram) as bot:
        with pytest.raises(BadRequest):
            await bot.send_message(ana.id, kwargs["text"], parse_mode="HTML", reply_markup=markup)
    assert refusal(fake_telegram) == description
    assert fake_telegram.sent() == []


async def test_limits_are_inclusive(fake_telegram: FakeTelegram) -> None:
    ana = fake_telegram.add_user(1001, "Ana")
    async with bot_for(fake_telegram) as bot:
        await bot.send_message(ana.id, "x" * 4096, reply_markup=keyboard([("x", "y" * 64)]))
        fake_telegram.advance(1)
        await bot.send_message(ana.id, "&lt;ok&gt; é", parse_mode="HTML",
                               reply_markup=keyboard(*[[(str(i), str(i)) for i in range(8)]] * 12, [("a", "b")] * 4))
    assert len(fake_telegram.sent(ana.id)) == 2


async def test_chat_not_found_and_the_three_forbidden_forms(fake_telegram: FakeTelegram) -> None:
    blocked = fake_telegram.add_user(1, "B")
    gone = fake_telegram.add_user(2, "G")
    never = fake_telegram.add_user(3, "N", started=False)
    fake_telegram.user_blocks_bot(blocked.id)
    fake_telegram.user_deactivated(gone.id)
    async with bot_for(fake_telegram) as bot:
        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.send_message(999, "hi")
        fake_telegram.add_user(4, "Named", username="named_user")
        with pytest.raises(BadRequest, match="Chat not found"):  # bots cannot write to a user's @username
            await bot.send_message("@named_user", "hi")
        for user, text in [(blocked, "Forbidden: bot was blocked by the user"),
                           (gone, "Forbidden: user is deactivated"),
                           (never, "Forbidden: bot can't initiate conversation with a user")]:
            with pytest.raises(Forbidden):
                await bot.send_message(user.id, "hi")
            assert refusal(fake_telegram) == text
        fake_telegram.user_sends(never.id, "/start")  # once the user writes, the bot may answer
        await bot.send_message(never.id, "welcome")


async def test_wrong_token_and_unknown_method(fake_telegram: FakeTelegram) -> None:
    with pytest.raises(InvalidToken):
        async with bot_for(fake_telegram, token="123456789:AAwrong"):
            pass
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{fake_telegram.api_url}123456789:AAwrong/getMe") as resp:
            assert (resp.status, await resp.json()) == (401, {"ok": False, "error_code": 401,
                                                              "description": "Unauthorized"})
        async with http.post(f"{fake_telegram.api_url}{fake_telegram.token}/sendMesage", json={}) as resp:
            assert (resp.status, await resp.json()) == (404, {"ok": False, "error_code": 404,
                                                              "description": "Not Found"})
        async with http.get(f"{fake_telegram.base_url}/no/such/path") as resp:
            assert (resp.status, (await resp.json())["description"]) == (404, "Not Found")
    async with bot_for(fake_telegram) as bot:
        with pytest.raises(EndPointNotFound):
            await bot.do_api_request("sendMesage", api_kwargs={"chat_id": 1})
        with pytest.raises(BadRequest):
            await bot.do_api_request("answerChatJoinRequestQuery",
                                     api_kwargs={"chat_join_request_query_id": "q", "result": "x"})
        assert "not implemented by the fake" in refusal(fake_telegram)


async def test_arguments_are_checked_against_the_spec(fake_telegram: FakeTelegram) -> None:
    fake_telegram.add_user(1001, "Ana")
    url = f"{fake_telegram.api_url}{fake_telegram.token}"
    async with aiohttp.ClientSession() as http:
        for body, description in [
            ({"chat_id": 1001}, "Bad Request: message text is empty"),
            ({"text": "hi"}, "Bad Request: chat_id is empty"),
            ({"chat_id": 1001, "text": "hi", "disable_notification": "maybe"},
             'Bad Request: field "disable_notification" must be of type Boolean'),
            ({"chat_id": 1001, "text": "hi", "reply_markup": "{not json"},
             "Bad Request: can't parse reply keyboard markup JSON object"),
            ({"chat_id": 1001, "text": "hi",
              "reply_markup": {"inline_keyboard": [[{"text": 5, "callback_data": "x"}]]}},
             "Bad Request: can't parse reply keyboard markup: "
             'field "reply_markup.inline_keyboard[0][0].text" must be of type String'),
        ]:
            async with http.post(f"{url}/sendMessage", json=body) as resp:
                assert resp.status == 400
                assert await resp.json() == {"ok": False, "error_code": 400, "description": description}
        async with http.post(f"{url}/getUpdates", data={"limit": "ten"}) as resp:
            assert (await resp.json())["description"] == 'Bad Request: field "limit" must be of type Integer'


async def test_rate_limits_per_chat_and_per_token(fake_telegram: FakeTelegram) -> None:
    users = [fake_telegram.add_user(100 + i, f"U{i}") for i in range(31)]
    async with bot_for(fake_telegram) as bot:
        await bot.send_message(users[0].id, "one")
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(users[0].id, "two")
        assert str(caught.value) == "Flood control exceeded. Retry in 1 seconds"  # PTB read retry_after
        assert refusal(fake_telegram) == "Too Many Requests: retry after 1"
        for user in users[1:30]:
            await bot.send_message(user.id, "hi")  # 30 chats in the same second: allowed
        with pytest.raises(RetryAfter):
            await bot.send_message(users[30].id, "the 31st this second")
        fake_telegram.advance(1.0)
        await bot.send_message(users[30].id, "next second")
    stats = fake_telegram.stats()
    assert (stats["messages"], stats["rate_limited"], stats["answered_429"]) == (31, 2, 2)


async def test_edits_count_against_the_rate_only_when_asked() -> None:
    async with FakeTelegram(count_edits=True) as tg:
        ana = tg.add_user(1001, "Ana")
        async with bot_for(tg) as bot:
            sent = await bot.send_message(ana.id, "v1")
            with pytest.raises(RetryAfter):
                await bot.edit_message_text("v2", ana.id, sent.message_id)
    assert tg.stats()["rate_limited"] == 1


async def test_sustained_rate_is_measured(fake_telegram: FakeTelegram) -> None:
    ana = fake_telegram.add_user(1001, "Ana")
    async with bot_for(fake_telegram) as bot:
        for i in range(5):
            await bot.send_message(ana.id, f"m{i}")
            fake_telegram.advance(0.5)  # sooner than the per-chat rate allows: refused
            with pytest.raises(RetryAfter):
                await bot.send_message(ana.id, "too soon")
            # One message every 10 s of the fake's clock: the real time the calls take (more on a
            # loaded machine) stays well inside the tolerance.
            fake_telegram.advance(9.5)
    stats = fake_telegram.stats()
    assert stats["messages"] == 5 and stats["rate_limited"] == 5
    assert stats["rate"] == pytest.approx(0.1, rel=0.05)


async def test_scripted_faults_reach_ptb_as_the_real_ones_would(fake_telegram: FakeTelegram) -> None:
    ana = fake_telegram.add_user(1001, "Ana")
    ben = fake_telegram.add_user(1002, "Ben")
    async with bot_for(fake_telegram, read_timeout=0.5) as bot:
        fake_telegram.fail_next(500)
        with pytest.raises(NetworkError, match="Internal Server Error"):
            await bot.send_message(ana.id, "a")
        fake_telegram.fail_next(502)
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await bot.send_message(ana.id, "b")
        fake_telegram.drop_next(method="sendMessage")
        with pytest.raises(NetworkError) as dropped:
            await bot.send_message(ana.id, "c")
        assert not isinstance(dropped.value, TimedOut)
        fake_telegram.rate_limit_next(retry_after=7, chat_id=ben.id)
        await bot.send_message(ana.id, "d: the 429 is for Ben only")
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(ben.id, "e")
        assert str(caught.value) == "Flood control exceeded. Retry in 7 seconds"
        fake_telegram.forbid_next("deactivated", chat_id=ben.id)
        with pytest.raises(Forbidden, match="Forbidden: user is deactivated"):
            await bot.send_message(ben.id, "f")
        assert [m.plain_text for m in fake_telegram.sent()] == ["d: the 429 is for Ben only"]
        fake_telegram.advance(1)
        fake_telegram.hang_next(seconds=5, method="sendMessage")
        started = time.monotonic()
        with pytest.raises(TimedOut):
            await bot.send_message(ana.id, "g: delivered, but the answer never came")
        assert time.monotonic() - started < 3
    assert fake_telegram.last(ana.id).plain_text == "g: delivered, but the answer never came"
    assert [kind for kind, _, _ in fake_telegram.faults.used] == ["status", "status", "drop", "retry_after",
                                                                 "forbidden", "hang"]


async def test_an_application_polls_and_answers_a_callback(fake_telegram: FakeTelegram) -> None:
    ana = fake_telegram.add_user(1001, "Ana", language_code="es")

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        lang = update.effective_user.language_code
        await update.message.reply_html(f"Hola ({lang}), token {context.args}",
                                        reply_markup=keyboard([("Pagué", "paid")]))

    async def clicked(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.callback_query.answer("ok")
        await update.callback_query.edit_message_text(f"Elegiste {update.callback_query.data}")

    app = Application.builder().token(fake_telegram.token).base_url(fake_telegram.api_url) \
        .base_file_url(fake_telegram.file_url).build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(clicked))
    await app.initialize()
    await app.start()
    await app.updater.start_polling(timeout=1, allowed_updates=["message", "callback_query"])
    try:
        fake_telegram.user_sends(ana.id, "/start abc123")
        reply = await fake_telegram.until(lambda: fake_telegram.sent(ana.id) and fake_telegram.last(ana.id))
        assert reply.plain_text == "Hola (es), token ['abc123']"
        query = fake_telegram.user_clicks(ana.id, reply.message_id, button="Pagué")
        await fake_telegram.until(lambda: fake_telegram.last(ana.id).edits, what="the edit")
        assert fake_telegram.callback_answers[query] == {"text": "ok"}
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
    assert fake_telegram.transcript(ana.id) == [("user", "/start abc123"), ("bot", "Elegiste paid")]
    assert fake_telegram.last(ana.id).buttons == []  # an edit without reply_markup drops the keyboard


async def test_a_callback_query_is_answered_once_and_goes_stale(fake_telegram: FakeTelegram) -> None:
    ana = fake_telegram.add_user(1001, "Ana")
    async with bot_for(fake_telegram) as bot:
        sent = await bot.send_message(ana.id, "pick", reply_markup=keyboard([("A", "a")]))
        first = fake_telegram.user_clicks(ana.id, sent.message_id, "a")
        await bot.answer_callback_query(first)
        with pytest.raises(BadRequest, match="Query is too old"):
            await bot.answer_callback_query(first)
        late = fake_telegram.user_clicks(ana.id, sent.message_id, "a")
        fake_telegram.advance(16)
        with pytest.raises(BadRequest):
            await bot.answer_callback_query(late)
        assert refusal(fake_telegram) == ("Bad Request: query is too old and response timeout expired "
                                          "or query ID is invalid")
        with pytest.raises(AssertionError):
            fake_telegram.user_clicks(ana.id, sent.message_id, "not-on-the-message")
        fake_telegram.user_clicks(ana.id, sent.message_id, "forged", forge=True)


async def test_edits_follow_telegram(fake_telegram: FakeTelegram) -> None:
    ana = fake_telegram.add_user(1001, "Ana")
    async with bot_for(fake_telegram) as bot:
        sent = await bot.send_message(ana.id, "v1", reply_markup=keyboard([("A", "a")]))
        with pytest.raises(BadRequest, match="Message is not modified"):
            await bot.edit_message_reply_markup(ana.id, sent.message_id, reply_markup=keyboard([("A", "a")]))
        await bot.edit_message_text("v2", ana.id, sent.message_id, reply_markup=keyboard([("B", "b")]))
        with pytest.raises(BadRequest, match="Message to edit not found"):
            await bot.edit_message_text("v3", ana.id, 999)
        user_message = fake_telegram.user_sends(ana.id, "mine")
        with pytest.raises(BadRequest, match="Message can't be edited"):
            await bot.edit_message_text("v3", ana.id, user_message)
    edited = fake_telegram.last(ana.id)
    assert (edited.plain_text, edited.button_texts, [e["text"] for e in edited.edits]) == ("v2", [["B"]], ["v1"])


async def test_files_both_ways(fake_telegram: FakeTelegram) -> None:
    ana = fake_telegram.add_user(1001, "Ana")
    receipt = b"%PDF-1.4 a receipt"
    fake_telegram.user_sends_document(ana.id, receipt, "recibo.pdf", caption="pago")
    fake_telegram.user_sends_photo(ana.id, b"\xff\xd8\xff\xe0" + b"j" * 400)
    async with bot_for(fake_telegram) as bot:
        updates = await bot.get_updates(timeout=1)
        document = updates[0].message.document
        assert (document.file_name, updates[0].message.caption) == ("recibo.pdf", "pago")
        assert bytes(await (await bot.get_file(document.file_id)).download_as_bytearray()) == receipt
        photo = updates[1].message.photo[-1]
        assert len(await (await bot.get_file(photo.file_id)).download_as_bytearray()) == 404
        with pytest.raises(BadRequest, match="Invalid file_id"):
            await bot.get_file("nope")
        await bot.send_document(ana.id, io.BytesIO(b"ref,amount\nINV-1,10.00\n"), filename="statement.csv",
                                caption="<i>Statement</i>", parse_mode="HTML")
        assert fake_telegram.last(ana.id).file.data == b"ref,amount\nINV-1,10.00\n"
        assert fake_telegram.last(ana.id).plain_text == "Statement"
        fake_telegram.advance(1)
        with pytest.raises(BadRequest):
            await bot.send_photo(ana.id, io.BytesIO(b"not an image"))
        assert refusal(fake_telegram) == "Bad Request: IMAGE_PROCESS_FAILED"
        fake_telegram.advance(1)
        await bot.send_photo(ana.id, photo.file_id)  # a file_id Telegram already has is sent again as is
        assert fake_telegram.last(ana.id).file.data == b"\xff\xd8\xff\xe0" + b"j" * 400


async def test_commands_per_language(fake_telegram: FakeTelegram) -> None:
    async with bot_for(fake_telegram) as bot:
        await bot.set_my_commands([("start", "Start"), ("language", "Language")])
        await bot.set_my_commands([("start", "Começar")], language_code="pt")
        assert [c.description for c in await bot.get_my_commands(language_code="pt")] == ["Começar"]
        assert [c.command for c in await bot.get_my_commands()] == ["start", "language"]
        with pytest.raises(BadRequest):
            await bot.set_my_commands([("Start-Now", "bad name")])
        assert refusal(fake_telegram) == "Bad Request: BOT_COMMAND_INVALID"
        await bot.delete_my_commands(language_code="pt")
        assert await bot.get_my_commands(language_code="pt") == ()
        fake_telegram.add_user(1001, "Ana")
        await bot.send_chat_action(1001, "typing")
        with pytest.raises(BadRequest, match="Wrong parameter action"):
            await bot.send_chat_action(1001, "dancing")
    assert fake_telegram.chat_actions == [(1001, "typing")]


async def test_two_pollers_conflict_and_webhook_delivery(fake_telegram: FakeTelegram) -> None:
    ana = fake_telegram.add_user(1001, "Ana")
    received: list[tuple[dict, str | None]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append((await request.json(), request.headers.get("X-Telegram-Bot-Api-Secret-Token")))
        return web.Response()

    app = web.Application()
    app.router.add_post("/tg", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with bot_for(fake_telegram) as bot, bot_for(fake_telegram) as other:
            first = asyncio.create_task(bot.get_updates(timeout=3))
            await asyncio.sleep(0.2)
            second = asyncio.create_task(other.get_updates(timeout=1))
            with pytest.raises(Exception, match="Conflict|terminated by other getUpdates"):
                await first
            assert await second == ()
            await bot.set_webhook(f"http://127.0.0.1:{port}/tg", secret_token="s3cret")
            with pytest.raises(Exception, match="webhook is active"):
                await bot.get_updates()
            fake_telegram.user_sends(ana.id, "hello")
            await fake_telegram.until(lambda: received)
            assert received[0][0]["message"]["text"] == "hello" and received[0][1] == "s3cret"
            assert (await bot.get_webhook_info()).pending_update_count == 0
            with pytest.raises(BadRequest):
                await bot.set_webhook("http://example.com/tg")
            await bot.delete_webhook()
            fake_telegram.user_sends(ana.id, "polled again")
            assert [u.message.text for u in await bot.get_updates(timeout=1)] == ["polled again"]
    finally:
        await runner.cleanup()


def test_thread_mode_serves_a_synchronous_test(fake_telegram_thread: FakeTelegram) -> None:
    tg = fake_telegram_thread
    ana = tg.add_user(1001, "Ana")
    polled: list = []

    async def poll() -> None:
        async with bot_for(tg) as bot:
            polled.extend(await bot.get_updates(timeout=10))

    worker = threading.Thread(target=lambda: asyncio.run(poll()))
    started = time.monotonic()
    worker.start()
    time.sleep(0.3)
    tg.user_sends(ana.id, "from the test thread")  # wakes the long poll on the server's loop
    worker.join(10)
    assert [u.message.text for u in polled] == ["from the test thread"]
    assert time.monotonic() - started < 5
    body = json.dumps({"chat_id": ana.id, "text": "sent by another process"}).encode()
    request = urllib.request.Request(f"{tg.api_url}{tg.token}/sendMessage", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as resp:
        assert json.load(resp)["result"]["text"] == "sent by another process"
    assert tg.wait_for(lambda: tg.sent(ana.id)) and tg.last(ana.id).plain_text == "sent by another process"


def test_python_m_entry_point_serves_and_is_driven_over_http() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "tests.fakes.telegram_api", "--port", "0"], cwd=REPO,
                            stdout=subprocess.PIPE, text=True)
    try:
        api_url = proc.stdout.readline().strip().split("=", 1)[1]  # type: ignore[union-attr]
        base = api_url.removesuffix("/bot")
        token = "123456789:AAfake-token_for_tests"

        def post(path: str, payload: dict) -> dict:
            headers = {"Content-Type": "application/json"}
            req = urllib.request.Request(base + path, json.dumps(payload).encode(), headers)
            with urllib.request.urlopen(req, timeout=5) as resp:
                return json.load(resp)

        post("/_fake/add_user", {"user_id": 7, "first_name": "Ana"})
        post("/_fake/user_sends", {"chat_id": 7, "text": "hi"})
        assert post(f"/bot{token}/getUpdates", {})["result"][0]["message"]["text"] == "hi"
        post(f"/bot{token}/sendMessage", {"chat_id": 7, "text": "hello"})
        assert post("/_fake/transcript", {"chat_id": 7})["result"] == [["user", "hi"], ["bot", "hello"]]
    finally:
        proc.terminate()
        proc.wait(10)


def test_the_fakes_import_nothing_from_collectbot() -> None:
    import ast

    for module in (REPO / "tests" / "fakes").glob("*.py"):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        assert not [n for n in names if n.split(".")[0] in ("bot", "storage", "messages")], module.name
