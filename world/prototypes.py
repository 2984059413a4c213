"""Content schemas (pydantic, at the boundary) and the resolved `Content` the world is built from.

The server reads YAML files and hands each parsed document to `build_content`,
which validates it against these models and resolves ids (`zone:id`), exits and
doors. Every problem is reported as a `ContentError` naming the file and the key
path; the server adds the line number. Nothing here reads a file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from world.directions import Direction, parse_direction

ID_PATTERN = r"^[a-z][a-z0-9_]*(:[a-z][a-z0-9_]*)?$"
DICE_PATTERN = r"^\d{1,3}d\d{1,3}([+-]\d{1,4})?$"
ATTRIBUTES = ("str", "dex", "con", "int", "wis")
# What items and effects may modify.
MOD_KEYS = frozenset({*ATTRIBUTES, "hit", "damage", "armor", "max_hp", "max_mana", "max_moves",
                      "hp_regen", "mana_regen"})
ITEM_TYPES = ("misc", "weapon", "armor", "container", "food", "drink", "potion", "scroll", "key",
              "light", "treasure", "money")
FOOD_TYPES = ("food", "drink")  # what `eat` and `drink` take; see `ItemModel.nourish`
WEAR_SLOTS = ("light", "head", "neck", "body", "arms", "hands", "wrist", "waist", "legs", "feet",
              "wield", "offhand", "shield", "hold", "finger")
BEHAVIOURS = ("wander", "aggressive", "sentinel", "wimpy", "assist", "shopkeeper", "trainer",
              "quest_giver", "scavenger", "healer")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DoorModel(_Strict):
    """A door on an exit."""

    name: str = "door"
    closed: bool = True
    locked: bool = False
    key: str | None = Field(default=None, pattern=ID_PATTERN)


class ExitModel(_Strict):
    """An exit written out in full: `{to: room, door: {...}}`."""

    to: str = Field(pattern=ID_PATTERN)
    door: DoorModel | None = None


class RoomModel(_Strict):
    """A room of a zone."""

    name: str = Field(min_length=1, max_length=80)
    description: str = Field(min_length=1)
    exits: dict[str, str | ExitModel] = Field(default_factory=dict)
    flags: list[str] = Field(default_factory=list)
    extras: dict[str, str] = Field(default_factory=dict)
    items: list[str] = Field(default_factory=list)

    @field_validator("exits")
    @classmethod
    def _directions(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key in value:
            if parse_direction(key) is None:
                raise ValueError(f"'{key}' is not a direction")
        return value


def _check_mods(value: dict[str, int]) -> dict[str, int]:
    bad = sorted(set(value) - MOD_KEYS)
    if bad:
        raise ValueError(f"unknown modifier(s) {', '.join(bad)}; known: "
                         + ", ".join(sorted(MOD_KEYS)))
    return value


class NourishModel(_Strict):
    """What eating or drinking an item does (`type: food` or `drink`): gauges given back at
    once, how many bites or drinks it holds, and whether it is a vessel (`refill`): a
    drink that stays when empty and is filled again at water (a room flagged `water`)."""

    hp: int = Field(default=0, ge=0, le=1000)
    mana: int = Field(default=0, ge=0, le=1000)
    moves: int = Field(default=0, ge=0, le=1000)
    portions: int = Field(default=1, ge=1, le=20)
    refill: bool = False


class ItemModel(_Strict):
    """An item prototype. `extends: other_item` copies another prototype's fields."""

    extends: str | None = Field(default=None, pattern=ID_PATTERN)
    name: str = Field(min_length=1)
    keywords: list[str] = Field(min_length=1)
    description: str = Field(min_length=1)
    short: str = ""
    weight: int = Field(default=1, ge=0, le=10_000)
    value: int = Field(default=0, ge=0)
    type: str = "misc"
    slot: str | None = None
    damage: str | None = Field(default=None, pattern=DICE_PATTERN)
    two_handed: bool = False
    armor: int = Field(default=0, ge=-50, le=50)
    mods: dict[str, int] = Field(default_factory=dict)
    level: int = Field(default=0, ge=0, le=50)
    classes: list[str] = Field(default_factory=list)
    capacity: int = Field(default=0, ge=0)
    gold: int = Field(default=0, ge=0)
    flags: list[str] = Field(default_factory=list)
    effects: list[str] = Field(default_factory=list)
    nourish: NourishModel | None = None  # food and drink: what `eat` or `drink` gives

    @field_validator("type")
    @classmethod
    def _type(cls, value: str) -> str:
        if value not in ITEM_TYPES:
            raise ValueError(f"unknown item type '{value}'; one of {', '.join(ITEM_TYPES)}")
        return value

    @field_validator("slot")
    @classmethod
    def _slot(cls, value: str | None) -> str | None:
        if value is not None and value not in WEAR_SLOTS:
            raise ValueError(f"unknown slot '{value}'; one of {', '.join(WEAR_SLOTS)}")
        return value

    @field_validator("mods")
    @classmethod
    def _mods(cls, value: dict[str, int]) -> dict[str, int]:
        return _check_mods(value)

    @model_validator(mode="after")
    def _nourish(self) -> ItemModel:
        if self.nourish is not None and self.extends is None:  # else once resolved
            if self.type not in FOOD_TYPES:
                raise ValueError("only food and drink have `nourish` (type: food or drink)")
            if self.nourish.refill and self.type != "drink":
                raise ValueError("only a drink can be refilled (`refill` needs type: drink)")
        return self


