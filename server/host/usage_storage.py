"""Storage for usage accounting: per-agent daily usage and budgets.

Like the rest of the storage code, everything here is plain synchronous code for the
database worker thread (`Server.in_db`) or the command line; never the event loop.
The tables are owned by the hand-written Alembic revision `0004` (a test compares
models and revisions); the rules (prices, budgets, reservations) are in
`server/host/usage.py`.

What lives here:

* `UsageRow` (`agent_usage`): one row per agent account, UTC day and model: prompt,
  completion and cached prompt tokens, calls, and the cost in micro-dollars, with the
  owner's account id copied in for per-owner queries.
* `BudgetRow` (`budgets`): a daily limit for an agent or an owner, in tokens and/or
  dollars, and what the agent does at the limit.
* `UsageDelta`, `UsageLine`: values going in and coming out (ORM objects never leave
  this module).
* `UsageStore`: the queries, on the engine of a `SqlRepository`.

Invariants: (account_id, day, model) is unique in `agent_usage`, and rows only grow
(`add_usage` adds to them); (scope, account_id) is unique in `budgets`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import BigInteger, Date, DateTime, Engine, Float, UniqueConstraint, func
from sqlmodel import Field, Session, SQLModel, col, select

from server.host.storage import AccountNotFound, AccountRow
from server.host.usage import Budget, Scope, make_budget


def _now() -> datetime:
    return datetime.now(UTC)


# ---- tables ---------------------------------------------------------------------


class UsageRow(SQLModel, table=True):
    """One agent's model usage on one UTC day, for one model."""

    __tablename__ = "agent_usage"
    __table_args__ = (UniqueConstraint("account_id", "day", "model",
                                       name="uq_agent_usage_account_day_model"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="accounts.id", index=True, ondelete="CASCADE")
    owner_id: int | None = Field(default=None, foreign_key="accounts.id", index=True,
                                 ondelete="CASCADE")
    day: date = Field(sa_type=Date, index=True)
    model: str
    prompt_tokens: int = Field(default=0, sa_type=BigInteger)
    completion_tokens: int = Field(default=0, sa_type=BigInteger)
    cached_tokens: int = Field(default=0, sa_type=BigInteger)
    calls: int = Field(default=0, sa_type=BigInteger)
    cost_micro: int = Field(default=0, sa_type=BigInteger)


class BudgetRow(SQLModel, table=True):
    """A daily limit for one agent or for all the agents of one owner."""

    __tablename__ = "budgets"
    __table_args__ = (UniqueConstraint("scope", "account_id", name="uq_budgets_scope_account"),)

    id: int | None = Field(default=None, primary_key=True)
    scope: str  # "agent" | "owner"
    account_id: int = Field(foreign_key="accounts.id", index=True, ondelete="CASCADE")
    tokens_per_day: int | None = Field(default=None, sa_type=BigInteger)
    usd_per_day: float | None = Field(default=None, sa_type=Float)
    on_limit: str = Field(default="scripted", sa_column_kwargs={"server_default": "scripted"})
    updated_at: datetime = Field(default_factory=_now, sa_type=DateTime(timezone=True))


# ---- values ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UsageDelta:
    """Usage to add to one (agent, day, model) row."""

    agent: str
    day: date
    model: str
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    calls: int
    cost_micro: int


@dataclass(frozen=True, slots=True)
class UsageLine:
    """One stored row, with names instead of ids."""

    agent: str
    owner: str
    day: date
    model: str
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    calls: int
    cost_micro: int

    @property
    def tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens


# ---- the store ------------------------------------------------------------------


class UsageStore:
    """Usage rows and budgets on an existing (migrated) engine.

    Example::

        store = UsageStore(repo.engine)
        store.add_usage([UsageDelta("scout", date.today(), "gpt-4o-mini", 900, 40, 0, 1, 160)])
        store.day_totals(date.today())  # [("scout", "ann", 940, 160)]
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def _session(self) -> Session:
        return Session(self._engine, expire_on_commit=False)

    # ---- usage ----

    def add_usage(self, deltas: Sequence[UsageDelta]) -> int:
        """Add usage to the rows of (agent, day, model), creating them, in one
        transaction. Deltas of agents that no longer exist are skipped.

        Returns:
            How many deltas were written.
        """
        if not deltas:
            return 0
        written = 0
        with self._session() as session:
            accounts = _accounts(session, {d.agent.lower() for d in deltas})
            for d in deltas:
                acc = accounts.get(d.agent.lower())
                if acc is None or acc.id is None:
                    continue
                row = session.exec(select(UsageRow).where(
                    UsageRow.account_id == acc.id, UsageRow.day == d.day,
                    UsageRow.model == d.model)).first()
                if row is None:
                    row = UsageRow(account_id=acc.id, owner_id=acc.owner_id, day=d.day,
                                   model=d.model)
                row.prompt_tokens += d.prompt_tokens
                row.completion_tokens += d.completion_tokens
                row.cached_tokens += d.cached_tokens
                row.calls += d.calls
                row.cost_micro += d.cost_micro
                session.add(row)
                written += 1
            session.commit()
        return written

    def day_totals(self, day: date) -> list[tuple[str, str, int, int]]:
        """(agent, owner, tokens, micro-dollars) of every agent with usage on `day`
        (to seed the ledger)."""
        return [(u.agent, u.owner, u.tokens, u.cost_micro) for u in self.lines(since=day,
                                                                              until=day)]

    def lines(self, *, agent: str | None = None, owner: str | None = None,
              since: date | None = None, until: date | None = None) -> list[UsageLine]:
        """Stored usage, newest day first: of one agent, of one owner's agents, or all.

        Raises:
            AccountNotFound: `agent` or `owner` is not an account.
        """
        with self._session() as session:
            stmt = select(UsageRow)
            if agent is not None:
                acc = _account(session, agent)
                stmt = stmt.where(UsageRow.account_id == acc.id)
            if owner is not None:
                acc = _account(session, owner)
                stmt = stmt.where(UsageRow.owner_id == acc.id)
            if since is not None:
                stmt = stmt.where(UsageRow.day >= since)
            if until is not None:
                stmt = stmt.where(UsageRow.day <= until)
            rows = list(session.exec(stmt.order_by(col(UsageRow.day).desc(),
                                                   col(UsageRow.id))))
            names = _names(session, {r.account_id for r in rows}
                           | {r.owner_id for r in rows if r.owner_id is not None})
            return [UsageLine(names.get(r.account_id, "?"),
                              names.get(r.owner_id, "") if r.owner_id is not None else "",
                              r.day, r.model, r.prompt_tokens, r.completion_tokens,
                              r.cached_tokens, r.calls, r.cost_micro) for r in rows]

    def agents_of(self, owner: str) -> list[str]:
        """The lower-cased names of the agents `owner` owns, sorted.

        Raises:
            AccountNotFound: `owner` is not an account.
        """
        with self._session() as session:
            acc = _account(session, owner)
            return sorted(session.exec(select(AccountRow.name).where(
                AccountRow.owner_id == acc.id)))

    def owner_of(self, agent: str) -> str:
        """The owner's lower-cased name of `agent` ("" when it has none).

        Raises:
            AccountNotFound: `agent` is not an account.
        """
        with self._session() as session:
            acc = _account(session, agent)
            if acc.owner_id is None:
                return ""
            return _names(session, {acc.owner_id}).get(acc.owner_id, "")

    def count_rows(self) -> int:
        """How many usage rows exist."""
        with self._session() as session:
            return session.exec(select(func.count()).select_from(UsageRow)).one()

    # ---- budgets ----

    def budgets(self) -> list[Budget]:
        """Every budget."""
        with self._session() as session:
            rows = list(session.exec(select(BudgetRow).order_by(col(BudgetRow.id))))
            names = _names(session, {r.account_id for r in rows})
            out = []
            for r in rows:
                name = names.get(r.account_id)
                if name is not None:
                    out.append(make_budget(r.scope, name, r.tokens_per_day, r.usd_per_day,
                                           r.on_limit))
            return out

    def set_budget(self, budget: Budget) -> None:
        """Add or replace the budget of (scope, account).

        Raises:
            AccountNotFound: no such account.
            ValueError: an owner budget on an agent account, or an agent budget on a
                person's.
        """
        with self._session() as session:
            acc = _account(session, budget.account)
            is_agent = acc.kind == "agent"
            if budget.scope is Scope.AGENT and not is_agent:
                raise ValueError(f"{acc.display_name} is not an agent (use an owner budget)")
            if budget.scope is Scope.OWNER and is_agent:
                raise ValueError(f"{acc.display_name} is an agent (use an agent budget)")
            row = session.exec(select(BudgetRow).where(
                BudgetRow.scope == str(budget.scope), BudgetRow.account_id == acc.id)).first()
            if row is None:
                assert acc.id is not None
                row = BudgetRow(scope=str(budget.scope), account_id=acc.id)
            row.tokens_per_day = budget.tokens_per_day
            row.usd_per_day = budget.usd_per_day
            row.on_limit = str(budget.on_limit)
            row.updated_at = _now()
            session.add(row)
            session.commit()

    def remove_budget(self, scope: Scope, account: str) -> bool:
        """Drop a budget; returns whether there was one.

        Raises:
            AccountNotFound: no such account.
        """
        with self._session() as session:
            acc = _account(session, account)
            row = session.exec(select(BudgetRow).where(
                BudgetRow.scope == str(scope), BudgetRow.account_id == acc.id)).first()
            if row is None:
                return False
            session.delete(row)
            session.commit()
            return True


# ---- helpers ----------------------------------------------------------------------


def _account(session: Session, name: str) -> AccountRow:
    row = session.exec(select(AccountRow).where(AccountRow.name == name.lower())).first()
    if row is None:
        raise AccountNotFound(name)
    return row


def _accounts(session: Session, names: Iterable[str]) -> dict[str, AccountRow]:
    wanted = sorted(names)
    if not wanted:
        return {}
    rows = session.exec(select(AccountRow).where(col(AccountRow.name).in_(wanted)))
    return {r.name: r for r in rows}


def _names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = sorted(i for i in ids if i is not None)
    if not wanted:
        return {}
    rows: Any = session.exec(select(AccountRow.id, AccountRow.name).where(
        col(AccountRow.id).in_(wanted)))
    return {i: n for i, n in rows if i is not None}
