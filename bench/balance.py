"""Balance simulation: how long a new character takes to level, per class, in game time.

No sockets and no clock: a `World` of the real content/, a fixed seed, and one
scripted character (`Player`) that plays by commands only (`world.perform_line`),
choosing from the events it is sent, as any client would:

- it decides once every `DECIDE_EVERY` ticks (a second of game time): looking,
  considering and one action, as a quick human would;
- in a fight: a potion when nearly dead, flee when nearly dead without one, else
  its class's combat spell or skill (kick, bash; magic missile, burning hands;
  cause light, or cure light on itself when hurt; kick for rogues);
- out of a fight: keep its protective spells up (armor, bless); rest when hurt
  (below half its hit points, or a caster low on mana) until nearly whole, then
  stand; loot the corpse of what it killed (`get all from N.corpse`), `wear all`;
- it `consider`s the mobs in the room and attacks, among those the verdict calls
  easy or fair, or (as `consider` weighs melee only) that a caster can burn down
  with the mana it has before it falls, the one that pays best for the rounds it
  takes (its class's opener: backstab, magic missile, cause light; else `kill`);
- otherwise it moves on: out by the exit to the room it has been in least (a
  closed door is opened first; locked ones are left alone), avoiding rooms where
  it met mobs far above its level or where it died or fled, for a few minutes.

The game time is `ticks / 10` seconds. `tests/world/test_balance.py` runs it to
level 5 per class; `python -m bench.balance` to level 10 (the target: about two
hours of play from level 1 to 10) and prints a table; `--json-out` saves it.

    python -m bench.balance                          # warrior, mage, cleric, rogue to 10
    python -m bench.balance --level 5 --classes mage --seeds 1,2,3
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from world import rules
from world.entities import Character
from world.game import World
from world.prototypes import Content

TICKS_PER_SECOND = 10
DECIDE_EVERY = 10  # ticks between two decisions of the player (1 s)
CLASSES = ("warrior", "mage", "cleric", "rogue")
REST_BELOW = 0.5  # rest when hit points fall below this share
REST_UNTIL = 0.95  # ... until they are back to this share
FLEE_BELOW = 0.2  # flee (or drink a potion) below this share in a fight
DANGER_LEVELS = 3  # a room with a mob this many levels above the player is avoided
BEATABLE = ("easy", "fair")
BEATEN_LEVELS = 2  # a room it died or fled in is avoided until it is this many levels up
AVOID_TICKS = 3000  # ... or for 5 minutes (so is a room with a mob far above its level)

# What each class does in a fight, most wanted first (refused ones are skipped).
FIGHT_MOVES: dict[str, tuple[str, ...]] = {
    "warrior": ("bash", "kick"),
    "mage": ("cast 'burning hands'", "cast 'magic missile'"),
    "cleric": ("cast 'cause light'",),
    "rogue": ("kick",),
}
# How each class opens a fight on `{t}` (then `kill {t}` if it was refused).
OPENERS: dict[str, tuple[str, ...]] = {
    "warrior": ("kill {t}",),
    "mage": ("cast 'burning hands' {t}", "cast 'magic missile' {t}"),
    "cleric": ("cast 'cause light' {t}",),
    "rogue": ("backstab {t}",),
}
HEALS: dict[str, str] = {"cleric": "cast 'cure light'"}
# Spells it keeps on itself out of a fight: spell id (its effect's name) -> the line.
BUFFS: dict[str, tuple[tuple[str, str], ...]] = {
    "cleric": (("armor", "cast armor"), ("bless", "cast bless")),
    "mage": (("armor", "cast armor"),),
}
ROUND_SECONDS = 2  # a combat round; the player acts once a second, so casts twice a round


@dataclass(slots=True)
class Stats:
    """What happened in one simulated career."""

    kills: int = 0
    deaths: int = 0
    flees: int = 0
    rests: int = 0
    moves: int = 0
    commands: int = 0
    refused: int = 0
    level_ticks: dict[int, int] = field(default_factory=dict)  # level -> tick reached
    seconds: dict[str, int] = field(default_factory=dict)  # position -> game seconds in it
    xp_from: dict[str, int] = field(default_factory=dict)  # mob name -> xp


class Player:
    """A scripted character that sees only its own events and acts by command lines."""

    def __init__(self, world: World, name: str, cls: str, seed: int) -> None:
        self.world = world
        self.cls = cls
        self.rng = random.Random(seed)
        self.ch: Character = world.enter(name, cls)
        self.stats = Stats(level_ticks={1: world.time})
        self.room: dict[str, Any] = {}
        self.vitals: dict[str, Any] = {}
        self.visits: dict[str, int] = {}
        # room id -> (the highest mob level met there, when); (its level when it died or
        # fled there, when): such rooms are avoided for a while
        self.danger: dict[str, tuple[int, int]] = {}
        self.beaten: dict[str, tuple[int, int]] = {}
        self.looted: set[str] = set()  # rooms with a fresh corpse of ours to loot
        self.considered: list[dict[str, Any]] = []
        self.effects: set[str] = set()  # the effects on it now
        self.read()

    # ---- eyes -----------------------------------------------------------------

    def read(self) -> None:
        """Take the events sent to this player since the last read."""
        me = self.ch
        for d in self.world.drain():
            if d.recipient is not me:
                continue
            name = d.event.name
            if name == "room":
                self.room = d.event.to_data()
                self.visits[self.room["id"]] = self.visits.get(self.room["id"], 0) + 1
                self.danger[self.room["id"]] = (max(
                    (c["level"] for c in self.room["characters"] if c["kind"] == "mob"),
                    default=0), self.world.time)
            elif name == "vitals":
                self.vitals = d.event.to_data()
            elif name == "considered":
                self.considered.append(d.event.to_data())
            elif name == "died":
                data = d.event.to_data()
                if data["actor"] == me.name:
                    self.stats.deaths += 1
                    self.beaten[data["room"]] = (self.vitals.get("level", 1), self.world.time)
                elif data["killer"] == me.name:
                    self.stats.kills += 1
                    self.looted.add(data["room"])
            elif name == "fled":
                data = d.event.to_data()
                if data["actor"] == me.name and data["success"]:
                    self.stats.flees += 1
                    self.beaten[self.room.get("id", "")] = (self.vitals.get("level", 1),
                                                            self.world.time)
            elif name == "xp_gained":
                data = d.event.to_data()
                self.stats.xp_from[data["source"]] = \
                    self.stats.xp_from.get(data["source"], 0) + data["amount"]
            elif name in ("effect_started", "effect_ended"):
                data = d.event.to_data()
                if data["target"] == me.name:
                    if name == "effect_started":
                        self.effects.add(data["effect"])
                    else:
                        self.effects.discard(data["effect"])
            elif name == "level_gained":
                self.stats.level_ticks[d.event.to_data()["level"]] = self.world.time

    def do(self, line: str) -> bool:
        """Type a line; True if it was not refused. The events are read at once."""
        self.stats.commands += 1
        refusal = self.world.perform_line(self.ch, line)
        self.read()
        if refusal is not None:
            self.stats.refused += 1
            return False
        return True

    def first(self, lines: tuple[str, ...] | list[str]) -> bool:
        """Try lines in order until one is not refused."""
        return any(self.do(line) for line in lines)

    # ---- the policy -----------------------------------------------------------

    def share(self, key: str, cap: str) -> float:
        top = self.vitals.get(cap) or 0
        return 1.0 if top <= 0 else self.vitals.get(key, 0) / top

    def decide(self) -> None:
        """One decision: whatever the situation calls for, one action at most."""
        position = self.vitals.get("position", "standing")
        self.stats.seconds[position] = self.stats.seconds.get(position, 0) + \
            DECIDE_EVERY // TICKS_PER_SECOND
        hp = self.share("hp", "max_hp")
        if position == "fighting":
            self.fight(hp)
        elif position in ("resting", "sleeping"):
            mana_ok = self.cls not in ("mage", "cleric") or self.share("mana", "max_mana") > 0.8
            if hp >= REST_UNTIL and mana_ok and self.share("moves", "max_moves") > 0.3:
                self.do("stand")
        elif hp < REST_BELOW or self.share("moves", "max_moves") < 0.1 or (
                self.cls == "mage" and self.share("mana", "max_mana") < 0.25):
            if self.cls in HEALS and self.share("mana", "max_mana") > 0.5 \
                    and self.do(HEALS[self.cls]):
                return
            self.stats.rests += 1
            self.do("rest")
        elif self.room.get("id") in self.looted:
            self.loot()
        elif self.buff():
            pass
        elif not self.attack():
            self.move()

    def fight(self, hp: float) -> None:
        if hp < FLEE_BELOW:
            if self.do("quaff potion"):
                return
            if self.cls in HEALS and self.do(HEALS[self.cls]):
                return
            self.do("flee")
            return
        if self.cls in HEALS and hp < 0.4 and self.do(HEALS[self.cls]):
            return
        self.first(FIGHT_MOVES.get(self.cls, ()))

    def buff(self) -> bool:
        """Cast a protective spell it knows and lacks (with mana to spare); True if it did."""
        if self.share("mana", "max_mana") < 0.5:
            return False
        for sid, line in BUFFS.get(self.cls, ()):
            if sid in self.ch.skills and sid not in self.effects and self.do(line):
                return True
        return False

    def loot(self) -> None:
        room_id = self.room.get("id", "")
        self.looted.discard(room_id)
        self.do("look")
        corpses = sum(1 for it in self.room.get("items", []) if it["keyword"] == "corpse")
        if corpses and self.do(f"get all from {corpses}.corpse"):
            self.do("wear all")

    def attack(self) -> bool:
        """Consider the mobs here and attack the best one it can beat; False if none."""
        self.do("look")
        if "safe" in self.room.get("flags", []):
            return False
        seen: dict[str, int] = {}
        options: list[tuple[float, str]] = []
        for c in self.room.get("characters", []):
            word = c["keyword"]
            seen[word] = seen.get(word, 0) + 1
            if c["kind"] != "mob" or c.get("fighting"):
                continue
            target = f"{seen[word]}.{word}"
            self.considered = []
            if not self.do(f"consider {target}") or not self.considered:
                continue
            con = self.considered[-1]
            if self.beatable(con) and con["xp"] > 0:
                options.append((con["xp"] / max(1, con["rounds_to_win"]), target))
        if not options:
            return False
        _, target = max(options)
        openers = [o.format(t=target) for o in OPENERS.get(self.cls, ())]
        return self.first([*openers, f"kill {target}"])

    def beatable(self, con: dict[str, Any]) -> bool:
        """Easy or fair by `consider`; or, as `consider` weighs melee only, a fight a caster
        can burn down with the mana it has while it lasts (it knows its spells' numbers)."""
        if con["verdict"] in BEATABLE:
            return True
        spell = self.best_spell()
        if spell is None:
            return False
        per_cast, mana = spell
        casts = math.ceil(con["target_hp"] / per_cast)
        return (casts * mana <= self.vitals.get("mana", 0)
                and con["rounds_to_lose"] > math.ceil(casts / ROUND_SECONDS) + 1)

    def best_spell(self) -> tuple[float, int] | None:
        """The average damage and mana of the best damage spell it knows, or None."""
        level = self.vitals.get("level", 1)
        best: tuple[float, int] | None = None
        for sid in self.ch.skills:
            spell = self.world.content.spells.get(sid)
            if spell is None or spell.kind != "damage" or spell.skill or not spell.dice:
                continue
            d = rules.parse_dice(spell.dice)
            per_cast = d.average + spell.per_level * level
            if best is None or per_cast / max(1, spell.mana) > best[0] / max(1, best[1]):
                best = (per_cast, spell.mana)
        return best

    def move(self) -> None:
        exits: dict[str, str] = self.room.get("exits", {})
        doors: dict[str, dict[str, Any]] = self.room.get("doors", {})
        ways = [(d, to) for d, to in exits.items()
                if not doors.get(d, {}).get("locked")]
        if not ways:
            return
        level = self.vitals.get("level", 1)

        now = self.world.time

        def avoid(room: str) -> bool:
            top, seen = self.danger.get(room, (0, 0))
            was, when = self.beaten.get(room, (0, 0))
            return (top >= level + DANGER_LEVELS and now - seen < AVOID_TICKS) or (
                was + BEATEN_LEVELS > level and now - when < AVOID_TICKS)

        def cost(way: tuple[str, str]) -> float:
            return (1000 if avoid(way[1]) else 0) + self.visits.get(way[1], 0) \
                + self.rng.random()

        direction, _ = min(ways, key=cost)
        if doors.get(direction, {}).get("closed"):
            self.do(f"open {direction}")
        if self.do(direction):
            self.stats.moves += 1


def simulate(content: Content, cls: str, level: int, max_ticks: int, seed: int = 1
             ) -> tuple[int | None, Stats, Player]:
    """Play one `cls` character from level 1 until `level` or `max_ticks`.

    Returns the tick it reached `level` (None: not within `max_ticks`), its stats and
    the player (whose `ch` is the character).
    """
    world = World(content, seed=seed)
    player = Player(world, "Sim", cls, seed)
    while world.time < max_ticks:
        world.tick()
        if world.time % DECIDE_EVERY == 0:
            player.read()
            player.decide()
            if player.ch.level >= level:
                return world.time, player.stats, player
    return None, player.stats, player


def hms(ticks: int | None) -> str:
    """Game time of `ticks` as h:mm:ss (or a dash)."""
    if ticks is None:
        return "-"
    s = ticks // TICKS_PER_SECOND
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


@dataclass(slots=True)
class Medians:
    """One class's careers over several seeds: the median of each figure, and the runs."""

    level_ticks: dict[int, int | None]  # level -> median tick reached (None: not by all)
    kills: float
    deaths: float
    flees: float
    wall: float
    runs: list[tuple[int | None, Stats, float]]  # (tick reached, stats, wall seconds) a seed


def medians(content: Content, cls: str, level: int, seeds: list[int], max_ticks: int
            ) -> Medians:
    """Play `cls` from level 1 to `level` once per seed; the medians (content/README.md's
    table is `python -m bench.balance --level 10 --seeds 1,2,3`, and
    tests/world/test_balance.py checks it against this)."""
    runs = []
    for seed in seeds:
        t0 = time.perf_counter()
        reached, stats, _ = simulate(content, cls, level, max_ticks, seed)
        runs.append((reached, stats, time.perf_counter() - t0))
    per_level: dict[int, int | None] = {}
    for n in range(2, level + 1):
        got = [s.level_ticks[n] for _, s, _ in runs if n in s.level_ticks]
        per_level[n] = int(statistics.median(got)) if len(got) == len(runs) else None
    return Medians(per_level, statistics.median(s.kills for _, s, _ in runs),
                   statistics.median(s.deaths for _, s, _ in runs),
                   statistics.median(s.flees for _, s, _ in runs),
                   statistics.median(w for _, _, w in runs), runs)


def main() -> None:
    """Run the simulation per class and seed; print a table of game times to each level."""
    from server.config import default_content_dir
    from server.host import content as content_loader

    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--level", type=int, default=10)
    parser.add_argument("--classes", default=",".join(CLASSES))
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--max-hours", type=float, default=8.0, help="game time cap")
    parser.add_argument("--json-out", type=Path, default=None)
    args = parser.parse_args()
    content = content_loader.load(default_content_dir())
    max_ticks = int(args.max_hours * 3600 * TICKS_PER_SECOND)
    seeds = [int(s) for s in args.seeds.split(",")]
    out: dict[str, Any] = {"level": args.level, "seeds": seeds, "classes": {}}
    print(f"game time to reach each level (h:mm:ss), median of seeds {seeds}")
    levels = list(range(2, args.level + 1))
    print(f"{'class':8}" + "".join(f"{'L' + str(n):>9}" for n in levels)
          + "   kills deaths flees  wall s")
    for cls in args.classes.split(","):
        m = medians(content, cls, args.level, seeds, max_ticks)
        print(f"{cls:8}" + "".join(f"{hms(m.level_ticks[n]):>9}" for n in levels)
              + f"   {m.kills:5.0f} {m.deaths:6.0f} {m.flees:5.0f} {m.wall:7.1f}")
        out["classes"][cls] = {
            "seconds_to_level": {str(n): None if t is None else t / TICKS_PER_SECOND
                                 for n, t in m.level_ticks.items()},
            "runs": [{"seed": seed, "reached_tick": r, "kills": s.kills, "deaths": s.deaths,
                      "flees": s.flees, "rests": s.rests, "commands": s.commands,
                      "level_ticks": s.level_ticks, "wall_s": round(w, 2)}
                     for seed, (r, s, w) in zip(seeds, m.runs, strict=True)],
        }
    if args.json_out is not None:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
