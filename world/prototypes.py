"""Content schemas (pydantic, at the boundary) and the resolved `Content` the world is built from.

The server reads YAML files and hands each parsed document to `build_content`,
which validates it against these models and resolves ids (`zone:id`), exits and
doors. Every problem is reported as a `ContentError` naming the file and the key
path; the server adds the line number. Nothing here reads a file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from world.directions import Direction, parse_direction

ID_PATTERN = r"^[a-z][a-z0-9_]*(:[a-z][a-z0-9_]*)?$"


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


class ItemModel(_Strict):
    """An item prototype."""

    name: str = Field(min_length=1)
    keywords: list[str] = Field(min_length=1)
    description: str = Field(min_length=1)
    short: str = ""
    weight: int = Field(default=1, ge=0, le=10_000)
    value: int = Field(default=0, ge=0)


class ZoneInfo(_Strict):
    """The zone's own header."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    description: str = ""
    levels: tuple[int, int] = (1, 5)


class ZoneModel(_Strict):
    """One zone file."""

    zone: ZoneInfo
    rooms: dict[str, RoomModel] = Field(min_length=1)
    items: dict[str, ItemModel] = Field(default_factory=dict)


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

    rooms: dict[str, RoomProto] = {}
    items: dict[str, ItemModel] = {}
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
        for key, room in zmodel.rooms.items():
            rid = qualify(key, zid)
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
            rooms[rid] = RoomProto(
                id=rid,
                zone=zid,
                name=room.name,
                description=room.description.strip(),
                exits=exits,
                flags=frozenset(room.flags),
                extras={k.lower(): v.strip() for k, v in room.extras.items()},
                items=tuple(qualify(i, zid) for i in room.items),
            )
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
    return Content(
        name=wmodel.name,
        start_room=wmodel.start_room,
        motd=wmodel.motd.strip(),
        rooms=rooms,
        items=items,
        classes=dict(cmodel.classes),
        zones=zones,
        help=dict(help_pages or {}),
    )
