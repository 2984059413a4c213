"""Plans shared between agents as data: one small, versioned line format, `plan v1`.

Agents in a group tell each other what they mean to do over `gtell` (an invitation,
before there is a group, over `tell`). So that any agent can take part, a scripted
one or a model, a plan is one line of chat with a fixed prefix and one JSON object:

    plan v1 {"goal":"hunt","prey":"a grey wolf","room":"greenwood:clearing"}

- The prefix is `plan v<N> ` (lower case, one space each side of `v<N>`). A line that
  does not start with `plan v<digits> ` is ordinary chat (`parse` returns None).
- Only version 1 is known here; a line of another version is refused (`PlanError`),
  as is anything malformed: the whole line over `MAX_CHARS` characters, JSON that is
  not one flat object, a duplicate or unknown key, a value that is not a string (no
  numbers, lists or null), an empty or over-long value, a control character, a goal
  not in `GOALS`, a name that is not a character's name (letters, 3 to 16), a room id
  not `zone:room`, a goal's required field missing. A refused plan is just chat.
- Fields (all strings, all optional but `goal` and each goal's required ones):
  `goal`, `prey` (a creature's name as the room shows it), `room` (a room id,
  `zone:room`), `who` and `leader` (characters' names), `until` (`hp`, `mana` or
  `moves`).

The goals (`GOALS`), with the fields each needs:

- `group` (needs `leader`): an invitation, told to one player: follow `leader` (the
  sender) in `room`, and it takes you into its group (to hunt `prey`).
- `hunt`: the group hunts `prey` at `room`.
- `rest` (needs `who`): the group waits until `who` has its `until` back (a healer's mana).
- `heal` (needs `who`): `who` needs healing.
- `errand` (needs `room`): `who` asks the group to walk to `room` (a quest to hand in,
  a shop).
- `leave`: the sender leaves the group, or declines an invitation.

A plan says what its sender intends; it is data, never an order: an agent weighs it
against its own rules (an LLM agent reads it inside the quoted chat block, like all
chat, agents/prompting.py). `encode` checks a plan with the same rules before it is
sent, so an agent never sends what it would itself refuse.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, fields
from typing import Any, NoReturn

VERSION = 1
PREFIX = f"plan v{VERSION} "
MAX_CHARS = 400  # the whole line, prefix included (the game cuts speech at 500)
VALUE_MAX = 80  # characters of one value
GOALS: dict[str, str] = {
    "group": "an invitation: follow `leader` and join its group",
    "hunt": "the group hunts `prey` at `room`",
    "rest": "the group waits until `who` has its `until` (hp, mana, moves) back",
    "heal": "`who` needs healing",
    "errand": "`who` asks the group to walk to `room`",
    "leave": "the sender leaves the group, or declines an invitation",
}
REQUIRED: dict[str, tuple[str, ...]] = {"group": ("leader",), "rest": ("who",),
                                        "heal": ("who",), "errand": ("room",)}
UNTIL = frozenset({"hp", "mana", "moves"})

_HEAD = re.compile(r"plan v(\d{1,6}) ")
_NAME = re.compile(r"[A-Za-z]{3,16}")
_ROOM = re.compile(r"[a-z0-9_]{1,40}:[a-z0-9_]{1,40}")


class PlanError(ValueError):
    """A line that starts like a plan but is not a valid one (the reason in words)."""


@dataclass(frozen=True, slots=True)
class Plan:
    """One plan (see the module docstring); empty fields are left out of the line."""

    goal: str
    prey: str = ""
    room: str = ""
    who: str = ""
    leader: str = ""
    until: str = ""

    def to_data(self) -> dict[str, str]:
        """The JSON object of the line: `goal` first, then the fields that are set."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}


KEYS = frozenset(f.name for f in fields(Plan))


def encode(plan: Plan) -> str:
    """The line for `plan` (`plan v1 {...}`); PlanError if it would be refused."""
    line = PREFIX + json.dumps(plan.to_data(), ensure_ascii=True, separators=(",", ":"))
    if parse(line) != plan:
        raise PlanError("the plan does not read back as itself")  # pragma: no cover
    return line


def parse(text: str) -> Plan | None:
    """The plan in a line of chat; None for ordinary chat; PlanError for a bad plan."""
    head = _HEAD.match(text)
    if head is None:
        return None
    if len(text) > MAX_CHARS:
        _refuse(f"a plan line has at most {MAX_CHARS} characters")
    if int(head.group(1)) != VERSION:
        _refuse(f"plan version {head.group(1)} is not known (only v{VERSION})")
    try:
        data = json.loads(text[head.end():], object_pairs_hook=_pairs,
                          parse_int=_no_number, parse_float=_no_number,
                          parse_constant=_no_number)
    except PlanError:
        raise
    except (ValueError, RecursionError) as exc:
        raise PlanError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        _refuse("a plan is one JSON object")
    return _plan(data)


def read(text: str) -> Plan | None:
    """The plan in a line of chat, or None (ordinary chat, or a refused plan)."""
    try:
        return parse(text)
    except PlanError:
        return None


def _refuse(why: str) -> NoReturn:
    raise PlanError(why)


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            _refuse(f"the key {key!r} comes twice")
        if isinstance(value, (dict, list)):
            _refuse(f"{key!r} must be a string, not a {type(value).__name__}")
        out[key] = value
    return out


def _no_number(token: str) -> NoReturn:
    _refuse(f"values are strings, not {token[:20]}")


def _plan(data: dict[str, Any]) -> Plan:
    unknown = sorted(set(data) - KEYS)
    if unknown:
        _refuse(f"unknown keys: {', '.join(repr(k[:20]) for k in unknown[:5])}")
    for key, value in data.items():
        if not isinstance(value, str):
            _refuse(f"{key!r} must be a string")
        if not value or len(value) > VALUE_MAX:
            _refuse(f"{key!r} has 1 to {VALUE_MAX} characters")
        if not value.isprintable():
            _refuse(f"{key!r} has a control character")
    goal = data.get("goal")
    if goal not in GOALS:
        _refuse(f"goal must be one of {', '.join(GOALS)}")
    for key in ("who", "leader"):
        if key in data and not _NAME.fullmatch(data[key]):
            _refuse(f"{key!r} must be a character's name (3 to 16 letters)")
    if "room" in data and not _ROOM.fullmatch(data["room"]):
        _refuse("'room' must be a room id, zone:room")
    if "until" in data and data["until"] not in UNTIL:
        _refuse(f"'until' is one of {', '.join(sorted(UNTIL))}")
    missing = [k for k in REQUIRED.get(goal, ()) if k not in data]
    if missing:
        _refuse(f"the goal {goal!r} needs {', '.join(missing)}")
    return Plan(**data)
