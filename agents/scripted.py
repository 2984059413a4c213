"""`ScriptedPolicy`: a baseline player without a model, built on the server's actions.

It never guesses commands: every action it takes is one of the admissible
actions of the last `observe` answer (docs/protocol.md), chosen by rules:

1. In a fight: drink a healing potion when low, flee when about to die (or early
   from a foe that `consider` called deadly), heal itself (clerics), else use a
   ready skill or spell on the foe; otherwise let the combat rounds run.
2. Asleep: wake. Resting: stand once healed, else wait (the only timer: a few
   seconds while resting; every event wakes it sooner).
3. Hurt or out of mana: walk away from a dangerous room, then rest.
4. Loot corpses, wear better gear, finish and take quests, sell what it does
   not use (never potions, nor what a quest asks for) and buy better gear and
   potions at a shop, pick things up.
5. Fight the best target here it can beat (`verdict` easy or fair, risky only at
   full health; XP per round of fighting; quest targets first), after resting
   to near full health. `verdict` counts the pack: mobs that would join in (the
   server's `joined_by`). Prey two or more levels below it (worth at most 60 % of
   its XP, by the game's scaling) is left for the players who need it, unless a
   quest wants it: in a shared world the first to level would otherwise take what
   the others live on.
6. Walk: to a quest's turn-in, to a shop with things to sell, to the nearest
   unexplored exit (in zones whose levels it has reached; two rooms deep into
   one a level above), to hunt where it saw prey it can beat (valued at its level
   now by the game's XP scaling, and by the chance that the zone has put its mobs
   back since it emptied the room, `respawn_wait`; less where other players hunt;
   each agent with its own seeded liking for rooms, so that several spread out),
   or to look again at rooms it saw empty more than a reset ago. With nothing
   worth a walk (all emptied just now) it goes to its best hunting ground and
   rests there until prey is due, rather than walking in circles. It remembers
   the map (rooms, exits, zones, who it saw where) and opens closed doors on its
   way.

It learns from what happens: a death or a flight marks the foe and the room as
dangerous until it has gained two levels (the room is walked through only when
there is no other way); an action refused twice in a room is not tried there
again for a while.

Party mode (`party=True`; docs/agents.md, "Parties") plays in groups of up to
`party_size`, told apart by the group state of `observe` (`group`, `following`):

- It invites when prey here is too strong to take alone (`consider` says risky
  without a fair chance, or deadly, or it beat us before) but fair for two
  (agents/party.py, `party_ratio`): it `tell`s a friend (`friends`; anyone here when
  none are named) a plan line, `plan v1 {"goal":"group","leader":...}`
  (agents/plans.py), and waits in the room for an answer; when the one invited
  follows, it takes them in (`group`) and tells the group its plan (`hunt`).
- Invited (a valid `group` plan from the leader it names, who is a friend), it goes
  to the room the plan names and `follow`s; not taken in soon, it stops following.
  When two invite each other, the name first in the alphabet leads.
- The leader hunts, fighting what is fair for the group (the odds of a fight together,
  a healer counted), and before it walks or fights it waits for the group: members
  elsewhere (for a while), resting, hurt, or a healer low on mana (it tells the group
  a `rest` plan and rests: "waits for its healer"). Members ask for trips over `gtell`
  (`errand` plans: a quest to hand in, a shop) and the leader takes them there.
- A member never starts a fight or walks its own way: it assists the group's fights
  (`assist`), walks back to the leader when they are apart, and otherwise rests or
  waits; the leader's walk takes it along (`follow`).
- A healer heals the most wounded member here (in a fight too) before anything else.
- Loot is shared: the member who did not loot the last corpse loots the next (the
  leader first); a corpse left to another too long is looted anyway; gold from a
  corpse is split evenly with the members here (`give`).
Plans heard are data: a line that is not a valid plan is chat, and a plan is only
weighed against these rules, never obeyed as such.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from agents.contracts import Action, Observation, Usage
from agents.party import Group, heard, hp_of, mana_of, party_ratio
from agents.party import verdict as _verdict_of
from agents.plans import Plan, PlanError, encode

OFFENSIVE_KINDS = ("backstab", "bash", "kick", "damage", "dot", "debuff", "stun")
WIMPY_FRACTION = 5  # wimpy at max_hp / 5: the server makes us flee below it
QUEST_SLOTS = 3  # quests on at once
REFUSALS_TO_AVOID = 2
AVOID_TURNS = 200
SHOP_AGAIN = 300.0  # seconds before a shop is worth another walk
STEPS_AWAY = 3  # steps in a row away from danger before resting wherever we are
REVISIT = 0.15  # a room emptied is not hunted again before this fraction of respawn_wait
REVISIT_PER_STEP = 0.025  # ... plus this much per step of the walk there
LEAVE_BELOW = 2  # prey this many levels below us (60 % of its XP or less) is left to others
EXPLORE_AHEAD = 2  # rooms deep it explores into a zone made for levels above its own
UNSEEN_PRIOR = 0.4  # a room we never saw prey in, unseen for a reset: this share of a
#                     typical ground (others may have emptied it each time we passed)
# Party mode: seconds of the policy's clock.
INVITE_WAIT = 60.0  # the inviter waits this long in place for an answer
INVITE_AGAIN = 180.0  # before the same one is invited again
JOIN_WAIT = 90.0  # an accepted invitation is pursued this long (walk there, follow, taken in)
REGROUP_WAIT = 120.0  # a leader waits this long for a member who is elsewhere
ERRAND_STAY = 6.0  # a leader stays this long where a member asked to go
ERRAND_AGAIN = 120.0  # before the same errand is asked for again
PLAN_AGAIN = 60.0  # between two `rest` plans told to the group
LOOT_PATIENCE = 3  # turns a corpse is left to the member whose turn it is
ANY_LEVEL = 99  # a member walks back to its leader through zones of any level
VERDICT_ORDER = ("easy", "fair", "risky", "deadly")


@dataclass(slots=True)
class Place:
    """A room as remembered."""

    id: str
    name: str = ""
    zone: str = ""
    exits: dict[str, str] = field(default_factory=dict)
    closed: set[str] = field(default_factory=set)  # directions with a closed door
    locked: set[str] = field(default_factory=set)
    visits: int = 0
    last_visit: int = 0
    safe: bool = False
    prey: list[tuple[str, int, str]] = field(default_factory=list)  # name, level, verdict
    prey_seen: int = 0  # turn
    # mob name -> (its level, its XP, the verdict of `consider`, our level then)
    spawns: dict[str, tuple[int, int, str, int]] = field(default_factory=dict)
    seen_at: float = 0.0  # clock time of the last visit
    empty_at: float = 0.0  # clock time we last saw it without prey we could take
    prey_at: float = 0.0  # clock time we last saw prey we could take here
    players: int = 0  # other players here when we last looked
    people: set[str] = field(default_factory=set)  # shopkeepers, quest givers... by name
    roles: set[str] = field(default_factory=set)


def kill_scale(member_level: int, victim_level: int) -> int:
    """The game's XP scaling for a kill by level difference, in percent (docs: +20 % per
    level the victim is above us, at most 200 %; -20 % per level below, at least 5 %)."""
    diff = victim_level - member_level
    return min(200, 100 + 20 * diff) if diff >= 0 else max(5, 100 + 20 * diff)


def _ratio(value: Any, top: Any) -> float:
    if not isinstance(value, int) or not isinstance(top, int) or top <= 0:
        return 1.0
    return value / top


class ScriptedPolicy:
    """The rules-based baseline (see the module docstring).

    Args:
        seed: seeds its own choices among equals.
        rest_below: rest when hit points fall below this fraction.
        fight_above: start a fight only above this fraction of hit points.
        flee_below: flee below this fraction (the server's wimpy is lower still).
        rest_wait: seconds to wait while resting, unless an event comes first.
        respawn_wait: seconds after which a room we emptied is likely full again (the
            zones here reset every 3 or 4 minutes).
        clock: seconds, for when things were seen (tests pass their own).
        party: play in groups (the module docstring's party mode).
        party_size: the most members a group it leads takes in, itself included.
        friends: the names it invites and accepts invitations from (None: anyone it
            meets: it invites players here, and accepts any invitation).
    """

    name = "scripted"

    def __init__(self, *, seed: int | None = None, rest_below: float = 0.5,
                 fight_above: float = 0.8, flee_below: float = 0.25,
                 rest_wait: float = 3.0, respawn_wait: float = 180.0,
                 clock: Callable[[], float] = time.monotonic, party: bool = False,
                 party_size: int = 2, friends: Iterable[str] | None = None) -> None:
        self.rng = random.Random(seed)
        self.clock = clock
        self.respawn_wait = respawn_wait
        self.rest_below = rest_below
        self.fight_above = fight_above
        self.flee_below = flee_below
        self.rest_wait = rest_wait
        self.map: dict[str, Place] = {}
        self.zone_levels: dict[str, tuple[int, int]] = {}
        self.danger: dict[str, int] = {}  # mob name -> our level when it beat us
        self.bad_rooms: dict[str, int] = {}  # room id -> our level when we died or fled there
        self.refused: dict[tuple[str, str], tuple[int, int]] = {}  # (room, line) -> (n, turn)
        self.turn = 0
        self.here = ""
        self.path: deque[str] = deque()  # directions still to walk
        self.goal = ""
        self.wake_after: float | None = None  # the runner's timer, while resting
        self.wimpy_level = 0
        self.shop_visit: dict[str, float] = {}  # shop room -> when we were last there
        self.unsold: set[str] = set()  # item names a shop we visited did not want
        self.gold_at_shop = 0  # our gold when we last left a shop
        self.blocked: dict[tuple[str, str], float] = {}  # (room, direction) -> when it failed
        self.givers_asked: dict[str, int] = {}  # quest givers' rooms -> our level when there
        self.has_key = False
        self.deaths = 0
        self.flights = 0
        self.kills = 0
        self.last_why = ""
        self._foe_verdict = ""
        self._likes: dict[str, float] = {}  # room -> this agent's liking for it (`_liking`)
        self.camp = ""  # the room where we wait for prey to come back
        self.idle_rest = False  # lying down only to wait for prey, not to heal
        self.waiting: tuple[str, float] = ("", 0.0)  # the room we wait in, since when
        self.prev_room = ""  # the room we came from
        self.steps_away = 0  # steps taken in a row to rest away from danger
        self.wait_why = ""  # why `decide` returned no action (for the logs)
        self.moved = False  # this observation is of another room than the last
        # Party mode (see the module docstring).
        self.party = party
        self.party_size = max(2, party_size)
        self.friends = None if friends is None else frozenset(f.lower() for f in friends)
        self.invited: dict[str, float] = {}  # name -> when we invited them
        self.invite_until = 0.0  # waiting in place for an answer until then
        self.invite_prey = ""  # the prey we invited someone for
        self.joining: tuple[str, str, float] | None = None  # (leader, room, since)
        self.announced = False  # told the group our hunt since it formed
        self.regroup_since = 0.0  # a member has been elsewhere since then
        self.errands: deque[str] = deque()  # rooms members asked the group to go to
        self.errand_at = 0.0  # when we reached the first errand's room
        self.said: dict[str, float] = {}  # what we last told, and when
        self.last_looter = ""  # the member who looted the last corpse
        self.loot_wait = 0  # turns we left a corpse to the one whose turn it is
        self.gold_due: list[tuple[str, int]] = []  # (member, gold we owe them)
        self.plans_heard: deque[tuple[str, Plan]] = deque(maxlen=20)  # (sender, plan)
        self.force = (1, False)  # (fighters here, a healer among them), this turn

    # ---- the Policy protocol -----------------------------------------------------------

    def usage(self) -> Usage:
        """No model, no tokens."""
        return Usage()

    async def decide(self, obs: Observation) -> Sequence[Action]:
        """The next action (or none: wait for the next event)."""
        self.turn += 1
        self.wake_after = None
        self.wait_why = ""
        self._learn(obs)
        act = self._choose(obs)
        if act is None:
            self.last_why = self.wait_why or "waiting"
            return []
        self.last_why = act.why
        return [act]

    # ---- learning ----------------------------------------------------------------------

    def _learn(self, obs: Observation) -> None:
        room = obs.room
        rid = str(room.get("id", ""))
        level = int(obs.vitals.get("level") or obs.character.get("level") or 1)
        for zid, z in obs.zones.items():
            levels = z.get("levels") if isinstance(z, dict) else None
            if isinstance(levels, list) and len(levels) == 2:
                self.zone_levels[zid] = (int(levels[0]), int(levels[1]))
        if rid:
            place = self.map.setdefault(rid, Place(rid))
            place.name = str(room.get("name", ""))
            place.zone = str(room.get("zone", ""))
            exits = room.get("exits") or {}
            place.exits = {str(d): str(to) for d, to in exits.items()}
            doors = room.get("doors") or {}
            place.closed = {d for d, door in doors.items() if door.get("closed")}
            place.locked = {d for d, door in doors.items() if door.get("locked")}
            place.safe = "safe" in (room.get("flags") or [])
            self.moved = rid != self.here
            if self.moved:
                place.visits += 1
                place.last_visit = self.turn
                self.prev_room = self.here
            place.seen_at = self.clock()
            self.here = rid
            prey = [(str(c.get("name")), int(c.get("level") or 0), str(c.get("verdict")))
                    for c in obs.characters if c.get("attackable") and c.get("kind") == "mob"]
            place.prey = prey
            place.prey_seen = self.turn
            wanted = self._wanted(obs)
            takeable = [c for c in obs.characters  # prey we would take (not what we leave)
                        if c.get("attackable") and c.get("kind") == "mob"
                        and not c.get("fighting") and str(c.get("name")) not in self.danger
                        and (c.get("verdict") in ("easy", "fair")
                             or c.get("verdict") == "risky" and int(c.get("level") or 0) <= level)
                        and not self._left(str(c.get("name")), int(c.get("level") or 0), level,
                                           wanted)]
            standing = (obs.vitals.get("position") or "standing") == "standing"
            if takeable:
                place.prey_at = place.seen_at
            elif standing:  # lying down we may not be told who we could attack
                place.empty_at = place.seen_at
            place.players = sum(1 for c in obs.characters if c.get("kind") == "player"
                                and c.get("name") != obs.name)
            for c in obs.characters:
                if c.get("attackable") and c.get("kind") == "mob" and not c.get("fighting"):
                    place.spawns[str(c.get("name"))] = (
                        int(c.get("level") or 0), int(c.get("xp") or 0),
                        str(c.get("verdict") or ""), level)
            for c in obs.characters:
                roles = set(c.get("roles") or [])
                if roles:
                    place.people.add(str(c.get("name")))
                    place.roles |= roles
            if "quest_giver" in place.roles:
                self.givers_asked[rid] = level  # what they offer at our level is in `actions`
            if "shopkeeper" in place.roles:
                self._at_shop(obs, rid)
        for ev in obs.events:
            what = ev.get("name")
            data = ev.get("data") or {}
            if what == "died" and data.get("actor") == obs.name:
                self.deaths += 1
                killer = data.get("killer")
                if killer:
                    self.danger[str(killer)] = level
                self.bad_rooms[str(data.get("room"))] = level
                self.path.clear()
            elif what == "died" and data.get("killer") == obs.name:
                self.kills += 1
            elif what == "fled" and data.get("actor") == obs.name and data.get("success"):
                self.flights += 1
                if obs.fighting is None and self._foe_verdict in ("risky", "deadly"):
                    # the room we ran from (the observation is of the one we ran to)
                    self.bad_rooms.setdefault(self.prev_room if self.moved else self.here,
                                              level)
                self.path.clear()
        for out in obs.outcomes:
            if not out.ok:
                key = (self.here, out.action.tool + repr(sorted(out.action.args.items())))
                n, _ = self.refused.get(key, (0, 0))
                self.refused[key] = (n + 1, self.turn)
                self.path.clear()
        # Forget dangers we have outgrown.
        self.has_key = any(it.get("type") == "key" for it in obs.inventory)
        self.danger = {k: v for k, v in self.danger.items() if level < v + 2}
        self.bad_rooms = {k: v for k, v in self.bad_rooms.items() if level < v + 2}

    def _avoided(self, a: dict[str, Any]) -> bool:
        key = (self.here, str(a.get("tool")) + repr(sorted((a.get("args") or {}).items())))
        n, when = self.refused.get(key, (0, 0))
        return n >= REFUSALS_TO_AVOID and self.turn - when < AVOID_TURNS

    # ---- choosing ----------------------------------------------------------------------

    def _choose(self, obs: Observation) -> Action | None:
        acts = [a for a in obs.actions if not self._avoided(a)]
        by_tool: dict[str, list[dict[str, Any]]] = {}
        for a in acts:
            by_tool.setdefault(str(a["tool"]), []).append(a)
        v = obs.vitals
        hp = _ratio(v.get("hp"), v.get("max_hp"))
        mana = _ratio(v.get("mana"), v.get("max_mana"))
        moves = _ratio(v.get("moves"), v.get("max_moves"))
        position = str(v.get("position") or obs.character.get("position") or "standing")
        level = int(v.get("level") or 1)
        group = Group.of(obs)
        if self.party:
            self._hear(obs, group)

        if position == "fighting" or obs.fighting:
            heal = self._heal_mate(obs, by_tool, group) if self.party and hp >= 0.4 else None
            return heal or self._fight(obs, by_tool, hp)
        self._foe_verdict = ""
        if position in ("sleeping", "resting"):
            if self.party and hp >= 0.5 and any(m.get("fighting") for m in group.mates_here()):
                return self._pick(by_tool, "stand") or self._pick(by_tool, "wake")
            if group.grouped and not group.leading and hp >= self.fight_above \
                    and mana >= 0.6 and moves >= 0.5:  # what the leader waits for
                return self._pick(by_tool, "stand") or self._pick(by_tool, "wake")
            if hp >= 0.95 and mana >= 0.9 and self._rested(obs, moves, level):
                self.idle_rest = False
                return self._pick(by_tool, "stand") or self._pick(by_tool, "wake")
            self.wake_after = self.rest_wait
            self.wait_why = f"{position} until rested"
            return None
        self.idle_rest = False
        max_hp = v.get("max_hp")
        if isinstance(max_hp, int) and self.wimpy_level != level and max_hp >= 10:
            self.wimpy_level = level
            return Action("wimpy", {"hp": max(1, max_hp // WIMPY_FRACTION)},
                          "flee on my own when nearly dead")
        caster = isinstance(v.get("max_mana"), int) and v["max_mana"] >= 20
        if self.party:
            act = self._party_turn(obs, by_tool, group, hp, level)
            if act is not None or self.wait_why:
                return act
        member = group.grouped and not group.leading
        if hp < self.rest_below or (caster and mana < 0.3) or moves < 0.15:
            if self._dangerous_here(obs) and not member:
                step = self._step_away(obs, by_tool)
                if step is not None:
                    return step
            heal = self._self_heal(by_tool)
            if heal is not None and hp < self.rest_below:
                return heal
            rest = self._recover(obs, by_tool)
            if rest is not None:
                return rest
        else:
            self.steps_away = 0
        for tool in ("get_corpse", "wield", "wear"):
            act = self._pick(by_tool, tool) if tool != "get_corpse" \
                else self._loot(by_tool, group)
            if act is not None:
                return act
        if self.wait_why:
            return None
        quest = self._quest(obs, by_tool)
        if quest is not None:
            return quest
        trade = self._trade(obs, by_tool)
        if trade is not None:
            return trade
        pick = self._pickup(obs, by_tool)
        if pick is not None:
            return pick
        if group.leading:
            held, act = self._hold(obs, by_tool, group)
            if held:
                return act
        target = None if member else self._target(obs, by_tool, hp, level, group)
        if target is not None:
            if hp >= self.fight_above and (not caster or mana >= 0.5):
                return target
            rest = self._recover(obs, by_tool)
            if rest is not None:
                return Action(rest.tool, rest.args, f"{rest.tool} before fighting "
                              + target.why.split(",")[0].split(": ")[-1])
        if hp < 0.7 or (caster and mana < 0.5):
            rest = self._recover(obs, by_tool)
            if rest is not None and not self._dangerous_here(obs):
                return rest
        if group.leading:  # where the weakest of the group may go
            level = min([level] + [int(m.get("level") or level) + 1 for m in group.mates()])
        return self._walk(obs, by_tool, level)

    def _rested(self, obs: Observation, moves: float, level: int) -> bool:
        """Whether to get up (hit points and mana being back): enough moves to walk, or,
        lying down only to wait for prey, full moves or prey to go to."""
        if not self.idle_rest:
            return moves >= 0.5
        if moves >= 0.9:
            return True
        place = self.map.get(self.here)
        wanted = self._wanted(obs)
        back = place is not None and any(  # the zone put back a mob worth taking, here
            c.get("kind") == "mob" and not c.get("roles") and not c.get("fighting")
            and str(c.get("name")) in place.spawns
            and self._mob_value(str(c.get("name")), place.spawns[str(c.get("name"))], level,
                                wanted) > 0
            for c in obs.characters)
        return moves >= 0.3 and (back or self._hunt(obs, level) is not None)

    @staticmethod
    def _act(a: dict[str, Any], why: str | None = None) -> Action:
        return Action(str(a["tool"]), dict(a.get("args") or {}), why or str(a.get("why", "")))

    def _pick(self, by_tool: dict[str, list[dict[str, Any]]], tool: str) -> Action | None:
        found = by_tool.get(tool)
        return self._act(found[0]) if found else None

    # ---- parties ------------------------------------------------------------------------

    def _hear(self, obs: Observation, group: Group) -> None:
        """Take in what the events since the last turn say of the party: who looted the
        last corpse, the gold we owe, the plans told to us (`heard`: valid plan lines
        only; the rest is chat)."""
        now = self.clock()
        if not group.grouped:
            self.announced = False
            self.errands.clear()
        self.force = self._party_force(group)
        names = group.names() | {obs.name}
        looted_gold = False
        for ev in obs.events:
            data = ev.get("data")
            if not isinstance(data, dict):
                continue
            what = ev.get("name")
            if what == "item_moved" and data.get("action") == "taken_from" \
                    and "corpse" in str(data.get("container")) and data.get("actor") in names:
                self.last_looter = str(data.get("actor"))
                looted_gold = looted_gold or (data.get("actor") == obs.name
                                              and data.get("keyword") == "gold")
            elif what == "gold_changed" and data.get("reason") == "got" and looted_gold:
                looted_gold = False
                mates = [str(m.get("name")) for m in group.mates_here()]
                share = int(data.get("amount") or 0) // (len(mates) + 1)
                self.gold_due += [(m, share) for m in mates if share > 0]
        for sender, channel, plan in heard(obs.events, obs.name):
            self.plans_heard.append((sender, plan))
            if channel == "tell" and plan.goal == "group" and plan.leader == sender:
                self._invited_by(obs, group, sender, plan.room, now)
            elif channel == "tell" and plan.goal == "leave":
                self.invited.pop(sender.lower(), None)
                if self.joining is not None and self.joining[0] == sender:
                    self.joining = None
            elif channel == "group" and plan.goal == "errand" and group.leading \
                    and plan.room not in self.errands and len(self.errands) < 4:
                self.errands.append(plan.room)

    def _invited_by(self, obs: Observation, group: Group, sender: str, room: str,
                    now: float) -> None:
        """An invitation: accepted (`joining`) from a friend, when in no group and not
        joining another; when we invited each other, the first name in the alphabet leads."""
        if self.friends is not None and sender.lower() not in self.friends:
            return
        if group.grouped or self.joining is not None or obs.character.get("following"):
            return
        mine = self.invited.get(sender.lower())
        if mine is not None and now - mine < INVITE_WAIT and obs.name.lower() < sender.lower():
            return  # they will take up ours
        self.invited.pop(sender.lower(), None)
        self.invite_until = 0.0
        self.joining = (sender, room, now)

    def _party_force(self, group: Group | None) -> tuple[int, bool]:
        """How many of us would fight here (ourselves and the members here, standing and
        above half their hit points), and whether a healer with mana is among them."""
        if group is None or not group.grouped:
            return 1, False
        able = [m for m in group.mates_here()
                if hp_of(m) >= 0.5 and m.get("position") in ("standing", "fighting")]
        names = {str(m.get("name")) for m in able} | {group.me}
        healer = any(mana_of(m) >= 0.3 for m in group.healers_here()
                     if str(m.get("name")) in names)
        return 1 + len(able), healer

    def _party_turn(self, obs: Observation, by_tool: dict[str, list[dict[str, Any]]],
                    group: Group, hp: float, level: int) -> Action | None:
        """Standing, out of a fight: what the party needs of us first (the module
        docstring). An action; or None with `wait_why` set: wait; or None: play on."""
        now = self.clock()
        following = str(obs.character.get("following") or "")
        if hp >= 0.3:
            assist = self._pick(by_tool, "assist")
            if assist is not None:
                return assist
        act = self._heal_mate(obs, by_tool, group) or self._pay(obs, group)
        if act is None and not following:
            act = self._take_in(obs, by_tool, group)
        if act is not None:
            return act
        if group.leading and not self.announced:
            self.announced = True
            told = self._gtell(Plan("hunt", prey=self.invite_prey, room=self.here),
                               "tell the group our plan")
            if told is not None:
                return told
        if following and not group.grouped:
            if self.joining is not None and now - self.joining[2] < JOIN_WAIT:
                return self._idle(obs, by_tool, f"wait for {following} to take us in")
            self.joining = None
            return Action("follow", {"who": "self"}, f"{following} did not take us in")
        if self.joining is not None and not group.grouped:
            return self._join(obs, by_tool, now)
        if not group.grouped:
            return self._invite(obs, level, now)
        if not group.leading:
            return self._errand(obs, level, now)
        return None

    def _heal_mate(self, obs: Observation, by_tool: dict[str, list[dict[str, Any]]],
                   group: Group) -> Action | None:
        """A healing spell on the most wounded member here (the server lists one only
        for those below three quarters of their hit points)."""
        if not group.grouped:
            return None
        best: tuple[float, dict[str, Any], str] | None = None
        for a in by_tool.get("cast", []):
            if "(heal" not in str(a.get("why")):
                continue
            who = self._name_of(obs, str((a.get("args") or {}).get("target") or ""))
            m = group.member(who)
            if m is None or who == group.me:
                continue
            if best is None or hp_of(m) < best[0]:
                best = (hp_of(m), a, who)
        if best is None:
            return None
        return self._act(best[1], f"heal {best[2]} ({round(best[0] * 100)}% hp)")

    def _pay(self, obs: Observation, group: Group) -> Action | None:
        """Hand a member here its share of the gold we took from a corpse."""
        if not group.grouped:
            self.gold_due.clear()
        here = {str(m.get("name")) for m in group.mates_here()}
        for n, (who, amount) in enumerate(self.gold_due):
            if who in here:
                del self.gold_due[n]
                amount = min(amount, int(obs.character.get("gold") or 0))
                if amount < 1:
                    return None
                return Action("give", {"item": f"{amount} gold", "to": self._word_of(obs, who)},
                              f"{who}'s share of the gold")
        return None

    def _take_in(self, obs: Observation, by_tool: dict[str, list[dict[str, Any]]],
                 group: Group) -> Action | None:
        """Take into our group the one we invited, who now follows us (room permitting)."""
        if group.grouped and len(group.members) >= self.party_size:
            return None
        for a in by_tool.get("group", []):
            who = self._name_of(obs, str((a.get("args") or {}).get("who") or ""))
            if who.lower() in self.invited:
                del self.invited[who.lower()]
                self.invite_until = 0.0
                return self._act(a, f"take {who} into the group")
        return None

    def _join(self, obs: Observation, by_tool: dict[str, list[dict[str, Any]]], now: float
              ) -> Action | None:
        """Answer an invitation we accepted: follow its leader here, or walk to the room
        it named; given up after `JOIN_WAIT`, or when we know no way there."""
        assert self.joining is not None
        leader, room, since = self.joining
        if now - since > JOIN_WAIT:
            self.joining = None
            return None
        if any(c.get("name") == leader for c in obs.characters):
            return Action("follow", {"who": self._word_of(obs, leader)},
                          f"join {leader}'s group")
        act = self._go_to(obs, by_tool, room, ANY_LEVEL, f"to {leader}, who invited us")
        if act is None:
            self.joining = None
        return act

    def _too_strong_alone(self, obs: Observation, c: dict[str, Any], level: int) -> bool:
        """Prey here we would not take alone (`consider` says deadly, or risky without a
        fair chance, or it beat us before) that two of us would take (fair or easy)."""
        if not c.get("attackable") or c.get("kind") != "mob" or c.get("fighting") \
                or c.get("roles"):
            return False
        name, lvl = str(c.get("name")), int(c.get("level") or 0)
        if self._left(name, lvl, level, self._wanted(obs)):
            return False
        said = str(c.get("verdict"))
        alone = said in ("easy", "fair") or (said == "risky" and self._fair_risk(c, 1.0, level))
        if alone and name not in self.danger:
            return False
        return _verdict_of(party_ratio(c, 2, False)) in ("easy", "fair")

    def _invite(self, obs: Observation, level: int, now: float) -> Action | None:
        """Invite a friend (else a player here) when prey here is too strong alone."""
        if now < self.invite_until:
            return None
        strong = [c for c in obs.characters if self._too_strong_alone(obs, c, level)]
        if not strong:
            return None
        if self.friends is not None:
            names = sorted(f for f in self.friends if f != obs.name.lower())
        else:
            names = [str(c.get("name")) for c in obs.characters
                     if c.get("kind") in ("player", "agent") and not c.get("fighting")]
        names = [n for n in names if now - self.invited.get(n.lower(), -1e9) > INVITE_AGAIN]
        if not names:
            return None
        prey = str(strong[0].get("name"))[:80]
        act = self._tell_plan(names[0], Plan("group", leader=obs.name, prey=prey,
                                             room=self.here),
                              f"invite {names[0]}: {prey} is too strong alone")
        if act is not None:
            self.invited[names[0].lower()] = now
            self.invite_until = now + INVITE_WAIT
            self.invite_prey = prey
        return act

    def _errand(self, obs: Observation, level: int, now: float) -> Action | None:
        """A member with somewhere to go (a quest to hand in, a shop) asks the group."""
        found = self._errand_plan(obs, level)
        if found is None:
            return None
        path, goal = found
        room = self._dest_of(path)
        key = f"errand {room}"
        if room == self.here or now - self.said.get(key, -1e9) < ERRAND_AGAIN:
            return None
        act = self._gtell(Plan("errand", who=obs.name, room=room), f"ask the group: {goal}")
        if act is not None:
            self.said[key] = now
        return act

    def _hold(self, obs: Observation, by_tool: dict[str, list[dict[str, Any]]], group: Group
              ) -> tuple[bool, Action | None]:
        """A leader, before it fights or walks on, waits for its group: members elsewhere
        (for `REGROUP_WAIT`), a healer low on mana (telling the group a `rest` plan),
        members resting or hurt. (True, what to do meanwhile) or (False, None)."""
        now = self.clock()
        away = [str(m.get("name")) for m in group.mates() if not m.get("here")]
        if away:
            self.regroup_since = self.regroup_since or now
            if now - self.regroup_since < REGROUP_WAIT:
                return True, self._idle(obs, by_tool, f"wait for {', '.join(away)} to come back")
            return False, None
        self.regroup_since = 0.0
        low = [str(m.get("name")) for m in group.healers_here(me_too=False) if mana_of(m) < 0.5]
        if low:
            if now - self.said.get("rest", -1e9) > PLAN_AGAIN:
                told = self._gtell(Plan("rest", who=low[0], until="mana"),
                                   f"wait for {low[0]}'s mana")
                if told is not None:
                    self.said["rest"] = now
                    return True, told
            return True, self._idle(obs, by_tool, f"wait for {low[0]}, our healer, "
                                                  "to get mana back")
        tired = [str(m.get("name")) for m in group.mates_here()
                 if m.get("position") in ("resting", "sleeping") or hp_of(m) < self.fight_above]
        if tired:
            return True, self._idle(obs, by_tool, f"wait for {', '.join(tired)} to rest")
        return False, None

    def _party_walk(self, obs: Observation, by_tool: dict[str, list[dict[str, Any]]],
                    level: int) -> tuple[bool, Action | None]:
        """Walking in party mode: a member keeps up with its leader (or waits where it
        is); an inviter waits for an answer; a leader goes where members asked first.
        (True, what to do) or (False, None): walk as alone."""
        group = Group.of(obs)
        now = self.clock()
        if group.grouped and not group.leading:
            leader = group.member(group.leader)
            if leader is None or leader.get("here"):
                return True, self._idle(obs, by_tool, f"with {group.leader}")
            act = self._go_to(obs, by_tool, str(leader.get("room")), ANY_LEVEL,
                              f"back to {group.leader}")
            return (True, act) if act is not None else (False, None)
        if not group.grouped and now < self.invite_until:
            return True, self._idle(obs, by_tool, "wait for an answer to our invitation")
        if group.leading and not self.path and self.errands:
            room = self.errands[0]
            if room == self.here:
                self.errand_at = self.errand_at or now
                if now - self.errand_at < ERRAND_STAY:
                    return True, self._idle(obs, by_tool, "wait while the group does an errand")
            else:
                act = self._go_to(obs, by_tool, room, level, f"errand to {room}")
                if act is not None:
                    return True, act
            self.errands.popleft()
            self.errand_at = 0.0
        return False, None

    def _go_to(self, obs: Observation, by_tool: dict[str, list[dict[str, Any]]], room: str,
               level: int, why: str) -> Action | None:
        """The first step (or door to open) on the way to `room`, even a room marked
        dangerous (a member is there); None if we are there or know no way."""
        if not room or room == self.here:
            return None
        step = next((path[0] for through_bad in (False, True)
                     for rid, path, _, _ in self._bfs(level, through_bad) if rid == room), None)
        if step is None:
            return None
        for a in by_tool.get("open", []) + by_tool.get("unlock", []):
            if (a.get("args") or {}).get("door") == step:
                return self._act(a, f"open the way {step} ({why})")
        for a in by_tool.get("go", []):
            if (a.get("args") or {}).get("direction") == step:
                return self._act(a, f"{why}: {a.get('why')}")
        return None

    def _idle(self, obs: Observation, by_tool: dict[str, list[dict[str, Any]]], why: str
              ) -> Action | None:
        """Wait for the party: rest if not quite whole (a member: if not as whole as its
        leader waits for), else do nothing for a while."""
        v = obs.vitals
        group = Group.of(obs)
        bars = (self.fight_above, 0.6, 0.5) if group.grouped and not group.leading \
            else (0.95, 0.9, 0.9)
        if _ratio(v.get("hp"), v.get("max_hp")) < bars[0] \
                or _ratio(v.get("mana"), v.get("max_mana")) < bars[1] \
                or _ratio(v.get("moves"), v.get("max_moves")) < bars[2]:
            rest = self._recover(obs, by_tool)
            if rest is not None:
                return Action(rest.tool, rest.args, f"{rest.tool}: {why}")
        self.wake_after = self.rest_wait
        self.wait_why = why
        return None

    @staticmethod
    def _gtell(plan: Plan, why: str) -> Action | None:
        try:
            return Action("gtell", {"text": encode(plan)}, why)
        except PlanError:
            return None

    @staticmethod
    def _tell_plan(who: str, plan: Plan, why: str) -> Action | None:
        try:
            return Action("tell", {"target": who, "text": encode(plan)}, why)
        except PlanError:
            return None

    @staticmethod
    def _name_of(obs: Observation, word: str) -> str:
        """The name of the one here whom `word` names (the word itself if no one)."""
        return next((str(c.get("name")) for c in obs.characters
                     if str(c.get("keyword")) == word), word)

    @staticmethod
    def _word_of(obs: Observation, name: str) -> str:
        """The word that names `name` here (the name itself if not here)."""
        return next((str(c.get("keyword")) for c in obs.characters
                     if c.get("name") == name and c.get("keyword")), name)

    # ---- fighting ----------------------------------------------------------------------

    def _fight(self, obs: Observation, by_tool: dict[str, list[dict[str, Any]]], hp: float
               ) -> Action | None:
        foe = next((c for c in obs.characters if c.get("name") == obs.fighting), None)
        verdict = str(foe.get("verdict", "")) if foe else ""
        if verdict:
            self._foe_verdict = verdict
        losing = foe is not None and foe.get("rounds_to_lose", 999) < foe.get("rounds_to_win", 0)
        if hp < 0.4:
            potion = self._pick(by_tool, "quaff")
            if potion is not None:
                return potion
            heal = self._self_heal(by_tool)
            if heal is not None:
                return heal
        if hp < self.flee_below or (hp < 0.5 and (verdict == "deadly" or losing)):
            flee = self._pick(by_tool, "flee")
            if flee is not None:
                return Action("flee", {}, f"flee: hp {round(hp * 100)}%, {verdict or 'losing'}")
        for a in by_tool.get("kick", []) + by_tool.get("bash", []):
            return self._act(a)
        for a in by_tool.get("cast", []):
            if any(f"({k}" in str(a.get("why")) for k in OFFENSIVE_KINDS):
                return self._act(a)
        self.wait_why = "the fight goes on"
        return None  # the rounds go on by themselves

    def _recover(self, obs: Observation, by_tool: dict[str, list[dict[str, Any]]]
                 ) -> Action | None:
        """Sleep (fastest) where no mob is about or the room is safe, else rest."""
        quiet = not any(c.get("kind") == "mob" and not c.get("roles") for c in obs.characters)
        safe = "safe" in (obs.room.get("flags") or [])
        if (quiet or safe) and self.here not in self.bad_rooms:
            sleep = self._pick(by_tool, "sleep")
            if sleep is not None:
                return sleep
        return self._pick(by_tool, "rest")

    def _self_heal(self, by_tool: dict[str, list[dict[str, Any]]]) -> Action | None:
        for a in by_tool.get("cast", []):
            why = str(a.get("why"))
            if "(heal" in why and "on yourself" in why:
                return self._act(a)
        return None

    def _dangerous_here(self, obs: Observation) -> bool:
        if self.here in self.bad_rooms:
            return True
        return any(c.get("attackable") and c.get("verdict") in ("risky", "deadly")
                   or str(c.get("name")) in self.danger for c in obs.characters
                   if c.get("kind") == "mob")

    def _step_away(self, obs: Observation, by_tool: dict[str, list[dict[str, Any]]]
                   ) -> Action | None:
        if self.steps_away >= STEPS_AWAY:
            return None  # danger all around (or prey that follows): rest where we are
        goes = by_tool.get("go", [])

        def risk(a: dict[str, Any]) -> tuple[bool, bool, bool, int]:
            dest = self._dest(a)
            place = self.map.get(dest, Place(""))
            threat = any(verdict in ("risky", "deadly") or name in self.danger
                         for name, _level, verdict in place.prey)
            return (dest in self.bad_rooms, threat and not place.safe,
                    dest == self.prev_room, -place.visits)

        choice = min(goes, key=risk, default=None)
        if choice is None:
            return None
        self.steps_away += 1
        return self._act(choice, "step away from danger to rest")

    def _dest(self, a: dict[str, Any]) -> str:
        place = self.map.get(self.here)
        direction = str((a.get("args") or {}).get("direction", ""))
        return place.exits.get(direction, "") if place else ""

    def _target(self, obs: Observation, by_tool: dict[str, list[dict[str, Any]]], hp: float,
                level: int, group: Group | None = None) -> Action | None:
        wanted = self._wanted(obs)
        best: tuple[float, dict[str, Any]] | None = None
        by_word = {str(c.get("keyword")): c for c in obs.characters}
        fighters, healer = self._party_force(group)
        for a in by_tool.get("kill", []):
            c = by_word.get(str((a.get("args") or {}).get("target")))
            if c is None or c.get("kind") != "mob":
                continue
            name = str(c.get("name"))
            verdict = str(c.get("verdict"))
            if fighters > 1:  # the odds of the group here, if better
                together = _verdict_of(party_ratio(c, fighters, healer))
                if VERDICT_ORDER.index(together) < VERDICT_ORDER.index(verdict):
                    verdict = together
            if (name in self.danger and verdict not in ("easy", "fair")) or c.get("fighting"):
                continue
            if self._left(name, int(c.get("level") or 0), level, wanted):
                continue  # small prey: left to the low-level players who live on it
            if verdict not in VERDICT_ORDER or verdict == "deadly" \
                    or (verdict == "risky" and not self._fair_risk(c, hp, level)):
                continue
            xp = float(c.get("xp") or 0)
            score = xp / max(1, int(c.get("rounds_to_win") or 1))
            if verdict == "easy":
                score *= 1.2
            if name in wanted:
                score *= 3
            if best is None or score > best[0]:
                best = (score, a)
        return self._act(best[1]) if best else None

    @staticmethod
    def _fair_risk(c: dict[str, Any], hp: float, level: int) -> bool:
        """A `risky` foe worth taking on: at full health, not above our level, or one level
        above when we would still outlast it by a fifth (`rounds_to_lose` against
        `rounds_to_win`); flight at a quarter of our hit points covers the rest."""
        if hp < 0.95:
            return False
        foe_level = int(c.get("level") or 0)
        if foe_level <= level:
            return True
        win, lose = c.get("rounds_to_win"), c.get("rounds_to_lose")
        return foe_level == level + 1 and isinstance(win, int) and isinstance(lose, int) \
            and win > 0 and lose >= 1.2 * win

    # ---- things, quests, shops ------------------------------------------------------------

    def _loot(self, by_tool: dict[str, list[dict[str, Any]]], group: Group | None = None
              ) -> Action | None:
        """Loot a corpse here; in a group with others here, only in our turn (the one who
        did not loot the last corpse; the leader first), or when the one whose turn it is
        has left it for `LOOT_PATIENCE` turns."""
        corpses = [a for a in by_tool.get("get", []) if (a.get("args") or {}).get("container")]
        if not corpses:
            self.loot_wait = 0
            return None
        if group is not None and group.mates_here():
            mine = self.last_looter != group.me if self.last_looter else group.leading
            if not mine and self.loot_wait < LOOT_PATIENCE:
                self.loot_wait += 1
                self.wake_after = self.rest_wait
                self.wait_why = "leave the corpse to the one whose turn it is"
                return None
        self.loot_wait = 0
        return self._act(corpses[0])

    def _pickup(self, obs: Observation, by_tool: dict[str, list[dict[str, Any]]]
                ) -> Action | None:
        count = int(obs.character.get("count") or 0)
        room_for = int(obs.character.get("max_count") or 10) - count
        if room_for <= 3:
            return None
        for a in by_tool.get("get", []):
            if not (a.get("args") or {}).get("container") \
                    and not any(name in str(a.get("why")) for name in self.unsold):
                return self._act(a)
        return None

    def _quest(self, obs: Observation, by_tool: dict[str, list[dict[str, Any]]]
               ) -> Action | None:
        quests = by_tool.get("quest", [])
        for a in quests:
            if (a.get("args") or {}).get("action") == "complete":
                return self._act(a)
        active = sum(1 for q in obs.quests if q.get("state") == "accepted")
        if active < QUEST_SLOTS:
            for a in quests:
                if (a.get("args") or {}).get("action") == "accept":
                    return self._act(a)
        return None

    def _sellable(self, obs: Observation) -> list[dict[str, Any]]:
        """Carried things worth selling: not potions, keys, bags or food, not worthless,
        not what a quest asks for, and not what a shop already turned down."""
        keep = self._quest_items(obs)
        return [it for it in obs.inventory
                if it.get("type") not in ("potion", "key", "container", "food", "drink")
                and it.get("value", 0) and not it.get("owner")
                and str(it.get("name")) not in self.unsold | keep]

    @staticmethod
    def _quest_items(obs: Observation) -> set[str]:
        """The names of the things our open quests ask us to bring or deliver."""
        return {str(q.get("target")) for q in obs.quests
                if q.get("state") == "accepted" and q.get("kind") in ("collect", "deliver")}

    def _at_shop(self, obs: Observation, rid: str) -> None:
        """In a shop: remember the visit, and what it would not buy (so that we do not
        walk from shop to shop with it)."""
        self.shop_visit[rid] = self.clock()
        self.gold_at_shop = int(obs.character.get("gold") or 0)
        offered = {str((a.get("args") or {}).get("item")) for a in obs.actions
                   if a.get("tool") == "sell"}
        for it in self._sellable(obs):
            if str(it.get("keyword")) not in offered:
                self.unsold.add(str(it.get("name")))

    def _trade(self, obs: Observation, by_tool: dict[str, list[dict[str, Any]]]
               ) -> Action | None:
        """Sell what we do not use (never an upgrade, a potion, or what a quest needs:
        the server's `why` says so), then buy what the shop offers as worth it."""
        keep = self._quest_items(obs) | {str(it.get("name")) for it in obs.inventory
                                         if it.get("type") == "potion"}
        for a in by_tool.get("sell", []):
            why = str(a.get("why"))
            if "upgrade" in why or "your quest" in why \
                    or any(why.endswith(f" for {name}") for name in keep):
                continue
            return self._act(a)
        for a in by_tool.get("buy", []):
            return self._act(a)
        return None

    # ---- walking ---------------------------------------------------------------------------

    def _zone_ok(self, zone: str, level: int) -> bool:
        """Zones up to one level above ours are walked into; `consider` picks the fights."""
        levels = self.zone_levels.get(zone)
        return levels is None or levels[0] <= level + 1

    def _above(self, rid: str, level: int) -> bool:
        """Whether `rid` is in a zone made for levels above ours."""
        levels = self.zone_levels.get(rid.split(":", 1)[0])
        return levels is not None and levels[0] > level

    def _room_ok(self, rid: str, level: int, through_bad: bool = False) -> bool:
        return (through_bad or rid not in self.bad_rooms) \
            and self._zone_ok(rid.split(":", 1)[0], level)

    def _walk(self, obs: Observation, by_tool: dict[str, list[dict[str, Any]]], level: int
              ) -> Action | None:
        goes = {str((a.get("args") or {}).get("direction")): a for a in by_tool.get("go", [])}
        opens = {str((a.get("args") or {}).get("door")): a
                 for a in by_tool.get("open", []) + by_tool.get("unlock", [])}
        if self.party:
            held, act = self._party_walk(obs, by_tool, level)
            if held:
                return act
        if not self.path:
            self.path, self.goal = self._plan(obs, level)
        if self.path:
            step = self.path[0]
            if step in opens:
                return self._act(opens[step], f"open the way {step} ({self.goal})")
            if step in goes:
                self.path.popleft()
                return self._act(goes[step], f"{self.goal}: {goes[step]['why']}")
            self.blocked[(self.here, step)] = self.clock()  # locked without our key, or tired
            self.path.clear()
        # Nothing worth walking to now: prey comes back with the zone's reset. Walk to the
        # best hunting ground we know and wait there, rested (walking in circles only
        # spends moves); knowing none, take a random way out.
        camp = self._camp(obs, level)
        if camp is not None:
            self.path, self.goal = camp
            step = self.path.popleft()
            if step in goes:
                return self._act(goes[step], f"{self.goal}: {goes[step]['why']}")
            self.path.clear()
        now = self.clock()
        if self.waiting[0] != self.here:
            self.waiting = (self.here, now)
        place = self.map.get(self.here, Place(""))
        if self.here in self.bad_rooms or not place.spawns \
                or now - max(self.waiting[1], place.prey_at) > self.respawn_wait:
            # Waited here longer than a reset takes (its prey lives on elsewhere, or
            # others take it first): look around instead.
            self.waiting = ("", now)
            options = [a for a in goes.values() if self._room_ok(self._dest(a), level)] \
                or list(goes.values())  # a dead end: out the way we came, bad or not
            if options:
                a = self.rng.choice(options)
                return self._act(a, f"wander: {a['why']}")
        v = obs.vitals
        if _ratio(v.get("moves"), v.get("max_moves")) < 0.9 \
                or _ratio(v.get("hp"), v.get("max_hp")) < 0.95:
            rest = self._recover(obs, by_tool)
            if rest is not None:
                self.idle_rest = True
                return Action(rest.tool, rest.args, f"{rest.tool} while prey comes back")
        self.wake_after = self.rest_wait * 2
        now = self.clock()
        self.wait_why = (f"wait for prey at {place.name or self.here}: "
                         f"{len(self._paths(level))} rooms to walk to, "
                         f"{sum(now - t < 300 for t in self.blocked.values())} ways blocked")
        return None

    def _plan(self, obs: Observation, level: int) -> tuple[deque[str], str]:
        """A path to the most useful place, and why."""
        errand = self._errand_plan(obs, level)
        if errand is not None:
            return errand
        # Into a zone above our level, only its first rooms: level-1 explorers who went
        # deep into the Greenwood met its aggressive spiders and bandits, and died.
        path = self._path_to(lambda p: p.id not in self.map or p.visits == 0, level,
                             unknown_ok=True, ahead=EXPLORE_AHEAD)
        if path is not None:
            return path, "explore"
        hunt = self._hunt(obs, level)
        if hunt is not None:
            return hunt
        return deque(), ""

    def _errand_plan(self, obs: Observation, level: int) -> tuple[deque[str], str] | None:
        """A path to a quest's turn-in, to a quest giver, or to a shop, and why; None if
        none is due."""
        ready = [q for q in obs.quests if q.get("state") == "accepted" and q.get("ready")]
        for q in ready:
            who = str(q.get("turn_in"))
            path = self._path_to(lambda p, who=who: who in p.people, level)
            if path is not None:
                return path, f"back to {who} with '{q.get('title')}'"
        active = sum(1 for q in obs.quests if q.get("state") == "accepted")
        if active < QUEST_SLOTS:  # new quests may be on offer since we gained a level
            path = self._path_to(lambda p: "quest_giver" in p.roles
                                 and self.givers_asked.get(p.id, 0) < level, level)
            if path is not None:
                return path, "to a quest giver"
        sell = len(self._sellable(obs))
        count = int(obs.character.get("count") or 0)
        max_count = int(obs.character.get("max_count") or 10)
        gold = int(obs.character.get("gold") or 0)
        now = self.clock()
        if sell >= 4 or (sell and count >= max_count - 3) or gold >= self.gold_at_shop + 60:
            path = self._path_to(lambda p: "shopkeeper" in p.roles
                                 and now - self.shop_visit.get(p.id, -1e9) > SHOP_AGAIN, level)
            if path is not None:
                return path, "to a shop"
        return None

    def _prey_value(self, place: Place, level: int, wanted: set[str]) -> float:
        """The XP this room's mobs (as seen before) are worth to us now, if we can beat
        them: what `consider` said then, rescaled from our level then to our level now
        by the game's rule (+-20 % per level of difference; see `kill_scale`)."""
        return sum(self._mob_value(name, seen, level, wanted)
                   for name, seen in place.spawns.items())

    @staticmethod
    def _left(name: str, mob_level: int, level: int, wanted: set[str]) -> bool:
        """Prey far below us that we leave to those who need it (unless a quest wants it)."""
        return name not in wanted and mob_level <= level - LEAVE_BELOW

    def _mob_value(self, name: str, seen: tuple[int, int, str, int], level: int,
                   wanted: set[str]) -> float:
        """What one mob, as seen (its level, its XP, the verdict, our level then), is
        worth to us now: 0 if we cannot beat it or leave it to others."""
        lvl, xp, verdict, then = seen
        if name in self.danger or self._left(name, lvl, level, wanted):
            return 0.0
        beatable = verdict in ("easy", "fair") or (verdict == "risky" and level > then) \
            or (verdict == "deadly" and level >= then + 2) \
            or (verdict == "risky" and self.force[0] > 1)  # a group takes what is risky alone
        if not beatable:
            return 0.0
        return xp * kill_scale(level, lvl) / kill_scale(then, lvl) * (3 if name in wanted else 1)

    def _liking(self, rid: str) -> float:
        """A fixed preference of this agent for a room, 0.75..1.25 (seeded): agents that
        know the same map do not all pick the same hunting ground."""
        like = self._likes.get(rid)
        if like is None:
            like = self._likes[rid] = 0.75 + 0.5 * self.rng.random()
        return like

    def _ground_value(self, place: Place, level: int, wanted: set[str]) -> float:
        """What a room is worth as a hunting ground, whatever is there right now."""
        value = self._prey_value(place, level, wanted) * self._liking(place.id)
        if place.players:
            value /= 1 + place.players  # they take their share of what comes back
        return value

    def _hunt(self, obs: Observation, level: int) -> tuple[deque[str], str] | None:
        """The best room to hunt in now: prey seen there lately, or a room seen empty,
        valued by the chance that its zone has put its mobs back since (`respawn_wait`;
        never one emptied in the last `REVISIT` of it, more the farther it is: a long
        walk on a poor chance is what sent agents to and fro), for the most XP per step
        (a fight takes about as long as ten steps). Walking the rounds finds prey the
        zone put back sooner than waiting in one room (measured: waiting did worse);
        rooms where we never saw prey count too, for less (`UNSEEN_PRIOR`), once unseen
        for a reset."""
        wanted = self._wanted(obs)
        now = self.clock()
        paths = self._paths(level)
        known = sorted(v for v in (self._ground_value(self.map[rid], level, wanted)
                                   for rid in paths) if v > 0)
        typical = known[len(known) // 2] if known else 0.0
        best: tuple[float, deque[str], str] | None = None
        for rid, path in paths.items():
            place = self.map[rid]
            value = self._ground_value(place, level, wanted)
            if value <= 0:
                # Never saw prey here that we could take. Others may have emptied it
                # each time we passed, so once unseen for a reset it is worth a look
                # (agents that came late to a shared world knew one room, and camped).
                if place.safe or place.people or not typical \
                        or now - place.seen_at < self.respawn_wait:
                    continue
                value = typical * UNSEEN_PRIOR * self._liking(rid)
            elif place.prey_at > place.empty_at:  # prey was there: maybe still is
                value *= max(0.3, 1.0 - (now - place.prey_at) / self.respawn_wait)
            else:
                back = (now - place.empty_at) / self.respawn_wait if place.empty_at else 1.0
                if back < REVISIT + REVISIT_PER_STEP * len(path):
                    continue  # emptied lately: not likely back yet, for so long a walk
                value *= min(1.0, back)
            score = value / (len(path) + 10)
            if best is None or score > best[0]:
                best = (score, path, place.name or rid)
        if best is None:
            return None
        return best[1], f"hunt at {best[2]}"

    def _camp(self, obs: Observation, level: int) -> tuple[deque[str], str] | None:
        """Where to wait for prey to come back: the best hunting ground we may walk to
        (kept unless another is much better). None: we are there, or know none."""
        wanted = self._wanted(obs)
        here = self.map.get(self.here)
        best_value = self._ground_value(here, level, wanted) if here else 0.0
        best: tuple[float, deque[str], str] | None = None
        for rid, path in self._paths(level).items():
            place = self.map[rid]
            value = self._ground_value(place, level, wanted) / (1 + len(path) / 20)
            if rid == self.camp:
                value *= 1.5
            if value > best_value * 1.2 and (best is None or value > best[0]):
                best = (value, path, place.name or rid)
        if best is None:
            self.camp = self.here if best_value > 0 else self.camp
            return None
        self.camp = self._dest_of(best[1])
        return best[1], f"wait for prey at {best[2]}"

    def _dest_of(self, path: deque[str]) -> str:
        """The room at the end of `path` from here, on the remembered map."""
        rid = self.here
        for d in path:
            place = self.map.get(rid)
            if place is None:
                return rid
            rid = place.exits.get(d, rid)
        return rid

    def _wanted(self, obs: Observation) -> set[str]:
        return {str(q.get("target")) for q in obs.quests
                if q.get("state") == "accepted" and q.get("kind") == "kill"
                and not q.get("ready")}

    def _passable(self, rid: str, direction: str) -> bool:
        """Whether a way may be planned through: not failed lately; a locked door only
        when we carry a key (the right one, we hope: if not, the way is marked failed)."""
        failed = self.blocked.get((rid, direction))
        if failed is not None and self.clock() - failed < 300:
            return False
        place = self.map.get(rid)
        return place is None or direction not in place.locked or self.has_key

    def _paths(self, level: int) -> dict[str, deque[str]]:
        """Shortest known paths from here to every remembered room we may walk to. Rooms
        marked dangerous are never a destination, and are walked through only to rooms
        there is no other way to (a dead end behind one: agents waited there for good)."""
        out = self._reach(level, through_bad=False)
        for rid, path in self._reach(level, through_bad=True).items():
            if rid not in out and rid not in self.bad_rooms:
                out[rid] = path  # only through a dangerous room
        return out

    def _reach(self, level: int, through_bad: bool) -> dict[str, deque[str]]:
        return {rid: deque(path) for rid, path, place, ok in self._bfs(level, through_bad)
                if ok and place is not None}

    def _bfs(self, level: int, through_bad: bool, ahead: int | None = None
             ) -> Iterator[tuple[str, list[str], Place | None, bool]]:
        """The rooms reachable from here on the remembered map, nearest first: (room, the
        way there, what we know of it (None: never visited, so not walked through),
        whether it may be a destination). Rooms marked dangerous only `through_bad`;
        rooms of a zone above our level only on the way out of the one we are in
        (`_way_out`), and with `ahead`, at most that many rooms deep into such zones."""
        start = self.here
        seen = {start}
        first: tuple[str, list[str], int] = (start, [], int(self._above(start, level)))
        queue = deque([first])  # (room, the way there, rooms deep into zones above us)
        while queue:
            rid, path, deep = queue.popleft()
            place = self.map.get(rid)
            if place is None:
                continue
            for d, to in self._exits(place):
                if to in seen or not self._passable(rid, d):
                    continue
                ok = self._room_ok(to, level, through_bad)
                if not ok and not self._way_out(to, through_bad):
                    continue
                deeper = deep + self._above(to, level)
                if ahead is not None and deeper > ahead:
                    continue
                seen.add(to)
                nxt = self.map.get(to)
                yield to, path + [d], nxt, ok
                if nxt is not None:
                    queue.append((to, path + [d], deeper))

    def _way_out(self, rid: str, through_bad: bool) -> bool:
        """A room of a zone above our level, in the zone we are in (we fled into it, or
        were carried): walked through on the way out, never a destination."""
        return rid.split(":", 1)[0] == self.here.split(":", 1)[0] \
            and (through_bad or rid not in self.bad_rooms)

    def _exits(self, place: Place) -> list[tuple[str, str]]:
        """A room's exits in this agent's own fixed order (seeded): agents exploring the
        same map from the same square do not all walk the same way first."""
        return sorted(place.exits.items(), key=lambda e: self._liking(f"{place.id}>{e[0]}"))

    def _path_to(self, goal: Any, level: int, unknown_ok: bool = False,
                 ahead: int | None = None) -> deque[str] | None:
        """Breadth-first over the remembered map to the nearest room where `goal(place)`;
        rooms not yet visited are entered but not walked through, rooms marked dangerous
        only when there is no other way; with `ahead`, at most that many rooms deep into
        zones above our level."""
        found = self._search(goal, level, unknown_ok, False, ahead)
        if found is None:
            found = self._search(lambda p: p.id not in self.bad_rooms and goal(p), level,
                                 unknown_ok, True, ahead)
        return found

    def _search(self, goal: Any, level: int, unknown_ok: bool, through_bad: bool,
                ahead: int | None) -> deque[str] | None:
        for rid, path, place, ok in self._bfs(level, through_bad, ahead):
            if ok and (goal(place) if place is not None else unknown_ok and goal(Place(rid))):
                return deque(path)
        return None
