"""Builder commands (role builder, category building): shape the world while people play.

dig, link, unlink, door, rname, rdesc, rflag, create, set, spawn, destroy, purge,
goto, teleport, zone (create, reset, export, list), reset (add, list, remove),
undo; and `reload content` for admins. `examine` (in items.py) shows builders
every field of anything.

Every command checks everything first and refuses (`Refused`) before anything
changes. A change of content is written as a content state (world/building.py)
and applied by `building.apply_state`, which checks the whole content again, so
a builder cannot leave a broken exit or reference behind. Each change is
recorded as an `Edit` for the server (which persists and audits it) and for
`undo`.

Targets are named as builders think of them: `here` (or `room`) is your room,
`zone` your room's zone, `haven:square` any room or prototype by id, a local id
(`square`) one of your zone, `item:haven:key` / `mob:haven:rat` /
`room:...` / `zone:haven` when an id could mean two things, and a character by
keyword (in the room) or by name (anyone playing).
"""

from __future__ import annotations

import json
import re
import types
import typing
from typing import Annotated, Any

from pydantic import BaseModel, ValidationError

from world import building
from world.building import Built, Edit, EditError, Purged, ResetsListed, Teleported
from world.commands.registry import Target, Text, Word, command
from world.context import find
from world.directions import Direction
from world.entities import Character, Item, Role
from world.errors import Code, Refused
from world.events import ServerRequest
from world.inventory import select
from world.prototypes import ItemModel, MobModel, ZoneInfo, qualify
from world.systems.resets import reset_zone
from world.text import clean_value
from world.world import Ctx

DEFAULT_DESCRIPTION = "An unfinished room. (A builder can describe it with `rdesc`.)"
ONEWAY = frozenset({"oneway", "one-way", "one_way"})
DOOR_ACTIONS = ("add", "remove", "open", "close", "lock", "unlock")
ROOM_FIELDS = ("name", "description", "flags", "items", "extra.<keyword>")
_ARTICLES = frozenset({"a", "an", "the", "of", "some"})


# ---- helpers ---------------------------------------------------------------------------


def _short(word: str) -> str:
    return word[:40]


def _commit(ctx: Ctx, kind: str, target: str, zone: str, before: dict[str, Any],
            after: dict[str, Any], detail: dict[str, Any]) -> None:
    """Apply a content change, record it, and tell the builder."""
    try:
        building.apply_state(ctx.world, after)
    except EditError as err:
        raise Refused(Code.BAD_VALUE, f"That would not fit: {err}") from None
    ctx.world.record_edit(Edit(ctx.actor.name, kind, target, before, after, zone))
    ctx.tell(Built(kind, target, zone, detail))


def _record_live(ctx: Ctx, kind: str, target: str, zone: str, before: Any, after: Any,
                 detail: dict[str, Any] | None, *, undoable: bool = True) -> None:
    """Record a change of live things (`detail` None: its own event told the builder)."""
    ctx.world.record_edit(Edit(ctx.actor.name, kind, target, before, after, zone),
                          undoable=undoable)
    if detail is not None:
        ctx.tell(Built(kind, target, zone, detail))


def _room_doc(ctx: Ctx, rid: str) -> dict[str, Any]:
    return building.room_doc(ctx.world.content.rooms[rid])


def _room_id(ctx: Ctx, word: str) -> str:
    """A room named by id (`haven:square`, or `square` in your zone) or `here`."""
    low = word.strip().lower()
    if low in ("here", "room"):
        return ctx.room.id
    low = low.removeprefix("room:") if low.count(":") == 2 else low
    rid = qualify(low, ctx.room.zone)
    if rid not in ctx.world.content.rooms:
        raise Refused(Code.NOT_HERE, f"There is no room '{_short(rid)}'.")
    return rid


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:40].strip("_")
    if not slug or not slug[0].isalpha():
        slug = f"room_{slug}".strip("_")
    return slug


def _new_room_id(ctx: Ctx, zone: str, name: str) -> str:
    base = f"{zone}:{_slug(name)}"
    rid, n = base, 2
    while rid in ctx.world.content.rooms:
        rid, n = f"{base}_{n}", n + 1
    return rid


def _proto_id(ctx: Ctx, word: str) -> str:
    """A prototype id: `rat` in your zone, or `zone:rat` in full."""
    pid = qualify(word.strip().lower(), ctx.room.zone)
    zone, _, local = pid.partition(":")
    if building.LOCAL_ID.match(zone) is None or building.LOCAL_ID.match(local) is None:
        raise Refused(Code.BAD_ARGS, f"'{_short(word)}' is not an id: lower-case letters, "
                                     "digits and _, starting with a letter (zone:id in full).")
    return pid


# ---- rooms and exits --------------------------------------------------------------------


@command("dig", category="building", role=Role.BUILDER,
         examples=("dig north Dusty Hall", "dig down Old Cellar"))
