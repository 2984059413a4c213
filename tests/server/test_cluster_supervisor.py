"""`aegent cluster`'s supervisor (server/cluster.py) with real processes.

The children are stand-ins (tests/standin.py: they listen, answer with their pid, record
their start and their SIGTERM in a file, exit, or ignore SIGTERM), since what matters
here is the supervision: start order, restart after a crash, stop order, SIGKILL after
the grace, the signals, and children that go when the supervisor is killed. `plan()` is
checked for its layout, and once with the real nats-server.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from daemons import free_port
from needs import require
from structlog.testing import capture_logs

from server.cluster import (
    MAX_RESTART_DELAY,
    WORLD_GRACE,
    Child,
    ClusterError,
    plan,
    supervise,
)

STANDIN = Path(__file__).parents[1] / "standin.py"
ROOT = Path(__file__).parents[2]
T = TypeVar("T")


def standin(name: str, record: Path, *, port: int | None = None, ignore_term: bool = False,
            exit_code: int | None = None, grace: float = 10.0) -> Child:
    """A stand-in child (see tests/standin.py)."""
    argv = [sys.executable, str(STANDIN), name, str(record)]
    if port is not None:
        argv += ["--port", str(port)]
    if ignore_term:
        argv.append("--ignore-term")
    if exit_code is not None:
        argv += ["--exit", str(exit_code)]
    return Child(name, argv, {}, ready_port=port, grace=grace)


@dataclass
class Printed:
    """An `Output` that keeps what was written and tells when it was flushed."""

    text: str = ""
    flushed: asyncio.Event = field(default_factory=asyncio.Event)

    def write(self, text: str, /) -> int:
        self.text += text
        return len(text)

    def flush(self) -> None:
        self.flushed.set()


@dataclass
class Running:
    """A supervise() task under test."""

    task: asyncio.Task[int]
    stop: asyncio.Event
    printed: Printed


@contextlib.asynccontextmanager
async def running(children: list[Child], lines: list[str], **options: Any
                  ) -> AsyncIterator[Running]:
    """supervise() in this loop, up (its lines printed) for the block, stopped after."""
    printed, stop = Printed(), asyncio.Event()
    task = asyncio.create_task(supervise(children, lines, out=printed, stop=stop, **options))
    up = asyncio.create_task(printed.flushed.wait())
    try:
        await asyncio.wait((task, up), timeout=30, return_when=asyncio.FIRST_COMPLETED)
        assert up.done(), f"supervise() ended or hung before it printed: {task}"
        yield Running(task, stop, printed)
    finally:
        up.cancel()
        stop.set()
        await asyncio.wait_for(task, 60)


async def eventually(probe: Callable[[], Awaitable[T | None]], what: str,
                     timeout: float = 15.0) -> T:
    """Poll `probe` until it gives something (no event can be awaited across processes)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        found = await probe()
        if found is not None:
            return found
        await asyncio.sleep(0.02)
    raise AssertionError(f"not within {timeout} s: {what}")


async def pid_on(port: int) -> int | None:
    """The pid a stand-in listening on `port` answers with; None if none listens."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return None
    try:
        line = await reader.readline()
    except OSError:  # it was killed as it answered
        return None
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    return int(line) if line.strip() else None


def records(path: Path) -> list[str]:
    """The stand-ins' record lines."""
    return path.read_text().splitlines() if path.exists() else []


def pids(path: Path) -> dict[str, int]:
    """Each stand-in's latest pid, from the record."""
    return {line.split(" started ")[0]: int(line.split(" started ")[1])
            for line in records(path) if " started " in line}


async def up(record: Path, *names: str) -> dict[str, int]:
    """Each of `names`'s pid once it has recorded its start (its SIGTERM handler is set
    then: a child without a port is "ready" as soon as it is started)."""
    async def probe() -> dict[str, int] | None:
        found = pids(record)
        return found if all(name in found for name in names) else None

    return await eventually(probe, f"{names} started")


def alive(pid: int) -> bool:
    """Whether process `pid` still exists (a zombie counts as gone)."""
    try:
        status = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return status.rsplit(")", 1)[1].split()[0] != "Z"


