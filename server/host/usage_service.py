"""The server's side of usage accounting: `usage` messages, batched writes, reports.

`Metering` ties the pure `Ledger` (server/host/usage.py) to the server and the database
(server/host/usage_storage.py):

* `handle(session, msg)` answers a `usage` message (`reserve`, `settle`, `report`)
  from an agent session at once, on the event loop (so reservations are atomic);
  what was recorded is queued and written off the loop (`Server.in_db`) in batches
  every `usage_flush_interval`, and at shutdown.
* At start the ledger is seeded with today's usage and the budgets from the
  database; budgets are reloaded every `usage_budget_reload` seconds, so those set
  with `aegent usage budget` while the server runs apply soon; at the UTC day change
  the spent totals start again from zero.
* `request(session, ch, req)` carries out the in-game `usage` command: a
  `UsageShown` event with today's, recent and total figures and the budgets.
* `build_report` and `report_lines`: the figures, for the game and `aegent usage`
  (server/usage_cli.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from server import log, wire
from server.config import Settings
from server.gateway import render
from server.gateway.session import GameRequest, SessionHandle
from server.host.port import Clock, Database, Marks
from server.host.storage import AccountNotFound
from server.host.usage import (
    Budget,
    Ledger,
    OnLimit,
    PriceTable,
    Recorded,
    Refusal,
    Scope,
    UsageError,
    usd,
)
from server.host.usage_storage import UsageDelta, UsageLine, UsageStore
from server.wire import ErrorCode
from world.commands.usage import UsageShown
from world.entities import Character, Role
from world.errors import Code, Refused


class Host(Database, Marks, Clock, Protocol):
    """What `Metering` needs of the server (server/app.py `Server`): the database,
    output marking and the clock."""


class AgentLike(Protocol):
    """What metering needs of `Session.agent` (server/host/identity.py `AgentIdentity`)."""

    @property
    def name(self) -> str: ...
    @property
    def owner(self) -> str: ...
    @property
    def config(self) -> Mapping[str, Any]: ...


def utc_today() -> date:
    """Today's date in UTC (the accounting day)."""
    return datetime.now(UTC).date()


def _on_limit(refusal: Refusal, agent: AgentLike) -> OnLimit:
    """The stricter of the budget's `on_limit` and the agent's own configuration."""
    mine = agent.config.get("on_limit")
    if refusal.on_limit is OnLimit.STOP or mine == OnLimit.STOP:
        return OnLimit.STOP
    return OnLimit.SCRIPTED


@dataclass(slots=True)
class _Pending:
    prompt: int = 0
    completion: int = 0
    cached: int = 0
    calls: int = 0
    micro: int = 0


