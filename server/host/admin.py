"""The server side of building and administration: roles, moderation, edits that last, audit.

`Admin` belongs to the `Server`. It carries out what admin commands ask for with a
`ServerRequest` (world/commands/admin.py: promote, kick, ban, unban, mute, unmute,
announce, shutdown/reboot, snoop, force, audit; `zone export` from the builder
commands), checks bans at login, keeps mutes and their ends, and makes builder
edits last:

* after every command the server drains `World.drain_edits()` into `collect_edits`;
  each edit becomes a `world_edits` row and an `audit` row, written in batches on
  the database thread (one transaction per loop pass, never inside the tick);
* at start, `replay` applies every edit not yet exported, in order, over the
  content loaded from files (`world.building.apply_edit`);
* `zone export` writes a zone back to its YAML file and stamps that zone's edits
  `exported_at`, so a restart loads them from the file and does not apply them
  again. Edits are state-based (each carries the whole `after`), so applying one
  twice changes nothing: a crash between writing the file and stamping the rows is
  harmless.

A request handler returns an `Outcome`: None (done, fine), a `Refused` (done,
refused) or an awaitable of either (database work under way). The server sends the
command's `result` once every outcome of the command is known, so the result still
marks the end of the command's output.
"""

from __future__ import annotations

import asyncio
import io
import ipaddress
import os
from collections.abc import Awaitable, Collection, MutableMapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import yaml
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.main import YAML
from ruamel.yaml.scalarstring import LiteralScalarString

from server import log
from server.bus.messages import AdminInput, Command, Leave
from server.gateway.session import GameRequest, SessionHandle
from server.host import content
from server.host.admin_storage import (
    AdminStore,
    AuditRecord,
    BanRecord,
    EditRecord,
    address_matches,
)
from server.host.port import Database, Marks, Spawns
from server.host.recorder import RELOAD, ROLE, UNRECORDED, masked_line
from world import building
from world.commands.registry import redact_line
from world.entities import Character, Kind, Role
from world.errors import Code, Refused
from world.events import AuditListed, Moderated, RoleChanged
from world.game import World
from world.prototypes import ContentError

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from server.bus.messages import Input
    from server.config import Settings
    from world.prototypes import Content

REBOOT_EXIT_CODE = 75
"""`aegent serve` exits with this status after `reboot` (EX_TEMPFAIL: "try again"), so a
supervisor (`make run`, systemd's `RestartForceExitStatus=75`) starts it again."""

COUNTDOWN_MARKS = (600, 300, 120, 60, 30, 10, 5, 4, 3, 2, 1)
"""Seconds before a shutdown or reboot at which everyone is told."""

AUDIT_ROWS = 50
"""The most rows one `audit` returns."""

Outcome = Refused | Awaitable[Refused | None] | None


class Host(Database, Marks, Spawns, Protocol):
    """What `Admin` needs of the server (server/app.py `Server`)."""

    content: Content  # a reload swaps it
    exit_code: int  # what `aegent serve` exits with: a reboot sets it

    @property
    def settings(self) -> Settings: ...
    @property
    def world(self) -> World: ...
    @property
    def db(self) -> Executor: ...
    @property
    def sessions(self) -> Collection[SessionHandle]: ...
    @property
    def by_character(self) -> MutableMapping[int, SessionHandle]: ...
    @property
    def linkdead(self) -> MutableMapping[int, float]: ...
    def record(self, entry: Input) -> bool: ...
    def route(self) -> None: ...
    def reloaded(self) -> None: ...
    def tool_list(self, session: SessionHandle, every: bool = False) -> list[dict[str, Any]]: ...
    def task_done(self, task: asyncio.Future[Any]) -> None: ...
    async def save(self, batch: list[tuple[str, dict[str, Any]]]) -> bool: ...
    async def save_all(self) -> int: ...
    async def shutdown(self, reason: str = "shutdown") -> None: ...


def _now() -> datetime:
    return datetime.now(UTC)


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


def _span(seconds: int) -> str:
    """`90` is "1 minute 30 seconds"; `7200` is "2 hours"."""
    parts = []
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute"), (1, "second")):
        n, seconds = divmod(seconds, size)
        if n:
            parts.append(f"{n} {unit}{'s' if n != 1 else ''}")
    return " ".join(parts[:2]) or "0 seconds"


