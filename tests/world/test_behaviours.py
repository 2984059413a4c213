"""Mob behaviours in a small world of our own (tests/npc_content.py), asserted on events.

Wanderers stay in their zone and behind closed doors, sentinels stay, aggressive
mobs attack players they see (not the strong, not in safe rooms), kin assist,
the wimpy run, scavengers pick things up, loot is rolled at spawn, and the
active sets only ever hold living mobs.
"""

from __future__ import annotations

from helpers import events, names
from npc_content import new_world, player, ticks

from world.entities import Effect, Position
from world.npcs import Schedule
from world.observe import character_rows as world_rows
from world.systems import behaviours, combat, groups


def test_a_wanderer_stays_in_its_zone_and_behind_closed_doors() -> None:
    world = new_world()
    rats = [world.spawn_mob("t:rat", "t:a") for _ in range(4)]
    visited: set[str] = set()
    for _ in range(300):
        world.tick()
        visited.update(r.room for r in rats)
    # Never through the closed door to c, never to u:x, never into the no_mob shrine.
    assert visited <= {"t:a", "t:b", "t:sanctum"}
    assert {"t:a", "t:b"} <= visited
    assert all(r.id in world.npcs.wanderers.due for r in rats)


def test_an_open_door_lets_wanderers_through() -> None:
    world = new_world()
    door = next(ex.door for ex in world.rooms["t:a"].exits.values() if ex.to == "t:c")
    assert door is not None
    door.closed = False
    rat = world.spawn_mob("t:rat", "t:a")
    seen = set()
    for _ in range(300):
        world.tick()
        seen.add(rat.room)
    assert "t:c" in seen


def test_players_see_wanderers_come_and_go() -> None:
    world = new_world()
    ann = player(world, room="t:b")
    rat = world.spawn_mob("t:rat", "t:a")
    world.drain()
    arrived: list[dict[str, object]] = []
    departed: list[dict[str, object]] = []
    for _ in range(100):
        world.tick()
        out = world.drain()
        arrived += events(out, "arrived", "Ann")
        departed += events(out, "departed", "Ann")
    assert {"actor": "a rat", "kind": "mob", "direction": "west", "level": rat.level} in arrived
    assert {"actor": "a rat", "kind": "mob", "direction": "west"} in departed
    assert ann.room == "t:b"
    assert rat.room in ("t:a", "t:b", "t:sanctum")


def test_a_follower_walks_after_a_wanderer() -> None:
    world = new_world()
    ann = player(world)
    rat = world.spawn_mob("t:rat", "t:a")
    groups.follow(world, ann, rat)
    world.drain()
    visited = set()
    for _ in range(50):
        world.tick()
        assert ann.room == rat.room
        visited.add(ann.room)
    assert len(visited) > 1
    assert "room" in names(world.drain(), "Ann")


def test_a_sentinel_never_moves() -> None:
    world = new_world()
    guard = world.spawn_mob("t:guard", "t:a")
    assert guard.id not in world.npcs.wanderers.due
    ticks(world, 200)
    assert guard.room == "t:a"


def test_wanderers_do_not_walk_while_fighting() -> None:
    world = new_world()
    ann = player(world)
    rat = world.spawn_mob("t:rat", "t:a")
    rat.hp = rat.max_hp = 10_000
    ann.hp = ann.max_hp = 10_000
    combat.engage(world, ann, rat)
    ticks(world, 19)
    assert rat.room == "t:a"


def test_an_aggressive_mob_attacks_a_player_who_arrives() -> None:
    world = new_world()
    orc = world.spawn_mob("t:orc", "t:b")
    ann = player(world)
    assert world.perform_line(ann, "east") is None
    world.drain()
    out = []
    for _ in range(behaviours.AGGRESSION_EVERY):
        world.tick()
        out += world.drain()
    assert events(out, "fight_started", "Ann") == [
        {"actor": "an orc", "kind": "mob", "target": "Ann", "target_kind": "player"}]
    assert orc.fighting is ann and ann.fighting is orc
    assert orc.id in world.fighters


def test_an_aggressive_mob_spares_the_strong() -> None:
    world = new_world()
    goblin = world.spawn_mob("t:goblin", "t:a")
    ann = player(world, level=5)
    ticks(world, 20)
    assert goblin.fighting is None and ann.fighting is None
    bob = player(world, "Bob", level=3)
    ticks(world, behaviours.AGGRESSION_EVERY)
    assert goblin.fighting is bob


def test_no_attacks_in_safe_rooms_nor_on_the_unseen() -> None:
    world = new_world()
    world.spawn_mob("t:orc", "t:sanctum")
    ann = player(world, room="t:sanctum")
    ticks(world, 20)
    assert ann.fighting is None
    world.spawn_mob("t:orc", "t:b")
    bob = player(world, "Bob", room="t:b")
    bob.effects.append(Effect("invisibility", flags=frozenset({"invisible"})))
    ticks(world, 20)
    assert bob.fighting is None


