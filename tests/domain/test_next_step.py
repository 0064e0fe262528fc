"""The next dunning step a customer faces, projected with the ladder's rules (bot.domain.next_step)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.domain.balances import compute_balance
from bot.domain.ladder import CustomerFacts, StepRecord
from bot.domain.ledger import Doc
from bot.domain.next_step import project_next_step
from bot.domain.pauses import Pauses
from bot.domain.policy_loader import load_policy

POLICY = load_policy(None)
TODAY = date(2026, 11, 23)  # a Monday


def facts(docs: list[Doc], history: dict | None = None, pauses: Pauses | None = None) -> CustomerFacts:
    return CustomerFacts(
        segment=POLICY.segment("default"),
        today=TODAY,
        now=datetime(2026, 11, 23, 15, tzinfo=UTC),
        balance=compute_balance(docs, [], TODAY, customer_currency="USD"),
        history=history or {},
        pauses=pauses or Pauses(),
        country="US",
    )


def inv(ref: str, due: date, cents: int = 10_000) -> Doc:
    return Doc(ref, "invoice", date(2026, 9, 1), due, cents, "USD")


def test_an_overdue_item_never_reminded_goes_out_today_at_its_first_unskipped_step() -> None:
    proj = project_next_step(facts([inv("A", date(2026, 11, 1))]), POLICY)
    assert (proj.next.step, proj.next.on, proj.next.doc_refs) == ("first", TODAY, ("A",))  # pre_due, due skipped


def test_min_gap_and_business_days_move_the_date() -> None:
    sent = {"A": {"due": StepRecord("sent", date(2026, 11, 22))}}  # due 2026-11-21: first on Sat 11-28
    proj = project_next_step(facts([inv("A", date(2026, 11, 21))], sent), POLICY)
    assert (proj.next.step, proj.next.on) == ("first", date(2026, 11, 30))  # the Monday after
    recent = {"A": {"first": StepRecord("sent", date(2026, 11, 22))}}  # second is due, but 3 days apart
    proj = project_next_step(facts([inv("A", date(2026, 11, 1))], recent), POLICY)
    assert (proj.next.step, proj.next.on) == ("second", date(2026, 11, 25))


def test_items_sharing_the_earliest_date_go_in_one_message_in_the_highest_tone() -> None:
    history = {"B": {"first": StepRecord("sent", date(2026, 11, 1)), "second": StepRecord("sent", date(2026, 11, 5))}}
    proj = project_next_step(facts([inv("A", date(2026, 11, 1)), inv("B", date(2026, 9, 1))], history), POLICY)
    assert proj.next.on == TODAY and set(proj.next.doc_refs) == {"A", "B"} and proj.next.step == "final"


def test_paused_items_say_why_and_until_when() -> None:
    pauses = Pauses(disputed={"A"}, promised={"B": date(2026, 11, 30)})
    proj = project_next_step(facts([inv("A", date(2026, 11, 1)), inv("B", date(2026, 11, 1))], pauses=pauses), POLICY)
    assert proj.next is None
    assert proj.paused == {"A": ("disputed", None), "B": ("promised", date(2026, 12, 1))}


def test_nothing_open_nothing_next() -> None:
    proj = project_next_step(facts([]), POLICY)
    assert proj.next is None and proj.paused == {} and not proj.customer_paused
