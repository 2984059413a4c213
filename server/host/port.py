"""What the host's services need of the process that composes them, in small pieces.

`Server` (server/app.py) builds the services (`Admin`, `Identity`, `Metering`, `A2A`,
`HostRelay`) and hands each itself. Naming `Server` back, even only for type checking,
would be an import cycle; so each service declares a `Protocol` of exactly what it uses
of the server, made of the pieces here that several of them share (the database, output
marking, the clock, background tasks) and of its own members. `Server` satisfies them
all; mypy checks it where it builds each service.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from server.gateway.session import SessionHandle
    from server.host.storage import SqlRepository

T = TypeVar("T")


class Database(Protocol):
    """The database: the repository (whose engine the services' stores share) and the
    one thread every storage call runs on, in order."""

    @property
    def repo(self) -> SqlRepository: ...
    async def in_db(self, fn: Callable[..., T], *args: Any) -> T: ...


class Marks(Protocol):
    """Output: a session given something to send is marked, and the writer sends it."""

    def mark(self, session: SessionHandle, urgent: bool = True) -> None: ...


class Clock(Protocol):
    """The server's monotonic clock."""

    def now(self) -> float: ...


class Spawns(Protocol):
    """Background tasks, kept and their failures logged."""

    def spawn(self, coro: Awaitable[Any]) -> None: ...
