"""The game world: pure, deterministic, no I/O.

`World` takes commands and ticks and returns events as data; the server decides how
to send them. Nothing in this package waits, sleeps, touches a socket or a database.
"""

from world.commands import Call
from world.events import Audience, Delivery, Event
from world.world import World

__all__ = ["Audience", "Call", "Delivery", "Event", "World"]
