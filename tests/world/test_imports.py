"""world/'s imports point one way: no import cycles, and the core imports no command or
system (they register onto it; world/game.py imports them all).

The import graph is read from the source with `ast`, so nothing is imported to draw
it. It holds the imports a module runs when it is imported: at its top level, in class
bodies and in `try` or `if` blocks, and those under `if TYPE_CHECKING:` (`type_only`;
naming a type is a coupling too), but not those inside functions (`deferred` adds
them). Importing `a.b.c` also runs `a/b/__init__.py`, so that package is an edge too,
unless the importer is inside it already; but `from a import b` names `a` itself, so
it is an edge from inside `a` as well (world/__init__.py once imported world/game.py,
and every command's `from world import rules` closed a cycle through it). The same
rules hold for agents/ and server/ (`TYPE_ONLY_COUNTED`).

    python tests/world/test_imports.py      # prints the cycles and the core's imports
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import deque
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
Graph = dict[str, set[str]]

# The core's registries: what commands and systems register onto. The other modules of
# world/commands/ and world/systems/ are the game's, which the core must not import.
REGISTRIES = frozenset({"world.commands.registry", "world.systems.registry"})
# The packages whose imports under `if TYPE_CHECKING:` count: all three. (The host's
# services take the server as a Protocol of what they use, server/host/port.py, rather
# than name `Server`, which imports them.)
TYPE_ONLY_COUNTED = frozenset({"world", "agents", "server"})


def modules(root: Path, package: str) -> dict[str, Path]:
    """Every module of `package` (under `root`) by dotted name; a package by its own."""
    found = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def import_statements(body: list[ast.stmt], deferred: bool = False, type_only: bool = True
                      ) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements of `body` run on import (`deferred`: and in functions;
    `type_only`: and under `if TYPE_CHECKING:`)."""
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If):
            if type_only or not _type_checking(node.test):
                yield from import_statements(node.body, deferred, type_only)
            yield from import_statements(node.orelse, deferred, type_only)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            if deferred:
                yield from import_statements(node.body, deferred, type_only)
        else:
            for block in ("body", "orelse", "finalbody"):
                yield from import_statements(getattr(node, block, []), deferred, type_only)
            for handler in getattr(node, "handlers", []):
                yield from import_statements(handler.body, deferred, type_only)


