"""`collectbot sweep`, `hold` and `policy check` as real processes.

DESIGN.md "Interfaces": with `--format json` stdout holds exactly
`{"now", "messages": [{"customer_ref", "channel", "step", "doc_refs",
"items": [{"doc_ref", "step"}], "status"}]}` and nothing else; `--now` sets the
clock; every command exits non-zero with a one-line reason on bad input.
The ledger is imported in-process (the import CLI has its own tests): each
`collectbot` process costs about a second.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select

from bot.app import App
from bot.clock import FixedClock
from bot.config import Settings
from bot.importer import import_file
from storage.tables import Contact, Customer, Hold, ReminderSend

CUSTOMERS = [
    "customer_ref,name,segment,currency,credit_limit,payment_terms_days,locale,timezone,"
    "country,sales_rep_slack_id,aliases",
    "ACME,ACME Corporation,default,USD,50000.00,30,en,UTC,US,U0SALES01,Acme Corp",
    "BETA,Beta Ltda,default,BRL,,30,pt,America/Sao_Paulo,BR,U0SALES02,",
    "KIWI,Kiwi Ltd,default,NZD,,30,en,Pacific/Auckland,NZ,U0SALES03,",
    "GOV,City Hall,government,USD,,30,en,UTC,US,U0SALES01,",
]
DUE = date(2026, 3, 4)  # Wednesday
DOCUMENTS = [
    "doc_ref,customer_ref,type,issue_date,due_date,amount,currency,related_doc_ref",
    f"INV-1,ACME,invoice,2026-02-02,{DUE},1200.00,USD,",
    f"INV-2,ACME,invoice,2026-02-10,{DUE + timedelta(days=15)},300.50,USD,",
    f"INV-3,BETA,invoice,2026-02-02,{DUE},5000.00,BRL,",
    f"INV-4,KIWI,invoice,2026-02-02,{DUE},700.00,NZD,",
    f"INV-5,GOV,invoice,2026-02-02,{DUE - timedelta(days=20)},900.00,USD,",
]
NOW = "2026-03-16T13:00:00+00:00"  # Monday: 13:00 UTC, 10:00 Sao Paulo, 02:00 Tuesday Auckland
MESSAGE_KEYS = ["customer_ref", "channel", "step", "doc_refs", "items", "status"]

Cli = Callable[..., Any]


@pytest.fixture
def ledger(database_url: str, tmp_path: Path) -> str:
    """The small ledger above, imported, with ACME's accounts-payable chat linked."""
    app = App(Settings(database_url=database_url, _env_file=None),
              clock=FixedClock(datetime(2026, 3, 1, tzinfo=UTC)))
    ctx = app.import_context()
    for kind, lines in (("customers", CUSTOMERS), ("documents", DOCUMENTS)):
        path = tmp_path / f"{kind}.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        import_file(app.engine, kind, path, ctx)
    with app.engine.begin() as conn:
        acme = conn.execute(select(Customer.id).where(Customer.ref == "ACME")).scalar_one()
        conn.execute(insert(Contact).values(customer_id=acme, name="AP", telegram_chat_id=4242,
                                            verified=True, reachable=True,
                                            linked_at=datetime(2026, 3, 1, tzinfo=UTC)))
    app.engine.dispose()
    return database_url


def sweep_json(cli: Cli, now: str, *extra: str) -> dict:
    proc = cli("sweep", "--now", now, "--format", "json", *extra)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)  # stdout is exactly one JSON document


def flat(doc: dict) -> list[tuple[str, str, str, str]]:
    return sorted((m["customer_ref"], i["doc_ref"], i["step"], m["status"])
                  for m in doc["messages"] for i in m["items"])


def outbox(url: str) -> list[tuple[str, str]]:
    from storage.engine import make_engine

    engine = make_engine(url)
    with engine.connect() as conn:
        rows = sorted(conn.execute(select(ReminderSend.step, ReminderSend.status)).tuples())
    engine.dispose()
    return rows


def telegram_env(tg) -> dict[str, str]:  # noqa: ANN001
    return {"TELEGRAM_BOT_TOKEN": tg.token, "COLLECTBOT_TELEGRAM_API_URL": tg.api_url,
            "COLLECTBOT_TELEGRAM_FILE_URL": tg.file_url}


ACME_FIRST = {
    "customer_ref": "ACME", "channel": "telegram", "step": "first", "doc_refs": ["INV-1", "INV-2"],
    "items": [{"doc_ref": "INV-1", "step": "first"}, {"doc_ref": "INV-2", "step": "pre_due"}],
    "status": "sent",
}