def test_an_aggressive_mob_wakes_a_sleeper() -> None:
    world = new_world()
    ann = player(world)
    ann.position = Position.SLEEPING
    orc = world.spawn_mob("t:orc", "t:a")
    ticks(world, behaviours.AGGRESSION_EVERY)
    assert orc.fighting is ann
    assert ann.position is Position.FIGHTING


def test_kin_assist() -> None:
    world = new_world()
    ann = player(world)
    ann.hp = ann.max_hp = 10_000
    first = world.spawn_mob("t:wolf", "t:a")
    second = world.spawn_mob("t:wolf", "t:a")
    alpha = world.spawn_mob("t:alpha", "t:a")
    bystander = world.spawn_mob("t:statue", "t:a")
    world.drain()
    combat.engage(world, ann, first)
    world.drain()
    out = []
    for _ in range(behaviours.REACTION_EVERY):
        world.tick()
        out += world.drain()
    started = events(out, "fight_started", "Ann")
    assert {e["actor"] for e in started} == {"a wolf", "an alpha wolf"}
    assert second.fighting is ann and alpha.fighting is ann
    assert bystander.fighting is None
    assert ann.fighting is first


def test_joiners_are_the_pack_the_aggressive_and_those_fighting_you() -> None:
    world = new_world()
    ann = player(world)
    first = world.spawn_mob("t:wolf", "t:a")
    assert behaviours.joiners(world, ann, first) == []
    second = world.spawn_mob("t:wolf", "t:a")
    alpha = world.spawn_mob("t:alpha", "t:a")
    statue = world.spawn_mob("t:statue", "t:a")
    assert behaviours.joiners(world, ann, first) == [second, alpha]
    assert behaviours.joiners(world, ann, alpha) == []  # wolves do not help the alpha
    orc = world.spawn_mob("t:orc", "t:a")
    assert behaviours.joiners(world, ann, statue) == [orc]  # it goes for Ann anyway
    combat.engage(world, alpha, ann)
    assert behaviours.joiners(world, ann, statue) == [alpha, orc]  # already at her
    assert behaviours.joiners(world, ann, ann) == []  # players: nobody's pack
    world.spawn_mob("t:orc", "t:sanctum")
    bob = player(world, "Bob", room="t:sanctum")
    assert behaviours.joiners(world, bob, world.spawn_mob("t:statue", "t:sanctum")) == []


def test_consider_counts_the_pack_in() -> None:
    world = new_world()
    ann = player(world)
    ann.hp = ann.max_hp = 60
    first = world.spawn_mob("t:wolf", "t:a")
    alone = combat.assess(world, ann, first, behaviours.joiners(world, ann, first))
    world.spawn_mob("t:wolf", "t:a")
    world.spawn_mob("t:alpha", "t:a")
    out = []
    assert world.perform_line(ann, "consider 1.wolf") is None
    out += world.drain()
    said = events(out, "considered", "Ann")[0]
    assert said["joined_by"] == ("a wolf", "an alpha wolf")
    assert said["rounds_to_lose"] < alone.rounds_to_lose
    assert said["rounds_to_win"] > alone.rounds_to_win
    assert said["damage_taken_per_round"] > alone.damage_taken_per_round
    order = ["easy", "fair", "risky", "deadly"]
    assert order.index(said["verdict"]) >= order.index(alone.verdict)
    row = next(r for r in world_rows(world, ann) if r["name"] == "a wolf")
    assert row["joined_by"] == ["a wolf", "an alpha wolf"]
    assert row["rounds_to_lose"] == said["rounds_to_lose"]


def test_assisters_do_not_help_strangers() -> None:
    world = new_world()
    ann = player(world)
    ann.hp = ann.max_hp = 10_000
    statue = world.spawn_mob("t:statue", "t:a")
    wolf = world.spawn_mob("t:wolf", "t:a")
    combat.engage(world, ann, statue)
    ticks(world, 10)
    assert wolf.fighting is None


def test_a_wimpy_mob_flees_when_hurt() -> None:
    world = new_world()
    ann = player(world)
    ann.hp = ann.max_hp = 10_000
    coward = world.spawn_mob("t:coward", "t:a")
    coward.hp = coward.max_hp = 1000
    combat.engage(world, ann, coward)
    world.drain()
    ticks(world, 3 * combat.ROUND_TICKS)
    assert coward.room == "t:a"  # not hurt enough yet
    assert "fled" not in names(world.drain(), "Ann")
    coward.hp = 499  # below half
    out = []
    for _ in range(20 * combat.ROUND_TICKS):
        world.tick()
        out += world.drain()
        if coward.room != "t:a":
            break
    fled = events(out, "fled", "Ann")
    assert fled[-1] | {"direction": ""} == {"actor": "a coward", "kind": "mob", "direction": "",
                                             "success": True, "wimpy": True, "xp_lost": 0}
    assert all(not e["success"] for e in fled[:-1])
    assert len(fled) <= 20  # one try a round at most
    assert coward.room in ("t:b", "t:sanctum")
    assert coward.fighting is None and coward.id not in world.fighters
    assert ann.fighting is None