def dig(ctx: Ctx, direction: Annotated[Direction, "which way the new room lies"],
        name: Annotated[Text, "the new room's name"]) -> None:
    """Make a new room that way, in your zone, with exits both ways.

    Usage: dig <direction> <name>
    The room's id comes from its name (`Dusty Hall` is `<zone>:dusty_hall`); describe
    it with `rdesc` once you are there.
    """
    room = ctx.room
    if direction in ctx.world.content.rooms[room.id].exits:
        raise Refused(Code.ALREADY, f"There is already an exit {direction.value}; "
                                    "`unlink` it first.")
    title = " ".join(name.split())
    if not 0 < len(title) <= 80:
        raise Refused(Code.BAD_ARGS, "A room's name has 1 to 80 characters.")
    rid = _new_room_id(ctx, room.zone, title)
    origin = _room_doc(ctx, room.id)
    origin.setdefault("exits", {})[direction.value] = rid
    before = building.capture(ctx.world, rooms=[room.id, rid])
    after = {"rooms": {room.id: origin, rid: {
        "name": title, "description": DEFAULT_DESCRIPTION,
        "exits": {direction.opposite.value: room.id}}}}
    _commit(ctx, "room.dig", rid, room.zone, before, after,
            {"direction": direction.value, "from": room.id, "name": title})


@command("link", category="building", role=Role.BUILDER,
         examples=("link east haven:square", "link up bell_tower oneway"))
def link(ctx: Ctx, direction: Annotated[Direction, "the way out of this room"],
         room: Annotated[Word, "the room it leads to (an id; a local id in your zone)"],
         mode: Annotated[Word | None, "`oneway`: no exit back"] = None) -> None:
    """Make an exit from this room to another, and the way back unless `oneway`.

    Usage: link <direction> <room id> [oneway]
    """
    here = ctx.room.id
    target = _room_id(ctx, room)
    oneway = False
    if mode is not None:
        if mode.lower() not in ONEWAY:
            raise Refused(Code.BAD_ARGS, "Usage: link <direction> <room id> [oneway]")
        oneway = True
    rooms = ctx.world.content.rooms
    if direction in rooms[here].exits:
        raise Refused(Code.ALREADY, f"There is already an exit {direction.value}; "
                                    "`unlink` it first.")
    back = direction.opposite
    if not oneway and back in rooms[target].exits and not (target == here and back == direction):
        raise Refused(Code.ALREADY, f"{target} already has an exit {back.value}: link it "
                                    "`oneway`, or unlink that exit first.")
    docs = {here: _room_doc(ctx, here)}
    if target != here:
        docs[target] = _room_doc(ctx, target)
    docs[here].setdefault("exits", {})[direction.value] = target
    if not oneway:
        docs[target].setdefault("exits", {})[back.value] = here
    before = building.capture(ctx.world, rooms=list(docs))
    _commit(ctx, "exit.link", here, ctx.room.zone, before, {"rooms": docs},
            {"direction": direction.value, "to": target, "oneway": oneway})


@command("unlink", category="building", role=Role.BUILDER, examples=("unlink east",))
def unlink(ctx: Ctx, direction: Annotated[Direction, "the exit to remove"]) -> None:
    """Remove an exit from this room, and the way back if it leads here.

    Usage: unlink <direction>
    """
    here = ctx.room.id
    rooms = ctx.world.content.rooms
    ex = rooms[here].exits.get(direction)
    if ex is None:
        raise Refused(Code.NO_EXIT, f"There is no exit {direction.value} here.")
    docs = {here: _room_doc(ctx, here)}
    del docs[here]["exits"][direction.value]
    far = rooms[ex.to].exits.get(direction.opposite)
    both = far is not None and far.to == here
    if both:
        docs.setdefault(ex.to, _room_doc(ctx, ex.to))
        docs[ex.to]["exits"].pop(direction.opposite.value, None)
    for doc in docs.values():
        if not doc.get("exits"):
            doc.pop("exits", None)
    before = building.capture(ctx.world, rooms=list(docs))
    _commit(ctx, "exit.unlink", here, ctx.room.zone, before, {"rooms": docs},
            {"direction": direction.value, "to": ex.to, "both": both})


@command("door", category="building", role=Role.BUILDER,
         examples=("door north add gate", "door north add gate cellar_key", "door north lock",
                   "door north remove"))
