"""Moving about and looking: go (and n, s, e, w, ne, nw, se, sw, u, d), look, exits, doors."""

from __future__ import annotations

import re
from typing import Annotated

from world import rules
from world.commands.registry import Target, Text, command, split_words
from world.context import find
from world.directions import Direction, parse_direction
from world.entities import Character, Exit, ItemType, Position
from world.errors import Code, Refused
from world.events import (
    Arrived,
    Departed,
    DoorChanged,
    LookedAt,
    Message,
    PositionChanged,
    Walked,
)
from world.world import Ctx

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
    Walking costs a little movement; rest to get it back. If you are resting (as
    you are when you wake after dying), you stand up first and go.
    """
    actor = ctx.actor
    if actor.position is Position.FIGHTING:
        raise Refused(Code.POSITION, "You are fighting! Flee if you must.")
    ex = ctx.room.exits.get(direction)
    if ex is None:
        raise Refused(Code.NO_EXIT, "You can't go that way.")
    if ex.door is not None and ex.door.closed:
        raise Refused(Code.DOOR_CLOSED, f"The {ex.door.name} is closed.")
    if actor.moves < MOVE_COST:
        raise Refused(Code.EXHAUSTED, "You are too exhausted to walk any further.")
    world = ctx.world
    if actor.position is Position.RESTING:
        actor.position = Position.STANDING
        ctx.tell_room(PositionChanged(actor.name, Position.STANDING.value), include_actor=True)
    old = ctx.room
    actor.moves -= MOVE_COST
    world.touch(actor)
    world.emit_room(old, Departed(actor.name, str(actor.kind), direction.value), exclude=actor)
    world.move(actor, ex.to)
    new = world.rooms[ex.to]
    world.emit_room(new, Arrived(actor.name, str(actor.kind), direction.opposite.value,
                                     actor.level),
                    exclude=actor)
    ctx.tell(world.room_view(new, actor))
    world.signal(Walked(actor, old.id, new.id, direction.value))  # followers come along


def _look_at_character(ctx: Ctx, ch: Character) -> None:
    ctx.tell(
        LookedAt(
            target=ch.name,
            target_kind=str(ch.kind),
            description=ch.description or (f"{ch.name} looks like an ordinary {ch.cls}."
                                           if ch.cls else f"You see nothing special about "
                                                          f"{ch.name}."),
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
    return rules.condition(ch.hp, ch.max_hp)


def _look_through(ctx: Ctx, direction: Direction, ex: Exit) -> None:
    if ex.door is not None and ex.door.closed:
        state = "closed and locked" if ex.door.locked else "closed"
        desc = f"The {ex.door.name} to the {direction.value} is {state}."
    else:
        desc = f"To the {direction.value} you see {ctx.world.rooms[ex.to].name}."
    ctx.tell(LookedAt(target=direction.value, target_kind="exit", description=desc,
                      details={"to": ex.to, "door": ex.door.name if ex.door else None}))


@command("look", aliases=("l", "read"), category="information",
         examples=("look", "look Ann", "look at key", "look north", "read board"))
def look(ctx: Ctx, target: Annotated[Text | None, "what to look at; the room if empty"] = None
         ) -> None:
    """Look around the room, or closely at someone, something or a direction.

    `look` shows the room: its description, exits, who and what is here.
    `look <target>` looks at a character, an item here or carried, a feature
    mentioned in the description, a door, or a direction.
    `look in <container>` shows what is inside a bag, a chest or a corpse.
    """
    # The rest of the line, so that `look at key` reaches past the filler word.
    word, rest = split_words(target or "")
    inside = word.lower() == "in"
    if word.lower() in ("at", "in"):
        word, rest = split_words(rest)
    word = word.lower()
    if inside and word and _look_in(ctx, " ".join([word, *rest.split()])):
        return
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
    for direction, ex in ctx.room.exits.items():  # `look door`, `look gate`
        if ex.door is not None and any(part.startswith(word)
                                       for part in ex.door.name.lower().split()):
            _look_through(ctx, direction, ex)
            return
    sentence = _mentioned(ctx.room.description, word)
    if sentence:
        ctx.tell(LookedAt(target=word, target_kind="feature", description=sentence,
                          details={}))
        return
    raise Refused(Code.NOT_HERE, f"You don't see '{phrase[:40]}' here.")


def _look_in(ctx: Ctx, word: str) -> bool:
    """`look in <container>`: what is inside a container, a corpse or a drink (carried, worn
    or here); False if no item is called so (`look in fountain` looks at the feature)."""
    from world.commands.items import examine_item  # items registers after movement

    found = (ctx.item_carried(word) or find(word, ctx.actor.equipment.values())
             or ctx.item_here(word))
    if found is None:
        return False
    if found.type not in (ItemType.CONTAINER, ItemType.CORPSE, ItemType.DRINK):
        raise Refused(Code.NOT_CONTAINER, f"{found.name[:1].upper()}{found.name[1:]} is not "
                                          "a container.")
    examine_item(ctx, found)
    return True


_COMMON = frozenset({"the", "and", "but", "you", "your", "with", "from", "into", "onto",
                     "over", "under", "its", "this", "that", "here", "there", "them", "they",
                     "for", "are", "was", "has", "have", "all", "one", "out", "off"})


def _mentioned(description: str, word: str) -> str:
    """The sentence of a room's `description` that mentions `word` (`look windows` in a hall
    "lit by tall windows"), or "" (short and common words are not looked for)."""
    if len(word) < 3 or word in _COMMON:
        return ""
    pattern = re.compile(rf"\b{re.escape(word)}", re.IGNORECASE)
    for sentence in re.split(r"(?<=[.!?])\s+", " ".join(description.split())):
        if pattern.search(sentence):
            return sentence
    return ""


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
