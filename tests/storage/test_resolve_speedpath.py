"""services.customers.resolve through its fast ways, on every backend, against scoring every key.

The answer of scoring every key is NameIndex.resolve over the database's keys in id order
(tests/domain/test_name_index.py shows it is the naive algorithm's). Each query is resolved
cold (no kept index: the database way through the customer_key.key index, else loading every
key) and warm (the kept keys, in memory), and must give the same customer, the same
"not found" suggestions, or an ambiguity (whose candidates may differ: the near ways list the
tied customers among the keys they looked at; see test_name_index.py).

Also: the kept index follows changes to customers, including SQLite reusing the ids of the
rows it deleted last.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.domain.names import NameIndex, Resolution, fold, probe_prefixes
from bot.services import customers as service
from storage.engine import make_engine
from storage.migrate import ensure_schema

FIRST = "Acme Alpha Alfa Baltic Beacon Falcon Café Cobalt Coral Éclair Fénix Íbis Lince Orion Río Zürich Ñandú".split()
MIDDLE = "Alimentos Aço Cargo Comércio Digital Farma Hidráulica Media Medical Química Software Têxtil".split()
LAST = "Norte Norteña Sul Pacific Pacífico Atlantic Global Brasil México Ibérica Sertão Escocia".split()
SUFFIX = ("Inc.", "LLC", "Ltda", "S.A.", "S.A.S.", "S.A. de C.V.", "GmbH", "")
HEADER = [
    "customer_ref",
    "name",
    "segment",
    "currency",
    "credit_limit",
    "payment_terms_days",
    "locale",
    "timezone",
    "country",
    "sales_rep_slack_id",
    "aliases",
]


def customer_rows(rng: random.Random, size: int) -> list[dict[str, str]]:
    names: dict[str, str] = {}
    while len(names) < size:
        words = [rng.choice(FIRST), rng.choice(MIDDLE), rng.choice(LAST)][: rng.choice((2, 3, 3))]
        name = " ".join([*words, rng.choice(SUFFIX)]).strip()
        names.setdefault(fold(name), name)
    rows = []
    for n, name in enumerate(names.values(), start=1):
        alias = " ".join(name.split()[:2]) if rng.random() < 0.15 else ""
        rows.append(row(f"C{n:04d}", name, alias))
    return rows


def row(ref: str, name: str, aliases: str) -> dict[str, str]:
    return {
        "customer_ref": ref,
        "name": name,
        "segment": "default",
        "currency": "USD",
        "credit_limit": "",
        "payment_terms_days": "30",
        "locale": "en",
        "timezone": "UTC",
        "country": "US",
        "sales_rep_slack_id": "",
        "aliases": aliases,
    }


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, HEADER)
        w.writeheader()
        w.writerows(rows)
    return path


def typo(rng: random.Random, text: str) -> str:
    at = rng.choice([i for i, ch in enumerate(text) if ch.isalpha()])
    kind = rng.choice(("change", "change", "drop", "swap"))
    if kind == "change":
        return text[:at] + rng.choice("abcdefghijklmnopqrstuvwxyz".replace(text[at].lower(), "")) + text[at + 1 :]
    if kind == "drop":
        return text[:at] + text[at + 1 :]
    return text[:at] + text[at + 1 : at + 2] + text[at] + text[at + 2 :]


class Db:
    def __init__(self, url: str, directory: Path, cli) -> None:  # noqa: ANN001
        self.url, self.directory, self.cli = url, directory, cli
        self.engine: Engine = make_engine(url)
        ensure_schema(self.engine)

    def load(self, name: str, rows: list[dict[str, str]]) -> None:
        proc = self.cli("import", "customers", write_csv(self.directory / name, rows))
        assert proc.returncode == 0, proc.stderr

    def every_key(self) -> NameIndex:
        with self.engine.connect() as conn:
            return NameIndex(
                (c, k) for c, k in conn.exec_driver_sql("SELECT customer_id, key FROM customer_key ORDER BY id")
            )

    def ref_of(self) -> dict[int, str]:
        with self.engine.connect() as conn:
            return {i: r for i, r in conn.exec_driver_sql("SELECT id, ref FROM customer")}

    def resolve(self, query: str) -> tuple[str, object]:
        """("match", ref) | ("ambiguous", refs) | ("unknown", suggestion labels)."""
        with self.engine.connect() as conn:
            try:
                return "match", service.resolve(conn, query).ref
            except service.CustomerAmbiguous as exc:
                return "ambiguous", exc.candidates
            except service.CustomerNotFound as exc:
                return "unknown", exc.suggestions


@pytest.fixture(scope="module")
def db(new_database, cli_for, tmp_path_factory) -> Iterator[Db]:  # noqa: ANN001
    directory = tmp_path_factory.mktemp("resolve")
    with new_database(directory) as url:
        d = Db(url, directory, cli_for(url, directory))
        d.rows = customer_rows(random.Random(3), 600)
        d.load("customers.csv", d.rows)
        yield d
        service.forget_name_index(d.engine)
        d.engine.dispose()


def queries(rng: random.Random, rows: list[dict[str, str]], n: int) -> list[str]:
    out = []
    for r in rng.sample(rows, n):
        text = rng.choice([r["name"], r["customer_ref"], *filter(None, [r["aliases"]])])
        kind = rng.choices(("typo", "fragment", "garbage", "exact"), (10, 2, 1, 1))[0]
        if kind == "typo":
            out.append(typo(rng, text))
        elif kind == "fragment":
            out.append(" ".join(r["name"].split()[: rng.choice((1, 2))]))
        elif kind == "garbage":
            out.append("".join(rng.choice("qxzjkw ") for _ in range(rng.randint(3, 12))).strip() or "qq")
        else:
            out.append(text.upper())
    return out


def outcome(res: Resolution, refs: dict[int, str]) -> tuple[str, object]:
    if res.match is not None:
        return "match", refs[res.match]
    if res.candidates:
        return "ambiguous", None
    return "unknown", [refs[i] for i in res.suggestions]


def same(got: tuple[str, object], want: tuple[str, object]) -> bool:
    if got[0] == "unknown":
        return want[0] == "unknown" and [label.split(" (")[0] for label in got[1]] == want[1]  # type: ignore[union-attr]
    return got[0] == want[0] and (got[0] == "ambiguous" or got[1] == want[1])


def seen_by(every: NameIndex, query: str, warm: bool) -> NameIndex:
    """Every key's customers, for the keys the near way of the given kind of process looks at only."""
    key = fold(query)
    if warm:
        seen = {every.keys[p] for p in every.near_positions(key)}
    else:
        seen = {k for k in every.keys if k.startswith(tuple(probe_prefixes(key)))}
    return NameIndex((cid, k) for k in every.keys if k in seen for cid in every.ids(k))