def test_a_scavenger_picks_up_the_best_item_but_not_corpses() -> None:
    world = new_world()
    ann = player(world)
    room = world.rooms["t:a"]
    room.items += [world.make_item("t:coin"), world.make_item("t:gem")]
    magpie = world.spawn_mob("t:magpie", "t:a")
    world.drain()
    world.tick()
    out = world.drain()
    assert [it.proto for it in magpie.inventory] == ["t:gem"]
    assert events(out, "item_moved", "Ann") == [
        {"actor": "a magpie", "item": "a red gem", "keyword": "gem", "action": "got",
         "container": None, "target": None}]
    # A corpse is left alone.
    rat = world.spawn_mob("t:rat", "t:a")
    world.move(rat, "t:c")
    combat.damage(world, ann, rat, 10_000, "test")
    world.move(magpie, "t:c")
    ticks(world, 5)
    assert [it.proto for it in magpie.inventory] == ["t:gem"]
    assert "item_moved" not in names(world.drain(), "Ann")


def test_a_healer_tends_the_wounded_who_are_not_fighting() -> None:
    world = new_world()
    ann = player(world)
    bob = player(world, "Bob")
    ann.hp = ann.max_hp - 10
    bob.hp = bob.max_hp - 3
    world.spawn_mob("t:priest", "t:a")
    world.drain()
    out = []
    for _ in range(behaviours.HEAL_EVERY):
        world.tick()
        out += world.drain()
    healed = events(out, "healed", "Ann")
    assert {"actor": "the priest", "target": "Ann", "amount": 7, "spell": "healer"} in healed
    assert {"actor": "the priest", "target": "Bob", "amount": 3, "spell": "healer"} in healed
    assert bob.hp == bob.max_hp
    rat = world.spawn_mob("t:statue", "t:a")
    rat.hp = rat.max_hp = 10_000
    ann.hp = ann.max_hp - 10
    combat.engage(world, ann, rat)
    hp = ann.hp
    world.drain()
    for _ in range(behaviours.HEAL_EVERY):
        world.tick()
    assert "healed" not in names(world.drain(), "Ann")
    assert ann.hp <= hp


def test_loot_is_rolled_at_spawn_and_drops_in_the_corpse() -> None:
    world = new_world()
    ann = player(world)
    looter = world.spawn_mob("t:looter", "t:a")
    assert "t:coin" in [it.proto for it in looter.inventory]
    combat.damage(world, ann, looter, 10_000, "test")
    corpse = next(it for it in world.rooms["t:a"].items if it.name == "the corpse of a looter")
    assert "t:coin" in [it.proto for it in corpse.contents]


def test_the_dead_leave_every_active_set() -> None:
    world = new_world()
    ann = player(world)
    mobs = [world.spawn_mob(p, "t:b") for p in ("t:rat", "t:orc", "t:wolf", "t:coward",
                                                   "t:magpie")]
    index = world.npcs
    assert len(index.wanderers) == 1 and len(index.scavengers) == 1
    assert index.aggressive and index.assisters and index.wimpy
    for mob in mobs:
        combat.damage(world, ann, mob, 10_000, "test")
    assert len(index.wanderers) == 0 and len(index.scavengers) == 0
    assert not index.aggressive and not index.assisters and not index.wimpy
    ticks(world, 50)  # stale bucket entries are skipped, not acted on


def test_the_schedule_skips_stale_entries_and_catches_up() -> None:
    world = new_world()
    schedule = Schedule()
    a = world.spawn_mob("t:statue", "t:a")
    b = world.spawn_mob("t:statue", "t:a")
    schedule.put(a, 3)
    schedule.put(b, 3)
    schedule.put(a, 5)  # replanned: the entry at 3 is stale
    assert schedule.take(1) == [] and schedule.take(2) == []
    assert schedule.take(3) == [b]
    assert schedule.take(10) == [a]  # ticks skipped: everything due by then
    assert len(schedule) == 0


def test_behaviours_replay_identically() -> None:
    def run() -> list[str]:
        world = new_world(seed=11)
        for _ in range(5):
            world.spawn_mob("t:rat", "t:a")
        trail = []
        for _ in range(100):
            world.tick()
            trail.append(",".join(m.room for m in world.mobs.values()))
        return trail

    assert run() == run()