def _until_text(until: datetime | None) -> str:
    return f" until {until.strftime('%Y-%m-%d %H:%M')} UTC" if until else ""


class Admin:
    """Roles, moderation, builder edits and the audit log, for one server.

    Args:
        server: the server it works for (its world, sessions and database thread).
    """

    KINDS = frozenset({"promote", "kick", "ban", "unban", "mute", "unmute", "announce",
                       "shutdown", "snoop", "force", "audit", "zone_export",
                       "reload_content"})

    def __init__(self, server: Host) -> None:
        self.server = server
        self.log = log.get()
        self.store = AdminStore(server.repo.engine)
        self.mutes: dict[str, datetime] = {}  # timed mutes seen in play: lower name -> end
        self.snooping: dict[SessionHandle, SessionHandle] = {}  # admin's session -> the watched one
        self.countdown: asyncio.Task[None] | None = None
        self._edits: list[EditRecord] = []
        self._audits: list[AuditRecord] = []
        self._write_scheduled = False
        self._tail: list[building.Edit] | None = None  # persistent edits during a reload
        self.replayed = 0

    # ---- requests --------------------------------------------------------------------

    def handles(self, kind: str) -> bool:
        """Whether `kind` is a request this module carries out."""
        return kind in self.KINDS

    def request(self, session: SessionHandle, ch: Character, req: GameRequest) -> Outcome:
        """Carry out one request of an admin (or builder) command."""
        a = req.args
        if req.kind == "promote":
            return self._promote(session, ch, str(a["name"]), str(a["role"]))
        if req.kind == "kick":
            return self._kick(session, ch, str(a["name"]), str(a.get("reason") or ""))
        if req.kind == "ban":
            return self._ban(session, ch, str(a["kind"]), str(a["value"]), a.get("seconds"),
                             str(a.get("reason") or ""))
        if req.kind == "unban":
            return self._unban(session, ch, str(a["kind"]), str(a["value"]))
        if req.kind == "mute":
            return self._mute(session, ch, str(a["name"]), a.get("seconds"),
                              str(a.get("reason") or ""))
        if req.kind == "unmute":
            return self._unmute(session, ch, str(a["name"]))
        if req.kind == "announce":
            return self._announce(ch, str(a["text"]))
        if req.kind == "shutdown":
            return self._shutdown(session, ch, a["seconds"], str(a.get("reason") or ""),
                                  bool(a.get("reboot")))
        if req.kind == "snoop":
            name = a.get("name")
            return self._snoop(session, ch, None if name is None else str(name))
        if req.kind == "force":
            return self._force(session, ch, str(a["name"]), str(a["line"]))
        if req.kind == "audit":
            return self._audit(session, a)
        if req.kind == "zone_export":
            return self._zone_export(session, ch, str(a["zone"]), dict(a["document"]))
        if req.kind == "reload_content":
            return self._reload(session, ch)
        return None

    def _done(self, session: SessionHandle, action: str, target: str, **detail: Any) -> None:
        session.deliver(Moderated(action, target, detail))
        self.server.mark(session)

    # ---- the audit log and edits ------------------------------------------------------

    def record(self, actor: str, action: str, target: str, before: Any = None,
               after: Any = None, detail: str = "") -> None:
        """Add an audit entry (written with the next batch, off the tick)."""
        self._audits.append(AuditRecord(actor, action, target, before, after, detail, _now()))
        self._schedule_write()
        self.log.info("audit", actor=actor, action=action, target=target, detail=detail)

    def collect_edits(self) -> None:
        """Take the world's new builder edits: each becomes an edit row and an audit row."""
        edits = self.server.world.drain_edits()
        if not edits:
            return
        now = _now()
        for e in edits:
            if e.persistent and self._tail is not None:
                self._tail.append(e)
            if e.persistent:  # content: replayed at start until exported
                self._edits.append(EditRecord(e.actor, e.kind, e.target, e.zone, e.before,
                                              e.after, now))
            self._audits.append(AuditRecord(e.actor, e.kind, e.target, e.before, e.after,
                                            f"zone {e.zone}", now))
        self._schedule_write()

    def _schedule_write(self) -> None:
        if not self._write_scheduled:
            self._write_scheduled = True
            asyncio.get_running_loop().call_soon(self._write_now)

    def _write_now(self) -> asyncio.Future[int] | None:
        """Hand the batch to the database thread now (in order with every other call)."""
        self._write_scheduled = False
        if not self._edits and not self._audits:
            return None
        edits, self._edits = self._edits, []
        audits, self._audits = self._audits, []
        try:
            fut = asyncio.get_running_loop().run_in_executor(self.server.db, self.store.write,
                                                             edits, audits)
        except RuntimeError as exc:  # the database thread is gone: shutting down
            self.log.error("audit_write_lost", edits=len(edits), audits=len(audits),
                           error=str(exc))
            return None
        fut.add_done_callback(lambda f: self._written(f, len(edits), len(audits)))
        return fut

    def _written(self, fut: asyncio.Future[int], edits: int, audits: int) -> None:
        if fut.cancelled():
            return
        exc = fut.exception()
        if exc is not None:
            self.log.error("audit_write_failed", edits=edits, audits=audits, exc_info=exc)

    async def flush(self) -> None:
        """Write what is pending and wait until every earlier database call is done."""
        fut = self._write_now()
        if fut is not None:
            try:
                await fut
            except Exception:  # logged by _written
                return
        else:
            await self.server.in_db(lambda: None)

    async def replay(self) -> int:
        """Apply every edit not yet exported, in order (at start, before anyone plays)."""
        records = await self.server.in_db(self.store.pending_edits)
        self.replayed = self._replay_into(self.server.world, records, [])
        return self.replayed

    def _replay_into(self, world: World, records: list[EditRecord],
                     tail: list[building.Edit]) -> int:
        """Apply stored edits (less the parts of zones already exported), then `tail`."""
        done = 0
        edits = [(r.id, building.Edit(r.actor, r.kind, r.target, r.before,
                                      without_zones(r.after, r.exported), r.zone))
                 for r in records]
        for n, edit in [*edits, *((None, e) for e in tail)]:
            try:
                if world.apply_edit(edit):
                    done += 1
            except building.EditError as exc:  # the content changed under it: say so, go on
                self.log.warning("edit_replay_failed", id=n, kind=edit.kind, target=edit.target,
                                 error=str(exc))
        world.drain()
        world.drain_edits()
        if edits or tail:
            self.log.info("edits_replayed", count=done, failed=len(edits) + len(tail) - done)
        return done

    # ---- roles -------------------------------------------------------------------------

    async def _promote(self, session: SessionHandle, actor: Character, name: str, role: str
                       ) -> Refused | None:
        server = self.server
        account = await server.in_db(server.repo.get_account, name)
        if account is None:
            return Refused(Code.NOT_HERE, f"No account named '{name[:30]}'.")
        old = account.role
        if old == role:
            return Refused(Code.ALREADY, f"{account.display_name} is already {role}.")
        await server.in_db(server.repo.set_role, account.name, role)
        new_role = Role(role)
        ch = server.world.find_online(account.display_name)
        if ch is not None:
            server.record(AdminInput(actor.name, ROLE, {"name": ch.name, "role": role}))
            ch.role = new_role
            target = server.by_character.get(ch.id)
            if target is not None:
                if new_role is Role.ADMIN:
                    self._end_watch(target, f"{ch.name} is an admin now; your snoop ends.")
                target.deliver(RoleChanged(role, old, actor.name))
                target.send({"type": "tools", "tools": server.tool_list(target)})
                server.mark(target)
        known = {r.value for r in Role}
        was = Role(old) if old in known else Role.PLAYER
        action = "promote" if new_role.rank > was.rank else "demote"
        self.record(actor.name, action, account.display_name, {"role": old}, {"role": role})
        self._done(session, "promote", account.display_name, role=role, previous=old)
        return None

    # ---- throwing out, bans -------------------------------------------------------------

    def throw_out(self, ch: Character, message: str, why: str) -> None:
        """Save `ch`, take it out of the world and close its connection (with `message`)."""
        server = self.server
        target = server.by_character.pop(ch.id, None)
        server.linkdead.pop(ch.id, None)
        if target is not None:
            target.notify([("warning", message)], "warning")
        server.record(Leave("", target.id if target else "", ch.id, why))
        snap = server.world.leave(ch, why)
        server.route()
        if target is not None:
            target.close(why)
            server.mark(target)
        self.log.info("character_thrown_out", character=ch.name, why=why)
        server.spawn(server.save([(ch.name, snap)]))

    def _kick(self, session: SessionHandle, actor: Character, name: str, reason: str
              ) -> Refused | None:
        ch = self.server.world.find_online(name)
        if ch is None or ch.kind is Kind.MOB:
            return Refused(Code.NOT_HERE, f"No one called '{name[:30]}' is playing now.")
        why = f": {reason}" if reason else "."
        self.throw_out(ch, f"{actor.name} has thrown you out of the game{why}", "kicked")
        self.record(actor.name, "kick", ch.name, detail=reason)
        self._done(session, "kick", ch.name, reason=reason)
        return None

    async def ban_message(self, name: str | None, address: str, role: str | None
                          ) -> str | None:
        """Why this account or address may not log in now (None: it may). Admins are
        never shut out by an address ban."""
        exempt = role == Role.ADMIN.value
        ban = await self.server.in_db(self.store.active_ban, name,
                                      None if exempt else address)
        if ban is None:
            return None
        who = "This account" if ban.kind == "account" else "Your address"
        why = f" Reason: {ban.reason}." if ban.reason else ""
        end = _until_text(ban.until) if ban.until else " until further notice"
        return f"{who} is banned{end}.{why}"

    async def _ban(self, session: SessionHandle, actor: Character, kind: str, value: str,
                   seconds: Any, reason: str) -> Refused | None:
        server = self.server
        if kind == "account":
            account = await server.in_db(server.repo.get_account, value)
            if account is None:
                return Refused(Code.NOT_HERE, f"No account named '{value[:30]}'.")
            if account.role == Role.ADMIN.value:
                return Refused(Code.BAD_TARGET, "You can't ban an admin (demote them first).")
            value = account.name
        else:
            try:
                value = str(ipaddress.ip_network(value, strict=False)) if "/" in value \
                    else str(ipaddress.ip_address(value))
            except ValueError:
                return Refused(Code.BAD_ARGS, f"'{value[:40]}' is not an address or a network.")
        until = _now() + timedelta(seconds=int(seconds)) if seconds else None
        ban = await server.in_db(self.store.add_ban, kind, value, reason, actor.name, until)
        self.record(actor.name, "ban", value, None, ban.to_data(), reason)
        why = f" Reason: {reason}." if reason else ""
        message = f"You have been banned{_until_text(until)} by {actor.name}.{why}"
        kicked = []
        for ch in list(server.world.characters.values()):
            target = server.by_character.get(ch.id)
            if kind == "account":
                hit = ch.name.lower() == value
            else:
                hit = (target is not None and ch.role is not Role.ADMIN
                       and address_matches(value, target.address))
            if hit:
                kicked.append(ch.name)
                self.throw_out(ch, message, "banned")
        self._done(session, "ban", value, kind=kind, until=_when(until), reason=reason,
                   kicked=kicked)
        return None

    async def _unban(self, session: SessionHandle, actor: Character, kind: str, value: str
                     ) -> Refused | None:
        lifted = await self.server.in_db(self.store.lift_bans, kind, value)
        if not lifted:
            return Refused(Code.NOT_HERE, f"No ban on '{value[:40]}' is in force.")
        self.record(actor.name, "unban", value, lifted[-1].to_data(), None)
        self._done(session, "unban", value, kind=kind)
        return None

    async def bans(self) -> list[BanRecord]:
        """Every ban in force."""
        return await self.server.in_db(self.store.active_bans)

    # ---- mutes -----------------------------------------------------------------------------

    async def login_mute(self, name: str) -> tuple[bool, datetime | None]:
        """Whether the saved character `name` is muted, and until when (an ended mute is
        cleared)."""
        flags = await self.server.in_db(self.store.get_flags, name)
        mute = (flags or {}).get("muted")
        if not isinstance(mute, dict):
            return False, None
        until = datetime.fromisoformat(mute["until"]) if mute.get("until") else None
        if until is not None and until <= _now():
            await self.server.in_db(self.store.set_flag, name, "muted", None)
            return False, None
        return True, until

    def apply_mute(self, ch: Character, until: datetime | None) -> None:
        """Mute `ch` in the world (until `until`, or for good)."""
        ch.muted = True
        if until is not None:  # ended by `housekeeping`
            self.mutes[ch.name.lower()] = until

    async def _mute(self, session: SessionHandle, actor: Character, name: str, seconds: Any,
                    reason: str) -> Refused | None:
        server = self.server
        account = await server.in_db(server.repo.get_account, name)
        if account is None:
            return Refused(Code.NOT_HERE, f"No character named '{name[:30]}'.")
        if account.role == Role.ADMIN.value:
            return Refused(Code.BAD_TARGET, "You can't mute an admin.")
        now = _now()
        until = now + timedelta(seconds=int(seconds)) if seconds else None
        flag = {"until": _when(until), "by": actor.name, "reason": reason, "at": _when(now)}
        saved = await server.in_db(self.store.set_flag, name, "muted", flag)
        ch = server.world.find_online(account.display_name)
        if not saved and ch is None:
            return Refused(Code.NOT_HERE, f"No character named '{name[:30]}'.")
        if ch is not None:
            self.apply_mute(ch, until)
            target = server.by_character.get(ch.id)
            if target is not None:
                why = f": {reason}" if reason else "."
                span = f" for {_span(int(seconds))}" if seconds else ""
                target.notify([("warning", f"{actor.name} has muted you{span}{why} You can't "
                                           "say, tell, shout, emote or gtell.")], "warning")
                server.mark(target)
        self.record(actor.name, "mute", account.display_name, None, flag, reason)
        self._done(session, "mute", account.display_name, until=_when(until), reason=reason)
        return None

    async def _unmute(self, session: SessionHandle, actor: Character, name: str) -> Refused | None:
        server = self.server
        flags = await server.in_db(self.store.get_flags, name)
        ch = server.world.find_online(name)
        before = (flags or {}).get("muted")
        if before is None and not (ch is not None and ch.muted):
            return Refused(Code.ALREADY, f"{name.capitalize()} is not muted.")
        await server.in_db(self.store.set_flag, name, "muted", None)
        shown = self._lift_mute(name, f"{actor.name} has unmuted you: you may talk again.")
        self.record(actor.name, "unmute", shown, before, None)
        self._done(session, "unmute", shown)
        return None

    def _lift_mute(self, name: str, message: str) -> str:
        """Unmute the character `name` in the world (telling them); returns its name."""
        self.mutes.pop(name.lower(), None)
        ch = self.server.world.find_online(name)
        if ch is None:
            return name.capitalize()
        ch.muted = False
        target = self.server.by_character.get(ch.id)
        if target is not None:
            target.notify([("notice", message)], "notice")
            self.server.mark(target)
        return ch.name

    def housekeeping(self) -> None:
        """End the mutes whose time is up (called about once a second)."""
        if not self.mutes:
            return
        now = _now()
        for name, until in list(self.mutes.items()):
            if until <= now:
                shown = self._lift_mute(name, "Your mute has ended: you may talk again.")
                self.server.spawn(self.server.in_db(self.store.set_flag, name, "muted", None))
                self.record("system", "unmute", shown, None, None, "expired")

    # ---- talking to everyone, stopping -------------------------------------------------

    def tell_all(self, text: str, level: str = "notice") -> None:
        """A `message` event to every playing session."""
        for s in list(self.server.sessions):
            if s.playing:
                s.notify([(level, text)], level)
                self.server.mark(s)

    def _announce(self, actor: Character, text: str) -> Refused | None:
        self.tell_all(f"{actor.name} announces: {text}", "notice")
        self.record(actor.name, "announce", "everyone", detail=text)
        return None

    def _shutdown(self, session: SessionHandle, actor: Character, seconds: Any, reason: str,
                  reboot: bool) -> Refused | None:
        what = "reboot" if reboot else "shutdown"
        if seconds == "cancel":
            if self.countdown is None or self.countdown.done():
                return Refused(Code.BAD_ARGS, "No shutdown or reboot is under way.")
            self.countdown.cancel()
            self.countdown = None
            self.tell_all(f"{actor.name} called off the {what}.", "notice")
            self.record(actor.name, "cancel", "server", detail=what)
            self._done(session, "cancel", "server")
            return None
        if self.countdown is not None and not self.countdown.done():
            self.countdown.cancel()
        self.countdown = asyncio.ensure_future(
            self._countdown(int(seconds), reason, reboot, actor.name))
        self.countdown.add_done_callback(self.server.task_done)
        self.record(actor.name, what, "server", None, {"seconds": int(seconds)}, reason)
        self._done(session, what, "server", seconds=int(seconds), reason=reason)
        return None

    async def _countdown(self, seconds: int, reason: str, reboot: bool, by: str) -> None:
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        verb = "restarts" if reboot else "shuts down"
        why = f" ({reason})" if reason else ""
        if seconds > 0:
            self.tell_all(f"The server {verb} in {_span(seconds)}{why}.", "warning")
        for mark in COUNTDOWN_MARKS:
            if mark >= seconds:
                continue
            await asyncio.sleep(max(0.0, end - mark - loop.time()))
            self.tell_all(f"The server {verb} in {_span(mark)}.", "warning")
        await asyncio.sleep(max(0.0, end - loop.time()))
        server = self.server
        server.exit_code = REBOOT_EXIT_CODE if reboot else 0
        self.countdown = None
        await server.save_all()
        await self.flush()
        await server.shutdown(f"{'reboot' if reboot else 'shutdown'} by {by}{why}")

    def stop(self) -> None:
        """The server is stopping: call off a countdown (unless it is what stops it)."""
        task = self.countdown
        if task is not None and task is not asyncio.current_task():
            task.cancel()
        self.countdown = None

    # ---- snoop and force -----------------------------------------------------------------

    def _snoop(self, session: SessionHandle, actor: Character, name: str | None) -> Refused | None:
        server = self.server
        if name is None:
            watched = self.snooping.pop(session, None)
            if watched is None:
                return Refused(Code.BAD_ARGS, "You are not snooping on anyone.")
            if session in watched.watchers:
                watched.watchers.remove(session)
            who = watched.character.name if watched.character else watched.id
            self.record(actor.name, "unsnoop", who)
            self._done(session, "unsnoop", who)
            return None
        ch = server.world.find_online(name)
        target = server.by_character.get(ch.id) if ch is not None else None
        if ch is None or target is None:
            return Refused(Code.NOT_HERE, f"{name.capitalize()} has no connection to watch.")
        if ch.role is Role.ADMIN:
            return Refused(Code.BAD_TARGET, "You can't snoop on another admin.")
        old = self.snooping.pop(session, None)
        if old is not None and session in old.watchers:
            old.watchers.remove(session)
        target.watchers.append(session)
        self.snooping[session] = target
        self.record(actor.name, "snoop", ch.name)
        self._done(session, "snoop", ch.name)
        return None

    def _end_watch(self, watched: SessionHandle, message: str) -> None:
        for watcher in list(watched.watchers):
            self.snooping.pop(watcher, None)
            watcher.notify([("notice", message)], "notice")
            self.server.mark(watcher)
        watched.watchers.clear()

    def session_gone(self, session: SessionHandle) -> None:
        """A session closed: end the snoops it took part in."""
        watched = self.snooping.pop(session, None)
        if watched is not None and session in watched.watchers:
            watched.watchers.remove(session)
        if session.watchers:
            who = session.character.name if session.character else session.id
            self._end_watch(session, f"{who} has left; your snoop ends.")

    def _force(self, session: SessionHandle, actor: Character, name: str, line: str
               ) -> Refused | None:
        server = self.server
        ch = server.world.find_online(name)
        if ch is None or ch.kind is Kind.MOB:
            return Refused(Code.NOT_HERE, f"No one called '{name[:30]}' is playing now.")
        if ch.role is Role.ADMIN:
            return Refused(Code.BAD_TARGET, "You can't force another admin.")
        target = server.by_character.get(ch.id)
        shown = redact_line(line, server.world.registry, ch.aliases)  # no secret in any record
        if target is not None:
            target.notify([("warning", f"{actor.name} forces you to: {shown}")], "warning")
            server.mark(target)
        if not server.record(Command("", target.id if target else "", ch.id,
                                     masked_line(line, server.world.registry, ch.aliases))):
            return UNRECORDED
        try:
            refusal = server.world.perform_line(ch, line)
        except Exception as exc:  # a bug in a command must not take the server down
            self.log.error("command_crashed", character=ch.name, forced_by=actor.name,
                           exc_info=exc)
            refusal = Refused("internal_error", "Something went wrong; it has been logged.")
        self.collect_edits()
        server.route()
        if refusal is not None and target is not None:
            target.say([("error", refusal.message)])
            if not target.text_mode:
                target.send({"type": "error", "code": refusal.code, "message": refusal.message})
            server.mark(target)
        outcome = "ok" if refusal is None else f"refused: {refusal.code}"
        self.record(actor.name, "force", ch.name, detail=f"{shown} ({outcome})")
        self._done(session, "force", ch.name, line=shown, ok=refusal is None,
                   error=None if refusal is None else refusal.code)
        return None

    # ---- reading the audit log ------------------------------------------------------------

    async def _audit(self, session: SessionHandle, args: dict[str, Any]) -> Refused | None:
        since: datetime | None = None
        if args.get("since_seconds"):
            since = _now() - timedelta(seconds=int(args["since_seconds"]))
        elif args.get("since_date"):
            since = datetime.fromisoformat(str(args["since_date"]))
            if since.tzinfo is None:
                since = since.replace(tzinfo=UTC)
        who = args.get("who")
        action = args.get("action")
        await self.flush()
        rows = await self.server.in_db(self.store.audit, who, action, since, AUDIT_ROWS)
        session.deliver(AuditListed([r.to_data() for r in rows],
                                    {"who": who, "action": action, "since": _when(since),
                                     "limit": AUDIT_ROWS}))
        self.server.mark(session)
        return None

    # ---- zone export ------------------------------------------------------------------------

    def _zone_export(self, session: SessionHandle, actor: Character, zone: str,
                     doc: dict[str, Any]) -> Outcome:
        counts = building.zone_counts(doc)
        self._write_now()  # the zone's edits so far go to the database first, in order
        return self._finish_export(session, actor, zone, doc, counts)

    async def _finish_export(self, session: SessionHandle, actor: Character, zone: str,
                             doc: dict[str, Any], counts: dict[str, int]) -> Refused | None:
        zones_dir = self.server.settings.content_dir / "zones"
        try:
            path, marked = await self.server.in_db(self._write_zone, zones_dir, zone, doc)
        except OSError as exc:
            return Refused(Code.CONFLICT, f"Can't write the zone file: {exc}")
        self.record(actor.name, "zone.export", zone, None,
                    {"path": str(path), "edits": marked, **counts})
        session.deliver(building.ZoneExported(zone, str(path), counts))
        self.server.mark(session)
        return None

    # ---- reload content ---------------------------------------------------------------------

    async def _reload(self, session: SessionHandle, actor: Character) -> Refused | None:
        """Re-read content/, lay the edits not yet exported over it, swap it in."""
        server = self.server
        try:
            new = await asyncio.to_thread(content.load, server.settings.content_dir)
        except ContentError as err:
            self.record(actor.name, "reload", "content", detail=f"refused: {err}")
            return Refused(Code.BAD_CONTENT, f"Content not reloaded: {err}")
        self._tail = []  # edits made while we read the database: applied after the stored
        try:
            await self.flush()
            records = await server.in_db(self.store.pending_edits)
            tail = self._tail
        finally:
            self._tail = None
        scratch = World(new, seed=0)  # the files plus every unexported edit, built aside
        self._replay_into(scratch, records, tail)
        server.record(AdminInput(actor.name, RELOAD))
        try:
            server.world.reload(scratch.content)
        except building.EditError as err:
            self.record(actor.name, "reload", "content", detail=f"refused: {err}")
            return Refused(Code.BAD_CONTENT, f"Content not reloaded: {err}")
        finally:
            server.reloaded()  # replay goes on from the world as it is now
        server.content = new
        server.route()
        counts = {"zones": len(new.zones), "rooms": len(scratch.content.rooms),
                  "edits": len(records) + len(tail)}
        self.record(actor.name, "reload", "content", None, counts)
        self._done(session, "reload", "content", **counts)
        return None

    def _write_zone(self, zones_dir: Path, zone: str, doc: dict[str, Any]) -> tuple[Path, int]:
        """On the database thread: write the file (atomically, over the old one's text so
        that its comments stay), then stamp the edits."""
        path = zone_file(zones_dir, zone)
        old = path.read_text(encoding="utf-8") if path.is_file() else None
        text = dump_zone(zone, doc, old)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".yaml.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
        return path, self.store.mark_exported(zone)


