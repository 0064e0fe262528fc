"""The domain stays pure: no framework, database, template or network import."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parent.parent / "bot" / "domain"
FORBIDDEN = ("telegram", "slack_bolt", "slack_sdk", "sqlmodel", "sqlalchemy", "jinja2", "apscheduler", "storage", "requests", "httpx")


@pytest.mark.parametrize("module", sorted(DOMAIN.glob("*.py")), ids=lambda p: p.name)
def test_domain_module_imports_nothing_impure(module: Path) -> None:
    tree = ast.parse(module.read_text(encoding="utf-8"))
    names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    bad = [n for n in names if n.split(".")[0] in FORBIDDEN]
    assert not bad, f"{module.name} imports {bad}"
    assert "datetime.now" not in module.read_text(encoding="utf-8")
