"""Alembic environment: the engine comes from the caller (settings), never from an ini file."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine
from sqlmodel import SQLModel

import storage.tables  # noqa: F401  (registers the tables on the metadata)
from storage.customer_keys import in_model

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        from bot.config import Settings
        from storage.engine import make_engine

        engine = make_engine(Settings().database_url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            include_name=in_model,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


def run_migrations_offline() -> None:
    url = config.get_main_option("sqlalchemy.url") or "sqlite://"
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


_ = create_engine  # kept for `alembic` CLI users who pass a URL
if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