def door(ctx: Ctx, direction: Annotated[Direction, "the exit the door is on"],
         action: Annotated[Word, "add, remove, open, close, lock or unlock"],
         name: Annotated[Word | None, "the door's name (add: `door` if empty)"] = None,
         key: Annotated[Word | None, "the key item's id (the door is then locked)"] = None
         ) -> None:
    """Put a door on an exit (both sides), take it away, or set how it starts.

    Usage: door <direction> add|remove|open|close|lock|unlock [name] [key]
    A new door starts closed; with a key it starts locked. `open`, `close`, `lock`
    and `unlock` set the door as the zone defines it (and as it is now); players
    open and close it as they play. A name or key given with them renames the door
    or changes its key.
    """
    act = action.lower()
    if act not in DOOR_ACTIONS:
        raise Refused(Code.BAD_ARGS, "Usage: door <direction> " + "|".join(DOOR_ACTIONS)
                      + " [name] [key]")
    here = ctx.room.id
    rooms = ctx.world.content.rooms
    ex = rooms[here].exits.get(direction)
    if ex is None:
        raise Refused(Code.NO_EXIT, f"There is no exit {direction.value} here.")
    current = ex.door
    far = rooms[ex.to].exits.get(direction.opposite)
    if current is None and far is not None and far.to == here:
        current = far.door
    key_id: str | None = None
    if key is not None:
        key_id = _proto_id(ctx, key)
        if key_id not in ctx.world.content.items:
            raise Refused(Code.NOT_HERE, f"There is no item '{key_id}' to be its key.")
    if act == "add":
        if current is not None:
            raise Refused(Code.ALREADY, f"There is a {current.name} {direction.value} already.")
        spec: dict[str, Any] | None = {"name": (name or "door").lower()}
        if key_id is not None:
            spec = {"name": (name or "door").lower(), "key": key_id, "locked": True}
    elif current is None:
        raise Refused(Code.NOT_A_DOOR, f"There is no door {direction.value}.")
    elif act == "remove":
        spec = None
    else:
        spec = building.door_doc(current)
        if name:
            spec["name"] = name.lower()
        if key_id is not None:
            spec["key"] = key_id
        spec["closed"] = {"open": False, "close": True, "lock": True,
                          "unlock": current.closed}[act]
        spec["locked"] = {"open": False, "close": current.locked, "lock": True,
                          "unlock": False}[act]
    docs = {here: _room_doc(ctx, here)}
    sides = [(here, direction)]
    if far is not None and far.to == here:
        docs.setdefault(ex.to, _room_doc(ctx, ex.to))
        sides.append((ex.to, direction.opposite))
    for rid, way in sides:
        exit_doc = docs[rid]["exits"][way.value]
        to = exit_doc if isinstance(exit_doc, str) else exit_doc["to"]
        docs[rid]["exits"][way.value] = to if spec is None else {"to": to, "door": dict(spec)}
    before = building.capture(ctx.world, rooms=list(docs))
    _commit(ctx, "door.set", here, ctx.room.zone, before, {"rooms": docs},
            {"direction": direction.value, "action": act,
             "door": None if spec is None else dict(spec)})


def _set_room(ctx: Ctx, rid: str, field: str, value: Any, detail: dict[str, Any]) -> None:
    doc = _room_doc(ctx, rid)
    if value is None or value == [] or value == {}:
        doc.pop(field, None)
    else:
        doc[field] = value
    before = building.capture(ctx.world, rooms=[rid])
    _commit(ctx, "room.set", rid, ctx.world.content.rooms[rid].zone, before,
            {"rooms": {rid: doc}}, {"field": field, **detail})


@command("rname", category="building", role=Role.BUILDER, examples=("rname The Dusty Hall",))
def rname(ctx: Ctx, name: Annotated[Text, "the room's new name"]) -> None:
    """Rename the room you are in.

    Usage: rname <name>
    """
    title = " ".join(name.split())
    if not 0 < len(title) <= 80:
        raise Refused(Code.BAD_ARGS, "A room's name has 1 to 80 characters.")
    _set_room(ctx, ctx.room.id, "name", title, {"value": title})


@command("rdesc", category="building", role=Role.BUILDER,
         examples=("rdesc Dust lies thick on the flagstones.",))
def rdesc(ctx: Ctx, text: Annotated[Text, "the room's new description"]) -> None:
    """Describe the room you are in (what `look` shows).

    Usage: rdesc <text>
    """
    text_ = " ".join(text.split())
    if not text_:
        raise Refused(Code.BAD_ARGS, "Usage: rdesc <text>")
    _set_room(ctx, ctx.room.id, "description", text_, {"value": text_})


@command("rflag", category="building", role=Role.BUILDER,
         examples=("rflag safe", "rflag no_mob on", "rflag pvp off"))
def rflag(ctx: Ctx, flag: Annotated[Word, "safe, pvp, recall, no_mob, dark..."],
          state: Annotated[Word | None, "on or off; toggles if empty"] = None) -> None:
    """Set or clear a flag of the room you are in.

    Usage: rflag <flag> [on|off]
    Flags: safe (no fights), pvp (players may fight players), recall (where the dead
    wake), no_mob (wandering mobs stay out), indoors (under a roof: a mob's line from
    an outdoor home reads plainly here, and the other way round), water (a fountain
    or a stream: `drink`, `fill`); dark, no_recall and no_magic are kept and shown in
    the room's `flags` for the game systems to come.
    """
    name = flag.lower()
    if name not in building.ROOM_FLAGS:
        raise Refused(Code.BAD_VALUE, f"No room flag '{_short(name)}'; flags: "
                      + ", ".join(building.ROOM_FLAGS) + ".")
    flags = set(ctx.world.content.rooms[ctx.room.id].flags)
    if state is None:
        on = name not in flags
    elif state.lower() in ("on", "yes", "true", "1"):
        on = True
    elif state.lower() in ("off", "no", "false", "0"):
        on = False
    else:
        raise Refused(Code.BAD_ARGS, "Usage: rflag <flag> [on|off]")
    if on:
        flags.add(name)
    else:
        flags.discard(name)
    _set_room(ctx, ctx.room.id, "flags", sorted(flags), {"flag": name, "on": on})


# ---- prototypes -----------------------------------------------------------------------


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


@command("create", category="building", role=Role.BUILDER,
         examples=("create item rusty_sword a rusty sword", "create mob cave_bat a cave bat"))
