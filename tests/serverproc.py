"""The real `aegent serve` program in a process of its own, for the end-to-end tests
of what only the program does (signals, its log lines, the backup of a live server).

`start(*args, env=...)` runs `python -m server.cli serve --port <free port> *args`
with its stdout and stderr on pipes and returns once it accepts connections (a
`RuntimeError` with its stderr if it exits first or takes too long); `stop(served)`
sends SIGTERM and returns its exit status and what it wrote; `kill(served)` ends one
that is still there, for a test's `finally`. `room_on_login` tells where a character
stands once it logs in: after a restart, or a restore, the room it was left in.
`FAST` is the environment that makes a test server quick and its world the same each
run.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from dataclasses import dataclass

from daemons import end, free_port, wait_ready
from wsclient import Client, auth_of, events

AEGENT = [sys.executable, "-m", "server.cli"]
"""The `aegent` command of this checkout."""

FAST = {"AEGENT_ARGON2_TIME_COST": "1", "AEGENT_ARGON2_MEMORY_KIB": "1024",
        "AEGENT_SEED": "3", "AEGENT_TELNET_PORT": "0"}
"""Cheap password hashing, a fixed seed, and a telnet port the system picks."""


@dataclass(frozen=True, slots=True)
class Served:
    """A running `aegent serve`."""

    process: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        """Its WebSocket endpoint."""
        return f"ws://127.0.0.1:{self.port}/ws"


@dataclass(frozen=True, slots=True)
class Stopped:
    """How an `aegent serve` ended: its exit status and what it wrote."""

    code: int
    stdout: str
    stderr: str


async def start(*args: str, env: dict[str, str], timeout: float = 20.0) -> Served:
    """`aegent serve --port <free port> *args` with `env`, once it accepts connections.

    Raises:
        RuntimeError: it exited, or did not listen within `timeout` seconds.
    """
    port = free_port()
    # It stops by itself should this test process die first (a killed run leaves no
    # server idling on the machine): the server's parent_pid setting.
    env = {"AEGENT_PARENT_PID": str(os.getpid()), **env}
    process = subprocess.Popen([*AEGENT, "serve", "--port", str(port), *args], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    await asyncio.to_thread(wait_ready, process, port, "aegent serve", timeout=timeout)
    return Served(process, port)


async def stop(served: Served, timeout: float = 30.0) -> Stopped:
    """SIGTERM (a clean shutdown), and wait for it to exit (killed after `timeout`
    seconds: its status is then -9)."""
    out, err = await asyncio.to_thread(end, served.process, timeout=timeout)
    code = served.process.returncode
    return Stopped(code, out.decode(errors="replace"), err.decode(errors="replace"))


def kill(served: Served) -> None:
    """End it at once if it is still running (a test's `finally`, after a failure)."""
    if served.process.poll() is None:
        end(served.process, kill=True)


async def room_on_login(served: Served, name: str) -> str:
    """Log `name` in (wsclient's password) over a fresh msgpack connection; the id of the
    room it enters the world in."""
    c = await Client.open(served.url, "aegent.msgpack")
    try:
        await c.recv()
        got = await c.login(name)
        assert auth_of(got)["ok"] is True, got
        return str(events(got, "room")[0]["data"]["id"])
    finally:
        await c.close()
