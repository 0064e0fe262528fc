"""Strategic accounts: "sales must agree before formal notice" (DESIGN.md, Dunning policy).

The packaged policy marks the strategic segment's `formal_notice` with
`sales_approval = true`: when it falls due it waits, item by item, the sales rep
is asked once in the customer's thread, and `collectbot step approve` lets it go.
"""

from __future__ import annotations

import json

import test_sweep
from test_sweep import DUE, Make, at_local, cust, doc, items, off

from bot.services.approvals import NothingToApprove, approve_step

world = test_sweep.world  # the fixture: one database with an imported ledger


def walk(w, first: int, last: int) -> list[tuple[int, str, str, str]]:  # noqa: ANN001
    """Sweep every day at 10:00 UTC; (day offset, doc ref, step, status) of what was planned."""
    seen = []
    for n in range(first, last + 1):
        seen.extend((n, r, step, status) for _c, r, step, status in items(w.sweep(at_local(off(n), 10))))
    return seen


def asked(w) -> list[tuple[str | None, str]]:  # noqa: ANN001
    return [(ref, text) for ref, kind, text in w.posted if kind == "approval_needed"]


def test_the_formal_notice_waits_for_sales_and_goes_out_once_they_agree(world: Make) -> None:
    w = world([cust("S1", segment="strategic"), cust("D1")],
              [doc("INV-S", "S1", DUE), doc("INV-D", "D1", DUE)])
    w.link("S1", 3001)
    w.link("D1", 3002)
    seen = walk(w, -5, 75)
    # the default customer gets its formal notice on +45 (a Saturday: Monday +47); the strategic one waits
    assert [(n, r) for n, r, s, st in seen if s == "formal_notice" and st == "sent"] == [(47, "INV-D")]
    assert [(n, s) for n, r, s, st in seen if r == "INV-S" and st == "sent"][-1] == (30, "final")
    assert len(asked(w)) == 1  # asked once, on the first day it was due (+60, a Sunday)
    ref, text = asked(w)[0]
    assert ref == "S1"
    assert "<@US1>" in text and "S1 Ltd" in text and "INV-S" in text
    assert "collectbot step approve S1 --step formal_notice" in text
    with w.engine.begin() as conn:
        message = approve_step(conn, "S1", "formal_notice", policy=w.app.policy, actor="cli",
                               now=at_local(off(75), 15))
    assert (message.step, message.subject, message.new) == ("formal_notice", "S1 (1 items)", True)
    assert [e.kind for e in w.events("step_approved")] == ["step_approved"]
    report = w.sweep(at_local(off(76), 10))  # Monday 18 May 2026
    assert items(report) == [("S1", "INV-S", "formal_notice", "sent")]
    assert any(k == "formal_notice" and r == "S1" for r, k, _t in w.posted)  # escalated
    assert w.customer("S1").credit_hold is False  # strategic: escalate only


def test_agreeing_ahead_lets_the_notice_go_out_on_its_date(world: Make) -> None:
    w = world([cust("S1", segment="strategic")], [doc("INV-S", "S1", DUE), doc("INV-T", "S1", off(1))])
    w.link("S1", 3001)
    walk(w, -5, 57)
    with w.engine.begin() as conn:  # one invoice only, after the heads-up
        approve_step(conn, "INV-S", "formal_notice", policy=w.app.policy, actor="cli", now=at_local(off(57), 12))
        again = approve_step(conn, "INV-S", "formal_notice", policy=w.app.policy, actor="cli",
                             now=at_local(off(57), 13))
    assert (again.subject, again.new) == ("INV-S", False)
    seen = walk(w, 58, 62)
    # +60 is Sunday 3 May: INV-S goes out on Monday; INV-T (+60 on Monday) waits, and its rep is asked
    assert [(n, r) for n, r, s, st in seen if s == "formal_notice" and st == "sent"] == [(61, "INV-S")]
    assert [t for _r, t in asked(w) if "INV-T" in t] and not [t for _r, t in asked(w) if "INV-S" in t]


def test_only_a_gated_step_can_be_agreed(world: Make) -> None:
    w = world([cust("S1", segment="strategic"), cust("D1")], [doc("INV-S", "S1", DUE), doc("INV-D", "D1", DUE)])
    with w.engine.begin() as conn:
        for target, step in (("D1", "formal_notice"), ("S1", "final")):
            try:
                approve_step(conn, target, step, policy=w.app.policy, actor="cli", now=at_local(off(1), 12))
            except NothingToApprove as exc:
                assert step in str(exc)
            else:
                raise AssertionError(f"{target} {step} was accepted")
    assert w.events("step_approved") == []


def test_step_approve_on_the_command_line(world: Make, cli) -> None:  # noqa: ANN001
    w = world([cust("S1", segment="strategic"), cust("D1")], [doc("INV-S", "S1", DUE), doc("INV-D", "D1", DUE)])
    ok = cli("step", "approve", "S1", "--step", "formal_notice")
    assert ok.returncode == 0, ok.stderr
    assert "formal_notice agreed for S1" in ok.stdout
    refused = cli("step", "approve", "D1", "--step", "formal_notice")
    assert refused.returncode == 1
    assert len(refused.stderr.strip().splitlines()) == 1
    assert "does not wait for sales" in refused.stderr
    unknown = cli("step", "approve", "NOPE-XYZ", "--step", "formal_notice")
    assert unknown.returncode == 1
    timeline = json.loads(cli("timeline", "S1", "--format", "json").stdout)
    assert [(e["kind"], e["actor"]) for e in timeline["events"]] == [("step_approved", "cli")]
    assert len(w.events("step_approved")) == 1
