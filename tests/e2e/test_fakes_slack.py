"""The fake Slack (tests/fakes) spoken to by the real slack_sdk and slack_bolt.

What is proved: AsyncWebClient gets the answers Slack gives (threads, Block Kit refusals,
auth errors, 429 with Retry-After honoured by the SDK's own retry handler, files_upload_v2's
three steps); a Bolt AsyncApp answers signed HTTP requests (and refuses badly signed or
stale ones) and works over Socket Mode against the fake's websocket, acking every envelope.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes import FakeSlack, SlackEventsClient, url_verification

REPO = Path(__file__).resolve().parents[2]
CHANNEL = "C0CASES"
SECRET = "fake-signing-secret"


@pytest.fixture
async def slack(fake_slack: FakeSlack) -> FakeSlack:
    fake_slack.add_channel(CHANNEL, "collections", members={"U0CREDIT", "U0SALES"})
    fake_slack.add_user("U0CREDIT", "carla")
    fake_slack.add_user("U0SALES", "sam")
    fake_slack.add_user("U0OTHER", "olga")
    return fake_slack


def client_for(slack: FakeSlack, token: str | None = None, **kwargs: Any) -> AsyncWebClient:
    return AsyncWebClient(token or slack.bot_token, base_url=slack.api_url, **kwargs)


async def error_of(call: Any) -> tuple[int, dict]:
    with pytest.raises(SlackApiError) as caught:
        await call
    return caught.value.response.status_code, caught.value.response.data


def section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def button(text: str, action_id: str, value: str = "v") -> dict:
    return {"type": "button", "text": {"type": "plain_text", "text": text}, "action_id": action_id, "value": value}


async def test_a_thread_is_posted_and_read_back(slack: FakeSlack) -> None:
    client = client_for(slack)
    root = await client.chat_postMessage(channel=CHANNEL, text="ACME Corporation (ACME)")
    slack.advance(1)
    reply = await client.chat_postMessage(channel=CHANNEL, text="Payment claimed", thread_ts=root["ts"],
                                          blocks=[section("*Payment claimed*: USD 1,200.00")])
    assert reply["message"]["thread_ts"] == root["ts"]
    thread = await client.conversations_replies(channel=CHANNEL, ts=root["ts"])
    assert [m["text"] for m in thread["messages"]] == ["ACME Corporation (ACME)", "Payment claimed"]
    assert thread["messages"][0]["reply_count"] == 1
    history = await client.conversations_history(channel=CHANNEL)
    assert [m["text"] for m in history["messages"]] == ["ACME Corporation (ACME)"]  # replies stay in the thread
    assert [p.text for p in slack.posts(CHANNEL, thread_ts=root["ts"])] == ["Payment claimed"]
    assert slack.posts(CHANNEL)[1].blocks == [section("*Payment claimed*: USD 1,200.00")]
    permalink = await client.chat_getPermalink(channel=CHANNEL, message_ts=root["ts"])
    assert permalink["permalink"].endswith(root["ts"].replace(".", ""))
    assert (await error_of(client.chat_postMessage(channel=CHANNEL, text="x", thread_ts="1700000000.000001")))[1][
        "error"] == "thread_not_found"
    assert (await error_of(client.chat_postMessage(channel=CHANNEL, text="x", thread_ts="0")))[1][
        "error"] == "invalid_thread_ts"


@pytest.mark.parametrize(
    ("blocks", "message"),
    [
        ([section("x")] * 51, "[ERROR] no more than 50 items allowed [json-pointer:/blocks]"),
        ([section("x" * 3001)], "[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]"),
        ([{"type": "actions", "elements": [button("x" * 76, "a")]}],
         "[ERROR] must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]"),
        ([{"type": "actions", "elements": [button("ok", "a" * 256)]}],
         "[ERROR] must be less than 256 characters [json-pointer:/blocks/0/elements/0/action_id]"),
        ([{"type": "actions", "elements": [button("ok", "a", "v" * 2001)]}],
         "[ERROR] must be less than 2001 characters [json-pointer:/blocks/0/elements/0/value]"),
        ([{"type": "actions", "elements": [button("ok", "a"), button("no", "a")]}],
         "[ERROR] non-unique action_id: 'a' [json-pointer:/blocks/0/elements/1/action_id]"),
        ([{"type": "header", "text": {"type": "mrkdwn", "text": "*x*"}}],
         "[ERROR] must be one of plain_text [json-pointer:/blocks/0/text/type]"),
        ([{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}],
         "[ERROR] no more than 10 items allowed [json-pointer:/blocks/0/fields]"),
        ([section("")], "[ERROR] must be more than 0 characters [json-pointer:/blocks/0/text/text]"),
        ([{"type": "toc"}], "[ERROR] unsupported type: 'toc' [json-pointer:/blocks/0/type]"),
    ],
    ids=["51-blocks", "section-3001", "button-text-76", "action-id-256", "value-2001", "duplicate-action-id",
         "header-mrkdwn", "11-fields", "empty-text", "unknown-block"],
)
async def test_block_kit_limits_are_refused(slack: FakeSlack, blocks: list, message: str) -> None:
    status, data = await error_of(client_for(slack).chat_postMessage(channel=CHANNEL, text="t", blocks=blocks))
    assert (status, data["error"], data["response_metadata"]["messages"]) == (200, "invalid_blocks", [message])
    assert slack.posts() == []


async def test_limits_are_inclusive_and_text_limits(slack: FakeSlack) -> None:
    client = client_for(slack)
    blocks = [section("x" * 3000)] * 49 + [{"type": "actions", "elements": [button("b" * 75, "a" * 255, "v" * 2000)]}]
    await client.chat_postMessage(channel=CHANNEL, text="t" * 40_000, blocks=blocks)
    slack.advance(1)
    assert (await error_of(client.chat_postMessage(channel=CHANNEL, text="t" * 40_001)))[1]["error"] == "msg_too_long"
    with pytest.warns(UserWarning, match="top-level `text` argument is missing"):  # the SDK warns, Slack refuses
        assert (await error_of(client.chat_postMessage(channel=CHANNEL)))[1]["error"] == "no_text"
    assert (await error_of(client.api_call("chat.postMessage", data={"channel": CHANNEL, "blocks": "[{"})))[1][
        "error"] == "invalid_blocks_format"


async def test_tokens_methods_and_arguments(slack: FakeSlack) -> None:
    assert (await error_of(client_for(slack, "xoxb-wrong").auth_test()))[1]["error"] == "invalid_auth"
    assert (await error_of(AsyncWebClient(base_url=slack.api_url).auth_test()))[1]["error"] == "not_authed"
    assert (await error_of(client_for(slack, slack.app_token).auth_test()))[1]["error"] == "not_allowed_token_type"
    assert (await error_of(client_for(slack).apps_connections_open(app_token=slack.bot_token)))[1][
        "error"] == "not_allowed_token_type"
    status, data = await error_of(client_for(slack).api_call("chat.postMesage"))
    assert (status, data["error"]) == (404, "unknown_method")
    data = (await error_of(client_for(slack).api_call("chat.postMessage", json={"text": "no channel"})))[1]
    assert data == {"ok": False, "error": "invalid_arguments",
                    "response_metadata": {"messages": ["[ERROR] missing required field: channel"]}}
    assert (await error_of(client_for(slack).chat_postMessage(channel="C0NOPE", text="x")))[1][
        "error"] == "channel_not_found"
    assert (await error_of(client_for(slack).users_info(user="U0NOBODY")))[1]["error"] == "user_not_found"
    assert (await error_of(client_for(slack).reactions_add(channel=CHANNEL, name="x", timestamp="1.2")))[1][
        "error"] == "fake_not_implemented"
    assert (await client_for(slack).users_info(user="U0SALES"))["user"]["name"] == "sam"


async def test_updates_and_ephemeral_messages(slack: FakeSlack) -> None:
    client = client_for(slack)
    posted = await client.chat_postMessage(channel=CHANNEL, text="Plan proposed", blocks=[section("plan")])
    await client.chat_update(channel=CHANNEL, ts=posted["ts"], text="Plan approved by <@U0CREDIT>",
                             blocks=[section("approved")])
    assert slack.posts(CHANNEL)[0].text == "Plan approved by <@U0CREDIT>"
    assert slack.posts(CHANNEL)[0].edits == [{"text": "Plan proposed", "blocks": [section("plan")]}]
    people = slack.message("U0SALES", CHANNEL, "a note")["event"]["ts"]
    assert (await error_of(client.chat_update(channel=CHANNEL, ts=people, text="x")))[1]["error"] == \
        "cant_update_message"
    eph = await client.chat_postEphemeral(channel=CHANNEL, user="U0SALES", text="only credit staff may decide")
    assert slack.ephemerals[0]["user"] == "U0SALES"
    assert (await error_of(client.chat_update(channel=CHANNEL, ts=eph["message_ts"], text="x")))[1]["error"] == \
        "message_not_found"  # ephemeral messages cannot be updated
    assert (await error_of(client.chat_postEphemeral(channel=CHANNEL, user="U0OTHER", text="x")))[1]["error"] == \
        "user_not_in_channel"


async def test_rate_limit_is_a_429_the_sdk_handler_honours(slack: FakeSlack) -> None:
    plain = client_for(slack)
    await plain.chat_postMessage(channel=CHANNEL, text="one")
    with pytest.raises(SlackApiError) as caught:
        await plain.chat_postMessage(channel=CHANNEL, text="two, too soon")
    assert caught.value.response.status_code == 429
    assert caught.value.response.headers["Retry-After"] == "1"
    assert caught.value.response.data == {"ok": False, "error": "ratelimited"}
    polite = client_for(slack, retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)])
    started = time.monotonic()
    await polite.chat_postMessage(channel=CHANNEL, text="three: waits Retry-After, then posts")
    assert time.monotonic() - started >= 0.9
    slack.add_channel("C0OTHER", "other")
    await polite.chat_postMessage(channel="C0OTHER", text="another channel has its own budget")
    assert [p.text for p in slack.posts(CHANNEL)] == ["one", "three: waits Retry-After, then posts"]
    assert slack.rate_limited >= 2


async def test_scripted_faults(slack: FakeSlack) -> None:
    client = client_for(slack, timeout=1)
    slack.fail_next(503, method="chat.postMessage")
    assert (await error_of(client.chat_postMessage(channel=CHANNEL, text="a")))[0] == 503
    slack.advance(1)
    slack.drop_next(method="chat.postMessage")  # the SDK's default handler retries one connection error
    await client.chat_postMessage(channel=CHANNEL, text="b: sent once, on the retry")
    slack.advance(1)
    slack.drop_next(times=2, method="chat.postMessage")
    with pytest.raises(aiohttp.ClientError):
        await client.chat_postMessage(channel=CHANNEL, text="c")
    slack.rate_limit_next(retry_after=3, channel=CHANNEL)
    status, data = await error_of(client.chat_postMessage(channel=CHANNEL, text="d"))
    assert (status, data["error"]) == (429, "ratelimited")
    slack.hang_next(seconds=5, method="chat.postMessage")
    with pytest.raises(TimeoutError):
        await client.chat_postMessage(channel=CHANNEL, text="e: posted, answer lost")
    assert [p.text for p in slack.posts(CHANNEL)] == ["b: sent once, on the retry", "e: posted, answer lost"]


async def test_files_upload_v2_into_a_thread(slack: FakeSlack) -> None:
    client = client_for(slack)
    root = await client.chat_postMessage(channel=CHANNEL, text="Weekly aging")
    png = b"\x89PNG\r\n\x1a\n" + b"chart" * 100
    done = await client.files_upload_v2(channel=CHANNEL, thread_ts=root["ts"], content=png, filename="aging.png",
                                        title="Aging", initial_comment="Aging by bucket")
    assert done["file"]["title"] == "Aging"
    shared = slack.posts(CHANNEL, thread_ts=root["ts"])[0]
    assert (shared.text, shared.files[0]["name"]) == ("Aging by bucket", "aging.png")
    assert slack.uploads[shared.files[0]["id"]]["data"] == png
    assert [c[0] for c in slack.calls[-2:]] == ["files.getUploadURLExternal", "files.completeUploadExternal"]


@pytest.fixture
async def bolt_http(slack: FakeSlack) -> AsyncIterator[tuple[AsyncApp, SlackEventsClient, list]]:
    seen: list = []
    app = AsyncApp(client=client_for(slack), signing_secret=SECRET)

    @app.event("app_mention")
    async def mentioned(event: dict, say: Any, request: Any) -> None:
        seen.append((event["text"], request.headers.get("x-slack-retry-num", [None])[0]))
        await say(text="ACME owes USD 1,200.00", thread_ts=event.get("thread_ts") or event["ts"])

    @app.command("/owe")
    async def owe(ack: Any, command: dict) -> None:
        await ack(text=f"{command['text']} owes USD 1,200.00")

    @app.action("approve")
    async def approve(ack: Any, body: dict, respond: Any, client: AsyncWebClient) -> None:
        await ack()
        await client.chat_update(channel=body["channel"]["id"], ts=body["message"]["ts"],
                                 text=f"Approved by <@{body['user']['id']}>")
        await respond(text="done", replace_original=False, response_type="ephemeral")

    runner = web.AppRunner(app.web_app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield app, SlackEventsClient(f"http://127.0.0.1:{port}/slack/events", SECRET), seen
    await runner.cleanup()


async def test_bolt_http_mode_answers_signed_requests(slack: FakeSlack, bolt_http: tuple) -> None:
    _, events, seen = bolt_http
    mention = slack.mention("U0SALES", CHANNEL, "what does ACME owe?")
    assert (await events.send(mention)).status == 200
    answer = await slack.until(lambda: slack.posts(CHANNEL) and slack.posts(CHANNEL)[0])
    assert (answer.text, answer.thread_ts) == ("ACME owes USD 1,200.00", mention["event"]["ts"])
    slack.advance(1)  # the channel's 1 message/s budget
    assert (await events.send(mention, retry_num=1)).status == 200
    await slack.until(lambda: len(seen) == 2 and len(slack.posts(CHANNEL)) == 2)
    assert seen == [(mention["event"]["text"], None), (mention["event"]["text"], "1")]  # Slack's retry, marked
    reply = await events.send(slack.slash_command("U0SALES", CHANNEL, "/owe", "ACME"))
    assert (reply.status, reply.text) == (200, "ACME owes USD 1,200.00")  # Bolt acks text as text
    dm = slack.dm("U0CREDIT", "balance of ACME")
    assert (dm["event"]["channel_type"], dm["event"]["channel"]) == ("im", "D0CREDIT")
    challenge = await events.send(url_verification("abc"))
    assert challenge.json() == {"challenge": "abc"}


async def test_bolt_refuses_badly_signed_and_stale_requests(slack: FakeSlack, bolt_http: tuple) -> None:
    _, events, seen = bolt_http
    assert (await events.send(slack.mention("U0SALES", CHANNEL, "hi"), secret="not-the-secret")).status == 401
    assert (await events.send(slack.mention("U0SALES", CHANNEL, "hi"), age=301)).status == 401
    assert (await events.send(slack.mention("U0SALES", CHANNEL, "hi"), age=290)).status == 200
    await slack.until(lambda: seen)
    assert len(seen) == 1


async def test_bolt_button_click_updates_the_message_and_responds(slack: FakeSlack, bolt_http: tuple) -> None:
    _, events, _ = bolt_http
    client = client_for(slack)
    actions = {"type": "actions", "elements": [button("Approve", "approve")]}
    await client.chat_postMessage(channel=CHANNEL, text="Plan proposed", blocks=[section("plan"), actions])
    proposal = slack.posts(CHANNEL)[0]
    with pytest.raises(KeyError):
        slack.block_action("U0CREDIT", proposal, "delete_everything")  # a real client can't click what isn't there
    forged = slack.block_action("U0OTHER", proposal, "approve", value="PLAN-999", forge=True)
    assert forged["actions"][0]["value"] == "PLAN-999" and forged["user"]["id"] == "U0OTHER"
    assert (await events.send(slack.block_action("U0CREDIT", proposal, text="Approve"))).status == 200
    await slack.until(lambda: slack.responses)
    assert proposal.text == "Approved by <@U0CREDIT>"
    assert slack.responses[0]["text"] == "done"


async def test_bolt_socket_mode_acks_every_envelope(slack: FakeSlack) -> None:
    app = AsyncApp(client=client_for(slack))

    @app.event("app_mention")
    async def mentioned(event: dict, say: Any) -> None:
        await say(text="over the socket", thread_ts=event["ts"])

    @app.command("/collect")
    async def collect(ack: Any, command: dict) -> None:
        await ack(text=f"report {command['text']}")

    handler = AsyncSocketModeHandler(app, slack.app_token)
    await handler.connect_async()
    try:
        await slack.until(lambda: slack.socket_connected)
        event_id = slack.socket_send(slack.mention("U0SALES", CHANNEL, "hello"))
        command_id = slack.socket_send(slack.slash_command("U0SALES", CHANNEL, "/collect", "aging"))
        await slack.until(lambda: event_id in slack.acks and command_id in slack.acks)
        await slack.until(lambda: slack.posts(CHANNEL))
        assert slack.posts(CHANNEL)[0].text == "over the socket"
        assert slack.acks[command_id] == {"text": "report aging"}
        assert all(delay < 3 for delay in slack.ack_delays.values())
    finally:
        await handler.close_async()


def test_thread_mode_and_the_python_m_entry_point(fake_slack_thread: FakeSlack) -> None:
    fake_slack_thread.add_channel(CHANNEL, "collections")
    WebClient(fake_slack_thread.bot_token, base_url=fake_slack_thread.api_url).chat_postMessage(
        channel=CHANNEL, text="from a synchronous client")
    assert fake_slack_thread.wait_for(lambda: fake_slack_thread.posts(CHANNEL))[0].text == "from a synchronous client"
    proc = subprocess.Popen([sys.executable, "-m", "tests.fakes.slack_api", "--port", "0"], cwd=REPO,
                            stdout=subprocess.PIPE, text=True)
    try:
        api_url = proc.stdout.readline().strip().split("=", 1)[1]  # type: ignore[union-attr]
        web_client = WebClient("xoxb-1-fake-bot-token", base_url=api_url)
        assert web_client.auth_test()["user_id"] == "U0BOT"
        assert web_client.chat_postMessage(channel="C0CASES", text="hi")["ok"]
    finally:
        proc.terminate()
        proc.wait(10)


def test_signature_helper_matches_bolts_verifier() -> None:
    from slack_sdk.signature import SignatureVerifier

    events = SlackEventsClient("http://unused", SECRET)
    body = b'{"type":"event_callback"}'
    headers = events.headers(body, "application/json")
    assert SignatureVerifier(SECRET).is_valid(body, headers["X-Slack-Request-Timestamp"],
                                              headers["X-Slack-Signature"])
    stale = events.headers(body, "application/json", age=301)
    assert not SignatureVerifier(SECRET).is_valid(body, stale["X-Slack-Request-Timestamp"],
                                                  stale["X-Slack-Signature"])
    assert asyncio.iscoroutinefunction(events.send)
