"""About yourself and the game: who, score, help, rest/sleep/wake/stand, quit, password, stats."""

from __future__ import annotations

from typing import Annotated

from world.commands.registry import (
    REGISTRY,
    Word,
    allowed,
    command,
    help_page,
    tool_schema,
)
from world.context import Ctx
from world.entities import Position, Role
from world.errors import Code, Refused
from world.events import HelpShown, PositionChanged, ScoreShown, ServerRequest, WhoListed
from world.rules import armor_class, xp_next


@command("who", category="information", sleeping_ok=True, examples=("who",))
def who(ctx: Ctx) -> None:
    """List everyone playing now."""
    ctx.tell(WhoListed([
        {
            "name": ch.name,
            "level": ch.level,
            "class": ch.cls,
            "kind": str(ch.kind),
            "title": ch.title,
            "role": str(ch.role),
            "linkdead": ch.linkdead,
        }
        for ch in sorted(ctx.world.characters.values(), key=lambda c: (-c.level, c.name))
        if ch.kind.value != "mob"
    ]))


@command("score", aliases=("sc",), category="information", sleeping_ok=True,
         examples=("score",))
def score(ctx: Ctx) -> None:
    """Show your character sheet."""
    ch = ctx.actor
    proto = ctx.world.content.classes[ch.cls]
    ctx.tell(ScoreShown({
        "name": ch.name,
        "title": ch.title,
        "class": ch.cls,
        "class_name": proto.name,
        "level": ch.level,
        "xp": ch.xp,
        "xp_next": xp_next(ch),
        "hp": ch.hp,
        "max_hp": ch.max_hp,
        "mana": ch.mana,
        "max_mana": ch.max_mana,
        "moves": ch.moves,
        "max_moves": ch.max_moves,
        "attributes": dict(proto.attributes),
        "position": str(ch.position),
        "role": str(ch.role),
        "room": ctx.room.name,
        "played_seconds": (ch.played_ticks + ctx.world.time - ch.session_start) // 10,
        "armor_class": armor_class(ch),
        "gold": ch.gold,
    }))


@command("help", aliases=("?", "commands"), category="information", sleeping_ok=True,
         examples=("help", "help look", "help rules"))
def help_(ctx: Ctx, topic: Annotated[Word | None, "a command or a topic"] = None) -> None:
    """Show the list of commands, or the help page of one command or topic."""
    role = ctx.actor.role
    registry = ctx.world.registry
    if not topic:
        listing = [
            {"name": s.name, "summary": s.summary, "category": s.category}
            for s in registry.specs.values()
            if allowed(s, role)
        ]
        ctx.tell(HelpShown("", "", listing))
        return
    word = topic.lower()
    page = ctx.world.content.help.get(word)
    if page is not None:
        ctx.tell(HelpShown(word, page, []))
        return
    hit = registry.lookup(word)
    if hit is not None and allowed(hit[0], role):
        spec = hit[0]
        ctx.tell(HelpShown(spec.name, help_page(spec), [tool_schema(spec)]))
        return
    for name, page in ctx.world.content.help.items():
        if name.startswith(word):
            ctx.tell(HelpShown(name, page, []))
            return
    raise Refused(Code.NO_HELP, f"No help on '{topic[:40]}'. Type 'help' for the list.")


def _set_position(ctx: Ctx, position: Position, already: str) -> None:
    if ctx.actor.position is Position.FIGHTING:
        raise Refused(Code.POSITION, "Not while you are fighting!")
    if ctx.actor.position is position:
        raise Refused(Code.ALREADY, already)
    ctx.actor.position = position
    ctx.world.touch(ctx.actor)
    ctx.tell_room(PositionChanged(ctx.actor.name, position.value), include_actor=True)


@command("rest", aliases=("sit",), category="position", examples=("rest",))
def rest(ctx: Ctx) -> None:
    """Sit down and rest: you recover twice as fast."""
    _set_position(ctx, Position.RESTING, "You are already resting.")


@command("sleep", category="position", examples=("sleep",))
def sleep(ctx: Ctx) -> None:
    """Go to sleep: you recover fastest, but see and hear little."""
    _set_position(ctx, Position.SLEEPING, "You are already asleep.")


@command("wake", category="position", sleeping_ok=True, examples=("wake",))
def wake(ctx: Ctx) -> None:
    """Wake up and sit up."""
    if ctx.actor.position is not Position.SLEEPING:
        raise Refused(Code.ALREADY, "You are already awake.")
    _set_position(ctx, Position.RESTING, "")


@command("stand", category="position", sleeping_ok=True, examples=("stand",))
def stand(ctx: Ctx) -> None:
    """Stand up (from resting or sleeping)."""
    _set_position(ctx, Position.STANDING, "You are already standing.")


@command("quit", category="system", sleeping_ok=True, examples=("quit",))
def quit_(ctx: Ctx) -> None:
    """Leave the game. Your character is saved where it stands."""
    if ctx.actor.position is Position.FIGHTING:
        raise Refused(Code.POSITION, "No way! You are fighting.")
    ctx.tell(ServerRequest("quit", {}))


@command("password", category="system", sleeping_ok=True, sensitive=True,
         examples=("password oldsecret newsecret",))
def password(ctx: Ctx, old: Annotated[Word, "your current password"],
             new: Annotated[Word, "the new password (8 characters or more)"]) -> None:
    """Change your password: `password <old> <new>`."""
    if len(new) < 8:
        raise Refused(Code.BAD_ARGS, "The new password must have at least 8 characters.")
    ctx.tell(ServerRequest("password", {"old": str(old), "new": str(new)}))


@command("stats", category="admin", role=Role.ADMIN, sleeping_ok=True, examples=("stats",))
def stats(ctx: Ctx) -> None:
    """Show server statistics: tick timing (p50/p99 over the last minute), sessions, traffic."""
    ctx.tell(ServerRequest("stats", {}))


__all__ = ["REGISTRY"]
