"""One sweep: plan every customer whose items need a look, record intent with its rendered message, deliver.

The database, not the scheduler, is the record of what was sent: the outbox's
unique key per (document, step) makes a second send impossible, whether two
sweeps run at once or one restarts after a crash.
"""

from __future__ import annotations

import gc
import hashlib
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, select, update

from bot.domain.balances import compute_balance, nothing_overdue
from bot.domain.ladder import (
    CustomerFacts,
    CustomerPlan,
    customer_paused,
    ladder_fingerprint,
    plan_customer,
    sends_now,
    step_date,
)
from bot.domain.plans import PlanFacts, PlanReview, review_plan
from bot.domain.policy import Policy
from bot.scheduler import claims, compose
from bot.scheduler.channels import AlertChannel, DebtorChannel
from bot.scheduler.dbpool import run_db
from bot.scheduler.delivery import AlertPoster, Delivery, recover_dead_claims, run_sync
from bot.services import credit_holds
from bot.services.customers import CustomerRow, customers_by_id
from bot.services.keyboards import reminder_keyboard
from storage import approvals, arming, events, heads_ups, outbox, policy_state
from storage import credit_holds as credit_hold_store
from storage import plans as plan_store
from storage.engine import reading
from storage.ledger_reads import ledgers, open_ledgers
from storage.outbound import MessageStatus, SendStatus, enqueue
from storage.pauses import load_pauses
from storage.tables import Customer, Document, OutboundMessage, Promise, ReminderSend

log = logging.getLogger("collectbot.sweep")
CHUNK = 500
INSTALLMENT = "installment"  # the step name of a plan instalment's reminder (sweep contract)


@dataclass
class MessageReport:
    customer_ref: str
    channel: str
    step: str
    items: list[tuple[str, str]]  # (doc_ref, step)
    status: str
    message_id: int | None = None  # the outbound message this sweep recorded (status follows its delivery)

    def as_json(self) -> dict:
        return {
            "customer_ref": self.customer_ref,
            "channel": self.channel,
            "step": self.step,
            "doc_refs": [ref for ref, _ in self.items],
            "items": [{"doc_ref": ref, "step": step} for ref, step in self.items],
            "status": self.status,
        }


@dataclass
class SweepReport:
    now: datetime
    messages: list[MessageReport] = field(default_factory=list)
    skipped: int = 0
    alerts: int = 0
    recovered_unknown: int = 0

    def as_json(self) -> dict:
        """`sweep --format json` (DESIGN "Interfaces"): {"now", "messages"}."""
        return {"now": self.now.isoformat(), "messages": [m.as_json() for m in self.messages]}

    def summary(self) -> str:
        """One line, the same words for a real sweep and a dry run: "3 messages, 2 skipped, 5 staff alerts"."""
        def n(count: int, noun: str) -> str:
            return f"{count} {noun}{'' if count == 1 else 's'}"

        return f"{n(len(self.messages), 'message')}, {self.skipped} skipped, {n(self.alerts, 'staff alert')}"


@dataclass
class ChunkFacts:
    """Everything one chunk of customers needs for planning, read in one go."""

    armed: dict[int, list[int]]
    customers: dict[int, CustomerRow]
    doc_ids: dict[int, dict[str, int]]
    books: dict
    pauses: dict
    hist: dict
    heads: dict
    contacts: dict
    live: dict
    agreed: dict
    auto_release: set[int]  # customers on a credit hold the sweep lifts once nothing is overdue
    asked: set[str]  # keys of approval requests already recorded (a dry run counts only new alerts)


# What `sweep --format json` says of a message, from its outbound message's status (DESIGN's four words):
# an unknown send was attempted (staff were told), a refused one reached nobody (staff were told),
# one still pending (Telegram off or failing before the request left) goes out later.
REPORTED = {
    MessageStatus.SENT: "sent",
    MessageStatus.UNKNOWN: "sent",
    MessageStatus.NO_CHANNEL: "no_channel",
    MessageStatus.FAILED: "no_channel",
    MessageStatus.PENDING: "deferred",
    MessageStatus.SENDING: "deferred",
}


