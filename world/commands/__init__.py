"""Every command of the game, registered in one registry on import.

The registry machinery is in `registry.py`; each other module declares the
commands of one concern. Import order is the order prefixes resolve in
(movement first, so `l` is `look` and `cl` is `close`); an exact alias wins over
any prefix (`c` is `cast`, as in most MUDs).
"""

# isort: off
from world.commands import movement  # noqa: F401
from world.commands import social  # noqa: F401
from world.commands import items  # noqa: F401
from world.commands import info  # noqa: F401
from world.commands import settings  # noqa: F401
from world.commands import quests  # noqa: F401
from world.commands import training  # noqa: F401
from world.commands import equipment  # noqa: F401
from world.commands import shops  # noqa: F401
from world.commands import food  # noqa: F401
from world.commands import magic  # noqa: F401
from world.commands import combat  # noqa: F401
from world.commands import admin  # noqa: F401
from world.commands import build  # noqa: F401
from world.commands import agents  # noqa: F401
from world.commands import usage  # noqa: F401

# isort: on
from world.commands.registry import REGISTRY, Call, CommandSpec, command

__all__ = ["REGISTRY", "Call", "CommandSpec", "command"]