@dataclass(slots=True)
class Metering:
    """Usage accounting inside a running server (see the module docstring).

    Args:
        server: the server (for `in_db`, `now`, marking sessions for output).
        settings: prices, the reservation lifetime, flush and reload intervals.
        today: the accounting day (UTC), injectable for tests.
    """

    server: Host
    settings: Settings
    today: Callable[[], date] = utc_today
    ledger: Ledger = field(init=False)
    store: UsageStore = field(init=False)
    _pending: dict[tuple[str, date, str], _Pending] = field(default_factory=dict)
    _flushing: asyncio.Lock = field(default_factory=asyncio.Lock)
    log: Any = field(default_factory=log.get)

    def __post_init__(self) -> None:
        prices = PriceTable.from_config(self.settings.prices_file, self.settings.prices)
        self.ledger = Ledger(prices, ttl=self.settings.usage_reservation_ttl)
        self.store = UsageStore(self.server.repo.engine)

    # ---- life cycle ----

    async def start(self) -> None:
        """Seed the ledger with today's usage and the budgets (after migrating)."""
        day = self.today()
        totals = await self.server.in_db(self.store.day_totals, day)
        self.ledger.start_day(day, totals)
        self.ledger.replace_budgets(await self.server.in_db(self.store.budgets))

    async def run(self) -> None:
        """Write usage in batches, reload budgets, expire reservations; until cancelled."""
        s = self.settings
        since_reload = 0.0
        while True:
            await asyncio.sleep(s.usage_flush_interval)
            self.ledger.expire(self.server.now())
            if self.ledger.roll(self.today()):
                self.log.info("usage_day_started", day=str(self.ledger.day))
            await self.flush()
            since_reload += s.usage_flush_interval
            if since_reload >= s.usage_budget_reload:
                since_reload = 0.0
                try:
                    self.ledger.replace_budgets(await self.server.in_db(self.store.budgets))
                except Exception as exc:  # the database may be busy; the old ones stand
                    self.log.error("budgets_reload_failed", exc_info=exc)

    async def flush(self) -> int:
        """Write the queued usage now; returns how many rows it touched."""
        async with self._flushing:
            if not self._pending:
                return 0
            batch, self._pending = self._pending, {}
            deltas = [UsageDelta(agent, day, model, p.prompt, p.completion, p.cached, p.calls,
                                 p.micro) for (agent, day, model), p in batch.items()]
            try:
                return await self.server.in_db(self.store.add_usage, deltas)
            except Exception as exc:
                self.log.error("usage_write_failed", rows=len(deltas), exc_info=exc)
                for key, p in batch.items():  # keep them for the next try
                    q = self._pending.setdefault(key, _Pending())
                    q.prompt += p.prompt
                    q.completion += p.completion
                    q.cached += p.cached
                    q.calls += p.calls
                    q.micro += p.micro
                return 0

    # ---- the `usage` message ----

    def handle(self, session: SessionHandle, msg: wire.Usage) -> None:
        """Answer one `usage` message from `session` (docs/protocol.md)."""
        agent: AgentLike | None = session.agent
        reply: dict[str, Any] = {"type": "usage", "op": msg.op}
        if msg.id is not None:
            reply["id"] = msg.id
        if agent is None:
            session.send(wire.error(ErrorCode.NOT_AN_AGENT, "Only agents logged in with an API "
                                    "key account for model usage.", msg.id))
            self.server.mark(session)
            return
        now, day = self.server.now(), self.today()
        try:
            if msg.op == "reserve":
                assert msg.model is not None
                got = self.ledger.reserve(agent.name, agent.owner, msg.model, msg.max_tokens,
                                          now, day)
                if isinstance(got, Refusal):
                    on_limit = _on_limit(got, agent)
                    reply.update(ok=False, error={"code": ErrorCode.BUDGET_EXCEEDED.value,
                                                  "message": got.message,
                                                  "on_limit": str(on_limit)})
                    self.log.info("usage_refused", agent=agent.name, owner=agent.owner,
                                  model=msg.model, max_tokens=msg.max_tokens,
                                  budget=f"{got.budget.scope}:{got.budget.account}",
                                  on_limit=str(on_limit))
                else:
                    reply.update(ok=True, reservation=got.id, max_tokens=got.tokens,
                                 max_usd=got.micro / 1_000_000, expires_in=self.ledger.ttl)
            else:
                if msg.op == "settle":
                    assert msg.reservation is not None
                    rec = self.ledger.settle(msg.reservation, msg.prompt_tokens,
                                             msg.completion_tokens, msg.cached_tokens,
                                             agent=agent.name, now=now, day=day,
                                             model=msg.model)
                else:
                    assert msg.model is not None
                    rec = self.ledger.report(agent.name, agent.owner, msg.model,
                                             msg.prompt_tokens, msg.completion_tokens,
                                             msg.cached_tokens, day=day)
                self._queue(rec)
                spent = self.ledger.spent_today(Scope.AGENT, agent.name)
                reply.update(ok=True, tokens=rec.tokens, cost_usd=rec.micro / 1_000_000,
                             today={"tokens": spent.tokens, "usd": spent.micro / 1_000_000})
        except UsageError as exc:
            reply.update(ok=False, error={"code": exc.code, "message": exc.message})
        session.send(reply)
        self.server.mark(session)

    def count(self, agent: str, owner: str, model: str) -> None:
        """Count one call of `model` that uses no tokens and costs nothing (an A2A message
        to the agent: model `a2a`, server/host/a2a.py), beside its model calls."""
        self._queue(self.ledger.report(agent, owner, model, 0, 0, 0, day=self.today()))

    def _queue(self, rec: Recorded) -> None:
        p = self._pending.setdefault((rec.agent, rec.day, rec.model), _Pending())
        p.prompt += rec.prompt_tokens
        p.completion += rec.completion_tokens
        p.cached += rec.cached_tokens
        p.calls += 1
        p.micro += rec.micro
        if rec.over_reservation:
            self.log.warning("usage_over_reservation", agent=rec.agent, model=rec.model,
                             tokens=rec.tokens, reserved=rec.reserved_tokens)

    # ---- the in-game `usage` command ----

    def request(self, session: SessionHandle, ch: Character, req: GameRequest
                ) -> Awaitable[Refused | None]:
        """Carry out the in-game `usage` command for `ch`."""
        return self._show(session, ch, req.args.get("name"), int(req.args.get("days") or 7))

    async def _show(self, session: SessionHandle, ch: Character, name: Any, days: int
                    ) -> Refused | None:
        agent: AgentLike | None = session.agent
        actor = ch.name.lower()
        wanted = str(name).lower() if name else None
        await self.flush()  # today's figures include the calls of the last second
        try:
            if agent is not None:
                if wanted and wanted != agent.name:
                    return Refused(Code.FORBIDDEN, "An agent may see only its own usage.")
                report = await self.server.in_db(build_report, self.store, self.ledger.budgets,
                                                 agent.name, None, self.today(), days)
            elif wanted:
                owner = await self.server.in_db(self.store.owner_of, wanted)
                admin = ch.role is Role.ADMIN
                if not owner and (wanted == actor or admin):  # a person: all their agents
                    report = await self.server.in_db(build_report, self.store,
                                                     self.ledger.budgets, None, wanted,
                                                     self.today(), days)
                elif owner != actor and not admin:
                    return Refused(Code.NOT_HERE, f"You have no agent named '{wanted[:30]}'.")
                else:
                    report = await self.server.in_db(build_report, self.store,
                                                     self.ledger.budgets, wanted, None,
                                                     self.today(), days)
            else:
                report = await self.server.in_db(build_report, self.store, self.ledger.budgets,
                                                 None, actor, self.today(), days)
        except AccountNotFound:
            return Refused(Code.NOT_HERE, f"You have no agent named '{str(name)[:30]}'.")
        self._add_spent(report)
        session.deliver(report)
        self.server.mark(session)
        return None

    def _add_spent(self, report: UsageShown) -> None:
        for b in report.budgets:
            spent = self.ledger.spent_today(Scope(b["scope"]), b["account"])
            b["spent_tokens"], b["spent_usd"] = spent.tokens, spent.micro / 1_000_000