@dataclass
class Sweeper:
    """One sweep: `record` plans and records (database only), `deliver` sends what was recorded.

    `debtor` is None when Telegram is off: reminders to linked chats are recorded and stay
    `pending` for `collectbot run` or the next sweep with Telegram on. `staff` posts the staff
    alerts recorded by the sweep (and any other pending ones) after their transactions commit.
    """

    engine: Engine
    policy: Policy
    debtor: DebtorChannel | None
    staff: AlertChannel
    renderer: object  # messages.Renderer
    company_name: str = "collectbot"

    def sweep(self, now: datetime, *, dry_run: bool = False) -> SweepReport:
        """One whole sweep, blocking: record, then deliver and post (see `run`)."""
        if dry_run:
            return self.record(now, dry_run=True)
        return run_sync(self.run(now))

    async def run(self, now: datetime, *, dry_run: bool = False) -> SweepReport:
        """Record (in a database thread), then deliver this sweep's messages and post alerts on this loop."""
        report = await run_db(self.record, now, dry_run=dry_run)
        if not dry_run:
            await self.deliver(report, now)
        return report

    async def deliver(self, report: SweepReport, now: datetime) -> None:
        """Send this sweep's messages, then any others waiting unreserved; post pending staff alerts.

        Each message's reported status becomes what its delivery came to (REPORTED).
        """
        own = [m.message_id for m in report.messages if m.message_id is not None]
        results: dict[int, str] = {}
        if self.debtor is not None:
            delivery = Delivery(self.engine, self.debtor, self.renderer, lambda: now)
            results = await delivery.deliver(own)
            await delivery.deliver(None, reserved=False, exclude=set(own))
        elif own:
            log.warning(
                "Telegram is off (TELEGRAM_BOT_TOKEN not set): %d reminder(s) to linked chats recorded and left "
                "pending for `collectbot run` or the next sweep with Telegram on", len(own)
            )
        await AlertPoster(self.engine, self.staff, lambda: now).post_pending()
        missing = [mid for mid in own if mid not in results]
        if missing:
            results.update(await run_db(_statuses, self.engine, missing))
        for m in report.messages:
            if m.message_id is not None:
                m.status = REPORTED.get(results.get(m.message_id, ""), "deferred")
        report.messages.sort(key=lambda m: (m.customer_ref, m.status))

    def record(self, now: datetime, *, dry_run: bool = False) -> SweepReport:
        """One sweep at `now` (aware): plan every customer with an armed item, a live plan or a credit
        hold the sweep may lift; record each customer's decision in one transaction (no network call).

        Implements DESIGN "Rules of the sweep", "Ladder dates and windows" and "Ladder rules". A
        policy whose ladder differs from the one the items were armed under re-arms every open item
        first. `dry_run`: the same plan (messages, skipped steps, staff alerts counted alike) and
        nothing written or sent. Returns the SweepReport; raises only on a database failure.
        """
        report = SweepReport(now)
        fingerprint = ladder_fingerprint(self.policy)
        every = False  # every open item, whatever its next-action date (the policy changed)
        if dry_run:
            with reading(self.engine) as conn:
                every = policy_state.stored(conn) != fingerprint
            self._settle_promises(now, report, dry_run=True)
        else:
            with self.engine.begin() as conn:
                policy_state.adopt(conn, fingerprint, now)
            report.recovered_unknown = recover_dead_claims(self.engine, now)
            self._settle_promises(now, report)
        report.alerts += self._waiting_on_staff(now, dry_run=dry_run)
        with reading(self.engine) as conn:  # SQLite: reads take no write lock (a chat's question never waits)
            armed = _armed_items(conn, now, every=every)
            for cid in plan_store.customers_with_live_plans(conn):
                armed.setdefault(cid, [])
            lifting = set(credit_hold_store.auto_release_ids(conn))
            for cid in lifting:
                armed.setdefault(cid, [])
        ids = sorted(armed)
        with _no_cycle_collection():
            for i in range(0, len(ids), CHUNK):
                chunk = ids[i : i + CHUNK]
                self._sweep_chunk(chunk, self._load(chunk, armed, now, lifting), now, dry_run, report)
        report.messages.sort(key=lambda m: (m.customer_ref, m.status))
        return report

    # -- gathering facts and planning (read-only) --------------------------------------

    def _load(
        self, ids: Sequence[int], armed: dict[int, list[int]], now: datetime, lifting: set[int] = frozenset()
    ) -> ChunkFacts:
        with reading(self.engine) as conn:
            doc_ids: dict[int, dict[str, int]] = {}
            live = plan_store.live_plans(conn, ids)
            # The items settled by the earliest local date anywhere now are summed, not listed (a plan's
            # review looks at its approval day too: those customers' whole ledgers).
            since = now.astimezone(UTC).date() - timedelta(days=1)
            books = open_ledgers(conn, ids, since, doc_ids, whole=[cid for cid in ids if live.get(cid)])
            return ChunkFacts(
                armed=armed,
                customers=customers_by_id(conn, ids),
                doc_ids=doc_ids,
                books=books,
                pauses=load_pauses(conn, ids),
                hist=outbox.history(conn, [doc for cid in ids for doc in armed[cid]]),
                heads=heads_ups.given(conn, ids),
                contacts=outbox.reachable_contacts(conn, ids),
                live=live,
                agreed=approvals.approved(conn, ids),
                auto_release=lifting & set(ids),
                asked=outbox.alert_keys(conn, ids, "approval_needed"),
            )

    def _sweep_chunk(
        self, ids: Sequence[int], f: ChunkFacts, now: datetime, dry_run: bool, report: SweepReport
    ) -> None:
        ref_of = {doc_id: ref for refs in f.doc_ids.values() for ref, doc_id in refs.items()}
        later: list[tuple[int, date | None]] = []  # customers whose only change is a date: one transaction
        lifts: list[CustomerRow] = []  # credit holds to lift: nothing overdue any more
        self._plan_chunk(ids, f, ref_of, later, now, dry_run, report, lifts)
        if later or lifts:  # lost in a crash, the items simply stay armed (the hold set) for the next sweep
            with self.engine.begin() as conn:
                outbox.set_next_actions(conn, later)
                for c in lifts:
                    credit_holds.release_by_sweep(conn, c, now)

    def _plan_chunk(  # noqa: PLR0913
        self,
        ids: Sequence[int],
        f: ChunkFacts,
        ref_of: dict[int, str],
        later: list[tuple[int, date | None]],
        now: datetime,
        dry_run: bool,
        report: SweepReport,
        lifts: list[CustomerRow],
    ) -> None:
        """Plan each customer of the chunk (plan_customer), then record and send what it decides, or,
        in a dry run, report and count the same without writing."""
        armed, customers, doc_ids, books, pauses = f.armed, f.customers, f.doc_ids, f.books, f.pauses
        hist, heads, contacts, live, agreed = f.hist, f.heads, f.contacts, f.live, f.agreed
        for cid in ids:
            c = customers[cid]
            local_now = now.astimezone(zone(c.timezone))
            today = local_now.date()
            docs, pays, opening = books[cid]
            refs = frozenset(ref_of[d] for d in armed[cid] if d in ref_of)
            balance = compute_balance(docs, pays, today, customer_currency=c.currency, opening=opening)
            reviews = self._review_plans(live.get(cid, []), c, books[cid], balance, pauses[cid], today)
            facts = CustomerFacts(
                segment=self.policy.segment(c.segment),
                today=today,
                now=local_now,
                balance=balance,
                history=hist.get(cid, {}),
                headed_up=frozenset(heads.get(cid, ())),
                pauses=pauses[cid],
                approved=frozenset(agreed.get(cid, ())),
                armed=refs,
                country=c.country,
            )
            plan = plan_customer(facts, self.policy)
            if cid in f.auto_release and not dry_run and nothing_overdue(balance):
                lifts.append(c)
            if not customer_paused(facts, self.policy):
                plan.installments = [(rec, r.remind) for rec, r in reviews if r.remind is not None]
            for doc in docs:  # settled, too small, or in credit: nothing until the ledger changes
                if doc.ref in refs and doc.issue_date <= today:
                    plan.next_action.setdefault(doc.ref, None)
            ends = [(facts_, r) for facts_, r in reviews if r.broken_by is not None or r.completed]
            speaks = plan.due or plan.installments
            if not speaks and not plan.skips and not plan.heads_ups and not ends and not plan.awaiting and dry_run:
                continue
            in_hours = sends_now(facts, self.policy)
            status = None
            if speaks:
                status = "deferred" if not in_hours else ("sent" if contacts.get(cid) else "no_channel")
            if dry_run:  # what the real sweep would record, counted alike
                report.skipped += len(plan.skips)
                report.alerts += _alerts_planned(plan, status, ends, f.asked, doc_ids.get(cid, {}))
                if status in ("sent", "no_channel"):
                    status = "dry_run"
            if status in ("deferred", "dry_run"):
                for d in plan.due:
                    plan.next_action[d.item.ref] = today
            channel = self._channel_name if contacts.get(cid) else "none"
            if speaks and status in ("deferred", "dry_run"):
                tone = plan.tone.name if plan.tone else INSTALLMENT
                report.messages.append(MessageReport(c.ref, channel, tone, _report_items(plan), status))
            if dry_run:
                continue
            quiet = not (plan.skips or plan.heads_ups or plan.awaiting or ends) and status not in ("sent", "no_channel")
            if quiet:  # only dates move (paused, deferred, not yet due): written together below
                ids_of = doc_ids.get(cid, {})
                later.extend((ids_of[r], day) for r, day in plan.next_action.items() if r in ids_of)
                continue
            done = self._execute(c, plan, status, today, now, doc_ids.get(cid, {}), contacts.get(cid, []), report, ends)
            if done is not None:  # only what this process won and did (another sweeper may have the rest)
                tone, items, final, message_id = done
                report.messages.append(MessageReport(c.ref, channel, tone, items, final, message_id))

    def _review_plans(  # noqa: PLR0913
        self,
        records: list,
        c: CustomerRow,
        book: tuple,
        balance,
        pauses,
        today: date,  # noqa: ANN001
    ) -> list[tuple[PlanFacts, PlanReview]]:
        """Review each approved plan; the invoices of a plan that ends today are no longer paused by it."""
        open_by_ref = {i.ref: i.open_cents for i in balance.open_items}
        tz = zone(c.timezone)
        out = []
        for rec in records:
            open_now = sum(open_by_ref.get(ref, 0) for ref in rec.doc_refs)
            approved_on = rec.approved_at.astimezone(tz).date() if rec.approved_at else today
            then = compute_balance(book[0], book[1], approved_on, customer_currency=c.currency, opening=book[2])
            open_then = sum(i.open_cents for i in then.open_items if i.ref in rec.doc_refs)
            facts = PlanFacts(
                id=rec.id,
                currency=rec.currency,
                total_cents=rec.total_cents,
                installments=tuple(rec.installments),
                doc_refs=tuple(rec.doc_refs),
                open_cents=open_now,
                paid_cents=max(0, open_then - open_now),
                claimed_cents=rec.claimed_cents,
                reminded=frozenset(rec.reminded),
            )
            review = review_plan(
                facts,
                today,
                remind_days_before=self.policy.installment_reminder_days_before,
                grace_days=self.policy.installment_grace_days,
            )
            out.append((facts, review))
        still = {ref for f, r in out if r.broken_by is None and not r.completed for ref in f.doc_refs}
        for f, r in out:
            if r.broken_by is not None or r.completed:
                pauses.in_plan.difference_update(set(f.doc_refs) - still)
        return out

    # -- recording and sending ----------------------------------------------------------

    @property
    def _channel_name(self) -> str:
        return self.debtor.name if self.debtor is not None else "telegram"

    def _execute(
        self,
        c: CustomerRow,
        plan: CustomerPlan,
        status: str | None,
        today: date,
        now: datetime,
        doc_ids: dict[str, int],
        contacts: list,
        report: SweepReport,
        ends: list[tuple[PlanFacts, PlanReview]] = (),
    ) -> tuple[str, list[tuple[str, str]], str, int | None] | None:
        """Record the customer's decision in ONE transaction (no network call); returns (tone, items,
        status, outbound message id) of what this process won (None: nothing of it was won here).

        One transaction holds everything the decision records: ended plans, skips, the outbox intent
        with its rendered message, next-action dates, heads-ups, approval requests, the actions of the
        steps won (credit hold, escalation) and, with no linked chat, the chase request, each staff
        alert with its timeline event. A failure anywhere rolls all of it back: one customer never
        half-records. A customer with reachable chats gets one `reminder` in the debtor outbox,
        rendered for each chat in its contact's language with the six buttons; its reminder_send
        rows are `pending` and point at it; bot.scheduler.delivery sends it after the commit.
        """
        message_key = ""
        message_id = None
        won: set[str] = set()
        due = [d for d in plan.due if status in ("sent", "no_channel")]
        announce = [(f, inst) for f, inst in plan.installments if status in ("sent", "no_channel")]
        with self.engine.begin() as conn:
            for f, review in ends:
                self._end_plan(conn, c, f, review, now, report)
            skip_rows = [self._row(c, doc_ids[i.ref], s.name, "skipped", today, now, "") for i, s in plan.skips]
            for row, (item, step) in zip(skip_rows, plan.skips, strict=True):
                if outbox.claim(conn, [row]):
                    report.skipped += 1
                    events.record(
                        conn,
                        at=now,
                        kind="step_skipped",
                        actor="system",
                        customer_id=c.id,
                        doc_refs=[item.ref],
                        text=f"{step.name} skipped: a later step is already due",
                    )
            row_status = SendStatus.PENDING if status == "sent" else SendStatus.NO_CHANNEL
            rows = [
                self._row(c, doc_ids[d.item.ref], d.step.name, row_status, today, now, message_key, tone=plan.tone.name)
                for d in due
            ]
            rows += [
                self._row(c, None, INSTALLMENT, row_status, today, now, message_key, tone=INSTALLMENT)
                | {"key": plan_store.installment_key(f.id, inst.seq)}
                for f, inst in announce
            ]
            won = outbox.claim(conn, rows)
            outbox.set_next_actions(conn, [(doc_ids[r], day) for r, day in plan.next_action.items() if r in doc_ids])
            self._heads_up(conn, c, plan.heads_ups, doc_ids, now, report)
            for item, step in plan.awaiting:
                text = compose.staff_text(self.renderer, "approval_needed", c, [item], step.name, step_date(item, step))
                if self._alert(conn, c.id, c.ref, "approval_needed", _approval_key(doc_ids[item.ref], step.name),
                               text, now, report, doc_refs=[item.ref]):
                    events.record(conn, at=now, kind="approval_needed", actor="system", customer_id=c.id,
                                  doc_refs=[item.ref], text=f"{step.name}: sales asked to agree before it goes out")
            sent_items = [d for d in due if outbox.doc_key(doc_ids[d.item.ref], d.step.name) in won]
            sent_inst = [(f, inst) for f, inst in announce if plan_store.installment_key(f.id, inst.seq) in won]
            keys = [outbox.doc_key(doc_ids[d.item.ref], d.step.name) for d in sent_items]
            keys += [plan_store.installment_key(f.id, inst.seq) for f, inst in sent_inst]
            if keys:
                self._actions(conn, c, sent_items, now, report)
                if status == "no_channel":
                    self._chase(conn, c, sent_items, sent_inst, keys, "no linked chat", now, report)
                else:
                    message_id = self._enqueue(conn, c, contacts, sent_items, sent_inst, keys, now)
        if not keys:
            return None
        tone = max((d.step for d in sent_items), key=lambda s: s.offset_days, default=None)
        tone_name = tone.name if tone else INSTALLMENT
        done_items = [(d.item.ref, d.step.name) for d in sent_items]
        done_items += [(ref, INSTALLMENT) for f, _ in sent_inst for ref in f.doc_refs]
        return tone_name, done_items, status, message_id

    def _enqueue(  # noqa: PLR0913
        self,
        conn: Connection,
        c: CustomerRow,
        contacts: list,
        items: list,
        installments: list,
        keys: list[str],
        now: datetime,
    ) -> int | None:
        """Render the reminder for each reachable chat (first linked first) in its contact's language with
        the six buttons, record it once in the debtor outbox and point its reminder_send rows at it."""
        tone = max((d.step for d in items), key=lambda s: s.offset_days, default=None)
        tone_name = tone.name if tone else INSTALLMENT
        candidates = []
        for contact_id, chat_id, contact_locale in contacts:
            locale = contact_locale or c.locale
            parts = [compose.reminder_text(self.renderer, self.policy, c, items, tone, locale, now)] if items else []
            parts += [compose.installment_text(self.renderer, c, f, inst, locale) for f, inst in installments]
            candidates.append({
                "contact_id": contact_id,
                "chat_id": chat_id,
                "locale": locale,
                "text": "\n\n".join(parts),
                "buttons": reminder_keyboard(locale),
            })
        refs = [d.item.ref for d in items] + [ref for f, _ in installments for ref in f.doc_refs]
        # Reserved for this process's own delivery right after the sweep (its report shows the
        # outcome); freed for anyone if this process dies first (claims.dead_holders).
        reserve = claims.claim_holder(self.engine).token if self.debtor is not None else ""
        message_id = enqueue(
            conn, key=f"reminder:{sorted(keys)[0]}", customer_id=c.id, kind="reminder", candidates=candidates,
            now=now, doc_refs=refs, step=tone_name, claimed_by=reserve,
        )
        t = ReminderSend.__table__
        conn.execute(update(t).where(t.c.key.in_(keys)).values(message_id=message_id))
        return message_id

    def _chase(  # noqa: PLR0913
        self,
        conn: Connection,
        c: CustomerRow,
        items: list,
        installments: list,
        keys: list[str],
        why: str,
        now: datetime,
        report: SweepReport,
    ) -> None:
        """A reminder that reached no chat: it counts as done, and the sales rep is asked to phone
        (staff alert `chase_by_phone`, in the timeline as `reminder_sent` and `chase_by_phone`)."""
        tone = max((d.step for d in items), key=lambda s: s.offset_days, default=None)
        tone_name = tone.name if tone else INSTALLMENT
        refs = [d.item.ref for d in items] + [ref for f, _ in installments for ref in f.doc_refs]
        notes = " ".join(compose.installment_note(f, inst) for f, inst in installments)
        text = compose.staff_text(self.renderer, "chase_by_phone", c, [d.item for d in items], tone_name, None, notes)
        events.record(
            conn,
            at=now,
            kind="reminder_sent",
            actor="system",
            customer_id=c.id,
            doc_refs=refs,
            text=f"{tone_name}: {why}; sales rep asked to chase by phone",
        )
        if self._alert(conn, c.id, c.ref, "chase_by_phone", f"chase:{keys[0]}", text, now, report, doc_refs=refs):
            events.record(conn, at=now, kind="chase_by_phone", actor="system", customer_id=c.id, doc_refs=refs,
                          text=f"sales rep asked to chase the {tone_name} reminder by phone ({why})")

    def _heads_up(
        self,
        conn: Connection,
        c: CustomerRow,
        wanted: list,
        doc_ids: dict[str, int],
        now: datetime,
        report: SweepReport,
    ) -> None:
        """The customer's new sales heads-ups as one message to the rep, each (item, step) once ever
        (storage.heads_ups), with a `heads_up` timeline event naming each step and its projected date."""
        if not wanted:
            return
        won = heads_ups.claim(conn, c.id, [(doc_ids[i.ref], s.name, when) for i, s, when in wanted], now)
        mine = sorted(
            ((i, s, when) for i, s, when in wanted if (doc_ids[i.ref], s.name) in won),
            key=lambda h: (h[2], h[1].offset_days, h[0].ref),
        )
        if not mine:
            return
        pairs = [(doc_ids[i.ref], s.name) for i, s, _ in mine]
        key = _hashed_key(f"headsup:{c.id}", ",".join(f"{d}:{s}" for d, s in sorted(pairs)))
        heads_ups.name_alert(conn, pairs, key)
        refs = list(dict.fromkeys(i.ref for i, _, _ in mine))
        text = compose.heads_up_text(self.renderer, c, mine)
        if self._alert(conn, c.id, c.ref, "heads_up", key, text, now, report, doc_refs=refs):
            events.record(conn, at=now, kind="heads_up", actor="system", customer_id=c.id, doc_refs=refs,
                          text=compose.heads_up_summary(mine))

    def _actions(self, conn: Connection, c: CustomerRow, items: list, now: datetime, report: SweepReport) -> None:
        """The actions of the steps this sweep recorded, in the decision's transaction: `credit_hold`
        (event `credit_hold_set`) and `escalate` (the formal notice alert to credit staff, event `escalated`)."""
        actions = {a for d in items for a in d.step.actions}
        if not actions:
            return
        if "credit_hold" in actions:
            step = max((d.step for d in items if "credit_hold" in d.step.actions), key=lambda s: s.offset_days)
            credit_holds.set_by_ladder(conn, c, step.name, now)
        if "escalate" in actions:
            step = max((d.step for d in items if "escalate" in d.step.actions), key=lambda s: s.offset_days)
            text = compose.staff_text(self.renderer, "formal_notice_alert", c, [d.item for d in items], step.name, None,
                                      credit_hold="credit_hold" in actions or c.credit_hold)
            refs = sorted(d.item.ref for d in items)
            key = _hashed_key(f"escalate:{c.id}:{step.name}", ",".join(refs))
            if self._alert(conn, c.id, c.ref, "formal_notice", key, text, now, report, doc_refs=refs):
                events.record(conn, at=now, kind="escalated", actor="system", customer_id=c.id, doc_refs=refs,
                              text=f"{step.name}: credit staff alerted")

    def _alert(  # noqa: PLR0913
        self,
        conn: Connection,
        customer_id: int,
        customer_ref: str,
        kind: str,
        key: str,
        text: str,
        now: datetime,
        report: SweepReport | None = None,
        doc_refs: Sequence[str] = (),
    ) -> bool:
        """A staff alert is recorded once per key in the caller's transaction; it is posted after commit
        (bot.scheduler.delivery.AlertPoster). True if this call recorded it."""
        if outbox.add_alert(conn, key=key, customer_id=customer_id, kind=kind, text=text, at=now, doc_refs=doc_refs):
            if report is not None:
                report.alerts += 1
            return True
        return False

    def _end_plan(
        self, conn: Connection, c: CustomerRow, plan: PlanFacts, review: PlanReview, now: datetime, report: SweepReport
    ) -> None:
        """A plan paid in full is completed; a missed instalment breaks it and escalates to credit staff."""
        broken = review.broken_by is not None
        if not plan_store.close_plan(conn, plan.id, "broken" if broken else "completed"):
            return  # another sweeper recorded it
        if not broken:
            events.record(
                conn,
                at=now,
                kind="plan_completed",
                actor="system",
                customer_id=c.id,
                doc_refs=list(plan.doc_refs),
                text=f"plan {plan.id} paid in full",
            )
            return
        inst = review.broken_by
        events.record(
            conn,
            at=now,
            kind="plan_broken",
            actor="system",
            customer_id=c.id,
            doc_refs=list(plan.doc_refs),
            text=f"plan {plan.id}: instalment {inst.seq} due {inst.due_date} was not paid; reminders resume",
        )
        text = (
            f"{compose.slack_escape(c.name)} ({compose.slack_escape(c.ref)}): the payment plan was broken. "
            f"{compose.slack_escape(compose.installment_note(plan, inst))} It was not paid; "
            "reminders resume for its invoices."
        )
        self._alert(conn, c.id, c.ref, "plan_broken", f"plan_broken:{plan.id}", text, now, report)

    def _waiting_on_staff(self, now: datetime, *, dry_run: bool) -> int:
        """Remind credit staff of what waits on them, once each, in the customer's thread and timeline:
        a valid dispute whose credit note has not been imported after `credit_note_wait_days`
        (bot.services.disputes.remind_missing_credit_notes) and a claimed payment no imported
        payment matches after `unmatched_claim_days` (bot.services.payments.alert_unmatched_claims).
        One short transaction; a dry run counts the same alerts and rolls it back. Returns the count.
        """
        from bot.services.disputes import remind_missing_credit_notes
        from bot.services.payments import alert_unmatched_claims

        with self.engine.connect() as conn, conn.begin() as tx:
            count = remind_missing_credit_notes(conn, now=now, wait_days=self.policy.credit_note_wait_days)
            count += alert_unmatched_claims(conn, now=now, wait_days=self.policy.unmatched_claim_days)
            if dry_run:
                tx.rollback()
        return count

    def _settle_promises(self, now: datetime, report: SweepReport, *, dry_run: bool = False) -> None:
        _settle_promises_impl(self, now, report, dry_run)

    @staticmethod
    def _row(
        c: CustomerRow,
        doc_id: int | None,
        step: str,
        status: str,
        today: date,
        now: datetime,
        message_key: str,
        tone: str = "",
    ) -> dict:
        return {
            "key": outbox.doc_key(doc_id, step),
            "customer_id": c.id,
            "document_id": doc_id,
            "step": step,
            "status": status,
            "message_key": message_key,
            "tone": tone,
            "local_date": today,
            "attempts": 0,
            "channel": "",
            "channel_message_id": "",
            "claimed_by": "",
            "error": "",
            "created_at": now,
            "updated_at": now,
        }


