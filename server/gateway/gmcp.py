"""GMCP, the structured side channel of MUD clients: what a text session's events carry.

A text session with GMCP (telnet option 201, or the gmcp/json.mudstandards.org
WebSocket subprotocols) gets, besides its text, the messages of the IRE
conventions that Mudlet (its mapper included), Nexus and the IRE-minded scripts
know (docs/protocol.md, "GMCP", has every field):

| package | when |
| --- | --- |
| `Char.Name`, `Char.Status`, `Comm.Channel.List` | login (`Char.Status` on changes too) |
| `Char.Vitals` | every `vitals` event |
| `Room.Info` | every `room` event: `num`, `name`, `area`, `environment`, `exits` |
| `Room.Players`, `.AddPlayer`, `.RemovePlayer` | a new room; people coming, going |
| `Char.Items.List`, `.Add`, `.Remove`, `.Update` | a new room, `inventory`; every change |
| `Comm.Channel.Start`, `.Text`, `.End` | `said`, `told`, `shouted`, `group_told` |

Two kinds of work live here. `messages` is a pure function of one event. `Feed` is
one session's GMCP state: it keeps the item and player lists as last sent and, when
asked (`sync`, after events that may have changed them), sends only the differences,
read from the world itself, so no way of moving a thing (get, drop, give, buy, loot,
a mob picking something up) is missed. It also answers the client's requests
(`Char.Items.Inv`, `Char.Items.Room`, `Char.Items.Contents`) and filters everything
by what the client declared with `Core.Supports` (`wanted`).

`Supports` keeps the packages a client declares with `Core.Supports.Set`, `.Add` and
`.Remove`: one entry per package name (a newer version replaces the older), at most
`limit` of them, so that repeating `Add` costs the server nothing.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from server.gateway import render
from world import events as ev
from world.commands.equipment import places_for
from world.directions import Direction
from world.entities import Character, Item, ItemType, Kind, Room, Slot
from world.inventory import can_take
from world.rules import xp_for_level
from world.text import clean

if TYPE_CHECKING:
    from world.world import World

Message = tuple[str, Any]

MAX_NAME = 64
"""A declared package ("Char 1") is cut to this many characters."""
SUPPORTS = ("core.supports.set", "core.supports.add", "core.supports.remove")
CHANNELS = (
    {"name": "say", "caption": "Say", "command": "say"},
    {"name": "tell", "caption": "Tell", "command": "tell"},
    {"name": "shout", "caption": "Shout", "command": "shout"},
    {"name": "gtell", "caption": "Group", "command": "gtell"},
)
"""`Comm.Channel.List`: the channels a character hears."""
OWN_MODULES = ("char.items",)
"""Modules not covered by their parent's declaration: IRE clients ask for `Char.Items`
apart from `Char` (its lists can be long)."""


def room_number(room_id: str) -> int:
    """A stable positive number for a room id (for mappers that want numbers).

    The same id gives the same number on every server and after every restart (a CRC-32,
    not an order of loading); `tests/server/test_gmcp.py` checks that no two rooms of the
    content share one."""
    return zlib.crc32(room_id.encode("utf-8")) & 0x7FFFFFFF or 1


def fullname(name: str, kind: str, title: str = "") -> str:
    """A character's name as shown: its title after it, `[AI] ` before an agent's."""
    shown = f"{name} {clean(title, False)}".rstrip()
    return f"[AI] {shown}" if kind == Kind.AGENT else shown


def status(character: Character) -> Message:
    """`Char.Status`: who the character is, sent whole at login and on each change."""
    ch = character
    return ("Char.Status", {"name": ch.name, "fullname": fullname(ch.name, ch.kind, ch.title),
                            "level": ch.level, "class": ch.cls, "gold": ch.gold, "xp": ch.xp})


def name(character: Character) -> Message:
    """`Char.Name` {name, fullname}, at login."""
    return ("Char.Name", {"name": character.name,
                          "fullname": fullname(character.name, character.kind,
                                               character.title)})


def vitals(event: ev.Vitals) -> Message:
    """`Char.Vitals`: our `vitals` fields, and IRE's names for them (`maxhp`, `mp`,
    `maxmp`, `ep`/`maxep` for moves, `nl`: percent of the way to the next level, and
    `string`), as numbers."""
    data = event.to_data()
    base = xp_for_level(event.level)
    span = event.xp_next - base
    nl = max(0, min(100, (event.xp - base) * 100 // span)) if span > 0 else 100
    data.update(maxhp=event.max_hp, mp=event.mana, maxmp=event.max_mana, ep=event.moves,
                maxep=event.max_moves, nl=nl,
                string=(f"H:{event.hp}/{event.max_hp} M:{event.mana}/{event.max_mana} "
                        f"E:{event.moves}/{event.max_moves} NL:{nl}/100"))
    return ("Char.Vitals", data)


def room_info(event: ev.RoomShown, area: str | None = None) -> Message:
    """`Room.Info` for a `room` event; `area` is the zone's display name."""
    exits: dict[str, int] = {}
    for way, to in event.exits.items():
        try:
            key = Direction(way).short
        except ValueError:
            key = way
        exits[key] = room_number(to)
    return ("Room.Info", {
        "num": room_number(event.id), "id": event.id, "name": clean(event.title, False),
        "area": clean(area or event.zone, False), "zone": event.zone,
        "environment": "indoors" if "indoors" in event.flags else "outdoors",
        "details": list(event.flags), "exits": exits})


