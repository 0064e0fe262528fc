"""Inside `collectbot run`, what a debtor does in the chat reaches staff at once.

Found trying the product: with COLLECTBOT_SWEEP_INTERVAL_MINUTES=0 (no periodic job) a dispute
opened or a message to a person stayed `pending` in the staff outbox until someone ran a sweep,
and with the default interval it waited up to 30 s for the delivery job. The debtor's bot now asks
the delivery path for a pass after each update, as the Slack app does after a decision.
"""

from __future__ import annotations

import asyncio

from bot.scheduler.channels import ConsoleAlertChannel
from bot.scheduler.delivery import Outflow
from tests.handlers.telegram.harness import ACME_CHAT, BotRig


async def test_a_message_to_a_person_is_posted_to_staff_without_a_sweep(rig: BotRig) -> None:
    staff = ConsoleAlertChannel()
    rig.app.outflow = Outflow(engine=rig.app.engine, debtor=None, staff=staff,  # type: ignore[attr-defined]
                              renderer=rig.app.renderer, clock=rig.app.now)
    await rig.send(ACME_CHAT, f"/start {rig.link(ACME_CHAT, 'ACME')}")
    await rig.click(ACME_CHAT, "Talk to a person")
    await rig.send(ACME_CHAT, "Please call me about INV-1")
    for _ in range(100):
        if any(p.kind == "message_in" for p in staff.posted):
            break
        await asyncio.sleep(0.05)
    assert [p.kind for p in staff.posted if p.kind == "message_in"] == ["message_in"]
    assert "Please call me about INV-1" in next(p.text for p in staff.posted if p.kind == "message_in")
