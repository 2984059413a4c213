"""The composition root: content, world, storage, accounts, tick and listener, wired together.

`Server` owns the one `World` and every `Session`. It runs commands for
sessions (it is their `GamePort`), routes the world's deliveries to sessions,
carries out what sessions ask (logins, quit, password changes, stats), saves
characters off the tick, and shuts down cleanly, saving everyone first.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import time
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

import psutil

from server import gctune, log, netguard, wire
from server.bus.messages import AdminInput, Enter, Input, Leave, LinkLost, Tick
from server.bus.messages import Call as CallInput
from server.bus.messages import Command as CommandInput
from server.config import Settings
from server.gateway import gmcp
from server.gateway.front import opened, refused
from server.gateway.session import (
    AuthRequest,
    GameRequest,
    Limits,
    Session,
    SessionHandle,
    State,
    deliver_many,
)
from server.gateway.telnet import TelnetConnection
from server.gateway.writer import Link, Writer, keepalive
from server.gateway.ws import Connection
from server.host import accounts, content, datadir
from server.host.a2a import A2A
from server.host.admin import Admin
from server.host.clock import TickLoop
from server.host.identity import Identity
from server.host.lockstep import Lockstep
from server.host.recorder import (
    RELOAD,
    START,
    STOP,
    UNRECORDED,
    WorldRecorder,
    content_hash,
    masked_args,
    masked_line,
)
from server.host.relay import Tagged
from server.host.storage import NameTaken, SqlRepository
from server.host.usage_service import Metering
from server.metrics import Metrics
from server.netguard import LogBudget
from server.wire import ErrorCode
from world.commands.registry import Call, redact_call, redact_line, tools_for
from world.entities import Character, Kind, Role
from world.errors import Refused
from world.events import (
    Arrived,
    Departed,
    Emoted,
    Entered,
    Event,
    GoldChanged,
    ItemBought,
    ItemMoved,
    ItemSold,
    Left,
    LevelGained,
    QuestCompleted,
    Said,
    Shouted,
    StatsShown,
)
from world.game import World
from world.observe import observe

if TYPE_CHECKING:
    from server.bus.nats import NatsBus
    from server.host.replica import JournalReplica
    from server.host.snapshot_db import MirroredSnapshots

T = TypeVar("T")

ECONOMY: frozenset[type] = frozenset({GoldChanged, ItemBought, ItemSold, QuestCompleted,
                                      LevelGained, ItemMoved})
"""Events whose change is written through at once (`ItemMoved` only for `given`, for
the giver and the receiver: both are saved in one transaction)."""

HEARD_ONLY: frozenset[type] = frozenset({Said, Shouted, Emoted, Arrived, Departed, Entered,
                                         Left})
"""Events that change nothing of a recipient other than their actor: hearing one does not
put a character in the durability flush (in a crowded square nearly every event is one
of these, and every bystander's snapshot would be taken and compared for nothing)."""

FLUSH_SLICE = 50
"""Characters snapshotted per pass of the event loop by the durability flush."""



def same_state(written: dict[str, Any] | None, snap: dict[str, Any]) -> bool:
    """Whether `snap` holds what `written` does, but for the time played (which grows by
    the tick: written with the next real change, the autosave or the quit)."""
    if written is None or len(written) != len(snap):
        return False
    return all(v == written.get(k) for k, v in snap.items() if k != "played_ticks")


class Server:
    """One game server process.

    Args:
        settings: the configuration.
    """

    def __init__(self, settings: Settings, listen: bool = True) -> None:
        self.settings = settings
        self.listen = listen  # False: a world host, whose sessions are on gateways
        self.log = log.get()
        self.content = content.load(settings.content_dir)
        seed = settings.seed if settings.seed is not None else int.from_bytes(os.urandom(4))
        self.world = World(self.content, seed=seed)
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.repo = SqlRepository(settings.resolved_database_url)
        self.lock: datadir.ServerLock = datadir.NoLock()  # held from start() to shutdown()
        self.db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="db")
        self.hasher = accounts.Hasher(settings.argon2_time_cost, settings.argon2_memory_kib,
                                      settings.argon2_parallelism,
                                      workers=max(1, settings.auth_concurrency))
        self.throttle = accounts.Throttle(settings.login_fail_limit, settings.login_fail_window,
                                          delay=settings.login_fail_delay,
                                          delay_max=settings.login_fail_delay_max)
        self.exempt = netguard.parse_networks(settings.exempt_addresses, "exempt_addresses")
        self.registrations = accounts.Registrations(
            settings.register_per_address, settings.register_window,
            settings.register_global, settings.register_global_window, exempt=self.exempt)
        self.auth_gate = accounts.AuthGate(settings.auth_concurrency, settings.auth_queue_max,
                                           settings.auth_inflight_per_address, self.exempt)
        self._auth_logs: dict[SessionHandle, LogBudget] = {}  # auth refusals logged, per session
        self._fresh: set[SessionHandle] = set()  # created a character, no command typed yet
        self.metrics = Metrics()
        # Where a client may reconnect (hello's `gateways`): checked at start (config.py).
        self.gateways = [u.strip() for u in settings.gateway_urls.split(",") if u.strip()]
        self.limits = Limits(settings.rate, settings.burst, settings.queue_max,
                             settings.max_message_bytes)
        self.connections: set[Link] = set()
        self.trusted_proxies = netguard.parse_networks(settings.trusted_proxies)
        self.per_address = netguard.AddressCounter(settings.max_connections_per_address,
                                                   self.exempt)
        # Connections refused for their address are logged within one server-wide budget.
        self.refusals_logged = LogBudget(settings.log_lines_per_minute, time.monotonic)
        self.sessions: dict[SessionHandle, Link] = {}
        self.by_character: dict[int, SessionHandle] = {}
        # How one event reaches its sessions (`route`): this process's own, rendered here;
        # a world host's relay puts its own in (server/host/relay.py: one `Delivery` per
        # gateway).
        self.fan_out: Callable[[Event, list[SessionHandle], dict[Any, Any]], None] = (
            deliver_many)
        self.roles: dict[int, str] = {}
        self.linkdead: dict[int, float] = {}
        self.ticker = TickLoop(self._tick, settings.tick_hz, on_error=self._tick_error,
                               manual=settings.lockstep)  # lockstep: `advance` ticks
        self.ticker.listeners.append(self.metrics.tick_seconds.observe)
        self._queued: set[SessionHandle] = set()
        self._ids = itertools.count(1)
        self._servers: list[asyncio.Server] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._background: set[asyncio.Task[Any]] = set()
        self._stopping = False
        self.stopped = asyncio.Event()
        self.started_at = time.time()
        self.port = settings.port
        self.telnet_port = settings.telnet_port
        self._proc = psutil.Process()
        self.gc_meter = gctune.PauseMeter(self._gc_paused)  # every collection's pause, measured
        self.saved = 0
        # Durability (README): characters that were told something are written within
        # `dirty_save_interval`; economy changes (gold, trades, shops, quests, levels)
        # are written through at once, the parties of one change in one transaction.
        self._unsaved: set[Character] = set()
        self._write_through: set[Character] = set()
        self._saving = False
        self._written_during_flush: set[Character] = set()
        # Each character's last snapshot written: the flush skips those unchanged since.
        self._written: dict[str, dict[str, Any]] = {}
        self._holding: set[SessionHandle] = set()  # quit: output held until the save is done
        self.writer = Writer(self.sessions, settings, self.now, self._holding)
        self.exit_code = 0  # what `aegent serve` exits with (reboot: admin.REBOOT_EXIT_CODE)
        self.admin = Admin(self)
        self.identity = Identity(self)  # agents: API-key logins, scopes, key revocation
        self.usage = Metering(self, settings)  # agents' model usage and budgets
        self.a2a = A2A(self)  # agents reachable over Agent2Agent (server/host/a2a.py)
        self.lockstep = Lockstep(self)  # `advance` (server/host/lockstep.py)
        self._deferred: list[Refused | Awaitable[Refused | None]] | None = None
        # The journal (server/host/recorder.py): every world input, before it applies.
        self.recorder: WorldRecorder | None = None
        # (gateway, session) -> its last command the journal replayed at start: what a
        # gateway's session, logged in again, sent before the crash and need not resend
        self.recovered_commands: dict[tuple[str, str], int] = {}
        # Cluster mode (serve_world): the journal copied to JetStream, snapshots also in
        # the database, so that a world host may start again on another machine.
        self.journal_bus: NatsBus | None = None
        self.replica: JournalReplica | None = None
        self.snapshot_mirror: MirroredSnapshots | None = None

    @property
    def journal_last(self) -> int:
        """The number of the newest journal entry (0: no journal)."""
        return self.recorder.last if self.recorder is not None else 0

    @property
    def game_name(self) -> str:
        """The game's name, from its content."""
        return self.content.name

    # ---- life cycle -------------------------------------------------------------

    def now(self) -> float:
        """Monotonic seconds."""
        return time.monotonic()

    async def in_db(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a storage call on the database thread."""
        return await asyncio.get_running_loop().run_in_executor(self.db, fn, *args)

    async def start(self) -> None:
        """Lock the database, migrate it, listen, and start the tick.

        Raises:
            datadir.AlreadyRunning: another server runs on this database.
        """
        # One server per database (server/host/datadir.py): before migrating or listening.
        self.lock = await asyncio.to_thread(datadir.acquire, self.settings)
        try:
            await self._start()
        except BaseException:
            await asyncio.to_thread(self.lock.release)
            raise

    async def _start(self) -> None:
        self.gc_meter.install()
        await self.in_db(self.repo.migrate)
        await self.usage.start()
        await self.admin.replay()  # builder edits not yet exported, over the content files
        if self.settings.journal:
            await self._recover()
        if self.listen:
            await self._listen()
        for coro in (self.ticker.run(), self._housekeeping(), self._autosave(), self._flusher(),
                     self.identity.watch(), self.usage.run(), self._snapshots_task()):
            self._tasks.append(asyncio.create_task(coro))
        if self.settings.parent_pid is not None:
            self._tasks.append(asyncio.create_task(self._watch_parent(self.settings.parent_pid)))
        self.log.info("server_started", host=self.settings.host, port=self.port,
                      telnet_port=self.telnet_port,
                      rooms=len(self.world.rooms), tick_hz=self.settings.tick_hz,
                      database=self.settings.resolved_database_url.split("://")[0])

    async def _listen(self) -> None:
        loop = asyncio.get_running_loop()
        srv = await loop.create_server(lambda: Connection(self), self.settings.host,
                                       self.settings.port, reuse_address=True, backlog=2048)
        self._servers.append(srv)
        self.port = srv.sockets[0].getsockname()[1]
        tsrv = await loop.create_server(lambda: TelnetConnection(self), self.settings.host,
                                        self.settings.telnet_port, reuse_address=True,
                                        backlog=2048)
        self._servers.append(tsrv)
        self.telnet_port = tsrv.sockets[0].getsockname()[1]

    def install_signal_handlers(self) -> None:
        """SIGINT/SIGTERM save everyone and stop."""
        loop = asyncio.get_running_loop()
        def on_signal(sig: signal.Signals) -> None:
            self.spawn(self.shutdown(f"signal {sig.name}"))

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, on_signal, sig)

    async def shutdown(self, reason: str = "shutdown") -> None:
        """Tell everyone, save every character, close every connection, stop."""
        if self._stopping:
            await self.stopped.wait()
            return
        self._stopping = True
        self.admin.stop()
        self.log.info("shutdown_started", reason=reason, players=len(self.by_character))
        for srv in self._servers:
            srv.close()
        batch = []
        for ch in list(self.world.characters.values()):
            if ch.kind is Kind.MOB:
                continue
            if self.listen:
                self.record(Leave("", "", ch.id, "shutdown"))
                batch.append((ch.name, self.world.leave(ch, "shutdown")))
            else:  # a world host: they stay, link-dead after the restart, for the gateways
                batch.append((ch.name, self.world.snapshot(ch)))
        self.world.drain()
        self._unsaved.clear()
        self._write_through.clear()
        saved = await self.save(batch) if batch else True
        for session in [s for s in self.sessions if not s.relayed]:  # once it is true
            session.notify([("", "The server is shutting down now. " + (
                "Your character is saved; see you soon." if saved else
                "Saving failed; the admins have been told."))], "warning")
            self.mark(session)
        self._flush()
        self.ticker.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for session, conn in list(self.sessions.items()):
            if not session.relayed:  # a gateway's: it keeps the connection for the next host
                session.close("shutdown")
                conn.close(1001, "server shutting down")
        await asyncio.sleep(0.05)
        for conn in list(self.connections):
            conn.abort()
        for srv in self._servers:
            await srv.wait_closed()
        if self.recorder is not None:  # the world as it stopped: the next start goes on
            await asyncio.to_thread(self.recorder.snapshot_now, self.world, STOP)
            self.recorder.close()
        if self.snapshot_mirror is not None:  # the database copies, before it closes
            await asyncio.to_thread(self.snapshot_mirror.close)
        await self.admin.flush()  # edits and audit entries still pending
        await self.usage.flush()  # model usage not yet written
        await self.in_db(self.repo.close)
        await asyncio.to_thread(self.lock.release)  # only now may another server start
        self.db.shutdown(wait=True)
        self.hasher.close()
        self.gc_meter.remove()
        self.log.info("shutdown_done", saved=len(batch))
        self.stopped.set()

    def output_held(self) -> bool:
        """Whether some session's output waits for a save to finish (lockstep's
        `advance` answers only once it has gone out)."""
        return bool(self._holding)

    def spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        task.add_done_callback(self.task_done)

    def task_done(self, task: asyncio.Future[Any]) -> None:
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            self.log.error("task_failed", error=repr(exc), exc_info=exc)

    # ---- the journal ---------------------------------------------------------------

    def record(self, entry: Input) -> bool:
        """Journal one world input before it is applied (a no-op without a journal);
        False if the journal could not take it (logged: the caller does not apply a
        command then)."""
        if self.recorder is None:
            return True
        try:
            self.recorder.record(entry)
        except Exception as exc:
            self.metrics.errors.labels(code="journal_failed").inc()
            self.log.error("journal_append_failed", entry=type(entry).__name__, error=repr(exc))
            return False
        return True

    async def _recover(self) -> None:
        """Open the journal and take the world it recorded (server/host/recorder.py):
        the characters that were playing stand link-dead, waiting for their players."""
        s = self.settings
        digest = await asyncio.to_thread(content_hash, s.content_dir)
        snapshots = None
        if self.journal_bus is not None:
            from server.host.snapshot_db import DbSnapshotStore, MirroredSnapshots

            snapshots = self.snapshot_mirror = MirroredSnapshots(
                s.data_dir / "journal" / "snapshots", DbSnapshotStore(self.repo.engine))
        self.recorder = await asyncio.to_thread(
            WorldRecorder, s.data_dir / "journal", digest, retention=s.journal_retention,
            sync=s.journal_sync, snapshots=snapshots)
        if self.journal_bus is not None:
            from server.host.replica import JournalReplica

            self.replica = JournalReplica(self.recorder.journal, self.journal_bus,
                                          since=self.recorder.snapshot_seq)
            await self.replica.start()  # before recovery: what JetStream holds past ours
            self.recorder.replica = self.replica
        recovery = await asyncio.to_thread(self.recorder.recover, self.world)
        self.world = recovery.world
        self.world.drain()
        self.recovered_commands = recovery.commands
        if recovery.left:  # left just before the crash: written again, to be sure
            await self.save(list(recovery.left.items()))
        now = self.now()
        for ch in list(self.world.characters.values()):
            if ch.kind is Kind.MOB:
                continue
            if not ch.linkdead:
                self.record(LinkLost("", "", ch.id))
                self.world.set_linkdead(ch, True)
            self.linkdead[ch.id] = now
        self.world.drain()
        if recovery.snapshot is not None:
            self.log.info("world_resumed", snapshot=recovery.snapshot.seq,
                          replayed=recovery.replayed, tick=self.world.time,
                          waiting=len(self.linkdead))
        # This run starts here: replay goes on from this snapshot (the world may be new).
        self.record(AdminInput("", START, {"resumed": recovery.snapshot is not None}))
        await asyncio.to_thread(self.recorder.snapshot_now, self.world, START)

    def reloaded(self) -> None:
        """The content was reloaded (after an `AdminInput` reload was recorded): snapshot
        the world now, since replay goes on from there (the new content is not in the
        journal). A few milliseconds on the loop, once per reload."""
        if self.recorder is not None:
            self.recorder.snapshot_now(self.world, RELOAD)

    async def _snapshots_task(self) -> None:
        """Snapshot the world every `snapshot_interval` (recovery replays less)."""
        while True:
            await asyncio.sleep(self.settings.snapshot_interval)
            if self.recorder is not None:
                try:
                    await self.recorder.snapshot(self.world)
                except Exception as exc:
                    self.log.error("snapshot_failed", error=repr(exc))

    # ---- sessions ---------------------------------------------------------------

    def open_session(self, conn: Link, kind: wire.Subprotocol) -> Session:
        """A WebSocket was accepted: make its session and greet it."""
        session = Session(f"s{next(self._ids)}", kind, self, self.limits, self.now(),
                          conn.address)
        opened(self, self.sessions, session, conn, self.content.name, self.content.motd,
               self.gateways)
        self.mark(session)
        return session

    def receive(self, session: Session, payload: str | bytes) -> None:
        """A whole message arrived for `session`."""
        session.receive_frame(payload, self.now())
        self._after(session)

    def refuse_input(self, session: Session, code: str, message: str) -> None:
        """Input a shell could not turn into a message (telnet: not UTF-8, a line too long)."""
        refused(self, session, code, message)
        self.mark(session)

    def attach(self, session: SessionHandle, link: Link) -> None:
        """A gateway's session (server/host/relay.py) is known here from now on."""
        self.sessions[session] = link
        self.metrics.sessions.labels(kind=str(session.subprotocol)).inc()
        self.log.info("session_attached", session=session.id, address=session.address)

    def requested(self, session: SessionHandle) -> None:
        """Carry out what `session` asks for now (its `requests`), and send its output."""
        self._after(session)

    def _after(self, session: SessionHandle) -> None:
        if session.requests:
            self._handle_requests(session)
        if session.queued:
            self._queued.add(session)
        self.mark(session)

    def session_lost(self, session: SessionHandle) -> None:
        """The connection under `session` is gone."""
        self.admin.session_gone(session)
        if self.sessions.pop(session, None) is not None:
            self.metrics.sessions.labels(kind=str(session.subprotocol)).dec()
        self._queued.discard(session)
        self._holding.discard(session)
        self.writer.forget(session)
        self._auth_logs.pop(session, None)
        fresh = session in self._fresh
        self._fresh.discard(session)
        ch = session.character
        was = session.state
        session.close(session.close_reason or "connection lost")
        self.log.info("session_closed", session=session.id,
                      character=ch.name if ch else None, reason=session.close_reason)
        if ch is not None and was is State.PLAYING and self.by_character.get(ch.id) is session:
            del self.by_character[ch.id]
            if ch.name.lower() in self.world.characters and fresh:
                # Made and gone before its first command: nothing to come back to, so it
                # leaves (saved) at once rather than stand link-dead for linkdead_grace.
                self.record(Leave("", session.id, ch.id, "quit"))
                snap = self.world.leave(ch, "quit")
                self.route()
                self.log.info("character_left_unplayed", character=ch.name)
                self.spawn(self.save([(ch.name, snap)]))
            elif ch.name.lower() in self.world.characters:
                self.record(LinkLost("", session.id, ch.id))
                self.world.set_linkdead(ch, True)
                self.linkdead[ch.id] = self.now()
                self._unsaved.add(ch)
                self.route()

    def mark(self, session: SessionHandle, urgent: bool = True) -> None:
        """Note that `session` has output (server/gateway/writer.py: `urgent` goes at the
        end of this pass of the loop, fan-out up to `fanout_delay` later)."""
        self.writer.mark(session, urgent)

    def _flush(self) -> None:
        self.writer.flush()

    # ---- the game port ------------------------------------------------------------

    def class_names(self) -> dict[str, str]:
        """Class id -> name."""
        return {cid: c.name for cid, c in self.content.classes.items()}

    def tool_list(self, session: SessionHandle, every: bool = False) -> list[dict[str, Any]]:
        """The tools the session may use: its role allows them and (an agent) its API
        key's scopes grant their category. `every`: the role's whole list, each tool
        marked `allowed` or not by the scopes (docs/protocol.md, `tools`)."""
        role = session.character.role if session.character else Role.PLAYER
        return tools_for(self.world.registry, role, session.allowed_categories, every=every)

    def run(self, session: SessionHandle, msg: wire.Command | wire.CallTool | wire.Observe) -> None:
        """Apply one command for the session's character and route what it caused."""
        ch = session.character
        assert ch is not None
        self._fresh.discard(session)
        if isinstance(msg, wire.Observe):
            self.observe(session, ch, msg.id)
            return
        if session.agent is not None:  # an API key's scopes limit its command categories
            forbidden = self.identity.scope_refusal(session, ch, msg)
            if forbidden is not None:
                self._answer(session, msg.id, forbidden)
                return
        if session.watchers:
            session.echo(self._typed(ch, msg), typed=True)
        if session.agent is not None and self.a2a.answer(session, ch, msg):
            return  # its tell answered an A2A message, its owner away (server/host/a2a.py)
        registry = self.world.registry
        id, n = (msg.id.id, msg.id.n) if isinstance(msg.id, Tagged) else (msg.id, 0)
        if not self.record(CommandInput(session.gateway, session.id, ch.id,
                                        masked_line(msg.line, registry, ch.aliases), id, n)
                           if isinstance(msg, wire.Command) else
                           CallInput(session.gateway, session.id, ch.id, msg.tool,
                                     masked_args(msg.tool, msg.args, registry), id, n)):
            self._answer(session, msg.id, UNRECORDED)
            return
        outer, self._deferred = self._deferred, []
        try:
            if isinstance(msg, wire.Command):
                refusal = self.world.perform_line(ch, msg.line)
            else:
                refusal = self.world.perform(ch, Call(msg.tool, msg.args))
        except Exception as exc:  # a bug in a command must not take the server down
            self.log.error("command_crashed", session=session.id, character=ch.name,
                           exc_info=exc)
            refusal = Refused(ErrorCode.INTERNAL, "Something went wrong; it has been logged.")
        self.metrics.commands.labels(command=self.world.last_command or "unknown").inc()
        try:
            self.admin.collect_edits()
            self.route()
        finally:
            outcomes, self._deferred = self._deferred, outer
        if any(not isinstance(o, Refused) for o in outcomes):
            # Database work under way (ban, audit...): the result waits for it.
            self.spawn(self._answer_later(session, msg.id, refusal, outcomes))
            self.mark(session)
            return
        if refusal is None and outcomes:
            refusal = next(o for o in outcomes if isinstance(o, Refused))
        self._answer(session, msg.id, refusal)

    def _typed(self, ch: Character, msg: wire.Command | wire.CallTool) -> str:
        """What `ch` typed, for admins snooping: cleaned, and a sensitive command's secrets
        masked, also behind an alias or inside a line it carries (`alias`, `force`)."""
        if isinstance(msg, wire.Command):
            return redact_line(msg.line, self.world.registry, ch.aliases)
        return redact_call(msg.tool, msg.args, self.world.registry)

    def _answer(self, session: SessionHandle, id: Any, refusal: Refused | None) -> None:
        """The end of a command: its `result` (or, without an id, an `error` if refused)."""
        if refusal is not None:
            self.metrics.errors.labels(code=refusal.code).inc()
            session.answer(id, refusal.code, refusal.message)
        else:
            session.answer(id)
        self.mark(session)

    async def _answer_later(self, session: SessionHandle, id: Any, refusal: Refused | None,
                            outcomes: list[Refused | Awaitable[Refused | None]]) -> None:
        """Wait for a command's database work, then answer it (the first refusal wins)."""
        for outcome in outcomes:
            try:
                got = outcome if isinstance(outcome, Refused) else await outcome
            except Exception as exc:
                self.log.error("request_failed", session=session.id, exc_info=exc)
                got = Refused(ErrorCode.INTERNAL, "Something went wrong; it has been logged.")
            refusal = refusal or got
        if session in self.sessions:
            self._answer(session, id, refusal)

    def observe(self, session: SessionHandle, ch: Character, id: Any = None) -> None:
        """Answer `observe`: the snapshot and actions of world/observe.py, as of the
        session's last event (`seq`)."""
        reply: dict[str, Any] = {"type": "observation"}
        if id is not None:
            reply["id"] = id
        reply["seq"] = session.seq
        reply.update(observe(self.world, ch))
        session.send(reply)
        self.metrics.commands.labels(command="observe").inc()
        self.mark(session)

    def route(self) -> None:
        """Deliver what the world queued since the last drain, each event to the sessions
        of its recipients (`fan_out`), and note who must be written: everyone told of a
        change, by the durability flush; economy changes at once (write-through)."""
        fanouts = self.world.drain_fanouts()
        if not fanouts:
            return
        cache: dict[Any, Any] = {}
        by_character = self.by_character
        touched: set[SessionHandle] = set()
        economy = ECONOMY
        unsaved = self._unsaved
        heard_only = HEARD_ONLY
        fan_out, local = self.fan_out, self.listen
        online = self.world.characters
        for fanout in fanouts:
            event = fanout.event
            recipients = fanout.recipients
            sessions = [s for r in recipients if (s := by_character.get(r.id)) is not None]
            if event.internal:  # requests to this process (quit, password...): one by one
                for session in sessions:
                    session.deliver(event, cache)
                    if session.requests:
                        self._handle_requests(session)
            else:
                fan_out(event, sessions, cache)
            if local:  # a gateway's sessions: their gateway does the waiting
                touched.update(sessions)
            kind = type(event)
            actor = getattr(event, "actor", None) if kind in heard_only else None
            if actor is None:
                unsaved.update(recipients)
            else:  # those who only heard it are as they were: the actor changed, maybe
                doer = online.get(actor.lower())
                if doer is not None and doer in recipients:  # by identity, in C
                    unsaved.add(doer)
            if kind in economy:
                if isinstance(event, ItemMoved):
                    if event.action == "given":
                        self._write_through.update(r for r in recipients
                                                   if r.name in (event.actor, event.target))
                else:
                    self._write_through.update(recipients)
        if touched:
            self.writer.mark_fanout(touched)
        if self._write_through:
            batch, self._write_through = self._write_through, set()
            unsaved.difference_update(batch)
            if self._saving:  # a flush is taking its snapshots: theirs are older than these
                self._written_during_flush.update(batch)
            saving = asyncio.ensure_future(self._save_soon(self.snapshots(batch)))
            # What told them of the change (and any result) goes out once it is written.
            held = [s for ch in batch if (s := by_character.get(ch.id)) is not None]
            self._holding.update(held)
            self.spawn(self._release(saving, held))

    # ---- requests from sessions ------------------------------------------------------

    def _handle_requests(self, session: SessionHandle) -> None:
        requests, session.requests = session.requests, []
        for req in requests:
            if isinstance(req, AuthRequest):
                self.spawn(self._auth(session, req))
            else:
                self._game_request(session, req)

    def _game_request(self, session: SessionHandle, req: GameRequest) -> None:
        ch = session.character
        if ch is None:
            return
        if req.kind == "quit":
            self.by_character.pop(ch.id, None)
            self.record(Leave("", session.id, ch.id, "quit"))
            snap = self.world.leave(ch, "quit")
            self._unsaved.discard(ch)
            self._write_through.discard(ch)
            self.route()
            self.log.info("character_quit", session=session.id, character=ch.name)
            session.close("quit")  # no more input; the goodbye waits for the save
            self._holding.add(session)
            self.spawn(self._quit_saved(session, self._save_soon([(ch.name, snap)])))
        elif req.kind == "password":
            self.spawn(self._change_password(session, ch, str(req.args["old"]),
                                              str(req.args["new"])))
        elif req.kind == "stats":
            session.deliver(StatsShown(self.stats()))
            self.mark(session)
        elif req.kind == "agent":
            self._outcome(session, self.identity.request(session, ch, req))
        elif req.kind == "advance":  # lockstep (server/host/lockstep.py)
            self.lockstep.request(session, int(req.args["ticks"]), req.args["id"])
        elif req.kind == "usage_message":  # a `usage` message of an agent's runtime
            self.usage.handle(session, req.args["message"])
        elif req.kind == "usage":  # the in-game `usage` command
            self._outcome(session, self.usage.request(session, ch, req))
        elif self.admin.handles(req.kind):
            self._outcome(session, self.admin.request(session, ch, req))

    async def _quit_saved(self, session: SessionHandle, saved: Awaitable[bool]) -> None:
        """Save a character that quit, then say goodbye (saying it is saved only once it
        is) and close the connection."""
        try:
            ok = await saved
        finally:
            self._holding.discard(session)
        if ok:
            session.notify([("", "Goodbye! Your character is saved. Come back soon.")])
        else:
            session.notify([("error", "Goodbye! Saving your character failed; the admins "
                                      "have been told.")], "warning")
        self.mark(session)

    def _outcome(self, session: SessionHandle, outcome: Refused | Awaitable[Refused | None] | None
                 ) -> None:
        """What an admin request came to: part of the running command's result, or (outside
        a command) an error for the session."""
        if outcome is None:
            return
        if self._deferred is not None:
            self._deferred.append(outcome)
        elif isinstance(outcome, Refused):
            self._answer(session, None, outcome)
        else:
            self.spawn(self._answer_later(session, None, None, [outcome]))

    def stats(self) -> dict[str, Any]:
        """Tick timing, sessions and traffic, for admins and /health."""
        st = self.ticker.stats
        mem = self._proc.memory_info().rss
        return {
            "tick_hz": self.settings.tick_hz,
            "tick_p50_ms": round(st.percentile(50) * 1000, 3),
            "tick_p99_ms": round(st.percentile(99) * 1000, 3),
            "tick_max_ms": round(st.slowest * 1000, 3),
            "ticks": st.ticks,
            "ticks_skipped": st.skipped,
            "world_time": self.world.time,
            "sessions": len(self.sessions),
            "characters": len(self.world.characters),
            "linkdead": len(self.linkdead),
            "rss_mib": round(mem / 2**20, 1),
            "uptime_s": round(time.time() - self.started_at),
            "characters_saved": self.saved,
            "gc_max_ms": round(self.gc_meter.slowest * 1000, 3),
            "gc_collections": list(self.gc_meter.collections),
        }

    def _gc_paused(self, generation: int, seconds: float) -> None:
        self.metrics.gc_pause.labels(generation=str(generation)).observe(seconds)

    def gmcp_feed(self, supports: gmcp.Supports) -> gmcp.Feed:
        """A session's GMCP feed: it reads this process's world."""
        return gmcp.Feed(self.world, supports)

    def gmcp_heard(self, session: Session, package: str, data: Any) -> None:
        """Nothing more to do: the session's feed answered from the world here."""

    def health_json(self) -> str:
        """A small JSON document for load balancers and people."""
        return json.dumps({"ok": not self._stopping, **self.stats()})

    async def _change_password(self, session: SessionHandle, ch: Character, old: str, new: str
                               ) -> None:
        """The `password` command: the same guards as a login (attempts in progress per
        address and in all, failed checks of this name from this address)."""
        denied = self.auth_gate.admit(session.address)
        if denied is None:
            try:
                denied = await self._set_password(session, ch, old, new)
            finally:
                self.auth_gate.release(session.address)
        if denied is not None:
            self._log_refusal(session, denied, "password")
            session.notify([("error", denied.message)], "warning")
        self.mark(session)

    async def _set_password(self, session: SessionHandle, ch: Character, old: str, new: str
                            ) -> accounts.Denied | None:
        attempt = self.throttle.begin(ch.name, session.address)
        if isinstance(attempt, accounts.Denied):
            return attempt
        try:
            account = await self.in_db(self.repo.get_account, ch.name)
            ok = account is not None and await self.hasher.verify(account.password_hash, old)
            self.throttle.finish(attempt, ok)
        finally:
            self.throttle.cancel(attempt)  # only if it ended before the check
        if not ok:
            self.log.info("password_change_failed", session=session.id, character=ch.name,
                          address=session.address)
            session.notify([("error", "Your current password is not that.")], "warning")
        else:
            new_hash = await self.hasher.hash(new)
            await self.in_db(self.repo.set_password, ch.name, new_hash)
            session.notify([("", "Password changed.")])
            self.log.info("password_changed", session=session.id, character=ch.name)
        return None

    # ---- logging in ------------------------------------------------------------------

    async def _auth(self, session: SessionHandle, req: AuthRequest) -> None:
        admitted = False
        try:
            if req.kind == "exists":
                await self._name_exists(session, req)
                return
            denied = self.auth_gate.admit(session.address)  # in progress: per address, all
            if denied is not None:
                self.refuse_auth(session, req.id, denied, req.kind)
                return
            admitted = True
            if req.kind == "api_key":
                await self.identity.login(session, req)
            elif req.kind == "login":
                await self._login(session, req)
            else:
                await self._register(session, req)
        except Exception as exc:
            self.log.error("auth_crashed", session=session.id, exc_info=exc)
            session.auth_failed(ErrorCode.INTERNAL, "Something went wrong; please try again.",
                                req.id)
        finally:
            if admitted:
                self.auth_gate.release(session.address)
            self._after(session)

    def refuse_auth(self, session: SessionHandle, id: Any, denied: accounts.Denied, what: str
                    ) -> None:
        """Answer a login or registration that a guard stopped (`throttled`, `busy`)."""
        self.metrics.logins.labels(outcome=denied.code).inc()
        self.metrics.errors.labels(code=denied.code).inc()
        self._log_refusal(session, denied, what)
        session.auth_failed(denied.code, denied.message, id)

    def _log_refusal(self, session: SessionHandle, denied: accounts.Denied, what: str) -> None:
        """Log a guard's refusal: at most one line per session per minute."""
        budget = self._auth_logs.get(session)
        if budget is None:
            budget = self._auth_logs[session] = LogBudget(1, self.now)
        if budget.allow():
            self.log.info("auth_refused", session=session.id, address=session.address,
                          what=what, code=denied.code, why=denied.message)

    async def _name_exists(self, session: SessionHandle, req: AuthRequest) -> None:
        name = accounts.normalize(req.name)
        account = await self.in_db(self.repo.get_account, name)
        if account is not None:
            session.name_checked(True, None, req.id)
        else:
            session.name_checked(False, accounts.check_name(name), req.id)

    async def _login(self, session: SessionHandle, req: AuthRequest) -> None:
        name = accounts.normalize(req.name)
        # Counted as a failure from here until checked, so parallel attempts can't slip by.
        attempt = self.throttle.begin(name, session.address)
        if isinstance(attempt, accounts.Denied):
            self.refuse_auth(session, req.id, attempt, "login")
            return
        try:
            account = await self.in_db(self.repo.get_account, name)
            ok = await self.hasher.verify(account.password_hash if account else None,
                                          req.password)
            ok = ok and account is not None and account.kind != "agent"  # agents: API keys
            self.throttle.finish(attempt, ok)
        finally:
            self.throttle.cancel(attempt)  # only if it ended before the check
        if not ok or account is None:
            self.metrics.logins.labels(outcome="failed").inc()
            self.metrics.errors.labels(code=ErrorCode.AUTH_FAILED).inc()
            self.log.info("login_failed", session=session.id, name=name[:accounts.NAME_MAX + 1],
                          address=session.address)
            session.auth_failed(ErrorCode.AUTH_FAILED, "Wrong name or password.", req.id)
            return
        banned = await self.admin.ban_message(account.name, session.address, account.role)
        if banned is not None:
            self.metrics.logins.labels(outcome="banned").inc()
            self.log.info("login_banned", session=session.id, name=name, address=session.address)
            session.auth_failed(ErrorCode.BANNED, banned, req.id)
            return
        muted, muted_until = await self.admin.login_mute(account.name)
        if session.state is State.CLOSED:
            return
        online = self.world.find_online(account.display_name)
        snapshot = None
        if online is None:
            snapshot = await self.in_db(self.repo.load_character, account.name)
            online = self.world.find_online(account.display_name)
        self.metrics.logins.labels(outcome="ok").inc()
        await self.in_db(self.repo.touch_login, account.name)
        self.enter(session, account.display_name, account.role, snapshot, online, req.id, False)
        if muted and session.character is not None:
            self.admin.apply_mute(session.character, muted_until)

    async def resume(self, session: SessionHandle, name: str) -> None:
        """Put `session` back in play as `name` without a password: its gateway logged it
        in before this world host started again (server/host/relay.py)."""
        try:
            online = self.world.find_online(name)
            if online is not None and online.kind is not Kind.MOB:  # recovered: no database
                self.log.info("session_resumed", session=session.id, character=online.name)
                self.enter(session, online.name, online.role.value, None, online, None,
                           False, online.kind)
                return
            account = await self.in_db(self.repo.get_account, accounts.normalize(name))
            if session.state is State.CLOSED:
                return
            if account is None:
                session.auth_failed(ErrorCode.AUTH_FAILED, "Your character is gone.")
                return
            online = self.world.find_online(account.display_name)
            snapshot = None
            if online is None:
                snapshot = await self.in_db(self.repo.load_character, account.name)
                online = self.world.find_online(account.display_name)
            kind = Kind.AGENT if account.kind == "agent" else Kind.PLAYER
            self.log.info("session_resumed", session=session.id, character=account.name)
            self.enter(session, account.display_name, account.role, snapshot, online, None,
                       False, kind)
        except Exception as exc:
            self.log.error("resume_crashed", session=session.id, exc_info=exc)
            session.auth_failed(ErrorCode.INTERNAL, "Something went wrong; please log in again.")
        finally:
            self._after(session)

    async def _register(self, session: SessionHandle, req: AuthRequest) -> None:
        name = accounts.normalize(req.name)
        problem = accounts.check_name(name)
        if problem is not None:
            session.auth_failed(ErrorCode.BAD_NAME, problem, req.id)
            return
        problem = accounts.check_password(req.password)
        if problem is not None:
            session.auth_failed(ErrorCode.BAD_PASSWORD, problem, req.id)
            return
        cls = req.cls or next(iter(self.content.classes))
        if cls not in self.content.classes:
            session.auth_failed(ErrorCode.UNKNOWN_CLASS, f"No class '{cls[:20]}'; choose one of "
                                + ", ".join(self.content.classes), req.id)
            return
        # New accounts per address and overall; those in flight hold their place.
        denied = self.registrations.begin(session.address)
        if denied is not None:
            self.refuse_auth(session, req.id, denied, "register")
            return
        made = False
        try:
            made = await self._create(session, req, name, cls)
        finally:
            self.registrations.finish(session.address, made)

    async def _create(self, session: SessionHandle, req: AuthRequest, name: str, cls: str) -> bool:
        """Make the account and enter its character; whether the account was made."""
        if await self.in_db(self.repo.get_account, name) is not None:
            session.auth_failed(ErrorCode.NAME_TAKEN, f"The name {name} is taken.", req.id)
            return False
        banned = await self.admin.ban_message(None, session.address, None)
        if banned is not None:
            session.auth_failed(ErrorCode.BANNED, banned, req.id)
            return False
        password_hash = await self.hasher.hash(req.password)
        try:
            account = await self.in_db(self.repo.create_account, name, password_hash)
        except NameTaken:
            session.auth_failed(ErrorCode.NAME_TAKEN, f"The name {name} is taken.", req.id)
            return False
        self.throttle.remember(name, session.address)  # its maker's address is known to it
        if session.state is State.CLOSED:
            return True
        self.log.info("account_created", session=session.id, name=name, cls=cls)
        self.metrics.logins.labels(outcome="registered").inc()
        self.enter(session, name, account.role, {"cls": cls}, None, req.id, True)
        ch = session.character
        if ch is not None:
            self.spawn(self.save([(name, self.world.snapshot(ch))]))
        return True

    def enter(self, session: SessionHandle, name: str, role: str, snapshot: dict[str, Any] | None,
               online: Character | None, id: Any, created: bool,
               kind: Kind = Kind.PLAYER) -> None:
        if session.state is State.CLOSED:
            return
        try:
            role_enum = Role(role)
        except ValueError:
            role_enum = Role.PLAYER
        if online is not None:
            old = self.by_character.pop(online.id, None)
            if old is not None and old is not session:
                old.notify([("warning", "Someone logged in as you from elsewhere; this "
                                        "connection is closed.")], "warning")
                old.close("taken over")
                old.character = None
                self.mark(old)
                self.log.info("session_taken_over", session=old.id, character=name,
                              by=session.id)
            self.linkdead.pop(online.id, None)
            self.record(Enter("", session.id, name, role_enum.value, online.cls, created,
                              None, str(online.kind)))
            online.role = role_enum
            ch = online
            session.auth_succeeded(ch, role, id, created)
            self.by_character[ch.id] = session
            if ch.linkdead:
                self.world.set_linkdead(ch, False)
            else:
                self.world.emit_to(ch, self.world.room_view(self.world.rooms[ch.room], ch))
                self.world.emit_to(ch, self.world.vitals(ch))
        else:
            cls = str((snapshot or {}).get("cls") or next(iter(self.content.classes)))
            if cls not in self.content.classes:
                cls = next(iter(self.content.classes))
            self.record(Enter("", session.id, name, role_enum.value, cls, created, snapshot,
                              str(kind)))
            ch = self.world.enter(name, cls, kind=kind, role=role_enum, state=snapshot)
            session.auth_succeeded(ch, role, id, created)
            self.by_character[ch.id] = session
        if session.text_mode:  # "back" only for those who were here before
            session.notify([("notice", f"Welcome, {ch.name}! Type 'help' for the commands."
                             if created else f"Welcome back, {ch.name}.")])
        if created:
            self._fresh.add(session)
        self.log.info("character_entered", session=session.id, character=ch.name,
                      room=ch.room, created=created)
        self.route()
        self.mark(session)

    # ---- time -----------------------------------------------------------------------

    def _tick(self) -> None:
        self.record(Tick(self.world.time + 1))
        self.world.tick()
        if self._queued:
            now = self.now()
            for session in list(self._queued):
                session.tick(now)
                if not session.queued:
                    self._queued.discard(session)
                self._after(session)
        self.route()

    def _tick_error(self, exc: BaseException) -> None:
        self.log.error("tick_crashed", exc_info=exc)

    async def _housekeeping(self) -> None:
        s = self.settings
        last_ping = self.now()
        last_report = self.now()
        while True:
            await asyncio.sleep(s.housekeeping_interval)
            now = self.now()
            for cid, since in list(self.linkdead.items()):
                if now - since >= s.linkdead_grace:
                    del self.linkdead[cid]
                    ch = next((c for c in self.world.characters.values() if c.id == cid), None)
                    if ch is not None and ch.linkdead:
                        self.record(Leave("", "", ch.id, "linkdead"))
                        snap = self.world.leave(ch, "linkdead")
                        self.route()
                        self.log.info("linkdead_expired", character=ch.name)
                        self.spawn(self.save([(ch.name, snap)]))
            self.admin.housekeeping()
            ping = now - last_ping >= s.ping_interval
            if ping:
                last_ping = now
            keepalive(self.connections, self.sessions, s, now, ping, self.mark, self.log)
            if now - last_report >= 60:
                last_report = now
                self.log.info("tick_report", **self.stats())

    async def _watch_parent(self, pid: int) -> None:
        """Stop once `pid` is no longer this process's parent (it died: the process was
        handed to init or a subreaper), checked every `housekeeping_interval`."""
        while os.getppid() == pid:
            await asyncio.sleep(self.settings.housekeeping_interval)
        self.log.warning("parent_gone", parent_pid=pid)
        self.spawn(self.shutdown("parent process gone"))

    async def _autosave(self) -> None:
        while True:
            await asyncio.sleep(self.settings.autosave_interval)
            await self.save_all()

    async def _release(self, saving: Awaitable[bool], held: list[SessionHandle]) -> None:
        """Send the output held for `held` once `saving` is done (written or failed)."""
        try:
            await saving
        finally:
            for session in held:
                self._holding.discard(session)
                if session in self.sessions:
                    self.mark(session)

    async def _flusher(self) -> None:
        """Write the characters that changed (were told something) since the last pass,
        every `dirty_save_interval` seconds; a pass never overlaps the one before."""
        while True:
            await asyncio.sleep(self.settings.dirty_save_interval)
            await self.flush_dirty()

    async def flush_dirty(self) -> None:
        """One pass of the durability flush: snapshot the changed characters, a slice per
        pass of the loop, and write them, less those written through meanwhile (their
        write is newer than our snapshot). Nothing if a pass is under way."""
        if not self._unsaved or self._saving:
            return
        batch, self._unsaved = list(self._unsaved), set()
        self._saving = True
        try:
            # A slice of snapshots per pass of the loop, not all at once: a crowd's
            # flush would otherwise hold everyone's replies for its length.
            snaps: list[tuple[str, dict[str, Any]]] = []
            for i in range(0, len(batch), FLUSH_SLICE):
                snaps += self.snapshots(batch[i:i + FLUSH_SLICE])
                await asyncio.sleep(0)
            newer = {ch.name for ch in self._written_during_flush}
            self._written_during_flush.clear()
            # Told something is not changed: a bystander who heard a `say` is as written.
            written = self._written
            await self.save([(n, snap) for n, snap in snaps
                             if n not in newer and not same_state(written.get(n), snap)])
            if len(written) > 2 * len(self.world.characters) + 100:  # the ones who left
                online = {ch.name for ch in self.world.characters.values()}
                self._written = {n: v for n, v in written.items() if n in online}
        finally:
            self._saving = False

    def snapshots(self, characters: Iterable[Character]) -> list[tuple[str, dict[str, Any]]]:
        """Snapshots of those of `characters` still in the world (players and agents)."""
        world = self.world
        online = world.characters
        return [(ch.name, world.snapshot(ch)) for ch in characters
                if ch.kind is not Kind.MOB and online.get(ch.name.lower()) is ch]

    async def save_all(self) -> int:
        """Save every character in the world now (off the tick); returns how many."""
        batch = [(ch.name, self.world.snapshot(ch)) for ch in self.world.characters.values()
                 if ch.kind is not Kind.MOB]
        if batch:
            await self.save(batch)
        return len(batch)

    async def save(self, batch: list[tuple[str, dict[str, Any]]]) -> bool:
        """Write `batch` in one transaction; False (and logged) if it failed."""
        return await self._save_soon(batch)

    def _save_soon(self, batch: list[tuple[str, dict[str, Any]]]) -> Awaitable[bool]:
        """Queue `batch` for the database thread now, so writes keep the order in which
        their snapshots were taken; await the result for whether it was written."""
        if not batch:
            done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
            done.set_result(True)
            return done
        write = asyncio.get_running_loop().run_in_executor(self.db, self.repo.save_characters,
                                                           batch)
        return self._saved(write, batch, time.perf_counter())

    async def _saved(self, write: Awaitable[int], batch: list[tuple[str, dict[str, Any]]],
                     t0: float) -> bool:
        try:
            n = await write
        except Exception as exc:
            self.log.error("save_failed", count=len(batch), exc_info=exc)
            return False
        written = self._written
        for name, snap in batch:  # in the order of the writes: the database thread is one
            written[name] = snap
        self.saved += n
        self.metrics.saves.inc(n)
        self.log.debug("characters_saved", count=n,
                       ms=round((time.perf_counter() - t0) * 1000, 1))
        return True


