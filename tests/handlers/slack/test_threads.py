"""One thread per customer case in COLLECTBOT_SLACK_CHANNEL, found again after a restart; posts within 1/s."""

from __future__ import annotations

import time

import pytest

from bot.handlers.slack import SlackAlertChannel, web_client
from bot.scheduler.channels import NotPosted, StaffPost
from bot.services.talk import talk_to_person
from tests.fakes import FakeSlack
from tests.handlers.slack.harness import CHANNEL, SlackRig, make_app, roots, visible_text


def talk(rig: SlackRig, ref: str, text: str, key: str) -> None:
    customer = rig.customer(ref)
    with rig.app.engine.begin() as conn:
        talk_to_person(conn, customer, chat_id=5001, contact_id=0, message_key=key, text=text,
                       now=rig.app.now())


async def test_each_customer_has_one_thread_whose_root_names_them(rig: SlackRig, slack: FakeSlack) -> None:
    talk(rig, "ACME", "first", "a1")
    talk(rig, "BETA", "olá", "b1")
    talk(rig, "ACME", "second", "a2")
    posted = await rig.post_alerts()
    tops = roots(slack)
    assert [m.text for m in tops] == [
        ":file_folder: *ACME &lt;Corp&gt; &amp; Sons* (`ACME`): collections case",
        ":file_folder: *Beta Ltda* (`BETA`): collections case",
    ]
    acme, beta = tops
    assert [m.thread_ts for m in posted] == [acme.ts, beta.ts, acme.ts]
    assert "first" in posted[0].text and "second" in posted[2].text
    assert slack.rate_limited == 0  # the shared budget kept every post under 1/s in the channel
    assert "Reply in this thread starting with `>>`" in visible_text(posted[0])


async def test_the_thread_is_found_again_after_a_restart(rig: SlackRig, slack: FakeSlack, database_url: str) -> None:
    talk(rig, "ACME", "before the restart", "a1")
    await rig.post_alerts()
    await rig.stop()
    again = SlackRig(make_app(database_url, slack), slack)
    await again.start()
    try:
        talk(again, "ACME", "after the restart", "a2")
        posted = await again.post_alerts()
        assert len(roots(slack)) == 1
        assert posted[0].thread_ts == roots(slack)[0].ts
    finally:
        await again.stop()
        again.app.engine.dispose()


async def test_a_deleted_root_opens_a_new_thread(rig: SlackRig, slack: FakeSlack) -> None:
    talk(rig, "ACME", "one", "a1")
    await rig.post_alerts()
    await web_client(rig.app).chat_delete(channel=CHANNEL, ts=roots(slack)[0].ts)
    slack.advance(2)
    talk(rig, "ACME", "two", "a2")
    posted = await rig.post_alerts()
    assert len(roots(slack)) == 1 and posted[0].thread_ts == roots(slack)[0].ts


async def test_a_429_is_waited_out_by_the_sdk_and_a_lasting_one_is_not_posted(rig: SlackRig, slack: FakeSlack) -> None:
    channel = rig.handle.alerts
    alert = StaffPost(alert_id=999, kind="note", text="hello", customer_id=None)
    slack.rate_limit_next(retry_after=1, method="chat.postMessage")
    started = time.monotonic()
    receipt = await channel.post(alert)
    assert time.monotonic() - started >= 0.9  # Retry-After honoured, then posted once
    assert [m.text for m in slack.posts(CHANNEL)] == ["hello"]
    assert receipt.ts == slack.posts(CHANNEL)[0].ts
    slack.rate_limit_next(retry_after=1, times=3, method="chat.postMessage")
    with pytest.raises(NotPosted) as caught:
        await channel.post(alert)
    assert caught.value.retry_after == 1
    slack.fail_next(503, method="chat.postMessage")
    with pytest.raises(NotPosted, match="503"):
        await channel.post(alert)


async def test_two_channels_at_once_open_one_thread(rig: SlackRig, slack: FakeSlack) -> None:
    """Two posters (two processes) posting the first alerts of one customer at the same time."""
    import asyncio

    other = SlackAlertChannel(rig.app, web_client(rig.app), CHANNEL, holder="other-process")
    cid = rig.customer_id("ACME")
    a = StaffPost(alert_id=1, kind="note", text="from one", customer_id=cid, customer_ref="ACME", customer_name="x")
    b = StaffPost(alert_id=2, kind="note", text="from two", customer_id=cid, customer_ref="ACME", customer_name="x")
    one, two = await asyncio.gather(rig.handle.alerts.post(a), other.post(b))
    assert len(roots(slack)) == 1
    assert {m.thread_ts for m in slack.posts(CHANNEL) if m.thread_ts} == {roots(slack)[0].ts}
    assert slack.rate_limited == 0