def zone_file(zones_dir: Path, zone: str) -> Path:
    """The file zone `zone` lives in: the one whose `zone.id` it is, else `<zone>.yaml`."""
    for path in sorted(zones_dir.glob("*.yaml")):
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            continue
        if isinstance(doc, dict) and isinstance(doc.get("zone"), dict) \
                and doc["zone"].get("id") == zone:
            return path
    return zones_dir / f"{zone}.yaml"


def _yaml() -> YAML:
    """ruamel.yaml in round-trip mode, laid out as content/ is: block style, lists indented
    under their key, long lines left long (a wrap would re-flow every description)."""
    rt = YAML(typ="rt")
    rt.width = 4096
    rt.indent(mapping=2, sequence=4, offset=2)
    rt.preserve_quotes = True
    return rt


def _fresh(value: Any) -> Any:
    """A new value as ruamel writes it: multi-line strings as `|` blocks."""
    if isinstance(value, dict):
        return CommentedMap((k, _fresh(v)) for k, v in value.items())
    if isinstance(value, list):
        return CommentedSeq(_fresh(v) for v in value)
    if isinstance(value, str) and "\n" in value:
        return LiteralScalarString(value)
    return value


def _delete(node: CommentedMap, key: Any) -> None:
    """Delete `key`, handing the comment after its value (ruamel keeps the comment lines
    that open the next key there) to the key before it."""
    keys = list(node)
    at = keys.index(key)
    note = node.ca.items.pop(key, None)
    del node[key]
    if note is None or at == 0 or len(note) < 3 or note[2] is None:
        return
    prev = keys[at - 1]
    mine = node.ca.items.setdefault(prev, [None, None, None, None])
    if mine[2] is None:
        mine[2] = note[2]
    else:
        mine[2].value += note[2].value


