"""The daily digest on SQLite and PostgreSQL, from what real sweeps and the case services record.

The company is in São Paulo (UTC-3), the debtors in UTC: "today" is São Paulo's date.
Foxtrot's invoice climbs the ladder to a formal notice on the digest day (its chat is
linked: sent); India, with no chat, gets its first reminder that day (no_channel); Golf
broke a promise that fell due the day before and claimed a payment that credit staff have
not decided (which pauses its reminders); Hotel promised to pay on the digest day and has
an open dispute.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, insert

from bot.app import App, build_sweeper
from bot.clock import FixedClock
from bot.config import Settings
from bot.importer import import_file
from bot.scheduler.sweep import SweepReport
from bot.services.cases import make_promise, open_dispute
from bot.services.digest import day_window, digest_document
from storage.tables import Allocation, Contact, Customer, Payment, StaffAlert

COMPANY = ZoneInfo("America/Sao_Paulo")
DAY = date(2026, 11, 26)  # a Thursday (Thanksgiving in the US: the debtors have no country)
CUSTOMERS = """customer_ref,name,segment,currency,credit_limit,payment_terms_days,locale,timezone,country,\
sales_rep_slack_id,aliases
FOXTROT,Foxtrot <Ltd>,default,USD,,30,en,UTC,,U1,
GOLF,Golf & Co,default,USD,,30,en,UTC,,U2,
HOTEL,Hotel SA,default,EUR,,30,en,UTC,ES,U1,
INDIA,India Pvt,default,USD,,30,en,UTC,,U2,
"""
DOCUMENTS = """doc_ref,customer_ref,type,issue_date,due_date,amount,currency,related_doc_ref
F-1,FOXTROT,invoice,2026-09-01,2026-10-01,1000.00,USD,
G-1,GOLF,invoice,2026-10-19,2026-11-18,500.00,USD,
H-1,HOTEL,invoice,2026-11-20,2026-12-20,700.00,EUR,
H-2,HOTEL,invoice,2026-11-20,2026-12-20,300.00,EUR,
I-1,INDIA,invoice,2026-10-20,2026-11-19,400.00,USD,
"""


def at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), UTC)


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[tuple[Engine, list[SweepReport]]]:
    app = App(Settings(database_url=database_url, _env_file=None), clock=FixedClock(at(date(2026, 11, 1), 12)))
    ctx = app.import_context()
    for kind, text in (("customers", CUSTOMERS), ("documents", DOCUMENTS)):
        (tmp_path / f"{kind}.csv").write_text(text, encoding="utf-8")
        import_file(app.engine, kind, tmp_path / f"{kind}.csv", ctx)
    engine, sweeper = app.engine, build_sweeper(app)
    reports = []
    with engine.begin() as conn:
        make_promise(conn, "G-1", promised=date(2026, 11, 25), amount_cents=50_000, actor="debtor:7",
                     now=at(date(2026, 11, 20), 12))
        make_promise(conn, "H-1", promised=DAY, amount_cents=70_000, actor="debtor:8", now=at(date(2026, 11, 21), 12))
        open_dispute(conn, ["H-2"], reason="wrong_amount", text="<b>billed twice</b>", actor="debtor:8",
                     now=at(date(2026, 11, 20), 2))  # 23:00 on the 19th in São Paulo: 7 days open
        golf = conn.execute(Customer.__table__.select().where(Customer.__table__.c.ref == "GOLF")).one()
        pay_id = conn.execute(insert(Payment.__table__).values(
            ref="CLAIM-1", customer_id=golf.id, date=date(2026, 11, 24), amount_cents=50_000, currency="USD",
            method="transfer", status="claimed", source="debtor", reference="TX 99", created_at=at(DAY, 1),
        )).inserted_primary_key[0]  # 22:00 on the 25th in São Paulo: 1 day waiting
        conn.execute(insert(Allocation.__table__).values(payment_id=pay_id, document_ref="G-1", amount_cents=50_000))
        foxtrot = conn.execute(Customer.__table__.select().where(Customer.__table__.c.ref == "FOXTROT")).one()
        conn.execute(insert(Contact.__table__).values(
            customer_id=foxtrot.id, name="AP", telegram_chat_id=1001, verified=True, reachable=True,
            linked_at=at(date(2026, 11, 1), 12),
        ))
    # Foxtrot: first, second, final, then the formal notice on DAY (min_gap_days 3, one step per sweep)
    for day in (date(2026, 11, 16), date(2026, 11, 19), date(2026, 11, 23), DAY):
        reports.append(sweeper.sweep(at(day, 14)))
    yield engine, reports
    engine.dispose()


def test_the_digest_shows_what_happened_on_the_companys_date(world: tuple[Engine, list[SweepReport]]) -> None:
    engine, reports = world
    with engine.connect() as conn:
        doc = digest_document(conn, DAY, COMPANY)
    assert (doc["date"], doc["timezone"], doc["rep_slack_id"]) == ("2026-11-26", "America/Sao_Paulo", None)

    # the reminders are the last sweep's messages, counted from the outbox
    today = Counter(m.status for m in reports[-1].messages)
    assert today == {"sent": 1, "no_channel": 1}  # Foxtrot's formal notice, India's first reminder
    assert doc["reminders"]["messages"] == {"sent": 1, "no_channel": 1, "unknown": 0, "failed": 0, "sending": 0}
    assert doc["reminders"]["by_step"] == {"first": 1, "formal_notice": 1}
    assert sum(doc["reminders"]["by_step"].values()) == len(reports[-1].messages)
    assert doc["reminders"]["items"]["sent"] + doc["reminders"]["items"]["no_channel"] == 2

    assert [(e["customer_ref"], e["name"], e["kind"]) for e in doc["escalations"]] == [
        ("FOXTROT", "Foxtrot <Ltd>", "formal_notice")
    ]
    assert doc["escalations"][0]["at"] == "2026-11-26T11:00:00-03:00"
    assert [(p["customer_ref"], p["doc_refs"]) for p in doc["promises_broken"]] == [("GOLF", ["G-1"])]
    assert doc["promises_due"] == [{
        "customer_ref": "HOTEL", "name": "Hotel SA", "sales_rep_slack_id": "U1", "promise_id": 2,
        "doc_ref": "H-1", "promised_date": "2026-11-26", "amount": "700.00", "currency": "EUR", "status": "open",
    }]
    [dispute] = doc["disputes_open"]
    assert (dispute["customer_ref"], dispute["doc_refs"], dispute["reason"], dispute["text"], dispute["age_days"]) == (
        "HOTEL", ["H-2"], "wrong_amount", "<b>billed twice</b>", 7
    )
    [claim] = doc["claims_waiting"]
    assert (claim["payment_ref"], claim["amount"], claim["doc_refs"], claim["reference"], claim["age_days"]) == (
        "CLAIM-1", "500.00", ["G-1"], "TX 99", 1
    )
    assert claim["claimed_at"] == "2026-11-25T22:00:00-03:00"
    assert doc["counts"] == {
        "reminders_sent": 1, "escalations": 1, "promises_due": 1, "promises_broken": 1,
        "disputes_open": 1, "claims_waiting": 1,
    }


def test_a_rep_sees_only_their_customers(world: tuple[Engine, list[SweepReport]]) -> None:
    engine, _ = world
    with engine.connect() as conn:
        u1 = digest_document(conn, DAY, COMPANY, rep_slack_id="U1")
        u2 = digest_document(conn, DAY, COMPANY, rep_slack_id="U2")
        nobody = digest_document(conn, DAY, COMPANY, rep_slack_id="U404")
    assert [e["customer_ref"] for e in u1["escalations"]] == ["FOXTROT"]
    assert u1["promises_broken"] == [] and u1["claims_waiting"] == []
    assert [d["customer_ref"] for d in u1["disputes_open"]] == ["HOTEL"]
    assert u1["reminders"]["by_step"] == {"formal_notice": 1}
    assert u2["escalations"] == [] and u2["disputes_open"] == [] and u2["promises_due"] == []
    assert u2["reminders"]["by_step"] == {"first": 1} and u2["counts"]["reminders_sent"] == 0
    assert [c["customer_ref"] for c in u2["claims_waiting"]] == ["GOLF"]
    assert all(v == 0 for v in nobody["counts"].values())
    assert sum(nobody["reminders"]["messages"].values()) == 0


def test_the_day_runs_from_local_midnight_to_local_midnight(world: tuple[Engine, list[SweepReport]]) -> None:
    engine, _ = world
    start, end = day_window(DAY, COMPANY)
    assert (start, end) == (at(DAY, 3), at(DAY + timedelta(days=1), 3))
    with engine.begin() as conn:
        cid = conn.execute(Customer.__table__.select().where(Customer.__table__.c.ref == "HOTEL")).one().id
        for key, when in (("late", end - timedelta(minutes=1)), ("next", end), ("early", start - timedelta(seconds=1))):
            conn.execute(insert(StaffAlert.__table__).values(
                key=key, customer_id=cid, kind="plan_broken", text="", status="posted", created_at=when,
            ))
    with engine.connect() as conn:
        kinds = [(e["customer_ref"], e["kind"], e["at"]) for e in digest_document(conn, DAY, COMPANY)["escalations"]]
        yesterday = digest_document(conn, DAY - timedelta(days=1), COMPANY)
    assert kinds == [("FOXTROT", "formal_notice", "2026-11-26T11:00:00-03:00"),
                     ("HOTEL", "plan_broken", "2026-11-26T23:59:00-03:00")]
    assert [e["at"] for e in yesterday["escalations"]] == ["2026-11-25T23:59:59-03:00"]
    assert yesterday["promises_broken"] == []  # found broken on the 26th
    assert [(p["customer_ref"], p["status"]) for p in yesterday["promises_due"]] == [("GOLF", "broken")]


def test_a_dst_day_has_its_own_length() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    start, end = day_window(date(2026, 10, 25), berlin)  # clocks go back: 25 hours
    assert end - start == timedelta(hours=25)


def test_each_customers_reminder_of_a_sweep_is_one_message_in_the_digest(database_url: str, tmp_path: Path) -> None:
    """Three customers reminded by one sweep are three messages, not one (the sweep's rows carry no message key)."""
    app = App(Settings(database_url=database_url, _env_file=None), clock=FixedClock(at(date(2026, 11, 1), 12)))
    ctx = app.import_context()
    header = CUSTOMERS.splitlines()[0] + "\n"
    customers = header + "".join(f"K{i},Kilo {i},default,USD,,30,en,UTC,,U1,\n" for i in range(3))
    documents = DOCUMENTS.splitlines()[0] + "\n" + "".join(
        f"K-{i}-{j},K{i},invoice,2026-09-01,2026-10-01,100.00,USD,\n" for i in range(3) for j in range(2))
    for kind, text in (("customers", customers), ("documents", documents)):
        (tmp_path / f"{kind}.csv").write_text(text, encoding="utf-8")
        import_file(app.engine, kind, tmp_path / f"{kind}.csv", ctx)
    report = build_sweeper(app).sweep(at(DAY, 14))
    assert Counter(m.status for m in report.messages) == {"no_channel": 3}
    with app.engine.connect() as conn:
        doc = digest_document(conn, DAY, COMPANY)
    app.engine.dispose()
    assert doc["reminders"]["messages"]["no_channel"] == 3
    assert doc["reminders"]["items"]["no_channel"] == 6
    assert doc["reminders"]["by_step"] == {"first": 3}
