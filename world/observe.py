"""Observations: everything a character knows now, and the actions that make sense here.

Pure functions over a `World` and a `Character` that return plain data (maps,
lists, strings, numbers) for the server's `observe` answer (docs/protocol.md):

- `observe(world, ch)` is the full snapshot: the character sheet, the room as the
  `room` event shows it, vitals, inventory, equipment, effects, quests, skills,
  the characters here (with what `consider` would say of those one may attack),
  the zones here and next door (name, levels), the group one is in (`group`:
  its leader and each member's state, where it is and whom it fights; None when in
  none), and `actions`.
- `actions(world, ch)` are the admissible actions, like the admissible-command
  lists of text-game benchmarks: each is `{"tool", "args", "line", "why"}`, a
  call the command registry takes (`line` is the same as a person types it),
  checked with the rules the command itself applies (`combat.can_attack`,
  `magic.prepare`, `equipment.restriction`, the shop's and the quests' rules,
  carrying limits), so doing it now is not refused for any rule known here.
  Only what is worth doing is listed: walking (and opening closed doors),
  attacking, picking up and looting, spells and skills ready, wearing better
  gear, trading at a shop, taking and finishing quests, resting and getting up,
  and in a group: assisting a member who fights, healing and helping members here
  (spells aimed at an ally), taking a follower into one's group.

Targets are named so that the command finds exactly that one (`rat`, `2.rat`).
Nothing here changes the world.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from world import rules
from world.commands.equipment import hands_blocked, places_for, restriction
from world.commands.registry import allowed
from world.commands.shops import SHOPKEEPER, Shop, ShopError, shop_of
from world.context import find
from world.entities import Character, Item, ItemType, Position, Slot
from world.errors import Refused
from world.inventory import Budget, can_take, carried_count, carried_weight, max_count, max_weight
from world.systems import behaviours, combat, groups, magic, progression
from world.systems import quests as q

if TYPE_CHECKING:
    from world.world import World

T = TypeVar("T", Character, Item)
Memo = dict[int, tuple[combat.Assessment, int]]  # character id -> what `consider` says

# Behaviours a player can tell from looking at a mob (what the room text says of it).
PUBLIC_ROLES = ("shopkeeper", "trainer", "quest_giver", "healer")
# Item mods and how much each weighs in `gear_score` (per point).
MOD_WEIGHTS = {"hit": 1.0, "damage": 2.0, "armor": 2.0, "str": 1.0, "dex": 1.0, "con": 1.0,
               "int": 1.0, "wis": 1.0, "max_hp": 0.2, "max_mana": 0.1, "max_moves": 0.02,
               "hp_regen": 1.0, "mana_regen": 0.5}
HEAL_KINDS = frozenset({"heal"})
MAX_POTIONS = 3  # buy healing potions while carrying fewer than this


# ---- naming things so that commands find them ------------------------------------------


def word_for(thing: T, candidates: Sequence[T], shadow: Sequence[T] = ()) -> str:
    """A word that `find` resolves to `thing` among `candidates` (`rat`, `2.rat`).

    `shadow` are looked in first by the command (a container is looked for in the
    inventory before the floor), so a word they would answer is avoided.
    """
    keywords = thing.keywords or (thing.keyword,)
    for kw in keywords:
        n = 0
        for cand in candidates:
            names = cand.keywords or ((cand.keyword,) if isinstance(cand, Character) else ())
            if any(name.startswith(kw) for name in names):
                n += 1
            if cand is thing:
                break
        word = kw if n <= 1 else f"{n}.{kw}"
        if find(word, candidates) is thing and (not shadow or find(word, shadow) is None):
            return word
    return keywords[0] if keywords else ""


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


# ---- items -----------------------------------------------------------------------------


def gear_score(ch: Character, item: Item) -> float:
    """How good `item` is to wear or wield for `ch` (0 for things that are not gear).

    Weapons count their average damage twice, armour its armour twice, and every
    item its mods by `MOD_WEIGHTS` (mana counts double for classes with mana).
    """
    if not places_for(item):
        return 0.0
    score = 0.0
    if item.type is ItemType.WEAPON and item.damage is not None:
        score += 2 * item.damage.average
    score += 2 * item.armor
    for key, amount in item.mods.items():
        weight = MOD_WEIGHTS.get(key, 0.5)
        if key == "max_mana" and ch.max_mana > 0:
            weight *= 2
        score += weight * amount
    return round(score, 2)


def item_entry(item: Item, word: str, ch: Character | None = None) -> dict[str, Any]:
    """An item as plain data, with the word that names it."""
    entry: dict[str, Any] = {
        "name": item.name,
        "keyword": word,
        "type": str(item.type),
        "weight": item.weight,
        "value": item.value,
        "level": item.level,
    }
    if item.slot or places_for(item):
        entry["slot"] = item.slot or places_for(item)[0].value
    if item.damage is not None:
        entry["damage"] = str(item.damage)
        entry["average_damage"] = item.damage.average
    if item.armor:
        entry["armor"] = item.armor
    if item.mods:
        entry["mods"] = dict(item.mods)
    if item.classes:
        entry["classes"] = list(item.classes)
    if item.effects:
        entry["effects"] = list(item.effects)
    if item.contents or item.type in (ItemType.CONTAINER, ItemType.CORPSE):
        entry["contents"] = [{"name": it.name, "keyword": it.keyword} for it in item.contents]
    if item.gold:
        entry["gold"] = item.gold
    if item.owner is not None:
        entry["owner"] = item.owner
    if ch is not None and places_for(item):
        entry["usable"] = restriction(ch, item) is None
        entry["score"] = gear_score(ch, item)
    return entry


def _worn_in(ch: Character, item: Item) -> tuple[Slot, Item | None] | None:
    """Where `wear` would put `item` on `ch` and what it would swap out (None: nowhere)."""
    places = places_for(item)
    if not places:
        return None
    free = next((p for p in places if p not in ch.equipment), None)
    if free is not None:
        return free, None
    return places[0], ch.equipment.get(places[0])


def upgrade(ch: Character, item: Item) -> Item | None | bool:
    """Whether wearing `item` would make `ch` better off: False if not; else what it
    replaces (None for a free place)."""
    where = _worn_in(ch, item)
    if where is None or restriction(ch, item) is not None:
        return False
    place, old = where
    if hands_blocked(ch, item, place) is not None:
        return False
    if gear_score(ch, item) <= (gear_score(ch, old) if old is not None else 0.0):
        return False
    return old


def _heals(world: World, item: Item) -> bool:
    return any(getattr(world.content.spells.get(sid), "kind", "") in HEAL_KINDS
               for sid in item.effects)


# ---- the snapshot ----------------------------------------------------------------------


def observe(world: World, ch: Character) -> dict[str, Any]:
    """Everything `ch` knows now, and the actions that make sense (see the module doc)."""
    room = world.rooms[ch.room]
    memo: Memo = {}
    return {
        "character": character_sheet(world, ch),
        "room": world.room_view(room, ch).to_data(),
        "vitals": world.vitals(ch).to_data(),
        "inventory": [item_entry(it, word_for(it, ch.inventory), ch) for it in ch.inventory],
        "equipment": {slot.value: item_entry(it, it.keyword, ch)
                      for slot, it in ch.equipment.items()},
        "effects": [
            {"name": e.name, "ticks_left": None if e.until is None
             else max(0, e.until - world.time), "mods": dict(e.mods), "flags": sorted(e.flags)}
            for e in ch.effects
        ],
        "quests": quest_rows(world, ch),
        "skills": skill_rows(world, ch),
        "characters": character_rows(world, ch, memo),
        "zones": zone_rows(world, ch),
        "group": group_view(ch),
        "actions": actions(world, ch, memo),
    }


def group_view(ch: Character) -> dict[str, Any] | None:
    """The group `ch` is in: its leader and its members, leader first, each as the
    `group` command lists them (`groups.member_row`); None when in none."""
    members = groups.members(ch)
    if not members:
        return None
    return {"leader": members[0].name,
            "members": [groups.member_row(ch, m, m is members[0]) for m in members]}


def zone_rows(world: World, ch: Character) -> dict[str, dict[str, Any]]:
    """The zone `ch` is in and those its exits lead to: name and levels (room ids are
    `zone:room`, so an exit's zone is its prefix)."""
    room = world.rooms[ch.room]
    ids = {room.zone, *(ex.to.split(":", 1)[0] for ex in room.exits.values())}
    out: dict[str, dict[str, Any]] = {}
    for zid in sorted(ids):
        zone = world.content.zones.get(zid)
        if zone is not None:
            out[zid] = {"name": zone.name, "levels": list(zone.levels)}
    return out


def character_sheet(world: World, ch: Character) -> dict[str, Any]:
    """The character itself: who, how strong, how rich, how loaded."""
    return {
        "name": ch.name,
        "class": ch.cls,
        "kind": str(ch.kind),
        "role": str(ch.role),
        "level": ch.level,
        "xp": ch.xp,
        "xp_next": rules.xp_next(ch),
        "gold": ch.gold,
        "position": str(ch.position),
        "fighting": ch.fighting.name if ch.fighting is not None else None,
        "following": ch.following.name if ch.following is not None else None,
        "wimpy": ch.wimpy,
        "armor_class": rules.armor_class(ch),
        "attributes": {a: rules.attribute(ch, a) for a in ("str", "dex", "con", "int", "wis")},
        "weight": carried_weight(ch),
        "max_weight": max_weight(ch),
        "count": carried_count(ch),
        "max_count": max_count(ch),
        "zone": world.rooms[ch.room].zone,
    }


def quest_rows(world: World, ch: Character) -> list[dict[str, Any]]:
    """The quests `ch` is on (with progress) and those it finished."""
    rows: list[dict[str, Any]] = []
    for qid, progress in ch.quests.items():
        quest = world.content.quests.get(qid)
        if quest is None:
            continue
        if progress.get("state") == q.DONE:
            rows.append({"id": qid, "title": quest.name, "state": q.DONE})
            continue
        rows.append({
            "id": qid,
            "title": quest.name,
            "state": q.ACCEPTED,
            "kind": quest.kind,
            "target": q.target_name(world, quest),
            "target_id": quest.target,
            "count": q.progress(world, ch, qid),
            "needed": q.needed(quest),
            "ready": q.ready(world, ch, qid),
            "turn_in": q.mob_name(world, q.turn_in_to(quest)),
            "turn_in_zone": q.turn_in_to(quest).split(":", 1)[0],
        })
    return rows


def skill_rows(world: World, ch: Character) -> list[dict[str, Any]]:
    """The spells and skills `ch` knows, with what they cost and when they are ready."""
    rows: list[dict[str, Any]] = []
    for sid, proficiency in ch.skills.items():
        spell = world.content.spells.get(sid)
        if spell is None:
            continue
        rows.append({
            "id": sid,
            "name": spell.name,
            "skill": spell.skill,
            "kind": spell.kind,
            "target": spell.target,
            "mana": spell.mana,
            "cooldown": spell.cooldown,
            "proficiency": proficiency,
            "ready_in": max(0, ch.cooldowns.get(sid, 0) - world.time),
        })
    return rows


def _consider(world: World, ch: Character, other: Character, memo: Memo | None
              ) -> tuple[combat.Assessment, int]:
    """What `consider` would say of `other` (computed once per observation)."""
    if memo is not None and other.id in memo:
        return memo[other.id]
    found = (combat.assess(world, ch, other, behaviours.joiners(world, ch, other)),
             progression.consider_xp(world, ch, other))
    if memo is not None:
        memo[other.id] = found
    return found


def character_rows(world: World, ch: Character, memo: Memo | None = None
                   ) -> list[dict[str, Any]]:
    """The others in the room: who they are, how hurt, and for those `ch` may attack,
    what `consider` would say (verdict, rounds each way, the XP the kill is worth)."""
    room = world.rooms[ch.room]
    rows: list[dict[str, Any]] = []
    for other in room.characters:
        if other is ch:
            continue
        row: dict[str, Any] = {
            "name": other.name,
            "keyword": word_for(other, room.characters),
            "kind": str(other.kind),
            "level": other.level,
            "position": str(other.position),
            "fighting": other.fighting.name if other.fighting is not None else None,
            "hp_percent": round(100 * other.hp / other.max_hp) if other.max_hp else 0,
            "roles": [r for r in PUBLIC_ROLES if r in other.behaviours],
            "attackable": combat.can_attack(world, ch, other) is None,
        }
        if row["attackable"]:
            a, xp = _consider(world, ch, other, memo)
            row.update(verdict=a.verdict, rounds_to_win=a.rounds_to_win,
                       rounds_to_lose=a.rounds_to_lose, xp=xp)
            if a.joined_by:
                row["joined_by"] = list(a.joined_by)
        rows.append(row)
    return rows


# ---- the actions -----------------------------------------------------------------------


def _action(tool: str, args: dict[str, Any], line: str, why: str) -> dict[str, Any]:
    return {"tool": tool, "args": args, "line": line, "why": why}


def actions(world: World, ch: Character, memo: Memo | None = None) -> list[dict[str, Any]]:
    """The actions that make sense for `ch` here and now (see the module doc)."""
    if ch.position is Position.DEAD:
        return []
    if ch.effects and rules.has_flag(ch, "stunned"):
        return []  # nothing but looking works while stunned
    out: list[dict[str, Any]] = []
    out += _position_actions(ch)
    if ch.position is Position.FIGHTING:
        out += _fight_actions(world, ch)
    out += _spell_actions(world, ch)
    if ch.position is not Position.SLEEPING:
        out += _gear_actions(world, ch)
    if ch.position is Position.STANDING:
        out += _exit_actions(world, ch)
        out += _attack_actions(world, ch, memo)
        out += _group_actions(world, ch)
    if ch.position in (Position.STANDING, Position.RESTING):
        out += _pickup_actions(world, ch)
        out += _shop_actions(world, ch)
        out += _quest_actions(world, ch)
    specs = world.registry.specs
    return [a for a in out if a["tool"] in specs and allowed(specs[a["tool"]], ch.role)]


def _hurt(ch: Character) -> bool:
    return ch.hp < ch.max_hp or ch.mana < ch.max_mana or ch.moves < ch.max_moves // 2


def _position_actions(ch: Character) -> list[dict[str, Any]]:
    pos = ch.position
    if pos is Position.SLEEPING:
        return [_action("wake", {}, "wake", "you are asleep"),
                _action("stand", {}, "stand", "get up to move or fight")]
    if pos is Position.RESTING:
        return [_action("stand", {}, "stand", "get up to move or fight")]
    if pos is Position.STANDING and _hurt(ch):
        gauges = (f"hp {ch.hp}/{ch.max_hp}, mana {ch.mana}/{ch.max_mana}, "
                  f"moves {ch.moves}/{ch.max_moves}")
        return [_action("rest", {}, "rest", f"recover twice as fast ({gauges})"),
                _action("sleep", {}, "sleep",
                        f"recover three times as fast, but see and hear little ({gauges})")]
    return []


def _fight_actions(world: World, ch: Character) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    foe = ch.fighting
    room = world.rooms[ch.room]
    way_out = any(ex.door is None or not ex.door.closed for ex in room.exits.values())
    if ch.cooldowns.get("flee", 0) <= world.time and way_out:
        chance = combat.flee_chance(world, ch)
        out.append(_action("flee", {}, "flee",
                           f"run from {foe.name if foe else 'the fight'} ({chance}% chance; "
                           f"hp {ch.hp}/{ch.max_hp})"))
    for it in ch.inventory:
        if it.type is ItemType.POTION and it.level <= ch.level and _heals(world, it) \
                and ch.hp < ch.max_hp:
            word = word_for(it, ch.inventory)
            out.append(_action("quaff", {"potion": word}, f"quaff {word}",
                               f"drink {it.name} to heal (hp {ch.hp}/{ch.max_hp})"))
            break
    return out


def _exit_actions(world: World, ch: Character) -> list[dict[str, Any]]:
    room = world.rooms[ch.room]
    out: list[dict[str, Any]] = []
    for direction, ex in room.exits.items():
        d = direction.value
        dest = world.rooms.get(ex.to)
        if dest is None:
            continue
        if ex.door is not None and ex.door.closed:
            if not ex.door.locked:
                out.append(_action("open", {"door": d}, f"open {d}",
                                   f"the {ex.door.name} to the {d} is closed"))
            elif ex.door.key is not None and any(it.proto == ex.door.key for it in ch.inventory):
                out.append(_action("unlock", {"door": d}, f"unlock {d}",
                                   f"the {ex.door.name} to the {d} is locked; you have the key"))
            continue
        if ch.moves < 1:
            continue
        why = f"to {dest.name}"
        if dest.zone != room.zone:
            zone = world.content.zones.get(dest.zone)
            if zone is not None:
                why += f", into {zone.name} (levels {zone.levels[0]}-{zone.levels[1]})"
        out.append(_action("go", {"direction": d}, d, why))
    return out


def _attack_actions(world: World, ch: Character, memo: Memo | None) -> list[dict[str, Any]]:
    room = world.rooms[ch.room]
    out: list[dict[str, Any]] = []
    for other in room.characters:
        if other is ch or combat.can_attack(world, ch, other) is not None:
            continue
        word = word_for(other, room.characters)
        a, xp = _consider(world, ch, other, memo)
        pack = f", with {', '.join(a.joined_by)} joining in" if a.joined_by else ""
        out.append(_action("kill", {"target": word}, f"kill {word}",
                           f"{a.verdict}: {other.name}, level {other.level}{pack}, "
                           f"{a.rounds_to_win} rounds to win, {a.rounds_to_lose} to lose, "
                           f"{xp} xp"))
    return out


def _mates_here(world: World, ch: Character) -> list[Character]:
    """The other members of `ch`'s group standing alive in its room (no mobs)."""
    return [m for m in groups.members_in_room(world, ch, ch.room)
            if m is not ch and not m.is_mob]


def _group_actions(world: World, ch: Character) -> list[dict[str, Any]]:
    """Standing: join a group member's fight here; take a follower here into one's group."""
    room = world.rooms[ch.room]
    out: list[dict[str, Any]] = []
    for m in _mates_here(world, ch):
        foe = m.fighting
        if foe is None or foe is ch or not combat.present(world, ch, foe) \
                or combat.can_attack(world, ch, foe) is not None:
            continue
        word = word_for(m, room.characters)
        out.append(_action("assist", {"who": word}, f"assist {word}",
                           f"help {m.name} against {foe.name} (your group)"))
    if ch.following is None:
        for f in ch.followers:
            if f.room == ch.room and not f.grouped and not f.is_mob:
                word = word_for(f, room.characters)
                out.append(_action("group", {"who": word}, f"group {word}",
                                   f"{f.name} follows you: take them into your group"))
    return out


def _pickup_actions(world: World, ch: Character) -> list[dict[str, Any]]:
    room = world.rooms[ch.room]
    out: list[dict[str, Any]] = []
    budget = Budget(ch)
    for it in room.items:
        if it.type is ItemType.CORPSE:
            if it.owner is not None and it.owner.lower() != ch.name.lower():
                continue
            fits = [inner for inner in it.contents
                    if can_take(inner) and budget.why_not(inner) is None]
            if not fits and not it.gold:
                continue
            word = word_for(it, room.items, shadow=ch.inventory)
            what = ", ".join(inner.name for inner in fits[:4])
            if it.gold:
                what = f"{what}, {it.gold} gold" if what else f"{it.gold} gold"
            out.append(_action("get", {"item": "all", "container": word},
                               f"get all from {word}", f"loot {it.name}: {what}"))
            continue
        if not can_take(it) or budget.why_not(it) is not None:
            continue
        word = word_for(it, room.items)
        out.append(_action("get", {"item": word}, f"get {word}", f"pick up {it.name}"))
    return out


def _gear_actions(world: World, ch: Character) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    best: dict[str, tuple[float, Item]] = {}
    for it in ch.inventory:
        replaced = upgrade(ch, it)
        if replaced is False:
            continue
        place = places_for(it)[0].value
        score = gear_score(ch, it)
        if place not in best or score > best[place][0]:
            best[place] = (score, it)
    for _, it in best.values():
        replaced = upgrade(ch, it)
        word = word_for(it, ch.inventory)
        tool = "wield" if places_for(it)[0] is Slot.WIELD else "wear"
        old = f" instead of {replaced.name}" if isinstance(replaced, Item) else ""
        out.append(_action(tool, {"item": word}, f"{tool} {word}",
                           f"{it.name} is better{old} (score {gear_score(ch, it)})"))
    return out


def _shop_here(world: World, ch: Character) -> Shop | None:
    if ch.position is Position.FIGHTING:
        return None
    keeper = next((c for c in world.rooms[ch.room].characters
                   if c.is_mob and SHOPKEEPER in c.behaviours), None)
    if keeper is None or keeper.position in (Position.FIGHTING, Position.SLEEPING,
                                             Position.DEAD):
        return None
    try:
        return shop_of(world, keeper)
    except ShopError:
        return None


def _shop_actions(world: World, ch: Character) -> list[dict[str, Any]]:
    shop = _shop_here(world, ch)
    if shop is None:
        return []
    out: list[dict[str, Any]] = []
    keeper = _cap(shop.keeper.name)
    wanted = _quest_items(world, ch)
    for it in ch.inventory:
        if str(it.type) not in shop.buys or it.contents:
            continue
        price = shop.offer(it.value)
        if price < 1:
            continue
        word = word_for(it, ch.inventory)
        better = upgrade(ch, it) is not False
        quest = wanted.get(it.proto or "")
        out.append(_action("sell", {"item": word}, f"sell {word}",
                           f"{keeper} pays {price} gold for {it.name}"
                           + (" (it would be an upgrade to wear)" if better else "")
                           + (f" (your quest '{quest}' needs it)" if quest else "")))
    budget = Budget(ch)
    models = world.content.items
    potions = sum(1 for it in ch.inventory if it.type is ItemType.POTION and _heals(world, it))
    seen: set[str] = set()
    for item_id in shop.sells:
        model = models[item_id]
        price = shop.price(model.value)
        if price > ch.gold or model.weight > budget.weight_left or budget.count_left < 1:
            continue
        kw = model.keywords[0].lower()
        n = sum(1 for other in shop.sells[:shop.sells.index(item_id) + 1]
                if any(k.lower().startswith(kw) for k in models[other].keywords))
        word = kw if n <= 1 else f"{n}.{kw}"
        if word in seen:
            continue
        seen.add(word)
        sample = _sample(world, item_id)
        if sample.type is ItemType.POTION and _heals(world, sample):
            if potions < MAX_POTIONS and sample.level <= ch.level:
                out.append(_action("buy", {"item": word}, f"buy {word}",
                                   f"{sample.name} for {price} gold (you carry {potions} "
                                   "healing potions)"))
            continue
        if not places_for(sample):
            continue
        if any(it.proto == item_id for it in ch.inventory):
            continue
        replaced = upgrade(ch, sample)
        if replaced is False:
            continue
        old = f" over {replaced.name}" if isinstance(replaced, Item) else ""
        out.append(_action("buy", {"item": word}, f"buy {word}",
                           f"{sample.name} for {price} gold: an upgrade{old} "
                           f"(score {gear_score(ch, sample)})"))
    return out


def _quest_items(world: World, ch: Character) -> dict[str, str]:
    """The item prototypes `ch`'s open quests ask to bring or deliver -> the quest's name."""
    out: dict[str, str] = {}
    for qid in q.active(ch):
        quest = world.content.quests.get(qid)
        if quest is not None and quest.kind != "kill":
            out.setdefault(quest.target, quest.name)
    return out


def _sample(world: World, item_id: str) -> Item:
    """An item made from its prototype to judge it, without a world id (never placed)."""
    model = world.content.items[item_id]
    return Item(
        id=0, proto=item_id, name=model.name,
        keywords=tuple(k.lower() for k in model.keywords), description="",
        weight=model.weight, value=model.value, type=ItemType(model.type), slot=model.slot,
        damage=rules.parse_dice(model.damage) if model.damage else None,
        two_handed=model.two_handed, armor=model.armor, mods=dict(model.mods),
        level=model.level, classes=tuple(model.classes), effects=tuple(model.effects),
    )


def _quest_actions(world: World, ch: Character) -> list[dict[str, Any]]:
    if ch.position is Position.FIGHTING:
        return []
    room = world.rooms[ch.room]
    out: list[dict[str, Any]] = []
    for offer in q.offers(world, ch):
        quest = offer.quest
        state = ch.quests.get(offer.quest_id, {}).get("state")
        if state == q.ACCEPTED or ch.level < quest.level:
            continue
        target = q.target_name(world, quest)
        out.append(_action("quest", {"action": "accept", "which": offer.quest_id},
                           f"quest accept {offer.quest_id}",
                           f"{offer.giver.name} offers '{quest.name}': {quest.kind} "
                           f"{q.needed(quest)} x {target} (level {quest.level}; "
                           f"reward {quest.reward.xp} xp, {quest.reward.gold} gold)"))
    protos = {c.proto for c in room.characters if c.is_mob and c.proto}
    for qid in q.active(ch):
        mine = world.content.quests.get(qid)
        if mine is None or q.turn_in_to(mine) not in protos or not q.ready(world, ch, qid):
            continue
        out.append(_action("quest", {"action": "complete", "which": qid},
                           f"quest complete {qid}",
                           f"'{mine.name}' is done: claim {mine.reward.xp} xp and "
                           f"{mine.reward.gold} gold"))
    return out


def _spell_targets(world: World, ch: Character, kind: str, aim: str
                   ) -> Iterable[Character | None]:
    room = world.rooms[ch.room]
    if aim == "enemy":
        if ch.fighting is not None:
            return [ch.fighting] if kind != "backstab" else []
        return [c for c in room.characters
                if c is not ch and c.is_mob and combat.can_attack(world, ch, c) is None]
    if aim == "ally":
        if kind == "rescue":
            return [c for c in room.characters if c is not ch and not c.is_mob
                    and any(f.fighting is c for f in room.characters)]
        return [ch, *_mates_here(world, ch)]
    if aim in ("self", "none", "room_enemies"):
        return [None]
    return []  # items (identify): nothing worth suggesting


def _worth_it(world: World, ch: Character, sid: str, kind: str, target: Character) -> bool:
    spell = world.content.spells[sid]
    if kind in HEAL_KINDS:
        return target.hp < target.max_hp * 3 // 4
    if kind == "buff":
        name = spell.effect.name if spell.effect is not None else sid
        return not any(e.name == name for e in target.effects)
    return True


def _spell_actions(world: World, ch: Character) -> list[dict[str, Any]]:
    if ch.position is Position.SLEEPING:
        return []
    out: list[dict[str, Any]] = []
    room = world.rooms[ch.room]
    for sid in ch.skills:
        spell = world.content.spells.get(sid)
        if spell is None or spell.kind == "passive" or spell.kind == "identify":
            continue
        if spell.kind == "recall":
            continue  # a way home, not a move worth suggesting each time
        try:
            magic.check_caster(world, ch, sid)
        except Refused:
            continue
        for target in _spell_targets(world, ch, spell.kind, spell.target):
            if target is not None and not _worth_it(world, ch, sid, spell.kind, target):
                continue
            if spell.kind in magic.HOSTILE_KINDS and ch.position is not Position.FIGHTING \
                    and ch.position is not Position.STANDING:
                continue
            try:
                magic.prepare(world, ch, sid, target)
            except Refused:
                continue
            word = "" if target is None else (
                "self" if target is ch else word_for(target, room.characters))
            cost = f"{spell.mana} mana" if spell.mana else "no mana"
            aim = f" at {target.name}" if target is not None and target is not ch else ""
            if target is ch:
                aim = " on yourself"
            if spell.skill and sid in world.registry.specs:
                args: dict[str, Any] = {"target": word} if word else {}
                line = f"{sid} {word}".strip()
                out.append(_action(sid, args, line, f"{spell.name}{aim} ({spell.kind})"))
                continue
            args = {"spell": spell.name}
            if word:
                args["target"] = word
            quoted = f"'{spell.name}'" if " " in spell.name else spell.name
            line = f"cast {quoted} {word}".strip()
            out.append(_action("cast", args, line, f"{spell.name}{aim} ({spell.kind}, {cost})"))
    return out
