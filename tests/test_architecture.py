"""The layout's rules, checked on the source: no import cycle, parsers pure, one subprocess user.

Imports are read from the syntax tree, inside functions too (a lazy import is
still a dependency); only those under `if TYPE_CHECKING:` are left out, since
they never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import portcheck

PACKAGE = Path(portcheck.__file__).parent
# What a parser must not import: it runs on every OS and reads nothing.
NOT_IN_PARSERS = {"pwd", "grp", "fcntl", "termios", "resource", "subprocess", "ctypes", "os"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            found += [
                n
                for child in node.orelse
                for n in _imports(ast.Module(body=[child], type_ignores=[]))
            ]
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        found += _imports(node)
    return found


def _targets(module: str) -> set[str]:
    """Modules of portcheck that `module` imports, and the stdlib/third-party top names."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in _imports(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
            continue
        base = node.module or ""
        if node.level:
            anchor = package.split(".")
            anchor = anchor[: len(anchor) - node.level + 1]
            base = ".".join([*anchor, base] if base else anchor)
        for alias in node.names:
            sub = f"{base}.{alias.name}"
            names.add(sub if sub in MODULES else base)
    return names


GRAPH = {m: {t for t in _targets(m) if t in MODULES and t != m} for m in MODULES}


def _cycle() -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(GRAPH[node]):
            if nxt == "portcheck":
                continue  # the root package is the entry point, imported by everyone's parent
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        state[node] = 2
        path.pop()
        return None

    for module in sorted(GRAPH):
        if module not in state:
            found = visit(module)
            if found:
                return found
    return None


def test_the_import_graph_has_no_cycle() -> None:
    assert _cycle() is None, " -> ".join(_cycle() or [])


def test_the_cycle_finder_finds_a_cycle() -> None:
    GRAPH["portcheck._records"].add("portcheck._lookup")
    try:
        assert _cycle() is not None
    finally:
        GRAPH["portcheck._records"].discard("portcheck._lookup")


def test_the_graph_sees_lazy_imports() -> None:
    # _lookup imports the parser table inside `parse()`: it must still count.
    assert "portcheck._parsers" in GRAPH["portcheck._lookup"]


def test_parsers_import_nothing_os_specific() -> None:
    for module in MODULES:
        if module.startswith("portcheck._parsers"):
            imported = {name.split(".")[0] for name in _targets(module)}
            assert not imported & NOT_IN_PARSERS, (module, imported & NOT_IN_PARSERS)
            assert not any(t.startswith("portcheck._backends") for t in _targets(module)), module


def test_only_the_runner_imports_subprocess() -> None:
    users = {m for m in MODULES if "subprocess" in _targets(m)}
    assert users == {"portcheck._run"}


# Presentation: everything that turns records into text for a person or a
# document. Core and features compute; they never format through it.
PRESENTATION = ("portcheck._render", "portcheck._cli", "portcheck.__main__")
# Output adapters: modules whose job is to hand documents to another program.
ADAPTERS = {"portcheck._remote.ansible"}  # the collection's results reuse the JSON documents
# The one sanctioned edge: `PortReport.explain()` is public API that returns the sentences.
ALLOWED_PRESENTATION_EDGES = {("portcheck._ports.describe", "portcheck._render.explain")}


def _presentation_edges() -> set[tuple[str, str]]:
    edges = set()
    for module, targets in GRAPH.items():
        if module.startswith(PRESENTATION) or module in ADAPTERS:
            continue
        edges |= {(module, t) for t in targets if t.startswith(PRESENTATION)}
    return edges


def test_core_never_imports_presentation() -> None:
    assert _presentation_edges() - ALLOWED_PRESENTATION_EDGES == set()


def test_the_presentation_check_sees_an_edge() -> None:
    GRAPH["portcheck._wait.sockets"].add("portcheck._render.words")
    try:
        assert ("portcheck._wait.sockets", "portcheck._render.words") in _presentation_edges()
    finally:
        GRAPH["portcheck._wait.sockets"].discard("portcheck._render.words")


def _private_backend_names() -> list[str]:
    """`module: name` for each private name imported from a backend module by a feature."""
    found = []
    for module, path in MODULES.items():
        if module.startswith(("portcheck._backends", "portcheck._parsers")):
            continue
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom):
                continue
            anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
            base = ".".join([*anchor, node.module or ""]) if node.level else node.module or ""
            if base.startswith("portcheck._backends"):
                found += [f"{module}: {a.name}" for a in node.names if a.name.startswith("_")]
    return found


def test_features_use_backends_only_through_public_names() -> None:
    assert _private_backend_names() == []