class LootModel(_Strict):
    """An item a mob may drop, with its chance in percent."""

    item: str = Field(pattern=ID_PATTERN)
    chance: int = Field(default=100, ge=1, le=100)


class MobModel(_Strict):
    """A mob prototype. Unset numbers follow from `level` (see world/rules.py)."""

    extends: str | None = Field(default=None, pattern=ID_PATTERN)
    name: str = Field(min_length=1)
    keywords: list[str] = Field(min_length=1)
    short: str = Field(min_length=1)
    description: str = Field(min_length=1)
    level: int = Field(ge=1, le=50)
    hp: int | None = Field(default=None, ge=1)
    mana: int | None = Field(default=None, ge=0)
    damage: str | None = Field(default=None, pattern=DICE_PATTERN)
    hit: int = Field(default=0, ge=-20, le=50)
    armor: int = Field(default=0, ge=-50, le=100)
    attributes: dict[str, int] = Field(default_factory=dict)
    gold: tuple[int, int] = (0, 0)
    xp: int | None = Field(default=None, ge=0)
    behaviours: list[str | dict[str, dict[str, Any]]] = Field(default_factory=list)
    loot: list[LootModel] = Field(default_factory=list)
    equipment: list[str] = Field(default_factory=list)
    inventory: list[str] = Field(default_factory=list)
    spells: list[str] = Field(default_factory=list)
    wimpy: int = Field(default=0, ge=0)

    @field_validator("behaviours")
    @classmethod
    def _behaviours(cls, value: list[Any]) -> list[Any]:
        for entry in value:
            names = [entry] if isinstance(entry, str) else list(entry)
            for name in names:
                if name not in BEHAVIOURS:
                    raise ValueError(f"unknown behaviour '{name}'; known: "
                                     + ", ".join(BEHAVIOURS))
        return value

    def behaviour_map(self) -> dict[str, dict[str, Any]]:
        """Behaviours as name -> config."""
        out: dict[str, dict[str, Any]] = {}
        for entry in self.behaviours:
            if isinstance(entry, str):
                out[entry] = {}
            else:
                for name, config in entry.items():
                    out[name] = dict(config or {})
        return out


class ResetModel(_Strict):
    """What a zone reset puts where: a mob or an item, up to `count` present at once."""

    mob: str | None = Field(default=None, pattern=ID_PATTERN)
    item: str | None = Field(default=None, pattern=ID_PATTERN)
    room: str = Field(pattern=ID_PATTERN)
    count: int = Field(default=1, ge=1, le=50)


class RewardModel(_Strict):
    """What finishing a quest gives."""

    xp: int = Field(default=0, ge=0)
    gold: int = Field(default=0, ge=0)
    items: list[str] = Field(default_factory=list)


