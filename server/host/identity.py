"""Agent identity: API keys, agent accounts owned by people, scopes and the agent login.

An agent is an account of kind `"agent"` owned by a person's account; it logs in with
an API key, never a password, and its character enters the world as `Kind.AGENT`, so
people always see it with an [AI] tag. What lives here:

* Keys: `generate_key`, `hash_key`, `key_id_of`, `verify_key`. A key reads
  `aq_<key_id>_<secret>`; only the sha256 of the whole key is stored (keys are 32
  random bytes, so a fast hash is right) and compared in constant time.
* `identity_of`, the `AgentIdentity` (server/gateway/agent.py: plain data both roles
  hold) a key's login gives a session (`Session.agent`).
* Scopes: `command_categories`, `parse_scopes`, `command_of` (which command a message
  would run). A key's scopes are command categories (`CommandSpec.category`) or `*`.
* Repository functions over `IdentityStore` (server/host/identity_storage.py) for the server
  and the command line: `create_agent`, `rotate_key`, `revoke_agent`, `set_scopes`,
  `set_config`, `list_agents`. Synchronous; the server calls them through `Server.in_db`.
  (The owner's A2A consent, `agent a2a`, is stored by server/host/a2a_storage.py.)
* `Identity`, the server's side: the API-key login, scope enforcement, the in-game
  `agent` command's requests, and closing live sessions whose key is revoked (at once
  for revocations made in game; within `agent_key_check_interval` seconds for those
  made from the command line, by polling the keys of live agent sessions).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Collection, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol

from server import log, wire
from server.gateway import render
from server.gateway.agent import AgentIdentity
from server.gateway.session import AuthRequest, GameRequest, Limits, SessionHandle, State
from server.host import accounts
from server.host.a2a_protocol import base_url, card_url
from server.host.a2a_storage import A2AStore
from server.host.identity_storage import AgentNotFound, AgentRecord, IdentityStore, NotAnOwner
from server.host.port import Database, Marks, Spawns
from server.host.storage import AccountNotFound, NameTaken
from server.wire import ErrorCode
from world.commands.agents import AgentManaged
from world.commands.registry import CommandSpec, Registry, split_words
from world.commands.settings import expand_alias
from world.entities import Character, Kind, Role
from world.errors import Code, Refused

if TYPE_CHECKING:
    from datetime import datetime

    from server.config import Settings
    from server.metrics import Metrics
    from world.game import World
    from world.prototypes import Content

KEY_PREFIX = "aq"
"""Every API key starts with `aq_`."""

KEY_ID_BYTES = 9
"""`key_id` is 12 URL-safe characters (public: it names the key in lists and logs)."""

SECRET_BYTES = 32
"""The secret part: 32 random bytes (43 URL-safe characters)."""

ON_LIMIT = ("scripted", "stop")
"""What an agent does at its budget's limit (`agent_config["on_limit"]`)."""

_SPECIAL_PREFIX = {"'": "say", '"': "say", ":": "emote"}


# ---- keys -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A newly made key: the text to show once, its public id and the hash to store."""

    key: str
    key_id: str
    key_hash: str

    def __repr__(self) -> str:  # never print the secret by accident
        return f"IssuedKey(key_id={self.key_id!r})"


def hash_key(key: str) -> str:
    """The sha256 hex digest of a whole key (what the database keeps)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def generate_key() -> IssuedKey:
    """Make a new random API key `aq_<key_id>_<secret>`."""
    key_id = secrets.token_urlsafe(KEY_ID_BYTES).replace("_", "x").replace("-", "y")
    key = f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(SECRET_BYTES)}"
    return IssuedKey(key, key_id, hash_key(key))


def key_id_of(key: str) -> str | None:
    """The public id inside a key's text, or None if the text is not shaped like a key."""
    if not isinstance(key, str) or len(key) > 200:
        return None
    prefix, sep, rest = key.partition("_")
    key_id, sep2, secret = rest.partition("_")
    if prefix != KEY_PREFIX or not sep or not sep2 or not key_id or not secret:
        return None
    return key_id


