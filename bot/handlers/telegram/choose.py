"""Questions several flows share: which invoices, how much, which date, and "is that right?".

A flow takes a snapshot of the customer's open items when it begins (`data["items"]`: ref,
currency, open cents, due date) and offers every one of them, PAGE items per message with
paging buttons; the debtor may also type invoice refs. A button carries only the item's
position in that snapshot (`i3`), never a ref, so callback data stay short and say nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TypeVar

from bot.handlers.telegram.conversation import Turn
from bot.services.debtor_items import documents_held, open_item_choices, refs_in_proposed_plans

PAGE = 8

S = TypeVar("S")  # a flow's State


def snapshot(t: Turn, exclude: frozenset[str] = frozenset()) -> list[dict]:
    """The customer's open items at the debtor's local date, oldest first, minus those whose status
    (bot.domain.pauses.item_status) is in `exclude`."""
    assert t.chat is not None
    return [
        {"ref": i.ref, "cur": i.currency, "open": i.open_cents, "due": i.due_date.isoformat()}
        for i in open_item_choices(t.conn, t.chat.customer, t.today)
        if i.status not in exclude
    ]


def proposed_plan_refs(t: Turn) -> set[str]:
    """Refs already in a plan that waits for credit staff (a second proposal would double them)."""
    assert t.chat is not None
    return refs_in_proposed_plans(t.conn, t.chat.customer.id)


def item_view(item: dict) -> dict:
    return {"ref": item["ref"], "currency": item["cur"], "open_cents": item["open"],
            "due": date.fromisoformat(item["due"])}


def chosen(t: Turn) -> list[dict]:
    """The items the debtor chose, oldest first."""
    items = t.data["items"]
    return [items[i] for i in sorted(t.data.get("sel", []))]


def chosen_total(t: Turn) -> int:
    return sum(item["open"] for item in chosen(t))


def chosen_currency(t: Turn) -> str:
    return chosen(t)[0]["cur"]


def ask_items(t: Turn, phrase: str, *, multi: bool, account: bool = False) -> None:
    """Offer the snapshot's items (one page); `multi`: ticked one by one, then Continue, or "All <currency>".
    `account`: a single choice that may also be "the whole account" in one currency."""
    items = t.data["items"]
    sel = set(t.data.get("sel", []))
    page = t.data.get("page", 0)
    rows: list[list[tuple[str, str]]] = []
    for i in range(page * PAGE, min(len(items), (page + 1) * PAGE)):
        rows.append([t.button("common.item_button", f"i{i}", selected=i in sel, **item_view(items[i]))])
    nav = []
    if page > 0:
        nav.append(t.button("common.previous_button", f"p{page - 1}"))
    if (page + 1) * PAGE < len(items):
        nav.append(t.button("common.next_button", f"p{page + 1}"))
    if nav:
        rows.append(nav)
    if multi or account:
        totals: dict[str, int] = {}
        for item in items:
            totals[item["cur"]] = totals.get(item["cur"], 0) + item["open"]
        if multi and len(items) > 1 or account:
            for cur, cents in sorted(totals.items()):
                rows.append([t.button("common.all_button", f"a{cur}", currency=cur, open_cents=cents)])
    if multi and sel:
        rows.append([t.button("common.continue_button", "go", count=len(sel))])
    rows.append(t.cancel_row())
    t.say(phrase, buttons=rows, count=len(items), page=page + 1, pages=(len(items) + PAGE - 1) // PAGE)


def answer_items(t: Turn, *, multi: bool, account: bool = False) -> bool:
    """True once the choice is made (`data["sel"]`, and `data["account"]` for a whole-account choice)."""
    items = t.data["items"]
    code = t.code or ""
    if code.startswith("p") and code[1:].isdigit():
        t.data["page"] = max(0, min(int(code[1:]), (len(items) - 1) // PAGE))
        t.edit_next = True
        return False
    if code.startswith("i") and code[1:].isdigit() and int(code[1:]) < len(items):
        i = int(code[1:])
        if not multi or len(items) == 1:  # one invoice: choosing it is the whole answer
            t.data["sel"] = [i]
            return True
        sel = set(t.data.get("sel", []))
        if i in sel:
            sel.discard(i)
        elif sel and items[next(iter(sel))]["cur"] != items[i]["cur"]:
            t.note("common.one_currency")
            return False
        else:
            sel.add(i)
        t.data["sel"] = sorted(sel)
        t.edit_next = True
        return False
    if code.startswith("a") and (multi or account):
        cur = code[1:]
        t.data["sel"] = [i for i, item in enumerate(items) if item["cur"] == cur]
        t.data["account"] = account
        return bool(t.data["sel"])
    if code == "go" and multi and t.data.get("sel"):
        return True
    if t.text:
        return _typed_refs(t, multi)
    t.note("common.choose_items")
    return False


def _typed_refs(t: Turn, multi: bool) -> bool:
    items = t.data["items"]
    by_ref = {item["ref"].casefold(): i for i, item in enumerate(items)}
    words = [w for w in t.text.replace(",", " ").replace(";", " ").split() if w]
    found = [by_ref[w.casefold()] for w in words if w.casefold() in by_ref]
    if not found or len(found) != len(words) or (not multi and len(found) > 1):
        t.note("common.unknown_items")
        return False
    if len({items[i]["cur"] for i in found}) > 1:
        t.note("common.one_currency")
        return False
    t.data["sel"] = sorted(set(found))
    return True


def ask_yes_no(t: Turn, phrase: str, yes: str = "common.yes_button", no: str = "common.no_button", **ctx) -> None:
    t.say(phrase, buttons=[[t.button(yes, "y"), t.button(no, "n")], t.cancel_row()], **ctx)


def yes_no(t: Turn) -> bool | None:
    """True for Yes, False for No, None for anything else (a line is noted)."""
    if t.code in ("y", "n"):
        return t.code == "y"
    t.note("common.use_buttons")
    return None


def confirmed(
    t: Turn, stay: S, back: S, record: Callable[[Turn], S | None], forget: tuple[str, ...] = ("sel",)
) -> S | None:
    """The answer to a flow's final "is that right?": Yes records (`record(t)`, the flow's next
    state or None when it ends), No forgets the choice (`forget`: keys of t.data) and goes `back`
    to choosing, anything else stays on `stay` with a note to use the buttons."""
    yes = yes_no(t)
    if yes is None:
        return stay
    if not yes:
        for key in forget:
            t.data.pop(key, None)
        return back
    return record(t)


def still_theirs(t: Turn, refs: list[str]) -> bool:
    """Whether every ref is still a document of the chat's customer (checked again before any record)."""
    assert t.chat is not None
    if documents_held(t.conn, t.chat.customer.id, refs) == set(refs):
        return True
    t.say("common.expired")
    return False
