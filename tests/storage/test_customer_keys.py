"""The customer-name index on every backend: SQLite's FTS5 trigram table, PostgreSQL's pg_trgm GIN index.

Customers go in through the real import write (ledger_writes.write_customers), and are found
through bot.services.customers, the one path every command uses.
"""

from __future__ import annotations

import random

import pytest
from alembic import command
from sqlalchemy import Engine

from bot.domain.csv_rows import CUSTOMER_FIELDS
from bot.domain.names import fold, probe, search_text
from bot.services.customers import CustomerAmbiguous, CustomerNotFound, find
from storage import customer_keys, ledger_writes
from storage.migrate import upgrade
from tests.storage.test_migrations import alembic_config


def customer(ref: str, name: str, aliases: str = "") -> dict:
    return {
        "ref": ref, "name": name, "aliases": aliases, "segment": "default", "currency": "EUR",
        "credit_limit_cents": None, "payment_terms_days": 30, "locale": "en", "timezone": "UTC",
        "country": "", "sales_rep_slack_id": "",
    }  # fmt: skip


def load(engine: Engine, *customers: dict) -> None:
    with engine.begin() as conn:
        ledger_writes.write_customers(conn, [tuple(c[f] for f in CUSTOMER_FIELDS) for c in customers])


def found(engine: Engine, query: str) -> tuple[str, bool] | str:
    """(ref, exact) of what `query` finds, or "ambiguous" / "unknown"."""
    with engine.connect() as conn:
        try:
            f = find(conn, query)
        except CustomerAmbiguous:
            return "ambiguous"
        except CustomerNotFound:
            return "unknown"
    return f.customer.ref, f.exact


def index_rows(engine: Engine, probe_of: str) -> set[str]:
    """The keys the trigram index gives for a query's narrow probe."""
    with engine.connect() as conn:
        return {key for _, key, _ in customer_keys.candidates(conn, probe(probe_of))}


LEDGER = [
    customer("CADIZ6", "Comercial Cádiz 6 S.L.U."),
    customer("CADIZ7", "Comercial Cádiz 7 S.L.U."),
    customer("ACME-1", "ACME Corp", "Acme Corporation"),
    customer("KIAN", "شرکت بازرگانی کیان"),
    customer("LODZ", "Łódź Ørsted Æble Straße GmbH"),
    customer("SMITHJ", "Smith, Jones & Partners LLP", "Smith Jones"),
]


@pytest.fixture
def ledger(engine: Engine) -> Engine:
    load(engine, *LEDGER)
    return engine


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("comercial cadiz 6", ("CADIZ6", True)),
        ("Comercial Cadiz 600 S.L.U.", "unknown"),
        ("comercial cadis 6", ("CADIZ6", False)),
        ("comercial cadiz", "ambiguous"),
        ("acme corpp", ("ACME-1", False)),
        ("acme-1", ("ACME-1", True)),
        ("شركت بازرگاني كيان", ("KIAN", True)),
        ("شرکت بازرگانی کیانن", ("KIAN", False)),
        ("lodz orsted aeble strasse", ("LODZ", True)),
        ("Lodz Orsted Aebel Strasse", ("LODZ", False)),
        ("smith jnes", ("SMITHJ", False)),
        ("Wayne Enterprises", "unknown"),
    ],
)
def test_names_are_found_through_the_index(ledger: Engine, query: str, expected: object) -> None:
    assert found(ledger, query) == expected


def test_refs_are_exact_only(ledger: Engine) -> None:
    assert found(ledger, "CADIZ6") == ("CADIZ6", True)
    assert found(ledger, "cadiz-6") == ("CADIZ6", True)  # separators ignored
    assert "cadiz6" not in index_rows(ledger, "cadiz6")  # the trigram index holds no refs


def test_a_reimport_that_renames_and_drops_aliases_updates_the_index(ledger: Engine) -> None:
    assert found(ledger, "Acme Corporaton") == ("ACME-1", False)
    load(ledger, customer("ACME-1", "Roadrunner Supplies Inc", ""), customer("NEW", "Acme Rockets"))
    assert found(ledger, "Acme Corporaton") == "unknown"  # the old alias is gone from the index
    assert found(ledger, "acme corp") == ("NEW", False)  # "acme" is now only in "Acme Rockets"
    assert found(ledger, "roadrunner supplies") == ("ACME-1", True)
    assert found(ledger, "Roadruner Supplies") == ("ACME-1", False)  # the new name is indexed
    assert found(ledger, "acme rockts") == ("NEW", False)
    assert "acme corporation" not in index_rows(ledger, "acme corporation")
    assert found(ledger, "comercial cadiz 6") == ("CADIZ6", True)  # other customers kept their keys


def test_reimporting_the_same_customers_rewrites_no_key(ledger: Engine) -> None:
    with ledger.connect() as conn:
        before = conn.exec_driver_sql("SELECT id, customer_id, key FROM customer_key ORDER BY id").all()
    load(ledger, *LEDGER)
    with ledger.connect() as conn:
        after = conn.exec_driver_sql("SELECT id, customer_id, key FROM customer_key ORDER BY id").all()
    assert after == before
    assert found(ledger, "comercial cadis 6") == ("CADIZ6", False)


