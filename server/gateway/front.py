"""What a connection needs of the process around it: the `Front` protocol.

`ws.Connection` and `telnet.TelnetConnection` are shells around a `Session`; they open
it, hand it what arrives and tell of the connection's end through a `Front`. Two
processes are one: `server.app.Server` (`aegent serve`: the world in the same process)
and `server.gateway.relay.Gateway` (`aegent gateway`: the world host over the bus).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from websockets.datastructures import Headers
from websockets.http11 import Response

from server.config import Settings
from server.gateway.gmcp import Feed, Supports
from server.gateway.session import Session
from server.metrics import Metrics
from server.netguard import AddressCounter, LogBudget, Network
from server.wire import Subprotocol
from world.world import World


class A2AEndpoint(Protocol):
    """The Agent2Agent HTTP paths (server/host/a2a.py)."""

    async def get(self, path: str, headers: Headers) -> Response:
        """Answer a GET or HEAD of an A2A path."""

    async def post(self, path: str, headers: Headers, body: bytes, address: str
                   ) -> Response:
        """Answer a POST of an A2A path."""


class Front(Protocol):
    """The process a connection lives in."""

    settings: Settings
    log: Any
    metrics: Metrics
    connections: set[Any]
    per_address: AddressCounter
    refusals_logged: LogBudget
    trusted_proxies: tuple[Network, ...]
    port: int
    telnet_port: int
    started_at: float

    @property
    def a2a(self) -> A2AEndpoint:
        """Who answers the A2A paths."""

    @property
    def world(self) -> World | None:
        """The world, where it is in this process (GMCP's lists and MSSP read it)."""

    @property
    def game_name(self) -> str:
        """The game's name (telnet's MSSP and NEW-ENVIRON)."""

    @property
    def by_character(self) -> Mapping[int, Any]:
        """The sessions playing, by character id (MSSP counts them)."""

    def now(self) -> float:
        """Monotonic seconds."""

    def open_session(self, conn: Any, kind: Subprotocol) -> Session:
        """A connection is ready: make its session and greet it."""

    def receive(self, session: Session, payload: str | bytes) -> None:
        """A whole message arrived for `session`."""

    def refuse_input(self, session: Session, code: str, message: str) -> None:
        """Input the shell could not turn into a message."""

    def session_lost(self, session: Session) -> None:
        """The connection under `session` is gone."""

    def health_json(self) -> str:
        """The /health document."""

    def gmcp_feed(self, supports: Supports) -> Feed:
        """The GMCP feed of a new session whose client declares `supports`."""

    def gmcp_heard(self, session: Session, package: str, data: Any) -> None:
        """A GMCP message from `session`'s client was taken in (a `Core.Supports.*`
        applied to its `Supports`, or a request answered from what is here)."""


# ---- what both fronts do the same way -----------------------------------------------


def opened(front: Front, sessions: dict[Any, Any], session: Session, conn: Any,
           name: str, motd: str, gateways: list[str]) -> None:
    """A connection's new `session`: kept with its link `conn`, counted, logged and
    greeted (the game's `name` and `motd`, the `gateways` a client may reconnect to)."""
    sessions[session] = conn
    front.metrics.sessions.labels(kind=str(session.subprotocol)).inc()
    front.log.info("session_opened", session=session.id, subprotocol=str(session.subprotocol),
                   address=conn.address)
    session.hello(name, motd, gateways)


def refused(front: Front, session: Session, code: str, message: str) -> None:
    """Input a shell could not turn into a message (telnet: not UTF-8, a line too long):
    the player is told, the refusal counted; the caller marks the session."""
    session.last_input = front.now()
    session.say([("error", message)])
    front.metrics.errors.labels(code=code).inc()