def imported(node: ast.Import | ast.ImportFrom, importer: str, is_package: bool,
             known: dict[str, Path]) -> list[str]:
    """The modules one statement imports: `from a import b` is a.b if that is a module,
    else a; a relative import is resolved against `importer`."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        parts = importer.split(".")
        if not is_package:
            parts.pop()
        parts = parts[:len(parts) - node.level + 1]
        base = ".".join([*parts, base] if base else parts)
    found: list[str] = []
    for alias in node.names:
        sub = f"{base}.{alias.name}"
        # `from a import b` reads a's namespace, b a module or not: a is imported too
        found += [base, sub] if sub in known else [base]
    return found


def import_graph(root: Path = ROOT, package: str = "world", deferred: bool = False,
                 type_only: bool = True) -> Graph:
    """Module -> the modules of `package` it imports (see the module's docstring)."""
    known = modules(root, package)
    graph: Graph = {}
    for name, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        edges: set[str] = set()
        for node in import_statements(tree.body, deferred, type_only):
            for target in imported(node, name, path.name == "__init__.py", known):
                if target in known and target != name:
                    edges.add(target)  # named by the statement: from inside it as well
                parts = target.split(".")
                for i in range(1, len(parts)):
                    ancestor = ".".join(parts[:i])
                    inside = name == ancestor or name.startswith(ancestor + ".")
                    if ancestor in known and not inside:
                        edges.add(ancestor)
        graph[name] = edges
    return graph


def components(graph: Graph) -> list[list[str]]:
    """The strongly connected components of `graph` (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def shortest_cycle(graph: Graph, members: list[str]) -> list[str]:
    """A shortest cycle within `members` (a component), from its first module back to it."""
    inside = set(members)
    best: list[str] = []
    for start in members:
        came_from: dict[str, str] = {}
        queue = deque([start])
        while queue:
            v = queue.popleft()
            if start in graph[v]:
                path = [v]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                cycle = [*reversed(path), start]
                if not best or len(cycle) < len(best):
                    best = cycle
                break
            for w in sorted(graph[v] & inside):
                if w not in came_from and w != start:
                    came_from[w] = v
                    queue.append(w)
    return best


def cycles(graph: Graph) -> list[str]:
    """One shortest cycle per group of modules that import each other, as `a -> b -> a`."""
    groups = [c for c in components(graph) if len(c) > 1 or c[0] in graph[c[0]]]
    return [" -> ".join(shortest_cycle(graph, group)) for group in groups]


def closure(graph: Graph, start: str) -> set[str]:
    """Every module that importing `start` imports, directly or not."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        for w in graph[todo.pop()]:
            if w not in seen:
                seen.add(w)
                todo.append(w)
    return seen


def game_modules(graph: Graph) -> set[str]:
    """The command and system modules: the game that registers onto the core."""
    return {m for m in graph if m.startswith(("world.commands.", "world.systems."))
            and m not in REGISTRIES}


def private_imports(path: Path, root: Path = ROOT) -> list[str]:
    """`file:line: name` for each private name (`_x`, not `__x__`) taken from another
    module: `from m import _x`, or `m._x` on a module imported here."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    where = path.relative_to(root)
    found = []
    bound: set[str] = set()  # names bound by imports: modules and what came from them
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            source = "." * node.level + (node.module or "")
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    dot = "." if node.module else ""
                    found.append(f"{where}:{node.lineno}: {source}{dot}{alias.name}")
                bound.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            bound.update(alias.asname or alias.name.split(".")[0] for alias in node.names)
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and node.attr.startswith("_")
                and not node.attr.startswith("__")):
            base = node.value
            while isinstance(base, ast.Attribute):
                base = base.value
            if isinstance(base, ast.Name) and base.id in bound:
                found.append(f"{where}:{node.lineno}: {ast.unparse(node)}")
    return sorted(found)


# ---- world/ ---------------------------------------------------------------------------


def test_world_has_no_import_cycle() -> None:
    """Not even through imports made for type checking: the core modules that world.world
    imports take `World` as a `Protocol` of what they use, or are generic in it."""
    graph = import_graph()
    assert len(graph) > 30 and "world.world" in graph
    assert cycles(graph) == []


def test_nor_through_imports_deferred_into_functions() -> None:
    assert cycles(import_graph(deferred=True)) == []


def test_the_core_imports_no_command_and_no_system() -> None:
    """Not even to name a type: that would couple the core to the game all the same."""
    graph = import_graph(deferred=True)
    game = game_modules(graph)
    assert {"world.commands.movement", "world.systems.combat"} <= game
    assert closure(graph, "world.world") & game == set()
    assert closure(graph, "world.world") >= REGISTRIES


def test_the_game_module_imports_every_command_and_system() -> None:
    """A command or system module left out of world/game.py would never register."""
    graph = import_graph()
    assert game_modules(graph) - graph["world.game"] == set()
    assert graph["world"] == set()  # the package imports nothing: the game by name


def test_importing_the_core_alone_loads_no_command() -> None:
    """At run time too: importing `world.world` (here without world/__init__.py, to be
    sure) loads the registries and not one command or system."""
    script = (
        "import sys, types\n"
        "package = types.ModuleType('world')\n"
        f"package.__path__ = [{str(ROOT / 'world')!r}]\n"
        "sys.modules['world'] = package\n"
        "import world.world\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('world.'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                         text=True, check=True, timeout=60).stdout.split()
    assert "world.world" in out and set(out) >= REGISTRIES
    assert set(out) & game_modules(import_graph()) == set()


def test_the_package_plays_the_whole_game() -> None:
    """`import world` (however `World` is then imported) registers every command."""
    from world.commands.registry import REGISTRY
    from world.systems.registry import LISTENERS, SYSTEMS

    assert {"look", "kill", "cast", "wear", "buy"} <= set(REGISTRY.specs)
    assert {"combat_rounds", "zone_resets", "regeneration"} <= {s.name for s in SYSTEMS}
    assert len(LISTENERS) >= 8


@pytest.mark.parametrize("package", ["server", "agents"])
def test_nor_has_the_server_or_the_agents(package: str) -> None:
    """The same rule for server/ and agents/: no cycle of imports run on import nor
    through imports in functions, nor (in `TYPE_ONLY_COUNTED`) type-only imports."""
    graph = import_graph(package=package, deferred=True,
                         type_only=package in TYPE_ONLY_COUNTED)
    assert len(graph) > 10
    assert cycles(graph) == []


@pytest.mark.parametrize("package", ["world", "server", "agents", "bench", "tests"])
def test_no_module_takes_another_modules_private_names(package: str) -> None:
    found = [hit for path in sorted((ROOT / package).rglob("*.py"))
             for hit in private_imports(path)]
    assert found == []


# ---- the checker itself -----------------------------------------------------------------


def plant(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_the_checker_finds_cycles_and_names_them(tmp_path: Path) -> None:
    plant(tmp_path, {
        "pkg/__init__.py": "from pkg import a\n",
        # importing pkg.sub.b runs pkg/sub/__init__.py, which imports a back
        "pkg/a.py": ("from typing import TYPE_CHECKING\n"
                     "from .sub import b\n"
                     "if TYPE_CHECKING:\n    from pkg.c import C\n"
                     "def f():\n    import pkg.c\n"),
        "pkg/sub/__init__.py": "import pkg.a\n",
        "pkg/sub/b.py": "from ..d import D\n",
        "pkg/c.py": "import pkg.a\n",
        "pkg/d.py": "try:\n    import pkg.e\nexcept ImportError:\n    pass\n",
        "pkg/e.py": "class E:\n    import pkg.d\n",
    })
    graph = import_graph(tmp_path, "pkg", type_only=False)
    assert graph == {
        "pkg": {"pkg.a"}, "pkg.a": {"pkg.sub", "pkg.sub.b"}, "pkg.sub": {"pkg.a"},
        "pkg.sub.b": {"pkg.d"}, "pkg.c": {"pkg.a"}, "pkg.d": {"pkg.e"}, "pkg.e": {"pkg.d"},
    }
    assert cycles(graph) == ["pkg.d -> pkg.e -> pkg.d", "pkg.a -> pkg.sub -> pkg.a"]
    deferred = import_graph(tmp_path, "pkg", deferred=True, type_only=False)
    assert deferred["pkg.a"] == {"pkg.sub", "pkg.sub.b", "pkg.c"}  # TYPE_CHECKING still out
    assert cycles(deferred) == ["pkg.d -> pkg.e -> pkg.d", "pkg.a -> pkg.c -> pkg.a"]
    assert closure(graph, "pkg.sub.b") == {"pkg.d", "pkg.e"}
    assert import_graph(tmp_path, "pkg")["pkg.a"] == {"pkg.sub", "pkg.sub.b", "pkg.c"}


def test_from_a_package_import_closes_a_cycle_through_its_init(tmp_path: Path) -> None:
    """`from pkg import rules` runs pkg/__init__.py, from inside pkg too: a package that
    imports its game there is in a cycle with every command (world/ until session 7)."""
    plant(tmp_path, {
        "pkg/__init__.py": "import pkg.game\n",
        "pkg/game.py": "import pkg.cmd\n",
        "pkg/cmd.py": "from pkg import rules\nfrom pkg.core import Core\n",
        "pkg/rules.py": "",
        "pkg/core.py": "class Core: ...\n",
    })
    graph = import_graph(tmp_path, "pkg")
    assert graph["pkg.cmd"] == {"pkg", "pkg.rules", "pkg.core"}  # pkg.core: not its package
    assert cycles(graph) == ["pkg -> pkg.game -> pkg.cmd -> pkg"]
    (tmp_path / "pkg/__init__.py").write_text("")  # the game imported by name instead
    assert cycles(import_graph(tmp_path, "pkg")) == []


def test_the_checker_finds_a_cycle_made_only_for_type_checking(tmp_path: Path) -> None:
    """The cycle this suite once missed: a core module imports a helper, which imports
    the core back only to name its type (under either spelling of TYPE_CHECKING)."""
    plant(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/core.py": "from pkg.helper import help_\nclass Core: ...\n",
        "pkg/helper.py": ("from typing import TYPE_CHECKING\n"
                          "if TYPE_CHECKING:\n    from pkg.core import Core\n"
                          "else:\n    Core = object\n"
                          "def help_(core: 'Core') -> None: ...\n"),
        "pkg/view.py": ("import typing\nif typing.TYPE_CHECKING:\n"
                        "    import pkg.core\nimport pkg.helper\n"),
    })
    assert cycles(import_graph(tmp_path, "pkg", type_only=False)) == []
    graph = import_graph(tmp_path, "pkg")
    assert graph["pkg.helper"] == {"pkg.core"} and graph["pkg.view"] == {"pkg.core", "pkg.helper"}
    assert cycles(graph) == ["pkg.core -> pkg.helper -> pkg.core"]
    assert cycles(import_graph(tmp_path, "pkg", deferred=True)) == [
        "pkg.core -> pkg.helper -> pkg.core"]


def test_the_checker_finds_private_names(tmp_path: Path) -> None:
    plant(tmp_path, {"m.py": ("import os.path\nfrom a import _x, y, __version__\n"
                              "from . import _z\nos.path._joinrealpath\n"
                              "y._inner\nself._mine\nos.__name__\n")})
    assert private_imports(tmp_path / "m.py", tmp_path) == [
        "m.py:2: a._x", "m.py:3: ._z", "m.py:4: os.path._joinrealpath", "m.py:5: y._inner",
    ]


if __name__ == "__main__":
    for mode in (False, True):
        graph = import_graph(deferred=mode)
        found = cycles(graph)
        print(f"{'with' if mode else 'without'} deferred imports (type-only ones counted): "
              f"{len(graph)} modules, {sum(map(len, graph.values()))} edges, "
              f"{len(found)} cycles")
        for cycle in found:
            print("  " + cycle)
    print("world.world imports:", " ".join(sorted(closure(import_graph(), "world.world"))))
