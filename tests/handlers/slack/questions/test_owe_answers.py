""" "What does ACME owe?" end to end: signed requests to the real Bolt app, answers on the fake Slack."""

from __future__ import annotations

import json

from tests.handlers.slack.questions.rig import CHANNEL, CREDIT, REP1, Rig, all_text, button_values


async def test_a_mention_is_answered_in_its_thread_with_every_fact(rig: Rig) -> None:
    answer = await rig.mention(CREDIT, "what does ACME owe?")
    text = all_text(answer.blocks, answer.text)
    assert answer.thread_ts is not None
    assert "ACME Corporation (ACME)" in text
    for fact in (
        "$1,500.00",
        "Overdue",
        "$1,000.00",
        "Credit limit",
        "$50,000.00",
        "Available credit",
        "$48,500.00",
        "31-60",
        "INV-1",
        "INV-2",
        "Next step:",
        "Payer rating:",
        "DSO:",
        "Last contact:",
    ):
        assert fact in text, fact
    assert "matched" not in text  # an exact name says nothing about matching


async def test_questions_in_english_spanish_and_portuguese_by_mention_dm_and_slash(rig: Rig) -> None:
    for user, text in (
        (CREDIT, "how much does ACME owe us?"),
        (REP1, "ACME balance"),
        (CREDIT, "¿Cuánto debe ACME?"),
        (REP1, "saldo de ACME"),
        (CREDIT, "quanto deve a ACME"),
    ):
        answer = await rig.mention(user, text)
        assert "$1,500.00" in all_text(answer.blocks, answer.text), text
    dm = await rig.dm(REP1, "balance of ACME Corp")
    assert "$1,500.00" in all_text(dm.blocks, dm.text) and dm.thread_ts is None
    response = await rig.command(CREDIT, "/owe", "ACME")
    assert response["response_type"] == "ephemeral" and "$1,500.00" in all_text(response["blocks"])
    response = await rig.command(REP1, "/collect", "quanto deve ACME")
    assert "$1,500.00" in all_text(response["blocks"])


async def test_a_lenient_match_says_which_customer_it_chose(rig: Rig) -> None:
    answer = await rig.mention(REP1, "what does acme corpp owe")
    text = all_text(answer.blocks, answer.text)
    assert "“acme corpp” matched *ACME Corporation (ACME)*" in text and "$1,500.00" in text


async def test_an_unknown_name_and_an_unknown_question_answer_one_line(rig: Rig) -> None:
    answer = await rig.mention(CREDIT, "what does Zyxwvut owe")
    assert "I found no customer matching “Zyxwvut”" in answer.text
    answer = await rig.mention(CREDIT, "hello there")
    assert answer.text.startswith("Sorry, I didn't understand that.")
    bare = await rig.dm(REP1, "ACME Corporation")  # a customer's exact name alone is the question
    assert "$1,500.00" in all_text(bare.blocks, bare.text)
    help_ = await rig.command(CREDIT, "/collect", "")
    assert "/owe ACME" in all_text(help_["blocks"])


async def test_ambiguous_names_offer_buttons_and_a_click_answers(rig: Rig) -> None:
    chooser = await rig.mention(CREDIT, "what does comercial cadiz owe")
    assert chooser.text == "Several customers match “comercial cadiz”. Which one?"
    labels = [json.loads(v)["c"] for v in button_values(chooser.blocks)]
    assert labels == ["CADIZ6", "CADIZ7", "CADIZ8"]
    await rig.click(CREDIT, chooser, text="Comercial Cádiz 7 S.L.U. (CADIZ7)")
    await rig.slack.until(lambda: chooser.edits, timeout=10)
    assert "Comercial Cádiz 7 S.L.U. (CADIZ7)" in chooser.text and "€700.00" in all_text(chooser.blocks)


async def test_a_mention_in_a_case_thread_is_answered_in_that_thread(rig: Rig) -> None:
    root = await rig.mention(CREDIT, "ACME balance")
    answer = await rig.mention(REP1, "what does ACME owe", thread_ts=root.thread_ts)
    assert answer.thread_ts == root.thread_ts


async def test_slow_answers_are_acknowledged_at_once_and_arrive_after(rig: Rig, monkeypatch) -> None:  # noqa: ANN001
    import time

    from bot.handlers.slack.questions import Asker

    real = Asker.answer

    def slow(self, user, intent):  # noqa: ANN001, ANN202  (a slow database, in the database thread)
        time.sleep(4)
        return real(self, user, intent)

    monkeypatch.setattr(Asker, "answer", slow)
    for payload in (
        rig.slack.slash_command(CREDIT, CHANNEL, "/owe", "ACME"),
        rig.slack.mention(CREDIT, CHANNEL, "what does ACME owe"),
    ):
        started = time.monotonic()
        reply = await rig.events.send(payload)
        assert reply.status == 200 and time.monotonic() - started < 2.5  # Slack wants the ack within 3 s
    await rig.slack.until(lambda: rig.slack.responses and rig.slack.posts(CHANNEL), timeout=20)
    assert "$1,500.00" in all_text(rig.slack.responses[0]["blocks"])


async def test_codes_reach_staff_as_words_dispute_reason_item_status_and_next_step(rig: Rig) -> None:
    # Found trying the product: the answer said `wrong_price` and `pre_due` where the alerts say words.
    from bot.services.customers import customers_by_id, lookup
    from bot.services.disputes import open_debtor_dispute
    from tests.handlers.slack.questions.rig import NOW

    acme = lookup(rig.app.engine, "ACME").customer
    with rig.app.engine.begin() as conn:
        row = customers_by_id(conn, [acme.id])[acme.id]
        open_debtor_dispute(conn, row, "INV-1", reason="wrong_price", text="we ordered 10", actor="debtor:1", now=NOW)
    answer = await rig.mention(CREDIT, "what does ACME owe?")
    text = all_text(answer.blocks, answer.text)
    # INV-1 disputed; INV-2 (due 2026-12-15) next gets its pre-due reminder, three days before
    assert "wrong price or quantity" in text and "_(disputed)_" in text
    assert "*Next step:* pre-due reminder on 2026-12-14" in text
    assert "(dispute opened): wrong price or quantity: we ordered 10" in text  # the last contact
    for code in ("wrong_price", "pre_due", "dispute_opened"):
        assert code not in text, code
