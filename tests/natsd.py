"""A real, throwaway NATS server (with JetStream) for the bus tests.

`start_nats()` runs Debian's `nats-server -js` in a fresh folder under /tmp (its
JetStream store and its log inside), on 127.0.0.1 and a free port, and returns a
running `NatsServer`, or None when `nats-server` is not installed (`make nats` installs
it; the tests then skip, or fail under CI: tests/needs.py). `stop()` ends it (SIGTERM,
or SIGKILL with `kill=True`, as a crash) and keeps the folder, so that `start()` brings
the same server back on the same port with the same streams; `remove()` ends it and
deletes the folder.

The module is not called `nats.py`, as the issue first named it: tests/ is on
`sys.path` ahead of the installed packages (pyproject's `pythonpath`), so a
tests/nats.py would hide nats-py itself from every test.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from daemons import end, free_port, log_tail, scratch_folder, start_on_free_port, wait_ready
from needs import require

HOW = ("nats-server was found neither on PATH nor in /usr/sbin or /usr/bin: run `make nats` "
       "(Debian's nats-server package)")


def find_nats_server() -> Path | None:
    """The `nats-server` program: PATH first, then where Debian puts it (/usr/sbin)."""
    found = shutil.which("nats-server")
    if found:
        return Path(found)
    for folder in ("/usr/sbin", "/usr/bin", "/usr/local/bin"):
        candidate = Path(folder, "nats-server")
        if candidate.is_file():
            return candidate
    return None


@dataclass
class NatsServer:
    """One nats-server process in its own folder."""

    binary: Path
    root: Path
    port: int
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        """Where clients connect."""
        return f"nats://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        """The server's log file."""
        return self.root / "server.log"

    def start(self, timeout: float = 10.0) -> None:
        """Start the server and wait until it accepts connections.

        Raises:
            RuntimeError: it exited, or did not listen within `timeout` seconds.
        """
        if self.process is not None and self.process.poll() is None:
            return
        store = self.root / "jetstream"
        store.mkdir(parents=True, exist_ok=True)
        argv = [str(self.binary), "-a", "127.0.0.1", "-p", str(self.port), "-js",
                "-sd", str(store), "-l", str(self.log), "-n", f"aegent-test-{self.port}"]
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.process = process
        try:
            wait_ready(process, self.port, "nats-server", timeout=timeout, log=self.log,
                       ready=lambda: "Server is ready" in log_tail(self.log))
        except RuntimeError:
            self.process = None
            raise

    def stop(self, kill: bool = False) -> None:
        """End the server (SIGTERM, or SIGKILL as a crash) and wait for it; the folder
        and its streams stay for `start()`."""
        process, self.process = self.process, None
        if process is not None:
            end(process, kill=kill)

    def remove(self) -> None:
        """Stop the server and delete its folder."""
        try:
            self.stop(kill=True)
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def start_nats() -> NatsServer | None:
    """A running nats-server with JetStream in a temp folder, or None if not installed.

    Raises:
        RuntimeError: it is installed but would not start.
    """
    binary = find_nats_server()
    if binary is None:
        return None
    server = NatsServer(binary=binary, root=scratch_folder("aegent-nats-"), port=free_port())
    try:
        start_on_free_port(server)
    except BaseException:
        server.remove()
        raise
    return server


@contextlib.contextmanager
def nats_or_skip() -> Iterator[NatsServer]:
    """A running server for the `with` block: skips (or fails under CI) if nats-server
    is not installed, and removes the server afterwards."""
    server = start_nats()
    if server is None:
        require("nats-server", available=False, how=HOW)
        raise AssertionError("unreachable")  # require skipped or failed
    try:
        yield server
    finally:
        server.remove()


@pytest.fixture(scope="module")
def nats_server() -> Iterator[NatsServer]:
    """A nats-server with JetStream shared by one test module (use a bus prefix of your
    own per test); skips, or fails under CI, when nats-server is not installed."""
    with nats_or_skip() as server:
        yield server
