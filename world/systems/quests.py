"""Quest rules: who offers what, progress, completion and rewards.

A quest (`QuestModel` in content) is offered by a giver mob (by prototype) and
has a kind:
- `kill`: kill `count` mobs of prototype `target`. Progress is counted by a
  listener on the `Killed` signal, for the killer and the members of the
  killer's group standing in the room (world/systems/groups.py).
- `collect`: carry `count` items of prototype `target` back to the giver; they
  are counted from the inventory (progress is announced when one is picked up,
  on the `ItemTaken` signal) and taken at completion.
- `deliver`: bring the item `target` to the mob `to`. The giver hands one over on
  `accept` if you carry none. Giving it to the `to` mob (`ItemGiven` signal)
  delivers it; so does `quest complete` in front of that mob while carrying it.

A character's progress lives in `ch.quests[quest_id]`, plain data saved with it:
`{"state": "accepted", "count": n}` while under way (`given: true` when the
giver handed over a deliver item), `{"state": "done"}` afterwards. The commands
are in world/commands/quests.py; this module holds the rules they share with
the listeners.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from world.entities import Character, Item, Kind
from world.events import ItemGiven, ItemTaken, Killed, QuestProgressed
from world.prototypes import QuestModel
from world.systems import groups
from world.systems.registry import listens

if TYPE_CHECKING:
    from world.world import World

ACCEPTED = "accepted"
DONE = "done"


@dataclass(frozen=True, slots=True)
class Offer:
    """A quest offered by a giver standing in the room."""

    n: int  # its number in `quest list` (1-based)
    quest_id: str
    quest: QuestModel
    giver: Character


def title(world: World, quest_id: str) -> str:
    """The quest's name."""
    return world.content.quests[quest_id].name


def target_name(world: World, quest: QuestModel) -> str:
    """What the quest is about, as it reads: a mob's name (kill) or an item's (others)."""
    if quest.kind == "kill":
        mob = world.content.mobs.get(quest.target)
        return mob.name if mob is not None else quest.target
    item = world.content.items.get(quest.target)
    return item.name if item is not None else quest.target


def mob_name(world: World, proto: str | None) -> str | None:
    """A mob prototype's name."""
    if proto is None:
        return None
    mob = world.content.mobs.get(proto)
    return mob.name if mob is not None else proto


def offers(world: World, ch: Character) -> list[Offer]:
    """The quests offered by the givers in `ch`'s room (not those `ch` has finished)."""
    room = world.rooms[ch.room]
    out: list[Offer] = []
    seen: set[str] = set()
    for mob in room.characters:
        if mob.kind is not Kind.MOB or mob.proto is None or mob.proto in seen:
            continue
        seen.add(mob.proto)
        for qid, quest in world.content.quests.items():
            if quest.giver != mob.proto:
                continue
            if ch.quests.get(qid, {}).get("state") == DONE:
                continue
            out.append(Offer(len(out) + 1, qid, quest, mob))
    return out


def active(ch: Character) -> list[str]:
    """The ids of the quests `ch` has accepted and not finished, in the order accepted."""
    return [qid for qid, p in ch.quests.items() if p.get("state") == ACCEPTED]


def carried(ch: Character, proto: str) -> list[Item]:
    """The items of prototype `proto` in `ch`'s inventory (not inside containers)."""
    return [it for it in ch.inventory if it.proto == proto]


def progress(world: World, ch: Character, quest_id: str) -> int:
    """How far `ch` is with a quest: kills, items carried, or 1 once delivered."""
    quest = world.content.quests[quest_id]
    if quest.kind == "collect":
        return min(quest.count, len(carried(ch, quest.target)))
    count = ch.quests.get(quest_id, {}).get("count", 0)
    return count if isinstance(count, int) else 0


def needed(quest: QuestModel) -> int:
    """The progress that finishes a quest."""
    return 1 if quest.kind == "deliver" else quest.count


def turn_in_to(quest: QuestModel) -> str:
    """The mob prototype a quest is completed in front of."""
    return quest.to if quest.kind == "deliver" and quest.to else quest.giver


def ready(world: World, ch: Character, quest_id: str) -> bool:
    """Whether `ch` can complete the quest now (wherever `ch` is)."""
    quest = world.content.quests[quest_id]
    if quest.kind == "deliver":
        return progress(world, ch, quest_id) >= 1 or bool(carried(ch, quest.target))
    return progress(world, ch, quest_id) >= quest.count


def reward_data(world: World, quest: QuestModel) -> dict[str, Any]:
    """A quest's reward as plain data for events."""
    return {"xp": quest.reward.xp, "gold": quest.reward.gold,
            "items": [world.content.items[i].name for i in quest.reward.items
                      if i in world.content.items]}


def _advance(world: World, ch: Character, quest_id: str, count: int) -> None:
    quest = world.content.quests[quest_id]
    count = min(count, needed(quest))
    ch.quests[quest_id]["count"] = count
    world.emit_to(ch, QuestProgressed(quest_id, quest.name, count, needed(quest)))


# ---- listeners ---------------------------------------------------------------------


@listens(Killed)
def count_kill(world: World, event: Killed) -> None:
    """A mob died: count it for the kill quests of its killer and the killer's group here."""
    victim = event.victim
    killer = event.killer
    if not isinstance(victim, Character) or not isinstance(killer, Character):
        return
    if victim.proto is None or killer.is_mob or event.room not in world.rooms:
        return
    for ch in groups.members_in_room(world, killer, event.room):
        if ch.is_mob:
            continue
        for qid in active(ch):
            quest = world.content.quests.get(qid)
            if quest is None or quest.kind != "kill" or quest.target != victim.proto:
                continue
            done = progress(world, ch, qid)
            if done < quest.count:
                _advance(world, ch, qid, done + 1)


@listens(ItemTaken)
def count_pickup(world: World, event: ItemTaken) -> None:
    """Someone picked up an item: announce collect-quest progress."""
    taker = event.taker
    item = event.item
    if not isinstance(taker, Character) or not isinstance(item, Item) or taker.is_mob:
        return
    for qid in active(taker):
        quest = world.content.quests.get(qid)
        if quest is None or quest.kind != "collect" or quest.target != item.proto:
            continue
        have = len(carried(taker, quest.target))
        if have <= quest.count:
            _advance(world, taker, qid, have)


@listens(ItemGiven)
def count_delivery(world: World, event: ItemGiven) -> None:
    """Someone gave an item to a mob: a delivery, if a deliver quest asked for it."""
    giver = event.giver
    receiver = event.receiver
    item = event.item
    if not isinstance(giver, Character) or not isinstance(receiver, Character) \
            or not isinstance(item, Item) or giver.is_mob:
        return
    for qid in active(giver):
        quest = world.content.quests.get(qid)
        if quest is None or quest.kind != "deliver" or quest.target != item.proto:
            continue
        if receiver.proto != quest.to or progress(world, giver, qid) >= 1:
            continue
        _advance(world, giver, qid, 1)
        return
