"""The dunning ladder as pure rules: `plan_customer` on hand-built facts and the default policy.

DESIGN.md "Ladder rules" and "Ladder dates and windows": a step is due from the local
date due_date + offset (that day included), skippable steps are skipped once a later
step's offset has passed, the others go out in order `min_gap_days` apart, one step per
sweep, one message per customer in the tone of its highest step, and paused items,
tiny items and customers in credit get nothing.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.domain.balances import compute_balance
from bot.domain.ladder import CustomerFacts, CustomerPlan, StepRecord, plan_customer
from bot.domain.ledger import Doc, Pay
from bot.domain.pauses import Pauses
from bot.domain.policy import Policy, Segment
from bot.domain.policy_loader import load_policy

POLICY = load_policy(None)
DEFAULT = POLICY.segment("default")
STEPS = [s.name for s in DEFAULT.steps]
DUE = date(2026, 3, 4)  # a Wednesday; the ladder itself ignores weekdays


def inv(
    ref: str = "INV-1", due: date = DUE, cents: int = 100_000, currency: str = "USD",
    issue: date | None = None, kind: str = "invoice",
) -> Doc:
    return Doc(ref, kind, issue or due - timedelta(days=30), due, cents, currency)


def facts(
    today: date,
    docs: list[Doc],
    pays: list[Pay] = (),  # type: ignore[assignment]
    *,
    history: dict[str, dict[str, StepRecord]] | None = None,
    pauses: Pauses | None = None,
    headed_up: set[tuple[str, str]] = frozenset(),  # type: ignore[assignment]
    now: datetime | None = None,
    segment: Segment = DEFAULT,
    approved: frozenset[tuple[str, str]] = frozenset(),
) -> CustomerFacts:
    return CustomerFacts(
        segment=segment,
        today=today,
        now=now or datetime.combine(today, datetime.min.time(), UTC).replace(hour=10),
        balance=compute_balance(docs, list(pays), today, customer_currency="USD"),
        history=history or {},
        headed_up=frozenset(headed_up),
        pauses=pauses or Pauses(),
        approved=approved,
    )


def plan(today: date, docs: list[Doc], pays: list[Pay] = (), policy: Policy = POLICY,  # type: ignore[assignment]
         **kw) -> CustomerPlan:
    return plan_customer(facts(today, docs, pays, **kw), policy)


def due_steps(p: CustomerPlan) -> dict[str, str]:
    return {d.item.ref: d.step.name for d in p.due}


def skips(p: CustomerPlan) -> list[tuple[str, str]]:
    return [(i.ref, s.name) for i, s in p.skips]


def off(n: int, due: date = DUE) -> date:
    return due + timedelta(days=n)


def sent(*pairs: tuple[str, int], status: str = "sent") -> dict[str, StepRecord]:
    return {name: StepRecord(status, off(n)) for name, n in pairs}


def replay(
    docs: list[Doc], first: date, last: date, pays: list[Pay] = (),  # type: ignore[assignment]
    policy: Policy = POLICY, pauses: Pauses | None = None,
) -> list[tuple[date, str, str, str]]:
    """Plan every day from first to last, recording what each plan did, like the sweep."""
    history: dict[str, dict[str, StepRecord]] = {}
    headed: set[tuple[str, str]] = set()
    out = []
    day = first
    while day <= last:
        p = plan(day, docs, pays, policy, history=history, headed_up=headed, pauses=pauses)
        refs = [d.item.ref for d in p.due]
        assert len(refs) == len(set(refs)), "one step per item per sweep"
        for item, step in p.skips:
            history.setdefault(item.ref, {})[step.name] = StepRecord("skipped", day)
            out.append((day, item.ref, step.name, "skipped"))
        for d in p.due:
            history.setdefault(d.item.ref, {})[d.step.name] = StepRecord("sent", day)
            out.append((day, d.item.ref, d.step.name, "sent"))
        for item, step, _when in p.heads_ups:
            headed.add((item.ref, step.name))
            out.append((day, item.ref, step.name, "heads_up"))
        day += timedelta(days=1)
    return out


# ---------------------------------------------------------------- step dates


def test_the_default_ladder_is_the_contract() -> None:
    got = [(s.name, s.offset_days, s.skippable) for s in DEFAULT.steps]
    assert got == [
        ("pre_due", -3, True), ("due", 1, True), ("first", 7, False),
        ("second", 15, False), ("final", 30, False), ("formal_notice", 45, False),
    ]
    assert POLICY.min_gap_days == 3


def test_pre_due_is_due_from_three_days_before_that_day_included() -> None:
    assert due_steps(plan(off(-4), [inv()])) == {}
    assert plan(off(-4), [inv()]).next_action["INV-1"] == off(-3)
    assert due_steps(plan(off(-3), [inv()])) == {"INV-1": "pre_due"}
    assert due_steps(plan(off(-1), [inv()])) == {"INV-1": "pre_due"}
    assert due_steps(plan(off(0), [inv()])) == {"INV-1": "pre_due"}


def test_due_goes_out_the_day_after_the_due_date() -> None:
    history = {"INV-1": sent(("pre_due", -3))}
    assert due_steps(plan(off(0), [inv()], history=history)) == {}
    assert plan(off(0), [inv()], history=history).next_action["INV-1"] == off(1)
    p = plan(off(1), [inv()], history=history)
    assert due_steps(p) == {"INV-1": "due"}
    assert skips(p) == []


def test_the_whole_ladder_day_by_day_from_before_the_due_date() -> None:
    got = [(day, step, what) for day, _ref, step, what in replay([inv()], off(-10), off(80))]
    assert got == [
        (off(-3), "pre_due", "sent"),
        (off(1), "due", "sent"),
        (off(7), "first", "sent"),
        (off(15), "second", "sent"),
        (off(27), "final", "heads_up"),
        (off(30), "final", "sent"),
        (off(45), "formal_notice", "sent"),
    ]


def test_an_invoice_first_seen_at_plus_8_skips_pre_due_and_due_and_sends_first() -> None:
    p = plan(off(8), [inv()])
    assert skips(p) == [("INV-1", "pre_due"), ("INV-1", "due")]
    assert due_steps(p) == {"INV-1": "first"}
    assert p.tone is not None and p.tone.name == "first"


def test_due_is_skipped_after_pre_due_once_first_is_due() -> None:
    p = plan(off(7), [inv()], history={"INV-1": sent(("pre_due", -3))})
    assert skips(p) == [("INV-1", "due")]
    assert due_steps(p) == {"INV-1": "first"}


def test_a_skippable_step_is_not_skipped_before_the_later_step_is_due() -> None:
    # Seen at +6: first (+7) is not due yet, so `due` still goes out, and pre_due is skipped.
    p = plan(off(6), [inv()])
    assert skips(p) == [("INV-1", "pre_due")]
    assert due_steps(p) == {"INV-1": "due"}


def test_a_skipped_step_is_not_a_reminder_for_min_gap() -> None:
    history = {"INV-1": {"pre_due": StepRecord("skipped", off(6)),
                         "due": StepRecord("skipped", off(6))}}
    assert due_steps(plan(off(7), [inv()], history=history)) == {"INV-1": "first"}


def test_seen_at_plus_50_only_first_goes_out_then_the_rest_min_gap_apart() -> None:
    got = replay([inv()], off(50), off(70))
    assert got[:3] == [
        (off(50), "INV-1", "pre_due", "skipped"),
        (off(50), "INV-1", "due", "skipped"),
        (off(50), "INV-1", "first", "sent"),
    ]
    sends = [(day, step) for day, _r, step, what in got if what == "sent"]
    assert sends == [
        (off(50), "first"), (off(53), "second"), (off(56), "final"), (off(59), "formal_notice"),
    ]
    # non-skippable steps are never skipped, whatever the delay
    assert {step for _d, _r, step, what in got if what == "skipped"} == {"pre_due", "due"}


def test_min_gap_counts_from_the_previous_reminder_of_that_invoice() -> None:
    history = {"INV-1": {"pre_due": StepRecord("skipped", off(50)),
                         "due": StepRecord("skipped", off(50)),
                         "first": StepRecord("sent", off(50))}}
    for day in (51, 52):
        p = plan(off(day), [inv()], history=history, headed_up={("INV-1", "final")})
        assert due_steps(p) == {}
        assert p.next_action["INV-1"] == off(53)
    assert due_steps(plan(off(53), [inv()], history=history)) == {"INV-1": "second"}


@pytest.mark.parametrize("status", ["no_channel", "unknown", "failed"])
def test_every_reminded_status_counts_as_done_and_for_the_gap(status: str) -> None:
    history = {"INV-1": sent(("pre_due", -3), ("due", 1), ("first", 13), status=status)}
    assert due_steps(plan(off(15), [inv()], history=history)) == {}
    assert due_steps(plan(off(16), [inv()], history=history)) == {"INV-1": "second"}


@pytest.mark.parametrize("status", ["pending", "sending"])
def test_a_step_not_delivered_yet_holds_the_invoice_until_it_is(status: str) -> None:
    """Telegram down (or off) for weeks: the first step waits in the outbox and no later step piles up
    behind it, so catch-up sends one step per invoice, never first and second at once (issue 14 §2)."""
    history = {"INV-1": sent(("pre_due", -3), ("due", 1)) | sent(("first", 13), status=status)}
    for day in (16, 31, 60):
        p = plan(off(day), [inv()], history=history)
        assert due_steps(p) == {}
        assert p.next_action["INV-1"] == off(day + 3)  # looked at again after the gap
    delivered = {"INV-1": sent(("pre_due", -3), ("due", 1), ("first", 13))}
    assert due_steps(plan(off(16), [inv()], history=delivered)) == {"INV-1": "second"}


def test_one_step_per_sweep_even_far_behind() -> None:
    p = plan(off(200), [inv()])
    assert list(due_steps(p).items()) == [("INV-1", "first")]


# ---------------------------------------------------------------- one message per customer


def test_one_message_lists_every_due_invoice_in_the_tone_of_the_highest_step() -> None:
    docs = [inv("INV-A", due=off(-8)), inv("INV-B", due=off(3)), inv("INV-C", due=off(-40))]
    history = {"INV-C": sent(("first", -33), ("second", -25), ("final", -10), status="sent")}
    p = plan(off(0), docs, history=history)
    # INV-C is at offset +40: formal_notice is not due until +45
    assert due_steps(p) == {"INV-A": "first", "INV-B": "pre_due"}
    assert p.tone is not None and p.tone.name == "first"
    p2 = plan(off(5), docs, history=history)
    assert due_steps(p2)["INV-C"] == "formal_notice"
    assert p2.tone is not None and p2.tone.name == "formal_notice"


# ---------------------------------------------------------------- pauses


def _paused(p: CustomerPlan, ref: str = "INV-1") -> str | None:
    assert ref not in due_steps(p)
    assert ref not in {i.ref for i, _ in p.skips}
    assert ref not in {i.ref for i, _, _ in p.heads_ups}
    return p.paused.get(ref)


@pytest.mark.parametrize(
    ("pauses", "why"),
    [
        (Pauses(disputed={"INV-1"}), "disputed"),
        (Pauses(claimed={"INV-1": datetime(2026, 3, 1, tzinfo=UTC)}), "claimed"),
        (Pauses(in_plan={"INV-1"}), "in_plan"),
    ],
)
def test_disputed_claimed_and_in_plan_items_get_nothing(pauses: Pauses, why: str) -> None:
    docs = [inv(), inv("INV-2")]
    for day in (-3, 1, 8, 30, 100):
        p = plan(off(day), docs, pauses=pauses)
        assert _paused(p) == why
        assert "INV-2" in due_steps(p), "only the paused item waits"


def test_a_claim_pauses_forever_without_a_cap_and_for_the_cap_with_one() -> None:
    claimed_at = datetime(2026, 3, 10, 12, tzinfo=UTC)
    pauses = Pauses(claimed={"INV-1": claimed_at})
    late = datetime(2026, 6, 1, 12, tzinfo=UTC)
    assert _paused(plan(late.date(), [inv()], pauses=pauses, now=late)) == "claimed"

    capped = dataclasses.replace(POLICY, claimed_payment_pause_days=3)
    inside = claimed_at + timedelta(days=2)
    p = plan(inside.date(), [inv()], policy=capped, pauses=pauses, now=inside)
    assert _paused(p) == "claimed"
    after = claimed_at + timedelta(days=4)
    p = plan(after.date(), [inv()], policy=capped, pauses=pauses, now=after)
    assert "INV-1" not in p.paused
    assert due_steps(p) == {"INV-1": "first"}


def test_a_promise_pauses_until_the_promised_date_inclusive() -> None:
    history = {"INV-1": sent(("pre_due", -3), ("due", 1))}
    for pauses in (Pauses(promised={"INV-1": off(12)}), Pauses(promised_all=off(12))):
        for day in (7, 10, 12):
            p = plan(off(day), [inv()], history=history, pauses=pauses)
            assert _paused(p) == "promised"
            assert p.next_action["INV-1"] == off(13)
        assert due_steps(plan(off(13), [inv()], history=history, pauses=pauses)) == {
            "INV-1": "first"
        }


@pytest.mark.parametrize("scope", ["customer", "document"])
def test_a_hold_pauses_until_its_end_inclusive(scope: str) -> None:
    until = off(9)
    pauses = (Pauses(customer_hold_until=until) if scope == "customer"
              else Pauses(doc_hold_until={"INV-1": until}))
    for day in (-3, 1, 7, 9):
        p = plan(off(day), [inv()], pauses=pauses)
        assert _paused(p) == "on_hold"
        assert p.next_action["INV-1"] == off(10)
    p = plan(off(10), [inv()], pauses=pauses)
    assert due_steps(p) == {"INV-1": "first"}
    assert skips(p) == [("INV-1", "pre_due"), ("INV-1", "due")]


def test_a_document_hold_leaves_the_other_items_alone() -> None:
    pauses = Pauses(doc_hold_until={"INV-1": off(20)})
    p = plan(off(8), [inv(), inv("INV-2")], pauses=pauses)
    assert _paused(p) == "on_hold"
    assert due_steps(p) == {"INV-2": "first"}


def test_an_open_conversation_pauses_for_conversation_pause_days() -> None:
    assert POLICY.conversation_pause_days == 2
    talk = datetime(2026, 3, 12, 15, tzinfo=UTC)
    pauses = Pauses(conversation_at=talk)
    soon = talk + timedelta(days=1)
    assert _paused(plan(soon.date(), [inv()], pauses=pauses, now=soon)) == "conversation"
    later = talk + timedelta(days=3)
    p = plan(later.date(), [inv()], pauses=pauses, now=later)
    assert "INV-1" not in p.paused
    assert "INV-1" in due_steps(p)


def test_pause_caps_count_the_debtors_local_dates_not_elapsed_hours() -> None:
    """DESIGN: every day count uses the debtor's local calendar date at `now`. A talk late on
    Tuesday 10 March (Sao Paulo) pauses Tuesday and Wednesday; Thursday morning is free,
    although fewer than 48 hours have passed."""
    sp = ZoneInfo("America/Sao_Paulo")
    talk = datetime(2026, 3, 10, 23, 30, tzinfo=sp)  # 02:30 UTC on the 11th
    pauses = Pauses(conversation_at=talk.astimezone(UTC))
    wed = datetime(2026, 3, 11, 17, tzinfo=sp)
    assert _paused(plan(wed.date(), [inv()], pauses=pauses, now=wed)) == "conversation"
    thu = datetime(2026, 3, 12, 9, tzinfo=sp)  # 33.5 hours later
    assert "INV-1" not in plan(thu.date(), [inv()], pauses=pauses, now=thu).paused

    capped = dataclasses.replace(POLICY, claimed_payment_pause_days=1)
    claims = Pauses(claimed={"INV-1": talk.astimezone(UTC)})
    assert _paused(plan(talk.date(), [inv()], policy=capped, pauses=claims, now=talk)) == "claimed"
    assert "INV-1" not in plan(wed.date(), [inv()], policy=capped, pauses=claims, now=wed).paused


def test_a_pause_ending_resumes_with_skips_not_a_burst() -> None:
    pauses = Pauses(customer_hold_until=off(40))
    got = replay([inv()], off(-10), off(70), pauses=pauses)
    sends = [(day, step) for day, _r, step, what in got if what == "sent"]
    assert sends == [
        (off(41), "first"), (off(44), "second"), (off(47), "final"), (off(50), "formal_notice"),
    ]


# ---------------------------------------------------------------- amounts


def test_an_item_below_the_minimum_gets_nothing() -> None:
    docs = [inv("SMALL", cents=99), inv("EXACT", cents=100)]
    p = plan(off(8), docs)
    assert due_steps(p) == {"EXACT": "first"}
    assert "SMALL" not in {i.ref for i, _ in p.skips}


def test_a_partly_paid_item_below_the_minimum_gets_nothing() -> None:
    pay = Pay("PAY-1", off(-10), 99_950, "USD", (("INV-1", 99_950),))
    assert due_steps(plan(off(8), [inv()], [pay])) == {}
    pay_less = Pay("PAY-1", off(-10), 99_900, "USD", (("INV-1", 99_900),))
    assert due_steps(plan(off(8), [inv()], [pay_less])) == {"INV-1": "first"}


def test_a_payment_dated_later_does_not_count_yet() -> None:
    pay = Pay("PAY-1", off(10), 100_000, "USD", (("INV-1", 100_000),))
    assert due_steps(plan(off(8), [inv()], [pay])) == {"INV-1": "first"}
    assert due_steps(plan(off(10), [inv()], [pay])) == {}


def test_a_per_currency_minimum_applies() -> None:
    policy = dataclasses.replace(POLICY, minimum_open={"IRR": Decimal("500000.00")})
    docs = [inv("IR-1", cents=40_000_000, currency="IRR"), inv("IR-2", cents=60_000_000,
                                                               currency="IRR")]
    assert due_steps(plan(off(8), docs, policy=policy)) == {"IR-2": "first"}


def test_a_customer_in_credit_gets_nothing() -> None:
    credit = Doc("CN-1", "credit_note", off(-20), None, 150_000, "USD")
    assert due_steps(plan(off(8), [inv(), credit])) == {}
    assert plan(off(8), [inv(), credit]).next_action.get("INV-1") is None


def test_credit_in_one_currency_does_not_silence_another() -> None:
    credit = Doc("CN-1", "credit_note", off(-20), None, 150_000, "USD")
    eur = inv("INV-EUR", currency="EUR")
    assert due_steps(plan(off(8), [credit, eur])) == {"INV-EUR": "first"}


def test_a_debit_note_is_chased_like_an_invoice() -> None:
    assert due_steps(plan(off(8), [inv("DN-1", kind="debit_note")])) == {"DN-1": "first"}


def test_an_item_not_yet_issued_is_not_chased() -> None:
    doc = inv(issue=off(-1))
    assert due_steps(plan(off(-2), [doc])) == {}
    assert due_steps(plan(off(-1), [doc])) == {"INV-1": "pre_due"}


# ---------------------------------------------------------------- heads-up


def test_the_sales_heads_up_for_final_comes_three_days_before_it() -> None:
    history = {"INV-1": sent(("pre_due", -3), ("due", 1), ("first", 7), ("second", 15))}
    assert plan(off(26), [inv()], history=history).heads_ups == []
    p = plan(off(27), [inv()], history=history)
    assert [(i.ref, s.name, when) for i, s, when in p.heads_ups] == [("INV-1", "final", off(30))]
    assert due_steps(p) == {}
    again = plan(off(28), [inv()], history=history, headed_up={("INV-1", "final")})
    assert again.heads_ups == []


def test_no_heads_up_for_a_paused_item() -> None:
    history = {"INV-1": sent(("pre_due", -3), ("due", 1), ("first", 7), ("second", 15))}
    p = plan(off(27), [inv()], history=history, pauses=Pauses(disputed={"INV-1"}))
    assert p.heads_ups == []


# ---------------------------------------------------------------- next_action is never late

SEGMENTS = sorted(POLICY.segments)
STATUSES = ["sent", "no_channel", "skipped", "unknown"]


@st.composite
def histories(draw: st.DrawFn) -> tuple:
    segment = POLICY.segment(draw(st.sampled_from(SEGMENTS)))
    today = DUE + timedelta(days=draw(st.integers(-15, 110)))
    n = draw(st.integers(1, 3))
    docs, history, headed = [], {}, set()
    for k in range(n):
        ref = f"INV-{k}"
        due = today + timedelta(days=draw(st.integers(-100, 20)))
        cents = draw(st.sampled_from([50, 100, 5_000, 100_000]))
        docs.append(Doc(ref, "invoice", min(due, today) - timedelta(days=draw(st.integers(0, 40))),
                        due, cents, "USD"))
        recs = {}
        for s in segment.steps:
            if draw(st.booleans()):
                back = draw(st.integers(0, 30))
                recs[s.name] = StepRecord(draw(st.sampled_from(STATUSES)),
                                          today - timedelta(days=back))
            if s.heads_up_days and draw(st.booleans()):
                headed.add((ref, s.name))
        history[ref] = recs
    hold = draw(st.none() | st.integers(-3, 20))
    promise = draw(st.none() | st.integers(-3, 20))
    pauses = Pauses(
        customer_hold_until=None if hold is None else today + timedelta(days=hold),
        promised={} if promise is None else {"INV-0": today + timedelta(days=promise)},
        disputed={"INV-1"} if draw(st.booleans()) else set(),
    )
    return segment, today, docs, history, headed, pauses


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories())
def test_next_action_is_never_later_than_the_next_thing_to_do(case: tuple) -> None:
    """If nothing is due for X at D, nothing happens for X before next_action[X] either."""
    segment, today, docs, history, headed, pauses = case

    def at(day: date, hist: dict, head: set) -> CustomerPlan:
        return plan(day, docs, history=hist, headed_up=head, pauses=pauses, segment=segment)

    first = at(today, history, headed)
    hist = {ref: dict(recs) for ref, recs in history.items()}
    head = set(headed)
    for item, step in first.skips:  # what the sweep records at D
        hist[item.ref][step.name] = StepRecord("skipped", today)
    for item, step, _ in first.heads_ups:
        head.add((item.ref, step.name))
    due_refs = set(due_steps(first))
    for ref, nxt in first.next_action.items():
        if ref in due_refs:
            continue
        assert nxt is None or nxt >= today
        horizon = nxt if nxt is not None else today + timedelta(days=150)
        day = today + timedelta(days=1)
        while day < horizon:
            later = at(day, hist, head)
            what = (
                due_steps(later).get(ref),
                [s.name for i, s in later.skips if i.ref == ref],
                [s.name for i, s, _ in later.heads_ups if i.ref == ref],
            )
            assert what == (None, [], []), (
                f"{ref}: next_action {nxt} planned at {today}, but at {day}: {what}"
            )
            day += timedelta(days=1)


def test_a_step_needing_sales_approval_waits_item_by_item_until_agreed() -> None:
    strategic = POLICY.segments["strategic"]
    gate = next(s for s in strategic.steps if s.sales_approval)
    assert gate.name == "formal_notice" and gate.offset_days == 60
    history = {ref: sent(("first", 7), ("second", 15), ("final", 30)) for ref in ("INV-1", "INV-2")}
    docs = [inv(), inv("INV-2")]
    before = plan(off(59), docs, history=history, segment=strategic)
    assert due_steps(before) == {} and before.awaiting == []
    waiting = plan(off(60), docs, history=history, segment=strategic, approved=frozenset({("INV-2", "final")}))
    assert [(i.ref, s.name) for i, s in waiting.awaiting] == [("INV-1", "formal_notice"), ("INV-2", "formal_notice")]
    assert waiting.paused == {"INV-1": "awaiting_sales", "INV-2": "awaiting_sales"}
    assert waiting.next_action == {"INV-1": off(61), "INV-2": off(61)}
    agreed = plan(off(64), docs, history=history, segment=strategic,
                  approved=frozenset({("INV-2", "formal_notice")}))
    assert due_steps(agreed) == {"INV-2": "formal_notice"}
    assert [i.ref for i, _s in agreed.awaiting] == ["INV-1"]
