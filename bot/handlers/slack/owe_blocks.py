"""Block Kit for "what does ACME owe?": the answer, a page of more items, the name chooser, refusals.

Staff texts are English, like every staff alert. Every value that comes from the ledger
or from a person (names, refs, dispute text, the question itself) is escaped for mrkdwn
(`slack_escape`: & < >), so a customer named `<!channel>` stays text. Slack's limits are
kept whatever the customer holds (issue 13: a customer with hundreds of items): at most
50 blocks, 3,000 characters a section text, 10 fields, 75 characters a button label,
150 a header; a button value carries a customer ref and an offset, never an amount.
The oldest items come first, `ITEMS_SHOWN` of them; "Show more items" pages on.
"""

from __future__ import annotations

import json
from decimal import Decimal
from functools import lru_cache

from bot.scheduler.compose import slack_escape
from messages.formatting import format_money
from messages.words import words

ITEMS_SHOWN = 10  # open items in the answer itself
PAGE = 25  # open items per "show more" page
SECTION_LIMIT = 3000
MAX_BLOCKS = 50
LIST_SHOWN = 5  # disputes, plans, promises, claims listed before "and N more"
PICK = "owe_pick"  # action_id prefix of the name chooser's buttons
MORE = "owe_more"  # action_id of "Show more items"


def esc(value: object) -> str:
    """Any value as mrkdwn text: `&`, `<`, `>` escaped (the one escape, bot.scheduler.compose.slack_escape)."""
    return slack_escape(str(value))


def say(code: object, kind: str) -> str:
    """A code (step, dispute reason, item status, event kind, status) in words, escaped for mrkdwn: the one
    mapping, messages.words, as the staff alerts use it."""
    return esc(words(code, kind))


def _cents(amount: str) -> int:
    return int(Decimal(amount) * 100)


@lru_cache(maxsize=8192)
def money(amount: str | None, currency: str) -> str:
    """A decimal string as English money ("$1,234.56"); escaped (a currency code is ledger text).

    Cached: Babel's formatting costs a quarter of a millisecond, and an answer repeats amounts."""
    if amount is None:
        return "—"
    return esc(format_money(_cents(amount), currency, "en"))


