"""A2A: an agent whose owner consents can be reached over Agent2Agent, on the HTTP port.

What the listener (server/gateway/ws.py) hands over, and what comes back:

* `GET /a2a/<name>/.well-known/agent-card.json`: the agent's card (server/host/a2a_protocol.py)
  while its owner lets it be reached (`aegent agent a2a NAME on`, server/host/a2a_storage.py)
  and it has a live key; else 404, the same for an unknown name.
* `POST /a2a/<name>`: a JSON-RPC request (`SendMessage`, or 0.3's `message/send`). In
  order: 404 as for the card; 401 without a bearer key that is a live API key of one of
  the owner's agents (wrong keys count against the address like failed API-key logins:
  `throttled` is a 429); 403 when that key's scopes do not grant `communication`; 429
  past `a2a_per_minute` requests of that key. Then, in a JSON-RPC answer: the message
  reaches the running agent as a `told` event from its owner's name (only the agent
  gets it: nothing happens in the world), and its next tell to its owner, within
  `a2a_reply_timeout`, is the reply message. An agent not in the game (or link-dead)
  is `AGENT_OFFLINE`; one already answering another A2A message is `AGENT_BUSY`; no
  answer in time is `NO_REPLY`.

`Server.run` calls `answer` with every command of an agent session: while an A2A
message waits for that agent, a tell to its owner (typed or called, behind aliases)
is taken as the reply. If the owner is playing, the tell goes on as usual, so they
read it too; if not, it is answered here (the agent sees "You tell ..." and an ok
result) instead of refused.

Each message sent to an agent is counted in usage accounting as a call of the
pseudo-model `a2a` (no tokens, no cost): `aegent usage` and the in-game `usage` show
them with the agent's model calls.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any, Protocol

from websockets.datastructures import Headers
from websockets.http11 import Response

from server import log, wire
from server.config import Settings
from server.gateway.session import SessionHandle, State
from server.gateway.ws import http_response, plain
from server.host import accounts
from server.host.a2a_protocol import (
    AGENT_BUSY,
    AGENT_OFFLINE,
    CARD_PATH,
    INVALID_PARAMS,
    NO_REPLY,
    PREFIX,
    RpcCall,
    RpcError,
    agent_card,
    base_url,
    check_version,
    message_text,
    parse_call,
    refuse_method,
    reply_result,
    request_id,
    rpc_error,
    rpc_result,
)
from server.host.a2a_storage import A2AStore, Reachable
from server.host.identity import key_id_of, verify_key
from server.host.identity_storage import AgentRecord
from server.host.port import Clock, Database, Marks
from server.netguard import LogBudget
from world.commands.registry import Call, bind_call, expand_alias, parse_line
from world.commands.social import speech
from world.entities import Character
from world.errors import Refused
from world.events import Told

if TYPE_CHECKING:
    from server.host.identity_storage import IdentityStore
    from server.metrics import Metrics
    from world.game import World
    from world.prototypes import Content

USAGE_MODEL = "a2a"
"""The pseudo-model A2A messages are counted under in usage accounting."""

SCOPE = "communication"
"""The command category a key must grant to speak to an agent over A2A."""

JSON = "application/json"
_HOST = re.compile(r"[A-Za-z0-9.\-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")


def server_version() -> str:
    """The installed aegent-quest's version (0.0.0 from a bare checkout)."""
    try:
        return version("aegent-quest")
    except PackageNotFoundError:
        return "0.0.0"


def configured_base(settings: Settings, port: int | None = None) -> str:
    """The server's address for links given out without a request to go by (the command
    line, the game): `public_url`, else `http://<host>:<port>`."""
    return base_url(settings.public_url, settings.host, settings.port if port is None else port)


