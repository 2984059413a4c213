"""Systems: what the tick does (regeneration, zone resets, combat rounds, effects...).

Each module registers its systems and listeners in `registry.py` on import. Importing
this package imports none of them: world/game.py imports them all.
"""

from world.systems.registry import LISTENERS, SYSTEMS, listens, system

__all__ = ["LISTENERS", "SYSTEMS", "listens", "system"]