def _plain(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fit(lines: list[str], limit: int = SECTION_LIMIT, more: str = "…and {n} more") -> str:
    """Whole lines up to `limit` characters, then a note of how many were left out."""
    out: list[str] = []
    used = 0
    for i, line in enumerate(lines):
        line = line if len(line) <= 1000 else line[:999] + "…"  # one escaped line never eats the section
        tail = len(more.format(n=len(lines) - i)) + 1
        if used + len(line) + 1 + tail > limit:
            out.append(more.format(n=len(lines) - i))
            break
        out.append(line)
        used += len(line) + 1
    return "\n".join(out)


def header(text: str) -> dict:
    """A header (plain_text, 150 characters), escaped like every field: `<!channel>` never reaches Slack raw."""
    return {"type": "header", "text": {"type": "plain_text", "text": _plain(esc(text), 150)}}


def section(text: str) -> dict:
    """A mrkdwn section of whole lines, cut to 3,000 characters with "…and N more"."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": _fit(text.split("\n"))}}


def context(text: str) -> dict:
    """A context block with one mrkdwn element, cut like a section."""
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": _fit(text.split("\n"))}]}


def button(label: str, action_id: str, value: dict, style: str | None = None) -> dict:
    """A button: the label escaped and cut to 75 characters; `value` (refs and offsets only) as compact JSON."""
    b = {
        "type": "button",
        "text": {"type": "plain_text", "text": _plain(esc(label), 75)},
        "action_id": action_id,
        "value": json.dumps(value, separators=(",", ":"))[:2000],
    }
    if style:
        b["style"] = style
    return b


def label_of(ref: str, name: str) -> str:
    """ "Name (REF)", unescaped: callers escape where it goes."""
    return f"{name} ({ref})"


def _item_line(i: dict) -> str:
    status = "" if i["status"] == "open" else f" _({say(i['status'], 'item')})_"
    days = i["days_overdue"]
    when = f"{days} days overdue" if days > 0 else ("due today" if days == 0 else f"due in {-days} days")
    return f"• `{esc(i['doc_ref'])}` due {i['due_date']}, {when}: *{money(i['open_amount'], i['currency'])}*{status}"


def item_lines(items: list[dict]) -> list[str]:
    """One line per open item: ref, due date, days overdue (or until due), open amount, status when not open."""
    return [_item_line(i) for i in items]


def _balance_block(b: dict) -> dict:
    cur = b["currency"]
    fields = [
        f"*Open ({esc(cur)})*\n{money(b['total_open'], cur)}",
        f"*Overdue*\n{money(b['overdue'], cur)}",
    ]
    if b["unapplied_credit"] != "0.00":
        fields.append(f"*Unapplied credit*\n{money(b['unapplied_credit'], cur)}")
    if b["credit_limit"] is not None:
        fields.append(f"*Credit limit*\n{money(b['credit_limit'], cur)}")
        fields.append(f"*Available credit*\n{money(b['available_credit'], cur)}")
    buckets = " · ".join(f"{esc(k)} {money(v, cur)}" for k, v in b["buckets"].items())
    fields.append(f"*Aging*\n{_plain(buckets, 1900)}")
    return {"type": "section", "fields": [{"type": "mrkdwn", "text": f} for f in fields[:10]]}


def _more(kind: str, n: int) -> list[str]:
    return [f"…and {n} more {kind}"] if n > 0 else []


def _cases(f: dict) -> list[str]:
    lines: list[str] = []
    for d in f["disputes"][:LIST_SHOWN]:
        refs = ", ".join(f"`{esc(r)}`" for r in d["doc_refs"])
        text = _plain(d["text"], 200)
        why = say(d["reason"], "reason")
        lines.append(f"• Dispute #{d['id']} on {refs} since {d['opened_at'][:10]}: {why}: {esc(text)}")
    lines += _more("disputes", len(f["disputes"]) - LIST_SHOWN)
    for p in f["plans"][:LIST_SHOWN]:
        nxt = p["next_installment"]
        when = (
            f"; next instalment {nxt['seq']} of {nxt['count']}: {money(nxt['amount'], p['currency'])} "
            f"on {nxt['due_date']}"
            if nxt
            else ""
        )
        status = say(p["status"], "status")
        lines.append(f"• Payment plan #{p['id']} ({status}): {money(p['total'], p['currency'])}{when}")
    lines += _more("plans", len(f["plans"]) - LIST_SHOWN)
    for p in f["promises"][:LIST_SHOWN]:
        what = f"`{esc(p['doc_ref'])}`" if p["doc_ref"] else "the account"
        lines.append(f"• Promise to pay {money(p['amount'], p['currency'])} on {what} by {p['promised_date']}")
    lines += _more("promises", len(f["promises"]) - LIST_SHOWN)
    for c in f["claims"][:LIST_SHOWN]:
        ref = f" (ref {esc(c['reference'])})" if c["reference"] else ""
        lines.append(f"• Payment claimed #{c['id']}: {money(c['amount'], c['currency'])} paid {c['date']}{ref}")
    lines += _more("claimed payments", len(f["claims"]) - LIST_SHOWN)
    return lines


def _next_step(f: dict) -> str:
    n = f["next_step"]
    if f["reminders_paused"]:
        head = "*Next step:* reminders are paused (hold or a talk with a person)"
    elif n is None:
        head = "*Next step:* nothing scheduled"
    else:
        refs = n["doc_refs"]
        shown = ", ".join(f"`{esc(r)}`" for r in refs[:5]) + (f" and {len(refs) - 5} more" if len(refs) > 5 else "")
        when = n["date"] or "no business day found"
        wait = " (waits for sales to agree)" if n["awaiting_sales"] else ""
        head = f"*Next step:* {say(n['step'], 'step')} reminder on {when} for {shown}{wait}"
    if f["paused"]:
        parts = ", ".join(f"{say(k, 'item')} {v}" for k, v in f["paused"].items())
        head += f"\nPaused items: {parts}"
    return head


def _profile(f: dict) -> str:
    r = f["rating"]
    if r["grade"] is None:
        grade = "not rated yet"
    else:
        late = f", {r['average_days_late']} average days late" if r["average_days_late"] is not None else ""
        grade = f"{r['grade']}{late}"
    broken = f"; broken in 12 months: {r['broken_promises']} promises, {r['broken_plans']} plans"
    dso = " · ".join(f"{esc(d['currency'])} {'>= ' if d['capped'] else ''}{d['days']} days" for d in f["dso"]) or "—"
    c = f["last_contact"]
    contact = (
        "none yet" if c is None else f"{c['at'][:16].replace('T', ' ')} ({say(c['kind'], 'event')}): {esc(c['text'])}"
    )
    return f"*Payer rating:* {grade}{broken}\n*DSO:* {dso}\n*Last contact:* {_plain(contact, 400)}"


def owe_answer(f: dict, *, chosen_from: str | None = None) -> tuple[str, list[dict]]:
    """(fallback text, blocks) of the answer; `chosen_from`: the query a lenient match answered."""
    c = f["customer"]
    blocks: list[dict] = [header(label_of(c["ref"], c["name"]))]
    if chosen_from is not None:
        blocks.append(context(f"“{esc(chosen_from)}” matched *{esc(label_of(c['ref'], c['name']))}*"))
    rep = f"sales rep {esc(c['sales_rep_slack_id'])}" if c["sales_rep_slack_id"] else "no sales rep"
    blocks.append(context(f"As of {f['as_of']} · {rep} · segment {esc(c['segment'])}"))
    if c["credit_hold"]:
        blocks.append(section(":no_entry: *On credit hold*: no new sales until it is released"))
    balances = f["balances"]
    for b in balances[:20]:
        blocks.append(_balance_block(b))
    if len(balances) > 20:
        blocks.append(context(f"…and {len(balances) - 20} more currencies"))
    if not balances:
        blocks.append(section("Nothing open: the account is settled."))
    items = f["open_items"]
    if items:
        head = f"*Open items* ({len(items)}, {f['overdue_count']} overdue), oldest first:"
        blocks.append(section("\n".join([head, *item_lines(items[:ITEMS_SHOWN])])))
        if len(items) > ITEMS_SHOWN:
            blocks.append(more_actions(c["ref"], ITEMS_SHOWN, len(items)))
    cases = _cases(f)
    if cases:
        blocks.append(section("\n".join(["*Disputes, plans, promises and claims*", *cases])))
    blocks.append(section(_next_step(f)))
    blocks.append(section(_profile(f)))
    totals = "; ".join(
        f"{money(b['total_open'], b['currency'])} open, {money(b['overdue'], b['currency'])} overdue"
        for b in balances[:5]
    )
    text = f"{esc(label_of(c['ref'], c['name']))}: {totals or 'nothing open'}"
    return _plain(text, 3000), blocks[:MAX_BLOCKS]


def more_actions(ref: str, offset: int, total: int) -> dict:
    """The "Show more items" button for customer `ref` from `offset` (no amount in its value)."""
    left = total - offset
    return {
        "type": "actions",
        "elements": [button(f"Show more items ({left} left)", MORE, {"c": ref, "o": offset})],
    }


def items_page(f: dict, offset: int) -> tuple[str, list[dict]]:
    """Open items from `offset` on, PAGE of them, with a button for the next page."""
    c, items = f["customer"], f["open_items"]
    page = items[offset : offset + PAGE]
    name = esc(label_of(c["ref"], c["name"]))
    if not page:
        return f"{name}: no more open items", [section(f"{name}: no more open items.")]
    head = f"*{name}*: open items {offset + 1}–{offset + len(page)} of {len(items)}"
    blocks = [section("\n".join([head, *item_lines(page)]))]
    if offset + PAGE < len(items):
        blocks.append(more_actions(c["ref"], offset + PAGE, len(items)))
    return f"{name}: open items {offset + 1}–{offset + len(page)} of {len(items)}", blocks


def chooser(query: str, choices: list[tuple[str, str]], more: int, *, unknown: bool = False) -> tuple[str, list[dict]]:
    """Buttons to pick among customers (ref, name) the asker may see: a tie, or suggestions."""
    q = esc(query)
    if unknown:
        head = f"I found no customer matching “{q}”." + (" Did you mean:" if choices else "")
    else:
        head = f"Several customers match “{q}”. Which one?"
    blocks = [section(head)]
    if choices:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    button(label_of(ref, name), f"{PICK}_{n}", {"c": ref}) for n, (ref, name) in enumerate(choices[:10])
                ],
            }
        )
    if more:
        blocks.append(context(f"…and {more} more: type more of the name."))
    return head, blocks


NO_ACCESS = (
    "Sorry, you don't have access to that customer's account. Credit staff and the customer's own sales rep can ask me."
)
NO_ACCESS_AT_ALL = (
    "Sorry, you don't have access to customer accounts here: I answer credit staff and sales reps about "
    "their customers. Ask credit staff if you need a figure."
)


def refusal(everything: bool) -> tuple[str, list[dict]]:
    """The polite refusal: of everything (someone who sees nothing) or of one customer. No name, no amount."""
    text = NO_ACCESS_AT_ALL if everything else NO_ACCESS
    return text, [section(text)]
