"""A flow survives its process: stopped mid-flow, a new Application resumes where the debtor was."""

from __future__ import annotations

from sqlalchemy import select

from storage.tables import Payment
from tests.handlers.telegram.harness import BETA_CHAT, BotRig, texts


async def test_a_new_application_resumes_the_flow_where_the_debtor_was(rig: BotRig) -> None:
    await rig.send(BETA_CHAT, f"/start {rig.link(BETA_CHAT, 'BETA', language='pt')}")
    await rig.click(BETA_CHAT, "Já paguei")
    await rig.click(BETA_CHAT, "BR-2 · R$ 1.234,56 · vence 12 de mar. de 2026")
    await rig.click(BETA_CHAT, "Continuar com 1 selecionada ▶")
    await rig.send(BETA_CHAT, "1.234,56")
    question = rig.tg.last(BETA_CHAT)
    assert "Quando você pagou?" in question.plain_text

    await rig.stop()  # the process goes away between two answers
    await rig.start()

    replies = await rig.click(BETA_CHAT, "Ontem", message=question)  # a button of the question before the restart
    assert "referência do pagamento" in texts(replies)
    await rig.send(BETA_CHAT, "PIX 0001")
    await rig.send(BETA_CHAT, "/skip")
    replies = await rig.click(BETA_CHAT, "✔ Confirmar")
    assert "Registramos o seu pagamento de R$\xa01.234,56 por BR-2" in texts(replies)
    with rig.app.engine.connect() as conn:
        ((amount, day, ref),) = conn.execute(
            select(Payment.amount_cents, Payment.date, Payment.reference).where(Payment.source == "debtor")
        ).all()
    assert (amount, day.isoformat(), ref) == (123456, "2026-03-15", "PIX 0001")
