"""Systems: what the tick does (regeneration, zone resets, combat rounds, effects...).

Each module registers its systems and listeners in `registry.py` on import.
"""

# isort: off
from world.systems import upkeep  # noqa: F401
from world.systems import resets  # noqa: F401
from world.systems import groups  # noqa: F401
from world.systems import progression  # noqa: F401
from world.systems import combat  # noqa: F401
from world.systems import behaviours  # noqa: F401
from world.systems import quests  # noqa: F401
from world.systems import effects  # noqa: F401
from world.systems import magic  # noqa: F401

# isort: on
from world.systems.registry import LISTENERS, SYSTEMS, listens, system

__all__ = ["LISTENERS", "SYSTEMS", "listens", "system"]
