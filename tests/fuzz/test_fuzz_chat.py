"""Random chat input in every flow state, through the real PTB Application polling the fake Bot API.

Each example is a short script a debtor could produce: taps on the bot's real buttons (which
walk the flows into every state), forged button data (with the flow's real nonce too), text
(answers that fit, answers that don't, HTML, junk), commands with random arguments, photos
and documents, in four languages and from a chat nobody linked. After every step:
- the bot said something (a message or an edit) and never its "something went wrong" line:
  no update ended in the error handler, no staff alert of a failed update;
- every message was valid Telegram HTML (the fake refuses anything else);
and after each script, `/cancel` leaves no flow and writes nothing, and every record the
flows wrote is whole (a claim with its invoices and event, a dispute with its invoices, ...).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from messages.chat import say
from storage.tables import (
    Allocation,
    ChatSession,
    Dispute,
    DisputeItem,
    Event,
    Payment,
    PaymentPlan,
    PlanInstallment,
    PlanItem,
    Promise,
    StaffAlert,
)
from tests.fakes.telegram_api import FakeTelegram
from tests.fuzz.ledger_state import differences, snapshot
from tests.fuzz.profile import fuzz
from tests.handlers.telegram.harness import (
    ACME_CHAT,
    BETA_CHAT,
    GAMA_CHAT,
    PARS_CHAT,
    STRANGER,
    BotRig,
    link_token,
    running_rig,
)

CHATS = {ACME_CHAT: ("ACME", "en"), BETA_CHAT: ("BETA", "pt"), GAMA_CHAT: ("GAMA", "es"), PARS_CHAT: ("PARS", "fa")}
SORRY = {say("common.sorry", locale) for locale in ("en", "pt", "fa", "es")}
# What identifies each customer in a message: its documents' refs and its name.
OWN = {"ACME": ("INV-1", "INV-2", "CN-1", "ACME"), "BETA": ("BR-1", "BR-2", "Beta"), "GAMA": ("ES-1", "Gama"),
       "PARS": ("FA-1", "پارس")}

ANSWERS = st.sampled_from([
    "100", "1.234,56", "1,200.50", "0", "-5", "99999999999999", "۱۲۳٫۵", "2026-03-10", "10/03/2026", "۱۴۰۴/۱۲/۱۵",
    "2099-01-01", "yesterday", "skip", "pular", "INV-1", "BR-1", "FA-1", "inv-2", "REF-123", "yes", "no", "1", "2",
    "<b>bold</b> & <i>", "<a href='x'>", "&amp;", "{{ 7*7 }}", "' OR 1=1 --", "=HYPERLINK(\"http://x\")", "\u202e",
    "x" * 300, "x" * 5000, "nul\x00inside", "\x00",
])
TEXTS = st.one_of(ANSWERS, st.text(max_size=40).map(lambda t: t if t.strip() and t[0] != "/" else f"x{t}"))
COMMANDS = st.sampled_from(["start", "menu", "help", "cancel", "skip", "paid", "dispute", "plan", "promise",
                            "statement", "person", "language", "unknown", "START"])
ACTIONS = st.sampled_from(["statement", "paid", "dispute", "plan", "promise", "person"])
FORGED = st.one_of(
    st.text(min_size=1, max_size=20),
    st.sampled_from(["a:", "a:paid", "a:nope", "f:", "f::x", "l:", "l:xx", "l:en", "l:fa", "x", ":", "f:a:b:c"]),
)
STEPS = st.one_of(
    st.tuples(st.just("tap"), st.integers(0, 20)),  # a real button of the bot's last message with buttons
    st.tuples(st.just("tap"), st.integers(0, 20)),
    st.tuples(st.just("menu"), ACTIONS),  # a reminder / menu button
    st.tuples(st.just("text"), TEXTS),
    st.tuples(st.just("text"), TEXTS),
    st.tuples(st.just("command"), st.tuples(COMMANDS, st.one_of(st.just(""), st.text(max_size=12)))),
    st.tuples(st.just("forge"), FORGED),
    st.tuples(st.just("code"), st.one_of(st.sampled_from(["x", "skip", "whole", "today", "yday", "yes", "no",
                                                          "i0", "i99", "i-1", "p1", "p-5", "done", "m", "o"]),
                                         st.text(max_size=10))),  # the live flow's nonce, any code
    st.tuples(st.just("photo"), st.one_of(st.none(), st.text(max_size=20))),
    st.tuples(st.just("document"), st.just("")),
    # a new link opened from a Telegram client in any language (the tag is the client's to send)
    st.tuples(st.just("relink"), st.one_of(st.sampled_from(["en", "pt-br", "es-419", "fa", "pt-BR-u-nu-arab-x-long",
                                                            "de", "", "ZZ", "fa-IR@calendar=persian"]),
                                         st.text(max_size=24))),
)


class QuickRig(BotRig):
    """BotRig that looks more often whether the bot is done (the fuzz takes hundreds of steps)."""

    async def settle(self, timeout: float = 10.0) -> None:
        assert self.application is not None
        loop = asyncio.get_running_loop()
        deadline, calm = loop.time() + timeout, 0
        while calm < 4:
            busy = (bool(self.tg.updates) or not self.application.update_queue.empty()
                    or self.application.update_processor.current_concurrent_updates > 0)
            calm = 0 if busy else calm + 1
            if loop.time() > deadline:
                raise AssertionError("the bot did not finish handling the updates")
            await asyncio.sleep(0.004)


@pytest.fixture
async def rig(database_url: str, tmp_path: Path) -> AsyncIterator[BotRig]:
    async with FakeTelegram(chat_burst=1000, global_rate=10_000) as tg:
        async with running_rig(database_url, tmp_path, tg, QuickRig) as the_rig:
            for chat, (ref, language) in CHATS.items():
                await the_rig.send(chat, f"/start {the_rig.link(chat, ref, language=language)}")
            the_rig.tg.add_user(STRANGER, "Eve", language_code="es")
            yield the_rig


def _last_with_buttons(rig: BotRig, chat: int):  # noqa: ANN202
    for message in reversed(rig.tg.sent(chat)):
        if message.buttons and not message.deleted:
            return message
    return None


def _visible(rig: BotRig, chat: int) -> tuple[int, int]:
    sent = rig.tg.sent(chat)
    return len(sent), sum(len(m.edits) for m in sent)


async def act(rig: BotRig, chat: int, step: tuple) -> bool:
    """Do one step as the user; False when there was nothing to do (no button to tap yet)."""
    kind, arg = step
    tg = rig.tg
    if kind in ("tap", "menu", "forge", "code"):
        target = _last_with_buttons(rig, chat)
        if target is None:
            target = tg.sent(chat)[-1] if tg.sent(chat) else None
        if target is None:
            return False
        if kind == "tap":
            datas = [b["callback_data"] for row in target.buttons for b in row if "callback_data" in b]
            if not datas:
                return False
            tg.user_clicks(chat, target.message_id, datas[arg % len(datas)])
        elif kind == "menu":
            tg.user_clicks(chat, target.message_id, f"a:{arg}", forge=True)
        elif kind == "code":
            nonce = next((b["callback_data"].split(":")[1] for row in target.buttons for b in row
                          if b.get("callback_data", "").startswith("f:")), "zz")
            tg.user_clicks(chat, target.message_id, f"f:{nonce}:{arg}"[:64], forge=True)
        else:
            data = arg.encode()[:64].decode(errors="ignore") or "?"
            tg.user_clicks(chat, target.message_id, data, forge=True)
    elif kind == "text":
        tg.user_sends(chat, arg)
    elif kind == "command":
        name, rest = arg
        tg.user_sends(chat, f"/{name} {rest}".strip() if rest.strip() else f"/{name}")
    elif kind == "relink":
        if chat not in CHATS:
            return False
        tg.user_sends(chat, f"/start {link_token(rig.app, CHATS[chat][0])}", language_code=arg)
    elif kind == "photo":
        tg.user_sends_photo(chat, caption=arg)
    else:
        tg.user_sends_document(chat, b"%PDF-1.4 fake", "recibo <b>.pdf")
    await rig.settle()
    return True


# The answer a willing debtor gives: typed in the states that want text, else the button that goes on.
TYPED = {"reference": "REF-9 <&>", "dates": "2026-04-15\n2026-05-15", "talk": "hello <b>there</b>",
         "details": "the price is wrong & <late>", "amount": "10", "date": "2026-03-10"}
GOING_ON = [re.compile(p) for p in (r"go", r"a[A-Z]{3}", r"whole", r"today", r"y", r"skip", r"r\d", r"n\d+",
                                     r"d\d+", r"i\d+")]


def flow_state(rig: BotRig, chat: int) -> tuple[str | None, str | None]:
    with rig.app.engine.connect() as conn:
        row = conn.execute(select(ChatSession.flow, ChatSession.step).where(ChatSession.chat_id == chat)).first()
    return (row[0] or None, row[1] or None) if row else (None, None)


async def go_on(rig: BotRig, chat: int) -> bool:
    """One willing answer to the current question (False: no flow to answer)."""
    flow, step = flow_state(rig, chat)
    if not flow:
        return False
    target = _last_with_buttons(rig, chat)
    codes = {}
    if target is not None:
        for row in target.buttons:
            for b in row:
                parts = b.get("callback_data", "").split(":", 2)
                if len(parts) == 3 and parts[0] == "f":
                    codes.setdefault(parts[2], b["callback_data"])
    for pattern in GOING_ON:
        found = next((data for code, data in codes.items() if pattern.fullmatch(code)), None)
        if found is not None and step not in ("reference", "talk", "details"):
            rig.tg.user_clicks(chat, target.message_id, found)
            await rig.settle()
            return True
    rig.tg.user_sends(chat, TYPED.get(step or "", "10"))
    await rig.settle()
    return True


def assert_sees_only_its_own(rig: BotRig, chat: int) -> None:
    """No message to `chat` names another customer (or, unlinked, any customer), unless the user typed it."""
    typed = " ".join(text for who, text in rig.tg.transcript(chat) if who == "user").casefold()
    mine = CHATS.get(chat, ("", ""))[0]
    foreign = [w for ref, words in OWN.items() if ref != mine for w in words if w.casefold() not in typed]
    for message in rig.tg.sent(chat):
        shown = message.plain_text + " " + " ".join(b.get("text", "") for row in message.buttons for b in row)
        shown += " " + str(message.edits) + (message.file.data.decode(errors="replace") if message.file else "")
        assert not [w for w in foreign if w in shown], (chat, shown[:300])


def failures(rig: BotRig) -> int:
    with rig.app.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(StaffAlert).where(StaffAlert.kind == "bot_error")).scalar()


def assert_records_whole(rig: BotRig) -> None:
    """Every record a flow wrote carries all of itself: nothing half-written."""
    with rig.app.engine.connect() as conn:
        def ids(query) -> set:  # noqa: ANN001
            return set(conn.execute(query).scalars())

        claims = ids(select(Payment.id).where(Payment.source == "debtor"))
        assert claims <= ids(select(Allocation.payment_id)), "a claim without its invoices"
        assert len(claims) == conn.execute(select(func.count()).select_from(Event)
                                           .where(Event.kind == "payment_claimed")).scalar()
        assert ids(select(Dispute.id)) <= ids(select(DisputeItem.dispute_id)), "a dispute without its invoices"
        assert ids(select(PaymentPlan.id)) <= ids(select(PlanItem.plan_id)), "a plan without its invoices"
        for plan_id, count, total in conn.execute(
                select(PaymentPlan.id, PaymentPlan.installment_count, PaymentPlan.total_cents)):
            dues = conn.execute(select(PlanInstallment.amount_cents).where(PlanInstallment.plan_id == plan_id)).all()
            assert not dues or (len(dues) == count and sum(d[0] for d in dues) == total), "a plan's dates half-written"
        assert len(ids(select(Promise.id))) == conn.execute(select(func.count()).select_from(Event)
                                                            .where(Event.kind == "promise_made")).scalar()


@settings(fuzz(0.5))
@given(chat=st.sampled_from([*CHATS, STRANGER]), flow=ACTIONS, willing=st.integers(0, 5),
       script=st.lists(STEPS, min_size=1, max_size=4))
async def test_random_chat_input_in_every_flow_state(rig: BotRig, chat: int, flow: str, willing: int,
                                                     script: list[tuple], caplog: pytest.LogCaptureFixture) -> None:
    """A flow started from the menu and answered willingly `willing` times (so every state is reached),
    then the random script."""
    caplog.set_level(logging.ERROR, logger="collectbot")
    await act(rig, chat, ("menu", flow))
    for _ in range(willing):
        if not await go_on(rig, chat):
            break
    assert not SORRY & {m.plain_text for m in rig.tg.sent(chat)}
    where = flow_state(rig, chat)
    event(f"random input in {where[0]}:{where[1]}" if where[0] else "random input in no flow")
    for step in script:
        before = _visible(rig, chat)
        if not await act(rig, chat, step):
            continue  # nothing to tap yet
        assert _visible(rig, chat) != before, f"no answer to {step}"
        said = [m.plain_text for m in rig.tg.sent(chat)[before[0]:]]
        assert not SORRY & set(said), (step, said)
        assert failures(rig) == 0, [r.getMessage() for r in caplog.records]
    # /cancel ends any flow and writes nothing
    state = snapshot(rig.app.engine)
    await act(rig, chat, ("command", ("cancel", "")))
    changed = differences(state, snapshot(rig.app.engine))
    assert set(changed) <= {"chat_session"}, changed
    with rig.app.engine.connect() as conn:
        flow = conn.execute(select(ChatSession.flow).where(ChatSession.chat_id == chat)).scalar()
    assert not flow
    assert_records_whole(rig)
    assert_sees_only_its_own(rig, chat)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.records


async def test_a_link_opened_in_a_long_language_tag_links_the_chat(rig: BotRig) -> None:
    """Found by the fuzz: a tag longer than the contact's locale column ("pt-BR-u-nu-arab-x-long") failed the
    link on PostgreSQL (value too long) and the debtor got the error line; the chat now links, in pt."""
    tag = "pt-BR-u-nu-arab-x-long"
    rig.tg.add_user(STRANGER, "Bia", language_code=tag)
    replies = await rig.send(STRANGER, f"/start {link_token(rig.app, 'BETA')}")
    assert "Este chat agora está vinculado a Beta Ltda" in replies[0].plain_text
    assert failures(rig) == 0
    menu = await rig.send(STRANGER, "/paid")
    assert "Quais faturas você pagou?" in menu[0].plain_text


async def test_text_holding_a_nul_character_is_taken_without_it(rig: BotRig) -> None:
    """Found by probing PostgreSQL: a NUL in a message (outside a flow, to a person, as a link token) could
    not be stored and the debtor got the error line; NUL is dropped as the update is read."""
    rig.tg.user_sends(ACME_CHAT, "hello\x00there")
    await rig.settle()
    assert "What would you like to do?" in rig.said(ACME_CHAT)
    await act(rig, ACME_CHAT, ("menu", "person"))
    await act(rig, ACME_CHAT, ("text", "talk\x00to me"))
    await act(rig, ACME_CHAT, ("text", "\x00"))
    await act(rig, ACME_CHAT, ("command", ("start", "x\x00y")))
    assert failures(rig) == 0, [m.plain_text for m in rig.tg.sent(ACME_CHAT)]
    assert not SORRY & {m.plain_text for m in rig.tg.sent(ACME_CHAT)}
    with rig.app.engine.connect() as conn:
        said = conn.execute(select(Event.text).where(Event.kind == "message_in")).scalars().all()
    assert "hellothere" in said and "talkto me" in said
