"""The game world: pure, deterministic, no I/O.

`World` (world/world.py) takes commands and ticks and returns events as data; the
server decides how to send them. Nothing in this package waits, sleeps, touches a
socket or a database.

Importing the package imports nothing: the core (world/world.py and what it uses) and
the game that registers onto it (every command and system, world/game.py) are imported
by name. A process that plays the game imports `World` from world/game.py, which
registers every command and system first, so `World(content)` plays the whole game.
"""
