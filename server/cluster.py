"""`aegent cluster`: nats-server, one world host and N gateways on one machine, supervised.

`plan()` lays the cluster out: the programs to run (`Child`) and the lines to print, one
per gateway. `supervise()` runs them: it starts them in order, each once the one before
is ready, prints the lines, starts again any that exits, and stops them all, in reverse
order, on SIGINT/SIGTERM (or when its `stop` event is set).

Ports. With a base B and N gateways, gateway n (1..N) takes B+2(n-1) for WebSocket and
B+2(n-1)+1 for telnet, and nats-server (on 127.0.0.1 only) takes B+2N: the cluster uses
B..B+2N. Without a base, each port is a free one the system picks (bound to port 0 and
read back, all held at once so that no two are the same).

Data. `data_dir` is the world host's (`AEGENT_DATA_DIR`); nats-server keeps its JetStream
store and its log under `data_dir/nats`, so the journal outlives a restart of the cluster.

Invariants of `supervise()`:

- A child that exits before it is ready, at start, fails the cluster: what had started is
  stopped and the status is 1. Once all are up, a child that exits is started again after
  `restart_delay`, doubled for each exit within `STABLE_S` of its start, never more than
  `MAX_RESTART_DELAY` (5 s): a restart always comes within 5 s.
- Stopping goes in reverse order (gateways, then the world host, then nats-server), one
  child at a time: SIGTERM, then SIGKILL once the child's `grace` has passed (20 s for the
  world host, which saves everyone on SIGTERM).
- Children run in a session of their own, so a terminal's Ctrl-C reaches the supervisor
  only, which stops them in order. They go with it if it is killed: on Linux each is
  started through `setpriv --pdeathsig TERM` (util-linux), and the world host and the
  gateways also get `AEGENT_PARENT_PID` (server/config.py `parent_pid`).
- Children's stdout goes to our stderr, with their stderr: our stdout carries only the
  gateway lines. The supervisor logs one structlog line per start, exit and restart
  (`child_started`, `child_exited`, `child_restarted`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from server import log as logs

MAX_RESTART_DELAY = 5.0
"""The longest wait before a child that exited is started again (seconds)."""

STABLE_S = 30.0
"""A child that ran this long before it exited is started again after `restart_delay`
(its back-off starts over)."""

MAX_GATEWAYS = 64
"""The most gateways `plan()` lays out."""

WORLD_GRACE = 20.0
"""Seconds the world host has to save everyone after SIGTERM before it is killed."""

GRACE = 10.0
"""Seconds any other child has after SIGTERM before it is killed."""

READY_POLL_S = 0.05
"""How often a starting child's port is tried."""

NATS_NAME = "aegent-cluster"
"""nats-server's name (`-n`), the same on every start."""

STDERR_FD = 2
"""Children's stdout: the supervisor's stderr (its stdout is for the gateway lines)."""

NATS_HOW = "run `make nats` or `apt install nats-server`"


class ClusterError(Exception):
    """The cluster cannot be laid out: bad arguments, or nats-server missing."""


@dataclass(frozen=True, slots=True)
class Child:
    """One supervised program.

    Attributes:
        name: what the log calls it ("nats", "world", "gateway 1"...).
        argv: the program and its arguments.
        env: variables added to `os.environ` for it.
        ready_port: it is ready once something listens on `ready_host`:`ready_port`;
            None: once it has started.
        ready_host: where `ready_port` is tried.
        grace: seconds between SIGTERM and SIGKILL when it is stopped.
        log: the file it writes its own log to, if any (named when it starts).
    """

    name: str
    argv: list[str]
    env: dict[str, str]
    ready_port: int | None = None
    ready_host: str = "127.0.0.1"
    grace: float = GRACE
    log: Path | None = None


class Output(Protocol):
    """Where `supervise()` prints the lines (sys.stdout by default)."""

    def write(self, text: str, /) -> object:
        """Write `text`."""

    def flush(self) -> object:
        """Push out what was written."""


