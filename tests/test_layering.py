"""The shape of the core (STYLE "a pure core, thin edges"; issue 11 §4).

- The domain stays pure: no framework, database, template or network import, at the top of a
  module or inside a function (a lazy import is still an import), and no clock of its own.
- The import contract in pyproject.toml ([tool.importlinter]) holds over every layer:
  domain <- storage <- services <- scheduler <- handlers / CLI, the chat adapters independent,
  no import circle inside a package. `lint-imports` is import-linter's own checker.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = ROOT / "bot" / "domain"
FORBIDDEN = (
    "telegram",
    "slack_bolt",
    "slack_sdk",
    "sqlmodel",
    "sqlalchemy",
    "alembic",
    "jinja2",
    "apscheduler",
    "psycopg",
    "aiohttp",
    "requests",
    "httpx",
    "storage",
    "messages",
)
CLOCK_CALLS = ("now", "utcnow", "today", "time", "monotonic")


def imported_names(tree: ast.AST) -> list[str]:
    """Every module a tree imports, wherever the import stands (top level, function, TYPE_CHECKING),
    and every `importlib.import_module("x")` / `__import__("x")` with a literal name."""
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.append(node.module or "")
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in ("import_module", "__import__") and isinstance(node.args[0].value, str):
                names.append(node.args[0].value)
    return names


def clock_calls(tree: ast.AST) -> list[str]:
    """Calls that read a clock: `datetime.now()`, `date.today()`, `time.time()` and the like."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in CLOCK_CALLS:
            owner = node.func.value
            name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", "")
            if name in ("datetime", "date", "time"):
                found.append(f"{name}.{node.func.attr}() at line {node.lineno}")
    return found


@pytest.mark.parametrize("module", sorted(DOMAIN.rglob("*.py")), ids=lambda p: p.name)
def test_domain_module_imports_nothing_impure(module: Path) -> None:
    tree = ast.parse(module.read_text(encoding="utf-8"))
    bad = [n for n in imported_names(tree) if n.split(".")[0] in FORBIDDEN]
    assert not bad, f"{module.name} imports {bad}"
    assert not clock_calls(tree), f"{module.name} reads the clock: {clock_calls(tree)} (take `now` as an argument)"


def test_a_lazy_import_counts_as_an_import() -> None:
    tree = ast.parse(
        "def f():\n"
        "    from sqlalchemy import select\n"
        "    import importlib\n"
        "    importlib.import_module('jinja2')\n"
    )
    assert {"sqlalchemy", "jinja2"} <= set(imported_names(tree))
    assert clock_calls(ast.parse("def g():\n    return datetime.now(UTC)\n"))


def test_import_contract_holds() -> None:
    """import-linter's `lint-imports` over pyproject.toml's contracts (layers, independence, purity, cycles)."""
    exe = Path(sys.executable).with_name("lint-imports")
    cmd = [str(exe)] if exe.exists() else [shutil.which("lint-imports") or "lint-imports"]
    done = subprocess.run(
        [*cmd, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]


EDGES = sorted(
    [*(ROOT / "bot" / "handlers").rglob("*.py"), *(ROOT / "bot").glob("cli*.py")],
    key=lambda p: str(p),
)
ENGINE_CALLS = ("connect", "begin", "raw_connection")
STATEMENT_CALLS = ("execute", "scalar", "scalars", "exec_driver_sql")


def _name(node: ast.AST) -> str:
    """The last name of an expression: `engine` for `self.app.engine`, `conn` for `conn`."""
    return node.id if isinstance(node, ast.Name) else getattr(node, "attr", "")


def transaction_calls(tree: ast.AST) -> list[str]:
    """Calls that open a connection or run a statement: `engine.connect()`, `app.engine.begin()`,
    `conn.execute(...)` and the like (a service call that does so is the edges' way)."""
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        owner = _name(node.func.value).lower()
        if (node.func.attr in ENGINE_CALLS and "engine" in owner) or (
            node.func.attr in STATEMENT_CALLS and owner in ("conn", "connection", "session", "db")
        ):
            found.append(f".{node.func.attr}() at line {node.lineno}")
    return found


@pytest.mark.parametrize("module", EDGES, ids=lambda p: str(p.relative_to(ROOT / "bot")))
def test_the_edges_open_no_connection_and_run_no_statement(module: Path) -> None:
    """The CLI and the Telegram and Slack handlers own no connection or transaction: the services do
    (the import contract `thin-edges` forbids the tables and SQL helpers; this catches the calls)."""
    calls = transaction_calls(ast.parse(module.read_text(encoding="utf-8")))
    assert not calls, f"{module.relative_to(ROOT)} runs database work itself: {calls}"


def test_a_connection_in_a_handler_is_caught() -> None:
    tree = ast.parse("def f(app):\n    with app.engine.connect() as conn:\n        conn.execute(q)\n")
    assert transaction_calls(tree) == [".connect() at line 2", ".execute() at line 3"]
