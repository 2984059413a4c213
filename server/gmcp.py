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
"""

from __future__ import annotations

import zlib
from typing import Any

from world import events as ev
from world.entities import Character

Message = tuple[str, dict[str, Any]]


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
                               "name": event.title, "zone": event.zone, "area": event.zone,
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
    return ("Comm.Channel.Text", {"channel": channel, "talker": talker, "text": text})