def channel_of(event: ev.Event, viewer: str) -> str | None:
    """The channel `event` was said on (`tell Name` for tells: the other one), or None."""
    if isinstance(event, ev.Said):
        return "say"
    if isinstance(event, ev.Shouted):
        return "shout"
    if isinstance(event, ev.GroupTold):
        return "gtell"
    if isinstance(event, ev.Told):
        return f"tell {event.target if event.actor == viewer else event.actor}"
    return None


def messages(event: ev.Event, viewer: str = "", colour: bool = False,
             area: str | None = None) -> list[Message]:
    """The GMCP messages that carry `event` for `viewer` (none for most events).

    `colour`: the `Comm.Channel.Text` line keeps its ANSI colour (as IRE games send it);
    `area`: the zone's display name for `Room.Info`.
    """
    if isinstance(event, ev.Vitals):
        return [vitals(event)]
    if isinstance(event, ev.RoomShown):
        return [room_info(event, area)]
    if isinstance(event, ev.Said | ev.Shouted | ev.GroupTold | ev.Told):
        spans = render.render(event, viewer)
        data = {"channel": "tell" if isinstance(event, ev.Told) else channel_of(event, viewer),
                "talker": clean(event.actor, False),
                "text": render.ansi(spans) if colour else render.plain(spans),
                "message": clean(event.text, False)}
        if isinstance(event, ev.Told):
            data["target"] = clean(event.target, False)
        return [("Comm.Channel.Text", data)]
    return []


# ---- items and people ------------------------------------------------------------------


def _attrib(item: Item, worn: Slot | None = None) -> str:
    """IRE's item letters: w worn, W wearable, l/L wielded, c container, e edible,
    f fluid, t takeable, d dead (a corpse)."""
    letters = ""
    if worn is Slot.WIELD:
        letters += "lL" if item.two_handed else "l"
    elif worn is Slot.OFFHAND and item.type is ItemType.WEAPON:
        letters += "L"
    elif worn is not None:
        letters += "w"
    elif places_for(item):
        letters += "W"
    if item.type in (ItemType.CONTAINER, ItemType.CORPSE):
        letters += "c"
    if item.type is ItemType.FOOD:
        letters += "e"
    if item.type in (ItemType.DRINK, ItemType.POTION):
        letters += "f"
    if item.type is ItemType.CORPSE:
        letters += "d"
    return letters


def item_entry(item: Item, worn: Slot | None = None, floor: bool = False) -> dict[str, Any]:
    """One thing of a `Char.Items` list: {id, name, keyword, attrib?} (ids are strings of
    digits, as IRE games send them)."""
    attrib = _attrib(item, worn) + ("t" if floor and can_take(item) else "")
    entry = {"id": str(item.id), "name": clean(item.name, False),
             "keyword": clean(item.keyword, False)}
    if attrib:
        entry["attrib"] = attrib
    return entry


def mob_entry(mob: Character) -> dict[str, Any]:
    """A creature in the room's `Char.Items` list (attrib `m`, as IRE games list them)."""
    return {"id": str(mob.id), "name": clean(mob.name, False),
            "keyword": clean(mob.keyword, False), "attrib": "m"}


def player_entry(ch: Character) -> dict[str, Any]:
    """One of `Room.Players`: {name, fullname}."""
    return {"name": ch.name, "fullname": fullname(ch.name, ch.kind, ch.title)}


def inventory(ch: Character) -> dict[str, dict[str, Any]]:
    """What `ch` carries and wears, by id, as `Char.Items` entries."""
    entries = {str(it.id): item_entry(it) for it in ch.inventory}
    for slot, it in ch.equipment.items():
        entries[str(it.id)] = item_entry(it, slot)
    return entries


