"""Shared pytest fixtures.

- `postgres_url` (session scope) starts a throwaway PostgreSQL server; see tests/pg.py.
- `settings` gives server settings on a free port with a real SQLite file in tmp_path.
- `start_server` starts the real server in this event loop (real sockets) and stops it
  at the end of the test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from pg import postgres_url

import world.game  # noqa: F401  (every command and system registered, for every test)
from server.app import Server
from server.config import Settings

__all__ = ["postgres_url"]

FAST_HASH = {"argon2_time_cost": 1, "argon2_memory_kib": 1024}
# Tests register many characters from 127.0.0.1; tests/e2e/test_auth_attacks.py sets
# these quotas low to test them.
MANY_REGISTRATIONS = {"register_per_address": 10_000, "register_global": 10_000}
# Loopback is exempt from per-address limits by default (a server's own machine); tests
# come from loopback and test those limits, so nothing is exempt here.
NO_EXEMPTION = {"exempt_addresses": ""}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for a test server: ports 0, data in tmp_path, cheap hashing, fixed seed."""
    return Settings(port=0, telnet_port=0, data_dir=tmp_path / "data", seed=7,
                    **FAST_HASH, **MANY_REGISTRATIONS, **NO_EXEMPTION)  # type: ignore[arg-type]


StartServer = Callable[..., Awaitable[Server]]


@pytest.fixture
async def start_server(settings: Settings) -> AsyncIterator[StartServer]:
    """A factory that starts real servers (by default with `settings`); all stop at the end."""
    started: list[Server] = []

    async def start(s: Settings | None = None, **changes: object) -> Server:
        server = Server((s or settings).with_overrides(**changes))
        await server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        await server.shutdown("test over")


def ws_url(server: Server) -> str:
    """The WebSocket URL of a started server."""
    return f"ws://127.0.0.1:{server.port}/ws"


def session_of(server: Server, name: str) -> Any:
    """The session of the character called `name` on `server` (exactly one)."""
    [session] = [s for s in server.sessions if s.character and s.character.name == name]
    return session
