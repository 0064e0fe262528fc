"""The bulk import path on every backend: upsert by ref, ids, allocations, keys, indexes.

SQLite inserts new refs and updates known ones with plain executemany (and rebuilds plain
indexes after a load that at least doubles a table); PostgreSQL upserts with ON CONFLICT.
Both must leave the same ledger behind.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, select, update
from sqlalchemy.exc import IntegrityError

from bot import importer
from bot.domain.csv_rows import CUSTOMER_COLUMNS, DOCUMENT_COLUMNS, PAYMENT_COLUMNS, CustomerDefaults
from bot.importer import ImportContext, import_file
from storage import import_reads, ledger_writes
from storage.tables import Allocation, Customer, CustomerKey, Document, Payment

CUSTOMERS, DOCUMENTS, PAYMENTS = (",".join(c) for c in (CUSTOMER_COLUMNS, DOCUMENT_COLUMNS, PAYMENT_COLUMNS))
OFFSET = -3
CTX = ImportContext(
    customer_defaults=CustomerDefaults(segments=frozenset({"default"})),
    earliest_action_offset=OFFSET,
    now=datetime(2026, 3, 1, 12, tzinfo=UTC),
)


def load(engine: Engine, tmp_path: Path, kind: str, *lines: str) -> int:
    path = tmp_path / f"{kind}-{len(list(tmp_path.iterdir()))}.csv"
    header = {"customers": CUSTOMERS, "documents": DOCUMENTS, "payments": PAYMENTS}[kind]
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return import_file(engine, kind, path, CTX).rows


def documents(engine: Engine) -> dict[str, tuple]:
    d = Document.__table__
    cols = (d.c.ref, d.c.id, d.c.customer_id, d.c.type, d.c.issue_date, d.c.due_date, d.c.amount_cents)
    cols += (d.c.currency, d.c.related_ref, d.c.next_action_on)
    with engine.connect() as conn:
        return {row[0]: tuple(row[1:]) for row in conn.execute(select(*cols))}


def customer_ids(engine: Engine) -> dict[str, int]:
    c = Customer.__table__
    with engine.connect() as conn:
        return dict(conn.execute(select(c.c.ref, c.c.id)).all())


def indexes(engine: Engine) -> dict[str, list]:
    with engine.connect() as conn:
        found = inspect(conn)
        names = ("customer", "customer_key", "document", "payment", "allocation")
        return {t: sorted((i["name"], i["column_names"], i["unique"]) for i in found.get_indexes(t)) for t in names}


def customer_line(ref: str, name: str, aliases: str = "", terms: str = "30") -> str:
    return f"{ref},{name},default,USD,,{terms},en,UTC,US,,{aliases}"


def test_reimport_updates_known_refs_and_inserts_new_ones(engine: Engine, tmp_path: Path) -> None:
    load(engine, tmp_path, "customers", customer_line("C1", "One"), customer_line("C2", "Two", terms="10"))
    load(
        engine,
        tmp_path,
        "documents",
        "INV-1,C1,invoice,2026-01-10,2026-02-01,10.00,USD,",
        "INV-2,C1,invoice,2026-01-10,,20.00,USD,",
    )
    before = documents(engine)
    with engine.begin() as conn:  # the sweep found INV-1 settled, say
        d = Document.__table__
        conn.execute(update(d).where(d.c.ref == "INV-1").values(next_action_on=None))

    assert (
        load(
            engine,
            tmp_path,
            "documents",
            "INV-3,C2,invoice,2026-02-01,,30.00,USD,",
            "INV-1,C1,invoice,2026-01-10,2026-03-01,12.00,USD,",
            "CN-1,C2,credit_note,2026-02-02,,5.00,USD,INV-3",
        )
        == 3
    )

    after = documents(engine)
    ids = customer_ids(engine)
    assert set(after) == {"INV-1", "INV-2", "INV-3", "CN-1"}
    due = date(2026, 3, 1)
    off = timedelta(days=OFFSET)
    assert after["INV-1"] == (
        before["INV-1"][0],
        ids["C1"],
        "invoice",
        date(2026, 1, 10),
        due,
        1200,
        "USD",
        None,
        due + off,
    )
    assert after["INV-2"] == before["INV-2"]
    assert after["INV-2"][4] == date(2026, 2, 9)  # issue + the customer's 30 days
    due3 = date(2026, 2, 11)  # issue + C2's 10 days
    assert after["INV-3"][1:] == (ids["C2"], "invoice", date(2026, 2, 1), due3, 3000, "USD", None, due3 + off)
    assert after["CN-1"][1:] == (ids["C2"], "credit_note", date(2026, 2, 2), None, 500, "USD", "INV-3", None)


def test_reimported_payments_replace_their_allocations(engine: Engine, tmp_path: Path) -> None:
    load(engine, tmp_path, "customers", customer_line("C1", "One"))
    load(
        engine,
        tmp_path,
        "documents",
        "INV-1,C1,invoice,2026-01-10,,10.00,USD,",
        "INV-2,C1,invoice,2026-01-11,,20.00,USD,",
    )
    load(engine, tmp_path, "payments", "PAY-1,C1,2026-02-01,5.00,USD,wire,INV-1:5", "PAY-2,C1,2026-02-02,1.00,USD,,")
    p, a = Payment.__table__, Allocation.__table__
    with engine.begin() as conn:
        first_id = conn.execute(select(p.c.id).where(p.c.ref == "PAY-1")).scalar_one()
        conn.execute(update(p).where(p.c.ref == "PAY-1").values(status="rejected"))

    load(
        engine,
        tmp_path,
        "payments",
        "PAY-3,C1,2026-02-03,2.00,USD,pix,INV-1:1|INV-2:1",
        "PAY-1,C1,2026-02-01,6.00,USD,wire,INV-2:3.00",
    )

    with engine.connect() as conn:
        pays = {
            r[0]: tuple(r[1:]) for r in conn.execute(select(p.c.ref, p.c.id, p.c.amount_cents, p.c.status, p.c.source))
        }
        allocs = sorted(
            conn.execute(
                select(p.c.ref, a.c.document_ref, a.c.amount_cents, a.c.position).join(p, p.c.id == a.c.payment_id)
            )
        )
        dates = dict(conn.execute(select(p.c.ref, p.c.date)).all())
    assert pays["PAY-1"] == (first_id, 600, "confirmed", "import")
    assert pays["PAY-2"][1:] == (100, "confirmed", "import")
    assert pays["PAY-3"][1:] == (200, "confirmed", "import")
    assert dates == {"PAY-1": date(2026, 2, 1), "PAY-2": date(2026, 2, 2), "PAY-3": date(2026, 2, 3)}
    assert allocs == [("PAY-1", "INV-2", 300, 0), ("PAY-3", "INV-1", 100, 0), ("PAY-3", "INV-2", 100, 1)]


def test_reimported_customers_keep_their_hold_and_get_new_name_keys(engine: Engine, tmp_path: Path) -> None:
    load(engine, tmp_path, "customers", customer_line("C1", "One Ltd", "Old Name"), customer_line("C2", "Two"))
    c, k = Customer.__table__, CustomerKey.__table__
    with engine.begin() as conn:
        conn.execute(update(c).where(c.c.ref == "C1").values(credit_hold=True))

    load(engine, tmp_path, "customers", customer_line("C3", "Three"), customer_line("C1", "One Ltd", "New Name|NN"))

    ids = customer_ids(engine)
    with engine.connect() as conn:
        holds = dict(conn.execute(select(c.c.ref, c.c.credit_hold)).all())
        aliases = dict(conn.execute(select(c.c.ref, c.c.aliases)).all())
        keys = sorted(conn.execute(select(k.c.customer_id, k.c.key)).all())
    assert holds == {"C1": True, "C2": False, "C3": False}
    assert aliases == {"C1": "New Name|NN", "C2": "", "C3": ""}
    expected = [(ids["C1"], key) for key in ("c1", "new name", "nn", "one")]  # "Ltd": a legal form
    expected += [(ids["C2"], "c2"), (ids["C2"], "two"), (ids["C3"], "c3"), (ids["C3"], "three")]
    assert keys == sorted(expected)


@pytest.mark.parametrize("params", [999, 25])  # rows per INSERT: 25 // columns, and the rest one by one
def test_a_load_that_doubles_the_tables_keeps_every_index(
    engine: Engine, tmp_path: Path, monkeypatch, params: int
) -> None:
    monkeypatch.setattr(ledger_writes, "REBUILD_MIN_ROWS", 1)
    monkeypatch.setattr(ledger_writes, "SQLITE_MAX_PARAMS", params)
    before = indexes(engine)
    load(engine, tmp_path, "customers", *(customer_line(f"C{i}", f"Name {i}", f"Alias {i}") for i in range(50)))
    load(engine, tmp_path, "documents", *(f"INV-{i},C{i % 50},invoice,2026-01-10,,1.00,USD," for i in range(200)))
    load(engine, tmp_path, "payments", *(f"PAY-{i},C{i % 50},2026-02-01,1.00,USD,,INV-{i}:1" for i in range(100)))
    assert indexes(engine) == before
    ids, docs = customer_ids(engine), documents(engine)
    assert len(docs) == 200
    assert all(docs[f"INV-{i}"][1] == ids[f"C{i % 50}"] for i in range(200))
    with engine.connect() as conn:
        k = CustomerKey.__table__
        keys = set(conn.execute(select(k.c.customer_id, k.c.key)).all())
    assert keys == {(ids[f"C{i}"], key) for i in range(50) for key in (f"c{i}", f"name {i}", f"alias {i}")}
    with engine.connect() as conn:
        a, p = Allocation.__table__, Payment.__table__
        pairs = conn.execute(select(p.c.ref, a.c.document_ref).join(p, p.c.id == a.c.payment_id)).all()
    assert sorted(pairs) == sorted((f"PAY-{i}", f"INV-{i}") for i in range(100))


def test_a_failure_after_the_writes_leaves_nothing_and_every_index(engine: Engine, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(ledger_writes, "REBUILD_MIN_ROWS", 1)
    load(engine, tmp_path, "customers", customer_line("C1", "One"))
    before = indexes(engine)

    def fail(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(importer.events, "record", fail)
    with pytest.raises(RuntimeError):
        load(engine, tmp_path, "documents", *(f"INV-{i},C1,invoice,2026-01-10,,1.00,USD," for i in range(20)))
    assert documents(engine) == {}
    assert indexes(engine) == before


def test_foreign_keys_are_enforced_again_after_an_import(engine: Engine, tmp_path: Path, monkeypatch) -> None:
    """SQLite does not check them during an import's transaction (the import checks every reference
    itself); the connection goes back to the pool checking them, after a refused or failed import too."""
    load(engine, tmp_path, "customers", customer_line("C1", "One"))
    with pytest.raises(importer.ImportFailed):
        load(engine, tmp_path, "documents", "INV-1,C404,invoice,2026-01-10,,1.00,USD,")
    monkeypatch.setattr(importer.events, "record", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom")))
    with pytest.raises(RuntimeError):
        load(engine, tmp_path, "documents", "INV-1,C1,invoice,2026-01-10,,1.00,USD,")
    monkeypatch.undo()
    load(engine, tmp_path, "documents", "INV-1,C1,invoice,2026-01-10,,1.00,USD,")
    assert documents(engine)["INV-1"][1] == customer_ids(engine)["C1"]
    d = Document.__table__
    with engine.connect() as conn, pytest.raises(IntegrityError):  # pool_size connections: each was used above
        with conn.begin():
            conn.execute(
                d.insert().values(
                    ref="X",
                    customer_id=999_999,
                    type="invoice",
                    issue_date=date(2026, 1, 1),
                    amount_cents=1,
                    currency="USD",
                )
            )


@pytest.mark.parametrize("again", [2, 40])  # few: looked up by ref; many: every ref read
def test_known_refs_are_found_however_many_come_again(engine: Engine, tmp_path: Path, again: int) -> None:
    load(engine, tmp_path, "customers", customer_line("C1", "One"))
    load(engine, tmp_path, "documents", *(f"INV-{i},C1,invoice,2026-01-10,,1.00,USD," for i in range(60)))
    before = documents(engine)
    lines = [f"INV-{i},C1,invoice,2026-01-10,,2.00,USD," for i in range(again)] + [
        "NEW-1,C1,invoice,2026-01-10,,3.00,USD,"
    ]
    load(engine, tmp_path, "documents", *lines)
    after = documents(engine)
    assert len(after) == 61
    assert all(after[f"INV-{i}"][0] == before[f"INV-{i}"][0] and after[f"INV-{i}"][5] == 200 for i in range(again))
    assert all(after[f"INV-{i}"] == before[f"INV-{i}"] for i in range(again, 60))
    assert after["NEW-1"][5] == 300


def test_settle_and_lookups_over_more_customers_than_one_statement_takes(engine: Engine, tmp_path: Path) -> None:
    n = 1000  # > storage.sql.IN_LIMIT
    load(engine, tmp_path, "customers", *(customer_line(f"C{i}", f"Name {i}") for i in range(n)))
    load(engine, tmp_path, "documents", *(f"INV-{i},C{i},invoice,2026-01-10,,1.00,USD," for i in range(n)))
    d = Document.__table__
    ids = customer_ids(engine)
    with engine.begin() as conn:
        conn.execute(update(d).values(next_action_on=None))  # as a sweep leaves settled items
        infos = import_reads.doc_infos(conn, [f"INV-{i}" for i in range(n)] + ["NOWHERE"])
        ledger_writes.rearm_customers(conn, sorted(ids.values())[1:])
    assert len(infos) == n and infos["INV-7"] == (ids["C7"], "invoice", "USD")
    rearmed = [ref for ref, row in documents(engine).items() if row[-1] == ledger_writes.REARM_DATE]
    assert len(rearmed) == n - 1


# --- reading the file -------------------------------------------------------------------------------


def test_a_quoted_file_imports_as_the_plain_one(engine: Engine, tmp_path: Path) -> None:
    load(engine, tmp_path, "customers", customer_line("C1", "One"))
    plain = ["INV-1,C1,invoice,2026-01-10,,10.00,USD,", "INV-2,C1,Invoice, 2026-01-11 ,,20.5,usd,"]
    buf = io.StringIO()
    csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(
        [row.split(",") for row in ["INV-3,C1,invoice,2026-01-10,,10.00,USD,", *plain[1:]]]
    )
    load(engine, tmp_path, "documents", *plain)
    first = {ref: row[1:] for ref, row in documents(engine).items()}
    load(engine, tmp_path, "documents", *buf.getvalue().splitlines())
    second = {ref: row[1:] for ref, row in documents(engine).items()}
    assert second["INV-3"] == first["INV-1"]
    cid = customer_ids(engine)["C1"]
    expected = (cid, "invoice", date(2026, 1, 11), date(2026, 2, 10), 2050, "USD", None, date(2026, 2, 7))
    assert second["INV-2"] == first["INV-2"] == expected