def room_things(room: Room) -> dict[str, dict[str, Any]]:
    """The things and creatures in `room`, by id, as `Char.Items` entries (people are in
    `Room.Players` instead)."""
    entries = {str(it.id): item_entry(it, floor=True) for it in room.items}
    for ch in room.characters:
        if ch.kind is Kind.MOB:
            entries[str(ch.id)] = mob_entry(ch)
    return entries


def _diff(location: str, old: Mapping[str, dict[str, Any]], new: Mapping[str, dict[str, Any]]
          ) -> list[Message]:
    out: list[Message] = []
    for key, entry in old.items():
        if key not in new:
            out.append(("Char.Items.Remove", {"location": location, "item": entry}))
    for key, entry in new.items():
        was = old.get(key)
        if was is None:
            out.append(("Char.Items.Add", {"location": location, "item": entry}))
        elif was != entry:
            out.append(("Char.Items.Update", {"location": location, "item": entry}))
    return out


_ORDER = {"Char.Items.Remove": 0, "Char.Items.List": 1, "Char.Items.Add": 2,
          "Char.Items.Update": 3}


class Feed:
    """One session's GMCP: the messages of its events, and the lists it keeps in step.

    Args:
        world: where rooms are read (None: no room lists, only the inventory).
        supports: what the client declared (None, or nothing declared yet: everything
            is sent, as IRE servers do for clients that never say).
    """

    __slots__ = ("world", "supports", "lists", "areas", "_inv", "_room", "_things",
                 "_players", "_dirty")

    def __init__(self, world: World | None = None, supports: Supports | None = None,
                 lists: bool = True, areas: Mapping[str, str] | None = None) -> None:
        self.world = world
        self.supports = supports
        self.lists = lists  # False: a gateway's; the world host makes the lists (`sync`)
        self.areas = areas  # zone id -> name, where there is no world to read them from
        # As last sent, by id (by name for people); None: the whole list goes next.
        self._inv: dict[str, dict[str, Any]] | None = None
        self._things: dict[str, dict[str, Any]] | None = None
        self._players: dict[str, dict[str, Any]] | None = None
        self._room: str | None = None
        self._dirty = True

    def wanted(self, package: str) -> bool:
        """Whether the client takes `package`: `Core.*` always; else a declared module it
        belongs to (`Char 1` covers `Char.Vitals`; `Char.Items` must be declared itself)."""
        supports = self.supports
        lower = package.lower()
        if supports is None or not supports.declared or lower.startswith("core."):
            return True
        parts = lower.split(".")
        for n in range(len(parts), 0, -1):
            module = ".".join(parts[:n])
            if module in supports:
                return True
            if module in OWN_MODULES:
                return False
        return False

    def _keep(self, out: list[Message]) -> list[Message]:
        return [m for m in out if self.wanted(m[0])]

    def login(self, ch: Character) -> list[Message]:
        """The messages of a fresh login; the lists are sent whole at the next `sync`."""
        self._inv = self._things = self._players = None
        self._room = None
        self._dirty = True
        return self._keep([name(ch), status(ch), ("Comm.Channel.List", list(CHANNELS))])

    def event(self, event: ev.Event, ch: Character | None, colour: bool = False
              ) -> list[Message]:
        """The messages of `event` for `ch` (its session's character, if any)."""
        viewer = ch.name if ch is not None else ""
        if not isinstance(event, ev.Vitals):
            self._dirty = True  # the lists may have changed: `sync` looks
        area = None
        if isinstance(event, ev.RoomShown) and self.world is not None:
            zone = self.world.content.zones.get(event.zone)
            area = zone.name if zone is not None else None
        elif isinstance(event, ev.RoomShown) and self.areas is not None:
            area = self.areas.get(event.zone)
        out = messages(event, viewer, colour, area)
        if ch is not None and isinstance(event, ev.LevelGained | ev.GoldChanged):
            out.append(status(ch))
        elif ch is not None and isinstance(event, ev.InventoryListed):  # `inventory`: whole
            self._inv = inventory(ch)
            out.append(("Char.Items.List", {"location": "inv", "items": list(self._inv.values())}))
        return self._keep(out)

    def changed(self) -> None:
        """Something the lists show may have changed: the next `sync` looks."""
        self._dirty = True

    def bracket(self, event: ev.Event, viewer: str) -> tuple[Message, Message] | None:
        """`Comm.Channel.Start` and `.End` to send around `event`'s line of text (None: it
        is not said on a channel, or the client does not take them)."""
        channel = channel_of(event, viewer)
        if channel is None or not self.wanted("Comm.Channel.Start"):
            return None
        return ("Comm.Channel.Start", channel), ("Comm.Channel.End", channel)

    def sync(self, ch: Character | None) -> list[Message]:
        """The `Char.Items` and `Room.Players` messages that bring the client's lists up to
        date with the world (whole lists after a login or a move, else differences)."""
        if not self._dirty or ch is None or not self.lists:
            return []
        self._dirty = False
        out: list[Message] = []
        room = self.world.rooms.get(ch.room) if self.world is not None else None
        if room is None or room.id != self._room:  # a new room: its lists whole
            self._things = self._players = None
            self._room = room.id if room is not None else None
        if not self.wanted("Char.Items.List"):
            self._inv = self._things = None  # whole lists once the client takes them
        else:
            inv = inventory(ch)
            if self._inv is None:
                out.append(("Char.Items.List", {"location": "inv", "items": list(inv.values())}))
            else:
                out += _diff("inv", self._inv, inv)
            self._inv = inv
            if room is not None:
                things = room_things(room)
                if self._things is None:
                    out.append(("Char.Items.List", {"location": "room",
                                                    "items": list(things.values())}))
                else:
                    out += _diff("room", self._things, things)
                self._things = things
            out.sort(key=lambda m: _ORDER[m[0]])  # out of one list before into the other
        if not self.wanted("Room.Players"):
            self._players = None
        elif room is not None:
            players = {p.name: player_entry(p) for p in room.characters if p.kind is not Kind.MOB}
            old = self._players
            if old is None:
                out.append(("Room.Players", list(players.values())))
            else:
                out += [("Room.RemovePlayer", key) for key in old if key not in players]
                out += [("Room.AddPlayer", entry) for key, entry in players.items()
                        if key not in old]
            self._players = players
        return out

    def request(self, package: str, data: Any, ch: Character | None) -> list[Message]:
        """Answer a client's request (`Char.Items.Inv`, `.Room`, `.Contents <id>`) with a
        `Char.Items.List`; other packages get nothing."""
        kind = package.lower()
        if (ch is None or not kind.startswith("char.items.") or not self.wanted(package)
                or not self.lists):
            return []
        room = self.world.rooms.get(ch.room) if self.world is not None else None
        if kind == "char.items.inv":
            self._inv = inventory(ch)
            return [("Char.Items.List", {"location": "inv", "items": list(self._inv.values())})]
        if kind == "char.items.room" and room is not None:
            self._things = room_things(room)
            return [("Char.Items.List", {"location": "room", "items": list(self._things.values())})]
        if kind == "char.items.contents":
            wanted = str(data).strip()
            near = [*ch.inventory, *ch.equipment.values(), *(room.items if room else ())]
            box = next((it for it in near if str(it.id) == wanted), None)
            if box is not None and box.type in (ItemType.CONTAINER, ItemType.CORPSE):
                return [("Char.Items.List", {"location": f"rep{box.id}",
                                             "items": [item_entry(it) for it in box.contents]})]
        return []


