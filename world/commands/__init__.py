"""The game's commands, one module per concern; `registry.py` holds the machinery.

Each module declares its commands with `@command(...)` onto the registry when it is
imported. Importing this package imports none of them: world/game.py imports them all,
in the order prefixes resolve in.
"""

from world.commands.registry import REGISTRY, Call, CommandSpec, command

__all__ = ["REGISTRY", "Call", "CommandSpec", "command"]
