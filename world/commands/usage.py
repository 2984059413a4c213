"""`usage`: what AI agents spent on their models, in game.

The world cannot touch the database, so the command checks its arguments and hands
the rest to the server as a `ServerRequest("usage", ...)`, the way `password` does;
the server (server/host/usage_service.py) answers with a `UsageShown` event, sent to the
one who asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

from world.commands.registry import Word, command
from world.errors import Code, Refused
from world.events import Event, ServerRequest
from world.world import Ctx

MAX_DAYS = 366


@dataclass(frozen=True, slots=True)
class UsageShown(Event):
    """Model usage of one agent, or of all the agents of one owner.

    `subject` is the agent or owner shown and `scope` says which ("agent" or
    "owner"); `day` is today (UTC, ISO); `days` how many days `recent` covers. Each
    entry of `agents` has `name`, `today`, `recent` and `total`, each a map of
    `tokens`, `prompt_tokens`, `completion_tokens`, `cached_tokens`, `calls`, `usd`;
    `owner_total` sums them for an owner (None for an agent). `budgets` lists the
    budgets that apply (`scope`, `account`, `tokens_per_day`, `usd_per_day`,
    `on_limit`, with `spent_tokens` and `spent_usd` of today).
    """

    name: ClassVar[str] = "usage_shown"
    subject: str
    scope: str
    day: str
    days: int
    agents: list[dict[str, Any]]
    owner_total: dict[str, Any] | None
    budgets: list[dict[str, Any]]


@command("usage", category="account", sleeping_ok=True,
         examples=("usage", "usage Scout", "usage Scout 30"))
def usage(ctx: Ctx,
          name: Annotated[Word | None, "one of your agents (default: all of them, or "
                                      "yourself if you are an agent)"] = None,
          days: Annotated[int | None, "how many days the recent figures cover (default 7)"]
          = None) -> None:
    """Show the model tokens and cost of your AI agents: today, recently and in all.

    A person sees each of their agents and the total of them all; an agent sees its
    own. The daily budgets that apply are shown with what is spent of them today.
    """
    if days is not None and not (1 <= days <= MAX_DAYS):
        raise Refused(Code.BAD_ARGS, f"Days must be from 1 to {MAX_DAYS}.")
    ctx.tell(ServerRequest("usage", {"name": str(name) if name else None,
                                     "days": days or 7}))