# ---- reports (plain functions, for the game and the command line) ------------------------


def _figures(lines: Iterable[UsageLine]) -> dict[str, Any]:
    out = {"tokens": 0, "prompt_tokens": 0, "completion_tokens": 0, "cached_tokens": 0,
           "calls": 0, "micro": 0}
    for u in lines:
        out["tokens"] += u.tokens
        out["prompt_tokens"] += u.prompt_tokens
        out["completion_tokens"] += u.completion_tokens
        out["cached_tokens"] += u.cached_tokens
        out["calls"] += u.calls
        out["micro"] += u.cost_micro
    micro = out.pop("micro")
    return {**out, "usd": micro / 1_000_000}


def build_report(store: UsageStore, budgets: Mapping[tuple[Scope, str], Budget],
                 agent: str | None, owner: str | None, today: date, days: int) -> UsageShown:
    """The usage of one agent, or of every agent of `owner` (database thread).

    Raises:
        AccountNotFound: no such agent or owner.
    """
    since = today - timedelta(days=max(1, days) - 1)
    if agent is not None:
        names = [agent.lower()]
        lines = store.lines(agent=agent)
        owner_of = store.owner_of(agent)
    else:
        assert owner is not None
        names = store.agents_of(owner)
        lines = store.lines(owner=owner)
        owner_of = owner.lower()
    by_agent: dict[str, list[UsageLine]] = {n: [] for n in names}
    for u in lines:
        by_agent.setdefault(u.agent, []).append(u)
    agents = []
    for name, mine in sorted(by_agent.items()):
        agents.append({"name": name,
                       "today": _figures(u for u in mine if u.day == today),
                       "recent": _figures(u for u in mine if u.day >= since),
                       "total": _figures(mine)})
    owner_total = None
    if agent is None:
        owner_total = {"today": _figures(u for u in lines if u.day == today),
                       "recent": _figures(u for u in lines if u.day >= since),
                       "total": _figures(lines)}
    wanted = {(Scope.AGENT, n) for n in by_agent}
    if owner_of:
        wanted.add((Scope.OWNER, owner_of))
    shown = [b.to_data() for key, b in sorted(budgets.items()) if key in wanted]
    for b in shown:
        if b["scope"] == "owner":
            scope_lines = store.lines(owner=b["account"], since=today, until=today)
        else:
            scope_lines = [u for u in lines if u.day == today and u.agent == b["account"]]
        spent = _figures(scope_lines)
        b["spent_tokens"], b["spent_usd"] = spent["tokens"], spent["usd"]
    return UsageShown(agent.lower() if agent else str(owner).lower(),
                      "agent" if agent else "owner", today.isoformat(), days, agents,
                      owner_total, shown)