def create(ctx: Ctx, kind: Annotated[Word, "item or mob"],
           key: Annotated[Word, "its id: a local id in your zone, or zone:id"],
           name: Annotated[Text | None, "how it reads in a sentence (`a rusty sword`)"] = None
           ) -> None:
    """Make a new item or mob prototype, with sensible defaults to `set` from there.

    Usage: create item|mob <key> [name]
    An item starts as a weight-1 misc thing, a mob at level 1. `spawn` makes one;
    `reset add` makes the zone keep some around.
    """
    what = kind.lower()
    if what not in ("item", "mob"):
        raise Refused(Code.BAD_ARGS, "Usage: create item|mob <key> [name]")
    pid = _proto_id(ctx, key)
    zone = pid.split(":", 1)[0]
    c = ctx.world.content
    if zone not in c.zones:
        raise Refused(Code.NOT_HERE, f"There is no zone '{zone}'.")
    if pid in (c.items if what == "item" else c.mobs):
        raise Refused(Code.EXISTS, f"There is a {what} '{pid}' already.")
    local = pid.split(":", 1)[1]
    title = " ".join((name or "").split())[:80] or "a " + local.replace("_", " ")
    keywords = [local]
    for word in re.findall(r"[a-z0-9]+", title.lower()):
        if word not in _ARTICLES and word not in keywords:
            keywords.append(word)
    doc: dict[str, Any]
    if what == "item":
        doc = {"name": title, "keywords": keywords, "short": f"{_cap(title)} lies here.",
               "description": f"You see nothing special about {title}."}
        before = building.capture(ctx.world, items=[pid])
        after = {"items": {pid: doc}}
    else:
        doc = {"name": title, "keywords": keywords, "short": f"{_cap(title)} is here.",
               "description": f"{_cap(title)} looks back at you.", "level": 1}
        before = building.capture(ctx.world, mobs=[pid])
        after = {"mobs": {pid: doc}}
    _commit(ctx, "proto.create", pid, zone, before, after, {"kind": what, "name": title})


def _union_args(ann: Any) -> tuple[list[Any], bool]:
    if typing.get_origin(ann) in (typing.Union, types.UnionType):
        args = list(typing.get_args(ann))
        return [a for a in args if a is not type(None)], type(None) in args
    return [ann], False


def expected(ann: Any) -> str:
    """A field's type in words, for error messages."""
    inner, optional = _union_args(ann)
    if len(inner) > 1 or optional:
        text = " or ".join(expected(a) for a in inner)
        return text + (" (or none)" if optional else "")
    ann = inner[0]
    origin, args = typing.get_origin(ann), typing.get_args(ann)
    if ann is bool:
        return "true or false"
    if ann is int:
        return "an integer"
    if ann is float:
        return "a number"
    if ann is str:
        return "text"
    if origin is list:
        return f"a list of {expected(args[0]) if args else 'values'} (words, or JSON)"
    if origin is tuple:
        return f"{len(args)} values: " + ", ".join(expected(a) for a in args)
    if origin is dict:
        return "key=value pairs (or a JSON map)"
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return "a JSON map of " + ", ".join(ann.model_fields)
    return str(ann)


def parse_value(ann: Any, text: str) -> Any:
    """A typed value from a builder's text, for a field annotated `ann` (pydantic then
    checks it): JSON when it looks like JSON, lists from words, maps from key=value."""
    text = text.strip()
    inner, optional = _union_args(ann)
    if optional and text.lower() in ("none", "null", "-"):
        return None
    if text[:1] in "[{":
        try:  # JSON escapes can spell what no line carries: its strings are cleaned too
            return clean_value(json.loads(text))
        except ValueError:
            return text
    origin = typing.get_origin(inner[0]) if len(inner) == 1 else None
    if origin in (list, tuple):
        return [w for w in re.split(r"[,\s]+", text) if w]
    if origin is dict:
        out: dict[str, Any] = {}
        for pair in re.split(r"[,\s]+", text):
            k, eq, v = pair.partition("=")
            if not eq or not k:
                return text
            out[k] = int(v) if re.fullmatch(r"-?\d{1,9}", v) else v
        return out
    return text


def _set_proto(ctx: Ctx, kind: str, pid: str, field: str, text: str) -> None:
    model_cls: type[ItemModel] | type[MobModel] = ItemModel if kind == "item_proto" else MobModel
    table: dict[str, Any] = ctx.world.content.items if kind == "item_proto" else \
        ctx.world.content.mobs
    fields = [f for f in model_cls.model_fields if f != "extends"]
    if field not in fields:
        what = "an item" if kind == "item_proto" else "a mob"
        raise Refused(Code.UNKNOWN_FIELD, f"{_cap(what)} prototype has no field "
                      f"'{_short(field)}'; its fields: {', '.join(fields)}.")
    ann = model_cls.model_fields[field].annotation
    value = parse_value(ann, text)
    zone = pid.split(":", 1)[0]
    if kind == "mob_proto" and isinstance(value, list):
        if field in ("equipment", "inventory"):
            value = [qualify(str(v).lower(), zone) for v in value]
        elif field == "loot":
            value = [{**v, "item": qualify(str(v.get("item", "")).lower(), zone)}
                     if isinstance(v, dict) else v for v in value]
    doc = building.model_doc(table[pid])
    doc[field] = value
    try:
        checked = model_cls.model_validate(doc)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise Refused(Code.BAD_VALUE, f"Bad value for {field}: {err['msg']} "
                      f"(expected {expected(ann)}).") from None
    key = "items" if kind == "item_proto" else "mobs"
    before = building.capture(ctx.world, **{key: [pid]})
    _commit(ctx, "proto.set", pid, zone, before, {key: {pid: building.model_doc(checked)}},
            {"field": field, "value": building.plain(getattr(checked, field))})


