"""The import graph of psfl: no cycle among its modules, and dependencies point one way,
hil → federation/semantic → phy (SPEC §3), with the shared infrastructure usable by every part.

The graph is read from the source with :mod:`ast`: every ``import`` and ``from … import``
statement, at module level, inside functions and under ``if TYPE_CHECKING:`` alike, is an edge
to the psfl module it names (``from pkg import name`` goes to the submodule ``pkg.name`` when
there is one, and through a lazy package face's ``_EXPORTS`` to the module that defines
``name``). Run this file to print the cycles and the forbidden edges::

    python tests/unit/test_import_graph.py
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "psfl"

#: Modules every part may import (and that belong to no part).
SHARED = {"config", "data", "images", "results", "errors", "seeding", "provenance", "plotting",
          "registry", "_lazy", "_quiet"}

#: Part → the parts it must not import.
FORBIDDEN = {
    "phy": {"semantic", "federation", "hil", "commands", "cli"},
    "semantic": {"federation", "hil", "commands", "cli"},
    "federation": {"hil", "commands", "cli"},
}

#: Cycles known outside psfl/semantic, left to the modules' owners (each a frozenset of
#: modules); any other cycle fails the test. Remove an entry once its cycle is gone.
KNOWN_CYCLES: set[frozenset[str]] = set()


def _modules(root: Path = ROOT) -> dict[str, Path]:
    out = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _lazy_exports(tree: ast.Module) -> dict[str, str]:
    """A package face's ``_EXPORTS = {"name": "module", …}`` (literal), else {}."""
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name) and node.targets[0].id == "_EXPORTS"):
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                return {}
            return value if isinstance(value, dict) else {}
    return {}


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Module → the psfl modules it imports."""
    modules = _modules(root)
    trees = {m: ast.parse(p.read_text(), str(p)) for m, p in modules.items()}
    exports = {m: _lazy_exports(t) for m, t in trees.items()}

    def target(name: str) -> str | None:
        while name and name not in modules:  # `import psfl.a.b` where b is a name: psfl.a
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {m: set() for m in modules}
    for mod, tree in trees.items():
        package = mod if modules[mod].name == "__init__.py" else mod.rpartition(".")[0]
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [target(a.name) for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                names = []
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    if full in modules:
                        names.append(full)
                    elif alias.name in exports.get(base, {}):
                        names.append(target(exports[base][alias.name]))
                    else:
                        names.append(target(base))
            else:
                continue
            graph[mod].update(n for n in names if n and n != mod)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def part(module: str) -> str:
    """``psfl.phy.link`` → ``phy``; shared modules and the package itself → ``""``."""
    parts = module.split(".")
    if len(parts) < 2 or parts[1] in SHARED:
        return ""
    return parts[1]


def forbidden_edges(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    return sorted((a, b) for a, targets in graph.items() for b in targets
                  if part(b) in FORBIDDEN.get(part(a), ()))


def test_the_graph_sees_every_kind_of_import(tmp_path):
    pkg = tmp_path / "psfl"
    (pkg / "part").mkdir(parents=True)
    files = {
        "__init__.py": "",
        "config.py": "",
        "part/__init__.py": "_EXPORTS = {'build': 'psfl.part.builder'}\n",
        "part/builder.py": "from ..config import X\n",
        "part/user.py": ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                         "    import psfl.part.other\n"
                         "def f():\n    from psfl.part import build\n"),
        "part/other.py": "from . import user\nimport psfl.config.Thing\n",
    }
    for name, text in files.items():
        (pkg / name).write_text(text)
    graph = import_graph(pkg)
    assert graph["psfl.part.builder"] == {"psfl.config"}  # relative
    assert graph["psfl.part.user"] == {"psfl.part.other", "psfl.part.builder"}  # lazy face
    assert graph["psfl.part.other"] == {"psfl.part.user", "psfl.config"}
    assert cycles(graph) == [["psfl.part.other", "psfl.part.user"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_presets_name_their_keras_class_without_importing_it():
    graph = import_graph()
    for name in ("csc", "gsc_s", "gsc_m", "gsc_l"):
        assert graph[f"psfl.semantic.presets.{name}"] == {"psfl.semantic.presets.registry"}
    assert graph["psfl.semantic.presets.registry"] == {"psfl.registry", "psfl.semantic.power"}


def test_no_import_cycle():
    found = [c for c in cycles(import_graph()) if frozenset(c) not in KNOWN_CYCLES]
    assert found == [], "import cycles among psfl modules:\n" + "\n".join(
        " <-> ".join(c) for c in found)


def test_dependencies_point_one_way():
    bad = forbidden_edges(import_graph())
    assert bad == [], "imports against hil -> federation/semantic -> phy:\n" + "\n".join(
        f"{a} imports {b}" for a, b in bad)


if __name__ == "__main__":
    g = import_graph()
    for c in cycles(g):
        print("cycle:", " <-> ".join(c))
    for a, b in forbidden_edges(g):
        print(f"forbidden: {a} -> {b}")
