"""Block Kit for the reports (digest, weekly, prospects, scorecard, aging) and for `help`.

Each renderer takes the report's plain document, exactly as `collectbot report ...
--format json` prints it (bot.services.digest, bot.services.reports, and the aging
document of bot.services.slack_reports), and returns (fallback text, blocks). Long
reports are summarised within Slack's limits (50 blocks, 3,000 characters a section):
the biggest rows first, then "…and N more", pointing at the CLI for the whole list.
Every ledger value is escaped for mrkdwn.
"""

from __future__ import annotations

from decimal import Decimal

from bot.handlers.slack.owe_blocks import context, esc, money, say, section

ROWS_SHOWN = 15
_CLI = "the whole list: `collectbot report {kind}`"


def _scope(doc: dict) -> str:
    rep = doc.get("rep_slack_id")
    return f" for {esc(rep)}'s customers" if rep else ""


def _header(text: str) -> dict:
    return {"type": "header", "text": {"type": "plain_text", "text": text[:150]}}  # callers escape


def _rows(lines: list[str], kind: str) -> list[str]:
    if len(lines) <= ROWS_SHOWN:
        return lines
    return [*lines[:ROWS_SHOWN], f"…and {len(lines) - ROWS_SHOWN} more ({_CLI.format(kind=kind)})"]


def _who(r: dict) -> str:
    return f"{esc(r['name'])} (`{esc(r['customer_ref'])}`)"


def digest_blocks(doc: dict) -> tuple[str, list[dict]]:
    """The daily digest (bot.services.digest): reminder counts, then each list, 15 rows at most."""
    r = doc["reminders"]["messages"]
    title = f"Daily digest for {doc['date']} ({doc['timezone']}){_scope(doc)}"
    blocks = [
        _header(title.replace("`", "")),
        section(
            f"*Reminders:* {r.get('sent', 0)} sent, {r.get('no_channel', 0)} without a chat (sales asked to phone), "
            f"{r.get('unknown', 0)} unknown, {r.get('failed', 0)} failed"
            + (
                "\nby step: " + ", ".join(f"{say(k, 'step')} {v}" for k, v in doc["reminders"]["by_step"].items())
                if doc["reminders"]["by_step"]
                else ""
            )
        ),
    ]
    parts = (
        ("Escalations", doc["escalations"], lambda e: f"• {_who(e)}: {say(e['kind'], 'event')} at {e['at'][11:16]}"),
        (
            "Promises due today",
            doc["promises_due"],
            lambda p: (
                f"• {_who(p)}: {money(p['amount'], p['currency'])} on "
                f"{'`' + esc(p['doc_ref']) + '`' if p['doc_ref'] else 'the account'} ({say(p['status'], 'status')})"
            ),
        ),
        (
            "Promises broken today",
            doc["promises_broken"],
            lambda p: f"• {_who(p)}: {', '.join(esc(x) for x in p['doc_refs']) or 'the account'}",
        ),
        (
            "Open disputes",
            doc["disputes_open"],
            lambda d: (
                f"• #{d['dispute_id']} {_who(d)} on {', '.join(esc(x) for x in d['doc_refs'])}: "
                f"{say(d['reason'], 'reason')}, {d['age_days']} days open"
            ),
        ),
        (
            "Claimed payments waiting",
            doc["claims_waiting"],
            lambda c: (
                f"• #{c['payment_id']} {_who(c)}: {money(c['amount'], c['currency'])} paid {c['date']}"
                + ("" if c["age_days"] is None else f", {c['age_days']} days waiting")
            ),
        ),
    )
    for title_, rows, line in parts:
        if rows:
            blocks.append(section("\n".join([f"*{title_}* ({len(rows)})", *_rows([line(x) for x in rows], "digest")])))
        else:
            blocks.append(section(f"*{title_}:* none"))
    counts = doc["counts"]
    text = (
        f"Daily digest for {doc['date']}: {counts['reminders_sent']} reminders sent, {counts['escalations']} "
        f"escalations, {counts['disputes_open']} open disputes, {counts['claims_waiting']} claims waiting"
    )
    return text, blocks


def weekly_blocks(doc: dict) -> tuple[str, list[dict]]:
    """The weekly aging summary: per currency the totals, buckets, DSO and the most overdue customers."""
    title = f"Weekly aging summary as of {doc['as_of']}{_scope(doc)}"
    blocks: list[dict] = [_header(title)]
    if not doc["currencies"]:
        blocks.append(section("Nothing on the ledger."))
    for c in doc["currencies"][:20]:
        cur = c["currency"]
        buckets = " · ".join(f"{esc(k)} {money(v, cur)}" for k, v in c["buckets"].items())
        dso = f"{'>= ' if c['dso']['capped'] else ''}{c['dso']['days']} days"
        lines = [
            f"*{esc(cur)}*: {money(c['total_open'], cur)} open, {money(c['overdue'], cur)} overdue "
            f"({c['customers_overdue']} customers); DSO {dso}",
            buckets,
        ]
        lines += [
            f"• {_who(r)}: {money(r['overdue'], cur)} overdue, oldest {r['oldest_days_overdue']} days"
            for r in c["top_overdue"][:10]
        ]
        blocks.append(section("\n".join(lines)))
    text = (
        title
        + ": "
        + "; ".join(
            f"{esc(c['currency'])} {money(c['total_open'], c['currency'])} open" for c in doc["currencies"][:10]
        )
    )
    return text, blocks