async def test_restarts_a_killed_child(tmp_path: Path) -> None:
    record, port = tmp_path / "record", free_port()
    children = [standin("world", record), standin("gateway 1", record, port=port)]
    with capture_logs() as logs:
        async with running(children, ["gateway 1: here"], restart_delay=0.05) as run:
            assert run.printed.text == "gateway 1: here\n"
            first = await pid_on(port)
            assert first is not None
            os.kill(first, signal.SIGKILL)

            async def another() -> int | None:
                pid = await pid_on(port)
                return pid if pid not in (None, first) else None

            second = await eventually(another, "the gateway listens again")
            assert second != first and alive(second)
            assert not run.task.done()
    exited = [e for e in logs if e["event"] == "child_exited"]
    assert [(e["name"], e["code"], e["signal"]) for e in exited] == [
        ("gateway 1", -signal.SIGKILL, "SIGKILL")]
    assert 0 < exited[0]["restart_in_s"] <= MAX_RESTART_DELAY
    restarted = [e for e in logs if e["event"] == "child_restarted"]
    assert [e["name"] for e in restarted] == ["gateway 1"]
    started = [(e["name"], e["pid"]) for e in logs if e["event"] == "child_started"]
    assert [name for name, _ in started] == ["world", "gateway 1", "gateway 1"]
    assert started[1][1] == first and started[2][1] == second
    assert not alive(second)


@pytest.mark.parametrize(("first", "delays"), [(0.1, [0.1, 0.2, 0.4]), (10.0, [5.0])])
async def test_restarts_back_off_to_at_most_five_seconds(tmp_path: Path, first: float,
                                                         delays: list[float]) -> None:
    record = tmp_path / "record"
    # It exits at once, each time: "ready" means started, so the start goes through; each
    # exit soon after a start doubles the next delay, capped at MAX_RESTART_DELAY (5 s).
    children = [standin("world", record), standin("crasher", record, exit_code=3)]
    with capture_logs() as logs:
        async with running(children, [], restart_delay=first):
            await eventually(lambda: _settle(logs, len(delays)), f"{len(delays)} exits")
    exited = [e for e in logs if e["event"] == "child_exited"]
    assert [e["restart_in_s"] for e in exited][:len(delays)] == delays
    assert {(e["name"], e["code"]) for e in exited} == {("crasher", 3)}


async def _settle(logs: list[MutableMapping[str, Any]], exits: int) -> bool | None:
    return True if sum(e["event"] == "child_exited" for e in logs) >= exits else None


async def test_stops_gateways_then_world_then_nats(tmp_path: Path) -> None:
    record = tmp_path / "record"
    children = [standin("nats", record, port=free_port()), standin("world", record),
                standin("gateway 1", record, port=free_port()),
                standin("gateway 2", record, port=free_port())]
    with capture_logs() as logs:
        async with running(children, ["a", "b"]) as run:
            assert run.printed.text == "a\nb\n"
            started = await up(record, "nats", "world", "gateway 1", "gateway 2")
    assert run.task.result() == 0
    assert [(e["event"], e["name"]) for e in logs if e["event"] == "child_ready"] == [
        ("child_ready", name) for name in ("nats", "world", "gateway 1", "gateway 2")]
    assert [line for line in records(record) if line.endswith(" term")] == [
        "gateway 2 term", "gateway 1 term", "world term", "nats term"]
    assert not any(alive(pid) for pid in started.values())


async def test_kills_a_child_that_ignores_sigterm_after_its_grace(tmp_path: Path) -> None:
    record = tmp_path / "record"
    children = [standin("world", record, ignore_term=True, grace=0.3),
                standin("gateway 1", record, port=free_port())]
    with capture_logs() as logs:
        async with running(children, []):
            world = (await up(record, "world"))["world"]
    assert "world term" in records(record)
    assert [(e["event"], e["name"]) for e in logs
            if e["event"] in ("child_killed", "child_stopped")] == [
        ("child_stopped", "gateway 1"), ("child_killed", "world"), ("child_stopped", "world")]
    stopped = [e for e in logs if e["event"] == "child_stopped" and e["name"] == "world"]
    assert stopped[0]["code"] == -signal.SIGKILL
    assert not alive(world)


