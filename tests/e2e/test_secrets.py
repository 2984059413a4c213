"""Secrets end to end: a password typed in the game reaches no snooping admin, no log line
and no database row, whichever way it is typed (a line, a structured call, behind an alias,
forced by an admin).

Real server, real sockets, a real SQLite file, and the server's real log set-up
(server/log.py) writing JSON lines to a file; afterwards the test greps the log file and
every database file (WAL included) for the passwords.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from conftest import FAST_HASH, StartServer, ws_url
from wsclient import Client, auth_of, events

from server import log
from server.config import Settings
from server.host import accounts
from server.host.storage import SqlRepository

PASSWORD = "correct horse"
SECRETS = [f"n3w-secret-{n}" for n in range(1, 6)]


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    """The server's log set-up (JSON lines, every level) writing into a file; restored after."""
    saved = structlog.get_config()
    path = tmp_path / "server.log"
    with path.open("w", encoding="utf-8") as f:
        log.configure(json=True, level="debug")
        structlog.configure(logger_factory=structlog.WriteLoggerFactory(file=f))
        try:
            yield path
        finally:
            structlog.configure(**saved)


async def make_admin(settings: Settings, name: str) -> None:
    hasher = accounts.Hasher(FAST_HASH["argon2_time_cost"], FAST_HASH["argon2_memory_kib"], 1)
    password_hash = await hasher.hash(PASSWORD)
    hasher.close()

    def work() -> None:
        repo = SqlRepository(settings.resolved_database_url)
        repo.migrate()
        repo.create_account(name, password_hash, "admin")
        repo.close()

    await asyncio.to_thread(work)


async def ok(c: Client, line: str) -> list[Any]:
    got = await c.command(line)
    assert got[-1]["ok"], (line, got[-1])
    return got


async def changed(c: Client) -> None:
    """Wait for the answer of a password change (it is hashed and written off the tick)."""
    answers = ("Password changed.", "Your current password is not that.")
    got = await c.until(lambda m: m.get("type") == "event" and m["name"] == "message"
                        and m["data"]["text"] in answers)
    assert got[-1]["data"]["text"] == answers[0]


async def test_passwords_reach_no_snooper_no_log_and_no_database_row(
        log_file: Path, start_server: StartServer, settings: Settings) -> None:
    # (log_file first: set up before the server, so closed after it)
    await make_admin(settings, "Ada")
    server = await start_server()
    ada = await Client.open(ws_url(server), "aegent.json")
    await ada.recv()
    assert auth_of(await ada.login("Ada", PASSWORD))["ok"]
    bob = await Client.open(ws_url(server), "aegent.msgpack")
    await bob.recv()
    assert auth_of(await bob.register("Bob", PASSWORD))["ok"]
    await ok(ada, "snoop bob")

    await ok(bob, f"password '{PASSWORD}' {SECRETS[0]}")  # a line
    await changed(bob)
    got = await bob.call("password", old=SECRETS[0], new=SECRETS[1])  # a structured call
    assert got[-1]["ok"]
    await changed(bob)
    got = await bob.command(f"alias pw password {SECRETS[1]} {SECRETS[2]}")
    assert got[-1]["error"]["code"] == "bad_args"  # an alias would keep it in clear
    await ok(bob, "alias do $*")
    await ok(bob, f"do password {SECRETS[1]} {SECRETS[2]}")  # behind an alias
    await changed(bob)
    await ok(ada, f"force bob password {SECRETS[2]} {SECRETS[3]}")
    await changed(bob)
    await ok(bob, f"passw {SECRETS[3]} {SECRETS[4]}")  # abbreviated
    await changed(bob)
    await ok(bob, "say done")
    await ada.until(lambda m: m.get("type") == "event" and m["name"] == "snooped"
                    and m["data"]["text"] == "You say, 'done'")

    typed = [m["data"]["text"] for m in events(ada.seen, "snooped") if m["data"]["input"]]
    assert typed == ["password ********", "password ********", "alias ********",
                     "alias do $*", "do ********", "passw ********", "say done"]
    seen = json.dumps(ada.seen, ensure_ascii=False)
    assert "Ada forces you to: password ********" in seen
    for secret in SECRETS:
        assert secret not in seen, secret

    # The last password is the one that works: every change went through.
    check = await Client.open(ws_url(server), "aegent.json")
    await check.recv()
    await bob.close()
    assert auth_of(await check.login("Bob", SECRETS[4]))["ok"]
    await check.close()

    await server.admin.flush()
    force = [r.to_data() for r in await server.in_db(server.admin.store.audit, "ada", "force",
                                                      None, 10)]
    assert [r["detail"] for r in force] == ["password ******** (ok)"]
    await server.shutdown("test over")  # everything written, the WAL checkpointed or not
    written = [p for p in settings.data_dir.rglob("*") if p.is_file()] + [log_file]
    assert any(p.name.startswith("aegent.sqlite3") for p in written)
    logged = log_file.read_bytes()
    assert b'"event": "password_changed"' in logged  # the log was captured
    for path in written:
        data = path.read_bytes()
        for secret in [*SECRETS, PASSWORD]:
            assert secret.encode() not in data, (secret, path.name)