def _settle_promises_impl(sweeper: Sweeper, now: datetime, report: SweepReport, dry_run: bool = False) -> None:
    """A promise whose date has passed is kept (the item is paid) or broken (dunning resumes, staff told).

    A dry run decides the same and only counts the alerts (a broken promise's) it would record.
    """
    pr, d, c = Promise.__table__, Document.__table__, Customer.__table__
    with sweeper.engine.connect() as conn:
        tx = None if dry_run else conn.begin()
        rows = conn.execute(
            select(
                pr.c.id,
                pr.c.customer_id,
                pr.c.promised_date,
                d.c.ref,
                c.c.timezone,
                c.c.currency,
                c.c.ref.label("cref"),
                c.c.name,
            )
            .outerjoin(d, d.c.id == pr.c.document_id)
            .join(c, c.c.id == pr.c.customer_id)
            .where(pr.c.status == "open", pr.c.promised_date <= now.date())
        ).all()
        for r in rows:
            today = now.astimezone(zone(r.timezone)).date()
            if today <= r.promised_date:
                continue
            docs, pays = ledgers(conn, [r.customer_id])[r.customer_id]
            open_refs = {i.ref for i in compute_balance(docs, pays, today).open_items}
            kept = (r.ref not in open_refs) if r.ref else not open_refs
            if dry_run:
                report.alerts += not kept
                continue
            kind = "promise_kept" if kept else "promise_broken"
            conn.execute(update(pr).where(pr.c.id == r.id).values(status="kept" if kept else "broken"))
            events.record(
                conn,
                at=now,
                kind=kind,
                actor="system",
                customer_id=r.customer_id,
                doc_refs=[r.ref] if r.ref else [],
                text=(f"promised to pay {r.ref or 'the account'} by {r.promised_date.isoformat()}: "
                      + ("paid" if kept else "not paid; reminders resume")),
            )
            if not kept:
                what = compose.slack_escape(r.ref) if r.ref else "the account"
                text = (
                    f"{compose.slack_escape(r.name)} ({compose.slack_escape(r.cref)}): the promise to pay {what} "
                    f"by {r.promised_date} was broken; reminders resume."
                )
                sweeper._alert(conn, r.customer_id, r.cref, "promise_broken", f"promise:{r.id}", text, now, report,
                               doc_refs=[r.ref] if r.ref else [])
        if tx is not None:
            tx.commit()