def find_nats_server() -> str | None:
    """The `nats-server` program: PATH first, then where Debian puts it (/usr/sbin)."""
    found = shutil.which("nats-server")
    if found:
        return found
    for folder in ("/usr/sbin", "/usr/bin", "/usr/local/bin"):
        candidate = Path(folder, "nats-server")
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def plan(gateways: int, base_port: int | None, host: str, data_dir: Path,
         python: str = sys.executable, extra_env: dict[str, str] | None = None, *,
         nats_server: str | None = None) -> tuple[list[Child], list[str]]:
    """The programs to run (nats-server, the world host, the gateways, in start order)
    and the lines to print: one per gateway, `gateway N: ws://HOST:PORT/ws telnet PORT`.

    Args:
        gateways: how many gateways (1 to `MAX_GATEWAYS`).
        base_port: the first port of the layout (module docstring); None: free ports.
        host: where the gateways listen (`AEGENT_HOST`); a wildcard address is shown,
            and tried, as loopback.
        data_dir: the data folder (`AEGENT_DATA_DIR`); `data_dir/nats` is created.
        python: the interpreter that runs `server.cli`.
        extra_env: more variables for the world host and the gateways (ours win).
        nats_server: the nats-server program; None: `find_nats_server()`.

    Raises:
        ClusterError: bad `gateways` or `base_port`, nats-server missing, or
            `data_dir/nats` cannot be made.
    """
    if not 1 <= gateways <= MAX_GATEWAYS:
        raise ClusterError(f"--gateways must be 1 to {MAX_GATEWAYS}, not {gateways}")
    binary = _nats_binary(nats_server)
    ports = _ports(2 * gateways + 1, base_port)
    data_dir = data_dir.absolute()
    store = data_dir / "nats"
    try:
        store.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ClusterError(f"cannot make {store}: {exc}") from exc
    nats_port = ports[-1]
    url = f"nats://127.0.0.1:{nats_port}"
    nats_log = store / "nats-server.log"
    nats = Child("nats", [binary, "-a", "127.0.0.1", "-p", str(nats_port), "-js",
                          "-sd", str(store), "-l", str(nats_log), "-n", NATS_NAME],
                 {}, ready_port=nats_port, log=nats_log)
    common = {**(extra_env or {}), "AEGENT_NATS_URL": url, "AEGENT_DATA_DIR": str(data_dir),
              "AEGENT_PARENT_PID": str(os.getpid())}
    world = Child("world", [python, "-m", "server.cli", "world", "--nats", url], common,
                  grace=WORLD_GRACE)
    reach = _reachable(host)
    shown = f"[{reach}]" if ":" in reach else reach
    children, lines = [nats, world], []
    for n in range(1, gateways + 1):
        ws, telnet = ports[2 * (n - 1)], ports[2 * (n - 1) + 1]
        children.append(Child(
            f"gateway {n}",
            [python, "-m", "server.cli", "gateway", "--nats", url, "--port", str(ws),
             "--telnet-port", str(telnet), "--gateway-id", f"g{n}"],
            {**common, "AEGENT_HOST": host}, ready_port=ws, ready_host=reach))
        lines.append(f"gateway {n}: ws://{shown}:{ws}/ws telnet {telnet}")
    return children, lines


def _nats_binary(given: str | None) -> str:
    if given is None:
        found = find_nats_server()
        if found is None:
            raise ClusterError("nats-server was found neither on PATH nor in /usr/sbin, "
                               f"/usr/bin or /usr/local/bin: {NATS_HOW}")
        return found
    if not (Path(given).is_file() and os.access(given, os.X_OK)):
        raise ClusterError(f"nats-server {given!r} is not a program: {NATS_HOW}")
    return given


def _ports(count: int, base: int | None) -> list[int]:
    """`count` ports: base..base+count-1, or free ones."""
    if base is not None:
        if not 1 <= base <= 65536 - count:
            raise ClusterError(f"--port {base}: the cluster needs {count} ports from it, "
                               f"so it must be 1 to {65536 - count}")
        return list(range(base, base + count))
    with contextlib.ExitStack() as held:
        probes = [held.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
                  for _ in range(count)]
        for probe in probes:
            probe.bind(("", 0))
        return [int(probe.getsockname()[1]) for probe in probes]


