"""`collectbot link`, `payment` and `dispute` (and `plan` decisions) as real processes.

The fake Bot API runs in a thread; the decision commands send their notice to the debtor from
their own process, after the decision is committed (DESIGN "Chat behaviour").
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from bot.app import App
from bot.importer import import_file
from bot.services import cases
from bot.services.customers import resolve
from bot.services.payments import Claim, claim_payment
from storage.tables import Contact, Customer, LinkToken, OutboundMessage, Payment
from tests.conftest import COLLECTBOT, Cli, cli_env
from tests.fakes.telegram_api import FakeTelegram
from tests.handlers.telegram.harness import BETA_CHAT, NOW, load_ledger, make_app

LINK = re.compile(r"^https://t\.me/collectbot_test_bot\?start=([A-Za-z0-9_-]{1,64})$")


@dataclass
class World:
    tg: FakeTelegram
    app: App
    cli: Cli

    def run(self, *args: str, token: str | None = None) -> tuple[int, str, str]:
        """`collectbot ARGS` pointed at the fake Bot API, with TELEGRAM_BOT_TOKEN=token (unset when None)."""
        env = cli_env(self.cli.database_url) | {
            "COLLECTBOT_TELEGRAM_API_URL": self.tg.api_url,
            "COLLECTBOT_TELEGRAM_FILE_URL": self.tg.file_url,
        }
        if token is not None:
            env["TELEGRAM_BOT_TOKEN"] = token
        proc = subprocess.run([COLLECTBOT, *args], env=env, cwd=self.cli.cwd, text=True, capture_output=True,
                              timeout=120)
        return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture
def world(database_url: str, tmp_path: Path, cli: Cli) -> Iterator[World]:
    with FakeTelegram().in_thread() as tg:
        app = make_app(database_url, tg)
        load_ledger(app, tmp_path)
        yield World(tg, app, cli)
        app.engine.dispose()


def test_link_prints_a_one_time_deep_link_and_stores_only_its_hash(world: World) -> None:
    code, out, err = world.run("link", "beta ltda", "--contact", "Contas a pagar", token=world.tg.token)
    assert code == 0, err
    token = LINK.match(out.strip()).group(1)  # the username is the one getMe reports
    assert len(token) == 43
    with world.app.engine.connect() as conn:
        ((stored, name, created, expires, used),) = conn.execute(
            select(LinkToken.token_hash, LinkToken.contact_name, LinkToken.created_at, LinkToken.expires_at,
                   LinkToken.used_at)).all()
    assert stored == hashlib.sha256(token.encode()).hexdigest() and token not in stored
    assert name == "Contas a pagar" and used is None and (expires - created).days == 7


def test_link_all_unlinked_as_csv_and_the_one_line_refusals(world: World) -> None:
    with world.app.engine.begin() as conn:
        acme = conn.execute(select(Customer.id).where(Customer.ref == "ACME")).scalar_one()
        conn.execute(insert(Contact).values(customer_id=acme, name="AP", telegram_chat_id=77, verified=True,
                                            reachable=True))
    evil = world.cli.cwd / "evil.csv"
    evil.write_text("customer_ref,name,segment,currency,credit_limit,payment_terms_days,locale,timezone,country,"
                    "sales_rep_slack_id,aliases\n=HYPERLINK(1),Evil,default,USD,,30,en,UTC,US,,\n", encoding="utf-8")
    import_file(world.app.engine, "customers", evil, world.app.import_context())
    code, out, err = world.run("link", "--all-unlinked", "--format", "csv", token=world.tg.token)
    assert code == 0, err
    table = list(csv.reader(io.StringIO(out)))
    assert table[0] == ["customer_ref", "link"]
    assert [r[0] for r in table[1:]] == ["'=HYPERLINK(1)", "BETA", "GAMA", "PARS"]  # ACME has a chat; no formula
    assert all(LINK.match(r[1]) for r in table[1:])
    assert len({r[1] for r in table[1:]}) == 4

    code, out, err = world.run("link", "BETA", token=None)
    assert (code, out) == (1, "") and err.strip() == "error: TELEGRAM_BOT_TOKEN is not set: Telegram is off"
    wrong = "987654321:AAwrong-token_but_well_formed"
    code, out, err = world.run("link", "BETA", token=wrong)
    assert code == 1 and err.strip() == "error: Telegram refused TELEGRAM_BOT_TOKEN (getMe: unauthorized)"
    assert wrong not in err and "AAwrong" not in err
    code, _, err = world.run("link", "NOPE", token=world.tg.token)
    assert code == 1 and err.startswith("error: no customer matches 'NOPE'") and len(err.strip().splitlines()) == 1
    with world.app.engine.connect() as conn:
        assert len(conn.execute(select(LinkToken.id)).all()) == 4  # the refused runs wrote nothing


def _linked_beta(world: World) -> None:
    world.tg.add_user(BETA_CHAT, "Bia", language_code="pt")
    with world.app.engine.begin() as conn:
        beta = conn.execute(select(Customer.id).where(Customer.ref == "BETA")).scalar_one()
        conn.execute(insert(Contact).values(customer_id=beta, name="Bia", telegram_chat_id=BETA_CHAT, verified=True,
                                            reachable=True, locale="pt-BR"))


def test_payment_confirm_and_reject_tell_the_debtor_from_the_cli(world: World) -> None:
    _linked_beta(world)
    with world.app.engine.begin() as conn:
        beta = resolve(conn, "BETA")
        first = claim_payment(conn, beta, Claim((("BR-1", 500000),), 500000, "BRL", date(2026, 3, 10), "PIX-1"),
                              actor=f"debtor:{BETA_CHAT}", now=NOW)
        second = claim_payment(conn, beta, Claim((("BR-2", 123456),), 100000, "BRL", date(2026, 3, 11), "PIX-2"),
                               actor=f"debtor:{BETA_CHAT}", now=NOW)
    code, out, err = world.run("payment", "list", "--status", "claimed", "--format", "json", token=world.tg.token)
    assert code == 0, err
    listed = json.loads(out)["payments"]
    assert [(p["id"], p["ref"], p["amount"], p["doc_refs"], p["status"]) for p in listed] == [
        (first, f"CLAIM-{first}", "5000.00", ["BR-1"], "claimed"),
        (second, f"CLAIM-{second}", "1000.00", ["BR-2"], "claimed"),
    ]
    code, out, err = world.run("payment", "confirm", str(first), token=world.tg.token)
    assert code == 0, err
    assert out.strip() == f"payment {first} confirmed; the debtor was told in Telegram"
    told = world.tg.last(BETA_CHAT).plain_text
    assert "O seu pagamento de R$\xa05.000,00" in told and "(referência PIX-1) por BR-1 foi confirmado" in told
    code, out, err = world.run("payment", "reject", str(second), "--reason", "não consta no extrato",
                               token=world.tg.token)
    assert code == 0, err
    told = world.tg.last(BETA_CHAT).plain_text
    assert "Não conseguimos confirmar" in told and "Motivo: não consta no extrato" in told
    code, _, err = world.run("payment", "confirm", str(second), token=world.tg.token)
    assert code == 1 and err.strip() == f"error: payment {second} is rejected, not claimed"
    with world.app.engine.connect() as conn:
        assert conn.execute(select(Payment.status).order_by(Payment.id)).scalars().all()[-2:] == [
            "confirmed", "rejected"]
        assert conn.execute(select(OutboundMessage.status)).scalars().all() == ["sent", "sent"]


def test_dispute_resolve_and_plan_approve_without_telegram_wait_in_the_outbox(world: World) -> None:
    _linked_beta(world)
    with world.app.engine.begin() as conn:
        dispute = cases.open_dispute(conn, ["BR-1"], reason="damaged", text="caixas molhadas", actor="debtor:1",
                                     now=NOW)
        plan = cases.propose_plan(conn, ["BR-2"], total_cents=123456, count=3, actor="debtor:1", now=NOW)
    code, out, err = world.run("dispute", "list", "--status", "open", "--format", "json")
    assert code == 0, err
    assert [(d["id"], d["doc_refs"], d["reason"]) for d in json.loads(out)["disputes"]] == [(dispute, ["BR-1"],
                                                                                          "damaged")]
    code, out, err = world.run("dispute", "resolve", str(dispute), "--valid", "--reason", "nota de crédito a caminho")
    assert code == 0, err
    assert out.strip() == (f"dispute {dispute} valid; the message to the debtor waits in the outbox "
                           "(Telegram not reachable now)")
    code, out, err = world.run("plan", "approve", str(plan), token=world.tg.token)
    assert code == 0, err
    assert out.strip() == f"plan {plan} approved; the debtor was told in Telegram"
    approved = world.tg.last(BETA_CHAT).plain_text
    assert "O seu parcelamento" in approved and "foi aprovado" in approved
    code, _, err = world.run("dispute", "resolve", str(dispute), "--not-valid")
    assert code == 1 and err.strip() == f"error: no open dispute {dispute}"
    code, _, err = world.run("dispute", "resolve", str(dispute))
    assert code == 1 and err.strip() == "error: say --valid or --not-valid"
    with world.app.engine.connect() as conn:
        assert sorted(conn.execute(select(OutboundMessage.kind, OutboundMessage.status)).all()) == [
            ("notice", "pending"), ("notice", "sent")]


def test_dispute_resolve_with_both_valid_and_not_valid_is_refused_and_changes_nothing(world: World) -> None:
    # Found trying the product: Click's `--valid/--not-valid` flag let the last one win, so
    # `--valid --not-valid` resolved the dispute as not valid and told the debtor.
    _linked_beta(world)
    with world.app.engine.begin() as conn:
        dispute = cases.open_dispute(conn, ["BR-1"], reason="damaged", text="caixas molhadas", actor="debtor:1",
                                     now=NOW)
    for flags in (("--valid", "--not-valid"), ("--not-valid", "--valid")):
        code, out, err = world.run("dispute", "resolve", str(dispute), *flags)
        assert (code, out) == (1, "") and err.strip() == "error: say either --valid or --not-valid, not both"
    code, out, err = world.run("dispute", "list", "--status", "open", "--format", "json")
    assert [d["id"] for d in json.loads(out)["disputes"]] == [dispute]
    with world.app.engine.connect() as conn:
        assert conn.execute(select(OutboundMessage.id)).all() == []


@pytest.mark.parametrize("args", [
    ["plan", "approve", "99999999999999999999"],
    ["plan", "reject", "9223372036854775808", "--reason", "x"],
    ["payment", "confirm", "99999999999999999999"],
    ["payment", "reject", "99999999999999999999"],
    ["dispute", "resolve", "99999999999999999999", "--valid"],
])
def test_an_id_beyond_any_row_id_is_one_line_not_a_traceback(cli: Cli, args: list[str]) -> None:
    """An id no database can hold (SQLite raised OverflowError, PostgreSQL 'integer out of range')."""
    r = cli("db", "upgrade")
    assert r.returncode == 0, r.stderr
    r = cli(*args)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.startswith("error: ") and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "9223372036854775807" in r.stderr and "database" not in r.stderr
