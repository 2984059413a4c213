"""The game as played: every system and command module, imported so they register.

This is the world package's composition root. The modules below declare their systems
and listeners (world/systems/registry.py) and their commands (world/commands/registry.py)
onto the global registries as they are imported, and `World` runs what those hold, so
`World` itself imports none of them, not even to name a type (they import the core:
a command takes the `Ctx` of world/world.py): the imports point one way, from the game
to the core. `from world.game import World` is how a process that plays the game gets
`World`, with every command and system registered; `World(content, registry=...,
systems=..., listeners=...)` plays another.

The order matters twice. Listeners of one signal run in the order their modules are
imported (progression's XP before quests' kill counts). Commands resolve prefixes in
the order they are declared (movement first, so `l` is `look` and `cl` is `close`); an
exact alias wins over any prefix (`c` is `cast`, as in most MUDs).
"""

# ruff: noqa: F401  (each module is imported for what it registers)
# isort: off
import world.systems.upkeep
import world.systems.resets
import world.systems.groups
import world.systems.progression
import world.systems.combat
import world.systems.behaviours
import world.systems.quests
import world.systems.effects
import world.systems.magic
import world.commands.movement
import world.commands.social
import world.commands.items
import world.commands.info
import world.commands.settings
import world.commands.quests
import world.commands.training
import world.commands.equipment
import world.commands.shops
import world.commands.food
import world.commands.magic
import world.commands.combat
import world.commands.admin
import world.commands.build
import world.commands.agents
import world.commands.usage
# isort: on

from world.world import World  # the game's World: everything above registered

__all__ = ["World"]