def _reachable(host: str) -> str:
    """Where a listener on `host` is reached from this machine."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "::1"
    return host


@dataclass(slots=True)
class _Slot:
    """A child and its current process."""

    child: Child
    process: asyncio.subprocess.Process | None = None
    started: float = 0.0
    quick_exits: int = 0


async def supervise(children: list[Child], lines: list[str], *, out: Output = sys.stdout,
                    restart_delay: float = 1.0, stop: asyncio.Event | None = None,
                    ready_timeout: float = 60.0) -> int:
    """Run `children` until SIGINT/SIGTERM or `stop` (module docstring: the invariants).

    Starts them in order, each once the one before is ready (`Child.ready_port`, at most
    `ready_timeout` seconds each), prints `lines` to `out`, starts again any that exits
    (after `restart_delay`, backed off to at most `MAX_RESTART_DELAY`), and on SIGINT,
    SIGTERM or `stop` stops them all in reverse order. `stop` is set when it returns.

    Returns:
        0 once stopped on request; 1 if a child could not be started or got ready.
    """
    log = logs.get(component="cluster")
    stop = stop if stop is not None else asyncio.Event()
    loop = asyncio.get_running_loop()
    handled = _handle_signals(loop, stop, log)
    launcher = _launcher()
    slots = [_Slot(child) for child in children]
    keepers: list[asyncio.Task[None]] = []
    try:
        if not await _start_all(slots, launcher, stop, ready_timeout, log):
            return 1
        if stop.is_set():
            return 0
        for line in lines:
            out.write(line + "\n")
        out.flush()
        keepers = [asyncio.create_task(_keep(slot, launcher, stop, restart_delay, log))
                   for slot in slots]
        await stop.wait()
        return 0
    finally:
        stop.set()
        await asyncio.gather(*keepers, return_exceptions=True)
        for slot in reversed(slots):
            await _stop(slot, log)
        for sig in handled:
            loop.remove_signal_handler(sig)


def _handle_signals(loop: asyncio.AbstractEventLoop, stop: asyncio.Event, log: Any
                    ) -> list[int]:
    """SIGINT and SIGTERM set `stop` (where the loop can take them: the main thread)."""
    def on_signal(sig: signal.Signals) -> None:
        log.info("cluster_stopping", signal=sig.name)
        stop.set()

    handled: list[int] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, on_signal, sig)
        except (RuntimeError, ValueError, NotImplementedError):
            continue
        handled.append(sig)
    return handled


def _launcher() -> list[str]:
    """What goes before each child's argv: `setpriv --pdeathsig TERM --` on Linux where
    util-linux's setpriv is, so that a child gets SIGTERM if the supervisor dies."""
    setpriv = shutil.which("setpriv") if sys.platform == "linux" else None
    return [setpriv, "--pdeathsig", "TERM", "--"] if setpriv else []


async def _spawn(slot: _Slot, launcher: list[str], log: Any) -> None:
    """Start `slot`'s child. Raises OSError if it cannot be run."""
    child = slot.child
    slot.process = None
    slot.started = time.monotonic()
    slot.process = await asyncio.create_subprocess_exec(
        *launcher, *child.argv, env={**os.environ, **child.env},
        stdin=asyncio.subprocess.DEVNULL, stdout=STDERR_FD, start_new_session=True)
    where = {"log": str(child.log)} if child.log is not None else {}
    log.info("child_started", name=child.name, pid=slot.process.pid, **where)


