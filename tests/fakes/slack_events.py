"""Signed requests from "Slack" to an app's HTTP endpoint (Bolt's ``/slack/events``).

Copies Slack's request signing (docs.slack.dev/authentication/verifying-requests-from-slack):
``X-Slack-Request-Timestamp: <unix seconds>`` and ``X-Slack-Signature: v0=<hex HMAC-SHA256 of
"v0:<timestamp>:<raw body>" keyed with the signing secret>``; an app must refuse a request
whose signature is wrong or whose timestamp is more than five minutes off. Bodies as Slack
sends them: events as JSON, slash commands as a form, interactions as a form with one
``payload`` field holding JSON. A retried event carries the same ``event_id`` with
``X-Slack-Retry-Num`` and ``X-Slack-Retry-Reason``.

    client = SlackEventsClient("http://127.0.0.1:3000/slack/events", "signing-secret")
    reply = await client.send(slack.mention("U1", "C0CASES", "what does ACME owe?"))
    reply = client.send_sync(slack.slash_command("U1", "C0CASES", "/owe", "ACME"))   # from a sync test
    bad = await client.send(payload, secret="wrong")            # badly signed: expect 401
    old = await client.send(payload, age=301)                   # stale: expect 401
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

import aiohttp


def signature(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def encode(payload: dict[str, Any]) -> tuple[bytes, str]:
    """The body and content type Slack would use for this payload."""
    if payload.get("type") in ("event_callback", "url_verification"):
        return json.dumps(payload).encode(), "application/json"
    if "command" in payload:
        return urllib.parse.urlencode(payload).encode(), "application/x-www-form-urlencoded"
    return urllib.parse.urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded"


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    text: str

    def json(self) -> Any:
        return json.loads(self.text) if self.text else None


class SlackEventsClient:
    def __init__(self, url: str, signing_secret: str) -> None:
        self.url = url
        self.signing_secret = signing_secret

    def headers(self, body: bytes, content_type: str, *, age: float = 0, secret: str | None = None,
                signature_value: str | None = None, retry_num: int | None = None,
                retry_reason: str = "http_timeout") -> dict[str, str]:
        timestamp = str(int(time.time() - age))
        out = {"Content-Type": content_type, "X-Slack-Request-Timestamp": timestamp,
               "X-Slack-Signature": signature_value or signature(secret or self.signing_secret, timestamp, body),
               "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)"}
        if retry_num:
            out.update({"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason})
        return out

    async def send(self, payload: dict[str, Any], *, timeout: float = 10, **signing: Any) -> Reply:
        """POST ``payload`` signed (``age``, ``secret``, ``signature_value``, ``retry_num`` alter it)."""
        body, content_type = encode(payload)
        async with aiohttp.ClientSession() as session:
            async with session.post(self.url, data=body, headers=self.headers(body, content_type, **signing),
                                    timeout=aiohttp.ClientTimeout(total=timeout)) as resp:
                return Reply(resp.status, dict(resp.headers), await resp.text())

    def send_sync(self, payload: dict[str, Any], *, timeout: float = 10, **signing: Any) -> Reply:
        """The same from a synchronous test (to an app in another process or thread)."""
        body, content_type = encode(payload)
        request = urllib.request.Request(self.url, body, self.headers(body, content_type, **signing))
        try:
            with urllib.request.urlopen(request, timeout=timeout) as resp:
                return Reply(resp.status, dict(resp.headers), resp.read().decode())
        except urllib.error.HTTPError as err:
            return Reply(err.code, dict(err.headers), err.read().decode())


def url_verification(challenge: str = "fake-challenge") -> dict[str, Any]:
    """The request Slack sends when the Events URL is saved; the app must echo the challenge."""
    return {"token": "fake-verification-token", "challenge": challenge, "type": "url_verification"}
