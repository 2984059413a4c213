"""Events survive the bus: a world host sends each event as its `to_data()` in a
`Delivery` (msgpack), and a gateway rebuilds it with `from_data` to render it per
viewer. Every event class that can be delivered comes back equal, and the events of a
played stretch render the same text after the trip."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path
from typing import Any

import pytest

from server.bus.messages import Delivery, decode, encode
from server.gateway import render
from server.host.content import load
from world.events import Event, Said, event_class, from_data
from world.game import World

ROOT = Path(__file__).resolve().parents[2]


def classes() -> list[type[Event]]:
    """Every event class with a wire name, bar the world's own signals (they carry live
    `Character` objects and are never delivered)."""
    found: dict[str, type[Event]] = {}
    stack: list[type[Event]] = [Event]
    while stack:
        for sub in stack.pop().__subclasses__():
            stack.append(sub)
            if "__slots__" in sub.__dict__:
                found[sub.name] = sub
    return [c for c in found.values()
            if not any("Character" in str(f.type) for f in dataclasses.fields(c))]


def sample(type_text: str, rng: random.Random) -> Any:
    """A value of the annotated type (as a string: the modules use postponed
    annotations)."""
    t = type_text.replace(" ", "")
    if "|None" in t:
        return None if rng.random() < 0.3 else sample(t.replace("|None", ""), rng)
    if t == "str":
        return rng.choice(["Ann", "a rat", "north", "Zoë says 'hi'"])
    if t == "int":
        return rng.randrange(-5, 500)
    if t == "float":
        return rng.choice([0.5, 2.25, 10.0])
    if t == "bool":
        return rng.random() < 0.5
    if t.startswith("tuple[str"):
        return tuple(rng.sample(["Ann", "Bob", "Cy"], rng.randrange(0, 3)))
    if t.startswith("list[str"):
        return rng.sample(["Ann", "Bob", "Cy"], rng.randrange(0, 3))
    if t.startswith("list[dict"):
        return [{"name": "Bob", "level": 3}]
    if t.startswith("dict[str,int]"):
        return {"str": 12, "dex": 9}
    if t.startswith("dict[str,str]"):
        return {"north": "haven:gate"}
    if t.startswith("dict") or t == "Any":
        return {"name": "Bob", "doors": {"north": {"closed": True}}, "n": 2}
    raise AssertionError(f"no sample for {type_text}")


def through_the_bus(event: Event) -> Event:
    msg = Delivery("gw1", [7, 8], {"name": event.name, "data": event.to_data()}, 12, 3)
    back = decode(encode(msg))
    assert isinstance(back, Delivery)
    return from_data(back.event["name"], back.event["data"])


def test_every_event_class_is_known_by_its_wire_name() -> None:
    every = classes()
    assert len(every) > 80  # the game's events, the builders' and the agents' commands'
    for cls in every:
        assert event_class(cls.name) is cls


@pytest.mark.parametrize("cls", classes(), ids=lambda c: c.name)
def test_an_event_comes_back_equal(cls: type[Event]) -> None:
    rng = random.Random(cls.name)
    for _ in range(5):
        values = {f.name: sample(str(f.type), rng) for f in dataclasses.fields(cls)}
        event = cls(**values)
        back = through_the_bus(event)
        assert back == event and type(back) is cls


def test_the_events_of_a_played_stretch_come_back_equal() -> None:
    """Real events, not samples: 200 players looking, moving, saying and attacking, and
    ticks (the mobs wander and fight)."""
    world = World(load(ROOT / "content"), seed=3)
    rng = random.Random(3)
    chars = [world.enter(f"P{i:04d}", rng.choice(["warrior", "cleric", "mage"]))
             for i in range(200)]
    seen: set[str] = set()
    for n in range(3000):
        ch = rng.choice(chars)
        exits = list(world.rooms[ch.room].exits)
        line = rng.choice(["look", "say hello", "score", "inventory", "kill rat",
                           *(e.value for e in exits)])
        world.perform_line(ch, line)
        if n % 20 == 0:
            world.tick()
        for fanout in world.drain_fanouts():
            event = fanout.event
            if event.internal:
                continue
            back = through_the_bus(event)
            assert back == event
            for viewer in (fanout.recipients[0].name, "Eve"):  # the actor's view or a hearer's
                assert render.render(back, viewer) == render.render(event, viewer)
            seen.add(event.name)
    assert {"room", "said", "arrived", "departed", "vitals", "fight_started", "hit_landed",
            "died", "xp_gained"} <= seen


def test_what_does_not_fit_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match="no event is called 'exploded'"):
        from_data("exploded", {})
    said = through_the_bus(Said(**{f.name: "x" for f in dataclasses.fields(Said)}))
    good = said.to_data()
    with pytest.raises(ValueError, match="has no field 'colour'"):
        from_data("said", {**good, "colour": "red"})
    missing = dict(good)
    missing.pop(next(iter(good)))
    with pytest.raises(ValueError, match="said"):
        from_data("said", missing)
