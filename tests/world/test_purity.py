"""The world core stays pure (no I/O, no clock, no server), and agents stay outside it.

Checked by parsing the source with `ast`, so nothing is imported to find out. An import
inside a function counts as much as one at the top: agents/ imports nothing of server/
but the wire, anywhere (the research environments start their worlds as child
processes, agents/env.py).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

WORLD_FORBIDDEN = frozenset({
    "asyncio", "time", "socket", "websockets", "sqlmodel", "sqlalchemy", "structlog",
    "openai", "qdrant_client", "server", "agents",
})
AGENTS_FORBIDDEN = frozenset({"world", "server"})
AGENTS_ALLOWED = frozenset({"server.wire"})


def imported(tree: ast.AST) -> Iterator[tuple[int, list[str]]]:
    """(line, modules) per absolute import statement; `from a import b, c` names a.b and a.c."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield node.lineno, [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, [f"{node.module}.{alias.name}" for alias in node.names]


def within(module: str, packages: frozenset[str]) -> bool:
    """Whether `module` is one of `packages` or inside one."""
    return any(module == p or module.startswith(p + ".") for p in packages)


def offences(path: Path, forbidden: frozenset[str], allowed: frozenset[str] = frozenset(),
             root: Path = ROOT) -> list[str]:
    """`file:line: module` for each import statement, at the top or in a function, that
    names a forbidden module."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for line, modules in sorted(imported(tree)):
        bad = [m for m in modules if within(m, forbidden) and not within(m, allowed)]
        if bad:
            found.append(f"{path.relative_to(root)}:{line}: {bad[0]}")
    return found


def sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def test_world_sources_exist() -> None:
    assert len(sources("world")) >= 10


@pytest.mark.parametrize("path", sources("world"), ids=lambda p: str(p.relative_to(ROOT)))
def test_world_imports_no_io(path: Path) -> None:
    assert offences(path, WORLD_FORBIDDEN) == []


def test_agents_import_only_the_wire() -> None:
    problems = [msg for path in sources("agents")
                for msg in offences(path, AGENTS_FORBIDDEN, AGENTS_ALLOWED)]
    assert problems == []


def test_the_checker_catches_offences(tmp_path: Path) -> None:
    """The checker itself: it sees what it must refuse, in a function as well, and lets
    the wire through."""
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import time\n"
        "from asyncio import sleep\n"
        "import server.app\n"
        "from world import World\n"
        "from server import wire\n"
        "from server.wire import encode_json\n"
        "import server.wire\n"
        "from . import sibling\n"
        "def f():\n"
        "    import socket\n"
        "import timeit, os.path\n"
        "import server.embedded\n"
        "def g():\n"
        "    from server.embedded import EmbeddedServer\n"
        "    from server.app import Server\n"
        "async def h():\n"
        "    import server.runner\n"
        "    from server import wire as w\n"
    )
    world_hits = offences(bad, WORLD_FORBIDDEN, root=tmp_path)
    agent_hits = offences(bad, AGENTS_FORBIDDEN, AGENTS_ALLOWED, root=tmp_path)
    assert world_hits == [
        "bad.py:1: time", "bad.py:2: asyncio.sleep", "bad.py:3: server.app",
        "bad.py:5: server.wire", "bad.py:6: server.wire.encode_json", "bad.py:7: server.wire",
        "bad.py:10: socket", "bad.py:12: server.embedded",
        "bad.py:14: server.embedded.EmbeddedServer", "bad.py:15: server.app.Server",
        "bad.py:17: server.runner", "bad.py:18: server.wire",
    ]
    assert agent_hits == ["bad.py:3: server.app", "bad.py:4: world.World",
                          "bad.py:12: server.embedded",
                          "bad.py:14: server.embedded.EmbeddedServer",
                          "bad.py:15: server.app.Server", "bad.py:17: server.runner"]
