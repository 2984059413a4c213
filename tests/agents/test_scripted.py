"""The scripted policy's rules on observations made by hand, and the runner's report parts.

The policy only ever picks among the server's admissible actions; these tests give it
observations shaped like the server's `observation` answer and check what it picks.
(It plays the real game in tests/e2e/test_agents.py.)
"""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path
from typing import Any

from agents.contracts import Action, Observation, Outcome
from agents.runner import AgentStats, CredentialStore, plot_svg, report, report_table, write_docs
from agents.scripted import ScriptedPolicy


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
