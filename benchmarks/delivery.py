"""Sending benchmark (DESIGN.md "Performance targets": sending), in one command.

    .venv/bin/python benchmarks/delivery.py                      # 10,000 reminders, one process
    .venv/bin/python benchmarks/delivery.py --processes 2        # two processes sharing the budget
    .venv/bin/python benchmarks/delivery.py --reminders 300      # a quick look

A ledger of N customers, each with one invoice at its `first` step and one linked chat, is
imported into a fresh SQLite file (or --database). A local fake Bot API (tests/fakes,
aiohttp on 127.0.0.1) that answers 429 past 30 messages in any second, or 1 per chat, receives
the reminders from the real python-telegram-bot through collectbot's delivery path
(bot.scheduler.delivery: 3 in flight per process, the rate budget shared in the database).

Reported: the sweep's wall time net of sending (`Sweeper.record`: planning, rendering each
message, recording the outbox, one transaction per customer), the sending time, the sustained
rate (the fake's: messages - 1 over the span between the first and the last) as a share of
30/s (target >= 95 %), and the 429s the fake answered (target 0). Printed as a markdown table and
written to OUT/delivery.md (+ delivery.json).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))  # bot, storage, tests.fakes

START = datetime(2026, 2, 1, 12, tzinfo=UTC)  # the ledger's import
NOW = datetime(2026, 3, 12, 14, tzinfo=UTC)  # a Thursday: invoices due 2026-03-04 are at `first` (+7)
RATE = 30.0
CHAT0 = 10_000_000


def build_ledger(url: str, n: int, work: Path):  # noqa: ANN201
    """N customers with one invoice each and one linked chat; returns the App."""
    from sqlalchemy import insert, select

    from bot.app import App
    from bot.clock import FixedClock
    from bot.config import Settings
    from bot.importer import import_file
    from storage.tables import Contact, Customer

    app = App(Settings(database_url=url, _env_file=None), clock=FixedClock(START))
    ctx = app.import_context()
    customers = ["customer_ref,name,segment,currency,credit_limit,payment_terms_days,locale,timezone,country,"
                 "sales_rep_slack_id,aliases"]
    documents = ["doc_ref,customer_ref,type,issue_date,due_date,amount,currency,related_doc_ref"]
    for i in range(n):
        customers.append(f"B{i:06d},Bench customer {i},default,USD,,30,en,UTC,US,,")
        documents.append(f"INV-{i:06d},B{i:06d},invoice,2026-02-02,2026-03-04,{100 + i % 900}.00,USD,")
    for kind, lines in (("customers", customers), ("documents", documents)):
        path = work / f"{kind}.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        import_file(app.engine, kind, path, ctx)
    with app.engine.begin() as conn:
        ids = dict(conn.execute(select(Customer.ref, Customer.id)).all())
        conn.execute(insert(Contact), [
            {"customer_id": ids[f"B{i:06d}"], "name": "AP", "telegram_chat_id": CHAT0 + i, "verified": True,
             "reachable": True, "linked_at": START} for i in range(n)
        ])
    app.clock = FixedClock(NOW)
    return app


def make_bot(url: str, api_url: str, file_url: str, token: str):  # noqa: ANN201
    from telegram.ext import ExtBot
    from telegram.request import HTTPXRequest

    from bot.scheduler.ratelimit import SharedBudget, TelegramRateLimiter
    from storage.engine import make_engine

    engine = make_engine(url)
    return engine, ExtBot(token, base_url=api_url, base_file_url=file_url,
                          request=HTTPXRequest(connection_pool_size=8, read_timeout=15),
                          rate_limiter=TelegramRateLimiter(SharedBudget(engine), token))


async def deliver_all(url: str, api_url: str, file_url: str, token: str, renderer) -> dict:  # noqa: ANN001
    """Every pending message, through the one delivery path; status counts."""
    from collections import Counter

    from bot.handlers.telegram.delivery import TelegramDebtorChannel
    from bot.scheduler.delivery import Delivery

    engine, bot = make_bot(url, api_url, file_url, token)
    async with bot:
        results = await Delivery(engine, TelegramDebtorChannel(bot), renderer, lambda: NOW).deliver()
    engine.dispose()
    return {str(k): v for k, v in Counter(results.values()).items()}


def fake_main(argv: list[str]) -> None:
    """The fake Bot API as its own process (so it never competes with the sender for the GIL), N users."""
    from tests.fakes.telegram_api import FakeTelegram

    n = int(argv[0])
    fake = FakeTelegram(global_rate=int(RATE), chat_rate=1, port=0)
    for i in range(n):
        fake.add_user(CHAT0 + i, f"user {i}")

    def announce(_server) -> None:  # noqa: ANN001
        print(json.dumps({"api_url": fake.api_url, "file_url": fake.file_url, "token": fake.token,
                          "base_url": fake.base_url}), flush=True)

    fake.serve_forever(announce)


class FakeProcess:
    """The fake Bot API in a child process, driven over its control endpoint."""

    def __init__(self, n: int) -> None:
        self.proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "_fake", str(n)],
                                     stdout=subprocess.PIPE, text=True, cwd=ROOT)
        info = json.loads(self.proc.stdout.readline())  # type: ignore[union-attr]
        self.api_url, self.file_url, self.token = info["api_url"], info["file_url"], info["token"]
        self.base_url = info["base_url"]

    def stats(self) -> dict:
        import httpx

        return httpx.post(f"{self.base_url}/_fake/stats", json={}, timeout=30).json()["result"]

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def child_main(argv: list[str]) -> None:
    """A second (third...) process delivering from the same database: prints its status counts."""
    url, api_url, file_url, token = argv
    from messages import Renderer

    print(json.dumps(asyncio.run(deliver_all(url, api_url, file_url, token, Renderer(None)))), flush=True)


def run(n: int, processes: int, database: str | None, out: Path) -> dict:
    from bot.app import build_sweeper
    from bot.scheduler.channels import ConsoleAlertChannel

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    with tempfile.TemporaryDirectory(prefix="collectbot-bench-") as tmp:
        work = Path(tmp)
        url = database or f"sqlite:///{work / 'bench.db'}"
        t = time.perf_counter()
        app = build_ledger(url, n, work)
        setup = time.perf_counter() - t
        tg = FakeProcess(n)
        try:
            # Record (the sweep net of sending): no channel, so the messages are left for the deliverers.
            sweeper = build_sweeper(app, debtor=None, staff=ConsoleAlertChannel())
            t = time.perf_counter()
            report = sweeper.record(NOW)
            record_secs = time.perf_counter() - t
            recorded = sum(1 for m in report.messages if m.message_id is not None)
            t = time.perf_counter()
            if processes == 1:
                counts = asyncio.run(deliver_all(url, tg.api_url, tg.file_url, tg.token, app.renderer))
            else:
                cmd = [sys.executable, str(Path(__file__).resolve()), "_child", url, tg.api_url, tg.file_url, tg.token]
                children = [subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=ROOT)
                            for _ in range(processes)]
                counts = {}
                for child in children:
                    out_text, _ = child.communicate()
                    for k, v in json.loads(out_text.strip().splitlines()[-1]).items():
                        counts[k] = counts.get(k, 0) + v
            send_secs = time.perf_counter() - t
            stats = tg.stats()
        finally:
            tg.close()
        per_chat = max_per_chat(url)
        counts = outbox_statuses(url)
        app.engine.dispose()
    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "reminders": n,
        "processes": processes,
        "database": "sqlite" if database is None or database.startswith("sqlite") else "postgresql",
        "setup_seconds": round(setup, 1),
        "recorded": recorded,
        "sweep_seconds_net_of_sending": round(record_secs, 2),
        "sending_seconds": round(send_secs, 1),
        "delivered": stats["messages"],
        "statuses": {str(k): v for k, v in counts.items()},
        "most_to_one_chat": per_chat,
        "rate_per_s": round(stats["rate"], 2),
        "share_of_30_per_s": round(stats["rate"] / RATE, 4),
        "answered_429": stats["answered_429"],
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "delivery.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    table = "\n".join([
        "| number | value | target |",
        "|---|---|---|",
        f"| machine | {result['machine']} | |",
        f"| reminders recorded / delivered | {recorded} / {stats['messages']} ({counts}) | all, once |",
        f"| processes sharing the budget | {processes} ({result['database']}) | |",
        f"| sweep wall time net of sending | {record_secs:.2f} s | |",
        f"| sending time | {send_secs:.1f} s | |",
        f"| sustained rate | {stats['rate']:.2f}/s = {100 * stats['rate'] / RATE:.1f} % of 30/s | >= 95 % |",
        f"| 429 answered | {stats['answered_429']} | 0 |",
        f"| most messages to one chat | {per_chat} | 1 |",
    ])
    (out / "delivery.md").write_text(table + "\n", encoding="utf-8")
    print(table)
    return result


def outbox_statuses(url: str) -> dict[str, int]:
    """How many outbound messages are in each status (from the database: every deliverer's work)."""
    from sqlalchemy import func, select

    from storage.engine import make_engine
    from storage.tables import OutboundMessage

    engine = make_engine(url)
    t = OutboundMessage.__table__
    with engine.connect() as conn:
        counts = {str(k): n for k, n in conn.execute(select(t.c.status, func.count()).group_by(t.c.status))}
    engine.dispose()
    return counts


def max_per_chat(url: str) -> int:
    """The most messages any one chat received (each reminder once: 1)."""
    from sqlalchemy import func, select

    from storage.engine import make_engine
    from storage.tables import OutboundMessage

    engine = make_engine(url)
    t = OutboundMessage.__table__
    with engine.connect() as conn:
        most = conn.execute(select(func.count()).where(t.c.status == "sent").group_by(t.c.chat_id)
                            .order_by(func.count().desc()).limit(1)).scalar()
    engine.dispose()
    return most or 0


def results(scale: str, out: Path) -> list[dict]:
    """The runner's rows (benchmarks/__main__.py): 10,000 reminders (1,000 at scale "small") sent to the
    fake Bot API limited to 30/s, by one process and by two sharing the budget, on SQLite."""
    n = 10_000 if scale == "full" else 1_000
    rows = []
    for processes in (1, 2):
        r = run(n, processes, None, out)
        share = r["share_of_30_per_s"]
        once = r["delivered"] == r["reminders"] and r["most_to_one_chat"] == 1
        rows.append({
            "figure": f"sending {n:,} reminders to a local Bot API limited to 30/s, {processes} "
                      f"process{'es' if processes > 1 else ''} (`benchmarks/delivery.py`)",
            "measured": f"{r['rate_per_s']:.2f}/s = {100 * share:.1f} % of 30/s, {r['answered_429']} 429s, "
                        f"{r['delivered']:,} delivered, at most {r['most_to_one_chat']} to one chat",
            "target": "≥ 95 % of 30/s, zero 429",
            "met": share >= 0.95 and r["answered_429"] == 0 and once,
            "where": f"sending {r['sending_seconds']} s; the sweep that recorded them, net of sending, "
                     f"{r['sweep_seconds_net_of_sending']} s; each of a bot's 30 permits comes back one second "
                     "after its request was done (bot/scheduler/ratelimit.py)",
        })
    return rows


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_child":
        child_main(sys.argv[2:])
        return
    if len(sys.argv) > 1 and sys.argv[1] == "_fake":
        fake_main(sys.argv[2:])
        return
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--reminders", type=int, default=10_000)
    p.add_argument("--processes", type=int, default=1, help="deliverers sharing the rate budget (1 or more)")
    p.add_argument("--database", help="a SQLAlchemy URL (default: a fresh SQLite file)")
    p.add_argument("--out", type=Path, default=HERE / "out")
    args = p.parse_args()
    run(args.reminders, args.processes, args.database, args.out)


if __name__ == "__main__":
    main()