async def test_a_child_that_fails_to_start_stops_the_cluster(tmp_path: Path) -> None:
    record, port = tmp_path / "record", free_port()
    children = [standin("nats", record, port=port),
                standin("world", record, port=free_port(), exit_code=3),
                standin("gateway 1", record)]
    printed = Printed()
    with capture_logs() as logs:
        status = await asyncio.wait_for(supervise(children, ["never"], out=printed), 30)
    assert status == 1
    assert printed.text == ""
    lines = records(record)
    assert [line.split(" ")[0] + " " + line.split(" ")[1] for line in lines] == [
        "nats started", "world started", "nats term"]
    failed = [e for e in logs if e["event"] == "child_failed"]
    assert [e["name"] for e in failed] == ["world"]
    assert "code 3" in failed[0]["error"]


async def test_a_child_that_never_listens_stops_the_cluster(tmp_path: Path) -> None:
    record, port = tmp_path / "record", free_port()
    quiet = standin("nats", record)  # started, but it listens on nothing
    children = [Child(quiet.name, quiet.argv, {}, ready_port=port)]
    with capture_logs() as logs:
        status = await asyncio.wait_for(
            supervise(children, [], out=Printed(), ready_timeout=1.0), 30)
    assert status == 1
    assert [(e["event"], e["name"]) for e in logs if e["event"] != "child_started"] == [
        ("child_failed", "nats"), ("child_stopped", "nats")]
    assert logs[1]["error"] == f"not listening on 127.0.0.1 port {port} within 1 s"


SUPERVISOR = """
import asyncio, json, sys
from server import log
from server.cluster import Child, supervise
log.configure()
children = [Child(**c) for c in json.loads(sys.argv[1])]
sys.exit(asyncio.run(supervise(children, ["up"])))
"""


@contextlib.asynccontextmanager
async def supervisor_process(children: list[Child]
                             ) -> AsyncIterator[asyncio.subprocess.Process]:
    """supervise() in a process of its own (to be signalled), up for the block."""
    spec = json.dumps([{"name": c.name, "argv": c.argv, "env": c.env,
                        "ready_port": c.ready_port} for c in children])
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", SUPERVISOR, spec, cwd=ROOT, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 30)
        assert line == b"up\n", line
        yield process
    finally:
        if process.returncode is None:
            process.kill()
        await process.communicate()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_a_signal_stops_everyone_in_order(tmp_path: Path, sig: signal.Signals) -> None:
    record = tmp_path / "record"
    children = [standin("world", record), standin("gateway 1", record, port=free_port())]
    async with supervisor_process(children) as process:
        started = await up(record, "world", "gateway 1")
        process.send_signal(sig)
        _, err = await asyncio.wait_for(process.communicate(), 30)
        assert process.returncode == 0, err.decode()
    assert [line for line in records(record) if line.endswith(" term")] == [
        "gateway 1 term", "world term"]
    assert not any(alive(pid) for pid in started.values())
    assert f"signal={sig.name}" in err.decode()


async def test_children_go_when_the_supervisor_is_killed(tmp_path: Path) -> None:
    if sys.platform != "linux":
        pytest.skip("setpriv --pdeathsig is Linux's")
    record, port = tmp_path / "record", free_port()
    children = [standin("gateway 1", record, port=port)]
    async with supervisor_process(children) as process:
        gateway = (await up(record, "gateway 1"))["gateway 1"]
        process.kill()
        await process.wait()

        async def gone() -> bool | None:
            return True if "gateway 1 term" in records(record) else None

        await eventually(gone, "the gateway got SIGTERM")
    await eventually(lambda: _gone(gateway), "the gateway exited")


async def _gone(pid: int) -> bool | None:
    return True if not alive(pid) else None


