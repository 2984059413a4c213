"""Owners manage their AI agents in game: `agent create|list|rotate|revoke|scopes|a2a`.

The world cannot touch the database, so the command checks what it can (the
subcommand, its arguments, that the actor is a person) and hands the rest to the
server as a `ServerRequest("agent", ...)`, the way `password` does; the server
(server/host/identity.py) answers with an `AgentManaged` event, sent to the owner only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

from world.commands.registry import Text, Word, command
from world.entities import Kind
from world.errors import Code, Refused
from world.events import Event, ServerRequest
from world.world import Ctx

ACTIONS = ("create", "list", "rotate", "revoke", "scopes", "a2a")
"""The subcommands of `agent`."""

USAGE = ("Usage: agent create <name> [categories] | agent list | agent rotate <name> | "
         "agent revoke <name> | agent scopes <name> <category,...|*> | "
         "agent a2a <name> on|off")


@dataclass(frozen=True, slots=True)
class AgentManaged(Event):
    """The server carried out an `agent` subcommand for its owner.

    `action` is the subcommand; `agents` lists the agents concerned (each a map with
    name, owner, key_id, active, scopes, config, created_at, last_used_at); `key` is a
    new API key after `create` or `rotate`, shown this once and never again.
    """

    name: ClassVar[str] = "agent_managed"
    action: str
    agents: list[dict[str, Any]]
    key: str | None = None


@command("agent", aliases=("agents",), category="account", sleeping_ok=True,
         examples=("agent list", "agent create Scout", "agent scopes Scout movement,combat",
                   "agent rotate Scout", "agent revoke Scout", "agent a2a Scout on"))
def agent(ctx: Ctx,
          action: Annotated[Word, "create, list, rotate, revoke, scopes or a2a"],
          name: Annotated[Word | None, "the agent's name (list: an owner, for admins)"] = None,
          scopes: Annotated[Text | None, "command categories, comma-separated, or * "
                                         "(a2a: on or off)"] = None,
          ) -> None:
    """Create and manage your AI agents and their API keys.

    `agent create <name> [categories]` makes an agent you own and shows its API key
    once (keep it secret: the game stores only a hash of it). `agent list` shows your
    agents; `agent rotate <name>` gives a new key and revokes the old one at once;
    `agent revoke <name>` revokes its key (its connections close at once); `agent
    scopes <name> <categories|*>` limits the command categories its key may use;
    `agent a2a <name> on|off` lets it be reached over A2A (Agent2Agent) with your
    agents' API keys, or not, and shows its Agent Card's address.
    Agents appear with an [AI] tag wherever people see them.
    """
    if ctx.actor.kind is Kind.AGENT:
        raise Refused(Code.FORBIDDEN, "Agents cannot create or manage agents.")
    verb = action.lower()
    if verb not in ACTIONS:
        raise Refused(Code.BAD_ARGS, USAGE)
    if verb not in ("list",) and not name:
        raise Refused(Code.BAD_ARGS, USAGE)
    if verb == "scopes" and not scopes:
        raise Refused(Code.BAD_ARGS, "Usage: agent scopes <name> <category,...|*>")
    if verb == "a2a" and str(scopes or "").lower() not in ("on", "off"):
        raise Refused(Code.BAD_ARGS, "Usage: agent a2a <name> on|off")
    if verb in ("rotate", "revoke", "list") and scopes:
        raise Refused(Code.BAD_ARGS, USAGE)
    args: dict[str, Any] = {"action": verb, "name": str(name) if name else None,
                            "scopes": str(scopes) if scopes else None}
    ctx.tell(ServerRequest("agent", args))
