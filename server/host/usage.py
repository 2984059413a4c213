"""Usage accounting for agents: the price table and the budget ledger (pure logic).

Nothing here does I/O or reads a clock: callers pass `now` (monotonic seconds) and
`day` (the UTC date), so every rule is unit-testable. Persistence lives in
`server/host/usage_storage.py` and the server glue (protocol messages, flushing, the
in-game `usage` command) in `server/host/usage_service.py`.

What lives here:

* `Price` and `PriceTable`: USD per million prompt / completion tokens (and,
  optionally, per million cached prompt tokens) per model, with defaults for a few
  common models. A model the table does not know costs 0 and is counted in tokens.
  Money is kept in integer micro-dollars: a price in USD per million tokens is
  exactly micro-dollars per token.
* `Budget`: tokens and/or money per UTC day, for one agent or for one owner (all of
  their agents together), and what an agent does at the limit (`on_limit`).
* `Ledger`: the spent totals of today and the outstanding reservations.
  `reserve` succeeds only if, for every budget that applies (the agent's and its
  owner's), spent + outstanding + the worst case fits; `settle` releases a
  reservation and records the real usage; `report` records a call made without a
  reservation. Reservations expire (`ttl`) so a crashed client cannot hold a budget.
  The server calls it from the event loop only; its methods never await, so each is
  atomic with respect to the others.

Invariant (tested with hypothesis): when every settled call used no more than it
reserved, no day's spent total ever goes over a budget.
"""

from __future__ import annotations

import json
import math
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

RESERVATION_TTL = 600.0
"""Seconds a reservation lives unless settled (a crashed client frees its budget then)."""


class Scope(StrEnum):
    """Whom a budget limits."""

    AGENT = "agent"
    OWNER = "owner"


class OnLimit(StrEnum):
    """What an agent does when a budget refuses it."""

    SCRIPTED = "scripted"
    STOP = "stop"