def _set_room_field(ctx: Ctx, rid: str, field: str, text: str) -> None:
    value: Any
    if field.startswith("extra.") or field.startswith("extras."):
        word = " ".join(field.split(".", 1)[1].replace("_", " ").split()).lower()
        if not word:
            raise Refused(Code.BAD_ARGS, "Usage: set here extra.<keyword> <text> (- removes it)")
        extras = dict(ctx.world.content.rooms[rid].extras)
        if text.strip() == "-":
            extras.pop(word, None)
        else:
            extras[word] = " ".join(text.split())
        _set_room(ctx, rid, "extras", extras, {"keyword": word})
        return
    if field in ("name", "description"):
        value = " ".join(text.split())
        if field == "name" and not 0 < len(value) <= 80:
            raise Refused(Code.BAD_VALUE, "Bad value for name: 1 to 80 characters (expected "
                                          "text).")
    elif field == "flags":
        value = sorted({w.lower() for w in re.split(r"[,\s]+", text) if w and w != "-"})
        bad = [f for f in value if f not in building.ROOM_FLAGS]
        if bad:
            raise Refused(Code.BAD_VALUE, f"Bad value for flags: no flag {', '.join(bad)} "
                          f"(expected a list of: {', '.join(building.ROOM_FLAGS)}).")
    elif field == "items":
        value = [qualify(w.lower(), ctx.room.zone) for w in re.split(r"[,\s]+", text)
                 if w and w != "-"]
        missing = [i for i in value if i not in ctx.world.content.items]
        if missing:
            raise Refused(Code.BAD_VALUE, f"Bad value for items: no item {', '.join(missing)} "
                          "(expected a list of item ids).")
    else:
        raise Refused(Code.UNKNOWN_FIELD, f"A room has no field '{_short(field)}'; its "
                      f"fields: {', '.join(ROOM_FIELDS)}.")
    _set_room(ctx, rid, field, value, {"value": value})


def _set_zone(ctx: Ctx, zid: str, field: str, text: str) -> None:
    fields = [f for f in ZoneInfo.model_fields if f != "id"]
    if field not in fields:
        raise Refused(Code.UNKNOWN_FIELD, f"A zone has no field '{_short(field)}' (the id "
                      f"stays); its fields: {', '.join(fields)}.")
    ann = ZoneInfo.model_fields[field].annotation
    doc = building.model_doc(ctx.world.content.zones[zid])
    doc.update(id=zid, name=ctx.world.content.zones[zid].name)
    doc[field] = parse_value(ann, text)
    try:
        checked = ZoneInfo.model_validate(doc)
    except ValidationError as exc:
        raise Refused(Code.BAD_VALUE, f"Bad value for {field}: {exc.errors()[0]['msg']} "
                      f"(expected {expected(ann)}).") from None
    before = building.capture(ctx.world, zones=[zid])
    _commit(ctx, "zone.set", zid, zid, before, {"zones": {zid: building.model_doc(checked)}},
            {"field": field, "value": building.plain(getattr(checked, field))})


def _set_character(ctx: Ctx, ch: Character, field: str, text: str) -> None:
    spec = building.CHARACTER_FIELDS.get(field)
    if spec is None:
        raise Refused(Code.UNKNOWN_FIELD, f"You can't set '{_short(field)}' on a character; "
                      f"fields: {', '.join(building.CHARACTER_FIELDS)}.")
    kind, low, high = spec
    value: Any
    if kind is int:
        raw = text.strip()
        if re.fullmatch(r"-?\d{1,12}", raw) is None:
            raise Refused(Code.BAD_VALUE, f"Bad value for {field}: '{_short(raw)}' "
                          "(expected an integer).")
        value = int(raw)
        if not low <= value <= high:
            raise Refused(Code.BAD_VALUE, f"Bad value for {field}: {value} (expected an "
                          f"integer from {low} to {high}).")
    else:
        value = " ".join(text.split())
        if len(value) > high:
            raise Refused(Code.BAD_VALUE, f"Bad value for {field}: too long (expected text "
                          f"of at most {high} characters).")
    old = building.character_field(ch, field)
    building.set_character_field(ctx.world, ch, field, value)
    _record_live(ctx, "char.set", ch.name, ctx.world.rooms[ch.room].zone,
                 {"id": ch.id, "field": field, "value": old},
                 {"id": ch.id, "field": field, "value": value},
                 {"field": field, "value": value, "name": ch.name})


@command("set", category="building", role=Role.BUILDER,
         examples=("set here name The Dusty Hall", "set haven:rat level 3",
                   "set haven:bread weight 2", "set zone reset_minutes 5", "set Ann gold 100"))