def verify_key(key: str, key_hash: str) -> bool:
    """Whether `key` is the key whose hash is `key_hash` (constant-time comparison)."""
    return hmac.compare_digest(hash_key(key), key_hash)


# ---- the identity a session carries -----------------------------------------------


def identity_of(record: AgentRecord, key_id: str) -> AgentIdentity:
    """The identity of `record` logged in with the key `key_id`."""
    return AgentIdentity(record.name, record.display_name, record.owner, key_id,
                         frozenset(record.scopes), MappingProxyType(dict(record.config)))


# ---- scopes and configuration -------------------------------------------------------


class IdentityError(ValueError):
    """Bad input to an identity operation; `code` is a stable error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def command_categories(registry: Registry) -> frozenset[str]:
    """Every command category in `registry` (the scopes a key may be given)."""
    return frozenset(spec.category for spec in registry.specs.values())


def parse_scopes(scopes: str | Iterable[str], categories: Collection[str]) -> list[str]:
    """Check and normalize scopes: a list of known categories (sorted), or `["*"]`.

    Args:
        scopes: `"movement,combat"`, `"*"`, or a list of names.
        categories: The valid category names (`command_categories`).

    Raises:
        IdentityError: (`bad_args`) empty, unknown categories, or `*` mixed with others.
    """
    items = scopes.replace(" ", ",").split(",") if isinstance(scopes, str) else list(scopes)
    names = {s.strip().lower() for s in items if s and s.strip()}
    if not names:
        raise IdentityError(Code.BAD_ARGS, "Give at least one command category, or * for all.")
    if "*" in names or "all" in names:
        if len(names) > 1:
            raise IdentityError(Code.BAD_ARGS, "'*' already grants every category; give it "
                                               "alone.")
        return ["*"]
    unknown = sorted(names - set(categories))
    if unknown:
        raise IdentityError(Code.BAD_ARGS, f"Unknown command categor"
                            f"{'y' if len(unknown) == 1 else 'ies'} {', '.join(unknown)}; "
                            f"choose from {', '.join(sorted(categories))}, or *.")
    return sorted(names)


def check_config(config: Mapping[str, Any], classes: Collection[str] | None = None
                 ) -> dict[str, Any]:
    """Check an agent's configuration values (unknown keys pass through unchanged).

    `rate` (commands per second, > 0), `burst` (an integer >= 1), `on_limit`
    ("scripted" or "stop"), `cls` (a class id, when `classes` is given).

    Raises:
        IdentityError: (`bad_args`) a value out of range, naming it.
    """
    out = dict(config)
    if "rate" in out and out["rate"] is not None:
        rate = out["rate"]
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 < rate <= 1000:
            raise IdentityError(Code.BAD_ARGS, "rate must be a number of commands per second "
                                               "above 0 (at most 1000).")
        out["rate"] = float(rate)
    if "burst" in out and out["burst"] is not None:
        burst = out["burst"]
        if isinstance(burst, bool) or not isinstance(burst, int) or not 1 <= burst <= 1000:
            raise IdentityError(Code.BAD_ARGS, "burst must be a whole number from 1 to 1000.")
    if "on_limit" in out and out["on_limit"] is not None and out["on_limit"] not in ON_LIMIT:
        raise IdentityError(Code.BAD_ARGS, f"on_limit must be one of {', '.join(ON_LIMIT)}.")
    if classes is not None and out.get("cls") is not None and out["cls"] not in classes:
        raise IdentityError(Code.BAD_ARGS, f"No class '{str(out['cls'])[:20]}'; choose one of "
                                           f"{', '.join(classes)}.")
    return out


def agent_limits(config: Mapping[str, Any], rate: float, burst: int, base: Limits) -> Limits:
    """The flood limits of an agent's session: its own `rate`/`burst` from its config,
    else the server's agent defaults; queue and message size as `base`."""
    own_rate = config.get("rate")
    own_burst = config.get("burst")
    return Limits(rate=float(own_rate) if isinstance(own_rate, int | float) else rate,
                  burst=int(own_burst) if isinstance(own_burst, int) else burst,
                  queue=base.queue, max_message=base.max_message)