def request_base(settings: Settings, headers: Headers, port: int) -> str:
    """The server's address as this request reached it: `public_url`, else its `Host`
    (when it is one plain host[:port]), else `configured_base`."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    hosts = headers.get_all("Host")
    if len(hosts) == 1 and len(hosts[0]) <= 255 and _HOST.fullmatch(hosts[0].strip()):
        return f"http://{hosts[0].strip()}"
    return configured_base(settings, port)


def route(path: str) -> tuple[str, str] | None:
    """`(name, "card" | "rpc")` for an A2A path, or None for a path that is not one."""
    if not path.startswith(PREFIX):
        return None
    rest = path[len(PREFIX):]
    name, sep, tail = rest.partition("/")
    if not name or len(name) > accounts.NAME_MAX or not name.isascii() or not name.isalpha():
        return None
    if not sep or tail == "":
        return name, "rpc"
    if "/" + tail == CARD_PATH:
        return name, "card"
    return None


def bearer(headers: Headers) -> str | None:
    """The token of the one `Authorization: Bearer <token>` header, or None."""
    values = headers.get_all("Authorization")
    if len(values) != 1:
        return None
    scheme, _, token = values[0].strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def json_response(body: Any, status: int = 200) -> Response:
    """A JSON response (JSON-RPC answers are 200, errors included)."""
    return http_response(status, "OK" if status == 200 else "Error",
                         json.dumps(body, separators=(",", ":")).encode("utf-8"), JSON)


def unauthorized(why: str) -> Response:
    """401 with the bearer challenge."""
    return plain(401, why + "\n", {"WWW-Authenticate": 'Bearer realm="a2a"'})


@dataclass(slots=True)
class Exchange:
    """An A2A message waiting for its agent's answer (the agent's next tell to `owner`)."""

    agent: str  # lower-case
    owner: str  # lower-case
    owner_display: str
    reply: asyncio.Future[str] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future())


class Keys(Protocol):
    """What A2A needs of the server's `Identity` (server/host/identity.py): its keys."""

    @property
    def store(self) -> IdentityStore: ...


class Counter(Protocol):
    """What A2A needs of the server's `Metering` (server/host/usage_service.py)."""

    def count(self, agent: str, owner: str, model: str) -> None: ...


class Host(Database, Marks, Clock, Protocol):
    """What `A2A` needs of the server (server/app.py `Server`)."""

    @property
    def settings(self) -> Settings: ...
    @property
    def port(self) -> int: ...
    @property
    def world(self) -> World: ...
    @property
    def content(self) -> Content: ...
    @property
    def throttle(self) -> accounts.Throttle: ...
    @property
    def metrics(self) -> Metrics: ...
    @property
    def identity(self) -> Keys: ...
    @property
    def usage(self) -> Counter: ...
    @property
    def by_character(self) -> Mapping[int, SessionHandle]: ...


