"""The sweep's index after an import, on every backend (issue 11, 1.8).

An import leaves each item's `settled_on` as the ledger says, so the sweep's candidates
(storage.arming.armed_items) are the items open at `now`, from the first sweep on, dry runs
included; and a sweep replayed at a `now` before the settling payment still sees the item
open and reminds it ("Imports never compare dates with the real clock").
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select, text

from bot.app import App, build_sweeper
from bot.clock import FixedClock
from bot.config import Settings
from bot.domain.balances import compute_balance
from bot.domain.csv_rows import CUSTOMER_COLUMNS, DOCUMENT_COLUMNS, PAYMENT_COLUMNS, CustomerDefaults
from bot.importer import ImportContext, import_file
from storage import arming
from storage.ledger_reads import ledgers, open_ledgers
from storage.tables import Customer, Document

HEADERS = {
    k: ",".join(c)
    for k, c in (("customers", CUSTOMER_COLUMNS), ("documents", DOCUMENT_COLUMNS), ("payments", PAYMENT_COLUMNS))
}
CTX = ImportContext(
    CustomerDefaults(segments=frozenset({"default"})), earliest_action_offset=-3, now=datetime(2026, 3, 1, tzinfo=UTC)
)
START = date(2026, 1, 1)


def load(engine: Engine, tmp_path: Path, kind: str, lines: list[str]) -> None:
    path = tmp_path / f"{kind}-{len(list(tmp_path.iterdir()))}.csv"
    path.write_text("\n".join([HEADERS[kind], *lines]) + "\n", encoding="utf-8")
    import_file(engine, kind, path, CTX)


def settled(engine: Engine) -> dict[str, date | None]:
    d = Document.__table__
    with engine.connect() as conn:
        rows = conn.execute(select(d.c.ref, d.c.settled_on).where(d.c.type.in_(["invoice", "debit_note"])))
        return {ref: (day if day is None or isinstance(day, date) else date.fromisoformat(day)) for ref, day in rows}


def armed_refs(engine: Engine, now: datetime) -> set[str]:
    d = Document.__table__
    with engine.connect() as conn:
        ids = {i for found in arming.armed_items(conn, now).values() for i in found}
        return {ref for ref, i in conn.execute(select(d.c.ref, d.c.id)) if i in ids}


def assert_never_open_after(engine: Engine) -> None:
    """Every item with a settled_on is open on no day from then on (compute_balance over the stored ledger)."""
    days = settled(engine)
    with engine.connect() as conn:
        ids = list(conn.execute(select(Customer.id)).scalars())
        books = ledgers(conn, ids)
    for docs, pays in books.values():
        every = sorted({d.issue_date for d in docs} | {p.date for p in pays})
        for doc in docs:
            day = days.get(doc.ref)
            if day is None:
                continue
            for on in [day, *(d for d in every if d > day)]:
                assert doc.ref not in {i.ref for i in compute_balance(docs, pays, on).open_items}, (doc.ref, day, on)


def test_an_import_with_a_paid_history_arms_only_what_is_open(engine: Engine, tmp_path: Path) -> None:
    load(engine, tmp_path, "customers", [f"C{n},Customer {n},default,USD,,30,en,UTC,,," for n in range(3)])
    load(
        engine,
        tmp_path,
        "documents",
        [
            "INV-1,C0,invoice,2026-01-01,2026-01-31,100.00,USD,",  # paid by name
            "INV-2,C0,invoice,2026-01-05,2026-02-04,100.00,USD,",  # open
            "INV-3,C1,invoice,2026-01-01,2026-01-31,100.00,USD,",  # paid by an unallocated payment (oldest first)
            "INV-4,C1,invoice,2026-01-20,2026-02-19,100.00,USD,",  # left open by it
            "INV-5,C2,invoice,2026-01-01,2026-01-31,100.00,USD,",
            "CN-5,C2,credit_note,2026-01-10,,100.00,USD,INV-5",  # credited in full
        ],
    )
    load(engine, tmp_path, "payments", ["P1,C0,2026-02-10,100.00,USD,wire,INV-1:100", "P2,C1,2026-02-12,150.00,USD,,"])
    assert settled(engine) == {
        "INV-1": date(2026, 2, 10),
        "INV-2": None,
        "INV-3": date(2026, 2, 12),
        "INV-4": None,
        "INV-5": date(2026, 1, 10),
    }
    after = datetime(2026, 3, 10, 12, tzinfo=UTC)
    assert armed_refs(engine, after) == {"INV-2", "INV-4"}
    # Replayed before the payments came, the paid items are open, and armed.
    # (INV-4's next action is 3 days before its due date: 2026-02-16)
    assert armed_refs(engine, datetime(2026, 2, 9, 12, tzinfo=UTC)) == {"INV-1", "INV-2", "INV-3"}
    assert armed_refs(engine, datetime(2026, 2, 11, 12, tzinfo=UTC)) == {"INV-2", "INV-3"}
    assert_never_open_after(engine)


def test_a_later_import_reopens_what_it_unsettles(engine: Engine, tmp_path: Path) -> None:
    load(engine, tmp_path, "customers", ["C0,Customer,default,USD,,30,en,UTC,,,"])
    load(engine, tmp_path, "documents", ["INV-1,C0,invoice,2026-01-01,2026-01-31,100.00,USD,"])
    load(engine, tmp_path, "payments", ["P1,C0,2026-02-10,100.00,USD,wire,"])
    assert settled(engine) == {"INV-1": date(2026, 2, 10)}
    with engine.begin() as conn:  # the sweep set it aside
        conn.execute(Document.__table__.update().values(next_action_on=None))
    # An older invoice takes the unallocated payment first: INV-1 is open again, and armed.
    load(engine, tmp_path, "documents", ["INV-0,C0,invoice,2025-12-01,2025-12-31,100.00,USD,"])
    assert settled(engine) == {"INV-0": date(2026, 2, 10), "INV-1": None}
    assert armed_refs(engine, datetime(2026, 3, 10, tzinfo=UTC)) == {"INV-1"}
    # The payment grows to cover both: settled again. The payment shrinks: open again.
    load(engine, tmp_path, "payments", ["P1,C0,2026-02-10,200.00,USD,wire,"])
    assert settled(engine) == {"INV-0": date(2026, 2, 10), "INV-1": date(2026, 2, 10)}
    load(engine, tmp_path, "payments", ["P1,C0,2026-02-10,150.00,USD,wire,"])
    assert settled(engine)["INV-1"] is None
    assert_never_open_after(engine)


def test_a_sweep_replayed_before_the_payment_reminds_the_paid_item(database_url: str, tmp_path: Path) -> None:
    app = App(Settings(database_url=database_url, _env_file=None), clock=FixedClock(datetime(2026, 3, 1, tzinfo=UTC)))
    ctx = app.import_context()
    files = {
        "customers": ["C0,Customer,default,USD,,30,en,UTC,,,"],
        "documents": ["INV-1,C0,invoice,2026-01-01,2026-01-31,100.00,USD,"],
        "payments": ["P1,C0,2026-03-20,100.00,USD,wire,INV-1:100"],
    }
    for kind, lines in files.items():
        path = tmp_path / f"{kind}.csv"
        path.write_text("\n".join([HEADERS[kind], *lines]) + "\n", encoding="utf-8")
        import_file(app.engine, kind, path, ctx)
    sweeper = build_sweeper(app)
    before = sweeper.sweep(datetime(2026, 2, 10, 12, tzinfo=UTC), dry_run=True)  # a Tuesday, 10 days overdue
    assert [(m.customer_ref, [ref for ref, _ in m.items]) for m in before.messages] == [("C0", ["INV-1"])]
    assert sweeper.sweep(datetime(2026, 3, 24, 12, tzinfo=UTC), dry_run=True).messages == []
    app.engine.dispose()


CENTS = st.sampled_from(["1.00", "2.50", "5.00", "10.00"])
DAY = st.integers(0, 40).map(lambda n: (START + timedelta(days=n)).isoformat())


@st.composite
def files(draw: st.DrawFn) -> dict[str, list[str]]:
    docs = [
        f"INV-{n},C{draw(st.integers(0, 1))},{draw(st.sampled_from(['invoice', 'debit_note']))},{draw(DAY)},,"
        f"{draw(CENTS)},{draw(st.sampled_from(['USD', 'EUR']))},"
        for n in range(draw(st.integers(1, 5)))
    ]
    pays = []
    for n in range(draw(st.integers(0, 4))):
        target = draw(st.none() | st.integers(0, len(docs) - 1))
        parts = ""
        cust, cur = f"C{draw(st.integers(0, 1))}", draw(st.sampled_from(["USD", "EUR"]))
        if target is not None:
            ref, cust, _, _, _, _, cur, _ = docs[target].split(",")
            parts = f"{ref}:1.00"
        pays.append(f"P{n},{cust},{draw(DAY)},{draw(CENTS)},{cur},wire,{parts}")
    return {"documents": docs, "payments": pays}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files())
def test_what_the_import_stores_is_never_open_later(engine: Engine, tmp_path_factory, ledger) -> None:  # noqa: ANN001
    with engine.begin() as conn:
        for table in ("allocation", "payment", "document", "customer_key", "customer", "event"):
            conn.execute(text(f"DELETE FROM {table}"))
    tmp = tmp_path_factory.mktemp("ledger")
    load(engine, tmp, "customers", ["C0,Zero,default,USD,,30,en,UTC,,,", "C1,One,default,EUR,,30,en,UTC,,,"])
    load(engine, tmp, "documents", ledger["documents"])  # into empty tables: rows given, not read back
    if ledger["payments"]:
        load(engine, tmp, "payments", ledger["payments"])
    assert_never_open_after(engine)
    load(engine, tmp, "documents", ["CN-1,C0,credit_note,2026-01-20,,3.00,USD,"])  # read back from the ledger
    assert_never_open_after(engine)


def assert_open_ledgers_agree(engine: Engine) -> None:
    """What the sweep reads (open_ledgers: settled history summed) gives every customer the balance of
    the whole ledger on every day from the cut on, for cuts before, inside and after the ledger's dates."""
    with engine.connect() as conn:
        ids = list(conn.execute(select(Customer.id)).scalars())
        whole = ledgers(conn, ids)
        for cut in (0, 10, 20, 30, 41, 90):
            since = START + timedelta(days=cut)
            doc_ids: dict[int, dict[str, int]] = {}
            books = open_ledgers(conn, ids, since, doc_ids)
            assert set(books) == set(whole)
            for cid, (docs, pays, opening) in books.items():
                listed = {d.ref for d in docs}
                assert set(doc_ids.get(cid, {})) == listed
                for on in (since, since + timedelta(days=1), since + timedelta(days=15), since + timedelta(days=60)):
                    assert compute_balance(docs, pays, on, opening=opening) == compute_balance(*whole[cid], on), (
                        cid, since, on)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files())
