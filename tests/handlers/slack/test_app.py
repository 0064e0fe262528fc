"""The Slack app as `collectbot run` starts it: HTTP mode (signed requests), Socket Mode, retries, bad tokens."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.handlers.slack import SlackUnavailable, start_slack, stop_slack
from bot.services.talk import talk_to_person
from tests.fakes import FakeSlack, SlackEventsClient, url_verification
from tests.handlers.slack.harness import CHANNEL, CREDIT, REP, SECRET, SlackRig, load, make_app


async def case_thread(rig: SlackRig) -> str:
    customer = rig.customer("ACME")
    with rig.app.engine.begin() as conn:
        talk_to_person(conn, customer, chat_id=1, contact_id=0, message_key="k", text="hi", now=rig.app.now())
    [message] = await rig.post_alerts()
    return message.thread_ts


async def test_http_mode_refuses_badly_signed_and_stale_requests(rig: SlackRig, slack: FakeSlack) -> None:
    root = await case_thread(rig)
    assert rig.handle.mode == "http"
    bad = slack.message(REP, CHANNEL, "forged note", thread_ts=root)
    assert await rig.send(bad, secret="not-the-secret") == 401
    stale = slack.message(REP, CHANNEL, "replayed note", thread_ts=root)
    assert await rig.send(stale, age=301) == 401
    late_but_fine = slack.message(REP, CHANNEL, "a note", thread_ts=root)
    assert await rig.send(late_but_fine, age=280) == 200
    await rig.settle()
    assert [e.text for e in rig.events_of("ACME", "note_added")] == ["a note"]
    assert (await rig.events.send(url_verification("abc"))).json() == {"challenge": "abc"}


async def test_slack_retries_of_an_event_are_not_acted_on_twice(rig: SlackRig, slack: FakeSlack) -> None:
    root = await case_thread(rig)
    event = slack.message(REP, CHANNEL, "check is in the mail", thread_ts=root)
    assert await rig.send(event) == 200
    assert await rig.send(event, retry_num=1, retry_reason="http_timeout") == 200
    await rig.settle()
    assert [e.text for e in rig.events_of("ACME", "note_added")] == ["check is in the mail"]


async def test_socket_mode_acks_at_once_and_acts(database_url: str, tmp_path: Path, slack: FakeSlack) -> None:
    app = make_app(database_url, slack, socket=True)
    load(app, tmp_path)
    rig = await SlackRig(app, slack).start()
    try:
        assert rig.handle.mode == "socket" and rig.handle.port is None
        await slack.until(lambda: slack.socket_connected)
        root = await case_thread(rig)
        first = slack.message(CREDIT, CHANNEL, "over the socket", thread_ts=root)
        envelope = slack.socket_send(first)
        slack.socket_send(first, retry_attempt=1)  # Slack's retry: acked, not acted on
        await slack.until(lambda: envelope in slack.acks and len(slack.acks) == 2)
        await rig.settle()
        assert [e.text for e in rig.events_of("ACME", "note_added")] == ["over the socket"]
        from datetime import date

        from bot.services import payments

        customer = rig.customer("ACME")
        with app.engine.begin() as conn:
            payments.claim_payment(conn, customer, payments.Claim((("INV-1", 90000),), 100, "USD", date(2026, 3, 1),
                                                                  "T"), actor="debtor:1", now=app.now())
        [alert] = await rig.post_alerts()
        click = slack.socket_send(slack.block_action(CREDIT, alert, text="Confirm"))
        await slack.until(lambda: click in slack.acks)
        await rig.settle()
        assert [e.actor for e in rig.events_of("ACME", "payment_confirmed")] == ["slack:U0CREDIT"]
        assert "*Payment confirmed* by <@U0CREDIT>" in alert.blocks[-1]["elements"][0]["text"]
        old = [ws for ws in slack.sockets if not ws.closed]
        slack.socket_disconnect()  # Slack's "refresh_requested": the SDK opens a new connection
        await slack.until(lambda: all(ws.closed for ws in old) and slack.socket_connected, 60, "a new connection")
        later = slack.socket_send(slack.message(CREDIT, CHANNEL, "after a reconnect", thread_ts=root))
        await slack.until(lambda: later in slack.acks, 20)
        await rig.settle()
        assert [e.text for e in rig.events_of("ACME", "note_added")][-1] == "after a reconnect"
        assert all(delay < 3 for delay in slack.ack_delays.values())
    finally:
        await rig.stop()
        app.engine.dispose()
    assert not slack.socket_connected


async def test_two_instances_in_socket_mode_act_once_on_an_event_slack_retries_to_the_other(
    database_url: str, tmp_path: Path, slack: FakeSlack
) -> None:
    """Slack spreads envelopes over an app's connections: its retry of an event may reach the other instance."""
    first_app = make_app(database_url, slack, socket=True)
    load(first_app, tmp_path)
    second_app = make_app(database_url, slack, socket=True)
    first = await SlackRig(first_app, slack).start()
    second = await SlackRig(second_app, slack).start()
    try:
        await slack.until(lambda: sum(not ws.closed for ws in slack.sockets) == 2)
        root = await case_thread(first)
        note = slack.message(CREDIT, CHANNEL, "heard from them", thread_ts=root)
        sent = [slack.socket_send(note, connection=0), slack.socket_send(note, retry_attempt=1, connection=1)]
        await slack.until(lambda: all(e in slack.acks for e in sent))
        await first.settle()
        await second.settle()
        assert [e.text for e in first.events_of("ACME", "note_added")] == ["heard from them"]
    finally:
        await first.stop()
        await second.stop()
        first_app.engine.dispose()
        second_app.engine.dispose()


