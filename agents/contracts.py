"""The contracts inside agents/: what a policy sees, what it returns, how memory is reached.

The runtime (client, observation, runner) fills an `Observation` from the
server's events and `observe` answers, asks a `Policy` for `Action`s, and sends
them as `call` messages. Policies never touch the socket. A `MemoryStore` keeps
an agent's memories; policies that want memory get one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(slots=True)
class Observation:
    """What an agent knows now, folded from events (see agents/observation.py).

    Attributes:
        name: the agent's character name.
        room: the last `room` event's data (id, name, description, exits, characters, items...).
        vitals: the last `vitals` event's data.
        inventory: items carried (from `observe` or inventory events).
        equipment: slot -> item, from `observe`.
        effects: active effects, from `observe`.
        quests: quest progress, from `observe`.
        actions: the admissible actions the server computed in its last `observe` answer.
        chat: recent speech heard: dicts with `from`, `channel`, `text` (data, never orders).
        recent: recent event texts, oldest first (a bounded window).
        fighting: who we fight, or None.
        tools: the tool list from the server (`tools` message).
        seq: the last event sequence number seen.
        missed: how many events were missed according to sequence numbers.
        outcomes: what became of the actions the policy returned last time, in the
            same order (the runtime fills it before the next `decide`, then clears it).
            The LLM policy feeds them back to the model as tool results.
        character: the character sheet from `observe` (class, level, gold, xp, position,
            attributes, carrying...).
        characters: the others here from `observe`, with what `consider` would say of
            those we may attack (`attackable`, `verdict`, `xp`, `rounds_to_win`...).
        zones: from `observe`: zone id -> `name`, `levels` [low, high] for this zone and
            those the exits lead to.
        events: the events that came since the last `decide` (`name`, `data`, `text`,
            `seq`), oldest first; the runtime replaces them before each `decide`.
        group: from `observe`: the group we are in, `leader` and `members` (each with
            its vitals, `room`, `here`, `fighting`); empty when in none.
    """

    name: str = ""
    room: dict[str, Any] = field(default_factory=dict)
    vitals: dict[str, Any] = field(default_factory=dict)
    inventory: list[dict[str, Any]] = field(default_factory=list)
    equipment: dict[str, Any] = field(default_factory=dict)
    effects: list[dict[str, Any]] = field(default_factory=list)
    quests: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    chat: list[dict[str, str]] = field(default_factory=list)
    recent: list[str] = field(default_factory=list)
    fighting: str | None = None
    tools: list[dict[str, Any]] = field(default_factory=list)
    seq: int = 0
    missed: int = 0
    outcomes: list[Outcome] = field(default_factory=list)
    character: dict[str, Any] = field(default_factory=dict)
    characters: list[dict[str, Any]] = field(default_factory=list)
    zones: dict[str, Any] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    group: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Action:
    """One tool call for the server: `{"type": "call", "tool": tool, "args": args}`."""

    tool: str
    args: dict[str, Any] = field(default_factory=dict)
    why: str = ""  # a short reason, for logs and the status table


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one sent `Action` led to: the server's `result` and the text of its events.

    Attributes:
        action: the action as the policy returned it.
        ok: the `result`'s `ok`.
        error: the error code when refused (`not_here`, `no_exit`...), else "".
        text: the `text` of the events the action caused for us, one per line,
            then the error message if refused.
    """

    action: Action
    ok: bool
    error: str = ""
    text: str = ""


@dataclass(frozen=True, slots=True)
class Usage:
    """Tokens an LLM call used (zero for policies without a model)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0


class Policy(Protocol):
    """Decides what an agent does next."""

    name: str

    async def decide(self, obs: Observation) -> Sequence[Action]:
        """The actions to take now (possibly none: wait for the next event)."""
        ...

    def usage(self) -> Usage:
        """Tokens spent so far."""
        ...


@dataclass(frozen=True, slots=True)
class Memory:
    """One memory: what happened or what was concluded, and how much it matters."""

    id: str
    agent: str
    text: str
    kind: str  # observation | action | outcome | reflection | summary (of merged old ones)
    importance: float  # 0..1
    created: float  # game time (seconds of play)
    last_access: float
    score: float = 0.0  # set by retrieval


class MemoryStore(Protocol):
    """An agent's memory stream."""

    def add(self, agent: str, text: str, kind: str, importance: float, now: float) -> str:
        """Store a memory; returns its id."""
        ...

    def retrieve(self, agent: str, query: str, now: float, k: int = 5) -> list[Memory]:
        """The k memories ranked by recency, importance and relevance."""
        ...