def test_sweep_json_is_the_contract_and_dry_run_agrees_with_the_real_run(
    ledger: str, cli: Cli, fake_telegram_thread  # noqa: ANN001
) -> None:
    tg = fake_telegram_thread
    tg.add_user(4242, "Ana")
    cli = cli.with_env(**telegram_env(tg))
    dry = sweep_json(cli, NOW, "--dry-run")
    assert {s for *_x, s in flat(dry)} == {"dry_run", "deferred"}
    assert outbox(ledger) == []
    assert tg.sent(4242) == []

    proc = cli("sweep", "--now", NOW, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    [reminder] = tg.sent(4242)  # the sweep sent it through the configured bot by itself...
    assert "INV-1" in reminder.plain_text and reminder.button_texts == [
        ["I paid", "Dispute"], ["Payment plan", "Promise a date"], ["Statement", "Talk to a person"]]
    real = json.loads(proc.stdout)  # ...and stdout holds exactly one JSON document
    assert list(real) == ["now", "messages"]
    assert datetime.fromisoformat(real["now"]) == datetime(2026, 3, 16, 13, tzinfo=UTC)
    for m in real["messages"]:
        assert list(m) == MESSAGE_KEYS
        assert m["doc_refs"] == [i["doc_ref"] for i in m["items"]]
        assert all(list(i) == ["doc_ref", "step"] for i in m["items"])
    assert real["messages"] == [
        ACME_FIRST,
        {"customer_ref": "BETA", "channel": "none", "step": "first", "doc_refs": ["INV-3"],
         "items": [{"doc_ref": "INV-3", "step": "first"}], "status": "no_channel"},
        {"customer_ref": "GOV", "channel": "none", "step": "first", "doc_refs": ["INV-5"],
         "items": [{"doc_ref": "INV-5", "step": "first"}], "status": "no_channel"},
        {"customer_ref": "KIWI", "channel": "none", "step": "first", "doc_refs": ["INV-4"],
         "items": [{"doc_ref": "INV-4", "step": "first"}], "status": "deferred"},
    ]

    # the dry run planned exactly the same items, only their status differs
    assert [x[:3] for x in flat(dry)] == [x[:3] for x in flat(real)]
    for d, r in zip(flat(dry), flat(real), strict=True):
        assert (d[3], r[3]) in {("dry_run", "sent"), ("dry_run", "no_channel"),
                                ("deferred", "deferred")}
    assert sorted((s, st) for s, st in outbox(ledger) if st != "skipped") == [
        ("first", "no_channel"), ("first", "no_channel"), ("first", "sent"), ("pre_due", "sent")]


def test_without_a_token_reminders_to_linked_chats_stay_pending_and_say_so(ledger: str, cli: Cli) -> None:
    """README "Sweeping without Telegram": recorded (that invoice waits for it), reported `deferred`, sent by
    `collectbot run` or the next sweep with Telegram on; a chat-less customer is `no_channel` as ever."""
    proc = cli("sweep", "--now", NOW, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    acme = [m for m in doc["messages"] if m["customer_ref"] == "ACME"]
    assert acme == [ACME_FIRST | {"status": "deferred"}]
    assert "TELEGRAM_BOT_TOKEN not set" in proc.stderr
    assert ("first", "pending") in outbox(ledger) and ("first", "no_channel") in outbox(ledger)


def test_a_wrong_token_is_one_line_and_nothing_is_recorded(ledger: str, cli: Cli, fake_telegram_thread) -> None:  # noqa: ANN001
    tg = fake_telegram_thread
    env = telegram_env(tg) | {"TELEGRAM_BOT_TOKEN": "123456789:AAwrongwrongwrongwrongwrongwrongwrong"}
    proc = cli.with_env(**env)("sweep", "--now", NOW, "--format", "json")
    assert proc.returncode != 0
    assert len(proc.stderr.strip().splitlines()) == 1 and "TELEGRAM_BOT_TOKEN" in proc.stderr
    assert "AAwrong" not in proc.stderr and proc.stdout == ""
    assert outbox(ledger) == []


def test_hold_pauses_the_customer_through_its_last_day_and_release_resumes(
    ledger: str, cli: Cli, fake_telegram_thread  # noqa: ANN001
) -> None:
    fake_telegram_thread.add_user(4242, "Ana")
    cli = cli.with_env(**telegram_env(fake_telegram_thread))
    proc = cli("hold", "ACME", "--until", "2026-03-16", "--reason", "paying on Wednesday")
    assert proc.returncode == 0, proc.stderr
    held = sweep_json(cli, NOW)  # NOW is the hold's last day
    assert "ACME" not in {m["customer_ref"] for m in held["messages"]}
    assert "BETA" in {m["customer_ref"] for m in held["messages"]}
    proc = cli("hold", "ACME", "--release")
    assert proc.returncode == 0, proc.stderr
    released = sweep_json(cli, NOW)
    assert [m for m in released["messages"] if m["customer_ref"] == "ACME"] == [ACME_FIRST]


def test_a_hold_whose_last_day_is_past_is_kept_but_said_to_pause_nothing_now(ledger: str, cli: Cli) -> None:
    # DESIGN: `--until` is never compared with the real clock for what the hold covers (a sweep replayed
    # with an earlier --now still sees it); the operator is only told that it pauses nothing from now on.
    past = cli("hold", "ACME", "--until", "2000-01-03", "--reason", "typo in the year")
    assert past.returncode == 0, past.stderr
    assert "note: --until 2000-01-03 is already past (today is " in past.stderr
    assert past.stdout == ""
    engine = App(Settings(database_url=ledger, _env_file=None)).engine
    with engine.connect() as conn:  # recorded all the same
        assert [h.until for h in conn.execute(select(Hold.__table__))] == [date(2000, 1, 3)]
    engine.dispose()
    future = cli("hold", "BETA", "--until", "2199-12-31", "--reason", "a long wait")
    assert future.returncode == 0, future.stderr
    assert "already past" not in future.stderr


def test_bad_input_fails_in_one_line(ledger: str, cli: Cli) -> None:
    cases = [
        ("hold", "ACME", "--until", "2026-03-20"),
        ("sweep", "--now", "yesterday", "--format", "json"),
        # dates beyond those a ledger holds (1900-2199, as imports): refused before anything overflows
        ("hold", "ACME", "--until", "9999-12-31", "--reason", "forever"),
        ("sweep", "--now", "9999-12-31T00:00:00+00:00", "--format", "json"),
        ("sweep", "--now", "0001-01-01T00:00:00+00:00", "--dry-run"),
        ("balance", "ACME", "--as-of", "9999-12-31"),
    ]
    with ThreadPoolExecutor(len(cases)) as pool:
        procs = list(pool.map(lambda args: cli(*args), cases))
    for args, proc in zip(cases, procs, strict=True):
        assert proc.returncode != 0, args
        assert len(proc.stderr.strip().splitlines()) == 1, (args, proc.stderr)
        assert proc.stdout == "", args
    assert outbox(ledger) == []
    after = cli("sweep", "--now", NOW, "--format", "json")  # no hold was set: the sweep goes on
    assert after.returncode == 0, after.stderr
    assert any(m["customer_ref"] == "ACME" for m in json.loads(after.stdout)["messages"])


BROKEN = """
min_gap_days = 3
[segments.default]
[[segments.default.steps]]
name = "first"
offset_days = 7
template = "reminder/first"
[[segments.default.steps]]
name = "second"
ofset_days = 15
template = "reminder/second"
"""


POLICY_CASES = {
    "typo": (BROKEN, "segments.default.steps[1].ofset_days"),
}


def test_policy_check_refuses_a_broken_policy_naming_the_key(
    tmp_path: Path, cli_for: Callable[[str, Path], Cli]
) -> None:
    from bot.domain.policy_loader import default_policy_text

    cli = cli_for(f"sqlite:///{tmp_path}/unused.db", tmp_path)
    paths = {}
    for name, (text, _key) in [*POLICY_CASES.items(), ("valid", (default_policy_text(), ""))]:
        paths[name] = tmp_path / f"{name.replace(' ', '_')}.toml"
        paths[name].write_text(text, encoding="utf-8")
    with ThreadPoolExecutor(len(paths)) as pool:
        procs = dict(zip(paths, pool.map(lambda p: cli("policy", "check", p), paths.values()),
                         strict=True))
    for name, (_text, key) in POLICY_CASES.items():
        proc = procs[name]
        assert proc.returncode != 0, name
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1, (name, proc.stderr)
        assert key in lines[0], (name, lines[0])
    valid = procs["valid"]
    assert valid.returncode == 0, valid.stderr
    for step in ("pre_due", "due", "first", "second", "final", "formal_notice"):
        assert step in valid.stdout
