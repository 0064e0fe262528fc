"""`collectbot ... --help`: every command says what it does, shows an example, describes every option
and marks the required ones; `import <kind> --help` lists the file's columns (DESIGN "Interfaces")."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest
import typer
from typer.testing import CliRunner

from bot.cli import app
from bot.cli_help import undescribed
from bot.domain.csv_rows import CUSTOMER_COLUMNS, DOCUMENT_COLUMNS, PAYMENT_COLUMNS
from tests.conftest import COLLECTBOT

# DESIGN "Interfaces", the CLI list: each command and the options it names.
DESIGN_CLI: dict[str, tuple[str, ...]] = {
    "db upgrade": (),
    "import customers": ("--dry-run",),
    "import documents": ("--dry-run",),
    "import payments": ("--dry-run",),
    "balance": ("--as-of", "--format"),
    "report aging": ("--as-of", "--format"),
    "sweep": ("--now", "--dry-run", "--format"),
    "policy check": (),
    "hold": ("--until", "--reason", "--release"),
    "credit-hold": ("--set", "--release", "--reason"),
    "link": ("--contact", "--all-unlinked", "--format"),
    "timeline": ("--format",),
    "plan list": ("--status", "--format"),
    "plan approve": ("--reason",),
    "plan reject": ("--reason",),
    "payment list": ("--status", "--format"),
    "payment confirm": ("--reason",),
    "payment reject": ("--reason",),
    "dispute list": ("--status", "--format"),
    "dispute resolve": ("--valid", "--not-valid", "--reason"),
    "run": (),
    "demo": (),
}



def _root():  # noqa: ANN202 (typer's own click, vendored)
    return typer.main.get_command(app)


def _walk(group, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], object]]:  # noqa: ANN001
    for name, command in group.commands.items():
        path = (*prefix, name)
        yield path, command
        if hasattr(command, "commands"):
            yield from _walk(command, path)


EVERY_COMMAND = sorted(_walk(_root()), key=lambda pc: pc[0])


def _help(*path: str) -> str:
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "100", "TERM": "dumb"})
    assert result.exit_code == 0, result.output
    return result.output


def test_design_lists_no_command_the_cli_lacks() -> None:
    present = {" ".join(path) for path, _ in EVERY_COMMAND}
    missing = [c for c in DESIGN_CLI if c not in present]
    assert missing == []


@pytest.mark.parametrize("command", list(DESIGN_CLI))
def test_every_design_command_has_help_with_an_example_and_its_options(command: str) -> None:
    present = {" ".join(path) for path, _ in EVERY_COMMAND}
    assert command in present
    shown = _help(*command.split())
    assert "Example" in shown
    assert f"collectbot {command}" in shown  # the example is this command
    for option in DESIGN_CLI[command]:
        assert option in shown, option


@pytest.mark.parametrize("path,command", EVERY_COMMAND, ids=[" ".join(p) for p, _ in EVERY_COMMAND])
def test_every_command_and_group_describes_itself_and_every_option(path: tuple[str, ...], command) -> None:  # noqa: ANN001
    assert (command.help or "").strip(), "no description"
    shown = _help(*path)
    assert "Example" in shown
    assert "collectbot " + " ".join(path) in " ".join(shown.split()), "no example of this command"
    for param in command.params:
        if param.name == "help":
            continue
        if param.param_type_name == "option":
            assert (param.help or "").strip(), f"{path}: {param.opts} has no description"
            for opt in param.opts + param.secondary_opts:
                assert opt in shown
        else:  # an argument: described, and marked when required
            assert (getattr(param, "help", "") or "").strip(), f"{path}: argument {param.name} has no description"
        if param.required:
            assert "required" in shown


def test_required_options_are_marked() -> None:
    shown = _help("step", "approve")
    assert "--step" in shown and "[required]" in shown
    hold = _help("hold")  # required unless --release: said in words
    assert "Required (unless --release)" in " ".join(hold.split())


@pytest.mark.parametrize(
    "kind,columns", [("customers", CUSTOMER_COLUMNS), ("documents", DOCUMENT_COLUMNS), ("payments", PAYMENT_COLUMNS)]
)
def test_import_help_lists_the_columns_the_importer_reads(kind: str, columns: tuple[str, ...]) -> None:
    shown = _help("import", kind)
    lines = [line.strip() for line in shown.splitlines()]
    listed = [line.split()[0] for line in lines if line.split() and line.split()[0] in columns]
    assert listed == list(columns)  # every column, in the file's order
    assert "customer_ref" in shown and "*" in shown  # required values are marked
    assert undescribed() == []  # and each says what it holds


def test_help_as_a_real_process() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COLLECTBOT_", "TELEGRAM_", "SLACK_"))}
    top = subprocess.run([COLLECTBOT, "--help"], env=env, capture_output=True, text=True, timeout=60)
    assert top.returncode == 0 and "import" in top.stdout and "demo" in top.stdout
    columns = subprocess.run(
        [COLLECTBOT, "import", "payments", "--help"], env=env, capture_output=True, text=True, timeout=60
    )
    assert columns.returncode == 0 and "applies_to" in columns.stdout and "Example" in columns.stdout


def test_a_mistyped_command_line_is_one_error_line_naming_the_help(tmp_path) -> None:  # noqa: ANN001
    # Found trying the product: Click's usage errors came as a 5-6 line box (usage, hint, frame).
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COLLECTBOT_", "TELEGRAM_", "SLACK_"))}
    cases = {
        ("timeline", "ACME", "--format", "xml"): "collectbot timeline --help",
        ("plan", "approve", "abc"): "collectbot plan approve --help",
        ("payment", "confirm"): "collectbot payment confirm --help",
        ("import", "bogus", "x.csv"): "collectbot import --help",
        ("balance", "ACME", "--colour"): "collectbot balance --help",
    }
    for args, hint in cases.items():
        done = subprocess.run([COLLECTBOT, *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 2 and done.stdout == "", (args, done.stderr)
        assert len(lines) == 1 and lines[0].startswith("error: ") and lines[0].endswith(f"(see {hint})"), lines
    bare = subprocess.run([COLLECTBOT], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert "Usage: collectbot" in bare.stdout + bare.stderr and "import" in bare.stdout + bare.stderr
