"""world/systems/registry.py: declaring systems and listeners, pinned.

The game's own systems are declared when their modules are imported, before any test,
so the declaring code runs here on throwaway functions (taken out again afterwards).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from world.events import Event, Said, Shouted
from world.systems import registry
from world.systems.registry import LISTENERS, SYSTEMS, SystemSpec, listens, system


@pytest.fixture
def clean_registries() -> Iterator[None]:
    systems, listeners = list(SYSTEMS), {k: list(v) for k, v in LISTENERS.items()}
    yield
    SYSTEMS[:] = systems
    LISTENERS.clear()
    LISTENERS.update(listeners)


def nothing(world: Any) -> None:
    pass


def also_nothing(world: Any) -> None:
    pass


def test_a_system_with_the_defaults(clean_registries: None) -> None:
    assert system("zz_default")(nothing) is nothing
    [spec] = [s for s in SYSTEMS if s.name == "zz_default"]
    assert spec == SystemSpec("zz_default", 1, 50, nothing)


def test_every_is_at_least_one_and_systems_run_by_order_then_name(
        clean_registries: None) -> None:
    system("zz_b", every=0, order=-7)(nothing)
    system("zz_a", every=3, order=-7)(also_nothing)
    system("zz_c", every=-2, order=-8)(nothing)
    assert SYSTEMS[:3] == [SystemSpec("zz_c", 1, -8, nothing),
                           SystemSpec("zz_a", 3, -7, also_nothing),
                           SystemSpec("zz_b", 1, -7, nothing)]
    orders = [(s.order, s.name) for s in SYSTEMS]
    assert orders == sorted(orders)


def test_a_listener_hears_each_event_type_it_names(clean_registries: None) -> None:
    def heard(world: Any, event: Event) -> None:
        pass

    assert listens(Said, Shouted)(heard) is heard
    assert LISTENERS[Said][-1] is heard and LISTENERS[Shouted][-1] is heard
    assert registry.LISTENERS is LISTENERS
