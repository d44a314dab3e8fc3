"""The shape of the code: imports go one way, with no cycles.

Every import counts, at module level or inside a function (the lazy imports that keep
``loadtool --help`` quick are still dependencies); only ``if TYPE_CHECKING:`` blocks,
which never run, are left out.
"""

from __future__ import annotations

import ast
from pathlib import Path

import loadtool

PACKAGE = Path(loadtool.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def _imported(node: ast.AST, module: str, is_package: bool, known: set[str]) -> set[str]:
    """The loadtool modules that one import statement brings in."""
    names: set[str] = set()
    if isinstance(node, ast.Import):
        names = {alias.name for alias in node.names}
    elif isinstance(node, ast.ImportFrom):
        if node.level:
            base = module.split(".")
            base = base[:len(base) - node.level + (1 if is_package else 0)]
            origin = ".".join(base + ([node.module] if node.module else []))
        else:
            origin = node.module or ""
        names = {origin} | {f"{origin}.{alias.name}" for alias in node.names}
    return {name for name in names if name in known}


def import_graph() -> dict[str, set[str]]:
    """loadtool module -> the loadtool modules it imports."""
    paths = sorted(PACKAGE.rglob("*.py"))
    known = {_module_name(path) for path in paths}
    graph: dict[str, set[str]] = {}
    for path in paths:
        module = _module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        edges: set[str] = set()
        todo: list[ast.AST] = [tree]
        while todo:
            node = todo.pop()
            if _is_type_checking(node):
                todo.extend(node.orelse)
                continue
            edges |= _imported(node, module, path.name == "__init__.py", known)
            todo.extend(ast.iter_child_nodes(node))
        # A package imports its own __init__ implicitly; that is no dependency of the module.
        graph[module] = {edge for edge in edges if edge != module and not module.startswith(edge + ".")}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
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
    return found


def test_the_graph_sees_lazy_imports():
    graph = import_graph()
    # cli's delivery imports the runner only inside its functions: still an edge.
    assert "loadtool.runner" in graph["loadtool.cli.deliver"]


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_loadtool_has_no_import_cycles():
    assert cycles(import_graph()) == []


#: loadtool's layers, top to bottom. A module may import its own layer and those below it,
#: never one above: data flows cli -> Job -> Strategy -> Work -> Engine -> Policy -> Stats.
LAYERS = (
    ("loadtool.__main__", "loadtool.cli"),
    ("loadtool.plan", "loadtool.pytest_plugin"),
    ("loadtool.runner",),
    ("loadtool.report",),
    ("loadtool.job", "loadtool.crawl"),
    ("loadtool.strategies",),
    ("loadtool.engines",),
    ("loadtool.metrics",),
    ("loadtool.targets",),
    ("loadtool.server",),
    ("loadtool.options",),
    ("loadtool.errors", "loadtool.units", "loadtool.system", "loadtool.names", "loadtool.speedups",
     "loadtool"),
)


def layer_of(module: str) -> int:
    """The index of the layer a module belongs to (a package's modules share its layer)."""
    for index, members in enumerate(LAYERS):
        if any(module == member or module.startswith(member + ".") for member in members
               if member != "loadtool"):
            return index
    if module == "loadtool":
        return len(LAYERS) - 1
    raise AssertionError(f"{module} is in no layer: add it to LAYERS")


def test_every_module_has_a_layer():
    """Every module is in a layer (layer_of fails on one that is not), and every layer holds
    a module: a folder moved or renamed leaves no stale layer behind."""
    assert {layer_of(module) for module in import_graph()} == set(range(len(LAYERS)))


def test_no_module_imports_one_above_its_layer():
    upward = [f"{module} -> {target}" for module, targets in import_graph().items() for target in targets
              if layer_of(target) < layer_of(module)]
    assert upward == []


def test_each_strategy_runs_the_engines_that_wait_as_it_does():
    """The engines a strategy accepts follow from the registry: a blocking strategy runs
    requests and file reads, an event-loop one the others; the first is its default."""
    from loadtool import strategies
    from loadtool.names import ALL_STRATEGIES, ENGINES

    runs = {name: strategies.get(name).engines for name in ALL_STRATEGIES}
    assert runs["threads"] == runs["processes"] == {"fetch": ("requests",), "read": ("file",), "run": ("function",)}
    assert runs["async"] == runs["hybrid"] == {"fetch": ("aiohttp", "fast", "curl"), "read": ("aiofiles",),
                                               "run": ("coroutine",)}
    assert ENGINES == ("aiohttp", "fast", "curl", "requests")