def test_plan_with_a_base_port(tmp_path: Path) -> None:
    children, lines = plan(2, 7000, "0.0.0.0", tmp_path / "data", python="py",
                           extra_env={"AEGENT_SEED": "7"}, nats_server=sys.executable)
    data = tmp_path / "data"
    assert [c.name for c in children] == ["nats", "world", "gateway 1", "gateway 2"]
    assert lines == ["gateway 1: ws://127.0.0.1:7000/ws telnet 7001",
                     "gateway 2: ws://127.0.0.1:7002/ws telnet 7003"]
    nats, world, first, second = children
    assert nats.argv == [sys.executable, "-a", "127.0.0.1", "-p", "7004", "-js",
                         "-sd", str(data / "nats"), "-l", str(data / "nats" / "nats-server.log"),
                         "-n", "aegent-cluster"]
    assert nats.ready_port == 7004 and (data / "nats").is_dir()
    url = "nats://127.0.0.1:7004"
    assert world.argv == ["py", "-m", "server.cli", "world", "--nats", url]
    assert world.ready_port is None and world.grace == WORLD_GRACE
    assert world.env == {"AEGENT_SEED": "7", "AEGENT_NATS_URL": url,
                         "AEGENT_DATA_DIR": str(data), "AEGENT_PARENT_PID": str(os.getpid())}
    assert second.argv == ["py", "-m", "server.cli", "gateway", "--nats", url, "--port", "7002",
                           "--telnet-port", "7003", "--gateway-id", "g2"]
    assert first.ready_port == 7000 and second.ready_port == 7002
    assert first.ready_host == "127.0.0.1"
    assert second.env == {**world.env, "AEGENT_HOST": "0.0.0.0"}


def test_plan_on_free_ports(tmp_path: Path) -> None:
    children, lines = plan(3, None, "::1", tmp_path, nats_server=sys.executable)
    gateways = children[2:]
    ports = [int(g.argv[g.argv.index(flag) + 1]) for g in gateways
             for flag in ("--port", "--telnet-port")]
    nats_port = children[0].ready_port
    assert nats_port is not None
    assert len(set([*ports, nats_port])) == 7 and all(p > 0 for p in ports)
    assert lines == [f"gateway {n}: ws://[::1]:{ports[2 * n - 2]}/ws telnet {ports[2 * n - 1]}"
                     for n in (1, 2, 3)]
    assert all(g.env["AEGENT_NATS_URL"] == f"nats://127.0.0.1:{nats_port}" for g in gateways)
    assert [g.argv[-1] for g in gateways] == ["g1", "g2", "g3"]


@pytest.mark.parametrize(("gateways", "base", "says"), [
    (0, None, "--gateways must be 1 to 64, not 0"),
    (65, None, "--gateways must be 1 to 64, not 65"),
    (3, 65530, "--port 65530: the cluster needs 7 ports from it, so it must be 1 to 65529"),
    (1, 0, "--port 0"),
])
def test_plan_refuses_bad_arguments(tmp_path: Path, gateways: int, base: int | None,
                                    says: str) -> None:
    with pytest.raises(ClusterError, match=f"^{says}"):
        plan(gateways, base, "127.0.0.1", tmp_path, nats_server=sys.executable)


def test_plan_says_how_to_install_a_missing_nats_server(tmp_path: Path) -> None:
    with pytest.raises(ClusterError, match="make nats` or `apt install nats-server`"):
        plan(1, None, "127.0.0.1", tmp_path, nats_server=str(tmp_path / "nats-server"))


async def test_the_real_nats_server_from_plan(tmp_path: Path) -> None:
    require("nats-server")
    data = tmp_path / "data"
    children, _ = plan(1, None, "127.0.0.1", data)
    nats = children[0]
    assert nats.ready_port is not None
    async with running([nats], []):
        reader, writer = await asyncio.open_connection("127.0.0.1", nats.ready_port)
        try:
            greeting = await asyncio.wait_for(reader.readline(), 10)
        finally:
            writer.close()
            await writer.wait_closed()
        assert greeting.startswith(b"INFO ")
        assert json.loads(greeting[5:])["jetstream"] is True
        assert (data / "nats" / "jetstream").is_dir()
    assert (data / "nats" / "nats-server.log").is_file()