async def serve(settings: Settings, on_ready: Callable[[Server], None] | None = None) -> int:
    """Run a server until SIGINT/SIGTERM, `shutdown` or `reboot`; returns the exit status
    (0, or `REBOOT_EXIT_CODE` after `reboot`). `on_ready` is called once it listens."""
    server = Server(settings)
    # A SIGTERM while it starts (the port may already be open) is kept, and acted on
    # once it has started: never the default action, which would kill it unsaved.
    early: list[signal.Signals] = []
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, early.append, sig)
    await server.start()
    server.install_signal_handlers()
    if early:
        server.spawn(server.shutdown(f"signal {early[0].name}"))
    if on_ready is not None:
        on_ready(server)
    # The process is ours: what start built lives on, out of the collector's walks.
    gctune.tune(settings.gc_threshold)
    await server.stopped.wait()
    return server.exit_code


async def _serving(stop: Callable[[str], Awaitable[None]], start: Awaitable[None]) -> None:
    """Start a process's main object, with SIGINT/SIGTERM stopping it: one that comes
    while it starts is kept and acted on once it has started."""
    early: list[signal.Signals] = []
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, early.append, sig)
    await start
    tasks: set[asyncio.Task[None]] = set()

    def on_signal(sig: signal.Signals) -> None:
        task = asyncio.ensure_future(stop(f"signal {sig.name}"))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal, sig)
    if early:
        on_signal(early[0])