def _hashed_key(prefix: str, parts: str) -> str:
    """A staff alert key that fits its column (128 characters) however many refs it covers: the
    parts (e.g. the sorted refs) hashed, after a short prefix naming the customer and step."""
    return f"{prefix}:{hashlib.sha256(parts.encode()).hexdigest()[:40]}"


def _approval_key(document_id: int, step: str) -> str:
    return f"approval:{document_id}:{step}"


def _alerts_planned(
    plan: CustomerPlan, status: str | None, ends: list, asked: set[str], doc_ids: dict[str, int]
) -> int:
    """How many staff alerts the real sweep records for this plan (a dry run counts them alike):
    one heads-up message, each new approval request, each broken plan, the chase request of a
    customer without a chat, and the formal notice alert of an escalating step."""
    n = 1 if plan.heads_ups else 0
    n += sum(1 for i, s in plan.awaiting if _approval_key(doc_ids.get(i.ref, -1), s.name) not in asked)
    n += sum(1 for _f, r in ends if r.broken_by is not None)
    if status in ("sent", "no_channel") and (plan.due or plan.installments):
        n += status == "no_channel"
        n += any("escalate" in d.step.actions for d in plan.due)
    return n


def _statuses(engine: Engine, ids: Sequence[int]) -> dict[int, str]:
    t = OutboundMessage.__table__
    with reading(engine) as conn:
        return dict(conn.execute(select(t.c.id, t.c.status).where(t.c.id.in_(list(ids)))).all())


def _report_items(plan: CustomerPlan) -> list[tuple[str, str]]:
    """(doc ref, step) of one message: the ladder's items, then each announced plan's invoices."""
    out = [(d.item.ref, d.step.name) for d in plan.due]
    return out + [(ref, INSTALLMENT) for f, _ in plan.installments for ref in f.doc_refs]


def _armed_items(conn: Connection, now: datetime, *, every: bool = False) -> dict[int, list[int]]:
    """customer id -> ids of the items to look at `now` (storage.arming.armed_items: next action
    date come and not settled, in the customer's zone; `every`: whatever their next action date)."""
    return arming.armed_items(conn, now, zone, every=every)


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Planning builds and drops millions of small tuples and dicts, none of them in cycles.

    CPython's cyclic collector, triggered by that churn, rescans the live objects
    hundreds of times: measured at about an eighth of a 1M-document dry run.
    Reference counting still frees everything; the next collection catches the rest.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


@lru_cache(maxsize=1024)
def zone(name: str) -> ZoneInfo:
    """ZoneInfo's own cache keeps only a few zones alive; a sweep touches hundreds."""
    return ZoneInfo(name)
