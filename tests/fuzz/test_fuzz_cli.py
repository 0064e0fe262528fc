"""The read-only commands with random arguments: an answer or one `error:` line, never a traceback.

DESIGN "Interfaces": every command exits non-zero with a one-line reason on bad input. Dates at
the ends of the calendar, date-times with odd offsets, names and refs of any text go to the real
Typer app in process, on a small ledger.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from bot.cli import app as cli
from tests.fuzz.profile import fuzz
from tests.handlers.telegram.harness import load_ledger

DAYS = st.one_of(
    st.sampled_from(["0001-01-01", "9999-12-31", "2026-02-29", "2024-02-29", "2026-13-01", "26-01-01", "", " ",
                     "2026-1-1", "20260101", "today", "2026-03-16T10:00:00"]),
    st.dates().map(str),
    st.text(max_size=12),
)
MOMENTS = st.one_of(
    st.sampled_from(["0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59-23:59", "9999-12-31T23:59:59+14:00",
                     "2026-03-16T13:00:00Z", "2026-03-16T13:00:00+25:00", "2026-03-16", "2026-03-16T24:00:00",
                     "now", ""]),
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    st.text(max_size=20),
)
WHO = st.one_of(st.sampled_from(["ACME", "acme", "Beta Ltda", "BR-1", "ACME <Corp> & Sons", "پارس", "%", ""]),
                st.text(max_size=16))


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    from bot.app import App
    from bot.clock import FixedClock
    from bot.config import Settings

    app = App(Settings(database_url=database_url, _env_file=None), clock=FixedClock(datetime(2026, 3, 16, tzinfo=UTC)))
    load_ledger(app, tmp_path)
    app.engine.dispose()
    return {"COLLECTBOT_DATABASE_URL": database_url, "COLLECTBOT_TIMEZONE": "UTC"}


@st.composite
def command_lines(draw: st.DrawFn) -> list[str]:
    which = draw(st.sampled_from(["balance", "aging", "sweep", "timeline", "plan", "payment", "dispute", "digest"]))
    fmt = ["--format", draw(st.sampled_from(["text", "json", "csv", "xml"]))]
    if which == "balance":
        return ["balance", *fmt, "--as-of", draw(DAYS), "--", draw(WHO)]
    if which == "aging":
        return ["report", "aging", *fmt, "--as-of", draw(DAYS)]
    if which == "sweep":
        return ["sweep", "--dry-run", *fmt, "--now", draw(MOMENTS)]
    if which == "timeline":
        return ["timeline", *fmt, "--", draw(WHO)]
    if which == "digest":
        return ["report", "digest", "--as-of", draw(DAYS)]
    return [which, "list", *fmt, "--status", draw(st.one_of(st.sampled_from(["claimed", "open", "proposed"]),
                                                            st.text(max_size=8)))]


@settings(fuzz(0.5))
@given(args=command_lines())
def test_a_read_only_command_answers_or_says_one_line(env: dict[str, str], args: list[str]) -> None:
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), (args, repr(result.exception))
    assert "Traceback" not in result.output
    if result.exit_code == 1:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), (args, result.stderr)
    else:
        assert result.exit_code in (0, 2), (args, result.exit_code, result.output)


@pytest.mark.parametrize("args", [
    ["sweep", "--dry-run", "--now", "0001-01-01T00:00:00+00:00"],
    ["sweep", "--dry-run", "--now", "9999-12-31T00:00:00+00:00"],
    ["report", "digest", "--as-of", "9999-12-31"],
], ids=["sweep-year-1", "sweep-year-9999", "digest-year-9999"])
def test_a_date_at_the_end_of_the_calendar_is_one_line(env: dict[str, str], args: list[str]) -> None:
    """Found by the fuzz: these ended in an OverflowError traceback."""
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 1, (result.exit_code, repr(result.exception))
    assert result.stderr.strip() == \
        f"error: {args[-2]} {args[-1]!r} is outside the accepted range 1900-01-01 to 2199-12-31"


def test_a_hold_until_the_end_of_the_calendar_is_refused_and_the_sweep_still_runs(env: dict[str, str]) -> None:
    """`hold ACME --until 9999-12-31` (a natural "for ever") was accepted, and then every sweep ended in an
    OverflowError (the day after the hold). Far dates are refused in one line; 2199-12-31 is for ever enough."""
    refused = CliRunner().invoke(cli, ["hold", "ACME", "--until", "9999-12-31", "--reason", "for ever"], env=env)
    assert refused.exit_code == 1 and refused.stderr.strip() == \
        "error: --until '9999-12-31' is outside the accepted range 1900-01-01 to 2199-12-31"
    held = CliRunner().invoke(cli, ["hold", "ACME", "--until", "2199-12-31", "--reason", "for ever"], env=env)
    assert held.exit_code == 0, held.output
    swept = CliRunner().invoke(cli, ["sweep", "--dry-run", "--now", "2026-06-16T13:00:00+00:00"], env=env)
    assert swept.exit_code == 0, repr(swept.exception)
