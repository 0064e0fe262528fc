"""Every public function of the core says what it takes and gives (issue 11 §4, the product brief:
"Public functions get docstrings: shapes, units, errors raised, the DESIGN rule implemented").

Covered: the domain, storage (not the migrations), the services, the importer and the CLI.
A function is public when neither it nor its class starts with "_"; dunder methods are not.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COVERED = [
    *sorted((ROOT / "bot" / "domain").rglob("*.py")),
    *sorted(p for p in (ROOT / "storage").rglob("*.py") if "migrations" not in p.parts),
    *sorted((ROOT / "bot" / "services").rglob("*.py")),
    ROOT / "bot" / "importer.py",
    *sorted((ROOT / "bot").glob("cli*.py")),
]


def undocumented(tree: ast.Module) -> list[str]:
    """`name` or `Class.name` (with its line) of each public function or method without a docstring."""
    found: list[str] = []

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                if not node.name.startswith("_") and ast.get_docstring(node) is None:
                    found.append(f"{prefix}{node.name} (line {node.lineno})")
            elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                visit(node.body, f"{prefix}{node.name}.")

    visit(tree.body, "")
    return found


def test_every_public_function_of_the_core_has_a_docstring() -> None:
    missing = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in COVERED
        for name in undocumented(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert not missing, "public functions without a docstring:\n" + "\n".join(missing)


def test_the_check_sees_methods_and_skips_private_ones() -> None:
    tree = ast.parse(
        "class A:\n    def f(self):\n        pass\n    def _g(self):\n        pass\n"
        "def h():\n    '''Doc.'''\n"
    )
    assert undocumented(tree) == ["A.f (line 2)"]
