"""Case statuses are enums (bot.domain.statuses) stored as their strings in VARCHAR(16) columns."""

from __future__ import annotations

from enum import StrEnum

import pytest

from bot.domain.statuses import DisputeStatus, HoldStatus, PaymentStatus, PlanStatus, PromiseStatus
from storage.tables import Dispute, Hold, Payment, PaymentPlan, Promise

PAIRS = [
    (Payment, PaymentStatus, "confirmed"),
    (Dispute, DisputeStatus, "open"),
    (PaymentPlan, PlanStatus, "proposed"),
    (Promise, PromiseStatus, "open"),
    (Hold, HoldStatus, "active"),
]


@pytest.mark.parametrize(("table", "enum", "default"), PAIRS, ids=lambda v: getattr(v, "__name__", str(v)))
def test_every_status_fits_its_column_and_the_default_is_one(table: type, enum: type[StrEnum], default: str) -> None:
    column = table.__table__.c.status
    assert all(len(s.value) <= column.type.length for s in enum)
    assert column.default.arg == default and column.default.arg in set(enum)


def test_a_status_equals_the_string_a_row_holds() -> None:
    assert PaymentStatus("claimed") is PaymentStatus.CLAIMED
    assert f"notices.plan_{PlanStatus.APPROVED}" == "notices.plan_approved"
    assert DisputeStatus.NOT_VALID == "not_valid"