async def _start_all(slots: list[_Slot], launcher: list[str], stop: asyncio.Event,
                     ready_timeout: float, log: Any) -> bool:
    """Start each child once the one before is ready; False if one failed (logged)."""
    for slot in slots:
        try:
            await _spawn(slot, launcher, log)
        except OSError as exc:
            log.error("child_failed", name=slot.child.name, error=str(exc))
            return False
        failure = await _wait_ready(slot, stop, ready_timeout)
        if stop.is_set():
            return True
        if failure is not None:
            where = {"log": str(slot.child.log)} if slot.child.log is not None else {}
            log.error("child_failed", name=slot.child.name, error=failure, **where)
            return False
        log.info("child_ready", name=slot.child.name)
    return True


async def _wait_ready(slot: _Slot, stop: asyncio.Event, timeout: float) -> str | None:
    """Wait until `slot`'s child is ready (or `stop`); why it is not, or None."""
    child, process = slot.child, slot.process
    assert process is not None
    deadline = time.monotonic() + timeout
    while True:
        if process.returncode is not None:
            return f"exited ({_code(process.returncode)}) before it was ready"
        if stop.is_set() or child.ready_port is None:
            return None
        if await _listening(child.ready_host, child.ready_port):
            return None
        if time.monotonic() > deadline:
            return (f"not listening on {child.ready_host} port {child.ready_port} "
                    f"within {timeout:g} s")
        await _sleep_or_stop(stop, READY_POLL_S)


async def _listening(host: str, port: int) -> bool:
    """Whether something accepts connections on `host`:`port` now."""
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 1.0)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


async def _keep(slot: _Slot, launcher: list[str], stop: asyncio.Event,
                restart_delay: float, log: Any) -> None:
    """Start `slot`'s child again each time it exits, until `stop`."""
    name = slot.child.name
    while True:
        process = slot.process
        if process is not None:
            if not await _exit_or_stop(process, stop):
                return
            code = process.returncode
            assert code is not None
            extra = {"signal": _code(code)} if code < 0 else {}
        else:
            code, extra = None, {}
        if time.monotonic() - slot.started >= STABLE_S:
            slot.quick_exits = 0
        delay = min(restart_delay * 2 ** min(slot.quick_exits, 16), MAX_RESTART_DELAY)
        slot.quick_exits += 1
        exited = time.monotonic()
        log.warning("child_exited", name=name, code=code, restart_in_s=round(delay, 2),
                    **extra)
        if await _sleep_or_stop(stop, delay):
            return
        try:
            await _spawn(slot, launcher, log)
        except OSError as exc:
            log.error("child_start_failed", name=name, error=str(exc))
            continue
        log.info("child_restarted", name=name, after_s=round(time.monotonic() - exited, 2))


async def _exit_or_stop(process: asyncio.subprocess.Process, stop: asyncio.Event) -> bool:
    """Wait for `process` to exit (True) or `stop` to be set (False)."""
    exiting = asyncio.ensure_future(process.wait())
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait((exiting, stopping), return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (exiting, stopping):
            task.cancel()
        await asyncio.gather(exiting, stopping, return_exceptions=True)
    return process.returncode is not None and not stop.is_set()


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> bool:
    """Wait `seconds`, or less if `stop` is set; whether it is."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
    return stop.is_set()


async def _stop(slot: _Slot, log: Any) -> None:
    """End `slot`'s child: SIGTERM, then SIGKILL after its grace."""
    process, child = slot.process, slot.child
    if process is None:
        return
    if process.returncode is None:
        _signal(process, signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), child.grace)
        except TimeoutError:
            log.warning("child_killed", name=child.name, grace_s=child.grace)
            _signal(process, signal.SIGKILL)
            await process.wait()
        log.info("child_stopped", name=child.name, code=process.returncode)


def _signal(process: asyncio.subprocess.Process, sig: signal.Signals) -> None:
    """Send `sig` with os.kill, not `process.send_signal()`: that polls first (Popen), and
    a poll that reaps a child which has just died leaves asyncio's child watcher without
    its exit status ("Unknown child process pid")."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(process.pid, sig)


def _code(returncode: int) -> str:
    """An exit status as people read it: `code 3` or `SIGKILL`."""
    if returncode >= 0:
        return f"code {returncode}"
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"
