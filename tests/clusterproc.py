"""The real `aegent world` and `aegent gateway` programs in processes of their own, on a
real nats-server (tests/natsd.py), for the end-to-end tests of cluster mode.

`Cluster(nats_url, root)` starts them: `start_world()` returns once the world host says
it is up, `start_gateway(name)` once the gateway listens; `kill_world()` is a crash
(SIGKILL) and `stop()` ends everything. Each process writes its output to a file under
`root` (never an unread pipe, which would block it once full); a `RuntimeError` that
says a process did not start carries the tail of that file.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from daemons import end, free_port, listening, wait_ready
from serverproc import AEGENT, FAST


@dataclass
class Gateway:
    """One running `aegent gateway`."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    telnet_port: int

    @property
    def url(self) -> str:
        """Its WebSocket endpoint."""
        return f"ws://127.0.0.1:{self.port}/ws"


@dataclass
class Cluster:
    """A world host and gateways on one nats-server."""

    nats_url: str
    root: Path
    env: dict[str, str] = field(default_factory=dict)
    world: subprocess.Popen[bytes] | None = None
    gateways: dict[str, Gateway] = field(default_factory=dict)
    starts: int = 0

    def _env(self) -> dict[str, str]:
        return {**os.environ, **FAST, "AEGENT_PARENT_PID": str(os.getpid()),
                "AEGENT_NATS_URL": self.nats_url, **self.env}

    def log(self, name: str) -> Path:
        """The file a process of this cluster writes to."""
        return self.root / f"{name}.log"

    def start_world(self, timeout: float = 30.0, data: str = "data") -> subprocess.Popen[bytes]:
        """Start the world host (its data folder `root/<data>`); return once it is up.

        Raises:
            RuntimeError: it exited or was not up within `timeout` seconds.
        """
        self.starts += 1
        log = self.log(f"world-{self.starts}")
        with log.open("wb") as out:
            process = subprocess.Popen([*AEGENT, "world", "--data-dir", str(self.root / data)],
                                       env=self._env(), stdout=out, stderr=subprocess.STDOUT)
        self.world = process
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if b"world host up" in log.read_bytes():
                return process
            if process.poll() is not None:
                break
            time.sleep(0.02)
        end(process, kill=True)
        raise RuntimeError(f"aegent world did not start: {log.read_text()[-3000:]}")

    def start_gateway(self, name: str, timeout: float = 20.0, **env: str) -> Gateway:
        """Start a gateway called `name` on free ports; return once it listens."""
        port, telnet_port = free_port(), free_port()
        log = self.log(f"gateway-{name}")
        with log.open("ab") as out:
            process = subprocess.Popen(
                [*AEGENT, "gateway", "--port", str(port), "--telnet-port", str(telnet_port),
                 "--gateway-id", name], env={**self._env(), **env}, stdout=out,
                stderr=subprocess.STDOUT)
        # Both ports: the telnet one opens just after the WebSocket one.
        wait_ready(process, port, f"aegent gateway {name}", timeout=timeout, log=log,
                   ready=lambda: listening(telnet_port))
        gateway = self.gateways[name] = Gateway(name, process, port, telnet_port)
        return gateway

    def kill_world(self) -> None:
        """Crash the world host (SIGKILL)."""
        if self.world is not None:
            end(self.world, kill=True)

    def stop(self) -> None:
        """End every process: the gateways, then the world host (SIGTERM)."""
        for gateway in self.gateways.values():
            end(gateway.process)
        if self.world is not None:
            end(self.world, timeout=30)