def command_of(registry: Registry, aliases: Mapping[str, str],
               msg: wire.Command | wire.CallTool) -> CommandSpec | None:
    """The command a message would run, as the world resolves it (aliases, special
    prefixes, abbreviations), or None if it names none (the world then refuses it)."""
    if isinstance(msg, wire.CallTool):
        return registry.specs.get(msg.tool)
    line = expand_alias(dict(aliases), msg.line) if aliases else msg.line
    text = line.strip()
    if not text:
        return None
    special = _SPECIAL_PREFIX.get(text[0])
    verb = special if special is not None else split_words(text)[0].lower()
    hit = registry.lookup(verb) if verb else None
    return hit[0] if hit else None


# ---- repository functions (synchronous: the db thread or the command line) ----------


def check_agent_name(name: str) -> str:
    """The display form of an agent's name; raises `IdentityError` (`bad_name`)."""
    display = accounts.normalize(name)
    problem = accounts.check_name(display)
    if problem is not None:
        raise IdentityError(ErrorCode.BAD_NAME, problem)
    return display


def create_agent(store: IdentityStore, name: str, owner: str, scopes: list[str],
                 config: Mapping[str, Any] | None = None) -> tuple[AgentRecord, str]:
    """Create an agent owned by the person `owner`, with a new key.

    Returns:
        The agent and its key's text (to show once; it is not stored).

    Raises:
        IdentityError: a bad name (`bad_name`), the name taken (`name_taken`), no such
            owner (`not_here`) or an owner that is an agent (`forbidden`).
    """
    display = check_agent_name(name)
    issued = generate_key()
    try:
        record = store.create_agent(display, owner, issued.key_id, issued.key_hash,
                                    list(scopes), dict(config or {}))
    except NameTaken:
        raise IdentityError(ErrorCode.NAME_TAKEN, f"The name {display} is taken.") from None
    except AccountNotFound:
        raise IdentityError(Code.NOT_HERE, f"No account named '{owner[:30]}'.") from None
    except NotAnOwner as exc:
        raise IdentityError(Code.FORBIDDEN, str(exc)) from None
    return record, issued.key


def rotate_key(store: IdentityStore, name: str) -> tuple[AgentRecord, str, list[str]]:
    """Give the agent a new key (same scopes) and revoke its old ones in one step.

    Returns:
        The agent, the new key's text (show it once) and the key ids revoked.

    Raises:
        IdentityError: (`not_here`) no agent has that name.
    """
    issued = generate_key()
    try:
        record, revoked = store.rotate(name, issued.key_id, issued.key_hash)
    except AgentNotFound:
        raise IdentityError(Code.NOT_HERE, f"No agent named '{name[:30]}'.") from None
    return record, issued.key, revoked


def revoke_agent(store: IdentityStore, name: str) -> list[str]:
    """Revoke the agent's keys; returns the key ids revoked (empty: none was live).

    Raises:
        IdentityError: (`not_here`) no agent has that name.
    """
    try:
        return store.revoke(name)
    except AgentNotFound:
        raise IdentityError(Code.NOT_HERE, f"No agent named '{name[:30]}'.") from None


def set_scopes(store: IdentityStore, name: str, scopes: list[str]) -> AgentRecord:
    """Replace the scopes of the agent's key (already checked with `parse_scopes`).

    Raises:
        IdentityError: (`not_here`) no agent has that name.
    """
    try:
        return store.set_scopes(name, scopes)
    except AgentNotFound:
        raise IdentityError(Code.NOT_HERE, f"No agent named '{name[:30]}'.") from None


