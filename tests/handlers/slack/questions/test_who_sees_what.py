"""Who sees what (DESIGN): credit staff / own rep / other rep / stranger × every question and report.

Through `/owe` and `/collect` over signed HTTP (answers go to the command's response_url).
A refusal names no customer and carries no amount; a rep's reports hold only their customers.
"""

from __future__ import annotations

import json

import pytest

from bot.services.cases import open_dispute
from tests.handlers.slack.questions.rig import CREDIT, MONEY, NOW, REP1, REP2, STRANGER, Rig, all_text, button_values

REPORTS = ("prospects", "aging", "digest", "weekly", "scorecard 2026-11")


@pytest.fixture
async def case(rig: Rig) -> Rig:
    with rig.app.engine.begin() as conn:  # something for the digest: an open dispute on Big Box (REP2's)
        open_dispute(conn, ["BB-0001"], reason="price", text="wrong price", actor="debtor:1", now=NOW)
    return rig


async def ask(rig: Rig, user: str, command: str, text: str) -> str:
    response = await rig.command(user, command, text)
    assert response["response_type"] == "ephemeral"
    return all_text(response.get("blocks"), response.get("text", ""))


async def test_credit_staff_see_every_customer_and_every_report(case: Rig) -> None:
    assert "$1,500.00" in await ask(case, CREDIT, "/owe", "ACME")
    big = await ask(case, CREDIT, "/owe", "Big Box")
    assert "R$" in big and "Dispute #1" in big and "wrong price" in big
    reports = {r: await ask(case, CREDIT, "/collect", r) for r in REPORTS}
    assert "ACME" in reports["aging"] and "Big Box" in reports["aging"] and "Orphan" in reports["aging"]
    assert "Big Box" in reports["digest"] and "Open disputes* (1)" in reports["digest"]
    assert all(rep in reports["scorecard 2026-11"] for rep in (REP1, REP2, "(no rep)"))
    assert "ACME" in reports["weekly"] or "Big Box" in reports["weekly"]


@pytest.mark.parametrize(
    ("rep", "mine", "theirs", "other_rep"),
    [
        (REP1, ("/owe", "ACME"), ("/owe", "Big Box"), REP2),
        (REP2, ("/owe", "Big Box"), ("/owe", "ACME"), REP1),
    ],
)
async def test_a_sales_rep_sees_their_own_customers_only(
    case: Rig, rep: str, mine: tuple, theirs: tuple, other_rep: str
) -> None:
    assert MONEY.search(await ask(case, rep, *mine))
    refused = await ask(case, rep, *theirs)
    assert "don't have access" in refused and not MONEY.search(refused) and theirs[1] not in refused
    mine_name, theirs_name = ("ACME", "Big Box") if rep == REP1 else ("Big Box", "ACME")
    for report in REPORTS:
        text = await ask(case, rep, "/collect", report)
        assert theirs_name not in text and "Orphan" not in text, report
        assert f"for {rep}'s customers" in text, report
    aging = await ask(case, rep, "/collect", "aging")
    assert mine_name in aging
    scorecard = await ask(case, rep, "/collect", "scorecard 2026-11")
    assert rep in scorecard and other_rep not in scorecard and "(no rep)" not in scorecard
    digest = await ask(case, rep, "/collect", "digest")
    assert ("BB-0001" in digest) == (rep == REP2)  # the dispute is on Big Box, REP2's


async def test_a_stranger_is_refused_politely_and_learns_no_amount_or_name(case: Rig) -> None:
    for command, text in (
        ("/owe", "ACME"),
        ("/owe", "Big Box"),
        ("/owe", "comercial cadiz"),
        ("/owe", "acme corpp"),
        ("/owe", "Zyxwvut"),
        *(("/collect", r) for r in REPORTS),
    ):
        said = await ask(case, STRANGER, command, text)
        assert "don't have access" in said, (command, text)
        assert not MONEY.search(said) and "Cádiz" not in said and "Corporation" not in said, (command, text)
    assert "/owe ACME" in await ask(case, STRANGER, "/collect", "help")  # help holds no amount
    for text in ("ACME", "hello"):  # a bare name, or anything: refused all the same
        said = await ask(case, STRANGER, "/collect", text)
        assert "don't have access" in said and not MONEY.search(said)
    other = await ask(case, REP2, "/collect", "ACME Corporation")  # another rep's customer, named alone
    assert "don't have access" in other and not MONEY.search(other)


async def test_ambiguous_and_lenient_names_only_ever_name_visible_customers(case: Rig) -> None:
    chooser = await case.command(REP1, "/owe", "comercial cadiz")
    refs = [json.loads(v)["c"] for v in button_values(chooser["blocks"])]
    assert refs == ["CADIZ6", "CADIZ8"]  # CADIZ7 is REP2's: not listed
    assert "Cádiz 7" not in all_text(chooser["blocks"], chooser["text"])
    lenient = await ask(case, REP2, "/owe", "comercial cadiz")  # REP2 sees one Cádiz: it is chosen, and named
    assert "matched *Comercial Cádiz 7 S.L.U. (CADIZ7)*" in lenient and "€700.00" in lenient
    exact_other = await ask(case, REP2, "/owe", "Comercial Cádiz 6")
    assert "don't have access" in exact_other and not MONEY.search(exact_other)
    unknown = await ask(case, REP2, "/owe", "Comercial Cadiz 600")  # suggestions: only REP2's
    assert "Cádiz 6" not in unknown and "Cádiz 8" not in unknown


async def test_a_click_is_checked_again_and_a_forged_value_learns_nothing(case: Rig) -> None:
    chooser = await case.mention(REP1, "what does comercial cadiz owe")
    forged = case.slack.block_action(REP2, chooser, "owe_pick_0", value=json.dumps({"c": "CADIZ6"}), forge=True)
    await case.send(forged)  # REP2 clicks REP1's chooser (or makes up the value): refused to REP2 alone
    refusal = await case.slack.until(lambda: case.slack.responses and case.slack.responses[-1], timeout=10)
    assert refusal["response_type"] == "ephemeral" and refusal["replace_original"] is False
    assert "don't have access" in refusal["text"] and not MONEY.search(all_text(refusal["blocks"], refusal["text"]))
    assert not chooser.edits  # REP1's chooser is still there for REP1
    stranger = case.slack.block_action(STRANGER, chooser, "owe_pick_0", value=json.dumps({"c": "ACME"}), forge=True)
    await case.send(stranger)
    await case.slack.until(lambda: len(case.slack.responses) == 2, timeout=10)
    assert not MONEY.search(json.dumps(case.slack.responses[-1])) and not chooser.edits
    await case.click(REP1, chooser, "owe_pick_1")  # REP1's own click answers in place
    await case.slack.until(lambda: chooser.edits, timeout=10)
    assert "Comercial Cádiz 8 S.L.U. (CADIZ8)" in chooser.text and "€800.00" in all_text(chooser.blocks)
