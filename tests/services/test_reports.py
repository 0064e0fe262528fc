"""Weekly summary, prospects, scorecard, a customer's metrics and the aging chart, on SQLite and PostgreSQL.

One small ledger, imported through the real importer, whose every figure is worked
out by hand in the comments.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import update

from bot.app import App
from bot.clock import FixedClock
from bot.config import Settings
from bot.domain.balances import BUCKETS
from bot.domain.months import Month
from bot.importer import import_file
from bot.services.aging_chart import aging_chart_png, aging_figure, chart_data, figure_size
from bot.services.balances import aging_document
from bot.services.customers import resolve
from bot.services.reports import customer_metrics, prospects_document, scorecard_document, weekly_document
from storage.tables import Customer

AS_OF = date(2026, 11, 23)
CUSTOMERS = """customer_ref,name,segment,currency,credit_limit,payment_terms_days,locale,timezone,country,\
sales_rep_slack_id,aliases
ALFA,Alfa Ltd,default,USD,10000,30,en,UTC,US,U1,
BETA,Beta GmbH,default,EUR,5000,30,en,UTC,DE,U1,
CHARLIE,Charlie Inc,default,USD,,30,en,UTC,US,U2,
DELTA,Delta SA,default,USD,1000,30,en,UTC,US,,
ECHO,Echo LLC,default,USD,,30,en,UTC,US,U3,
"""
DOCUMENTS = """doc_ref,customer_ref,type,issue_date,due_date,amount,currency,related_doc_ref
A-1,ALFA,invoice,2026-09-01,2026-10-01,1000.00,USD,
A-2,ALFA,invoice,2026-11-01,2026-12-01,2000.00,USD,
B-1,BETA,invoice,2026-07-01,2026-07-31,3000.00,EUR,
C-1,CHARLIE,invoice,2026-10-15,2026-11-14,500.00,USD,
D-1,DELTA,invoice,2026-11-10,2026-12-10,200.00,USD,
"""
PAYMENTS = """payment_ref,customer_ref,date,amount,currency,method,applies_to
P-A1,ALFA,2026-10-11,1000.00,USD,wire,A-1:1000.00
P-C1,CHARLIE,2026-11-20,100.00,USD,wire,
"""


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[App]:
    clock = FixedClock(datetime(2026, 11, 23, tzinfo=UTC))
    the_app = App(Settings(database_url=database_url, _env_file=None), clock=clock)
    ctx = the_app.import_context()
    for kind, text in (("customers", CUSTOMERS), ("documents", DOCUMENTS), ("payments", PAYMENTS)):
        path = tmp_path / f"{kind}.csv"
        path.write_text(text, encoding="utf-8")
        import_file(the_app.engine, kind, path, ctx)
    with the_app.engine.begin() as conn:  # Delta is on credit hold: no new sales
        conn.execute(update(Customer.__table__).where(Customer.__table__.c.ref == "DELTA").values(credit_hold=True))
    yield the_app
    the_app.engine.dispose()


def by_currency(doc: dict) -> dict[str, dict]:
    return {c["currency"]: c for c in doc["currencies"]}


def test_weekly_totals_agree_with_the_aging_report_and_dso_counts_back(app: App) -> None:
    with app.engine.connect() as conn:
        weekly = weekly_document(conn, AS_OF)
        aging = aging_document(conn, AS_OF)
    assert weekly["as_of"] == "2026-11-23" and weekly["rep_slack_id"] is None
    cur = by_currency(weekly)
    assert sorted(cur) == ["EUR", "USD"]
    for rep in aging["reports"]:
        mine = cur[rep["currency"]]
        assert mine["buckets"] == {b: rep["totals"][b] for b in BUCKETS}
        assert mine["total_open"] == rep["totals"]["total"]
        assert mine["unapplied_credit"] == rep["totals"]["unapplied_credit"]
    usd = cur["USD"]
    # open: A-2 2000 (current), C-1 400 (9 days overdue), D-1 200 (current)
    assert usd["buckets"] == {"current": "2200.00", "1-30": "400.00", "31-60": "0.00", "61-90": "0.00", "90+": "0.00"}
    assert (usd["overdue"], usd["customers_overdue"]) == ("400.00", 1)
    # receivables 2600: November (23 days) sold 2200, 400 left; October sold 500: 31 x 400/500 = 24.8
    assert usd["dso"]["days"] == "47.8" and usd["dso"]["capped"] is False
    assert usd["dso"]["receivables"] == "2600.00"
    assert [(m["month"], m["days"], m["sales"]) for m in usd["dso"]["months"]] == [
        ("2026-11", 23, "2200.00"), ("2026-10", 31, "500.00"),
    ]
    assert usd["top_overdue"] == [{
        "customer_ref": "CHARLIE", "name": "Charlie Inc", "sales_rep_slack_id": "U2",
        "overdue": "400.00", "90+": "0.00", "oldest_days_overdue": 9,
    }]
    eur = cur["EUR"]
    assert eur["buckets"]["90+"] == "3000.00" and eur["top_overdue"][0]["oldest_days_overdue"] == 115
    # 3000 owed, nothing sold since July, whose 3000 cover it: 23 + 31 + 30 + 31 + 31 days
    assert (eur["dso"]["days"], eur["dso"]["capped"]) == ("146.0", False)
    assert eur["dso"]["months"][-1]["month"] == "2026-07"


def test_a_rep_sees_only_their_own_customers_in_every_report(app: App) -> None:
    with app.engine.connect() as conn:
        weekly = weekly_document(conn, AS_OF, rep_slack_id="U1")
        prospects = prospects_document(conn, AS_OF, rep_slack_id="U2")
        card = scorecard_document(conn, Month(2026, 11), rep_slack_id="U1")
        stranger = weekly_document(conn, AS_OF, rep_slack_id="U404")
    assert weekly["rep_slack_id"] == "U1"
    assert by_currency(weekly)["USD"]["total_open"] == "2000.00"  # Alfa only
    assert by_currency(weekly)["EUR"]["top_overdue"][0]["customer_ref"] == "BETA"
    assert prospects["prospects"] == []  # Charlie has no credit limit
    assert [(r["currency"], [row["sales_rep_slack_id"] for row in r["rows"]]) for r in card["reports"]] == [
        ("EUR", ["U1"]), ("USD", ["U1"]),
    ]
    assert stranger["currencies"] == []


def test_prospects_have_nothing_overdue_credit_left_and_no_credit_hold(app: App) -> None:
    with app.engine.connect() as conn:
        doc = prospects_document(conn, AS_OF)
    # Beta is overdue, Charlie has no limit, Delta is on credit hold, Echo has no limit.
    assert doc["prospects"] == [{
        "customer_ref": "ALFA", "name": "Alfa Ltd", "sales_rep_slack_id": "U1", "currency": "USD",
        "credit_limit": "10000.00", "total_open": "2000.00", "available_credit": "8000.00",
        "payer_grade": "B", "average_days_late": "10.0",  # A-1 paid 10 days after its due date
    }]


def test_the_scorecard_lists_every_rep_with_zeros_and_adds_up(app: App) -> None:
    with app.engine.connect() as conn:
        nov = scorecard_document(conn, Month(2026, 11))
        oct_ = scorecard_document(conn, Month(2026, 10))
        empty = scorecard_document(conn, Month(2025, 1))

    def rows(doc: dict, currency: str) -> list[tuple]:
        rep = next(r for r in doc["reports"] if r["currency"] == currency)
        return [(r["sales_rep_slack_id"], r["invoiced"], r["collected"]) for r in rep["rows"]] + [
            ("TOTAL", rep["totals"]["invoiced"], rep["totals"]["collected"])
        ]

    assert nov["month"] == "2026-11"
    assert rows(nov, "USD") == [
        ("U1", "2000.00", "0.00"), ("U2", "0.00", "100.00"), ("U3", "0.00", "0.00"), (None, "200.00", "0.00"),
        ("TOTAL", "2200.00", "100.00"),
    ]
    assert rows(oct_, "USD") == [
        ("U1", "0.00", "1000.00"), ("U2", "500.00", "0.00"), ("U3", "0.00", "0.00"), (None, "0.00", "0.00"),
        ("TOTAL", "500.00", "1000.00"),
    ]
    assert rows(nov, "EUR")[-1] == ("TOTAL", "0.00", "0.00")
    assert [r["currency"] for r in empty["reports"]] == ["EUR", "USD"]  # reps still listed, all zeros
    assert all(row["invoiced"] == "0.00" for r in empty["reports"] for row in r["rows"])


def test_a_customers_metrics_give_dso_per_currency_and_the_rating(app: App) -> None:
    with app.engine.connect() as conn:
        alfa = customer_metrics(conn, resolve(conn, "ALFA"), AS_OF)
        beta = customer_metrics(conn, resolve(conn, "BETA"), AS_OF)
    # Alfa owes 2000, all sold this month: 23 x 2000/2000 days
    assert [(d["currency"], d["days"], d["capped"]) for d in alfa["dso"]] == [("USD", "23.0", False)]
    assert alfa["rating"]["grade"] == "B" and alfa["rating"]["average_days_late"] == "10.0"
    # Beta: 3000 open for 115 days, nothing paid: grade E
    assert beta["rating"]["grade"] == "E" and beta["rating"]["currencies"][0]["overdue_open"] == "3000.00"
    # Beta's 3000 were sold in July: November to August (23 + 31 + 30 + 31) sold nothing, July covers it all
    assert beta["dso"][0]["days"] == "146.0"


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_the_aging_chart_is_a_png_of_the_reports_buckets(app: App) -> None:
    with app.engine.connect() as conn:
        weekly = weekly_document(conn, AS_OF)
    png = aging_chart_png(weekly)
    assert png_size(png) == figure_size(weekly) == (800, 280)
    assert aging_chart_png(weekly) == png  # same report, same bytes
    fig = aging_figure(weekly)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["EUR", "USD"]
    assert ax.get_legend_handles_labels()[1] == list(BUCKETS)
    # one bar per (bucket, currency), bucket by bucket; widths are shares of the currency's open items
    widths = [round(p.get_width(), 6) for p in ax.patches]
    usd = [Decimal(by_currency(weekly)["USD"]["buckets"][b]) for b in BUCKETS]
    expected_usd = [round(float(a * 100 / sum(usd)), 6) for a in usd]
    assert widths[1::2] == expected_usd and widths[0::2] == [0, 0, 0, 0, 100]
    assert chart_data(weekly)[1] == ("USD", usd)
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["3,000.00", "2,600.00"]


def test_an_empty_ledger_still_draws_a_chart() -> None:
    weekly = {"as_of": "2026-11-23", "rep_slack_id": "U9", "currencies": []}
    assert png_size(aging_chart_png(weekly)) == (800, 220)


def test_who_sees_what(app: App) -> None:
    from bot.services.visibility import visibility_for

    staff = frozenset({"UCREDIT", "U1"})
    with app.engine.connect() as conn:
        credit = visibility_for(conn, "UCREDIT", staff)
        rep = visibility_for(conn, "U2", staff)
        rep_and_staff = visibility_for(conn, "U1", staff)
        stranger = visibility_for(conn, "U404", staff)
        blank = visibility_for(conn, "", staff)  # Delta has no rep: a blank id must not match it
        seen_by_rep = prospects_document(conn, AS_OF, rep_slack_id=rep.rep_slack_id)
    assert (credit.credit_staff, credit.rep_slack_id, credit.sees_nothing) == (True, None, False)
    assert (rep.credit_staff, rep.rep_slack_id) == (False, "U2") and rep.may_see("U2") and not rep.may_see("U1")
    assert rep_and_staff.credit_staff and rep_and_staff.may_see("U2")
    assert stranger.sees_nothing and not stranger.may_see("") and not stranger.may_see("U404")
    assert blank.sees_nothing and not blank.may_see("")
    assert seen_by_rep["rep_slack_id"] == "U2"
