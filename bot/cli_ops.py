"""Operations commands: sweep, policy, hold, run, demo, timeline, plans."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    pass
