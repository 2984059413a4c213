"""`EmbeddedServer`: the real game server, in a background thread of this process.

For tests, notebooks and scripts that want a world of their own, in their own process,
without running `aegent serve` (the research environments, agents/env.py, which may not
import server/, run `aegent serve` as a child process instead): it runs
`server.app.Server` on an event loop of its own in a daemon thread, listening on a free
loopback port, with a temporary data dir (removed when it stops), the given seed, cheap
password hashing, no per-client rate limit to speak of, and by default lockstep
(server/host/lockstep.py: the world ticks only when a client sends `advance`). Clients talk
to it over the real protocol at `url`, as every agent does.

    with EmbeddedServer(seed=7) as srv:
        ...  # connect to srv.url

`stop()` shuts it down as `aegent serve` does on Ctrl-C (everyone saved first). With
`quiet` (the default), if nothing has set up structlog yet, the process's logging is
set to warnings and errors only, so that a world per episode does not fill the screen.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import threading
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import structlog

from server import log
from server.app import Server
from server.config import Settings

T = TypeVar("T")

FAST = {
    "host": "127.0.0.1",
    "port": 0,
    "telnet_port": 0,
    "argon2_time_cost": 1,  # the characters' passwords guard nothing here
    "argon2_memory_kib": 1024,
    "rate": 1e6,  # clients wait for each answer; no flood to hold back
    "burst": 10_000,
}
"""Settings of an embedded server, over the defaults (the caller's win over these)."""


class EmbeddedServer:
    """A game server in a background thread (see the module docstring).

    Args:
        seed: the world's seed (None: random).
        lockstep: the world ticks only on `advance` (False: on the clock, 10 Hz).
        data_dir: where its data go (None: a temporary folder, removed by `stop`).
        quiet: set logging to warnings, unless structlog was set up already.
        **settings: any other setting of server/config.py (`tick_hz=20`...).
    """

    def __init__(self, seed: int | None = None, *, lockstep: bool = True,
                 data_dir: Path | None = None, quiet: bool = True, **settings: Any) -> None:
        self._tmp = None if data_dir is not None else Path(
            tempfile.mkdtemp(prefix="aegent-embedded-"))
        if self._tmp is not None:  # removed by stop(), else when dropped or at exit
            weakref.finalize(self, shutil.rmtree, self._tmp, ignore_errors=True)
        self.data_dir = data_dir if data_dir is not None else self._tmp
        assert self.data_dir is not None
        values: dict[str, Any] = {**FAST, "seed": seed, "lockstep": lockstep,
                                  "data_dir": self.data_dir,
                                  "database_url": "sqlite:///"
                                  f"{(self.data_dir / 'aegent.sqlite3').resolve()}"}
        if lockstep:
            values["fanout_delay"] = 0.0
        values.update(settings)
        self.settings = Settings(**values)
        self.quiet = quiet
        self.server: Server | None = None
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        """The WebSocket URL (`ws://127.0.0.1:PORT/ws`), once started."""
        if not self.port:
            raise RuntimeError("the embedded server is not started")
        return f"ws://127.0.0.1:{self.port}/ws"

    def start(self, timeout: float = 60.0) -> str:
        """Start the server and wait until it listens; returns `url`.

        Raises:
            RuntimeError: it is running already, or did not start within `timeout`.
            Exception: whatever the server raised while starting.
        """
        if self._thread is not None:
            raise RuntimeError("the embedded server is running already")
        if self.quiet and not structlog.is_configured():
            log.configure(level="warning")
        self._thread = threading.Thread(target=self._run, name="aegent-embedded", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError(f"the embedded server did not start within {timeout} s")
        if self._error is not None:
            self._thread.join(timeout)
            self._thread = None
            self._cleanup()
            raise self._error
        return self.url

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        try:
            self._loop = asyncio.get_running_loop()
            self.server = Server(self.settings)
            await self.server.start()
            self.port = self.server.port
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        await self.server.stopped.wait()

    def call(self, fn: Callable[[Server], T], timeout: float = 60.0) -> T:
        """Run `fn(server)` on the server's own thread, between two of its callbacks, and
        return what it returns (tests and notebooks looking into the world).

        Raises:
            RuntimeError: the server is not running.
        """
        loop, server = self._loop, self.server
        if self._thread is None or loop is None or server is None:
            raise RuntimeError("the embedded server is not running")

        async def run() -> T:
            return fn(server)

        return asyncio.run_coroutine_threadsafe(run(), loop).result(timeout)

    def stop(self, timeout: float = 60.0) -> None:
        """Shut the server down (saving everyone), end its thread, remove a temporary
        data dir. Stopping a stopped server does nothing."""
        thread, loop, server = self._thread, self._loop, self.server
        if thread is None:
            self._cleanup()
            return
        if loop is not None and server is not None and thread.is_alive():
            done = asyncio.run_coroutine_threadsafe(server.shutdown("embedded server stopped"),
                                                    loop)
            try:
                done.result(timeout)
            except Exception:
                self._thread = None  # its (daemon) thread may never end: not waited for
                self._cleanup()
                raise
        thread.join(timeout)
        self._thread = None
        self.port = 0
        self._cleanup()

    def _cleanup(self) -> None:
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> EmbeddedServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