def nats_urls(settings: Settings, role: str) -> list[str]:
    """The NATS servers of `nats_url`.

    Raises:
        ValueError: none given.
    """
    urls = [u.strip() for u in settings.nats_url.split(",") if u.strip()]
    if not urls:
        raise ValueError(f"aegent {role} needs the bus: --nats nats://HOST:PORT "
                         "(or AEGENT_NATS_URL)")
    return urls


async def serve_world(settings: Settings, on_ready: Callable[[Server], None] | None = None
                      ) -> int:
    """Run a world host (`aegent world`): the world, storage and the journal, with the
    gateways over NATS, until SIGINT/SIGTERM, `shutdown` or `reboot`."""
    from server.bus.nats import NatsBus
    from server.host.relay import HostRelay

    bus = await NatsBus.connect(nats_urls(settings, "world"), name="aegent-world",
                                retention=settings.journal_retention)
    server = Server(settings, listen=False)
    server.journal_bus = bus
    relay = HostRelay(server, bus)

    async def start() -> None:
        await server.start()
        relay.replica = server.replica
        await relay.start()

    try:
        await _serving(server.shutdown, start())
        if on_ready is not None:
            on_ready(server)
        gctune.tune(settings.gc_threshold)
        await server.stopped.wait()
        await relay.stop()
        if server.replica is not None:  # the last entries' acknowledgements, a while
            await server.replica.close()
    finally:
        if server.replica is not None:
            await server.replica.close(timeout=0)
        await bus.close()
    return server.exit_code


async def serve_gateway(settings: Settings, on_ready: Callable[[Any], None] | None = None
                        ) -> int:
    """Run a gateway (`aegent gateway`): connections and sessions, with the world host over
    NATS, until SIGINT/SIGTERM."""
    from server.bus.nats import NatsBus
    from server.gateway.relay import Gateway

    bus = await NatsBus.connect(nats_urls(settings, "gateway"), name="aegent-gateway")
    gateway = Gateway(settings, bus)
    try:
        await _serving(gateway.shutdown, gateway.start())
        if on_ready is not None:
            on_ready(gateway)
        await gateway.stopped.wait()
    finally:
        await bus.close()
    return 0
