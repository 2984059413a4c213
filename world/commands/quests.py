"""Quests: `quest list`, `quest accept`, `quest status`, `quest complete`, `quest abandon`.

The rules (offers, progress, listeners for kills, pickups and deliveries) are in
world/systems/quests.py; this module is the command people and agents type.
"""

from __future__ import annotations

from typing import Annotated

from world.commands.registry import Text, Word, command
from world.entities import Character, Kind, Position
from world.errors import Code, Refused
from world.events import (
    GoldChanged,
    QuestAbandoned,
    QuestAccepted,
    QuestCompleted,
    QuestListed,
    QuestStatusShown,
)
from world.systems import progression
from world.systems import quests as q
from world.world import Ctx

ACTIONS = ("list", "accept", "status", "complete", "abandon")


@command("quest", aliases=("quests",), category="quests",
         examples=("quest", "quest list", "quest accept 1", "quest accept rats",
                   "quest status", "quest complete", "quest abandon rats"))
def quest(ctx: Ctx,
          action: Annotated[Word | None,
                            "list, accept, status, complete or abandon (list if empty)"] = None,
          which: Annotated[Text | None, "the quest: its number in the list, or its name"] = None,
          ) -> None:
    """Take on quests from quest givers, follow them, and claim the rewards.

    Usage:
      quest list               what the quest givers here offer you (the default)
      quest accept <n|name>    take on a quest (`quest accept 1`, `quest accept rats`)
      quest status             your quests and how far along you are
      quest complete [name]    claim the reward of finished quests from whoever
                               gave them (deliveries: from whoever receives them)
      quest abandon <name>     give a quest up (you may take it again later)

    Kill quests count the kills of your group in the room with you; collect quests
    count what you carry; deliver quests are done by giving the item to its
    receiver (`give parcel to smith`), or by `quest complete` in front of them.
    """
    verb = (action or "list").lower()
    match = next((a for a in ACTIONS if a.startswith(verb)), None)
    if match is None:
        raise Refused(Code.BAD_ARGS, "Usage: quest [list|accept|status|complete|abandon] "
                                     "[quest]")
    if match == "list":
        _list(ctx)
    elif match == "status":
        _status(ctx)
    elif match == "accept":
        _accept(ctx, which)
    elif match == "complete":
        _complete(ctx, which)
    else:
        _abandon(ctx, which)


def _busy(ctx: Ctx) -> None:
    if ctx.actor.position is Position.FIGHTING:
        raise Refused(Code.POSITION, "Not while you are fighting!")


def _list(ctx: Ctx) -> None:
    world, ch = ctx.world, ctx.actor
    offers = q.offers(world, ch)
    if not offers:
        raise Refused(Code.NO_QUEST_GIVER, "Nobody here has a quest for you.")
    rows = []
    for o in offers:
        state = ch.quests.get(o.quest_id, {}).get("state")
        rows.append({
            "n": o.n,
            "id": o.quest_id,
            "title": o.quest.name,
            "description": o.quest.description.strip(),
            "kind": o.quest.kind,
            "target": q.target_name(world, o.quest),
            "count": q.needed(o.quest),
            "to": q.mob_name(world, o.quest.to),
            "level": o.quest.level,
            "giver": o.giver.name,
            "reward": q.reward_data(world, o.quest),
            "state": "accepted" if state == q.ACCEPTED else
                     "too_low" if ch.level < o.quest.level else "available",
        })
    ctx.tell(QuestListed(rows))


def _pick_offer(offers: list[q.Offer], which: str) -> q.Offer | None:
    word = which.strip().lower()
    if word.isascii() and word.isdigit():
        n = int(word[:6])
        return next((o for o in offers if o.n == n), None)
    for o in offers:
        if o.quest_id == word or o.quest_id.split(":", 1)[-1] == word:
            return o
    for o in offers:
        name = o.quest.name.lower()
        if name.startswith(word) or any(part.startswith(word) for part in name.split()):
            return o
    return None


def _accept(ctx: Ctx, which: str | None) -> None:
    world, ch = ctx.world, ctx.actor
    if not which:
        raise Refused(Code.BAD_ARGS, "Accept which quest? (quest accept <number|name>)")
    _busy(ctx)
    offers = q.offers(world, ch)
    if not offers:
        raise Refused(Code.NO_QUEST_GIVER, "Nobody here has a quest for you.")
    offer = _pick_offer(offers, which)
    if offer is None:
        raise Refused(Code.NO_QUEST, f"Nobody here offers a quest '{which[:40]}'.")
    quest = offer.quest
    if ch.quests.get(offer.quest_id, {}).get("state") == q.ACCEPTED:
        raise Refused(Code.ALREADY, f"You are already on '{quest.name}'.")
    if ch.level < quest.level:
        raise Refused(Code.LEVEL_TOO_LOW,
                      f"'{quest.name}' is for level {quest.level} and up.")
    progress: dict[str, object] = {"state": q.ACCEPTED, "count": 0}
    given: str | None = None
    if quest.kind == "deliver" and not q.carried(ch, quest.target) \
            and quest.target in world.content.items:
        item = world.make_item(quest.target)
        ch.inventory.append(item)
        progress["given"] = True
        given = item.name
    ch.quests[offer.quest_id] = progress
    ctx.tell(QuestAccepted(
        quest=offer.quest_id, title=quest.name, description=quest.description.strip(),
        kind=quest.kind, target=q.target_name(world, quest), count=q.needed(quest),
        giver=offer.giver.name, to=q.mob_name(world, quest.to), given=given,
    ))


