"""tests/daemons.py, the throwaway servers' shared part: the errors it gives when a
server will not start, and that it leaves no process behind."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from daemons import end, free_port, listening, start_on_free_port, wait_ready

LISTEN = """
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen()
print("listening", flush=True)
sys.stdin.read()
"""


def python(code: str, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", code, *args], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_a_server_that_exits_is_an_error_with_its_stderr_and_its_log(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    log.write_text("line one\nthe reason\n")
    process = python("import sys; sys.stderr.write('bad flag'); sys.exit(3)")
    with pytest.raises(RuntimeError, match=r"(?s)demo exited \(3\): bad flag\nlog .*"
                                           r"server\.log:\nline one\nthe reason"):
        wait_ready(process, free_port(), "demo", log=log)
    assert process.returncode == 3 and process.stderr is not None and process.stderr.closed


def test_a_server_that_never_listens_is_killed_and_an_error() -> None:
    process = python("import sys; sys.stderr.write('stuck'); sys.stderr.flush(); "
                     "sys.stdin.read()")
    with pytest.raises(RuntimeError, match=r"demo was not ready on port \d+ within 0.3 s: stuck"):
        wait_ready(process, free_port(), "demo", timeout=0.3)
    assert process.returncode is not None


def test_ready_waits_for_the_port_and_the_check_and_end_stops_it() -> None:
    port = free_port()
    process = python(LISTEN, str(port))
    assert process.stdout is not None
    checks: list[bool] = []

    def ready() -> bool:  # the port is open before this says yes (as a log line would)
        checks.append(listening(port))
        return len(checks) >= 3

    wait_ready(process, port, "demo", ready=ready)
    assert checks == [True, True, True]
    out, err = end(process)
    assert process.returncode == -15 and out == b"listening\n" and err == b""
    assert not listening(port)
    end(process)  # ending it again is harmless
    assert process.returncode == -15


@dataclass
class Flaky:
    """A server whose first starts fail, as when its port is taken meanwhile."""

    failures: int
    port: int = 1
    ports: list[int] = field(default_factory=list)

    def start(self) -> None:
        self.ports.append(self.port)
        if len(self.ports) <= self.failures:
            raise RuntimeError(f"port {self.port} taken")


def test_start_on_free_port_tries_other_ports_then_gives_up() -> None:
    server = Flaky(failures=2)
    start_on_free_port(server)
    assert len(server.ports) == 3 and server.ports[0] == 1 and 1 not in server.ports[1:]
    with pytest.raises(RuntimeError, match="taken"):
        start_on_free_port(Flaky(failures=3))