class QuestModel(_Strict):
    """A quest: kill `count` of a mob, collect `count` of an item, or deliver an item."""

    name: str
    description: str
    giver: str = Field(pattern=ID_PATTERN)
    kind: str = Field(pattern=r"^(kill|collect|deliver)$")
    target: str = Field(pattern=ID_PATTERN)  # a mob (kill) or an item (collect, deliver)
    count: int = Field(default=1, ge=1, le=100)
    to: str | None = Field(default=None, pattern=ID_PATTERN)  # deliver: the mob to give it to
    level: int = Field(default=1, ge=1, le=50)
    reward: RewardModel = Field(default_factory=RewardModel)


class ZoneInfo(_Strict):
    """The zone's own header."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    description: str = ""
    levels: tuple[int, int] = (1, 5)
    reset_minutes: float = Field(default=5.0, gt=0, le=600)


class ZoneModel(_Strict):
    """One zone file."""

    zone: ZoneInfo
    rooms: dict[str, RoomModel] = Field(min_length=1)
    items: dict[str, ItemModel] = Field(default_factory=dict)
    mobs: dict[str, MobModel] = Field(default_factory=dict)
    resets: list[ResetModel] = Field(default_factory=list)
    quests: dict[str, QuestModel] = Field(default_factory=dict)


class ClassModel(_Strict):
    """A character class."""

    name: str
    description: str
    hp: int = Field(ge=1)
    mana: int = Field(ge=0)
    moves: int = Field(ge=1)
    hp_per_level: int = Field(ge=0)
    mana_per_level: int = Field(ge=0)
    moves_per_level: int = Field(ge=0, default=5)
    attributes: dict[str, int]
    growth: dict[str, float] = Field(default_factory=dict)  # attribute points per level
    hit: int = Field(default=0, ge=-10, le=20)  # to-hit bonus at level 1
    kit: list[str] = Field(default_factory=list)  # item ids (`zone:id`) a new character gets

    @field_validator("kit")
    @classmethod
    def _kit(cls, value: list[str]) -> list[str]:
        for ref in value:
            if re.match(ID_PATTERN, ref) is None or ":" not in ref:
                raise ValueError(f"'{ref}' is not a full item id (zone:id)")
        return value


class EffectModel(_Strict):
    """The lasting part of a spell or skill."""

    name: str
    duration: int = Field(default=0, ge=0)  # ticks; 0 = instant
    mods: dict[str, int] = Field(default_factory=dict)
    dot: str | None = Field(default=None, pattern=DICE_PATTERN)  # damage each period
    period: int = Field(default=20, ge=1)
    flags: list[str] = Field(default_factory=list)
    stacking: str = Field(default="refresh", pattern=r"^(refresh|stack|ignore)$")

    @field_validator("mods")
    @classmethod
    def _mods(cls, value: dict[str, int]) -> dict[str, int]:
        return _check_mods(value)


class SpellModel(_Strict):
    """A spell or a skill (`skill: true`: no words, no mana unless given)."""

    name: str
    description: str
    skill: bool = False
    kind: str = Field(pattern=r"^(damage|heal|buff|debuff|dot|stun|area|recall|identify|passive"
                              r"|bash|kick|backstab|rescue)$")
    target: str = Field(default="enemy",
                        pattern=r"^(enemy|self|ally|item|room_enemies|none)$")
    mana: int = Field(default=0, ge=0)
    cooldown: int = Field(default=0, ge=0)  # ticks
    dice: str | None = Field(default=None, pattern=DICE_PATTERN)
    per_level: float = Field(default=0.0, ge=0)  # extra dice bonus per caster level
    effect: EffectModel | None = None
    classes: dict[str, int] = Field(default_factory=dict)  # class -> level learned


class SpellsModel(_Strict):
    """spells.yaml."""

    spells: dict[str, SpellModel] = Field(default_factory=dict)


class ClassesModel(_Strict):
    """classes.yaml."""

    classes: dict[str, ClassModel] = Field(min_length=1)


class WorldModel(_Strict):
    """world.yaml: settings of the whole world."""

    name: str
    start_room: str = Field(pattern=ID_PATTERN)
    motd: str = ""


# ---- resolved content ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExitProto:
    """A resolved exit."""

    to: str
    door: DoorModel | None


@dataclass(frozen=True, slots=True)
class RoomProto:
    """A resolved room prototype."""

    id: str
    zone: str
    name: str
    description: str
    exits: dict[Direction, ExitProto]
    flags: frozenset[str]
    extras: dict[str, str]
    items: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Content:
    """Everything the world is built from, checked and resolved."""

    name: str
    start_room: str
    motd: str
    rooms: dict[str, RoomProto]
    items: dict[str, ItemModel]
    classes: dict[str, ClassModel]
    zones: dict[str, ZoneInfo]
    help: dict[str, str] = field(default_factory=dict)
    mobs: dict[str, MobModel] = field(default_factory=dict)
    resets: dict[str, tuple[ResetModel, ...]] = field(default_factory=dict)  # zone -> resets
    quests: dict[str, QuestModel] = field(default_factory=dict)
    spells: dict[str, SpellModel] = field(default_factory=dict)


class ContentError(Exception):
    """A problem in a content file.

    Attributes:
        file: the file's name as given to the loader.
        path: the key path inside the document (`rooms.square.exits.north`).
        message: what is wrong.
        line: the 1-based line, when the server could find it.
    """

    def __init__(self, file: str, path: tuple[str | int, ...], message: str) -> None:
        self.file = file
        self.path = path
        self.message = message
        self.line: int | None = None
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        key = ".".join(str(p) for p in self.path) or "(top)"
        return f"{where}: {key}: {self.message}"


def _pick(errors: list[Any]) -> Any:
    """The error to report: the first, except that in a `str | ExitModel` union pydantic
    reports both branches, and the string branch's error (its loc ends in the tag `str`)
    is skipped when the other branch of the same value failed too."""

    def string_branch(err: Any) -> bool:
        return bool(err["type"] == "string_type" and err["loc"] and err["loc"][-1] == "str")

    for err in errors:
        value = err["loc"][:-1]
        if string_branch(err) and any(
            other["loc"][: len(value)] == value and not string_branch(other) for other in errors
        ):
            continue
        return err
    return errors[0]


def _validate(model: type[BaseModel], doc: Any, file: str) -> Any:
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        err = _pick(exc.errors())
        loc = tuple(x for x in err["loc"] if not (isinstance(x, str) and x[:1].isupper()))
        raise ContentError(file, tuple(loc), err["msg"]) from None


def qualify(ref: str, zone: str) -> str:
    """`square` in zone `haven` is `haven:square`; an id with a zone stays as it is."""
    return ref if ":" in ref else f"{zone}:{ref}"


def build_content(
    world_doc: tuple[str, Any],
    classes_doc: tuple[str, Any],
    zone_docs: list[tuple[str, Any]],
    help_pages: Mapping[str, str] | None = None,
    spells_doc: tuple[str, Any] | None = None,
) -> Content:
    """Validate and resolve parsed documents into `Content`.

    Each argument pairs a file name with its parsed document.

    Raises:
        ContentError: the first problem found, naming file and key path.
    """
    wfile, wdoc = world_doc
    wmodel: WorldModel = _validate(WorldModel, wdoc, wfile)
    cfile, cdoc = classes_doc
    cmodel: ClassesModel = _validate(ClassesModel, cdoc, cfile)

    spells: dict[str, SpellModel] = {}
    if spells_doc is not None:
        sfile, sdoc = spells_doc
        smodel: SpellsModel = _validate(SpellsModel, sdoc, sfile)
        spells = dict(smodel.spells)
        for sid, spell in spells.items():
            for cls_id in spell.classes:
                if cls_id not in cmodel.classes:
                    raise ContentError(sfile, ("spells", sid, "classes", cls_id),
                                       f"unknown class '{cls_id}'")
    refs: list[tuple[str, tuple[str | int, ...], str, str]] = []  # file, path, kind, id
    for cid, cls_model in cmodel.classes.items():
        for attr in (*cls_model.attributes, *cls_model.growth):
            if attr not in ATTRIBUTES:
                raise ContentError(cfile, ("classes", cid, "attributes"),
                                   f"unknown attribute '{attr}'; one of {', '.join(ATTRIBUTES)}")
        for n, ref in enumerate(cls_model.kit):
            refs.append((cfile, ("classes", cid, "kit", n), "item", ref))

    rooms: dict[str, RoomProto] = {}
    items: dict[str, ItemModel] = {}
    mobs: dict[str, MobModel] = {}
    resets: dict[str, tuple[ResetModel, ...]] = {}
    quests: dict[str, QuestModel] = {}
    zones: dict[str, ZoneInfo] = {}
    where: dict[str, str] = {}  # room id -> file
    for zfile, zdoc in zone_docs:
        zmodel: ZoneModel = _validate(ZoneModel, zdoc, zfile)
        zid = zmodel.zone.id
        if zid in zones:
            raise ContentError(zfile, ("zone", "id"), f"zone '{zid}' is defined twice")
        zones[zid] = zmodel.zone
        for key, item in zmodel.items.items():
            items[qualify(key, zid)] = item
        for key, mob in zmodel.mobs.items():
            mid = qualify(key, zid)
            mob = mob.model_copy(update={
                "equipment": [qualify(i, zid) for i in mob.equipment],
                "inventory": [qualify(i, zid) for i in mob.inventory],
                "loot": [lt.model_copy(update={"item": qualify(lt.item, zid)}) for lt in mob.loot],
                "extends": qualify(mob.extends, zid) if mob.extends else None,
            })
            mobs[mid] = mob
            for field_name in ("equipment", "inventory"):
                for n, ref in enumerate(getattr(mob, field_name)):
                    refs.append((zfile, ("mobs", key, field_name, n), "item", ref))
            for n, lt in enumerate(mob.loot):
                refs.append((zfile, ("mobs", key, "loot", n, "item"), "item", lt.item))
            for n, spell_id in enumerate(mob.spells):
                refs.append((zfile, ("mobs", key, "spells", n), "spell", spell_id))
        zone_resets = []
        for n, reset in enumerate(zmodel.resets):
            if (reset.mob is None) == (reset.item is None):
                raise ContentError(zfile, ("resets", n), "a reset names a mob or an item")
            reset = reset.model_copy(update={
                "mob": qualify(reset.mob, zid) if reset.mob else None,
                "item": qualify(reset.item, zid) if reset.item else None,
                "room": qualify(reset.room, zid),
            })
            zone_resets.append(reset)
            refs.append((zfile, ("resets", n, "room"), "room", reset.room))
            if reset.mob:
                refs.append((zfile, ("resets", n, "mob"), "mob", reset.mob))
            if reset.item:
                refs.append((zfile, ("resets", n, "item"), "item", reset.item))
        resets[zid] = tuple(zone_resets)
        for key, quest in zmodel.quests.items():
            qid = qualify(key, zid)
            quest = quest.model_copy(update={
                "giver": qualify(quest.giver, zid),
                "target": qualify(quest.target, zid),
                "to": qualify(quest.to, zid) if quest.to else None,
                "reward": quest.reward.model_copy(update={
                    "items": [qualify(i, zid) for i in quest.reward.items]}),
            })
            quests[qid] = quest
            refs.append((zfile, ("quests", key, "giver"), "mob", quest.giver))
            refs.append((zfile, ("quests", key, "target"),
                         "mob" if quest.kind == "kill" else "item", quest.target))
            if quest.kind == "deliver":
                if quest.to is None:
                    raise ContentError(zfile, ("quests", key, "to"),
                                       "a deliver quest names who to deliver `to`")
                refs.append((zfile, ("quests", key, "to"), "mob", quest.to))
            for n, ref in enumerate(quest.reward.items):
                refs.append((zfile, ("quests", key, "reward", "items", n), "item", ref))
        for key, room in zmodel.rooms.items():
            rid = qualify(key, zid)
            rooms[rid] = room_proto(rid, room)
            where[rid] = zfile

    for rid, proto in rooms.items():
        zfile = where[rid]
        local = rid.split(":", 1)[1]
        for way, target in proto.exits.items():
            if target.to not in rooms:
                raise ContentError(
                    zfile, ("rooms", local, "exits", way.value),
                    f"exit leads to unknown room '{target.to}'",
                )
            key_ref = target.door.key if target.door is not None else None
            if key_ref is not None and key_ref not in items:
                raise ContentError(
                    zfile, ("rooms", local, "exits", way.value, "door", "key"),
                    f"unknown key item '{key_ref}'",
                )
        for n, item_ref in enumerate(proto.items):
            if item_ref not in items:
                raise ContentError(zfile, ("rooms", local, "items", n),
                                   f"unknown item '{item_ref}'")
    if wmodel.start_room not in rooms:
        raise ContentError(wfile, ("start_room",), f"unknown room '{wmodel.start_room}'")
    known: dict[str, Mapping[str, object]] = {"item": items, "mob": mobs, "room": rooms,
                                              "spell": spells}
    for rfile, path, kind, ref in refs:
        if ref not in known[kind]:
            raise ContentError(rfile, path, f"unknown {kind} '{ref}'")
    items = {k: _resolve(k, items, where_item(k, zone_docs)) for k in items}
    mobs = {k: _resolve(k, mobs, where_item(k, zone_docs)) for k in mobs}
    return Content(
        name=wmodel.name,
        start_room=wmodel.start_room,
        motd=wmodel.motd.strip(),
        rooms=rooms,
        items=items,
        classes=dict(cmodel.classes),
        zones=zones,
        help=dict(help_pages or {}),
        mobs=mobs,
        resets=resets,
        quests=quests,
        spells=spells,
    )


def room_proto(rid: str, room: RoomModel) -> RoomProto:
    """A checked room model resolved into its prototype: ids qualified by the room's zone."""
    zid = rid.split(":", 1)[0]
    exits: dict[Direction, ExitProto] = {}
    for dname, ex in room.exits.items():
        direction = parse_direction(dname)
        assert direction is not None  # checked by the model
        if isinstance(ex, str):
            exits[direction] = ExitProto(qualify(ex, zid), None)
        else:
            door = ex.door
            if door is not None and door.key is not None:
                door = door.model_copy(update={"key": qualify(door.key, zid)})
            exits[direction] = ExitProto(qualify(ex.to, zid), door)
    return RoomProto(
        id=rid,
        zone=zid,
        name=room.name,
        description=room.description.strip(),
        exits=exits,
        flags=frozenset(room.flags),
        extras={k.lower(): v.strip() for k, v in room.extras.items()},
        items=tuple(qualify(i, zid) for i in room.items),
    )