def set_(ctx: Ctx, target: Annotated[Word, "here, zone, a room or prototype id, or a character"],
         field: Annotated[Word, "the field to set"],
         value: Annotated[Text, "the new value (lists: words; maps: key=value; or JSON)"]
         ) -> None:
    """Set a field of a room, a zone, an item or mob prototype, or a live character.

    Usage: set <target> <field> <value>
    Rooms: name, description, flags, items, extra.<keyword> (`-` removes it).
    Zones: name, description, levels, reset_minutes (how often resets run).
    Prototypes: any field of the content schema (see content/README.md), checked
    against it: an unknown field or a value of the wrong type is refused, saying what
    is expected. Live characters and mobs: level, xp, hp, max_hp, mana, max_mana,
    moves, max_moves, gold, wimpy, title, description, short, str, dex, con, int, wis.
    Changing a prototype changes what is made from now on, not what is already about.
    """
    kind, thing = building.resolve(ctx.world, ctx.actor, target)
    name = field.lower()
    if kind == "room":
        _set_room_field(ctx, thing, name, value)
    elif kind == "zone":
        _set_zone(ctx, thing, name, value)
    elif kind in ("item_proto", "mob_proto"):
        _set_proto(ctx, kind, thing, name, value)
    elif kind == "character":
        _set_character(ctx, thing, name, value)
    else:
        raise Refused(Code.BAD_TARGET, f"Set {thing.proto or 'its prototype'} instead: live "
                                       "items follow their prototype.")


# ---- live things -------------------------------------------------------------------------


@command("spawn", category="building", role=Role.BUILDER,
         examples=("spawn haven:rat", "spawn bread", "spawn item:haven:torch"))
def spawn(ctx: Ctx, proto: Annotated[Word, "a mob or item prototype id"]) -> None:
    """Make a mob (into this room) or an item (into your inventory) from its prototype.

    Usage: spawn <prototype id>
    """
    c = ctx.world.content
    low = proto.strip().lower()
    forced = None
    head, colon, rest = low.partition(":")
    if head in ("mob", "item") and colon and rest and low not in c.mobs and low not in c.items:
        forced, low = head, rest
    pid = _proto_id(ctx, low)
    zone = ctx.room.zone
    if forced != "item" and pid in c.mobs:
        mob = ctx.world.spawn_mob(pid, ctx.room.id)
        _record_live(ctx, "mob.spawn", pid, zone, None,
                     {"mob": mob.id, "proto": pid, "room": ctx.room.id},
                     {"kind": "mob", "name": mob.name, "id": mob.id})
    elif forced != "mob" and pid in c.items:
        item = ctx.world.make_item(pid)
        ctx.actor.inventory.append(item)
        _record_live(ctx, "item.spawn", pid, zone, None,
                     {"item": item.id, "proto": pid, "holder": ctx.actor.name},
                     {"kind": "item", "name": item.name, "id": item.id})
    else:
        raise Refused(Code.NOT_HERE, f"There is no prototype '{_short(pid)}'.")


def _purge(ctx: Ctx, mobs: list[Character], floor: list[Item], carried: list[Item]) -> None:
    world, room = ctx.world, ctx.room
    before = {
        "room": room.id,
        "mobs": [{"proto": m.proto, "reset_key": list(m.reset_key) if m.reset_key else None}
                 for m in mobs if m.proto],
        "items": [world.snapshot_item(it) for it in floor if it.proto],
        "carried": [world.snapshot_item(it) for it in carried if it.proto],
        "holder": ctx.actor.name,
    }
    names = [m.name for m in mobs] + [it.name for it in (*floor, *carried)]
    for mob in mobs:
        building.take_mob(world, mob)
    for it in floor:
        room.items.remove(it)
        world.decaying.pop(it.id, None)
    for it in carried:
        ctx.actor.inventory.remove(it)
    ctx.tell_room(Purged(ctx.actor.name, names), include_actor=True)
    _record_live(ctx, "purge", room.id, room.zone, before,
                 {"room": room.id, "mobs": [], "items": [], "carried": [],
                  "holder": ctx.actor.name}, None)


@command("destroy", category="building", role=Role.BUILDER,
         examples=("destroy rat", "destroy 2.sword"))
def destroy(ctx: Ctx, target: Annotated[Target, "a mob or an item, here or carried"]) -> None:
    """Make one mob or item vanish (never a player).

    Usage: destroy <target>
    """
    ch = ctx.character_here(target)
    if ch is not None:
        if not ch.is_mob:
            raise Refused(Code.BAD_TARGET, "Players can't be destroyed.")
        _purge(ctx, [ch], [], [])
        return
    item = find(target, ctx.room.items)
    if item is not None:
        _purge(ctx, [], [item], [])
        return
    item = find(target, ctx.actor.inventory)
    if item is not None:
        _purge(ctx, [], [], [item])
        return
    raise Refused(Code.NOT_HERE, f"You see no '{_short(target)}' here.")


@command("purge", category="building", role=Role.BUILDER,
         examples=("purge", "purge rat", "purge all.bread"))
def purge(ctx: Ctx, target: Annotated[Target | None, "what to purge: a keyword or all.x; "
                                                    "everything if empty"] = None) -> None:
    """Clear the room of mobs and items (never players, nor what they carry).

    Usage: purge [target]
    With no target every mob and every item on the floor goes (players' corpses stay);
    with one, every mob and item it names.
    """
    room = ctx.room
    if target is None:
        mobs = [ch for ch in room.characters if ch.is_mob]
        floor = [it for it in room.items if it.owner is None]
    else:
        word = target.lower().removeprefix("all.")
        mobs = [ch for ch in room.characters if ch.is_mob
                and any(k.startswith(word) for k in (ch.keywords or (ch.keyword,)))]
        floor = select(target if target.lower().startswith("all") else f"all.{target}",
                       room.items)
    if not mobs and not floor:
        raise Refused(Code.NOT_HERE, "There is nothing here to purge.")
    _purge(ctx, mobs, floor, [])