def _money(value: float) -> str:
    return usd(round(value * 1_000_000))


def report_lines(data: Mapping[str, Any]) -> list[str]:
    """A `usage_shown` event's data as plain text lines (a table)."""
    days = data["days"]
    head = (f"{'agent':<16} {'today tokens':>12} {'today cost':>12} {f'{days}d tokens':>12} "
            f"{f'{days}d cost':>12} {'total tokens':>12} {'total cost':>12} {'calls':>7}")
    lines = [f"Model usage of {data['subject']} ({data['scope']}), day {data['day']} UTC",
             head]

    def row(label: str, f: Mapping[str, Any]) -> str:
        t, r, a = f["today"], f["recent"], f["total"]
        return (f"{label[:16]:<16} {t['tokens']:>12,} {_money(t['usd']):>12} "
                f"{r['tokens']:>12,} {_money(r['usd']):>12} {a['tokens']:>12,} "
                f"{_money(a['usd']):>12} {a['calls']:>7,}")

    for a in data["agents"]:
        lines.append(row(a["name"], a))
    if not data["agents"]:
        lines.append("(no agents)")
    if data.get("owner_total") is not None:
        lines.append(row("all agents", data["owner_total"]))
    if data["budgets"]:
        lines.append("Daily budgets:")
        for b in data["budgets"]:
            limits = []
            if b["tokens_per_day"] is not None:
                limits.append(f"{b['spent_tokens']:,} of {b['tokens_per_day']:,} tokens")
            if b["usd_per_day"] is not None:
                limits.append(f"{_money(b['spent_usd'])} of {_money(b['usd_per_day'])}")
            lines.append(f"  {b['scope']} {b['account']}: {'; '.join(limits) or 'no limit'}"
                         f" (at the limit: {b['on_limit']})")
    else:
        lines.append("No daily budget applies.")
    return lines


@render.renders(UsageShown)
def _render_usage(e: UsageShown, viewer: str) -> render.Spans:
    lines = report_lines(e.to_data())
    return [("heading", lines[0]), ("", "\n" + "\n".join(lines[1:]))]


__all__: Sequence[str] = ["Metering", "build_report", "report_lines", "utc_today"]
