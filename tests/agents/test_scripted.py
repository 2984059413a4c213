"""The scripted policy's rules on observations made by hand, and the runner's report parts.

The policy only ever picks among the server's admissible actions; these tests give it
observations shaped like the server's `observation` answer and check what it picks.
(It plays the real game in tests/e2e/test_agents.py.)
"""

from __future__ import annotations

import asyncio
import os
import stat
from collections import deque
from pathlib import Path
from typing import Any

from agents.contracts import Action, Observation, Outcome
from agents.runner import AgentStats, CredentialStore, plot_svg, report, report_table, write_docs
from agents.scripted import Place, ScriptedPolicy


def act(tool: str, line: str, why: str = "", **args: Any) -> dict[str, Any]:
    return {"tool": tool, "args": args, "line": line, "why": why}


def observation(*actions: dict[str, Any], hp: int = 24, max_hp: int = 24,
                position: str = "standing", fighting: str | None = None,
                room: str = "haven:gate_yard", exits: dict[str, str] | None = None,
                characters: list[dict[str, Any]] | None = None, **more: Any) -> Observation:
    obs = Observation(name="Ann")
    obs.vitals = {"hp": hp, "max_hp": max_hp, "mana": 0, "max_mana": 0, "moves": 100,
                  "max_moves": 100, "level": 1, "xp": 0, "position": position,
                  "fighting": fighting}
    obs.room = {"id": room, "name": room.split(":")[1], "zone": room.split(":")[0],
                "exits": exits or {}, "doors": {}, "characters": [], "items": [], "flags": []}
    obs.character = {"name": "Ann", "level": 1, "count": 1, "max_count": 16, "gold": 0,
                     "position": position}
    obs.characters = characters or []
    obs.fighting = fighting
    obs.actions = list(actions)
    obs.zones = {"haven": {"name": "Haven", "levels": [1, 3]}}
    for key, value in more.items():
        setattr(obs, key, value)
    return obs


def decide(policy: ScriptedPolicy, obs: Observation) -> list[Action]:
    return list(asyncio.run(policy.decide(obs)))


def ready_policy() -> ScriptedPolicy:
    p = ScriptedPolicy(seed=1)
    p.wimpy_level = 1  # wimpy already set
    return p


RAT = {"name": "a cellar rat", "keyword": "rat", "kind": "mob", "level": 1, "attackable": True,
       "verdict": "easy", "xp": 120, "rounds_to_win": 3, "rounds_to_lose": 20, "roles": []}
WOLF = {"name": "a grey wolf", "keyword": "wolf", "kind": "mob", "level": 3, "attackable": True,
        "verdict": "deadly", "xp": 300, "rounds_to_win": 20, "rounds_to_lose": 5, "roles": []}