def prospects_blocks(doc: dict) -> tuple[str, list[dict]]:
    """Prospects: most credit available first, with the payer grade."""
    rows = doc["prospects"]
    title = f"Prospects as of {doc['as_of']}{_scope(doc)}"
    lines = [
        f"• {_who(p)}: {money(p['available_credit'], p['currency'])} available of "
        f"{money(p['credit_limit'], p['currency'])}, grade {esc(p['payer_grade'] or '-')}"
        for p in rows
    ]
    body = "\n".join(["Nothing overdue, credit available, not on credit hold:", *_rows(lines, "prospects")])
    blocks = [
        _header(title),
        section(
            body
            if rows
            else "No prospects: every customer owes something overdue, is on credit hold or has no credit available."
        ),
    ]
    return f"{title}: {len(rows)} customer(s)", blocks


def scorecard_blocks(doc: dict) -> tuple[str, list[dict]]:
    """The scorecard: per currency the totals, then invoiced and collected per rep."""
    title = f"Scorecard for {doc['month']}{_scope(doc)}: invoiced against collected"
    blocks: list[dict] = [_header(title)]
    if not doc["reports"]:
        blocks.append(section("No customers."))
    for rep in doc["reports"][:20]:
        cur = rep["currency"]
        lines = [
            f"• {esc(r['sales_rep_slack_id']) if r['sales_rep_slack_id'] else '(no rep)'}: "
            f"{money(r['invoiced'], cur)} invoiced, {money(r['collected'], cur)} collected"
            for r in rep["rows"]
        ]
        total = (
            f"*{esc(cur)}* total: {money(rep['totals']['invoiced'], cur)} invoiced, "
            f"{money(rep['totals']['collected'], cur)} collected"
        )
        blocks.append(section("\n".join([total, *_rows(lines, "scorecard")])))
    return title, blocks


def aging_blocks(doc: dict) -> tuple[str, list[dict]]:
    """The aging: per currency the bucket totals, then the customers with the most open."""
    title = f"Aging as of {doc['as_of']}{_scope(doc)}"
    blocks: list[dict] = [_header(title)]
    if not doc["reports"]:
        blocks.append(section("Nothing open."))
    for rep in doc["reports"][:20]:
        cur, t = rep["currency"], rep["totals"]
        buckets = " · ".join(f"{k} {money(t[k], cur)}" for k in ("current", "1-30", "31-60", "61-90", "90+"))
        rows = sorted(rep["rows"], key=lambda r: -abs(Decimal(r["total"])))
        lines = [f"• {_who(r)}: {money(r['total'], cur)} (90+ {money(r['90+'], cur)})" for r in rows]
        head = f"*{esc(cur)}*: {money(t['total'], cur)} open ({len(rows)} customers)\n{buckets}"
        blocks.append(section("\n".join([head, *_rows(lines, "aging")])))
    if len(doc["reports"]) > 20:
        blocks.append(context(f"…and {len(doc['reports']) - 20} more currencies"))
    return title, blocks


HELP = (
    "*Ask me about a customer* (credit staff: any; sales reps: their own):\n"
    "• `@collectbot what does ACME owe?`, `balance of ACME`, `ACME balance`, "
    "`cuánto debe ACME`, `saldo de ACME`, `quanto deve ACME`\n"
    "• in a DM to me, the same words; or `/owe ACME`\n"
    "*Reports*, by mention, DM or `/collect <what>`:\n"
    "• `prospects`: nothing overdue and credit available\n"
    "• `scorecard [YYYY-MM]`: invoiced against collected per sales rep\n"
    "• `aging`: open amounts by age · `digest`: today's digest · `weekly`: the aging summary\n"
    "Sales reps see their own customers in every answer and report."
)


def help_blocks() -> tuple[str, list[dict]]:
    """What one can ask, and how."""
    return "How to ask collectbot", [section(HELP)]


RENDERERS = {
    "digest": digest_blocks,
    "weekly": weekly_blocks,
    "prospects": prospects_blocks,
    "scorecard": scorecard_blocks,
    "aging": aging_blocks,
}


def report_blocks(kind: str, doc: dict) -> tuple[str, list[dict]]:
    """(fallback text, blocks) of report `kind`'s document. Raises KeyError for an unknown kind."""
    return RENDERERS[kind](doc)
