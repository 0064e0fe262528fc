"""The projected real date of a step (bot.domain.ladder.project_dates) and the heads-ups it decides.

DESIGN "Ladder dates and windows": a sales heads-up names the date the step will really go out
at the earliest (min gap, one step per sweep, the country's business days), never a date
already past, once per (item, step), when that date is at most the step's heads-up days away.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain.balances import compute_balance
from bot.domain.ladder import CustomerFacts, StepRecord, ladder_fingerprint, plan_customer, project_dates
from bot.domain.ledger import Doc
from bot.domain.policy_loader import load_policy

POLICY = load_policy(None)
DEFAULT = POLICY.segment("default")
STEPS = {s.name: s for s in DEFAULT.steps}


def facts(now: datetime, due: date, *, country: str = "", history: dict | None = None) -> tuple[CustomerFacts, object]:
    today = now.date()
    docs = [Doc("INV-1", "invoice", due - timedelta(days=30), due, 100_000, "EUR")]
    f = CustomerFacts(segment=DEFAULT, today=today, now=now, balance=compute_balance(docs, [], today),
                      history=history or {}, country=country)
    return f, f.balance.open_items[0]


def local(day: date, hour: int, tz: str = "UTC") -> datetime:
    return datetime.combine(day, time(hour), ZoneInfo(tz))


def pending(*names: str) -> list:
    return [STEPS[n] for n in names]


def test_a_chain_of_steps_is_spaced_by_the_gap_and_moved_off_weekends() -> None:
    # Berlin, due 31 January, first swept Thursday 12 March: first now, second +3 = Sunday ->
    # Monday 16, final Thursday 19, formal notice Sunday 22 -> Monday 23
    f, item = facts(local(date(2026, 3, 12), 10, "Europe/Berlin"), date(2026, 1, 31), country="DE")
    got = project_dates(item, pending("first", "second", "final", "formal_notice"), None, f, POLICY,
                        first_goes_now=True)
    assert got == {"first": date(2026, 3, 12), "second": date(2026, 3, 16), "final": date(2026, 3, 19),
                   "formal_notice": date(2026, 3, 23)}


def test_in_iran_friday_is_skipped_not_sunday() -> None:
    # final due on Friday 31 July 2026 (Tehran): it goes out Saturday 1 August
    due = date(2026, 7, 1)
    history = {"INV-1": {"second": StepRecord("sent", date(2026, 7, 16))}}
    f, item = facts(local(date(2026, 7, 28), 10, "Asia/Tehran"), due, country="IR", history=history)
    assert project_dates(item, pending("final"), date(2026, 7, 16), f, POLICY) == {"final": date(2026, 8, 1)}
    f_us, item_us = facts(local(date(2026, 7, 28), 10), due, country="US", history=history)
    assert project_dates(item_us, pending("final"), date(2026, 7, 16), f_us, POLICY) == {"final": date(2026, 7, 31)}


def test_after_closing_time_today_is_over() -> None:
    due = date(2026, 3, 4)  # final +30 = Friday 3 April 2026 (UTC, no country: Mon-Fri)
    f, item = facts(local(date(2026, 4, 3), 19), due)
    assert project_dates(item, pending("final"), date(2026, 3, 19), f, POLICY) == {"final": date(2026, 4, 6)}
    f, item = facts(local(date(2026, 4, 3), 8), due)  # before opening: still today
    assert project_dates(item, pending("final"), date(2026, 3, 19), f, POLICY) == {"final": date(2026, 4, 3)}


def test_a_skippable_step_overtaken_by_a_later_one_has_no_date() -> None:
    due = date(2026, 3, 4)
    f, item = facts(local(date(2026, 3, 2), 10), due)  # pre_due (-3) was yesterday, not yet sent
    got = project_dates(item, pending("pre_due", "due", "first"), None, f, POLICY)
    assert got["pre_due"] == date(2026, 3, 2) and got["due"] == date(2026, 3, 5)
    f, item = facts(local(date(2026, 3, 3), 19), due)  # Tuesday evening: pre_due waits...
    got = project_dates(item, pending("pre_due", "due", "first"), None, f, POLICY)
    assert got == {"pre_due": date(2026, 3, 4),  # ...for tomorrow morning, before `due` (+1) overtakes it
                   "due": date(2026, 3, 9), "first": date(2026, 3, 12)}  # 3 days apart, off the weekend
    f, item = facts(local(date(2026, 3, 4), 19), due)  # the due date's evening: tomorrow `due` has come
    got = project_dates(item, pending("pre_due", "due", "first"), None, f, POLICY)
    assert "pre_due" not in got and got["due"] == date(2026, 3, 5)
    f, item = facts(local(date(2026, 3, 6), 19), due)  # Friday evening: Monday is +5, `due` (+1) has passed
    got = project_dates(item, pending("pre_due", "due", "first"), None, f, POLICY)
    assert "pre_due" not in got and got["due"] == date(2026, 3, 9) and got["first"] == date(2026, 3, 12)


def test_the_heads_up_is_given_when_the_real_date_is_near_and_names_it() -> None:
    due = date(2026, 1, 31)
    sent = {"INV-1": {"first": StepRecord("sent", date(2026, 3, 12))}}
    for day, expected in ((date(2026, 3, 13), []), (date(2026, 3, 16), [("final", date(2026, 3, 19))])):
        # the second goes out on the 16th itself: the final follows 3 days later
        f, _ = facts(local(day, 10, "Europe/Berlin"), due, country="DE", history=sent)
        plan = plan_customer(f, POLICY)
        assert [(s.name, when) for _i, s, when in plan.heads_ups] == expected
        assert all(when >= day for _i, _s, when in plan.heads_ups)


def test_the_fingerprint_follows_the_ladder_not_the_wording() -> None:
    import dataclasses

    base = ladder_fingerprint(POLICY)
    assert ladder_fingerprint(load_policy(None)) == base
    seg = POLICY.segments["default"]
    moved = tuple(dataclasses.replace(s, offset_days=-5) if s.name == "pre_due" else s for s in seg.steps)
    other = dataclasses.replace(POLICY, segments=POLICY.segments | {"default": dataclasses.replace(seg, steps=moved)})
    assert ladder_fingerprint(other) != base
    reworded = tuple(dataclasses.replace(s, template="reminder/gentle") if s.name == "first" else s for s in seg.steps)
    same = dataclasses.replace(POLICY, segments=POLICY.segments | {"default": dataclasses.replace(seg, steps=reworded)})
    assert ladder_fingerprint(same) == base
    assert ladder_fingerprint(dataclasses.replace(POLICY, min_gap_days=4)) != base
    _ = UTC
