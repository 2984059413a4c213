"""Moving about and looking: go (and n, s, e, w, ne, nw, se, sw, u, d), look, exits, doors."""

from __future__ import annotations

from typing import Annotated

from world.commands.registry import Target, Text, command, split_words
from world.context import Ctx
from world.directions import Direction, parse_direction
from world.entities import Character, Exit, Position
from world.errors import Code, Refused
from world.events import Arrived, Departed, DoorChanged, LookedAt, Message, Walked

MOVE_COST = 1


@command(
    "go",
    shortcuts={
        **{d.value: {"direction": d.value} for d in Direction},
        **{d.short: {"direction": d.value} for d in Direction},
    },
    aliases=("walk",),
    category="movement",
    examples=("go north", "n", "up"),
)
def go(ctx: Ctx, direction: Annotated[Direction, "which way to go"]) -> None:
    """Walk out of the room in a direction.

    You can type the direction alone: north, south, east, west, northeast,
    northwest, southeast, southwest, up, down, or n, s, e, w, ne, nw, se, sw, u, d.
    Walking costs a little movement; rest to get it back.
    """
    actor = ctx.actor
    if actor.position is Position.FIGHTING:
        raise Refused(Code.POSITION, "You are fighting! Flee if you must.")
    if actor.position is Position.RESTING:
        raise Refused(Code.POSITION, "You need to stand up first.")
    ex = ctx.room.exits.get(direction)
    if ex is None:
        raise Refused(Code.NO_EXIT, "You can't go that way.")
    if ex.door is not None and ex.door.closed:
        raise Refused(Code.DOOR_CLOSED, f"The {ex.door.name} is closed.")
    if actor.moves < MOVE_COST:
        raise Refused(Code.EXHAUSTED, "You are too exhausted to walk any further.")
    world = ctx.world
    old = ctx.room
    actor.moves -= MOVE_COST
    world.touch(actor)
    world.emit_room(old, Departed(actor.name, str(actor.kind), direction.value), exclude=actor)
    world.move(actor, ex.to)
    new = world.rooms[ex.to]
    world.emit_room(new, Arrived(actor.name, str(actor.kind), direction.opposite.value),
                    exclude=actor)
    ctx.tell(world.room_view(new, actor))
    world.signal(Walked(actor, old.id, new.id, direction.value))  # followers come along


def _look_at_character(ctx: Ctx, ch: Character) -> None:
    ctx.tell(
        LookedAt(
            target=ch.name,
            target_kind=str(ch.kind),
            description=ch.description or f"{ch.name} looks like an ordinary {ch.cls}.",
            details={
                "level": ch.level,
                "class": ch.cls,
                "position": str(ch.position),
                "title": ch.title,
                "condition": _condition(ch),
                "linkdead": ch.linkdead,
            },
        )
    )


def _condition(ch: Character) -> str:
    ratio = ch.hp / ch.max_hp if ch.max_hp else 0
    if ratio >= 1:
        return "excellent"
    if ratio >= 0.75:
        return "a few scratches"
    if ratio >= 0.5:
        return "wounded"
    if ratio >= 0.25:
        return "badly wounded"
    return "awful"


def _look_through(ctx: Ctx, direction: Direction, ex: Exit) -> None:
    if ex.door is not None and ex.door.closed:
        state = "closed and locked" if ex.door.locked else "closed"
        desc = f"The {ex.door.name} to the {direction.value} is {state}."
    else:
        desc = f"To the {direction.value} you see {ctx.world.rooms[ex.to].name}."
    ctx.tell(LookedAt(target=direction.value, target_kind="exit", description=desc,
                      details={"to": ex.to, "door": ex.door.name if ex.door else None}))


@command("look", aliases=("l",), category="information",
         examples=("look", "look Ann", "look at key", "look north"))
def look(ctx: Ctx, target: Annotated[Text | None, "what to look at; the room if empty"] = None
         ) -> None:
    """Look around the room, or closely at someone, something or a direction.

    `look` shows the room: its description, exits, who and what is here.
    `look <target>` looks at a character, an item here or carried, a feature
    mentioned in the description, or a direction.
    """
    # The rest of the line, so that `look at key` reaches past the filler word.
    word, rest = split_words(target or "")
    if word.lower() in ("at", "in"):
        word, rest = split_words(rest)
    word = word.lower()
    if word in ("", "room", "here"):
        ctx.tell(ctx.world.room_view(ctx.room, ctx.actor))
        return
    phrase = " ".join([word, *rest.lower().split()])  # `look notice board`
    direction = parse_direction(word)
    if direction is not None and word in (direction.value, direction.short):
        ex = ctx.room.exits.get(direction)
        if ex is None:
            raise Refused(Code.NO_EXIT, "Nothing special there.")
        _look_through(ctx, direction, ex)
        return
    ch = ctx.character_here(word)
    if ch is not None:
        _look_at_character(ctx, ch)
        return
    item = ctx.item_carried(word) or ctx.item_here(word)
    if item is not None:
        ctx.tell(LookedAt(target=item.name, target_kind="item", description=item.description,
                          details={"keyword": item.keyword, "weight": item.weight}))
        return
    for key, text in ctx.room.extras.items():
        if key.startswith(phrase) or any(part.startswith(word) for part in key.split()):
            ctx.tell(LookedAt(target=key, target_kind="feature", description=text, details={}))
            return
    direction = parse_direction(word)
    if direction is not None:
        ex = ctx.room.exits.get(direction)
        if ex is None:
            raise Refused(Code.NO_EXIT, "Nothing special there.")
        _look_through(ctx, direction, ex)
        return
    raise Refused(Code.NOT_HERE, f"You don't see '{phrase[:40]}' here.")