def set_config(store: IdentityStore, name: str, changes: Mapping[str, Any]) -> AgentRecord:
    """Merge checked `changes` into the agent's config (rate limits, on_limit, model...).

    Raises:
        IdentityError: (`bad_args`) a bad value; (`not_here`) no agent has that name.
    """
    checked = check_config(changes)
    try:
        return store.update_config(name, checked)
    except AgentNotFound:
        raise IdentityError(Code.NOT_HERE, f"No agent named '{name[:30]}'.") from None


def list_agents(store: IdentityStore, owner: str | None = None) -> list[AgentRecord]:
    """Every agent, or those of `owner`.

    Raises:
        IdentityError: (`not_here`) no account is called `owner`.
    """
    try:
        return store.list_agents(owner)
    except AccountNotFound:
        raise IdentityError(Code.NOT_HERE, f"No account named '{(owner or '')[:30]}'.") from None


# ---- the server's side ----------------------------------------------------------------


class Moderation(Protocol):
    """What `Identity` needs of the server's `Admin` (server/host/admin.py)."""

    async def ban_message(self, name: str | None, address: str, role: str | None
                          ) -> str | None: ...
    async def login_mute(self, name: str) -> tuple[bool, datetime | None]: ...
    def apply_mute(self, ch: Character, until: datetime | None) -> None: ...
    def throw_out(self, ch: Character, message: str, why: str) -> None: ...


class Host(Database, Marks, Spawns, Protocol):
    """What `Identity` needs of the server (server/app.py `Server`)."""

    @property
    def settings(self) -> Settings: ...
    @property
    def world(self) -> World: ...
    @property
    def content(self) -> Content: ...
    @property
    def port(self) -> int: ...
    @property
    def limits(self) -> Limits: ...
    @property
    def throttle(self) -> accounts.Throttle: ...
    @property
    def metrics(self) -> Metrics: ...
    @property
    def admin(self) -> Moderation: ...
    @property
    def sessions(self) -> Collection[SessionHandle]: ...
    @property
    def by_character(self) -> Mapping[int, SessionHandle]: ...
    def refuse_auth(self, session: SessionHandle, id: Any, denied: accounts.Denied, what: str
                    ) -> None: ...
    def enter(self, session: SessionHandle, name: str, role: str,
              snapshot: dict[str, Any] | None, online: Character | None, id: Any,
              created: bool, kind: Kind = Kind.PLAYER) -> None: ...
    def tool_list(self, session: SessionHandle, every: bool = False) -> list[dict[str, Any]]: ...
    async def save(self, batch: list[tuple[str, dict[str, Any]]]) -> bool: ...


