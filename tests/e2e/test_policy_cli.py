"""The dunning policy through the real `collectbot` process.

Issue 11: a broken COLLECTBOT_POLICY_FILE gave a traceback in `sweep` and `import`;
a template that does not exist passed `policy check`; `min_gap_days = 1000000000`
passed and crashed every sweep. Now every command that loads the policy refuses it
in one line naming the file and the key, and changes nothing. Settings reach the
process through a `.env` file in its working directory, as an operator's would.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from bot.app import App
from bot.clock import FixedClock
from bot.config import Settings
from bot.domain.policy_loader import default_policy_text
from bot.importer import import_file
from storage.tables import Customer

Cli = Callable[..., Any]
SAMPLE_CUSTOMERS = Path(__file__).resolve().parents[2] / "bot" / "sample_data" / "customers.csv"

BROKEN_POLICIES = {
    "missing file": (None, "cannot read the policy file"),
    "bad toml": ("min_gap_days = = 3\n", "not valid TOML"),
    "huge gap": (default_policy_text().replace("min_gap_days = 3", "min_gap_days = 1000000000"), "min_gap_days"),
    "no such template": (
        default_policy_text().replace('"reminder/second"', '"reminder/secnod"', 1),
        "segments.default.steps[3].template",
    ),
    "old fee shape": (
        default_policy_text().replace('late_fee = { percent = "1" }', 'late_fee = { kind = "fixed", value = "25" }'),
        "segments.default.steps[4].late_fee.kind",
    ),
}


# Each process costs a second or more: every kind of breakage in `sweep` and `import` (the
# two that gave tracebacks), and `run` and `policy check` on some.
COMMANDS: dict[str, list[tuple[str | Path, ...]]] = {
    "missing file": [("sweep",), ("import", "customers", SAMPLE_CUSTOMERS)],
    "bad toml": [("sweep", "--dry-run"), ("import", "customers", SAMPLE_CUSTOMERS)],
    "huge gap": [("sweep", "--format", "json"), ("import", "customers", SAMPLE_CUSTOMERS), ("run",)],
    "no such template": [("sweep",), ("import", "customers", SAMPLE_CUSTOMERS)],
    "old fee shape": [("sweep",)],
}


def operator_dir(tmp_path: Path, name: str, **settings: str | Path) -> Path:
    """A working directory whose .env points collectbot at the given settings."""
    cwd = tmp_path / name.replace(" ", "_")
    cwd.mkdir()
    (cwd / ".env").write_text("".join(f"{key}={value}\n" for key, value in settings.items()), encoding="utf-8")
    return cwd


def assert_one_line(proc: Any, *needles: str) -> str:
    assert proc.returncode != 0, proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: "), lines[0]
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def test_a_broken_policy_file_is_one_line_in_every_command_and_changes_nothing(
    engine: Engine, database_url: str, tmp_path: Path, cli_for: Callable[[str, Path], Cli]
) -> None:
    runs = []
    for name, (text, needle) in BROKEN_POLICIES.items():
        path = tmp_path / f"{name.replace(' ', '_')}.toml"
        if text is not None:
            path.write_text(text, encoding="utf-8")
        cli = cli_for(database_url, operator_dir(tmp_path, name, COLLECTBOT_POLICY_FILE=path))
        runs += [(name, path, needle, cli, command) for command in COMMANDS[name]]
    with ThreadPoolExecutor(4) as pool:
        procs = list(pool.map(lambda run: run[3](*run[4], timeout=60), runs))
    for (name, path, needle, _cli, command), proc in zip(runs, procs, strict=True):
        line = assert_one_line(proc, needle, path.name)
        assert proc.stdout == "", (name, command, proc.stdout)
        assert line.startswith(f"error: {path}: "), (name, command, line)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Customer)).scalar_one() == 0


def test_a_missing_templates_folder_is_one_line(database_url: str, tmp_path: Path,
                                                cli_for: Callable[[str, Path], Cli]) -> None:
    cli = cli_for(database_url, operator_dir(tmp_path, "t", COLLECTBOT_TEMPLATES_DIR=tmp_path / "nope"))
    with ThreadPoolExecutor(2) as pool:
        check, sweep = pool.map(lambda args: cli(*args), [("policy", "check", tmp_path / "x.toml"), ("sweep",)])
    for proc in (check, sweep):
        assert_one_line(proc, "COLLECTBOT_TEMPLATES_DIR", "nope")


def test_policy_check_renders_the_operators_templates_in_every_locale(
    tmp_path: Path, cli_for: Callable[[str, Path], Cli]
) -> None:
    import shutil

    from messages.renderer import PACKAGED_DIR

    broken = tmp_path / "broken"
    shutil.copytree(PACKAGED_DIR, broken, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    fa_first = broken / "fa" / "reminder" / "first.html.j2"
    fa_first.write_text(fa_first.read_text(encoding="utf-8") + "{{ customer.phone }}", encoding="utf-8")
    english = tmp_path / "english"
    shutil.copytree(PACKAGED_DIR / "en", english / "en")
    policy = tmp_path / "policy.toml"
    policy.write_text(default_policy_text(), encoding="utf-8")
    db = f"sqlite:///{tmp_path}/unused.db"
    runs = [cli_for(db, operator_dir(tmp_path, name, COLLECTBOT_TEMPLATES_DIR=folder))
            for name, folder in (("b", broken), ("e", english))]
    with ThreadPoolExecutor(2) as pool:
        bad, only_english = pool.map(lambda cli: cli("policy", "check", policy), runs)
    assert_one_line(bad, "segments.default.steps[2].template", "reminder/first", "fa", "phone")
    assert only_english.returncode == 0, only_english.stderr
    assert "template reminder/first: no es, pt, fa version, those contacts read English" in only_english.stdout


def test_policy_check_shows_money_per_currency_and_each_countrys_working_days(
    tmp_path: Path, cli_for: Callable[[str, Path], Cli]
) -> None:
    text = default_policy_text().replace(
        'late_fee = { percent = "1" }', 'late_fee = { fixed = { EUR = "25.00", IRR = "1500000" } }'
    ).replace('late_fee = { percent = "0.5" }', 'late_fee = { percent = "0.5", cap = { EUR = "40.00" } }')
    text += '\n[business_hours.working_days]\nIR = ["sat", "sun", "mon", "tue", "wed"]\n'
    policy = tmp_path / "policy.toml"
    policy.write_text(text, encoding="utf-8")
    proc = cli_for(f"sqlite:///{tmp_path}/unused.db", tmp_path)("policy", "check", policy)
    assert proc.returncode == 0, proc.stderr
    out = " ".join(proc.stdout.split())
    assert "final fee: fixed EUR 25.00, IRR 1500000; no fixed fee in other currencies" in out
    assert "second fee: 0.5% of the open amount, capped at EUR 40.00; uncapped in other currencies" in out
    assert "working days set by the policy: IR mon tue wed sat sun" in out


# ---------------------------------------------------------------- Iran's working week, swept

CUSTOMERS = [
    "customer_ref,name,segment,currency,credit_limit,payment_terms_days,locale,timezone,"
    "country,sales_rep_slack_id,aliases",
    "IRN,Tehran Trading,default,IRR,,30,fa,Asia/Tehran,IR,U0SALES01,",
    "ESP,Madrid SL,default,EUR,,30,es,Europe/Madrid,ES,U0SALES02,",
    "NOC,No Country Ltd,default,EUR,,30,en,Europe/Madrid,,U0SALES03,",
    "UNK,Unknown Land Ltd,default,EUR,,30,en,Europe/Madrid,XX,U0SALES03,",
]
DOCUMENTS = [
    "doc_ref,customer_ref,type,issue_date,due_date,amount,currency,related_doc_ref",
    "INV-IR,IRN,invoice,2026-06-20,2026-07-20,50000000.00,IRR,",
    "INV-ES,ESP,invoice,2026-06-20,2026-07-20,1000.00,EUR,",
    "INV-NC,NOC,invoice,2026-06-20,2026-07-20,1000.00,EUR,",
    "INV-XX,UNK,invoice,2026-06-20,2026-07-20,1000.00,EUR,",
]
# 08:00 UTC is 11:30 in Tehran and 10:00 in Madrid: inside business hours on a business day.
FRIDAY, SATURDAY, SUNDAY = "2026-07-31T08:00:00+00:00", "2026-08-01T08:00:00+00:00", "2026-08-02T08:00:00+00:00"


@pytest.fixture
def world_ledger(database_url: str, tmp_path: Path) -> str:
    app = App(Settings(database_url=database_url, _env_file=None), clock=FixedClock(datetime(2026, 7, 1, tzinfo=UTC)))
    for kind, lines in (("customers", CUSTOMERS), ("documents", DOCUMENTS)):
        path = tmp_path / f"{kind}.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        import_file(app.engine, kind, path, app.import_context())
    app.engine.dispose()
    return database_url


def statuses(cli: Cli, now: str, *extra: str) -> dict[str, str]:
    proc = cli("sweep", "--now", now, "--format", "json", *extra)
    assert proc.returncode == 0, proc.stderr
    return {m["customer_ref"]: m["status"] for m in json.loads(proc.stdout)["messages"]}


def test_iran_rests_on_friday_and_is_reminded_on_sunday_while_spain_is_unchanged(
    world_ledger: str, tmp_path: Path, cli_for: Callable[[str, Path], Cli]
) -> None:
    cli = cli_for(world_ledger, tmp_path)
    with ThreadPoolExecutor(2) as pool:
        saturday, sunday = pool.map(lambda now: statuses(cli, now, "--dry-run"), [SATURDAY, SUNDAY])
    inside = {"IRN": "dry_run", "ESP": "deferred", "NOC": "deferred", "UNK": "deferred"}
    assert saturday == inside  # Saturday is a working day in Iran only
    assert sunday == inside
    friday = statuses(cli, FRIDAY)  # a real sweep: Iran waits, the others get their reminder
    assert friday == {"IRN": "deferred", "ESP": "no_channel", "NOC": "no_channel", "UNK": "no_channel"}
    sunday = statuses(cli, SUNDAY)
    assert sunday == {"IRN": "no_channel"}  # reminded on Sunday, in business hours; nothing new elsewhere