@command("exits", category="information", examples=("exits",))
def exits(ctx: Ctx) -> None:
    """List the ways out of this room and where they lead."""
    lines = []
    for direction, ex in ctx.room.exits.items():
        if ex.door is not None and ex.door.closed:
            lines.append(f"{direction.value:<10} - a closed {ex.door.name}")
        else:
            lines.append(f"{direction.value:<10} - {ctx.world.rooms[ex.to].name}")
    ctx.tell(Message("Obvious exits:\n" + ("\n".join(lines) if lines else "None.")))


def _door(ctx: Ctx, word: str) -> tuple[Direction, Exit]:
    """The exit with a door named by a direction or the door's name."""
    direction = parse_direction(word)
    if direction is not None:
        ex = ctx.room.exits.get(direction)
        if ex is None:
            raise Refused(Code.NO_EXIT, "There is no exit that way.")
        if ex.door is None:
            raise Refused(Code.NOT_A_DOOR, "There is no door that way.")
        return direction, ex
    for d, ex in ctx.room.exits.items():
        if ex.door is not None and any(part.startswith(word.lower())
                                       for part in ex.door.name.lower().split()):
            return d, ex
    raise Refused(Code.NOT_HERE, f"You see no '{word[:40]}' here.")


def _changed(ctx: Ctx, direction: Direction, ex: Exit, action: str) -> None:
    assert ex.door is not None
    event = DoorChanged(ctx.actor.name, direction.value, ex.door.name, action)
    ctx.tell_room(event, include_actor=True)
    # People on the other side see it too.
    other = ctx.world.rooms[ex.to]
    back = other.exits.get(direction.opposite)
    if back is not None and back.door is ex.door:
        ctx.world.emit_room(other, DoorChanged("someone", direction.opposite.value,
                                               ex.door.name, action))


def _has_key(ctx: Ctx, key: str | None) -> bool:
    return key is not None and any(it.proto == key for it in ctx.actor.inventory)


@command("open", category="movement", examples=("open door", "open north"))
def open_(ctx: Ctx, door: Annotated[Target, "the door, or its direction"]) -> None:
    """Open a door."""
    direction, ex = _door(ctx, door)
    assert ex.door is not None
    if not ex.door.closed:
        raise Refused(Code.ALREADY, f"The {ex.door.name} is already open.")
    if ex.door.locked:
        raise Refused(Code.DOOR_LOCKED, f"The {ex.door.name} is locked.")
    ex.door.closed = False
    _changed(ctx, direction, ex, "opened")


@command("close", category="movement", examples=("close door", "close north"))
def close(ctx: Ctx, door: Annotated[Target, "the door, or its direction"]) -> None:
    """Close a door."""
    direction, ex = _door(ctx, door)
    assert ex.door is not None
    if ex.door.closed:
        raise Refused(Code.ALREADY, f"The {ex.door.name} is already closed.")
    ex.door.closed = True
    _changed(ctx, direction, ex, "closed")


@command("lock", category="movement", examples=("lock gate",))
def lock(ctx: Ctx, door: Annotated[Target, "the door, or its direction"]) -> None:
    """Lock a closed door with its key."""
    direction, ex = _door(ctx, door)
    assert ex.door is not None
    if not ex.door.closed:
        raise Refused(Code.POSITION, f"Close the {ex.door.name} first.")
    if ex.door.locked:
        raise Refused(Code.ALREADY, f"The {ex.door.name} is already locked.")
    if not _has_key(ctx, ex.door.key):
        raise Refused(Code.NO_KEY, "You lack the key.")
    ex.door.locked = True
    _changed(ctx, direction, ex, "locked")


@command("unlock", category="movement", examples=("unlock gate",))
def unlock(ctx: Ctx, door: Annotated[Target, "the door, or its direction"]) -> None:
    """Unlock a locked door with its key."""
    direction, ex = _door(ctx, door)
    assert ex.door is not None
    if not ex.door.locked:
        raise Refused(Code.ALREADY, f"The {ex.door.name} is not locked.")
    if not _has_key(ctx, ex.door.key):
        raise Refused(Code.NO_KEY, "You lack the key.")
    ex.door.locked = False
    _changed(ctx, direction, ex, "unlocked")
