"""End to end over a real socket: walk out of town, consider a mob, kill it, get the XP.

The mob is the weakest attackable prototype of whatever content/ holds, spawned by
the test in the room the player walked to and made frail, so the test does not
depend on which zones exist or where their mobs stand.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import StartServer, ws_url
from wsclient import Client, events


def _is_event(name: str) -> Any:
    return lambda m: isinstance(m, dict) and m.get("type") == "event" and m["name"] == name


@pytest.mark.parametrize("sub", ["aegent.json", "aegent.msgpack"])
async def test_a_fight_over_a_real_socket(start_server: StartServer, sub: str) -> None:
    server = await start_server()
    world = server.world
    c = await Client.open(ws_url(server), sub)
    await c.recv()  # hello
    got = await c.register("Ann", cls="warrior")
    start = events(got, "room")[0]["data"]
    way = next((d for d, rid in start["exits"].items() if "safe" not in world.rooms[rid].flags),
               None)
    if way is None:
        pytest.skip("no room next to the start room allows fighting")
    got = await c.call("go", direction=way)
    here = events(got, "room")[0]["data"]["id"]
    for other in list(world.rooms[here].characters):
        if other.is_mob:
            world.remove_mob(other)  # nothing else joins in
    protos = [k for k, m in world.content.mobs.items()
              if "shopkeeper" not in m.behaviour_map()]
    if not protos:
        pytest.skip("no attackable mob in content/")
    proto = min(protos, key=lambda k: (world.content.mobs[k].level, k))
    mob = world.spawn_mob(proto, here)
    mob.hp = mob.max_hp = 1  # (and so never hurt enough to run away)
    mob.wimpy = 0
    mob.mods["armor"] = -50  # every swing hits
    mob.mods["hit"] = -50  # and it hardly ever hits back

    got = await c.command(f"consider {mob.keyword}")
    considered = events(got, "considered")[0]["data"]
    assert considered["target"] == mob.name and considered["verdict"] == "easy"
    assert considered["xp"] > 0

    got = await c.command(f"kill {mob.keyword}")
    assert got[-1]["ok"] is True
    assert events(got, "fight_started")[0]["data"]["actor"] == "Ann"
    if not events(got, "xp_gained"):
        got += await c.until(_is_event("xp_gained"), timeout=30)
    died = events(got, "died")[0]
    assert died["data"] == {"actor": mob.name, "kind": "mob", "killer": "Ann", "room": here,
                            "corpse": f"the corpse of {mob.name}"}
    assert died["text"]
    gained = events(got, "xp_gained")[0]["data"]
    assert gained["reason"] == "kill" and gained["amount"] == considered["xp"]
    got = await c.until(lambda m: _is_event("vitals")(m) and m["data"]["xp"] == gained["xp"])
    vitals = events(got, "vitals")[-1]["data"]
    assert vitals["position"] == "standing" and vitals["fighting"] is None
    assert mob.id not in world.mobs
    await c.close()
