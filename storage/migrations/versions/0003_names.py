"""customer names: new folding rules, a `search` column and a trigram index over it

customer_key is rebuilt from the customer rows with bot.domain.names (reader-identical
letters and digits, legal-form suffixes dropped), gains `whole` (the whole folded name
where the key dropped a legal form) and `search` (the whole name's ASCII letters and
digits; NULL for refs) and a trigram index over `search`:
- SQLite: the FTS5 table customer_key_fts (tokenizer `trigram`), contentless;
- PostgreSQL: a GIN index with pg_trgm's gin_trgm_ops. pg_trgm is created in schema
  `public` when missing (a trusted extension since PostgreSQL 13: the database owner,
  or anyone with CREATE on the database, may), and its operator class is named with
  the schema it lives in, so any search_path works.
The downgrade drops the index and gives customer_key back its 0002 shape and keys.

Revision ID: 0003_names
Revises: 0005_outbox
Create Date: 2026-11-30 06:00:00
"""

from __future__ import annotations

import re
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0003_names"
down_revision = "0005_outbox"
branch_labels = None
depends_on = None


def _create_customer_key(*, search: bool) -> None:
    columns = [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.Text() if search else sa.String(length=255), nullable=False),
    ]
    if search:
        columns.append(sa.Column("whole", sa.Text(), nullable=True))
        columns.append(sa.Column("search", sa.Text(), nullable=True))
    op.create_table(
        "customer_key",
        *columns,
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=search,
    )
    op.create_index(op.f("ix_customer_key_customer_id"), "customer_key", ["customer_id"], unique=False)
    op.create_index(op.f("ix_customer_key_key"), "customer_key", ["key"], unique=False)


def _drop_customer_key() -> None:
    op.drop_index(op.f("ix_customer_key_key"), table_name="customer_key")
    op.drop_index(op.f("ix_customer_key_customer_id"), table_name="customer_key")
    op.drop_table("customer_key")


def upgrade() -> None:
    from storage import customer_keys

    conn = op.get_bind()
    trgm_schema = _pg_trgm_schema(conn) if conn.dialect.name == "postgresql" else None
    _drop_customer_key()
    _create_customer_key(search=True)
    if conn.dialect.name == "sqlite":
        try:
            conn.exec_driver_sql(customer_keys.SQLITE_FTS_DDL)
        except sa.exc.OperationalError as exc:
            raise customer_keys.TrigramIndexUnavailable(
                f"this SQLite ({conn.exec_driver_sql('SELECT sqlite_version()').scalar()}) has no FTS5 trigram "
                "tokenizer, which customer-name lookup needs (SQLite 3.34 or later, built with FTS5)"
            ) from exc
    elif conn.dialect.name == "postgresql":
        conn.exec_driver_sql(
            f'CREATE INDEX {customer_keys.PG_INDEX} ON customer_key USING gin (search "{trgm_schema}".gin_trgm_ops)'
        )
    customer_keys.rebuild(conn)


def _pg_trgm_schema(conn: sa.Connection) -> str:
    """The schema pg_trgm is installed in, installing it in `public` first if it is not there."""
    find = (
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'"
    )
    schema = conn.exec_driver_sql(find).scalar()
    if schema is None:
        try:
            with conn.begin_nested():
                conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
        except sa.exc.DBAPIError as exc:
            from storage.customer_keys import TrigramIndexUnavailable

            diag = getattr(exc.orig, "diag", None)
            reason = (diag.message_primary if diag is not None else None) or str(exc.orig).strip().splitlines()[0]
            raise TrigramIndexUnavailable(
                f"PostgreSQL could not create the pg_trgm extension that customer-name lookup needs ({reason}); "
                "have a superuser or the database owner run: CREATE EXTENSION pg_trgm SCHEMA public"
            ) from None
        schema = conn.exec_driver_sql(find).scalar()
    return schema


# --- downgrade: the 0002 keys ---------------------------------------------------------------------

_PUNCT = re.compile(r"[\W_]+", re.UNICODE)


def _fold_0002(text: str) -> str:
    """bot.domain.names.fold as 0002 had it: case, accents and punctuation only."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _PUNCT.sub(" ", stripped.casefold()).strip()


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("DROP TABLE IF EXISTS customer_key_fts")
    else:
        conn.exec_driver_sql("DROP INDEX IF EXISTS ix_customer_key_search")
    _drop_customer_key()
    _create_customer_key(search=False)
    rows = []
    for cid, ref, name, aliases in conn.exec_driver_sql("SELECT id, ref, name, aliases FROM customer ORDER BY id"):
        keys = {_fold_0002(ref), _fold_0002(name), *(_fold_0002(a) for a in aliases.split("|") if a)}
        keys.discard("")
        rows.extend({"customer_id": cid, "key": key[:255]} for key in sorted(keys))
    if rows:
        table = sa.table("customer_key", sa.column("customer_id", sa.Integer), sa.column("key", sa.String))
        op.bulk_insert(table, rows)
