"""What the tests' throwaway servers share: a free port, a scratch folder, a process
started with its log, waited for until it is ready, and ended.

tests/natsd.py (nats-server), tests/pg.py (PostgreSQL, through `pg_ctl`) and
tests/serverproc.py (`aegent serve`) are built on it. `wait_ready` polls until the
process listens on its port (and, if given, `ready()` holds), raising `RuntimeError`
with the process's stderr and the tail of its log when it exits or takes too long;
`end` stops a process (SIGTERM, or SIGKILL as a crash), kills it if it will not go,
and reaps it and its pipes; `start_on_free_port` starts a server again on another
free port when the one it was given was taken meanwhile.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

TAIL_CHARS = 2000
"""How much of the end of a log an error shows."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def scratch_folder(prefix: str) -> Path:
    """A new, empty folder under /tmp (not the test's tmp_path: a session's servers
    outlive any one test); its owner removes it."""
    return Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))


def log_tail(log: Path | None) -> str:
    """The end of `log`, on a line of its own after a line naming it; "" when there is
    no log or it cannot be read."""
    if log is None:
        return ""
    try:
        return f"\nlog {log}:\n" + log.read_text(errors="replace")[-TAIL_CHARS:]
    except OSError:
        return ""


def listening(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:`port` now."""
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port),
                                                                 timeout=0.2):
        return True
    return False


def wait_ready(process: subprocess.Popen[bytes], port: int, what: str, *,
               timeout: float = 10.0, log: Path | None = None,
               ready: Callable[[], bool] | None = None) -> None:
    """Wait until `process` listens on `port` and `ready()` (if given) holds.

    Raises:
        RuntimeError: it exited (its stderr and the tail of `log` say why), or it was not
            ready within `timeout` seconds (it is killed then).
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            _, err = process.communicate()
            raise RuntimeError(f"{what} exited ({process.returncode}): "
                               f"{_text(err)}{log_tail(log)}")
        if listening(port) and (ready is None or ready()):
            return
        time.sleep(0.02)
    _, err = end(process, kill=True)
    raise RuntimeError(f"{what} was not ready on port {port} within {timeout} s: "
                       f"{_text(err)}{log_tail(log)}")


def end(process: subprocess.Popen[bytes], *, kill: bool = False, timeout: float = 10.0
        ) -> tuple[bytes, bytes]:
    """Stop `process` (SIGTERM, or SIGKILL as a crash) and wait for it, killing it if it
    is still there after `timeout` seconds; what it wrote to its pipes (b"" for those it
    has none of), which are closed."""
    if process.poll() is None:
        if kill:
            process.kill()
        else:
            process.terminate()
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate(timeout=timeout)
    return out or b"", err or b""


class Restartable(Protocol):
    """A server that listens on `port` once `start()` returns."""

    port: int

    def start(self) -> None:
        """Start it on `port`; RuntimeError if it would not."""


def start_on_free_port(server: Restartable, tries: int = 3) -> None:
    """`server.start()`, on another free port each time it fails (most likely its port
    was taken between `free_port()` and the start), `tries` times at most.

    Raises:
        RuntimeError: the last try's.
    """
    for attempt in range(tries):
        try:
            server.start()
            return
        except RuntimeError:
            if attempt == tries - 1:
                raise
            server.port = free_port()


def _text(data: bytes | None) -> str:
    return data.decode(errors="replace") if data else ""
