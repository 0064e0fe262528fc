"""`collectbot demo`: 60 days of collections on a throw-away database, told as a credit manager follows it.

The bundled sample ledger (30 customers, 6 currencies) is imported into a temporary SQLite
database, four debtors link their Telegram chats, and 60 days of sweeps run (13:00 and 16:00
UTC) with a simulated clock. Day by day the demo prints what happened: reminders sent in
Telegram, the phone calls asked of sales reps for customers without a chat, disputes,
payment claims, promises, a payment plan that breaks, formal notices and credit holds.

The debtor's side is real: ACME's chat runs the product's own Telegram handlers
(bot.handlers.telegram.build_application) against `LocalBotAPI` (bot.demo_botapi), a stand-in
for the Bot API inside this process, so the reminder is shown as the debtor sees it, with its
six buttons, and the debtor taps "Dispute" and "I paid" and goes through both flows. Credit
staff's decisions reach the debtor in the same chat.

No network, no account, no environment variable; the same output on every run; the
temporary directory is removed at the end, so nothing is left behind.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from importlib.resources import files
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import func, select
from telegram import Update
from telegram.ext import Application, ExtBot

from bot.app import App, build_sweeper
from bot.clock import FixedClock
from bot.config import Settings
from bot.demo_botapi import ChatLine, LocalBotAPI
from bot.domain.balances import BUCKETS
from bot.handlers.telegram.delivery import TelegramDebtorChannel
from bot.importer import import_file
from bot.scheduler.channels import ConsoleAlertChannel
from bot.scheduler.delivery import Delivery
from bot.services import cases
from bot.services.balances import aging_document, balance_document
from bot.services.customers import resolve
from bot.services.linking import new_token
from messages.words import step_words
from storage import ledger_writes
from storage.migrate import upgrade_lock_file
from storage.tables import Customer, Document, Event, StaffAlert, StepApproval

START = date(2026, 11, 2)  # a Monday
DAYS = 60
SWEEP_HOURS = (13, 16)
TOKEN = "7000000001:demo-token-never-sent-anywhere"


@dataclass(frozen=True)
class Debtor:
    """A debtor who links a Telegram chat in the demo."""

    ref: str
    chat_id: int
    first_name: str
    language: str
    language_name: str


DEBTORS = (
    Debtor("ACME", 1001, "Ana", "en", "English"),
    Debtor("CAFEZ", 1002, "Bruna", "pt", "Portuguese"),
    Debtor("PARS", 1003, "Dariush", "fa", "Persian"),
    Debtor("MALAGA", 1004, "Elena", "es", "Spanish"),
)
WATCHED = DEBTORS[0]  # the chat shown as its debtor sees it


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


@dataclass(order=True)
class _Entry:
    """One printed item of a day, ordered by time, then rank: the debtor's chat before the event it
    leads to (0), events (1), the chat after a sweep (2: placed right under that sweep's reminder)."""

    at: datetime
    rank: int
    seq: int
    sub: int = 0
    lines: list[str] = field(default_factory=list, compare=False)
    ref: str = field(default="", compare=False)
    kind: str = field(default="", compare=False)


class _Demo:
    """The demo's world: the App on the throw-away database, its clock, the Bot API stand-in, the
    debtor's bot (the real Application), the sweeper, and the entries waiting to be printed."""

    def __init__(self, out: Console, app: App, clock: FixedClock, api: LocalBotAPI, application: Application) -> None:
        self.out, self.app, self.clock, self.api, self.application = out, app, clock, api, application
        self.bot: ExtBot = application.bot
        self.entries: list[_Entry] = []
        self.seen: dict[int, int] = defaultdict(int)  # chat -> transcript lines already printed
        self.reminder_shown = False
        self.channel = TelegramDebtorChannel(self.bot, app=app)  # the one delivery path, through the demo's Bot
        self.sweeper = build_sweeper(
            app,
            debtor=self.channel,
            staff=ConsoleAlertChannel(),  # staff alerts: the staff_alert table, the timeline and the log
        )

    # -- moves ------------------------------------------------------------------------------

    async def db(self, work: Callable, *args: object) -> object:
        """Database work off the event loop (the demo's own rule, as the product's)."""
        return await asyncio.to_thread(work, *args)

    async def sweep(self) -> None:
        await self.sweeper.run(self.clock.now())  # records in a database thread, then delivers on this loop
        self.chat(WATCHED.chat_id, rank=2, reminder=True)

    async def send(self, debtor: Debtor, text: str) -> None:
        await self.application.process_update(Update.de_json(self.api.user_sends(debtor.chat_id, text), self.bot))

    async def tap(self, debtor: Debtor, label: str) -> None:
        await self.application.process_update(Update.de_json(self.api.user_taps(debtor.chat_id, label), self.bot))

    async def tell_debtor(self, notice: int | None) -> None:
        """A decision's notice, delivered as `collectbot payment|dispute|plan` deliver it (the one delivery
        path, bot.scheduler.delivery), through the demo's Bot."""
        if notice is None:
            return
        await Delivery(self.app.engine, self.channel, self.app.renderer, self.app.now).deliver([notice])

    # -- the chat, as the debtor sees it ------------------------------------------------------

    def chat(self, chat_id: int, rank: int, note: str = "", *, reminder: bool = False) -> None:
        """Queue the chat's new lines since the last call as one entry at the clock's time.

        `reminder`: the lines are a sweep's reminders; the first is shown whole, later ones by their
        greeting and the sentence that sets their tone (the step is in the timeline line above).
        """
        lines = self.api.transcript(chat_id)[self.seen[chat_id] :]
        self.seen[chat_id] += len(lines)
        if not lines:
            return
        shown = [f"        [dim]┆[/] [italic]{escape(note)}[/]"] if note else []
        for line in lines:
            shown += _chat_lines(line, full=not reminder or not self.reminder_shown)
        self.reminder_shown = self.reminder_shown or reminder
        self.entries.append(_Entry(self.clock.now(), rank, len(self.entries), lines=shown))

    # -- the story ------------------------------------------------------------------------------

    async def morning(self, day: date) -> None:
        """Credit staff's decisions and what reaches collectbot from elsewhere, before the day's sweeps."""
        acme = WATCHED
        if day == date(2026, 11, 6):
            self.clock.set(_at(day, 10))
            notice = await self.db(self._decide_claim)
            await self.tell_debtor(notice)
            self.chat(acme.chat_id, 0, "credit staff find no such transfer: collectbot payment reject … --reason …")
        if day == date(2026, 11, 9):
            self.clock.set(_at(day, 10))
            notice = await self.db(self._resolve_dispute)
            await self.tell_debtor(notice)
            self.chat(acme.chat_id, 0, "sales confirm the fee was waived: collectbot dispute resolve … --valid …")
        self.clock.set(_at(day, 12))
        await self.db(self._ledger_moves, day)

    async def afternoon(self, day: date) -> None:
        """The debtor's moves in the chat, after the day's sweeps (18:00 UTC is 13:00 in New York)."""
        acme = WATCHED
        if day == date(2026, 11, 3):
            self.clock.set(_at(day, 18, 10))
            await self.tap(acme, "Dispute")
            await self.tap(acme, "DN-4002")
            await self.tap(acme, "Wrong price")
            await self.send(acme, "We never agreed to a $185 handling fee: see our contract, clause 7")
            await self.tap(acme, "✔ Confirm")
            self.chat(acme.chat_id, 0, "Ana at ACME disputes the debit note from the reminder's buttons")
        if day == date(2026, 11, 4):
            self.clock.set(_at(day, 18, 30))
            await self.tap(acme, "I paid")
            await self.tap(acme, "INV-1013")
            await self.tap(acme, "Continue")
            await self.tap(acme, "$7,391.88")
            await self.tap(acme, "Yesterday")
            await self.send(acme, "WIRE-7781")
            await self.tap(acme, "Skip")
            await self.tap(acme, "✔ Confirm")
            self.chat(acme.chat_id, 0, "the next day, Ana says the invoice is paid")

    def _decide_claim(self) -> int | None:
        from bot.services.payments import decide_payment, list_claims

        with self.app.engine.begin() as conn:
            (claim,) = list_claims(conn, "claimed")
            _, notice = decide_payment(
                conn,
                claim["id"],
                confirm=False,
                reason="no transfer WIRE-7781 reached our account",
                actor="cli",
                now=self.app.now(),
            )
        return notice

    def _resolve_dispute(self) -> int | None:
        from bot.services.disputes import list_disputes
        from bot.services.disputes import resolve as resolve_dispute

        with self.app.engine.begin() as conn:
            (dispute,) = list_disputes(conn, "open")
            _, notice = resolve_dispute(
                conn,
                dispute["id"],
                valid=True,
                reason="the handling fee was waived in the contract",
                actor="cli",
                now=self.app.now(),
            )
        return notice

    def _ledger_moves(self, day: date) -> None:
        """What reaches collectbot from elsewhere: the ERP's payments, a phone call, sales."""
        now = self.app.now()
        with self.app.engine.begin() as conn:
            if day == date(2026, 11, 10):
                cafe = resolve(conn, "CAFEZ")
                item = next(i for i in balance_document(conn, cafe, day)["open_items"] if i["doc_ref"] == "INV-1007")
                cases.make_promise(
                    conn,
                    "INV-1007",
                    promised=date(2026, 11, 20),
                    amount_cents=int(item["open_amount"].replace(".", "")),
                    actor="debtor:1002",
                    now=now,
                )
            if day == date(2026, 11, 12):  # agreed by phone with the sales rep, entered by credit staff
                cases.propose_plan(conn, ["INV-1044"], total_cents=16585000, count=3, actor="cli", now=now)
            if day == date(2026, 11, 13):
                cases.decide_plan(conn, 1, approve=True, actor="cli", now=now, today=day)
            if day == date(2026, 11, 18):
                _erp_payment(conn, "CAFEZ", "INV-1007", "PAY-DEMO-1", day)
            if day == date(2026, 12, 22):
                from bot.services.approvals import approve_step

                approve_step(conn, "SAOJOAO", "formal_notice", policy=self.app.policy, actor="slack:U0SALES02", now=now)

    # -- a day's printout ---------------------------------------------------------------------------

    def day_entries(self, day: date) -> list[_Entry]:
        """The day's timeline events and staff alerts, summarised, merged with the chat entries."""
        start, end = _at(day, 0), _at(day, 0) + timedelta(days=1)
        e, c, a = Event.__table__, Customer.__table__, StaffAlert.__table__
        with self.app.engine.connect() as conn:
            events = conn.execute(
                select(e.c.at, e.c.kind, e.c.actor, e.c.doc_refs, e.c.text, c.c.ref, c.c.id)
                .join(c, c.c.id == e.c.customer_id)
                .where(e.c.at >= start, e.c.at < end)
                .order_by(e.c.at, e.c.id)
            ).all()
            waiting = conn.execute(
                select(a.c.created_at, a.c.key, c.c.ref)
                .join(c, c.c.id == a.c.customer_id)
                .where(a.c.kind == "approval_needed", a.c.created_at >= start, a.c.created_at < end)
            ).all()
            asked: dict[tuple[datetime, str], list[str]] = defaultdict(list)
            for at, key, ref in waiting:  # key: approval:<document id>:<step>
                asked[(at, ref)].append(_doc_ref(conn, int(key.split(":")[1])))
        entries = [x for x in self.entries if start <= x.at < end]
        seq = len(self.entries)
        skipped: dict[datetime, set[tuple[str, str]]] = defaultdict(set)
        phone: dict[datetime, list[str]] = defaultdict(list)
        for at, kind, actor, refs, text, ref, _cid in events:
            docs = ", ".join(refs)
            if kind == "step_skipped":
                skipped[at].add((ref, docs))
                continue
            if kind in ("chat_linked", "message_out", "chase_by_phone"):
                continue  # linking is in the opening; what the bot said is in the chat; calls are summarised
            if kind == "reminder_sent" and ("no linked chat" in text or "blocked the bot" in text):
                step = _step(text.split(":", 1)[0])
                phone[at].append(f"{escape(ref)} ({escape(step)}: {escape(docs)})")
                continue
            seq += 1
            entries.append(
                _Entry(at, 1, seq, lines=[_event_line(at, kind, actor, docs, text, ref)], ref=ref, kind=kind)
            )
            if kind == "plan_broken":
                seq += 1
                entries.append(_Entry(at, 1, seq, lines=self._why_quiet(conn_docs=list(refs), ref=ref)))
        for at, refs in skipped.items():
            customers = len({r for r, _ in refs})
            seq += 1
            entries.append(
                _Entry(
                    at,
                    1,
                    seq,
                    lines=[
                        f"  {at:%H:%M} [dim]{len(refs)} earlier step(s) skipped for {customers} customer(s): "
                        "a later step was already due, so only the latest reminder goes out[/]"
                    ],
                )
            )
        for at, calls in phone.items():
            seq += 1
            entries.append(
                _Entry(
                    at,
                    1,
                    seq,
                    lines=[
                        f"  {at:%H:%M} [yellow]no linked chat[/]: the sales rep is asked to phone "
                        f"{len(calls)} customer(s) instead of a reminder: {', '.join(calls)}"
                    ],
                )
            )
        for (at, ref), docs in asked.items():
            seq += 1
            entries.append(
                _Entry(
                    at,
                    1,
                    seq,
                    lines=[
                        f"  {at:%H:%M} {escape(ref):<10} [magenta]formal notice waits for sales approval[/] "
                        f"{escape('[' + ', '.join(sorted(docs)) + ']')}: a strategic account's formal notice goes out "
                        f"only when sales agree (collectbot step approve {escape(ref)} --step formal_notice); "
                        "the sales rep was asked"
                    ],
                )
            )
        for entry in entries:  # a sweep's chat goes right under the reminder that sweep sent
            if entry.rank == 2:
                anchor = [x for x in entries if x.at == entry.at and x.ref == WATCHED.ref and x.kind == "reminder_sent"]
                if anchor:
                    entry.rank, entry.seq, entry.sub = 1, anchor[-1].seq, 1
        return sorted(entries)

    def _why_quiet(self, conn_docs: list[str], ref: str) -> list[str]:
        """Why a broken plan's invoices get no reminder at once: their next step waits for sales."""
        a, s, d = StaffAlert.__table__, StepApproval.__table__, Document.__table__
        with self.app.engine.connect() as conn:
            docs = dict(conn.execute(select(d.c.id, d.c.ref).where(d.c.ref.in_([r for r in conn_docs if r]))).all())
            approved = set(conn.execute(select(s.c.document_id).where(s.c.step == "formal_notice")).scalars())
            keys = {f"approval:{i}:formal_notice": ref for i, ref in docs.items() if i not in approved}
            waiting = [
                (keys[k], at)
                for k, at in conn.execute(select(a.c.key, a.c.created_at).where(a.c.key.in_(list(keys)))).all()
            ]
        if not waiting:
            return []
        docs = ", ".join(r for r, _ in waiting)
        since = min(at for _, at in waiting)
        return [
            f"        [magenta]why no reminder follows[/]: {escape(docs)} already had every reminder; its next step is "
            f"the formal notice, which for a strategic account waits for sales to agree (asked on {since:%Y-%m-%d}). "
            f"Until then the debtor hears nothing more, and the sales rep is the one to act."
        ]

    def print_day(self, day: date) -> None:
        entries = self.day_entries(day)
        if not entries:
            return
        self.out.print(f"[bold]{day:%a %Y-%m-%d}[/]")
        for entry in entries:
            for line in entry.lines:
                self.out.print(line)


def _erp_payment(conn, customer_ref: str, doc_ref: str, payment_ref: str, day: date) -> None:  # noqa: ANN001
    """A payment from the ERP (as `collectbot import payments` records it) of one invoice's open amount."""
    customer = resolve(conn, customer_ref)
    item = next(i for i in balance_document(conn, customer, day)["open_items"] if i["doc_ref"] == doc_ref)
    cents = int(item["open_amount"].replace(".", ""))
    ledger_writes.upsert_payments(
        conn,
        [
            {
                "ref": payment_ref,
                "customer_id": customer.id,
                "customer_ref": customer.ref,
                "date": day,
                "amount_cents": cents,
                "currency": item["currency"],
                "method": "pix",
                "allocations": [(doc_ref, cents)],
            }
        ],
    )
    ledger_writes.rearm_customers(conn, [customer.id])


_KIND_WORDS = {
    "reminder_sent": "reminder sent in Telegram",
    "hold_set": "credit hold",
    "credit_hold_set": "credit hold",
    "credit_hold_released": "credit hold lifted",
    "heads_up": "heads-up to sales",
}
_STYLE = {
    "dispute_opened": "cyan",
    "dispute_resolved": "cyan",
    "payment_claimed": "cyan",
    "payment_rejected": "cyan",
    "payment_confirmed": "cyan",
    "plan_broken": "red",
    "hold_set": "red",
    "credit_hold_set": "red",
    "escalated": "red",
    "promise_kept": "green",
    "plan_approved": "green",
    "credit_hold_released": "green",
}


def _step(name: str) -> str:
    """A ladder step as people say it: pre_due -> pre-due, formal_notice -> formal notice."""
    return step_words(name)


def _doc_ref(conn, document_id: int) -> str:  # noqa: ANN001
    return conn.execute(select(Document.__table__.c.ref).where(Document.__table__.c.id == document_id)).scalar_one()


def _actor(actor: str) -> str:
    if actor.startswith("debtor:"):
        return "the debtor, in Telegram"
    if actor == "cli":
        return "credit staff"
    if actor.startswith("slack:"):
        return "sales (" + actor.split(":", 1)[1] + ")"
    return ""


LANGUAGE_OF = {d.ref: d.language_name for d in DEBTORS}


def _event_line(at: datetime, kind: str, actor: str, docs: str, text: str, ref: str) -> str:
    if kind == "reminder_sent":  # "first reminder sent": the step, then where it went
        step = _step(text.split(" ", 1)[0])
        language = f" (in {LANGUAGE_OF[ref]})" if ref in LANGUAGE_OF and ref != WATCHED.ref else ""
        where = escape(f"in Telegram{language} [{docs}]")
        return f"  {at:%H:%M} {escape(ref):<10} [bold]{escape(step)}[/] reminder sent {where}"
    if kind in ("hold_set", "credit_hold_set"):
        return f"  {at:%H:%M} {escape(ref):<10} [red]{escape(text)}[/]"
    words = _KIND_WORDS.get(kind, kind.replace("_", " "))
    style = _STYLE.get(kind, "")
    head = f"[{style}]{escape(words)}[/]" if style else escape(words)
    who = _actor(actor)
    by = f" [dim]by {escape(who)}[/]" if who else ""
    refs = f" [{escape(docs)}]" if docs else ""
    return f"  {at:%H:%M} {escape(ref):<10} {head}{by}{escape(refs)}: {escape(text)}"


def _button(label: str) -> str:
    return f"[cyan]{escape(f'[ {label} ]')}[/]"


def _chat_lines(line: ChatLine, *, full: bool) -> list[str]:
    bar = "        [dim]┆[/]"
    if line.who == "debtor":
        if line.tap:
            return [f"{bar} [bold]debtor[/] taps {_button(line.text)}"]
        return [f"{bar} [bold]debtor[/] writes: {escape(line.text)}"]
    if line.document:
        return [f"{bar} [bold]bot[/] sends the file {escape(line.document)}"]
    text = line.text.split("\n")
    if not full:  # the greeting and the sentence that sets the tone
        said = [t for t in text if t.strip()]
        text = [said[0], *(said[1:2]), "…"] if said else ["…"]
    verb = "(edits its message)" if line.edit else ""
    shown = [f"{bar} [bold]bot[/]{(' ' + verb) if verb else ''} ▸ {escape(text[0])}"]
    shown += [f"{bar}       {escape(t)}" for t in text[1:]]
    for row in line.buttons:
        shown.append(f"{bar}       " + " ".join(_button(b) for b in row))
    return shown


async def _link(demo: _Demo) -> None:
    """Each debtor opens their one-time link (`collectbot link REF`) and presses Start."""

    def tokens() -> dict[str, str]:
        with demo.app.engine.begin() as conn:
            ids = dict(conn.execute(select(Customer.__table__.c.ref, Customer.__table__.c.id)).all())
            return {d.ref: new_token(conn, ids[d.ref], contact_name=d.first_name, now=demo.app.now()) for d in DEBTORS}

    for debtor, token in zip(DEBTORS, (await demo.db(tokens)).values(), strict=True):
        demo.api.add_user(debtor.chat_id, debtor.first_name, debtor.language)
        await demo.send(debtor, f"/start {token}")
    demo.seen[WATCHED.chat_id] = 0


def _opening(demo: _Demo, imported: dict[str, int]) -> None:
    out = demo.out
    out.print(
        "[bold]collectbot demo[/]: 60 days of collections on a throw-away database. Nothing leaves this "
        "process: the debtors' Telegram is a stand-in for the Bot API running the real bot.\n"
    )
    out.print(
        f"Imported the sample ledger: {imported['customers']} customers, {imported['documents']} documents, "
        f"{imported['payments']} payments, in 6 currencies.\n"
    )
    with demo.app.engine.connect() as conn:
        names = dict(conn.execute(select(Customer.__table__.c.ref, Customer.__table__.c.name)).all())
    t = Table(title="Debtors with a linked Telegram chat", title_justify="left")
    for col in ("customer", "name", "contact", "language", "chat"):
        t.add_column(col)
    for d in DEBTORS:
        t.add_row(d.ref, escape(names[d.ref]), d.first_name, d.language_name, str(d.chat_id))
    out.print(t)
    out.print(
        f"The other {len(names) - len(DEBTORS)} customers have no linked chat: their reminders become a phone call "
        "asked of their sales rep (`collectbot link --all-unlinked --format csv` makes the links to send them).\n"
    )
    out.print("How Ana linked ACME's chat, from the one-time link `collectbot link ACME` printed:")
    lines = demo.api.transcript(WATCHED.chat_id)
    demo.seen[WATCHED.chat_id] = len(lines)
    for line in lines:
        if line.who == "debtor" and line.text.startswith("/start "):
            line = ChatLine("debtor", "/start <the link's one-time token>")
        for shown in _chat_lines(line, full=True):
            out.print(shown)
    out.print(
        f"\n[bold]Sweeps at {' and '.join(f'{h}:00' for h in SWEEP_HOURS)} UTC[/] (each debtor is reminded in "
        "their own business hours); ACME's chat is shown as Ana sees it.\n"
    )


def _print_summary(app: App, out: Console, day: date) -> None:
    a = StaffAlert.__table__
    with app.engine.connect() as conn:
        aging = aging_document(conn, day)
        holds = conn.execute(select(Customer.__table__.c.ref).where(Customer.__table__.c.credit_hold)).scalars().all()
        alerts = conn.execute(select(a.c.kind, func.count()).group_by(a.c.kind).order_by(a.c.kind)).all()
    out.print(
        "\n[bold]Staff alerts raised[/] (posted in Slack when it is configured): "
        + ", ".join(f"{n} {escape(kind.replace('_', ' '))}" for kind, n in alerts)
    )
    out.print(f"\n[bold]Aging as of {day}[/]  (credit hold: {', '.join(holds) or 'none'})")
    for rep in aging["reports"]:
        t = Table(title=rep["currency"], title_justify="left")
        cols = ("customer_ref", "name", *BUCKETS, "total")
        for col in cols:
            t.add_column(col, justify="left" if col in ("customer_ref", "name") else "right")
        for r in rep["rows"]:
            t.add_row(*(escape(str(r[k])) for k in cols))
        t.add_row("TOTAL", "", *(rep["totals"][k] for k in cols[2:]), style="bold")
        out.print(t)


async def _run(out: Console, directory: Path) -> None:
    # Everything pinned: the story is written for the packaged policy and templates, in UTC, whatever
    # the environment or a .env file says (init values win over both).
    settings = Settings(
        database_url=f"sqlite:///{directory / 'demo.db'}",
        policy_file=None,
        templates_dir=None,
        timezone="UTC",
        telegram_bot_token=None,
        slack_bot_token=None,
        _env_file=None,
    )
    clock = FixedClock(_at(START, 8))
    app = App(settings, clock=clock)
    api = LocalBotAPI()
    bot = ExtBot(TOKEN, request=api, get_updates_request=LocalBotAPI())
    from bot.handlers.telegram import build_application

    application = build_application(app, bot=bot)
    try:

        def load() -> dict[str, int]:
            sample = files("bot") / "sample_data"
            return {
                kind: import_file(app.engine, kind, Path(str(sample / f"{kind}.csv")), app.import_context()).rows
                for kind in ("customers", "documents", "payments")
            }

        imported = await asyncio.to_thread(load)
        await application.initialize()  # getMe, as `collectbot run` starts the bot
        await application.post_init(application)  # the command menu in each language
        demo = _Demo(out, app, clock, api, application)
        await _link(demo)
        _opening(demo, imported)
        for n in range(DAYS):
            day = START + timedelta(days=n)
            await demo.morning(day)
            for hour in SWEEP_HOURS:
                clock.set(_at(day, hour))
                await demo.sweep()
            await demo.afternoon(day)
            demo.print_day(day)
        _print_summary(app, out, START + timedelta(days=DAYS - 1))
    finally:
        await application.shutdown()
        lock = upgrade_lock_file(app.engine)
        app.engine.dispose()
        if lock is not None:  # the demo's database is its own: nobody else waits on this lock
            Path(lock).unlink(missing_ok=True)


def run_demo(out: Console) -> None:
    """Run the demo, printing to `out`; everything it writes lives in a temporary directory, removed after."""
    import logging

    quiet = [logging.getLogger(name) for name in ("collectbot", "telegram", "httpx", "alembic")]
    levels = [log.level for log in quiet]
    for log in quiet:
        log.setLevel(logging.WARNING)
    try:
        with tempfile.TemporaryDirectory(prefix="collectbot-demo-") as tmp:
            asyncio.run(_run(out, Path(tmp)))
    finally:
        for log, level in zip(quiet, levels, strict=True):
            log.setLevel(level)