@pytest.mark.parametrize("warm", [False, True], ids=["cold", "warm"])
def test_resolve_answers_as_scoring_every_key(db: Db, warm: bool) -> None:
    """The same answer; or one that scoring only the keys the near way looked at gives (documented limits)."""
    every, refs = db.every_key(), db.ref_of()
    tally = {"same": 0, "explained": 0, "settled near": 0}
    qs = queries(random.Random(11), db.rows, 250)
    if warm:
        with db.engine.connect() as conn:
            service.name_index(conn).prepare_near()  # as the first fuzzy queries of a long-running process leave it
    for query in qs:
        if not warm:
            service.forget_name_index(db.engine)
        got = db.resolve(query)
        if same(got, outcome(every.resolve(query), refs)):
            tally["same"] += 1
        else:
            assert got[0] != "unknown", query  # "not found" is only ever said after scoring every key
            assert same(got, outcome(seen_by(every, query, warm).resolve(query), refs)), (query, got)
            tally["explained"] += 1
        if not warm and service.kept_name_index(db.engine) is None:
            tally["settled near"] += 1  # exact, or settled by the keys the database index found
        if warm:
            kept = service.kept_name_index(db.engine)
            assert kept is not None and kept.near_ready()
    assert tally["explained"] <= len(qs) // 50, tally
    if not warm:
        assert tally["settled near"] >= len(qs) // 4, tally  # the database way settles a good share


def test_kept_index_follows_new_aliases(db: Db) -> None:
    """A new alias is found by a typo of it in a process that kept the keys from before."""
    with db.engine.connect() as conn:
        service.name_index(conn)
    target = db.rows[10]
    db.load("alias.csv", [row(target["customer_ref"], target["name"], "Quixotic Zephyrwood Holdings")])
    assert db.resolve("Quixotic Zephyrwod Holdings") == ("match", target["customer_ref"])


def test_kept_index_sees_a_changed_last_customer_reusing_row_ids(db: Db) -> None:
    """SQLite gives the re-inserted keys of the last customer the ids of its deleted ones."""
    last = db.rows[-1]
    db.load("last1.csv", [row(last["customer_ref"], last["name"], "Vermilion Quokka Traders")])
    with db.engine.connect() as conn:
        service.name_index(conn)  # kept, with the first alias
    db.load("last2.csv", [row(last["customer_ref"], last["name"], "Cerulean Pangolin Traders")])  # as many keys
    assert db.resolve("Cerulean Pangolin Tradres") == ("match", last["customer_ref"])
    assert db.resolve("Vermilion Quokka Tradres")[0] == "unknown"


def test_postgres_and_sqlite_use_the_key_ranges(db: Db) -> None:
    """The database way is on for both test backends (SQLite: BINARY; PostgreSQL: a C collation)."""
    with db.engine.connect() as conn:
        assert service._ranges_follow_code_points(conn)