def test_a_customer_listed_twice_in_one_write_gets_its_last_keys_once(engine: Engine) -> None:
    with engine.begin() as conn:
        ledger_writes.write_customers(conn, [])
        customer_keys.replace_keys(conn, [])
    load(engine, customer("X1", "Old Name"))
    with engine.begin() as conn:
        cid = conn.exec_driver_sql("SELECT id FROM customer").scalar()
        customer_keys.replace_keys(conn, [(cid, "X1", "First Name", ""), (cid, "X1", "Second Name", "")])
        keys = [k for _, k, _, _ in customer_keys.keys_of(conn, [cid])]
    assert sorted(keys) == ["second name", "x1"]


def test_the_index_ranks_by_trigrams_in_common(engine: Engine) -> None:
    """Among many rows that hold the probe's trigrams, the closest come first (the limit cuts the rest)."""
    words = ["Norte", "Sul", "Leste", "Oeste", "Central", "Global", "Andina", "Pacific"]
    rows = [customer(f"M{i}", f"Mercado {a} {b} {i}") for i, (a, b) in enumerate((a, b) for a in words for b in words)]
    load(engine, *rows, customer("TARGET", "Mercado Pacifico Andino"))
    with engine.connect() as conn:
        got = customer_keys.candidates(conn, probe("mercado pacifico andino"), limit=3)
    assert got[0][1] == "mercado pacifico andino"


def test_the_index_finds_one_typo_among_thousands(engine: Engine) -> None:
    rng = random.Random(3)
    first = ["Orion", "Delta", "Lince", "Coral", "Fjord", "Bahia", "Cobalt", "Sierra", "Tajo", "Zenith"]
    second = ["Pescados", "Foods", "Digital", "Cargo", "Textil", "Vinhos", "Solar", "Seguros", "Media", "Papel"]
    third = ["Norte", "Global", "Ibérica", "Andina", "Texas", "Sonora", "Toscana", "Europa", "Caribe", "Levante"]
    names = [f"{a} {b} {c} {rng.choice(['S.A.', 'Ltda', 'GmbH'])}" for a in first for b in second for c in third]
    load(engine, *(customer(f"C{i}", n) for i, n in enumerate(names)))
    for name in rng.sample(names, 25):
        pos = rng.choice([i for i, ch in enumerate(name) if ch.isalpha()])
        typo = name[:pos] + rng.choice("xqwz") + name[pos + 1 :]
        if fold(typo) != fold(name):
            assert found(engine, typo) == (f"C{names.index(name)}", False), typo


def test_rebuild_gives_the_keys_the_import_wrote(ledger: Engine) -> None:
    with ledger.connect() as conn:
        ids = [i for (i,) in conn.exec_driver_sql("SELECT id FROM customer")]
        before = customer_keys.keys_of(conn, ids)
    with ledger.begin() as conn:
        assert customer_keys.rebuild(conn) == len(LEDGER)
    with ledger.connect() as conn:
        assert customer_keys.keys_of(conn, ids) == before
    assert found(ledger, "comercial cadis 6") == ("CADIZ6", False)


def test_search_text_is_what_the_index_holds(ledger: Engine) -> None:
    with ledger.connect() as conn:
        rows = conn.exec_driver_sql("SELECT key, whole, search FROM customer_key WHERE search IS NOT NULL").all()
    assert rows and all(search == search_text(whole or key) and search.isascii() for key, whole, search in rows)


# --- the migration ---------------------------------------------------------------------------------


def test_migration_backfills_the_index_from_customer_rows_and_downgrades(ledger: Engine) -> None:
    cfg = alembic_config(ledger)
    command.downgrade(cfg, "0002")
    with ledger.connect() as conn:
        keys = {k for (k,) in conn.exec_driver_sql("SELECT key FROM customer_key")}
    assert "comercial cadiz 6 s l u" in keys and "cadiz6" in keys  # the 0002 keys: legal forms kept
    with ledger.begin() as conn:  # a customer written while at 0002, as 0002 wrote them
        conn.exec_driver_sql(
            "INSERT INTO customer (ref, name, aliases, segment, currency, payment_terms_days, locale, timezone,"
            " country, sales_rep_slack_id, credit_hold) VALUES ('OLD', 'Vieja Compañía S.A.', '', 'default',"
            " 'EUR', 30, 'en', 'UTC', '', '', false)"
        )
    upgrade(ledger)
    assert found(ledger, "vieja compania") == ("OLD", True)
    assert found(ledger, "Vieja Compania SA") == ("OLD", True)
    assert found(ledger, "vieja compamia") == ("OLD", False)  # in the trigram index
    assert found(ledger, "comercial cadiz 6") == ("CADIZ6", True)
    assert found(ledger, "Comercial Cadiz 600 S.L.U.") == "unknown"


def test_the_trigram_index_is_the_databases_own(ledger: Engine) -> None:
    with ledger.connect() as conn:
        if ledger.dialect.name == "sqlite":
            ddl = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = 'customer_key_fts'").scalar()
            assert "fts5" in ddl and "trigram" in ddl
            return
        schema = conn.exec_driver_sql(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
            " WHERE e.extname = 'pg_trgm'"
        ).scalar()
        index = conn.exec_driver_sql("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_customer_key_search'")
        definition = index.scalar()
        plan = "\n".join(
            r[0]
            for r in conn.exec_driver_sql(
                "EXPLAIN SELECT id FROM customer_key WHERE search LIKE %s AND search LIKE %s", ("%cad%", "%mer%")
            )
        )
    assert schema == "public"  # outside the schema of the tests (each is dropped afterwards)
    assert "gin" in definition and "gin_trgm_ops" in definition
    assert "ix_customer_key_search" in plan or "Seq Scan" in plan  # a tiny table may be scanned