@pytest.mark.parametrize(
    ("overrides", "line"),
    [
        ({"slack_bot_token": "xoxb-wrong"}, "Slack refused SLACK_BOT_TOKEN (auth.test: invalid_auth)"),
        ({"slack_app_token": "xapp-wrong"}, "Slack refused SLACK_APP_TOKEN (apps.connections.open: invalid_auth)"),
        ({"slack_api_url": "http://127.0.0.1:9/api/"},
         "cannot reach the Slack Web API at http://127.0.0.1:9/api/: ClientConnectorError"),
    ],
    ids=["bot-token", "app-token", "unreachable"],
)
async def test_bad_configuration_is_one_clear_line(database_url: str, slack: FakeSlack, overrides: dict,
                                                   line: str) -> None:
    app = make_app(database_url, slack, **overrides)
    try:
        with pytest.raises(SlackUnavailable) as caught:
            await start_slack(app)
        assert str(caught.value) == line
        assert "xoxb" not in str(caught.value).replace("xoxb-wrong", "") or "wrong" not in line
    finally:
        app.engine.dispose()


async def test_no_bot_token_means_slack_is_off(database_url: str, slack: FakeSlack) -> None:
    app = make_app(database_url, slack, slack_bot_token=None)
    try:
        assert await start_slack(app) is None
        await stop_slack(None)
    finally:
        app.engine.dispose()