def where_item(qualified: str, zone_docs: list[tuple[str, Any]]) -> str:
    """The file that defines the zone of `qualified` (for error messages)."""
    zone = qualified.split(":", 1)[0]
    for zfile, zdoc in zone_docs:
        if isinstance(zdoc, dict) and isinstance(zdoc.get("zone"), dict) and \
                zdoc["zone"].get("id") == zone:
            return zfile
    return zone


M = TypeVar("M", ItemModel, MobModel)


def _resolve(key: str, table: dict[str, M], file: str, seen: tuple[str, ...] = ()) -> M:
    """Apply `extends` (single parent, resolved at load time): the child's own fields win."""
    model = table[key]
    if model.extends is None:
        return model
    kind = "items" if isinstance(model, ItemModel) else "mobs"
    local = key.split(":", 1)[1]
    parent_id = qualify(model.extends, key.split(":", 1)[0])
    if parent_id in seen or parent_id == key:
        raise ContentError(file, (kind, local, "extends"), f"'extends' loops through '{key}'")
    if parent_id not in table:
        raise ContentError(file, (kind, local, "extends"), f"unknown prototype '{parent_id}'")
    parent = _resolve(parent_id, table, file, (*seen, key))
    merged = {**parent.model_dump(), **model.model_dump(exclude_unset=True), "extends": None}
    out: M = type(model).model_validate(merged)
    return out
