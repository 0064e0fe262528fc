"""Who sees what (DESIGN "Who sees what in Slack"), decided in one place for every question and report.

Credit staff (COLLECTBOT_CREDIT_STAFF) see every customer; a sales rep (a
`sales_rep_slack_id` in the ledger) sees their own customers; anyone else sees no
customer and learns no amount. A report function takes `visibility.rep_slack_id`
(None for credit staff); callers must not call it at all when `sees_nothing`.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import Connection

from storage import report_reads


@dataclass(frozen=True)
class Visibility:
    slack_user_id: str
    credit_staff: bool
    rep_slack_id: str | None  # set for a sales rep who is not credit staff: only their customers

    @property
    def sees_nothing(self) -> bool:
        """Neither credit staff nor a known sales rep: such a Slack user is shown no customer."""
        return not self.credit_staff and self.rep_slack_id is None

    def may_see(self, customer_rep_slack_id: str) -> bool:
        """Whether this user may see a customer whose sales rep is `customer_rep_slack_id`."""
        return self.credit_staff or (self.rep_slack_id is not None and customer_rep_slack_id == self.rep_slack_id)


def visibility_for(conn: Connection, slack_user_id: str, credit_staff: Collection[str]) -> Visibility:
    """What a Slack user may see: credit staff everything, a rep their customers, anyone else nothing."""
    user = slack_user_id.strip()
    if user and user in credit_staff:
        return Visibility(user, True, None)
    return Visibility(user, False, user if report_reads.is_sales_rep(conn, user) else None)