def _where(ctx: Ctx, word: str) -> str:
    """A room to go to: a room id, or where a character is (a player by name, a mob by
    keyword anywhere)."""
    low = word.strip().lower()
    rid = qualify(low, ctx.room.zone) if low not in ("here", "room") else ctx.room.id
    if rid in ctx.world.rooms:
        return rid
    who = ctx.world.find_online(word)
    if who is None:
        who = find(word, ctx.world.mobs.values())
    if who is None:
        raise Refused(Code.NOT_HERE, f"There is no room or character '{_short(word)}'.")
    return who.room


@command("goto", category="building", role=Role.BUILDER,
         examples=("goto haven:temple", "goto Ann", "goto square"))
def goto(ctx: Ctx, where: Annotated[Word, "a room id, or a character to join"]) -> None:
    """Go straight to a room, or to where someone is.

    Usage: goto <room id | character>
    """
    dest = _where(ctx, where)
    actor = ctx.actor
    if dest == actor.room:
        raise Refused(Code.ALREADY, "You are there already.")
    origin = actor.room
    building.move_character(ctx.world, actor, dest)
    _record_live(ctx, "char.goto", actor.name, ctx.world.rooms[dest].zone,
                 {"id": actor.id, "room": origin}, {"id": actor.id, "room": dest},
                 None, undoable=False)


@command("teleport", category="building", role=Role.BUILDER,
         examples=("teleport Ann haven:temple", "teleport rat here"))
def teleport(ctx: Ctx, who: Annotated[Word, "a character: here by keyword, or anyone by name"],
             room: Annotated[Word, "the room to send them to (`here` brings them to you)"]
             ) -> None:
    """Send a character (or a mob) to a room.

    Usage: teleport <character> <room id>
    """
    ch = ctx.character_here(who) or ctx.world.find_online(who)
    if ch is None:
        raise Refused(Code.NOT_HERE, f"No one called '{_short(who)}' is here or playing.")
    dest = _room_id(ctx, room)
    if ch.room == dest:
        raise Refused(Code.ALREADY, f"{_cap(ch.name)} is there already.")
    origin = ch.room
    building.move_character(ctx.world, ch, dest)
    event = Teleported(ctx.actor.name, ch.name, dest)
    ctx.tell(event)
    if ch is not ctx.actor:
        ctx.world.emit_to(ch, event)
    _record_live(ctx, "char.teleport", ch.name, ctx.world.rooms[dest].zone,
                 {"id": ch.id, "room": origin}, {"id": ch.id, "room": dest},
                 None)


# ---- zones and resets ------------------------------------------------------------------


@command("zone", category="building", role=Role.BUILDER,
         examples=("zone list", "zone create crypt The Old Crypt", "zone reset",
                   "zone export haven"))
def zone(ctx: Ctx, action: Annotated[Word, "create, reset, export or list"],
         zone: Annotated[Word | None, "the zone's id (your zone if empty)"] = None,
         name: Annotated[Text | None, "create: the zone's name"] = None) -> None:
    """Make a zone, reset one now, write one back to content/, or list them.

    Usage: zone create <id> <name> | zone reset [zone] | zone export [zone] | zone list
    `zone create` makes the zone with a first room, `<id>:entrance`, and takes you
    there: `dig` on from it. `zone export` writes content/zones/<zone>.yaml in the
    format the loader reads, with every builder change in it.
    """
    act = action.lower()
    world = ctx.world
    c = world.content
    if act == "list":
        counts: dict[str, int] = {}
        for proto in c.rooms.values():
            counts[proto.zone] = counts.get(proto.zone, 0) + 1
        ctx.tell(building.ZonesListed([
            {"id": zid, "name": info.name, "levels": list(info.levels), "rooms": counts.get(zid, 0),
             "resets": len(c.resets.get(zid, ())), "reset_minutes": info.reset_minutes}
            for zid, info in c.zones.items()]))
        return
    if act == "create":
        if not zone or not name or not name.strip():
            raise Refused(Code.BAD_ARGS, "Usage: zone create <id> <name>")
        zid = zone.lower()
        if building.LOCAL_ID.match(zid) is None:
            raise Refused(Code.BAD_ARGS, f"'{_short(zid)}' is not a zone id: lower-case "
                                         "letters, digits and _, starting with a letter.")
        if zid in c.zones:
            raise Refused(Code.EXISTS, f"There is a zone '{zid}' already.")
        title = " ".join(name.split())[:80]
        rid = f"{zid}:entrance"
        before = building.capture(world, zones=[zid], rooms=[rid], resets=[zid])
        after = {"zones": {zid: {"id": zid, "name": title}},
                 "rooms": {rid: {"name": title, "description": DEFAULT_DESCRIPTION}},
                 "resets": {zid: []}}
        _commit(ctx, "zone.create", zid, zid, before, after, {"name": title, "room": rid})
        building.move_character(world, ctx.actor, rid)
        return
    zid = (zone or ctx.room.zone).lower()
    if zid not in c.zones:
        raise Refused(Code.NOT_HERE, f"There is no zone '{_short(zid)}'.")
    if act == "reset":
        made = reset_zone(world, zid)
        _record_live(ctx, "zone.reset", zid, zid, None, {"made": made}, {"made": made},
                     undoable=False)
    elif act == "export":
        doc = building.export_zone(world, zid)
        ctx.tell(ServerRequest("zone_export", {"zone": zid, "document": doc}))
    else:
        raise Refused(Code.BAD_ARGS, "Usage: zone create <id> <name> | zone reset [zone] | "
                                     "zone export [zone] | zone list")


