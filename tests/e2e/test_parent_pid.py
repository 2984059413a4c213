"""A server started by a program stops once that program is gone, even SIGKILLed
(`parent_pid`, set by agents/runner.py's `start_server` for the research environments
and `agents eval`): no orphaned worlds after a killed notebook."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]

STARTER = """
import sys
from pathlib import Path
from agents.runner import start_server
server = start_server(1, Path(sys.argv[1]), env={"AEGENT_HOUSEKEEPING_INTERVAL": "0.2",
                                                  "AEGENT_JOURNAL": "false"})
print(server.proc.pid, flush=True)
sys.stdin.read()  # until the test kills this process
"""


def wait_gone(proc: psutil.Process, timeout: float) -> bool:
    """Whether `proc` exited (or became a zombie nobody reaps) within `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if proc.status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.1)
    return False


def test_the_server_stops_when_its_starter_is_killed(tmp_path: Path) -> None:
    starter = subprocess.Popen([sys.executable, "-c", STARTER, str(tmp_path / "data")],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
    server: psutil.Process | None = None
    try:
        assert starter.stdout is not None
        line = starter.stdout.readline()
        assert line.strip().isdigit(), line
        server = psutil.Process(int(line))
        assert server.is_running() and server.ppid() == starter.pid
        starter.send_signal(signal.SIGKILL)
        starter.wait(10)
        assert wait_gone(server, 60), "the server outlived the process that started it"
        log = (tmp_path / "data" / "server.log").read_text()
        assert '"parent_gone"' in log and '"shutdown_done"' in log  # a clean stop, saved
    finally:
        if starter.poll() is None:
            starter.kill()
            starter.wait()
        for pipe in (starter.stdin, starter.stdout):
            if pipe is not None:
                pipe.close()
        if server is not None and server.is_running():
            server.kill()