def _merge(old: Any, new: Any) -> Any:
    """`new` laid over `old` (a round-trip node) in place: keys and items that stay keep
    their comments and styles; equal scalars keep their quoting and `>-` folding."""
    if isinstance(old, CommentedMap) and isinstance(new, dict):
        for key in reversed([k for k in old if k not in new]):
            _delete(old, key)
        for key, value in new.items():
            old[key] = _merge(old[key], value) if key in old else _fresh(value)
        return old
    if isinstance(old, CommentedSeq) and isinstance(new, list):
        merged = [_merge(old[i], v) if i < len(old) else _fresh(v) for i, v in enumerate(new)]
        del old[len(new):]
        for i, value in enumerate(merged):
            if i < len(old):
                old[i] = value
            else:
                old.append(value)
        return old
    if type(old) is not bool and type(new) is not bool and old == new \
            and not isinstance(old, dict | list):
        return old
    return _fresh(new)


def dump_zone(zone: str, doc: dict[str, Any], old: str | None = None) -> str:
    """A zone document as the YAML the loader reads, the keys in the document's order.

    With `old` (the zone file's text), the document is laid over it: its comments, its
    tutorial header and the layout of what did not change are kept (ruamel.yaml round
    trip). Without it (a new zone), a short header comes first.
    """
    rt = _yaml()
    out = io.StringIO()
    tree = None
    if old is not None:
        try:
            tree = rt.load(old)
        except YAMLError:
            tree = None  # unreadable: written anew
    if isinstance(tree, CommentedMap):
        rt.dump(_merge(tree, doc), out)
        return out.getvalue()
    header = (f"# Zone {zone}: written by `zone export` (see docs/building.md); the format is\n"
              "# described in content/README.md. Edit it here or in game; the loader checks it.\n")
    rt.dump(_fresh(doc), out)
    return header + out.getvalue()



def without_zones(state: Any, zones: tuple[str, ...]) -> Any:
    """A content state less its entries for `zones` (already written to their files)."""
    if not zones or not isinstance(state, dict):
        return state
    out: dict[str, Any] = {}
    for key, table in state.items():
        if not isinstance(table, dict):
            out[key] = table
        elif key in ("zones", "resets"):
            out[key] = {z: v for z, v in table.items() if z not in zones}
        else:
            out[key] = {i: v for i, v in table.items() if str(i).split(":", 1)[0] not in zones}
    return out