@command("reset", category="building", role=Role.BUILDER,
         examples=("reset list", "reset add mob rat 2", "reset add item bread",
                   "reset remove 3"))
def reset(ctx: Ctx, action: Annotated[Word, "add, list or remove"],
          what: Annotated[Word | None, "add: mob or item; remove: the rule's number"] = None,
          proto: Annotated[Word | None, "add: the prototype id"] = None,
          count: Annotated[int | None, "add: how many at most at once (1 if empty)"] = None
          ) -> None:
    """The reset rules of your zone: which prototype appears in which room, how many.

    Usage: reset add mob|item <proto> [count] | reset list | reset remove <n>
    `reset add` makes the zone keep up to <count> of a mob or item in this room; every
    reset (each `reset_minutes` of the zone: `set zone reset_minutes 5`) tops them up.
    `reset list` numbers the zone's rules; `reset remove <n>` drops one.
    """
    act = action.lower()
    world = ctx.world
    zid = ctx.room.zone
    rules = list(world.content.resets.get(zid, ()))
    if act == "list":
        ctx.tell(ResetsListed(zid, ctx.room.id, world.content.zones[zid].reset_minutes, [
            {"n": n, "kind": "mob" if r.mob else "item", "proto": r.mob or r.item,
             "name": _proto_name(ctx, r.mob, r.item), "room": r.room, "count": r.count,
             "here": r.room == ctx.room.id}
            for n, r in enumerate(rules, 1)]))
        return
    if act == "add":
        kind = (what or "").lower()
        if kind not in ("mob", "item") or not proto:
            raise Refused(Code.BAD_ARGS, "Usage: reset add mob|item <proto> [count]")
        pid = _proto_id(ctx, proto)
        if pid not in (world.content.mobs if kind == "mob" else world.content.items):
            raise Refused(Code.NOT_HERE, f"There is no {kind} prototype '{pid}'.")
        n = 1 if count is None else count
        if not 1 <= n <= 50:
            raise Refused(Code.BAD_VALUE, "Bad value for count: 1 to 50 (expected an integer).")
        docs = [building.model_doc(r) for r in rules]
        docs.append({kind: pid, "room": ctx.room.id, **({"count": n} if n != 1 else {})})
        before = building.capture(world, resets=[zid])
        _commit(ctx, "reset.add", zid, zid, before, {"resets": {zid: docs}},
                {"n": len(docs), "kind": kind, "proto": pid, "room": ctx.room.id, "count": n})
        return
    if act == "remove":
        if what is None or not what.isdigit() or not 1 <= int(what) <= len(rules):
            raise Refused(Code.BAD_ARGS, f"Usage: reset remove <n>, n from 1 to {len(rules)} "
                                         "(see `reset list`).")
        n = int(what)
        gone = rules.pop(n - 1)
        before = building.capture(world, resets=[zid])
        _commit(ctx, "reset.remove", zid, zid, before,
                {"resets": {zid: [building.model_doc(r) for r in rules]}},
                {"n": n, "proto": gone.mob or gone.item, "room": gone.room})
        return
    raise Refused(Code.BAD_ARGS, "Usage: reset add mob|item <proto> [count] | reset list | "
                                 "reset remove <n>")


def _proto_name(ctx: Ctx, mob: str | None, item: str | None) -> str:
    c = ctx.world.content
    if mob is not None and mob in c.mobs:
        return c.mobs[mob].name
    if item is not None and item in c.items:
        return c.items[item].name
    return mob or item or ""


@command("undo", category="building", role=Role.BUILDER, examples=("undo",))
def undo(ctx: Ctx) -> None:
    """Take back your last change (again and again, up to 100 changes back).

    Usage: undo
    `goto` and `zone reset` are not changes you can take back.
    """
    stack = ctx.world.undo_stacks.get(ctx.actor.name.lower())
    if not stack:
        raise Refused(Code.NOTHING_TO_UNDO, "You have nothing to undo.")
    edit = stack[-1]
    try:
        building.undo_edit(ctx.world, edit)
    except EditError as err:
        raise Refused(Code.CONFLICT, f"You can't undo that {edit.kind} of {edit.target}: "
                                     f"{err}") from None
    stack.pop()
    kind = building.UNDO_PREFIX + edit.kind
    ctx.world.record_edit(Edit(ctx.actor.name, kind, edit.target, edit.after, edit.before,
                               edit.zone), undoable=False)
    ctx.tell(Built(kind, edit.target, edit.zone, {"undone": edit.kind}))


# ---- reload ------------------------------------------------------------------------------


@command("reload", category="admin", role=Role.ADMIN, examples=("reload content",))
def reload_(ctx: Ctx, what: Annotated[Word, "what to re-read: content"]) -> None:
    """Re-read content/ while everyone stays connected.

    Usage: reload content
    Rooms, prototypes, zones, resets and quests are replaced; everyone and everything
    stays where it is (characters whose room is gone go to the start room). A broken
    file is refused with its error, and the running world stays as it was.
    """
    if what.lower() != "content":
        raise Refused(Code.BAD_ARGS, "Usage: reload content")
    ctx.tell(ServerRequest("reload_content", {}))
