"""The game world: pure, deterministic, no I/O.

`World` takes commands and ticks and returns events as data; the server decides how
to send them. Nothing in this package waits, sleeps, touches a socket or a database.

Importing the package first imports world/game.py, which registers every command and
system, so `World(content)` plays the whole game however it was imported.
"""

import world.game  # noqa: F401  (first: the game's commands and systems register)
from world.commands.registry import Call
from world.events import Audience, Delivery, Event, Fanout
from world.world import World

__all__ = ["Audience", "Call", "Delivery", "Event", "Fanout", "World"]