class Identity:
    """Agent logins, scopes and key management for one `Server`.

    Args:
        server: The server (its repository's engine, settings, world and sessions).
    """

    def __init__(self, server: Host) -> None:
        self.server = server
        self.log = log.get()
        self.store = IdentityStore(server.repo.engine)
        self.categories = command_categories(server.world.registry)

    # ---- login ----

    async def login(self, session: SessionHandle, req: AuthRequest) -> None:
        """Log a session in with an API key (`req.password` holds the key's text).

        Unknown, malformed and revoked keys get `auth_failed` and count as failed logins
        of the address (throttled like wrong passwords: an attempt counts as a failure
        while its key is being looked up, so parallel guesses can't pass the limit; the
        shell has already admitted it through `Server.auth_gate`). On success the agent's
        character enters as `Kind.AGENT` (created at its first login, of the class in
        its config or the default one), `session.agent` is set and the session gets the
        agent's own rate limits.
        """
        server = self.server
        key = req.password
        attempt = server.throttle.begin(None, session.address)
        if isinstance(attempt, accounts.Denied):
            server.refuse_auth(session, req.id, attempt, "api_key")
            return
        try:
            key_id = key_id_of(key)
            found = await server.in_db(self.store.find_key, key_id) if key_id else None
            valid = found is not None and verify_key(key, found[1])
            server.throttle.finish(attempt, valid and found is not None and found[2] is None)
        finally:
            server.throttle.cancel(attempt)  # only if it ended before the check
        if found is None or not valid:
            self._failed(session, req, key_id, "Unknown API key.")
            return
        record, _hash, revoked_at = found
        if revoked_at is not None:
            self._failed(session, req, key_id, "This API key has been revoked.")
            return
        for who in (record.name, record.owner):
            banned = await server.admin.ban_message(who, session.address, None)
            if banned is not None:
                server.metrics.logins.labels(outcome="banned").inc()
                session.auth_failed(ErrorCode.BANNED, banned, req.id)
                return
        muted, muted_until = await server.admin.login_mute(record.name)
        if session.state is State.CLOSED:
            return
        assert key_id is not None
        online = server.world.find_online(record.display_name)
        snapshot = None
        created = False
        if online is None:
            snapshot = await server.in_db(server.repo.load_character, record.name)
            online = server.world.find_online(record.display_name)
            if snapshot is None and online is None:
                created = True
                cls = record.config.get("cls")
                snapshot = {"cls": cls if cls in server.content.classes
                            else next(iter(server.content.classes))}
        await server.in_db(self.store.touch_key, key_id)
        server.metrics.logins.labels(outcome="ok").inc()
        session.agent = identity_of(record, key_id)
        s = server.settings
        session.apply_limits(agent_limits(record.config, s.agent_rate, s.agent_burst,
                                          server.limits))
        self.log.info("agent_login", session=session.id, agent=record.name, owner=record.owner,
                      key_id=key_id, rate=session.limits.rate, burst=session.limits.burst)
        server.enter(session, record.display_name, Role.PLAYER.value, snapshot, online, req.id,
                      created, kind=Kind.AGENT)
        ch = session.character
        if ch is not None:
            if muted:
                server.admin.apply_mute(ch, muted_until)
            if created:
                server.spawn(server.save([(record.name, server.world.snapshot(ch))]))

    def _failed(self, session: SessionHandle, req: AuthRequest, key_id: str | None, message: str
                ) -> None:
        server = self.server
        server.metrics.logins.labels(outcome="failed").inc()
        server.metrics.errors.labels(code=ErrorCode.AUTH_FAILED).inc()
        self.log.info("agent_login_failed", session=session.id, key_id=key_id,
                      address=session.address, why=message)
        session.auth_failed(ErrorCode.AUTH_FAILED, message, req.id)

    # ---- scopes ----

    def scope_refusal(self, session: SessionHandle, ch: Character,
                      msg: wire.Command | wire.CallTool) -> Refused | None:
        """`forbidden_scope` if the session's key does not grant the command's category."""
        allowed = session.allowed_categories
        if allowed is None:
            return None
        spec = command_of(self.server.world.registry, ch.aliases, msg)
        if spec is None or spec.category in allowed:
            return None
        return Refused(ErrorCode.FORBIDDEN_SCOPE,
                       f"This agent's API key does not allow '{spec.name}' (category "
                       f"'{spec.category}'); it allows: {', '.join(sorted(allowed))}.")

    # ---- revocation ----

    def close_key_sessions(self, key_ids: Collection[str], why: str) -> int:
        """Close, at once, every live session logged in with one of `key_ids`: an
        `error` with code `key_revoked`, then the character is saved and leaves.

        Returns:
            How many sessions were closed.
        """
        server = self.server
        closed = 0
        for session in list(server.sessions):
            agent = session.agent
            if agent is None or agent.key_id not in key_ids or session.state is State.CLOSED:
                continue
            message = f"Your API key has been revoked ({why}); this connection is closed."
            session.send(wire.error(ErrorCode.KEY_REVOKED, message))
            server.metrics.errors.labels(code=ErrorCode.KEY_REVOKED).inc()
            ch = session.character
            if ch is not None and server.by_character.get(ch.id) is session:
                server.admin.throw_out(ch, message, "key revoked")
            else:
                session.say(render.error_spans(message))
                session.close("key revoked")
                server.mark(session)
            self.log.info("agent_key_revoked_session_closed", session=session.id,
                          agent=agent.name, key_id=agent.key_id)
            closed += 1
        return closed

    def _refresh_scopes(self, record: AgentRecord) -> None:
        """Give live sessions of `record`'s key its new scopes."""
        for session in self.server.sessions:
            agent = session.agent
            if agent is not None and agent.key_id == record.key_id:
                self._give_scopes(session, agent, frozenset(record.scopes))

    def _give_scopes(self, session: SessionHandle, agent: AgentIdentity, scopes: frozenset[str]
                     ) -> None:
        """Swap a live session's scopes; the tools it may use changed, so send the new list
        (as a promotion does)."""
        if scopes == agent.scopes:
            return
        session.agent = AgentIdentity(agent.name, agent.display_name, agent.owner,
                                      agent.key_id, scopes, agent.config)
        session.send({"type": "tools", "tools": self.server.tool_list(session)})
        self.server.mark(session)

    async def watch(self) -> None:
        """Poll the keys of live agent sessions; close those revoked elsewhere (the command
        line, another server) and pick up changed scopes. Runs until cancelled."""
        interval = self.server.settings.agent_key_check_interval
        while True:
            await asyncio.sleep(interval)
            live = {s.agent.key_id for s in self.server.sessions
                    if s.agent is not None and s.state is not State.CLOSED}
            if not live:
                continue
            try:
                states = await self.server.in_db(self.store.key_states, sorted(live))
            except Exception as exc:
                self.log.error("agent_key_check_failed", exc_info=exc)
                continue
            revoked = {k for k in live if k not in states or states[k][0]}
            if revoked:
                self.close_key_sessions(revoked, "revoked")
            for session in list(self.server.sessions):
                agent = session.agent
                if agent is None or agent.key_id not in states or agent.key_id in revoked:
                    continue
                self._give_scopes(session, agent, frozenset(states[agent.key_id][1]))

    # ---- the in-game `agent` command ----

    def request(self, session: SessionHandle, ch: Character, req: GameRequest
                ) -> Refused | Awaitable[Refused | None]:
        """Carry out an `agent` subcommand for `ch` (its owner, or an admin)."""
        if session.agent is not None or ch.kind is Kind.AGENT:
            return Refused(Code.FORBIDDEN, "Agents cannot create or manage agents.")
        return self._manage(session, ch, str(req.args.get("action")), req.args.get("name"),
                            req.args.get("scopes"))

    async def _manage(self, session: SessionHandle, ch: Character, action: str, name: Any,
                      scopes: Any) -> Refused | None:
        server = self.server
        actor = ch.name.lower()
        admin = ch.role is Role.ADMIN
        try:
            if action == "list":
                owner = str(name) if name and admin else actor
                if name and not admin and str(name).lower() != actor:
                    return Refused(Code.FORBIDDEN, "You may list only your own agents.")
                records = await server.in_db(list_agents, self.store, owner)
                self._tell(session, AgentManaged("list", [r.to_data() for r in records]))
                return None
            assert isinstance(name, str)
            if action == "create":
                chosen = parse_scopes(scopes, self.categories) if scopes else ["*"]
                record, key = await server.in_db(create_agent, self.store, name, actor, chosen,
                                                 {})
                self.log.info("agent_created", owner=actor, agent=record.name,
                              key_id=record.key_id, scopes=chosen, by="game")
                self._tell(session, AgentManaged("create", [record.to_data()], key))
                return None
            existing = await server.in_db(self.store.get_agent, name)
            if existing is None or (existing.owner != actor and not admin):
                return Refused(Code.NOT_HERE, f"You have no agent named '{name[:30]}'.")
            if action == "rotate":
                record, key, revoked = await server.in_db(rotate_key, self.store, name)
                self.close_key_sessions(revoked, "rotated")
                self.log.info("agent_key_rotated", agent=record.name, key_id=record.key_id,
                              revoked=revoked, by=actor)
                self._tell(session, AgentManaged("rotate", [record.to_data()], key))
            elif action == "revoke":
                revoked = await server.in_db(revoke_agent, self.store, name)
                self.close_key_sessions(revoked, "revoked")
                self.log.info("agent_key_revoked", agent=existing.name, revoked=revoked,
                              by=actor)
                after: AgentRecord | None = await server.in_db(self.store.get_agent, name)
                record = after or existing
                self._tell(session, AgentManaged("revoke", [record.to_data()]))
            elif action == "a2a":
                self._tell(session, await self._a2a(existing.name, str(scopes).lower() == "on",
                                                    actor))
            elif action == "scopes":
                chosen = parse_scopes(str(scopes or ""), self.categories)
                record = await server.in_db(set_scopes, self.store, name, chosen)
                self._refresh_scopes(record)
                self.log.info("agent_scopes_set", agent=record.name, scopes=chosen, by=actor)
                self._tell(session, AgentManaged("scopes", [record.to_data()]))
            else:
                return Refused(Code.BAD_ARGS, f"Unknown agent subcommand '{action[:20]}'.")
        except IdentityError as exc:
            return Refused(exc.code, exc.message)
        return None

    async def _a2a(self, name: str, on: bool, by: str) -> AgentManaged:
        """`agent a2a <name> on|off`: the owner's consent to A2A (server/host/a2a.py)."""
        server = self.server
        record = await server.in_db(A2AStore(server.repo.engine).set_reachable, name, on)
        self.log.info("agent_a2a_set", agent=record.name, on=on, by=by)
        s = server.settings
        data = {**record.to_data(), "a2a": on,
                "card_url": card_url(base_url(s.public_url, s.host, server.port),
                                     record.display_name) if on else None}
        return AgentManaged("a2a", [data])

    def _tell(self, session: SessionHandle, event: AgentManaged) -> None:
        """Deliver to the owner only: a key never goes to admins snooping on the session."""
        watchers, session.watchers = session.watchers, []
        try:
            session.deliver(event)
        finally:
            session.watchers = watchers
        self.server.mark(session)