class A2A:
    """The server's A2A side (see the module docstring).

    Args:
        server: the server (settings, database thread, world, sessions, throttle,
            usage accounting, metrics).
    """

    def __init__(self, server: Host) -> None:
        self.server = server
        self.settings = server.settings
        self.store = A2AStore(server.repo.engine)
        self.quota = accounts.Quota(self.settings.a2a_per_minute, 60.0)
        self.pending: dict[str, Exchange] = {}
        self.log = log.get()
        self.logged = LogBudget(self.settings.log_lines_per_minute, server.now)

    # ---- HTTP ---------------------------------------------------------------------------

    async def get(self, path: str, headers: Headers) -> Response:
        """Answer a GET (or HEAD) of an A2A path: the card, else 404 or 405."""
        where = route(path)
        if where is None:
            return plain(404, "Not found.\n")
        name, kind = where
        if kind == "rpc":
            return plain(405, "Send A2A requests with POST.\n", {"Allow": "POST"})
        reach = await self._reachable(name)
        if reach is None:
            return self._not_found(name)
        agent = reach.agent
        base = request_base(self.settings, headers, self.server.port)
        card = agent_card(agent.display_name, reach.owner_display or agent.owner,
                          agent.scopes, self.server.world.registry, base,
                          self.server.content.name, server_version())
        return json_response(card)

    async def post(self, path: str, headers: Headers, body: bytes, address: str) -> Response:
        """Answer a POST of an A2A path (see the module docstring for the order of checks)."""
        where = route(path)
        if where is None or where[1] != "rpc":
            return plain(404, "Not found.\n")
        reach = await self._reachable(where[0])
        if reach is None:
            return self._not_found(where[0])
        key_id = await self._authorize(reach, headers, address)
        if isinstance(key_id, Response):
            return key_id  # refused
        try:
            call = parse_call(body)
        except RpcError as exc:
            self._count("bad_request")
            return json_response(rpc_error(request_id(body), exc))
        try:
            reply = await self._call(reach, call, headers, key_id)
        except RpcError as exc:
            return json_response(rpc_error(call.id, exc))
        return json_response(rpc_result(call.id, reply))

    def _not_found(self, name: str) -> Response:
        self._count("not_found")
        return plain(404, f"No agent {name[:20]} can be reached over A2A here.\n")

    async def _reachable(self, name: str) -> Reachable | None:
        """The agent, if its owner consented and it has a live key."""
        reach = await self.server.in_db(self.store.reachable, name)
        return reach if reach is not None and reach.agent.key_id is not None else None

    async def _authorize(self, reach: Reachable, headers: Headers, address: str
                         ) -> Response | str:
        """The key id of a bearer key that may speak to the agent, or the refusal."""
        server = self.server
        key = bearer(headers)
        if key is None:
            self._count("unauthorized")
            return unauthorized(f"An API key of {reach.owner_display}'s is needed: "
                                "Authorization: Bearer <key>.")
        attempt = server.throttle.begin(None, address)
        if isinstance(attempt, accounts.Denied):
            self._count("throttled")
            return plain(429, attempt.message + "\n")
        try:
            key_id = key_id_of(key)
            found = await server.in_db(server.identity.store.find_key, key_id) if key_id else None
            valid = found is not None and verify_key(key, found[1]) and found[2] is None
            server.throttle.finish(attempt, valid)
        finally:
            server.throttle.cancel(attempt)  # only if it ended before the check
        if not valid or found is None or key_id is None:
            self._count("unauthorized")
            self._log("a2a_refused", reason="bad key", agent=reach.agent.name, address=address)
            return unauthorized("Unknown or revoked API key.")
        holder: AgentRecord = found[0]
        if holder.owner != reach.agent.owner:
            self._count("unauthorized")
            self._log("a2a_refused", reason="not the owner's key", agent=reach.agent.name,
                      key_id=key_id, address=address)
            return unauthorized(f"This API key is not one of {reach.owner_display}'s.")
        if "*" not in holder.scopes and SCOPE not in holder.scopes:
            self._count("forbidden")
            return plain(403, f"This API key's scopes do not grant '{SCOPE}'.\n")
        wait = self.quota.reserve(key_id, server.now())
        if wait > 0:
            self._count("rate_limited")
            seconds = max(1, int(wait + 0.999))
            return plain(429, f"Too many A2A requests with this key; try again in {seconds} "
                              "seconds.\n", {"Retry-After": str(seconds)})
        self.quota.commit(key_id, server.now())
        return key_id

    # ---- JSON-RPC -------------------------------------------------------------------------

    async def _call(self, reach: Reachable, call: RpcCall, headers: Headers, key_id: str
                    ) -> dict[str, Any]:
        """Carry out an authorized request; its `result`.

        Raises:
            RpcError: what to answer instead.
        """
        check_version(headers.get("A2A-Version"))
        refuse_method(call)
        text, context = message_text(call)
        try:
            words, cut = speech(text)
        except Refused:
            raise RpcError(INVALID_PARAMS, "The message has no text to tell.",
                           "INVALID_PARAMS") from None
        if cut:
            raise RpcError(INVALID_PARAMS, f"The message is over {len(words)} characters, "
                           "the longest tell.", "INVALID_PARAMS")
        reply = await self.send(reach, words, key_id)
        agent = reach.agent
        return reply_result(reply, context, agent.display_name,
                            reach.owner_display or agent.owner, call.legacy)

    async def send(self, reach: Reachable, text: str, key_id: str) -> str:
        """Tell the running agent `text` from its owner; its answer.

        Raises:
            RpcError: `AGENT_OFFLINE`, `AGENT_BUSY` or `NO_REPLY`.
        """
        server = self.server
        agent = reach.agent
        owner = reach.owner_display or agent.owner
        session, ch = self._online(agent.display_name)
        if session is None or ch is None:
            self._count("offline")
            raise RpcError(AGENT_OFFLINE, f"{agent.display_name} is not in the game now; "
                           "its runtime must be running and logged in to answer.",
                           "AGENT_OFFLINE", {"agent": agent.display_name})
        if agent.name in self.pending:
            self._count("busy")
            raise RpcError(AGENT_BUSY, f"{agent.display_name} is answering another A2A "
                           "message; try again when it has.", "AGENT_BUSY",
                           {"agent": agent.display_name})
        exchange = Exchange(agent.name, agent.owner, owner)
        self.pending[agent.name] = exchange
        timeout = self.settings.a2a_reply_timeout
        try:
            session.deliver(Told(owner, "player", ch.name, text))
            server.mark(session)
            server.usage.count(agent.name, agent.owner, USAGE_MODEL)
            self.log.info("a2a_message", agent=agent.name, owner=agent.owner, key_id=key_id,
                          chars=len(text))
            try:
                reply = await asyncio.wait_for(exchange.reply, timeout)
            except TimeoutError:
                self._count("no_reply")
                raise RpcError(NO_REPLY, f"{agent.display_name} did not answer within "
                               f"{timeout:g} seconds.", "NO_REPLY",
                               {"agent": agent.display_name}) from None
        finally:
            if self.pending.get(agent.name) is exchange:
                del self.pending[agent.name]
        self._count("answered")
        return reply

    def _online(self, name: str) -> tuple[SessionHandle | None, Character | None]:
        """The agent's playing session and character, if it is in the game with a link."""
        server = self.server
        ch = server.world.find_online(name)
        if ch is None or ch.linkdead:
            return None, None
        session = server.by_character.get(ch.id)
        if session is None or session.agent is None or session.state is not State.PLAYING:
            return None, None
        return session, ch

    # ---- the agent's answer ------------------------------------------------------------------

    def answer(self, session: SessionHandle, ch: Character,
               msg: wire.Command | wire.CallTool) -> bool:
        """Take an agent's tell to its owner as the answer to the A2A message waiting for
        it, if one is. Returns True when the command is fully handled here (the owner is
        not playing: the tell went to A2A only), False when it is to run as usual."""
        agent = session.agent
        exchange = self.pending.get(agent.name) if agent is not None else None
        if exchange is None or exchange.reply.done():
            return False
        told = self._tell_of(ch, msg)
        if told is None or told[0].lower() != exchange.owner:
            return False
        try:
            text, _cut = speech(told[1])
        except Refused:
            return False  # the world refuses it as usual
        exchange.reply.set_result(text)
        owner = self.server.world.find_online(exchange.owner)
        if owner is not None and not owner.linkdead:
            return False  # the owner is here: they hear it too
        session.deliver(Told(ch.name, str(ch.kind), exchange.owner_display, text))
        session.answer(msg.id)
        self.server.mark(session)
        return True

    def _tell_of(self, ch: Character, msg: wire.Command | wire.CallTool
                 ) -> tuple[str, str] | None:
        """`(target, text)` if the message is a well-formed `tell`, else None."""
        registry = self.server.world.registry
        try:
            if isinstance(msg, wire.CallTool):
                spec, args = bind_call(Call(msg.tool, msg.args), registry)
            else:
                line = expand_alias(ch.aliases, msg.line) if ch.aliases else msg.line
                spec, args = parse_line(line, registry, ch.role)
        except Refused:
            return None
        if spec.name != "tell":
            return None
        return str(args.get("target", "")), str(args.get("text", ""))

    # ---- bookkeeping -------------------------------------------------------------------

    def _count(self, outcome: str) -> None:
        self.server.metrics.a2a.labels(outcome=outcome).inc()

    def _log(self, event: str, **fields: Any) -> None:
        self.logged.write(self.log, "info", event, {}, **fields)


__all__ = ["A2A", "configured_base", "route", "server_version"]