class UsageError(ValueError):
    """A usage request that cannot be carried out; `code` is stable (wire error code)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# ---- prices ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Price:
    """USD per million tokens (= micro-dollars per token) for one model.

    Attributes:
        prompt: per prompt token not served from a cache.
        completion: per completion token.
        cached_prompt: per cached prompt token; None means the prompt price.
    """

    prompt: float
    completion: float
    cached_prompt: float | None = None

    def cost_micro(self, prompt_tokens: int, completion_tokens: int,
                   cached_tokens: int = 0) -> int:
        """The cost of one call in micro-dollars, rounded up. `cached_tokens` are part
        of `prompt_tokens` (as providers count them)."""
        cached = max(0, min(cached_tokens, prompt_tokens))
        cached_price = self.prompt if self.cached_prompt is None else self.cached_prompt
        value = ((prompt_tokens - cached) * self.prompt + cached * cached_price
                 + completion_tokens * self.completion)
        return math.ceil(value - 1e-9) if value > 0 else 0

    def worst_case_micro(self, tokens: int) -> int:
        """The most `tokens` tokens of any kind can cost."""
        top = max(self.prompt, self.completion, self.cached_prompt or 0.0)
        return math.ceil(tokens * top - 1e-9) if tokens > 0 and top > 0 else 0

    def to_data(self) -> dict[str, Any]:
        """As a JSON-ready map."""
        out: dict[str, Any] = {"prompt": self.prompt, "completion": self.completion}
        if self.cached_prompt is not None:
            out["cached_prompt"] = self.cached_prompt
        return out


FREE = Price(0.0, 0.0)

DEFAULT_PRICES: dict[str, Price] = {
    # OpenAI list prices, USD per 1M tokens (prompt, completion, cached prompt).
    "gpt-4o": Price(2.50, 10.00, 1.25),
    "gpt-4o-mini": Price(0.15, 0.60, 0.075),
    "gpt-4.1": Price(2.00, 8.00, 0.50),
    "gpt-4.1-mini": Price(0.40, 1.60, 0.10),
    "gpt-4.1-nano": Price(0.10, 0.40, 0.025),
    "o4-mini": Price(1.10, 4.40, 0.275),
    "o3": Price(2.00, 8.00, 0.50),
    # Anthropic (through an OpenAI-compatible gateway).
    "claude-3-5-haiku": Price(0.80, 4.00, 0.08),
    "claude-sonnet-4": Price(3.00, 15.00, 0.30),
}


def _price(model: str, raw: Any) -> Price:
    if not isinstance(raw, Mapping):
        raise ValueError(f"price of {model!r} must be a map with 'prompt' and 'completion'")
    unknown = set(raw) - {"prompt", "completion", "cached_prompt"}
    if unknown:
        raise ValueError(f"price of {model!r} has unknown key(s): {', '.join(sorted(unknown))}")
    values: dict[str, float | None] = {}
    for key in ("prompt", "completion", "cached_prompt"):
        value = raw.get(key)
        if value is None and key == "cached_prompt":
            values[key] = None
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"price of {model!r}: {key!r} must be a number (USD per 1M tokens)")
        if value < 0 or not math.isfinite(value):
            raise ValueError(f"price of {model!r}: {key!r} must be a finite number >= 0")
        values[key] = float(value)
    prompt, completion = values["prompt"], values["completion"]
    assert prompt is not None and completion is not None
    return Price(prompt, completion, values["cached_prompt"])


class PriceTable:
    """Prices per model. A model is found by its exact name (any letter case), else by
    the longest known name it starts with (`gpt-4o-mini-2024-07-18` is `gpt-4o-mini`);
    an unknown model is free (its tokens still count).

    Args:
        prices: model name -> price (the defaults when None).
    """

    def __init__(self, prices: Mapping[str, Price] | None = None) -> None:
        source = DEFAULT_PRICES if prices is None else prices
        self.prices: dict[str, Price] = {k.lower(): v for k, v in source.items()}

    def price(self, model: str) -> Price:
        """The price of `model` (`FREE` when unknown)."""
        key = model.lower()
        found = self.prices.get(key)
        if found is not None:
            return found
        best = ""
        for name in self.prices:
            if key.startswith(name) and len(name) > len(best):
                best = name
        return self.prices[best] if best else FREE

    def known(self, model: str) -> bool:
        """Whether `model` has a price (exactly or by prefix)."""
        return self.price(model) is not FREE

    def cost_micro(self, model: str, prompt_tokens: int, completion_tokens: int,
                   cached_tokens: int = 0) -> int:
        """What one call of `model` cost, in micro-dollars."""
        return self.price(model).cost_micro(prompt_tokens, completion_tokens, cached_tokens)

    def with_overrides(self, prices: Mapping[str, Price]) -> PriceTable:
        """A copy where `prices` replace or add models."""
        return PriceTable({**self.prices, **{k.lower(): v for k, v in prices.items()}})

    @staticmethod
    def parse(text: str) -> dict[str, Price]:
        """Prices from JSON text: `{"model": {"prompt": 0.15, "completion": 0.6,
        "cached_prompt": 0.075}}` (USD per 1M tokens; `cached_prompt` optional).

        Raises:
            ValueError: not JSON, or a model's entry is not such a map (naming it).
        """
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ValueError(f"prices are not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ValueError("prices must be a JSON object: model -> {prompt, completion}")
        return {str(model): _price(str(model), raw) for model, raw in data.items()}

    @classmethod
    def from_config(cls, prices_file: Path | None, prices_json: str | None) -> PriceTable:
        """The defaults, then a prices file (JSON), then inline JSON, each overriding.

        Raises:
            ValueError: a file that cannot be read or parsed (naming it).
        """
        table = cls()
        if prices_file is not None:
            try:
                text = prices_file.read_text(encoding="utf-8")
            except OSError as exc:
                raise ValueError(f"cannot read the prices file {prices_file}: {exc}") from None
            try:
                table = table.with_overrides(cls.parse(text))
            except ValueError as exc:
                raise ValueError(f"{prices_file}: {exc}") from None
        if prices_json:
            table = table.with_overrides(cls.parse(prices_json))
        return table


def usd(micro: int) -> str:
    """Micro-dollars as dollars for people: `$0.001234`, `$12.50`."""
    dollars = micro / 1_000_000
    return f"${dollars:,.2f}" if dollars >= 1 or micro == 0 else f"${dollars:.6f}"


# ---- budgets -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Budget:
    """A daily limit for one agent, or for all the agents of one owner.

    Attributes:
        scope: agent or owner.
        account: the agent's or owner's lower-cased account name.
        tokens_per_day: prompt + completion tokens per UTC day, or None (no token limit).
        micro_per_day: micro-dollars per UTC day, or None (no money limit).
        on_limit: what the agent does when refused.
    """

    scope: Scope
    account: str
    tokens_per_day: int | None = None
    micro_per_day: int | None = None
    on_limit: OnLimit = OnLimit.SCRIPTED

    @property
    def key(self) -> tuple[Scope, str]:
        """(scope, account)."""
        return (self.scope, self.account)

    @property
    def usd_per_day(self) -> float | None:
        """The money limit in dollars."""
        return None if self.micro_per_day is None else self.micro_per_day / 1_000_000

    def to_data(self) -> dict[str, Any]:
        """As a JSON-ready map."""
        return {"scope": str(self.scope), "account": self.account,
                "tokens_per_day": self.tokens_per_day, "usd_per_day": self.usd_per_day,
                "on_limit": str(self.on_limit)}


def make_budget(scope: str, account: str, tokens_per_day: int | None,
                usd_per_day: float | None, on_limit: str = "scripted") -> Budget:
    """A checked `Budget` from plain values (CLI, database).

    Raises:
        UsageError: `bad_budget` with what is wrong.
    """
    try:
        sc = Scope(scope)
    except ValueError:
        raise UsageError("bad_budget", f"scope must be agent or owner, not {scope!r}") from None
    try:
        ol = OnLimit(on_limit)
    except ValueError:
        raise UsageError("bad_budget", f"on_limit must be scripted or stop, not {on_limit!r}"
                         ) from None
    if tokens_per_day is not None and (isinstance(tokens_per_day, bool)
                                       or not isinstance(tokens_per_day, int)
                                       or tokens_per_day < 0):
        raise UsageError("bad_budget", "tokens per day must be a whole number >= 0")
    micro = None
    if usd_per_day is not None:
        if (isinstance(usd_per_day, bool) or not isinstance(usd_per_day, int | float)
                or usd_per_day < 0 or not math.isfinite(usd_per_day)):
            raise UsageError("bad_budget", "dollars per day must be a number >= 0")
        micro = round(usd_per_day * 1_000_000)
    if not account:
        raise UsageError("bad_budget", "a budget needs an account")
    return Budget(sc, account.lower(), tokens_per_day, micro, ol)


# ---- the ledger ----------------------------------------------------------------------


@dataclass(slots=True)
class Totals:
    """Tokens and money (micro-dollars), spent or reserved."""

    tokens: int = 0
    micro: int = 0

    def add(self, tokens: int, micro: int) -> None:
        """Add (or, negative, take away) an amount."""
        self.tokens += tokens
        self.micro += micro


@dataclass(frozen=True, slots=True)
class Reservation:
    """Room held in every budget of an agent (and its owner) for one model call."""

    id: str
    agent: str
    owner: str
    model: str
    tokens: int
    micro: int
    expires: float


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a reservation was refused: the budget that would overflow."""

    budget: Budget
    day_tokens: int
    day_micro: int
    message: str

    @property
    def on_limit(self) -> OnLimit:
        """What the agent should do."""
        return self.budget.on_limit


