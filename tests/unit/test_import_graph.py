"""No import cycles among bot/, handlers/ and storage/, counting function-level imports.

A cycle hidden inside a function still ties two modules together: neither can be
understood, tested or moved without the other. Run this file directly to print the
graph's cycles (`python tests/unit/test_import_graph.py`).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "handlers", "storage")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    """Every module of the three packages, by dotted name."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[_module_name(path)] = path
    return found


def _imported_names(tree: ast.AST, module: str, is_package: bool) -> Iterator[str]:
    """Dotted names this module imports anywhere in its body (top level or inside functions)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            # `from a import b` may name a submodule b or a name defined in a.
            yield prefix
            for alias in node.names:
                yield f"{prefix}.{alias.name}"


def import_graph() -> dict[str, set[str]]:
    """Module → the project modules it imports."""
    modules = project_modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        targets = set()
        for imported in _imported_names(tree, name, path.name == "__init__.py"):
            # Packages' __init__ modules are left out: they only mark folders here,
            # and importing a submodule would otherwise link every sibling to it.
            if imported in modules and imported != name and modules[imported].name != "__init__.py":
                targets.add(imported)
        graph[name] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def describe(graph: dict[str, set[str]], component: list[str]) -> str:
    """One cycle as lines `a -> b` for every edge inside it."""
    members = set(component)
    return "\n".join(
        f"  {source} -> {target}"
        for source in component
        for target in sorted(graph[source] & members)
    )


def test_graph_sees_function_level_and_relative_imports() -> None:
    tree = ast.parse("def f():\n    from .clock import Clock\n    import storage.db\n")
    names = set(_imported_names(tree, "bot.runtime.scheduler", is_package=False))
    assert {"bot.runtime.clock", "bot.runtime.clock.Clock", "storage.db"} <= names


def test_cycle_finder_finds_a_two_module_cycle() -> None:
    graph = {"a": {"b"}, "b": {"a", "c"}, "c": set()}
    assert cycles(graph) == [["a", "b"]]


def test_no_import_cycles() -> None:
    graph = import_graph()
    found = cycles(graph)
    assert not found, "import cycles:\n" + "\n\n".join(describe(graph, c) for c in found)


if __name__ == "__main__":
    graph = import_graph()
    found = cycles(graph)
    for component in found:
        print(f"cycle of {len(component)} modules:\n{describe(graph, component)}\n")
    print(f"{len(graph)} modules, {sum(map(len, graph.values()))} imports, {len(found)} cycles")
    sys.exit(1 if found else 0)