def test_it_sets_wimpy_first() -> None:
    p = ScriptedPolicy(seed=1)
    [a] = decide(p, observation(act("go", "north", "to Lantern Street", direction="north")))
    assert a.tool == "wimpy" and a.args == {"hp": 24 // 5}


def test_it_fights_what_it_can_beat_and_never_what_is_deadly() -> None:
    p = ready_policy()
    obs = observation(act("kill", "kill wolf", target="wolf"),
                      act("kill", "kill rat", target="rat"), characters=[WOLF, RAT])
    assert decide(p, obs) == [Action("kill", {"target": "rat"}, "")]
    obs = observation(act("kill", "kill wolf", target="wolf"), characters=[WOLF],
                      exits={"north": "haven:south_street"})
    assert all(a.tool != "kill" for a in decide(p, obs))


def test_it_rests_before_a_fight_when_hurt_and_sleeps_where_no_mob_is() -> None:
    p = ready_policy()
    obs = observation(act("kill", "kill rat", target="rat"), act("rest", "rest"),
                      act("sleep", "sleep"), hp=15, characters=[RAT])
    [a] = decide(p, obs)
    assert a.tool == "rest" and "before fighting" in a.why
    obs = observation(act("rest", "rest"), act("sleep", "sleep"), hp=8)
    assert [a.tool for a in decide(p, obs)] == ["sleep"]
    # Asleep or resting and not healed yet: wait (a short timer, events wake it sooner).
    assert decide(p, observation(act("stand", "stand"), hp=10, position="resting")) == []
    assert p.wake_after == p.rest_wait
    assert [a.tool for a in decide(p, observation(act("stand", "stand"), position="resting"))] \
        == ["stand"]


def test_in_a_fight_it_drinks_then_flees_when_about_to_die() -> None:
    p = ready_policy()
    fight = [act("flee", "flee"), act("quaff", "quaff potion", potion="potion"),
             act("kick", "kick rat", target="rat")]
    [a] = decide(p, observation(*fight, hp=20, position="fighting", fighting="a cellar rat",
                                characters=[RAT]))
    assert a.tool == "kick"
    [a] = decide(p, observation(*fight, hp=8, position="fighting", fighting="a cellar rat",
                                characters=[RAT]))
    assert a.tool == "quaff"
    [a] = decide(p, observation(fight[0], hp=4, position="fighting", fighting="a cellar rat",
                                characters=[RAT]))
    assert a.tool == "flee"
    # A deadly foe: flee at half health already.
    [a] = decide(p, observation(fight[0], hp=11, position="fighting", fighting="a grey wolf",
                                characters=[WOLF]))
    assert a.tool == "flee"


def test_it_loots_wears_and_takes_quests_before_wandering() -> None:
    p = ready_policy()
    go = act("go", "north", "to Lantern Street", direction="north")
    loot = act("get", "get all from corpse", "loot", item="all", container="corpse")
    wear = act("wear", "wear boots", "better", item="boots")
    quest = act("quest", "quest accept haven:rats", "offer", action="accept", which="haven:rats")
    obs = observation(go, wear, quest, loot)
    assert decide(p, obs)[0].tool == "get"
    assert decide(p, observation(go, wear, quest))[0].tool == "wear"
    assert decide(p, observation(go, quest))[0].args == {"action": "accept", "which": "haven:rats"}


def test_it_explores_unknown_rooms_and_opens_doors_on_its_way() -> None:
    p = ready_policy()
    obs = observation(act("open", "open south", "closed", door="south"),
                      exits={"south": "haven:outside_gate"})
    obs.room["doors"] = {"south": {"name": "gate", "closed": True, "locked": False}}
    [a] = decide(p, obs)
    assert (a.tool, a.args) == ("open", {"door": "south"}) and "explore" in a.why
    obs.actions = [act("go", "south", "to Outside the Gate", direction="south")]
    obs.room["doors"] = {"south": {"name": "gate", "closed": False, "locked": False}}
    [b] = decide(p, obs)
    assert (b.tool, b.args) == ("go", {"direction": "south"}) and b.why.startswith("explore")
    obs.actions = [act("open", "open south", "closed", door="south")]
    # Refused twice in this room: not tried again here for a while.
    failed = Outcome(Action(a.tool, a.args), False, "door_locked", "")
    for _ in range(2):
        obs.outcomes = [failed]
        decide(p, obs)
    obs.outcomes = []
    assert all((b.tool, b.args) != (a.tool, a.args) for b in decide(p, obs))


def test_a_death_marks_the_killer_and_the_room() -> None:
    p = ready_policy()
    obs = observation(act("go", "north", "to Lantern Street", direction="north"),
                      exits={"north": "haven:south_street"})
    obs.events = [{"type": "event", "name": "died", "data": {
        "actor": "Ann", "kind": "player", "killer": "a grey wolf", "room": "greenwood:den"}}]
    decide(p, obs)
    assert p.deaths == 1 and p.danger == {"a grey wolf": 1} and "greenwood:den" in p.bad_rooms


# ---- the runner's report ------------------------------------------------------------------


def stats(name: str, levels: dict[int, float], xp: int, deaths: int = 0) -> AgentStats:
    st = AgentStats(name, cls="warrior", level=max(levels), start_level=min(levels), xp=xp,
                    start_xp=0, deaths=deaths, quests=1, rooms={"a", "b"}, actions=10)
    st.level_times = levels
    st.rtts.extend([0.001, 0.002, 0.010])
    return st


def test_report_table_plot_and_docs(tmp_path: Path) -> None:
    group = [stats("Roboaa", {1: 0.0, 2: 300.0, 3: 900.0}, 3100, deaths=1),
             stats("Roboab", {1: 0.0, 2: 500.0}, 1500)]
    rep = report(group, 1800.0, "scripted", 7)
    assert rep["levels_gained_mean"] == 1.5 and rep["deaths"] == 1
    assert rep["rows"][0]["xp_per_hour"] == 6200 and rep["rows"][0]["levels_gained"] == 2
    assert rep["tokens_per_level"] == 0 and rep["stuck"] == 0
    assert rep["rtt_ms"]["n"] == 6
    table = report_table(rep)
    assert table[0].startswith("| agent |") and "2: 300, 3: 900" in table[2]
    svg = plot_svg(group, 1800.0, "level over time <test>")
    assert svg.startswith("<svg") and svg.count("<polyline") == 2 and "&lt;test&gt;" in svg
    doc = tmp_path / "agents.md"
    doc.write_text("# Agents\n\n<!-- scripted-baseline:start -->\nold\n"
                   "<!-- scripted-baseline:end -->\n\n## After\n")
    write_docs(doc, rep, "aegent agents eval --count 2", "img/x.svg")
    text = doc.read_text()
    assert "old" not in text and "## After" in text and "`aegent agents eval --count 2`" in text
    assert "![Level over time per agent](img/x.svg)" in text


def test_credentials_file_is_private(tmp_path: Path) -> None:
    store = CredentialStore(tmp_path / "agents" / "credentials.json")
    creds = store.get("Roboaa", "cleric")
    assert creds.name == "Roboaa" and creds.cls == "cleric" and len(creds.password) >= 16
    assert not store.registered("Roboaa")
    store.mark_registered("Roboaa")
    again = CredentialStore(tmp_path / "agents" / "credentials.json")
    assert again.registered("Roboaa") and again.get("Roboaa", "mage").password == creds.password
    mode = stat.S_IMODE(os.stat(tmp_path / "agents" / "credentials.json").st_mode)
    assert mode == 0o600


def test_junk_no_shop_wants_does_not_send_it_from_shop_to_shop() -> None:
    p = ready_policy()
    junk = [{"name": f"a bent horseshoe {n}", "keyword": "horseshoe", "type": "misc",
             "value": 2} for n in range(4)]
    keeper = {"name": "Garrick the smith", "keyword": "garrick", "kind": "mob", "level": 20,
              "attackable": False, "roles": ["shopkeeper"]}
    # In the smithy, which does not buy horseshoes: no `sell` action is offered.
    smithy = observation(act("go", "north", "to Market Row", direction="north"),
                         room="haven:smithy", exits={"north": "haven:market_row"},
                         characters=[keeper], inventory=junk)
    decide(p, smithy)
    assert p.unsold == {it["name"] for it in junk}
    market = observation(act("go", "north", "to Tobin's", direction="north"),
                         act("go", "south", "to The Smithy", direction="south"),
                         room="haven:market_row", exits={"north": "haven:shop",
                                                         "south": "haven:smithy"},
                         inventory=junk)
    p.map["haven:shop"] = type(p.map["haven:smithy"])("haven:shop", roles={"shopkeeper"})
    p.map["haven:shop"].visits = 1
    [a] = decide(p, market)
    assert not a.why.startswith("to a shop")


# ---- hunting: where prey comes back ----------------------------------------------------------

SQUARE_EXITS = {"north": "haven:den", "south": "haven:yard"}


def hunting_policy() -> tuple[ScriptedPolicy, list[float]]:
    """At the square, with a den north (two rats seen) and a yard south (one rat seen),
    both explored; the clock is ours."""
    now = [1000.0]
    p = ScriptedPolicy(seed=1, clock=lambda: now[0])
    p.wimpy_level = 1
    for rid, back in (("haven:den", "south"), ("haven:yard", "north")):
        place = Place(rid, name=rid.split(":")[1], zone="haven",
                      exits={back: "haven:square"}, visits=1)
        place.spawns = {"a cellar rat": (1, 120, "easy", 1)}
        if rid == "haven:den":
            place.spawns["a fat rat"] = (1, 120, "easy", 1)
        p.map[rid] = place
    return p, now


GO_BOTH = (act("go", "north", "to the den", direction="north"),
           act("go", "south", "to the yard", direction="south"))


def test_it_does_not_walk_back_to_a_room_it_just_emptied() -> None:
    p, now = hunting_policy()
    p.map["haven:den"].empty_at = now[0] - 10  # we just killed all there
    p.map["haven:yard"].empty_at = now[0] - 500  # long ago: the zone has put them back
    [a] = decide(p, observation(*GO_BOTH, room="haven:square", exits=SQUARE_EXITS))
    assert a.args == {"direction": "south"} and a.why.startswith("hunt at yard")
    # Both emptied lately: no hunt; it waits at the best ground (the den, two rats) instead
    # of walking in circles, and rests there while its moves are down.
    p, now = hunting_policy()
    p.map["haven:den"].empty_at = now[0] - 10
    p.map["haven:yard"].empty_at = now[0] - 20
    [a] = decide(p, observation(*GO_BOTH, room="haven:square", exits=SQUARE_EXITS))
    assert a.args == {"direction": "north"} and a.why.startswith("wait for prey at den")
    den = observation(act("go", "south", "to the square", direction="south"),
                      act("rest", "rest"), act("sleep", "sleep"), room="haven:den",
                      exits={"south": "haven:square"}, characters=[])
    den.vitals["moves"] = 40
    [b] = decide(p, den)
    assert b.tool == "sleep" and "prey comes back" in b.why
    # Lying there: up again only with full moves, or once some room is worth a walk.
    lying = observation(act("wake", "wake"), act("stand", "stand"), room="haven:den",
                        exits={"south": "haven:square"}, position="sleeping")
    lying.vitals["moves"] = 60
    assert decide(p, lying) == []
    now[0] += 200  # the yard's rats are likely back
    assert [a.tool for a in decide(p, lying)] == ["stand"]


def test_prey_is_valued_at_our_level_now() -> None:
    """Rats seen at level 1 are worth little at level 4; a wolf seen then is worth more."""
    p, now = hunting_policy()
    p.map["haven:den"].spawns = {"a cellar rat": (1, 100, "easy", 1)}
    p.map["haven:yard"].spawns = {"a grey wolf": (3, 120, "fair", 1)}  # 140 % then
    assert p._prey_value(p.map["haven:den"], 2, set()) == 100 * 80 / 100
    assert p._prey_value(p.map["haven:yard"], 4, set()) == 120 * 80 / 140
    # Two levels up, rats are left to those who need them, unless a quest wants one.
    assert p._prey_value(p.map["haven:den"], 3, set()) == 0
    assert p._prey_value(p.map["haven:den"], 3, {"a cellar rat"}) == 100 * 60 / 100 * 3
    [a] = decide(p, observation(*GO_BOTH, room="haven:square", exits=SQUARE_EXITS))
    assert a.args == {"direction": "south"}


def lying_in_wait() -> tuple[ScriptedPolicy, Observation]:
    """Resting in the den, both hunting grounds emptied lately, moves at 60 %."""
    p, now = hunting_policy()
    p.map["haven:den"].empty_at = now[0] - 10
    p.map["haven:yard"].empty_at = now[0] - 20
    p.here, p.idle_rest = "haven:den", True
    lying = observation(act("stand", "stand"), room="haven:den",
                        exits={"south": "haven:square"}, position="resting")
    lying.vitals["moves"] = 60
    return p, lying


def test_lying_in_wait_it_gets_up_when_prey_comes_back_here() -> None:
    p, lying = lying_in_wait()
    assert decide(p, lying) == []
    lying.characters = [{**RAT, "attackable": False}]  # the zone's reset, seen lying down
    assert [a.tool for a in decide(p, lying)] == ["stand"]


def test_a_risky_foe_one_level_up_only_when_we_would_outlast_it() -> None:
    p = ready_policy()
    boar = {**RAT, "name": "a wild boar", "keyword": "boar", "level": 2, "verdict": "risky",
            "rounds_to_win": 10, "rounds_to_lose": 13}
    obs = observation(act("kill", "kill boar", target="boar"), characters=[boar])
    assert [a.tool for a in decide(p, obs)] == ["kill"]
    close = {**boar, "rounds_to_lose": 11}
    obs = observation(act("kill", "kill boar", target="boar"), characters=[close])
    assert all(a.tool != "kill" for a in decide(p, obs))
    hurt = observation(act("kill", "kill boar", target="boar"), characters=[boar], hp=20)
    assert all(a.tool != "kill" for a in decide(p, hurt))


def test_it_does_not_wait_for_ever_where_prey_never_comes_back() -> None:
    """Its only known ground stays empty (the prey lives on elsewhere, or others take
    it): after a reset's time it looks around instead of waiting on."""
    p, now = hunting_policy()
    p.map["haven:den"].spawns = {}
    p.map["haven:yard"].spawns = {}
    here = observation(*GO_BOTH, room="haven:square", exits=SQUARE_EXITS)
    p.map.setdefault("haven:square", Place("haven:square")).spawns = {
        "a shifty pickpocket": (2, 140, "easy", 1)}
    assert decide(p, here) == []  # waits here for it
    now[0] += p.respawn_wait / 2
    assert decide(p, here) == []
    now[0] += p.respawn_wait
    [a] = decide(p, here)
    assert a.tool == "go" and a.why.startswith("wander")


def test_hurt_between_two_dangerous_rooms_it_does_not_pace_back_and_forth() -> None:
    p = ready_policy()
    wolf = {**WOLF, "verdict": "risky"}
    moves = [act("go", "east", "to the grove", direction="east"),
             act("rest", "rest"), act("sleep", "sleep")]
    bank = observation(*moves, hp=8, room="greenwood:bank", exits={"east": "greenwood:grove"},
                       characters=[wolf])
    grove = observation(act("go", "west", "to the bank", direction="west"),
                        *moves[1:], hp=8, room="greenwood:grove",
                        exits={"west": "greenwood:bank"}, characters=[wolf])
    tools = [a.tool for obs in (bank, grove, bank, grove, bank) for a in decide(p, obs)]
    assert tools[:3] == ["go", "go", "go"] and tools[3] == "rest"  # then rests anyway


def test_prey_far_below_it_is_left_unless_a_quest_wants_it() -> None:
    p = ready_policy()
    obs = observation(act("kill", "kill rat", target="rat"), characters=[RAT])
    obs.vitals["level"] = obs.character["level"] = 4
    assert all(a.tool != "kill" for a in decide(p, obs))
    obs.quests = [{"state": "accepted", "kind": "kill", "target": "a cellar rat",
                   "ready": False}]
    assert decide(p, obs) == [Action("kill", {"target": "rat"}, "")]


def test_it_keeps_potions_and_what_its_quests_ask_for() -> None:
    """At a shop it sells the loot it has no use for, but never a potion (not even one
    whose name does not say so) nor what a quest wants, whatever the shop would pay."""
    p = ready_policy()
    inventory = [{"name": "a herbal poultice", "keyword": "poultice", "type": "potion",
                  "value": 20},
                 {"name": "a curved boar tusk", "keyword": "tusk", "type": "treasure",
                  "value": 10},
                 {"name": "a grey wolf pelt", "keyword": "pelt", "type": "treasure",
                  "value": 14}]
    quests = [{"state": "accepted", "kind": "collect", "target": "a curved boar tusk",
               "ready": False}]
    sells = [act("sell", "sell poultice", "Wenna pays 12 gold for a herbal poultice",
                 item="poultice"),
             act("sell", "sell tusk", "Wenna pays 6 gold for a curved boar tusk (your "
                 "quest 'Tusks for the Forge' needs it)", item="tusk"),
             act("sell", "sell pelt", "Wenna pays 8 gold for a grey wolf pelt", item="pelt")]
    obs = observation(*sells, room="greenwood:hermit_hut", inventory=inventory, quests=quests)
    [a] = decide(p, obs)
    assert a.args == {"item": "pelt"}
    assert [it["name"] for it in p._sellable(obs)] == ["a grey wolf pelt"]
    # Even when the server does not say it (another server, an older one): the quest
    # in our own list is enough.
    sells[1]["why"] = "Wenna pays 6 gold for a curved boar tusk"
    obs = observation(*sells[:2], room="greenwood:hermit_hut", inventory=inventory,
                      quests=quests)
    assert all(a.tool != "sell" for a in decide(p, obs))


def test_a_far_room_emptied_lately_is_not_worth_the_walk() -> None:
    """Emptied a while ago: worth a walk when near, not when far (the chance that its
    prey is back has to pay for the steps)."""
    p, now = hunting_policy()
    p.map["haven:yard"].spawns = {}
    p.map["haven:yard"].seen_at = now[0]  # just seen, nothing there
    p.map["haven:den"].empty_at = now[0] - 0.3 * p.respawn_wait
    [a] = decide(p, observation(*GO_BOTH, room="haven:square", exits=SQUARE_EXITS))
    assert a.why.startswith("hunt at den")  # one step away
    far, now = hunting_policy()
    far.map["haven:yard"].spawns = {}
    far.map["haven:yard"].seen_at = now[0]
    far.map["haven:den"].empty_at = now[0] - 0.3 * far.respawn_wait
    far.map["haven:square"] = Place("haven:square", exits=dict(SQUARE_EXITS), visits=1)
    # Walk the den's way round: ten rooms between the square and the den.
    prev = "haven:square"
    for n in range(10):
        rid = f"haven:lane{n}"
        far.map[rid] = Place(rid, zone="haven", exits={"south": prev}, visits=1,
                             seen_at=now[0])
        far.map[prev].exits["north"] = rid
        prev = rid
    far.map[prev].exits["north"] = "haven:den"
    far.map["haven:den"].exits = {"south": prev}
    far.here = "haven:square"
    assert len(far._paths(1)["haven:den"]) == 11
    obs = observation(act("go", "north", "to a lane", direction="north"),
                      room="haven:square", exits={"north": "haven:lane0"})
    assert not any(a.why.startswith("hunt") for a in decide(far, obs))


def test_rooms_it_never_saw_prey_in_are_looked_at_again_after_a_reset() -> None:
    """Come late to a shared world, it saw prey in one room only (the den); it does not
    camp there for ever: a room where it saw nothing is worth a look once unseen for a
    reset (others may have emptied it each time it passed), but not before."""
    p, now = hunting_policy()
    p.map["haven:yard"].spawns = {}
    p.map["haven:yard"].seen_at = now[0] - 10
    p.map["haven:den"].empty_at = now[0] - 10  # we just emptied it
    [a] = decide(p, observation(*GO_BOTH, room="haven:square", exits=SQUARE_EXITS))
    assert a.why.startswith("wait for prey at den")
    p.path.clear()
    now[0] += p.respawn_wait
    p.map["haven:den"].empty_at = now[0] - 10  # and again, just now
    [a] = decide(p, observation(*GO_BOTH, room="haven:square", exits=SQUARE_EXITS))
    assert a.args == {"direction": "south"} and a.why.startswith("hunt at yard")
    # A safe room (a temple, a shop) is never such a place.
    p, now = hunting_policy()
    p.map["haven:yard"].spawns = {}
    p.map["haven:yard"].safe = True
    p.map["haven:den"].empty_at = now[0] - 10
    [a] = decide(p, observation(*GO_BOTH, room="haven:square", exits=SQUARE_EXITS))
    assert not a.why.startswith("hunt")


def test_a_flight_marks_the_room_it_ran_from() -> None:
    p = ready_policy()
    wolf = {**WOLF, "verdict": "deadly", "fighting": "Ann"}
    den = observation(act("flee", "flee"), hp=5, position="fighting", fighting="a grey wolf",
                      room="greenwood:den", exits={"west": "greenwood:grove"},
                      characters=[wolf])
    [a] = decide(p, den)
    assert a.tool == "flee"
    grove = observation(act("rest", "rest"), hp=5, room="greenwood:grove",
                        exits={"east": "greenwood:den"})
    grove.events = [{"type": "event", "name": "fled", "data": {
        "actor": "Ann", "kind": "player", "direction": "west", "success": True,
        "wimpy": False, "xp_lost": 10}}]
    decide(p, grove)
    assert set(p.bad_rooms) == {"greenwood:den"}


def test_out_of_a_dead_end_through_a_room_marked_dangerous() -> None:
    """Its only way out leads through a room where it fled once: with nowhere else to
    go it walks through it (it once waited in such a dead end for ten minutes)."""
    p, now = hunting_policy()  # the den and the yard, off the square
    p.map["haven:square"] = Place("haven:square", zone="haven", visits=1, seen_at=now[0],
                                  exits={"north": "haven:den", "south": "haven:yard",
                                         "east": "haven:tent"})
    p.map["haven:tent"] = Place("haven:tent", zone="haven", visits=1, seen_at=now[0],
                                exits={"west": "haven:square", "up": "haven:loft"})
    p.map["haven:loft"] = Place("haven:loft", zone="haven", visits=1, seen_at=now[0],
                                exits={"down": "haven:tent"})  # the dead end is two rooms
    p.bad_rooms["haven:square"] = 1
    tent = observation(act("go", "west", "to the square", direction="west"),
                       act("go", "up", "to the loft", direction="up"),
                       room="haven:tent", exits={"west": "haven:square", "up": "haven:loft"})
    [a] = decide(p, tent)
    assert a.args == {"direction": "west"} and a.why.startswith("hunt at")
    assert "haven:square" not in p._paths(1)  # walked through, never a destination
    assert p._paths(1)["haven:loft"] == deque(["up"])  # and never when not needed


def test_lying_in_wait_it_stays_down_for_prey_it_leaves_to_others() -> None:
    """A rat comes back where a level-4 agent lies waiting: the rat is left to those
    who need it, so it is no reason to get up (it got up and lay down again, every
    quarter of a second, for a minute)."""
    p, lying = lying_in_wait()
    lying.vitals["level"] = lying.character["level"] = 4
    lying.characters = [{**RAT, "attackable": False}]
    assert decide(p, lying) == []
    lying.vitals["level"] = lying.character["level"] = 2
    assert [a.tool for a in decide(p, lying)] == ["stand"]


def test_into_a_zone_above_its_level_it_explores_only_the_first_rooms() -> None:
    """At level 1 it explores the edge of the Greenwood (levels 2-6), two rooms deep,
    not beyond: level-1 explorers who went deep met its aggressive spiders and bandits,
    and died. At level 2 it goes on."""
    p = ready_policy()
    p.zone_levels = {"haven": (1, 3), "greenwood": (2, 6)}
    known = {"haven:forest_edge": {"south": "greenwood:trailhead"},
             "greenwood:trailhead": {"north": "haven:forest_edge",
                                     "south": "greenwood:pine_path"},
             "greenwood:pine_path": {"north": "greenwood:trailhead",
                                     "south": "greenwood:old_oak"}}
    for rid, exits in known.items():
        p.map[rid] = Place(rid, zone=rid.split(":")[0], exits=dict(exits), visits=1)
    p.here = "greenwood:trailhead"
    assert p._path_to(lambda q: q.id not in p.map, 1, unknown_ok=True, ahead=2) is None
    assert p._path_to(lambda q: q.id not in p.map, 2, unknown_ok=True,
                      ahead=2) == deque(["south", "south"])
    p.map["greenwood:pine_path"].visits = 0  # not yet been in: the second room, explored
    assert p._path_to(lambda q: q.id not in p.map or q.visits == 0, 1, unknown_ok=True,
                      ahead=2) == deque(["south"])
    edge = observation(act("go", "south", "to the Greenwood", direction="south"),
                       room="haven:forest_edge", exits={"south": "greenwood:trailhead"})
    edge.zones = {"haven": {"name": "Haven", "levels": [1, 3]},
                  "greenwood": {"name": "The Greenwood", "levels": [2, 6]}}
    [a] = decide(p, edge)  # from the edge, the pine path is two rooms deep: explored
    assert a.args == {"direction": "south"} and a.why.startswith("explore")


def test_out_of_a_zone_above_its_level_it_walks_home() -> None:
    """Fled into the Barrow (levels 5-12) at level 2: its rooms are walked through on
    the way back to the Greenwood, never a place to hunt or look in (an agent waited
    at the barrow's door with "0 rooms to walk to")."""
    p, now = hunting_policy()
    zones = {"haven": {"name": "Haven", "levels": [1, 3]},
             "barrow": {"name": "The Barrow", "levels": [5, 12]}}
    p.map["barrow:door"] = Place("barrow:door", zone="barrow", visits=1, seen_at=now[0],
                                 exits={"west": "barrow:path", "down": "barrow:hall"})
    p.map["barrow:hall"] = Place("barrow:hall", zone="barrow", visits=1,
                                 exits={"up": "barrow:door"})
    p.map["barrow:hall"].spawns = {"a cave bat": (2, 150, "easy", 2)}
    p.map["barrow:path"] = Place("barrow:path", zone="barrow", visits=1, seen_at=now[0],
                                 exits={"east": "barrow:door", "north": "haven:square"})
    p.map["haven:square"] = Place("haven:square", zone="haven", visits=1, seen_at=now[0],
                                  exits={"north": "haven:den", "south": "haven:yard",
                                         "west": "barrow:path"})
    door = observation(act("go", "west", "to the downs path", direction="west"),
                       act("go", "down", "into the barrow", direction="down"),
                       room="barrow:door", exits={"west": "barrow:path", "down": "barrow:hall"},
                       zones=zones)
    door.vitals["level"] = door.character["level"] = 2
    p.wimpy_level = 2
    [a] = decide(p, door)
    assert a.args == {"direction": "west"} and a.why.startswith("hunt at")
    assert set(p._paths(2)) == {"haven:square", "haven:den", "haven:yard"}


def test_a_room_with_only_prey_it_leaves_counts_as_empty() -> None:
    """A level-3 agent sees rats it leaves to others: the room is empty to it, not a room
    where prey "may still be" (two such rooms side by side had it walk to and fro
    between them, 180 times in three minutes)."""
    p, now = hunting_policy()
    den = observation(act("go", "south", "to the square", direction="south"),
                      room="haven:den", exits={"south": "haven:square"}, characters=[RAT])
    den.vitals["level"] = den.character["level"] = 3
    p.wimpy_level = 3
    decide(p, den)
    assert p.map["haven:den"].empty_at == now[0] and p.map["haven:den"].prey_at == 0
    den.vitals["level"] = den.character["level"] = 2
    p.wimpy_level = 2
    now[0] += 1
    decide(p, den)
    assert p.map["haven:den"].prey_at == now[0]