@dataclass(frozen=True, slots=True)
class Recorded:
    """One call's real usage, as recorded (what the storage layer persists)."""

    agent: str
    owner: str
    day: date
    model: str
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    micro: int
    reserved_tokens: int | None = None  # None: reported without a reservation

    @property
    def tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens

    @property
    def over_reservation(self) -> bool:
        """Whether the call used more tokens than it reserved (a client underestimated)."""
        return self.reserved_tokens is not None and self.tokens > self.reserved_tokens


def _count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise UsageError("bad_field", f"'{name}' must be a whole number >= 0")
    return value


@dataclass(slots=True)
class Ledger:
    """Today's spending and the outstanding reservations, against the budgets.

    Args:
        prices: the price table.
        ttl: seconds a reservation lives unless settled.
    """

    prices: PriceTable = field(default_factory=PriceTable)
    ttl: float = RESERVATION_TTL
    day: date | None = None
    budgets: dict[tuple[Scope, str], Budget] = field(default_factory=dict)
    spent: dict[tuple[Scope, str], Totals] = field(default_factory=dict)
    held: dict[tuple[Scope, str], Totals] = field(default_factory=dict)
    reservations: dict[str, Reservation] = field(default_factory=dict)

    # ---- set-up ----

    def start_day(self, day: date, spent: Iterable[tuple[str, str, int, int]] = ()) -> None:
        """Begin `day`: forget the spent totals of any other day and load `spent`
        (agent, owner, tokens, micro-dollars) rows already recorded for it (from the
        database). Reservations outstanding stay held."""
        self.day = day
        self.spent = {}
        for agent, owner, tokens, micro in spent:
            self._spend(agent, owner, tokens, micro)

    def roll(self, day: date) -> bool:
        """Move to `day` if it is a new one (spent totals start at zero); returns
        whether it was new."""
        if self.day == day:
            return False
        self.start_day(day)
        return True

    def set_budget(self, budget: Budget) -> None:
        """Add or replace a budget."""
        self.budgets[budget.key] = budget

    def remove_budget(self, scope: Scope, account: str) -> None:
        """Drop a budget (nothing if there is none)."""
        self.budgets.pop((scope, account.lower()), None)

    def replace_budgets(self, budgets: Iterable[Budget]) -> None:
        """Every budget at once (reloaded from the database)."""
        self.budgets = {b.key: b for b in budgets}

    # ---- queries ----

    def applicable(self, agent: str, owner: str) -> list[Budget]:
        """The budgets limiting `agent`: its own, then its owner's."""
        out = []
        mine = self.budgets.get((Scope.AGENT, agent))
        if mine is not None:
            out.append(mine)
        if owner:
            theirs = self.budgets.get((Scope.OWNER, owner))
            if theirs is not None:
                out.append(theirs)
        return out

    def spent_today(self, scope: Scope, account: str) -> Totals:
        """What `account` spent today (a copy)."""
        t = self.spent.get((scope, account.lower()))
        return Totals(t.tokens, t.micro) if t else Totals()

    def held_now(self, scope: Scope, account: str) -> Totals:
        """What outstanding reservations hold for `account` (a copy)."""
        t = self.held.get((scope, account.lower()))
        return Totals(t.tokens, t.micro) if t else Totals()

    # ---- the operations ----

    def reserve(self, agent: str, owner: str, model: str, worst_case_tokens: int, now: float,
                day: date) -> Reservation | Refusal:
        """Hold the worst case of one call in every applicable budget, or refuse.

        Raises:
            UsageError: `bad_field` for a negative or non-integer token count.
        """
        tokens = _count("max_tokens", worst_case_tokens)
        self.expire(now)
        self.roll(day)
        agent, owner = agent.lower(), owner.lower()
        micro = self.prices.price(model).worst_case_micro(tokens)
        for budget in self.applicable(agent, owner):
            spent = self.spent.get(budget.key) or Totals()
            held = self.held.get(budget.key) or Totals()
            over = ""
            if (budget.tokens_per_day is not None
                    and spent.tokens + held.tokens + tokens > budget.tokens_per_day):
                over = (f"{spent.tokens} of {budget.tokens_per_day} tokens spent today"
                        f"{f' and {held.tokens} held' if held.tokens else ''}; this call "
                        f"may need {tokens}")
            elif (budget.micro_per_day is not None
                    and spent.micro + held.micro + micro > budget.micro_per_day):
                over = (f"{usd(spent.micro)} of {usd(budget.micro_per_day)} spent today"
                        f"{f' and {usd(held.micro)} held' if held.micro else ''}; this call "
                        f"may cost {usd(micro)}")
            if over:
                whose = (f"the agent {budget.account}" if budget.scope is Scope.AGENT
                         else f"the owner {budget.account}")
                return Refusal(budget, spent.tokens, spent.micro,
                               f"The daily budget of {whose} is reached: {over}.")
        res = Reservation(secrets.token_urlsafe(12), agent, owner, model, tokens, micro,
                          now + self.ttl)
        self.reservations[res.id] = res
        self._hold(res, +1)
        return res

    def settle(self, reservation_id: str, prompt_tokens: int, completion_tokens: int,
               cached_tokens: int = 0, *, agent: str, now: float, day: date,
               model: str | None = None) -> Recorded:
        """Release a reservation and record what the call really used.

        Args:
            reservation_id: from `reserve`.
            prompt_tokens, completion_tokens, cached_tokens: the real usage.
            agent: who settles (must be who reserved).
            now, day: the time and the UTC date.
            model: the model really used (default: the one reserved for).

        Raises:
            UsageError: `unknown_reservation` (never made, settled already, expired, or
                another agent's), `bad_field`.
        """
        p, c, k = self._counts(prompt_tokens, completion_tokens, cached_tokens)
        self.expire(now)
        res = self.reservations.get(reservation_id)
        if res is None or res.agent != agent.lower():
            raise UsageError("unknown_reservation", "No such reservation: it was settled "
                             "already, it expired, or it was never made.")
        del self.reservations[res.id]
        self._hold(res, -1)
        return self._record(res.agent, res.owner, model or res.model, p, c, k, day, res.tokens)

    def report(self, agent: str, owner: str, model: str, prompt_tokens: int,
               completion_tokens: int, cached_tokens: int = 0, *, day: date) -> Recorded:
        """Record a call made without a reservation (it counts, even over a budget).

        Raises:
            UsageError: `bad_field`.
        """
        p, c, k = self._counts(prompt_tokens, completion_tokens, cached_tokens)
        return self._record(agent.lower(), owner.lower(), model, p, c, k, day, None)

    def expire(self, now: float) -> list[Reservation]:
        """Drop the reservations whose time is up; returns them."""
        gone = [r for r in self.reservations.values() if r.expires <= now]
        for r in gone:
            del self.reservations[r.id]
            self._hold(r, -1)
        return gone

    def release_agent(self, agent: str) -> int:
        """Drop every outstanding reservation of `agent` (its key was revoked, its
        account deleted); returns how many."""
        gone = [r for r in self.reservations.values() if r.agent == agent.lower()]
        for r in gone:
            del self.reservations[r.id]
            self._hold(r, -1)
        return len(gone)

    # ---- helpers ----

    @staticmethod
    def _counts(prompt: Any, completion: Any, cached: Any) -> tuple[int, int, int]:
        p = _count("prompt_tokens", prompt)
        c = _count("completion_tokens", completion)
        k = _count("cached_tokens", cached)
        if k > p:
            raise UsageError("bad_field", "'cached_tokens' cannot be more than 'prompt_tokens'")
        return p, c, k

    def _record(self, agent: str, owner: str, model: str, p: int, c: int, k: int, day: date,
                reserved: int | None) -> Recorded:
        self.roll(day)
        micro = self.prices.cost_micro(model, p, c, k)
        self._spend(agent, owner, p + c, micro)
        return Recorded(agent, owner, day, model, p, c, k, micro, reserved)

    def _spend(self, agent: str, owner: str, tokens: int, micro: int) -> None:
        self.spent.setdefault((Scope.AGENT, agent), Totals()).add(tokens, micro)
        if owner:
            self.spent.setdefault((Scope.OWNER, owner), Totals()).add(tokens, micro)

    def _hold(self, res: Reservation, sign: int) -> None:
        keys = [(Scope.AGENT, res.agent)] + ([(Scope.OWNER, res.owner)] if res.owner else [])
        for key in keys:
            t = self.held.setdefault(key, Totals())
            t.add(sign * res.tokens, sign * res.micro)
            if t.tokens == 0 and t.micro == 0:
                del self.held[key]
