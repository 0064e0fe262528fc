"""The one delivery path with the real python-telegram-bot against the fake Bot API (tests/fakes).

DESIGN "Reliability and security": the sweep records, then sends without holding the database;
429 waits retry_after and sends again; 403 in its three forms marks the contact unreachable and
tries the next linked chat, none left is `no_channel` and the sales rep is asked to phone; a 5xx
before the request left is retried with backoff and otherwise stays pending for the next sweep;
a timeout after the request left is `unknown`, never resent, and told to staff once, naming its
invoices; a send whose sender was killed mid-flight is `unknown`; two sweeps at once send each
(document, step) once. Staff alerts are posted after commit, retried when the post failed, never twice.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select, update
from telegram.ext import ExtBot
from telegram.request import HTTPXRequest

from bot.app import build_sweeper
from bot.handlers.telegram.delivery import TelegramDebtorChannel
from bot.scheduler.channels import ConsoleAlertChannel, NotPosted, PostReceipt, StaffPost
from bot.scheduler.claims import process_token
from bot.scheduler.delivery import AlertPoster, recover_dead_claims
from bot.scheduler.ratelimit import SharedBudget, TelegramRateLimiter
from bot.scheduler.sweep import Sweeper, SweepReport
from bot.services.keyboards import reminder_keyboard
from storage.outbox import add_alert
from storage.tables import Contact, Customer, OutboundMessage, ReminderSend, StaffAlert
from tests.conftest import COLLECTBOT, cli_env
from tests.fakes.telegram_api import FakeTelegram
from tests.scheduler.test_sweep import DUE, World, at_local, cust, doc, load, off

EN_BUTTONS = [["I paid", "Dispute"], ["Payment plan", "Promise a date"], ["Statement", "Talk to a person"]]


def tg_bot(tg: FakeTelegram, engine: Engine, read_timeout: float = 5.0) -> ExtBot:
    """The real ExtBot on the fake, with the shared rate budget (as bot.handlers.telegram.botapi builds it)."""
    return ExtBot(
        tg.token,
        base_url=tg.api_url,
        base_file_url=tg.file_url,
        request=HTTPXRequest(connection_pool_size=8, read_timeout=read_timeout),
        rate_limiter=TelegramRateLimiter(SharedBudget(engine), tg.token),
    )


@dataclass
class Rig:
    world: World
    tg: FakeTelegram
    sweeper: Sweeper

    @property
    def engine(self) -> Engine:
        return self.world.engine

    @property
    def posted(self) -> list[StaffPost]:
        return self.sweeper.staff.posted  # type: ignore[attr-defined]

    async def sweep(self, now: datetime) -> SweepReport:
        return await self.sweeper.run(now)

    def link(self, customer: str, chat_id: int, locale: str | None = None) -> None:
        with self.engine.begin() as conn:
            cid = conn.execute(select(Customer.id).where(Customer.ref == customer)).scalar_one()
            conn.execute(insert(Contact).values(
                customer_id=cid, name="AP", telegram_chat_id=chat_id, locale=locale, verified=True, reachable=True,
                linked_at=datetime(2026, 2, 1, tzinfo=UTC)))

    def rows(self) -> list[tuple[str, str]]:
        t = ReminderSend.__table__
        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(select(t.c.step, t.c.status).where(t.c.status != "skipped")
                                                   .order_by(t.c.id))]

    def messages(self) -> list[str]:
        t = OutboundMessage.__table__
        with self.engine.connect() as conn:
            return list(conn.execute(select(t.c.status).order_by(t.c.id)).scalars())

    def events(self, kind: str) -> list:
        return self.world.events(kind)


@pytest.fixture
async def rig_for(database_url: str, tmp_path: Path, fake_telegram: FakeTelegram) -> AsyncIterator:
    made: list[tuple[ExtBot, World]] = []

    async def make(customers: list[str], documents: list[str], read_timeout: float = 5.0) -> Rig:
        world = load(database_url, tmp_path, customers, documents)
        bot = tg_bot(fake_telegram, world.engine, read_timeout)
        await bot.initialize()
        made.append((bot, world))
        sweeper = build_sweeper(world.app, debtor=TelegramDebtorChannel(bot), staff=ConsoleAlertChannel())
        return Rig(world, fake_telegram, sweeper)

    yield make
    for bot, world in made:
        await bot.shutdown()
        world.engine.dispose()


def items(report: SweepReport) -> list[tuple[str, str, str, str]]:
    return [(m.customer_ref, ref, step, m.status) for m in report.messages for ref, step in m.items]


# ---------------------------------------------------------------- the happy path


async def test_the_sweep_sends_real_reminders_with_six_buttons_in_each_contacts_language(rig_for) -> None:  # noqa: ANN001
    rig = await rig_for([cust("C1"), cust("C2")], [doc("INV-1", "C1", DUE), doc("INV-2", "C2", DUE)])
    rig.tg.add_user(1001, "Ana")
    rig.tg.add_user(1002, "Bia", language_code="pt")
    rig.link("C1", 1001)
    rig.link("C2", 1002, locale="pt")
    report = await rig.sweep(at_local(off(8), 10))
    assert sorted(items(report)) == [("C1", "INV-1", "first", "sent"), ("C2", "INV-2", "first", "sent")]
    [en] = rig.tg.sent(1001)
    [pt] = rig.tg.sent(1002)
    assert en.parse_mode == "HTML" and "INV-1" in en.plain_text
    assert en.button_texts == EN_BUTTONS
    assert pt.button_texts == [[b["text"] for b in row] for row in reminder_keyboard("pt")]
    assert pt.button_texts != EN_BUTTONS and "INV-2" in pt.plain_text
    assert [m.as_json()["channel"] for m in report.messages] == ["telegram", "telegram"]
    assert rig.rows() == [("first", "sent"), ("first", "sent")]
    assert rig.messages() == ["sent", "sent"]
    assert [e.text for e in rig.events("reminder_sent")] == ["first reminder sent"] * 2
    # the message ids Telegram gave are recorded
    with rig.engine.connect() as conn:
        assert sorted(conn.execute(select(ReminderSend.channel_message_id).where(ReminderSend.status == "sent"))
                      .scalars()) == ["1", "1"]


# ---------------------------------------------------------------- 429


async def test_a_429_is_waited_out_and_the_reminder_sent_once(rig_for) -> None:  # noqa: ANN001
    rig = await rig_for([cust("C1")], [doc("INV-1", "C1", DUE)])
    rig.tg.add_user(1001)
    rig.link("C1", 1001)
    rig.tg.rate_limit_next(retry_after=1, method="sendMessage")
    started = time.monotonic()
    report = await rig.sweep(at_local(off(8), 10))
    assert time.monotonic() - started >= 1.0
    assert items(report) == [("C1", "INV-1", "first", "sent")]
    assert len(rig.tg.sent(1001)) == 1
    assert len(rig.tg.faults.used) == 1  # the 429 was answered, waited out, and the send repeated
    assert rig.rows() == [("first", "sent")]


# ---------------------------------------------------------------- 403


async def test_403_in_its_three_forms_marks_each_chat_unreachable_and_the_next_one_gets_it(rig_for) -> None:  # noqa: ANN001
    rig = await rig_for([cust("C1")], [doc("INV-1", "C1", DUE)])
    rig.tg.add_user(2001)
    rig.tg.user_blocks_bot(2001)
    rig.tg.add_user(2002)
    rig.tg.user_deactivated(2002)
    rig.tg.add_user(2003, started=False)
    rig.tg.add_user(2004)
    for chat in (2001, 2002, 2003, 2004):
        rig.link("C1", chat)
    report = await rig.sweep(at_local(off(8), 10))
    assert items(report) == [("C1", "INV-1", "first", "sent")]
    assert [c.status for c in rig.tg.calls_to("sendMessage")] in ([403, 403, 403, 200], [200])
    assert len(rig.tg.sent(2004)) == 1
    assert [e.text for e in rig.events("contact_unreachable")] == [
        "chat 2001 blocked the bot", "chat 2002 belongs to a deactivated account", "chat 2003 never started the bot"]
    with rig.engine.connect() as conn:
        assert list(conn.execute(select(Contact.telegram_chat_id).where(Contact.reachable.is_(True))).scalars()) == [
            2004]
    kinds = Counter(p.kind for p in rig.posted)
    assert kinds == {"contact_unreachable": 3}
    # an unreachable chat is never tried again
    await rig.sweep(at_local(off(15), 10))
    assert [c.args.get("chat_id") for c in rig.tg.calls_to("sendMessage")][4:] == [2004]


async def test_when_every_chat_answers_403_the_step_is_no_channel_and_sales_are_asked_to_phone(rig_for) -> None:  # noqa: ANN001
    rig = await rig_for([cust("C1")], [doc("INV-1", "C1", DUE), doc("INV-2", "C1", DUE)])
    rig.tg.add_user(3001)
    rig.tg.user_blocks_bot(3001)
    rig.link("C1", 3001)
    report = await rig.sweep(at_local(off(8), 10))
    assert [m.status for m in report.messages] == ["no_channel"]
    assert rig.rows() == [("first", "no_channel"), ("first", "no_channel")]
    assert rig.messages() == ["no_channel"]
    chase = [p for p in rig.posted if p.kind == "chase_by_phone"]
    assert len(chase) == 1 and "INV-1" in chase[0].text and "INV-2" in chase[0].text
    assert chase[0].customer_ref == "C1"
    assert rig.events("reminder_sent")[-1].text == (
        "first: every linked chat blocked the bot; sales rep asked to chase by phone")


# ---------------------------------------------------------------- every error class PTB raises, one each


async def test_bad_request_chat_not_found_marks_the_chat_unreachable_and_the_next_one_gets_it(rig_for) -> None:  # noqa: ANN001
    rig = await rig_for([cust("C1")], [doc("INV-1", "C1", DUE)])
    rig.link("C1", 4001)  # a chat Telegram does not know: 400 "Bad Request: chat not found" (BadRequest)
    rig.tg.add_user(4002)
    rig.link("C1", 4002)
    report = await rig.sweep(at_local(off(8), 10))
    assert items(report) == [("C1", "INV-1", "first", "sent")]
    assert [(c.status, c.description) for c in rig.tg.calls_to("sendMessage")][0] == (
        400, "Bad Request: chat not found")
    assert len(rig.tg.sent(4002)) == 1
    assert [e.text for e in rig.events("contact_unreachable")] == ["chat 4001 does not exist"]
    assert rig.rows() == [("first", "sent")]


async def test_any_other_bad_request_is_failed_never_resent_and_told_to_staff(rig_for) -> None:  # noqa: ANN001
    rig = await rig_for([cust("C1")], [doc("INV-1", "C1", DUE)])
    rig.tg.add_user(1001)
    rig.link("C1", 1001)
    rig.tg.fail_next(400, method="sendMessage", description="Bad Request: can't parse entities: unsupported "
                                                             "start tag \"blink\" at byte offset 0")
    report = await rig.sweep(at_local(off(8), 10))
    assert items(report) == [("C1", "INV-1", "first", "no_channel")]  # the sweep's word for "not delivered"
    assert rig.rows() == [("first", "failed")] and rig.messages() == ["failed"]
    assert [p.kind for p in rig.posted] == ["send_failed"] and "INV-1" in rig.posted[0].text
    await rig.sweep(at_local(off(8), 11))  # resending cannot help: it is not tried again
    assert len(rig.tg.faults.used) == 1 and rig.tg.calls_to("sendMessage") == []


async def test_a_429_past_the_limiters_retries_leaves_it_pending_until_retry_after(rig_for) -> None:  # noqa: ANN001
    from bot.scheduler.ratelimit import MAX_RETRIES

    rig = await rig_for([cust("C1")], [doc("INV-1", "C1", DUE)])
    rig.tg.add_user(1001)
    rig.link("C1", 1001)
    rig.tg.rate_limit_next(retry_after=1, method="sendMessage", times=MAX_RETRIES + 1)  # RetryAfter every time
    report = await rig.sweep(at_local(off(8), 10))
    assert items(report) == [("C1", "INV-1", "first", "deferred")]
    assert rig.messages() == ["pending"] and rig.tg.sent(1001) == []
    with rig.engine.connect() as conn:
        not_before = conn.execute(select(OutboundMessage.not_before)).scalar_one()
    assert not_before is not None  # Telegram's retry_after, in real seconds
    await asyncio.sleep(1.1)
    await rig.sweep(at_local(off(8), 11))
    assert len(rig.tg.sent(1001)) == 1 and rig.messages() == ["sent"]


async def test_a_token_revoked_mid_run_is_invalid_token_and_leaves_it_pending_not_unknown(rig_for) -> None:  # noqa: ANN001
    rig = await rig_for([cust("C1")], [doc("INV-1", "C1", DUE)])
    rig.tg.add_user(1001)
    rig.link("C1", 1001)
    token = rig.tg.token
    rig.tg.token = "123456789:AArevoked_in_BotFather"  # every call with the old one: 401 Unauthorized (InvalidToken)
    report = await rig.sweep(at_local(off(8), 10))
    assert items(report) == [("C1", "INV-1", "first", "deferred")]
    assert rig.messages() == ["pending"] and rig.rows() == [("first", "pending")]
    assert rig.events("send_unknown") == [] and rig.posted == []
    with rig.engine.connect() as conn:
        error = conn.execute(select(OutboundMessage.error)).scalar_one()
    assert "InvalidToken" in error and token not in error and "revoked" not in error
    rig.tg.token = token
    await rig.sweep(at_local(off(8), 11))
    assert len(rig.tg.sent(1001)) == 1 and rig.messages() == ["sent"]


# ---------------------------------------------------------------- 5xx and connection errors


async def test_a_5xx_and_a_dropped_connection_are_retried_and_the_reminder_sent_once(rig_for) -> None:  # noqa: ANN001
    rig = await rig_for([cust("C1")], [doc("INV-1", "C1", DUE)])
    rig.tg.add_user(1001)
    rig.link("C1", 1001)
    rig.tg.fail_next(500, method="sendMessage")
    rig.tg.drop_next(method="sendMessage")
    report = await rig.sweep(at_local(off(8), 10))
    assert items(report) == [("C1", "INV-1", "first", "sent")]
    assert len(rig.tg.sent(1001)) == 1
    assert rig.rows() == [("first", "sent")]


async def test_a_5xx_that_persists_leaves_the_reminder_pending_and_the_next_sweep_sends_it(rig_for) -> None:  # noqa: ANN001
    rig = await rig_for([cust("C1")], [doc("INV-1", "C1", DUE)])
    rig.tg.add_user(1001)
    rig.link("C1", 1001)
    rig.tg.fail_next(502, method="sendMessage", times=4)  # the first try and its three retries
    report = await rig.sweep(at_local(off(8), 10))
    assert items(report) == [("C1", "INV-1", "first", "deferred")]
    assert rig.tg.sent(1001) == []
    assert rig.rows() == [("first", "pending")] and rig.messages() == ["pending"]
    assert rig.events("reminder_sent") == [] and rig.posted == []
    later = await rig.sweep(at_local(off(8), 11))  # nothing new to plan: the pending one goes out
    assert later.messages == []
    assert len(rig.tg.sent(1001)) == 1
    assert rig.rows() == [("first", "sent")] and rig.messages() == ["sent"]
    await rig.sweep(at_local(off(9), 11))
    assert len(rig.tg.sent(1001)) == 1


# ---------------------------------------------------------------- timeout


async def test_a_timeout_is_unknown_never_resent_and_told_to_staff_once_naming_its_invoices(rig_for) -> None:  # noqa: ANN001
    rig = await rig_for([cust("C1")], [doc("INV-1", "C1", DUE), doc("INV-2", "C1", DUE)], read_timeout=0.5)
    rig.tg.add_user(1001)
    rig.link("C1", 1001)
    rig.tg.hang_next(2, method="sendMessage")
    report = await rig.sweep(at_local(off(8), 10))
    assert [m.status for m in report.messages] == ["sent"]  # attempted: it may well have arrived
    assert len(rig.tg.sent(1001)) == 1  # it did, in fact
    assert rig.rows() == [("first", "unknown"), ("first", "unknown")]
    assert rig.messages() == ["unknown"]
    [alert] = [p for p in rig.posted if p.kind == "send_unknown"]
    assert "INV-1" in alert.text and "INV-2" in alert.text and alert.customer_ref == "C1"
    assert len(rig.events("send_unknown")) == 1
    for n in (8, 9, 10):
        await rig.sweep(at_local(off(n), 15))
    assert len(rig.tg.sent(1001)) == 1
    assert len(rig.tg.calls_to("sendMessage")) == 1
    assert [p.kind for p in rig.posted] == ["send_unknown"]


# ---------------------------------------------------------------- staff alerts


class FlakySlack:
    """An AlertChannel that fails as told: NotPosted (Slack down) or a crash mid-post."""

    name = "slack"

    def __init__(self, failures: list[BaseException]) -> None:
        self.failures = failures
        self.posted: list[StaffPost] = []

    async def post(self, alert: StaffPost) -> PostReceipt:
        if self.failures:
            raise self.failures.pop(0)
        self.posted.append(alert)
        return PostReceipt("C0CASES", f"1700000000.{len(self.posted):06d}")


def _alert(engine: Engine, key: str) -> None:
    with engine.begin() as conn:
        add_alert(conn, key=key, customer_id=None, kind="heads_up", text=f"about {key}",
                  at=datetime(2026, 3, 1, tzinfo=UTC))


def _alerts(engine: Engine) -> list[tuple[str, str, str]]:
    t = StaffAlert.__table__
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(t.c.key, t.c.status, t.c.slack_ts).order_by(t.c.id))]


async def test_a_failed_post_is_retried_later_and_posted_once(engine: Engine) -> None:
    _alert(engine, "a1")
    slack = FlakySlack([NotPosted("slack is down", retry_after=60)])
    poster = AlertPoster(engine, slack, lambda: datetime(2026, 3, 1, tzinfo=UTC))
    assert await poster.post_pending() == 0
    assert _alerts(engine) == [("a1", "pending", "")]
    assert await poster.post_pending() == 0  # not before its retry_after
    with engine.begin() as conn:
        conn.execute(update(StaffAlert).values(not_before=datetime(2000, 1, 1, tzinfo=UTC)))
    assert await poster.post_pending() == 1
    assert _alerts(engine) == [("a1", "posted", "1700000000.000001")]
    assert await poster.post_pending() == 0
    assert len(slack.posted) == 1


async def test_a_post_whose_result_is_lost_is_unknown_and_never_posted_again(engine: Engine) -> None:
    _alert(engine, "a1")
    _alert(engine, "a2")
    slack = FlakySlack([TimeoutError("read timed out")])
    poster = AlertPoster(engine, slack, lambda: datetime(2026, 3, 1, tzinfo=UTC))
    assert await poster.post_pending() == 1
    assert [(k, s) for k, s, _ in _alerts(engine)] == [("a1", "unknown"), ("a2", "posted")]
    assert await poster.post_pending() == 0
    assert [p.text for p in slack.posted] == ["about a2"]


def test_an_alert_left_posting_by_a_dead_process_is_unknown_and_a_live_ones_is_left_alone(engine: Engine) -> None:
    _alert(engine, "dead")
    _alert(engine, "live")
    with engine.begin() as conn:
        conn.execute(update(StaffAlert).where(StaffAlert.key == "dead")
                     .values(status="posting", claimed_by="proc:999999:1"))
        conn.execute(update(StaffAlert).where(StaffAlert.key == "live")
                     .values(status="posting", claimed_by=process_token()))
    recover_dead_claims(engine, datetime(2026, 3, 1, tzinfo=UTC))
    assert [(k, s) for k, s, _ in _alerts(engine)] == [("dead", "unknown"), ("live", "posting")]


# ---------------------------------------------------------------- processes: kill -9, races


def _env(database_url: str, tg: FakeTelegram) -> dict[str, str]:
    return cli_env(database_url) | {"TELEGRAM_BOT_TOKEN": tg.token, "COLLECTBOT_TELEGRAM_API_URL": tg.api_url,
                                    "COLLECTBOT_TELEGRAM_FILE_URL": tg.file_url}


def test_a_sweep_killed_between_intent_and_result_leaves_unknown_never_resent(
    database_url: str, tmp_path: Path, fake_telegram_thread: FakeTelegram
) -> None:
    tg = fake_telegram_thread
    w = load(database_url, tmp_path, [cust("C1")], [doc("INV-1", "C1", DUE)])
    w.link("C1", 1001)
    tg.add_user(1001)
    tg.hang_next(20, method="sendMessage")  # delivered, but the answer never comes in time
    env = _env(database_url, tg)
    now = at_local(off(8), 10).isoformat()
    proc = subprocess.Popen([COLLECTBOT, "sweep", "--now", now, "--format", "json"], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        tg.wait_for(lambda: tg.sent(1001), timeout=60, what="the reminder reached the fake")
        t = OutboundMessage.__table__
        with w.engine.connect() as conn:
            assert conn.execute(select(t.c.status)).scalar_one() == "sending"  # intent recorded, no result
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    later = at_local(off(8), 11).isoformat()
    done = subprocess.run([COLLECTBOT, "sweep", "--now", later, "--format", "json"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["messages"] == []
    assert w.outbox()[-1][1:3] == ("first", "unknown")
    with w.engine.connect() as conn:
        assert conn.execute(select(OutboundMessage.status)).scalar_one() == "unknown"
        alerts = conn.execute(select(StaffAlert.kind, StaffAlert.text, StaffAlert.status)).all()
    assert [(k, s) for k, _t, s in alerts] == [("send_unknown", "posted")]
    assert "INV-1" in alerts[0][1]
    assert len(tg.sent(1001)) == 1  # never sent again
    assert len(tg.calls_to("sendMessage")) == 1


@pytest.mark.slow
def test_two_sweep_processes_at_once_send_each_step_once(
    database_url: str, tmp_path: Path, fake_telegram_thread: FakeTelegram
) -> None:
    tg = fake_telegram_thread
    customers = [cust(f"K{i:02d}") for i in range(40)]
    documents = [doc(f"INV-{i:02d}", f"K{i:02d}", DUE - timedelta(days=i % 3)) for i in range(40)]
    w = load(database_url, tmp_path, customers, documents)
    for i in range(40):
        tg.add_user(7000 + i)
        w.link(f"K{i:02d}", 7000 + i)
    env = _env(database_url, tg)
    now = at_local(off(8), 10).isoformat()
    procs = [subprocess.Popen([COLLECTBOT, "sweep", "--now", now, "--format", "json"], env=env, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=180) for p in procs]
    for p, (_out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
    reported = Counter((m["customer_ref"], i["doc_ref"], i["step"], m["status"])
                       for out, _err in outs for m in json.loads(out)["messages"] for i in m["items"])
    assert all(v == 1 for v in reported.values()), reported
    assert {c for c, _r, _s, st in reported if st == "sent"} == {f"K{i:02d}" for i in range(40)}
    assert all(len(tg.sent(7000 + i)) == 1 for i in range(40))
    done = [(r, s) for r, s, st, _d in w.outbox() if st != "skipped"]
    assert len(done) == len(set(done)) == 40
    assert {st for _r, _s, st, _d in w.outbox()} <= {"sent", "skipped"}
    assert tg.stats()["answered_429"] == 0


def _timed_out(cause: BaseException | None) -> BaseException:
    from telegram.error import TimedOut

    exc = TimedOut()
    exc.__cause__ = cause
    return exc


def test_what_each_send_error_means() -> None:
    """DESIGN "Reliability": what left may have arrived (unknown); what did not may be sent again."""
    import httpx
    from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter

    from bot.scheduler.delivery import classify

    assert classify(Forbidden("Forbidden: bot was blocked by the user")) == "unreachable"
    assert classify(BadRequest("Bad Request: chat not found")) == "unreachable"
    assert classify(BadRequest("Bad Request: can't parse entities")) == "refused"
    assert classify(RetryAfter(3)) == "later"
    assert classify(NetworkError("Bad Gateway")) == "not_left"
    assert classify(InvalidToken()) == "not_left"
    assert classify(_timed_out(httpx.ConnectTimeout("connect"))) == "not_left"
    assert classify(_timed_out(httpx.PoolTimeout("pool"))) == "not_left"
    assert classify(_timed_out(httpx.ReadTimeout("read"))) == "unknown"
    assert classify(_timed_out(None)) == "unknown"
    assert classify(RuntimeError("anything else")) == "unknown"
