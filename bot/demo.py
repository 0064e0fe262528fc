"""`collectbot demo`: the whole story on a throw-away SQLite database, deterministic.

The bundled sample ledger, four debtors with a linked chat, then 60 simulated
days of sweeps (13:00 and 16:00 UTC): reminders escalate per segment, a
dispute pauses one invoice, a promise is kept, a plan is approved (its first
instalment is announced, goes unpaid, and the broken plan is escalated), formal
notices go out. Printed as a timeline, then the balances and aging at the end.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, date, datetime, timedelta
from importlib.resources import files
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import select

from bot.app import App, build_sweeper
from bot.clock import FixedClock
from bot.config import Settings
from bot.domain.balances import BUCKETS
from bot.importer import import_file
from bot.services import cases
from bot.services.balances import aging_document, balance_document
from bot.services.customers import resolve
from storage import events, ledger_writes
from storage.tables import Contact, Customer, Event

START = date(2026, 11, 2)
DAYS = 60
LINKED = {"ACME": (1001, "en"), "CAFEZ": (1002, "pt"), "PARS": (1003, "fa"), "MALAGA": (1004, "es")}


def _at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def _story(app: App, day: date) -> None:
    """The debtors' and staff's moves on the days they happen."""
    now = app.now()
    with app.engine.begin() as conn:
        if day == date(2026, 11, 5):
            cases.open_dispute(
                conn,
                ["INV-1087"],
                reason="price",
                text="Unit price differs from our PO 4471",
                actor="debtor:1001",
                now=now,
            )
        if day == date(2026, 11, 10):
            cases.make_promise(
                conn, "INV-1007", promised=date(2026, 11, 20), amount_cents=0, actor="debtor:1002", now=now
            )
        if day == date(2026, 11, 18):
            cafe = resolve(conn, "CAFEZ")
            item = next(i for i in balance_document(conn, cafe, day)["open_items"] if i["doc_ref"] == "INV-1007")
            ledger_writes.upsert_payments(
                conn,
                [
                    {
                        "ref": "PAY-DEMO-1",
                        "customer_id": cafe.id,
                        "customer_ref": cafe.ref,
                        "date": day,
                        "amount_cents": int(item["open_amount"].replace(".", "")),
                        "currency": item["currency"],
                        "method": "pix",
                        "allocations": [("INV-1007", int(item["open_amount"].replace(".", "")))],
                    }
                ],
            )
            ledger_writes.rearm_customers(conn, [cafe.id])
        if day == date(2026, 11, 12):
            cases.propose_plan(conn, ["INV-1044"], total_cents=16585000, count=3, actor="debtor:1005", now=now)
        if day == date(2026, 11, 13):
            cases.decide_plan(conn, 1, approve=True, actor="slack:U0CREDIT1", now=now, today=day)


def _link_contacts(app: App) -> None:
    c = Customer.__table__
    with app.engine.begin() as conn:
        for ref, (chat, locale) in LINKED.items():
            cid = conn.execute(select(c.c.id).where(c.c.ref == ref)).scalar_one()
            conn.execute(
                Contact.__table__.insert().values(
                    customer_id=cid,
                    name="AP",
                    telegram_chat_id=chat,
                    locale=locale,
                    verified=True,
                    reachable=True,
                    linked_at=app.now(),
                )
            )
            events.record(conn, at=app.now(), kind="chat_linked", actor=f"debtor:{chat}", customer_id=cid)


def run_demo(out: Console) -> None:
    with tempfile.TemporaryDirectory(prefix="collectbot-demo-") as tmp:
        settings = Settings(database_url=f"sqlite:///{Path(tmp) / 'demo.db'}", _env_file=None)
        clock = FixedClock(_at(START, 8))
        app = App(settings, clock=clock)
        sample = files("bot") / "sample_data"
        for kind in ("customers", "documents", "payments"):
            res = import_file(app.engine, kind, Path(str(sample / f"{kind}.csv")), app.import_context())
            out.print(f"imported {res.rows} {kind}")
        _link_contacts(app)
        sweeper = build_sweeper(app)
        out.print(f"\n[bold]Simulating {DAYS} days from {START}[/] (sweeps at 13:00 and 16:00 UTC)\n")
        for n in range(DAYS):
            day = START + timedelta(days=n)
            clock.set(_at(day, 12))
            _story(app, day)
            for hour in (13, 16):
                clock.set(_at(day, hour))
                sweeper.sweep(clock.now())
        _print_timeline(app, out)
        _print_summary(app, out, START + timedelta(days=DAYS - 1))
        app.engine.dispose()


def _print_timeline(app: App, out: Console) -> None:
    e, c = Event.__table__, Customer.__table__
    with app.engine.connect() as conn:
        rows = conn.execute(
            select(e.c.at, e.c.kind, e.c.doc_refs, e.c.text, c.c.ref)
            .join(c, c.c.id == e.c.customer_id)
            .where(e.c.kind != "chat_linked")
            .order_by(e.c.at, e.c.id)
        ).all()
    current = None
    for at, kind, refs, text, cref in rows:
        if at.date() != current:
            current = at.date()
            out.print(f"[bold]{current}[/]")
        docs = f" [{', '.join(refs)}]" if refs else ""
        out.print(f"  {at:%H:%M} {escape(cref):<10} {kind:<16}{escape(docs)} {escape(text)}")


def _print_summary(app: App, out: Console, day: date) -> None:
    with app.engine.connect() as conn:
        aging = aging_document(conn, day)
        holds = conn.execute(select(Customer.__table__.c.ref).where(Customer.__table__.c.credit_hold)).scalars().all()
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