async def test_neither_app_token_nor_signing_secret_posts_alerts_and_listens_nowhere(
    database_url: str, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(database_url, slack, slack_signing_secret=None)
    try:
        handle = await start_slack(app)
        assert handle is not None and handle.mode == "alerts"
        assert handle.alerts is not None  # staff alerts still go to the channel
        assert handle.port is None and handle.runner is None and handle.socket is None
        assert "Slack: alerts only: neither SLACK_APP_TOKEN" in caplog.text
        await stop_slack(handle)
    finally:
        app.engine.dispose()


async def test_a_port_in_use_waits_and_is_taken_over_when_it_frees(
    database_url: str, slack: FakeSlack, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two instances on one host, one COLLECTBOT_SLACK_HTTP_PORT: the second posts and waits for the port."""
    import bot.handlers.slack.app as slack_app

    monkeypatch.setattr(slack_app, "BIND_RETRY_SECONDS", 0.2)
    first = make_app(database_url, slack)
    handle = await start_slack(first)
    second = make_app(database_url, slack, slack_http_port=handle.port)
    waiting = None
    try:
        waiting = await start_slack(second)
        assert waiting is not None and waiting.mode == "http-waiting" and waiting.port is None
        assert f"port {handle.port} (COLLECTBOT_SLACK_HTTP_PORT) is in use" in caplog.text
        port = handle.port
        await stop_slack(handle)  # the first instance stops: its port frees
        handle = None
        for _ in range(50):
            if waiting.mode == "http":
                break
            await asyncio.sleep(0.1)
        assert waiting.mode == "http" and waiting.port == port
        events = SlackEventsClient(f"http://127.0.0.1:{port}/slack/events", SECRET)
        assert (await events.send(url_verification("taken-over"))).json()["challenge"] == "taken-over"
    finally:
        await stop_slack(handle)
        await stop_slack(waiting)
        first.engine.dispose()
        second.engine.dispose()
    assert SECRET  # the rig's signing secret is what every signed request above used


async def test_run_can_take_over_delivery_after_a_decision(database_url: str, tmp_path: Path,
                                                           slack: FakeSlack) -> None:
    """`collectbot run` passes its delivery path's kick: called with what each decision recorded."""
    from datetime import date

    from bot.services import payments
    from storage.outbox import add_alert

    kicked: list[list[int]] = []
    app = make_app(database_url, slack)
    load(app, tmp_path)
    rig = SlackRig(app, slack)
    rig.handle = await start_slack(app, deliver=kicked.append)
    from tests.fakes import SlackEventsClient

    rig.events = SlackEventsClient(f"http://127.0.0.1:{rig.handle.port}/slack/events", SECRET)
    try:
        customer = rig.customer("ACME")
        with app.engine.begin() as conn:
            payments.claim_payment(conn, customer, payments.Claim((("INV-1", 90000),), 100, "USD", date(2026, 3, 1),
                                                                  "T"), actor="debtor:1", now=app.now())
            add_alert(conn, key="headsup:INV-2:final", customer_id=customer.id, kind="heads_up", text="heads-up",
                      at=app.now(), doc_refs=["INV-2"])
        claim, heads_up = await rig.post_alerts()
        await rig.click(CREDIT, claim, "Confirm")
        await rig.click(REP, heads_up, "Hold 7 days")
        assert kicked == [[], []]  # no linked chat: no notice; the hold request is a staff alert to post
    finally:
        await rig.stop()
        app.engine.dispose()


def test_the_manifest_declares_what_the_app_uses() -> None:
    text = (Path(__file__).resolve().parents[3] / "slack-manifest.yml").read_text(encoding="utf-8")
    for needed in ("command: /owe", "command: /collect", "app_mention", "message.channels", "message.im",
                   "chat:write", "commands", "files:write", "interactivity:", "is_enabled: true", "/slack/events"):
        assert needed in text, needed


async def test_the_adapter_and_the_alert_channel_for_run(database_url: str, slack: FakeSlack) -> None:
    from bot.handlers.slack import SlackAdapter, SlackAlertChannel, alert_channel_for

    app = make_app(database_url, slack)
    try:
        assert isinstance(alert_channel_for(app), SlackAlertChannel)
        assert alert_channel_for(make_app(database_url, slack, slack_channel=None)) is None
        assert alert_channel_for(make_app(database_url, slack, slack_bot_token=None)) is None
        adapter = SlackAdapter(app, kick=lambda: None)
        await adapter.start()
        assert adapter.handle is not None and adapter.handle.mode == "http"
        await adapter.stop()
        with pytest.raises(SystemExit, match="^error: Slack refused SLACK_BOT_TOKEN"):
            await SlackAdapter(make_app(database_url, slack, slack_bot_token="xoxb-no")).start()
    finally:
        app.engine.dispose()