# ---- text -------------------------------------------------------------------------------


def _agent_line(agent: Mapping[str, Any]) -> str:
    scopes = ", ".join(agent.get("scopes") or ["*"])
    state = f"key {agent['key_id']}" if agent.get("active") else "revoked"
    used = agent.get("last_used_at")
    seen = f", last login {str(used)[:16].replace('T', ' ')}" if used else ", never logged in"
    return f"[AI] {agent['name']} ({state}; scopes: {scopes}{seen})"


@render.renders(AgentManaged)
def _render_agent_managed(e: AgentManaged, viewer: str) -> render.Spans:
    """The owner's view of an `agent` subcommand's result."""
    if e.action == "list":
        if not e.agents:
            return [("", "You have no agents. Create one with: agent create <name>")]
        spans: render.Spans = [("heading", "Your agents:")]
        for agent in e.agents:
            spans.append(("", "\n  " + _agent_line(agent)))
        return spans
    agent = e.agents[0] if e.agents else {"name": "?"}
    who = str(agent["name"])
    if e.action in ("create", "rotate") and e.key:
        first = (f"Agent {who} is created (scopes: {', '.join(agent.get('scopes') or ['*'])})."
                 if e.action == "create" else
                 f"{who} has a new API key; the old one is revoked and its connections closed.")
        return [("notice", first),
                ("", "\nIts API key, shown only this once (the game keeps only a hash of it):"),
                ("", "\n"), ("item", f"  {e.key}"),
                ("", "\nLog in with {\"type\": \"login\", \"api_key\": \"...\"}.")]
    if e.action == "revoke":
        return [("notice", f"{who}'s API key is revoked; its connections are closed.")]
    if e.action == "scopes":
        return [("notice", f"{who} may now use: {', '.join(agent.get('scopes') or ['*'])}.")]
    if e.action == "a2a":
        if not agent.get("a2a"):
            return [("notice", f"{who} can no longer be reached over A2A.")]
        return [("notice", f"{who} can now be reached over A2A with your agents' API keys."),
                ("", "\nIts Agent Card: "), ("item", str(agent.get("card_url")))]
    return [("", f"agent {e.action} {who}")]
