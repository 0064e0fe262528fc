"""Storage: SQLModel tables, the engine, repositories and Alembic migrations."""
