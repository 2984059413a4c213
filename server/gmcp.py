"""GMCP, the structured side channel of telnet MUD clients: events as (package, data).

A telnet session that agreed GMCP gets, besides its text, these messages (see
docs/protocol.md, "Telnet"); names follow the IRE conventions that Mudlet and
other clients know:

| package | from | data |
| --- | --- | --- |
| `Char.Status` | login | `name`, `level`, `class` |
| `Char.Vitals` | `vitals` | the `vitals` event's fields |
| `Room.Info` | `room` | `num`, `id`, `name`, `zone`, `area`, `exits` |
| `Comm.Channel.Text` | `said`, `told`, `shouted` | `channel`, `talker`, `text` (+ `target`) |
| `Char.Items.List` | `inventory_listed` | `location` ("inv"), `items` |

Pure functions of events: the session calls `messages` for every event it is
given, the telnet shell encodes the result.

The other way, `Supports` keeps the packages a client declares with
`Core.Supports.Set`, `.Add` and `.Remove`: one entry per package name (a newer
version replaces the older), at most `limit` of them, so that repeating `Add`
costs the server nothing.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any

from world import events as ev
from world.entities import Character
from world.text import clean

Message = tuple[str, dict[str, Any]]

MAX_NAME = 64
"""A declared package ("Char 1") is cut to this many characters."""
SUPPORTS = ("core.supports.set", "core.supports.add", "core.supports.remove")


def room_number(room_id: str) -> int:
    """A stable positive number for a room id (for mappers that want numbers)."""
    return zlib.crc32(room_id.encode("utf-8")) & 0x7FFFFFFF


def status(character: Character) -> Message:
    """`Char.Status` of a character that just logged in."""
    return ("Char.Status", {"name": character.name, "level": character.level,
                            "class": character.cls})


def messages(event: ev.Event) -> list[Message]:
    """The GMCP messages that carry `event` (none for most events)."""
    if isinstance(event, ev.Vitals):
        return [("Char.Vitals", event.to_data())]
    if isinstance(event, ev.RoomShown):
        return [("Room.Info", {"num": room_number(event.id), "id": event.id,
                               "name": clean(event.title, False), "zone": event.zone,
                               "area": event.zone,
                               "exits": dict(event.exits)})]
    if isinstance(event, ev.Said):
        return [_channel("say", event.actor, event.text)]
    if isinstance(event, ev.Shouted):
        return [_channel("shout", event.actor, event.text)]
    if isinstance(event, ev.Told):
        name, data = _channel("tell", event.actor, event.text)
        data["target"] = event.target
        return [(name, data)]
    if isinstance(event, ev.InventoryListed):
        return [("Char.Items.List", {"location": "inv",
                                     "items": [dict(item) for item in event.items]})]
    return []


def _channel(channel: str, talker: str, text: str) -> Message:
    # Cleaned again (the world cleans what players write): a second guard, as render's.
    return ("Comm.Channel.Text", {"channel": channel, "talker": clean(talker, False),
                                  "text": clean(text, False)})


class Supports:
    """The GMCP packages a client said it supports, by lower-cased name, bounded.

    Args:
        limit: packages kept at most; more are ignored (and counted by `update`).
    """

    __slots__ = ("limit", "_by_name")

    def __init__(self, limit: int) -> None:
        self.limit = limit
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
