"""A decision's notice to the debtor keeps its reason on a line of its own, in every language.

The templates are rendered with trim_blocks: a line break right after `{% if reason %}` used to
be eaten, so the debtor read "...for INV-1013.Reason: no transfer reached our account".
"""

from __future__ import annotations

from datetime import date

import pytest

from messages.chat import say
from messages.locales import SUPPORTED_LOCALES

PAYMENT = {"amount_cents": 739188, "currency": "USD", "paid_on": date(2026, 11, 3), "reference": "WIRE-7781",
           "invoices": ["INV-1013"]}
NOTICES = {
    "notices.payment_confirmed": PAYMENT,
    "notices.payment_rejected": PAYMENT,
    "notices.dispute_valid": {"invoices": ["DN-4002"]},
    "notices.dispute_not_valid": {"invoices": ["DN-4002"]},
    "notices.plan_rejected": {"total_cents": 100, "currency": "USD"},
}


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
@pytest.mark.parametrize("phrase", list(NOTICES))
def test_the_reason_is_a_line_of_its_own(phrase: str, locale: str) -> None:
    reason = "no transfer reached our account"
    text = say(phrase, locale, reason=reason, **NOTICES[phrase])
    lines = text.split("\n")
    assert any(line.endswith(reason) and len(line) < len(reason) + 12 for line in lines), text  # "Reason: ..." at most
    without = say(phrase, locale, reason="", **NOTICES[phrase])
    assert "\n\n\n" not in without and not without.endswith("\n")
    if "\n\n" in say(phrase, locale, reason="", **NOTICES[phrase]):
        assert "\n\n" in text  # the closing paragraph stays a paragraph