def test_the_sweeps_read_of_the_settled_history_summed_gives_the_whole_ledgers_balance(
    engine: Engine, tmp_path_factory, ledger  # noqa: ANN001
) -> None:
    with engine.begin() as conn:
        for table in ("allocation", "payment", "document", "customer_key", "customer", "event"):
            conn.execute(text(f"DELETE FROM {table}"))
    tmp = tmp_path_factory.mktemp("ledger")
    load(engine, tmp, "customers", ["C0,Zero,default,USD,,30,en,UTC,,,", "C1,One,default,EUR,,30,en,UTC,,,"])
    load(engine, tmp, "documents", ledger["documents"])
    if ledger["payments"]:
        load(engine, tmp, "payments", ledger["payments"])
    assert_open_ledgers_agree(engine)
    ref, cust, _, _, _, _, cur, _ = ledger["documents"][0].split(",")
    load(engine, tmp, "documents", [f"CN-1,{cust},credit_note,2026-01-20,,3.00,{cur},{ref}"])  # read back
    assert_open_ledgers_agree(engine)


def test_a_payment_for_a_settled_and_an_open_invoice_is_read_with_both(engine: Engine, tmp_path: Path) -> None:
    load(engine, tmp_path, "customers", ["C0,Zero,default,USD,,30,en,UTC,,,"])
    load(engine, tmp_path, "documents", [
        "INV-1,C0,invoice,2026-01-01,,10.00,USD,", "INV-2,C0,invoice,2026-01-05,,10.00,USD,",
        "INV-3,C0,invoice,2026-01-06,,10.00,USD,", "CN-1,C0,credit_note,2026-01-07,,4.00,USD,INV-1",
    ])
    load(engine, tmp_path, "payments", [
        "P1,C0,2026-01-10,12.00,USD,wire,INV-1:6.00|INV-2:6.00",  # settles INV-1 (with CN-1), half of INV-2
        "P2,C0,2026-01-11,3.00,USD,wire,",  # to the oldest open: INV-2
    ])
    with engine.connect() as conn:
        (cid,) = conn.execute(select(Customer.id)).scalars()
        docs, pays, opening = open_ledgers(conn, [cid], date(2026, 2, 1))[cid]
    assert sorted(d.ref for d in docs) == ["CN-1", "INV-2", "INV-3"]  # INV-1 summed; every credit note listed
    assert [p.ref for p in pays] == ["P1"]  # names INV-2; P2 summed
    balance = compute_balance(docs, pays, date(2026, 2, 1), opening=opening)
    assert {i.ref: i.open_cents for i in balance.open_items} == {"INV-2": 100, "INV-3": 1000}
    assert balance.open_items == compute_balance(*ledgers(engine.connect(), [cid])[cid], date(2026, 2, 1)).open_items