class Supports:
    """The GMCP packages a client said it supports, by lower-cased name, bounded.

    Args:
        limit: packages kept at most; more are ignored (and counted by `update`).
    """

    __slots__ = ("limit", "declared", "_by_name")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.declared = False  # a Core.Supports message came (even an empty Set)
        self._by_name: dict[str, str] = {}  # "char" -> "Char 1", as declared

    def update(self, package: str, data: Any) -> int:
        """Apply one `Core.Supports.*` message (`package` in any case).

        Returns:
            How many entries were ignored: over the limit, or not a string; a body
            that is not a list counts as one.
        """
        verb = package.lower()
        if verb not in SUPPORTS:
            return 0
        if not isinstance(data, list):
            return 1
        self.declared = True
        if verb == SUPPORTS[0]:
            self._by_name.clear()
        ignored = 0
        for entry in data:
            if not isinstance(entry, str) or not entry.strip():
                ignored += 1
                continue
            entry = entry.strip()[:MAX_NAME]
            name = entry.split(" ", 1)[0].lower()
            if verb == SUPPORTS[2]:
                self._by_name.pop(name, None)
            elif name in self._by_name or len(self._by_name) < self.limit:
                self._by_name[name] = entry
            else:
                ignored += 1
        return ignored

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._by_name

    def __iter__(self) -> Iterator[str]:
        """The entries as declared ("Char 1"), oldest first."""
        return iter(self._by_name.values())

    def __len__(self) -> int:
        return len(self._by_name)
