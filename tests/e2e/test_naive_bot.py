"""The naive bot of bench/naive_bot.py, briefly, against an in-process server: it registers
over a real socket, plays by the documented protocol only, and gains XP (it stops at the
first XP, or after 20 s).

The timing bar itself (a level within 5 minutes) is measured by `python -m bench.naive_bot`,
never asserted here.
"""

from __future__ import annotations

from conftest import StartServer, ws_url

from bench.naive_bot import play

PLAY_S = 20.0


async def test_the_naive_bot_gains_xp(start_server: StartServer) -> None:
    server = await start_server()
    world = server.world
    # So that a short random walk meets a fight: the weakest attackable mob of content/
    # in every room of the start zone where fighting is allowed.
    protos = [k for k, m in world.content.mobs.items()
              if not {"shopkeeper", "trainer", "quest_giver", "healer"} & set(m.behaviour_map())]
    weakest = min(protos, key=lambda k: (world.content.mobs[k].level, k))
    zone = world.rooms[world.content.start_room].zone
    for rid, room in world.rooms.items():
        if room.zone == zone and "safe" not in room.flags:
            world.spawn_mob(weakest, rid)
    result = await play(ws_url(server), "Naivety", "warrior", limit=PLAY_S, seed=1, pace=0.1,
                        stop_on_xp=True)
    assert result.xp_start is not None, "no vitals came"
    assert result.xp_gained > 0, result
    assert result.kills > 0, result
    assert result.batches > 0, result  # it asked for `events` messages, and read them
    assert result.commands > 0 and result.played_s <= PLAY_S + 5
