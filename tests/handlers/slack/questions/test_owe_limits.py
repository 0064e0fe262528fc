"""A customer with 500 open items stays inside Block Kit's limits, and user text stays text."""

from __future__ import annotations

import json

from bot.handlers.slack.owe_blocks import ITEMS_SHOWN, PAGE
from tests.handlers.slack.questions.rig import (
    BIG_ITEMS,
    CREDIT,
    MONEY,
    REP1,
    REP2,
    Rig,
    all_text,
    button_values,
)


def within_limits(blocks: list[dict]) -> None:
    assert len(blocks) <= 50
    for b in blocks:
        if b["type"] == "section":
            assert len(b.get("text", {}).get("text", "")) <= 3000
            assert len(b.get("fields", [])) <= 10


async def test_five_hundred_open_items_are_summarised_and_paged(rig: Rig) -> None:
    answer = await rig.mention(REP2, "what does Big Box owe")  # the fake refuses blocks over Slack's limits
    within_limits(answer.blocks)
    text = all_text(answer.blocks)
    assert f"*Open items* ({BIG_ITEMS}, " in text
    assert "BB-0499" in text and "BB-0000" not in text  # oldest first
    values = button_values(answer.blocks)
    assert [json.loads(v) for v in values] == [{"c": "BIGBOX", "o": ITEMS_SHOWN}]  # a ref and an offset, no amount
    assert not any(MONEY.search(v) for v in values)
    await rig.click(REP2, answer, text=f"Show more items ({BIG_ITEMS - ITEMS_SHOWN} left)")
    page = await rig.slack.until(
        lambda: (
            len(rig.slack.posts(answer.channel, thread_ts=answer.thread_ts)) > 1
            and rig.slack.posts(answer.channel, thread_ts=answer.thread_ts)[1]
        ),
        timeout=10,
    )
    within_limits(page.blocks)
    assert f"open items {ITEMS_SHOWN + 1}–{ITEMS_SHOWN + PAGE} of {BIG_ITEMS}" in page.text
    assert [json.loads(v) for v in button_values(page.blocks)] == [{"c": "BIGBOX", "o": ITEMS_SHOWN + PAGE}]


async def test_a_forged_show_more_click_for_someone_elses_customer_learns_nothing(rig: Rig) -> None:
    answer = await rig.mention(REP2, "what does Big Box owe")
    forged = rig.slack.block_action(REP1, answer, "owe_more", value=json.dumps({"c": "BIGBOX", "o": 0}), forge=True)
    await rig.send(forged)
    reply = await rig.slack.until(lambda: rig.slack.responses and rig.slack.responses[-1], timeout=10)
    assert reply["response_type"] == "ephemeral" and "don't have access" in reply["text"]
    assert not MONEY.search(all_text(reply["blocks"], reply["text"]))
    assert len(rig.slack.posts(answer.channel, thread_ts=answer.thread_ts)) == 1  # nothing posted for all to see


async def test_customer_names_that_look_like_mrkdwn_stay_text(rig: Rig) -> None:
    answer = await rig.mention(REP1, "what does &lt;!channel&gt; owe")  # Slack escapes what a person types
    text = all_text(answer.blocks, answer.text)
    assert "&lt;!channel&gt; (EVIL)" in text and "<!channel>" not in text and "$123.45" in text
    answer = await rig.mention(REP2, "what does &lt;http://x|click&gt; &amp; Co owe")
    text = all_text(answer.blocks, answer.text)
    assert "&lt;http://x|click&gt; &amp; Co (LINKY)" in text and "<http" not in text
    assert answer.blocks[0]["text"]["text"] == "&lt;http://x|click&gt; &amp; Co (LINKY)"  # every field escaped


async def test_a_chooser_escapes_the_question_and_the_names(rig: Rig) -> None:
    answer = await rig.mention(CREDIT, "what does &lt;b&gt;Zyxw owe")
    assert "“&lt;b&gt;Zyxw”" in answer.text and "<b>" not in all_text(answer.blocks, answer.text)
