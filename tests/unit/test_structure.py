"""The shape of the package a contributor relies on: no module over 600 lines, commands that
only wire (≤ 200 lines a module, ≤ 80 lines a function)."""

import ast
from pathlib import Path

import psfl

ROOT = Path(psfl.__file__).parent


def _functions(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node


def test_no_module_over_600_lines():
    long = {str(p.relative_to(ROOT)): n for p in ROOT.rglob("*.py")
            if (n := len(p.read_text().splitlines())) > 600}
    assert not long, long


def test_commands_only_wire():
    too_long, too_big = {}, {}
    for path in sorted((ROOT / "commands").glob("*.py")):
        text = path.read_text()
        if len(text.splitlines()) > 200:
            too_big[path.name] = len(text.splitlines())
        for fn in _functions(ast.parse(text)):
            if fn.end_lineno - fn.lineno + 1 > 80:
                too_long[f"{path.name}:{fn.name}"] = fn.end_lineno - fn.lineno + 1
    assert not too_big, too_big
    assert not too_long, too_long