def _status(ctx: Ctx) -> None:
    world, ch = ctx.world, ctx.actor
    rows = []
    for qid in q.active(ch):
        quest = world.content.quests.get(qid)
        if quest is None:
            continue
        rows.append({
            "id": qid,
            "title": quest.name,
            "kind": quest.kind,
            "target": q.target_name(world, quest),
            "count": q.progress(world, ch, qid),
            "needed": q.needed(quest),
            "ready": q.ready(world, ch, qid),
            "turn_in": q.mob_name(world, q.turn_in_to(quest)),
        })
    done = [world.content.quests[qid].name for qid, p in ch.quests.items()
            if p.get("state") == q.DONE and qid in world.content.quests]
    ctx.tell(QuestStatusShown(rows, done))


def _find_active(ctx: Ctx, which: str) -> str | None:
    world, ch = ctx.world, ctx.actor
    word = which.strip().lower()
    mine = [qid for qid in q.active(ch) if qid in world.content.quests]
    if word.isascii() and word.isdigit():
        n = int(word[:6])
        return mine[n - 1] if 1 <= n <= len(mine) else None
    for qid in mine:
        if qid == word or qid.split(":", 1)[-1] == word:
            return qid
    for qid in mine:
        name = world.content.quests[qid].name.lower()
        if name.startswith(word) or any(part.startswith(word) for part in name.split()):
            return qid
    return None


def _receiver(ctx: Ctx, proto: str) -> Character | None:
    return next((c for c in ctx.room.characters
                 if c.kind is Kind.MOB and c.proto == proto), None)


def _complete(ctx: Ctx, which: str | None) -> None:
    world, ch = ctx.world, ctx.actor
    _busy(ctx)
    if which:
        qid = _find_active(ctx, which)
        if qid is None:
            raise Refused(Code.NO_QUEST, f"You are on no quest '{which[:40]}'.")
        candidates = [qid]
    else:
        candidates = q.active(ch)
    here = [qid for qid in candidates if qid in world.content.quests
            and _receiver(ctx, q.turn_in_to(world.content.quests[qid])) is not None]
    if not here:
        if which:
            quest = world.content.quests[candidates[0]]
            who = q.mob_name(world, q.turn_in_to(quest))
            raise Refused(Code.NO_QUEST_GIVER, f"Take '{quest.name}' back to {who}.")
        raise Refused(Code.NO_QUEST_GIVER, "Nobody here is waiting for you to finish a quest.")
    finished = [qid for qid in here if q.ready(world, ch, qid)]
    if not finished:
        quest = world.content.quests[here[0]]
        raise Refused(Code.NOT_READY, f"You have not finished '{quest.name}' yet.")
    for qid in finished:
        _finish(ctx, qid)


def _finish(ctx: Ctx, qid: str) -> None:
    world, ch = ctx.world, ctx.actor
    quest = world.content.quests[qid]
    receiver = _receiver(ctx, q.turn_in_to(quest))
    if quest.kind == "collect":
        for item in q.carried(ch, quest.target)[:quest.count]:
            ch.inventory.remove(item)
    elif quest.kind == "deliver" and q.progress(world, ch, qid) < 1:
        item = q.carried(ch, quest.target)[0]
        ch.inventory.remove(item)
        if receiver is not None:
            receiver.inventory.append(item)
    ch.quests[qid] = {"state": q.DONE}
    reward = quest.reward
    items = [world.make_item(i) for i in reward.items if i in world.content.items]
    ch.inventory.extend(items)
    ch.gold += reward.gold
    ctx.tell(QuestCompleted(qid, quest.name, q.reward_data(world, quest)))
    if reward.gold:
        ctx.tell(GoldChanged(reward.gold, ch.gold, "reward"))
    if reward.xp:
        progression.gain_xp(world, ch, reward.xp, "quest", qid, quest.name)


def _abandon(ctx: Ctx, which: str | None) -> None:
    world, ch = ctx.world, ctx.actor
    if not which:
        raise Refused(Code.BAD_ARGS, "Abandon which quest? (quest abandon <name>)")
    qid = _find_active(ctx, which)
    if qid is None:
        raise Refused(Code.NO_QUEST, f"You are on no quest '{which[:40]}'.")
    quest = world.content.quests[qid]
    if ch.quests[qid].get("given") and quest.kind == "deliver" \
            and q.progress(world, ch, qid) < 1:
        parcel = q.carried(ch, quest.target)
        if parcel:
            ch.inventory.remove(parcel[0])
    del ch.quests[qid]
    ctx.tell(QuestAbandoned(qid, quest.name))
