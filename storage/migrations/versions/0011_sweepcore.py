"""sweep core: event doc_refs as a JSON list, heads-ups once per (item, step), the policy fingerprint,
credit holds the sweep may lift

- event.doc_refs was a "|"-joined varchar(2048): a message naming ~125 invoices did not fit on
  PostgreSQL. It becomes a JSON list; existing rows are split.
- heads_up: one row per (document, step) whose sales heads-up was given. Heads-ups given before
  (staff_alert keys "headsup:<ref>:<step>") are carried over, so none is given twice.
- sweep_setting: the fingerprint of the policy that armed the items. A database that already holds
  documents starts with "unknown", so the first sweep looks at every open item once.
- customer.credit_hold_auto_release: the sweep lifts such a credit hold once nothing is overdue.
  Every credit hold so far was set by the ladder, so existing ones may be lifted.

Revision ID: 0011_sweepcore
Revises: 0004_import
Create Date: 2026-11-30 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_sweepcore"
down_revision = "0004_import"
branch_labels = None
depends_on = None

_BATCH = 5000


_EVENT = sa.table("event", sa.column("id", sa.Integer()), sa.column("doc_refs", sa.String()),
                  sa.column("doc_list", sa.JSON()))


def _split_doc_refs(conn: sa.Connection) -> None:
    """Copy every event's "|"-joined refs into the JSON column `doc_list`."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text(
            "UPDATE event SET doc_list = to_json(array_remove(string_to_array(doc_refs, '|'), ''))"
            " WHERE doc_refs <> ''"
        ))
        return
    update = sa.update(_EVENT).where(_EVENT.c.id == sa.bindparam("event_id")).values(doc_list=sa.bindparam("refs"))
    last = 0
    while True:
        rows = conn.execute(
            sa.select(_EVENT.c.id, _EVENT.c.doc_refs)
            .where(_EVENT.c.id > last, _EVENT.c.doc_refs != "")
            .order_by(_EVENT.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        conn.execute(update, [{"event_id": r.id, "refs": [x for x in r.doc_refs.split("|") if x]} for r in rows])
        last = rows[-1].id


def _join_doc_refs(conn: sa.Connection) -> None:
    rows = conn.execute(sa.select(_EVENT.c.id, _EVENT.c.doc_list)).all()
    values = [{"event_id": r.id, "refs": "|".join(r.doc_list)[:2048]} for r in rows if r.doc_list]
    if values:
        conn.execute(
            sa.update(_EVENT).where(_EVENT.c.id == sa.bindparam("event_id")).values(doc_refs=sa.bindparam("refs")),
            values,
        )


def _carry_heads_ups(conn: sa.Connection) -> None:
    """Heads-ups recorded as staff alerts keyed "headsup:<doc ref>:<step>" become heads_up rows."""
    rows = conn.execute(
        sa.text("SELECT key, created_at FROM staff_alert WHERE kind = 'heads_up' AND key LIKE 'headsup:%'")
    ).all()
    for key, created in rows:
        ref, _, step = key.split(":", 1)[1].rpartition(":")
        doc = conn.execute(
            sa.text("SELECT id, customer_id, due_date FROM document WHERE ref = :ref"), {"ref": ref}
        ).first()
        if doc is None or not step:
            continue
        conn.execute(
            sa.text(
                "INSERT INTO heads_up (customer_id, document_id, step, projected_on, alert_key, created_at)"
                " VALUES (:c, :d, :s, :p, :k, :t)"
            ),
            {"c": doc.customer_id, "d": doc.id, "s": step, "p": doc.due_date, "k": key, "t": created},
        )


def upgrade() -> None:
    conn = op.get_bind()
    # Plain ALTER TABLE on both databases (SQLite >= 3.35 drops and renames columns itself): a batch
    # copy of `customer` would cascade-delete its name keys under SQLite's foreign keys.
    op.add_column("event", sa.Column("doc_list", sa.JSON(), nullable=False, server_default="[]"))
    _split_doc_refs(conn)
    op.drop_column("event", "doc_refs")
    op.alter_column("event", "doc_list", new_column_name="doc_refs", existing_type=sa.JSON(),
                    existing_nullable=False)
    op.add_column("customer", sa.Column("credit_hold_auto_release", sa.Boolean(), nullable=False,
                                        server_default=sa.false()))
    conn.execute(sa.text("UPDATE customer SET credit_hold_auto_release = credit_hold"))

    op.create_table(
        "heads_up",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("projected_on", sa.Date(), nullable=False),
        sa.Column("alert_key", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"]),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("document_id", "step"),
    )
    op.create_index("ix_heads_up_customer_id", "heads_up", ["customer_id"], unique=False)
    _carry_heads_ups(conn)

    op.create_table(
        "sweep_setting",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    if conn.execute(sa.text("SELECT 1 FROM document LIMIT 1")).first() is not None:
        conn.execute(sa.text("INSERT INTO sweep_setting (key, value) VALUES ('policy_fingerprint', 'unknown')"))


def downgrade() -> None:
    op.drop_table("sweep_setting")
    op.drop_index("ix_heads_up_customer_id", table_name="heads_up")
    op.drop_table("heads_up")
    op.drop_column("customer", "credit_hold_auto_release")
    conn = op.get_bind()
    op.alter_column("event", "doc_refs", new_column_name="doc_list", existing_type=sa.JSON(),
                    existing_nullable=False)
    op.add_column("event", sa.Column("doc_refs", sa.String(length=2048), nullable=False, server_default=""))
    _join_doc_refs(conn)
    op.drop_column("event", "doc_list")
