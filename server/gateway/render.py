"""Events as text: each event becomes styled spans, then ANSI or plain text.

`render(event, viewer)` returns `Spans` (a list of `(style, text)` pairs) as the
viewer should read them ("You say" or "Ann says"). `ansi()` and `plain()` turn
spans into a string; styles are semantic (`room_name`, `say`...) and only
`ansi()` maps them to colours, so every client works without colour.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from typing import Any

from server import helptext
from world import building as bld
from world import events as ev
from world.text import clean

Span = tuple[str, str]
Spans = list[Span]

ANSI: dict[str, str] = {
    "room_name": "\x1b[1;36m",
    "exits": "\x1b[32m",
    "character": "\x1b[1;37m",
    "mob": "\x1b[33m",
    "item": "\x1b[36m",
    "say": "\x1b[1;33m",
    "tell": "\x1b[1;35m",
    "shout": "\x1b[1;31m",
    "emote": "\x1b[37m",
    "error": "\x1b[31m",
    "notice": "\x1b[1;32m",
    "warning": "\x1b[1;31m",
    "dim": "\x1b[2m",
    "heading": "\x1b[1m",
    "ai": "\x1b[1;34m",
    "prompt": "\x1b[32m",
    "magic": "\x1b[35m",
}
RESET = "\x1b[0m"


def ansi(spans: Spans) -> str:
    """Spans as text with ANSI colour codes."""
    out = []
    for style, text in spans:
        code = ANSI.get(style)
        out.append(f"{code}{text}{RESET}" if code and text else text)
    return "".join(out)


def plain(spans: Spans) -> str:
    """Spans as plain text."""
    return "".join(text for _, text in spans)


def strip_controls(text: str) -> str:
    """Remove the control, bidi-override and other invisible characters that players could
    inject (world/text.py, the definition the world cleans player text with when it comes
    in: this is the second guard); newlines stay, a tab becomes a space."""
    return clean(text)


_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


DEFAULT_WIDTH = 80  # text-mode columns when the client says none and `width` is not set


def wrap(text: str, width: int) -> str:
    """Word-wrap every line of `text` to `width` columns; ANSI codes take no room.

    Text is wrapped here once, per client, to its width: events carry unwrapped
    paragraphs, one line each. Breaks at spaces (the spaces are dropped, their colour
    codes kept); a word longer than the width is cut. Existing line breaks stay, and
    the lines a long line is broken into keep its indent (lists, usage tables).
    """
    width = max(width, 10)
    return "\n".join(line if len(line) <= width else _wrap_line(line, width)
                     for line in text.split("\n"))


@functools.lru_cache(maxsize=4096)
def _wrap_line(line: str, width: int) -> str:
    """One line wrapped (memoized: descriptions come again and again, at few widths)."""
    # One atom per visible character, carrying the escape codes just before it.
    atoms: list[tuple[str, str]] = []
    codes = ""
    pos = 0
    for m in _ESCAPE.finditer(line):
        for ch in line[pos:m.start()]:
            atoms.append((codes + ch, ch))
            codes = ""
        codes += m.group()
        pos = m.end()
    for ch in line[pos:]:
        atoms.append((codes + ch, ch))
        codes = ""
    if len(atoms) <= width:
        return line
    lead = 0
    while lead < len(atoms) and atoms[lead][1] == " ":
        lead += 1
    indent = " " * lead if lead <= width // 2 else ""
    out: list[str] = []
    start, floor, room, prefix = 0, lead, width, ""
    while len(atoms) - start > room:
        cut = next((i for i in range(start + room, floor, -1) if atoms[i][1] == " "), -1)
        if cut < 0:
            out.append(prefix + "".join(a for a, _ in atoms[start:start + room]))
            start += room
            prefix = indent
        else:  # the whole run of spaces goes; its colour codes end the line
            first = cut
            while first - 1 > floor and atoms[first - 1][1] == " ":
                first -= 1
            end = cut
            while end < len(atoms) and atoms[end][1] == " ":
                end += 1
            out.append(prefix + "".join(a for a, _ in atoms[start:first])
                       + "".join(a[:-1] for a, _ in atoms[first:end]))
            start, prefix = end, indent
        floor, room = start, width - len(indent)
    if start < len(atoms):
        out.append(prefix + "".join(a for a, _ in atoms[start:]) + codes)
    else:  # it ended in spaces: the codes after them end the last line
        out[-1] += codes
    return "\n".join(out)


def _who(name: str, kind: str) -> Spans:
    if kind == "agent":
        return [("ai", "[AI] "), ("character", name)]
    if kind == "mob":
        return [("mob", name[:1].upper() + name[1:])]
    return [("character", name)]


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


# ---- one function per event ------------------------------------------------------


_STATE = {"standing": "is here", "resting": "is resting here",
          "sleeping": "is sleeping here", "fighting": "is here, fighting"}


def _room(e: ev.RoomShown, viewer: str) -> Spans:
    spans: Spans = [("room_name", e.title), ("", "\n")]
    spans.append(("", e.description + "\n"))
    exits = []
    for direction in e.exits:
        door = e.doors.get(direction)
        if door and door["closed"]:
            exits.append(f"({direction})")
        else:
            exits.append(direction)
    spans.append(("exits", f"[Exits: {' '.join(exits) if exits else 'none'}]"))
    for item in e.items:
        spans.append(("", "\n"))
        spans.append(("item", item.get("short") or f"{_cap(item['name'])} is here."))
    for ch in e.characters:
        spans.append(("", "\n"))
        if ch.get("short") and ch["position"] == "standing":
            spans.append(("mob", ch["short"]))
            continue
        spans.extend(_who(ch["name"], ch["kind"]))
        text = " " + _STATE.get(ch["position"], "is here") + "."
        if ch.get("linkdead"):
            text += " (link-dead)"
        spans.append(("", text))
    return spans


def _vitals(e: ev.Vitals, viewer: str) -> Spans:
    return [("dim", f"HP {e.hp}/{e.max_hp}  Mana {e.mana}/{e.max_mana}  "
                    f"Moves {e.moves}/{e.max_moves}")]


def _arrived(e: ev.Arrived, viewer: str) -> Spans:
    where = f" from the {e.direction}" if e.direction else ""
    if e.direction in ("up", "down"):
        where = " from above" if e.direction == "up" else " from below"
    return [*_who(e.actor, e.kind), ("", f" arrives{where}.")]


def _departed(e: ev.Departed, viewer: str) -> Spans:
    where = {"up": " upwards", "down": " downwards"}.get(e.direction or "",
                                                          f" {e.direction}" if e.direction else "")
    return [*_who(e.actor, e.kind), ("", f" leaves{where}.")]


def _entered(e: ev.Entered, viewer: str) -> Spans:
    text = " has reconnected." if e.reconnected else " has entered the game."
    return [*_who(e.actor, e.kind), ("", text)]


def _left(e: ev.Left, viewer: str) -> Spans:
    text = {"linkdead": " fades away, link-dead for too long.",
            "timeout": " fades away, idle for too long."}.get(e.reason, " has left the game.")
    return [*_who(e.actor, e.kind), ("", text)]


def _link_lost(e: ev.LinkLost, viewer: str) -> Spans:
    return [("character", e.actor), ("dim", " has lost their link.")]


def _door(e: ev.DoorChanged, viewer: str) -> Spans:
    where = f" {e.direction}" if e.direction in ("up", "down") else f" to the {e.direction}"
    if e.actor == "someone":
        return [("", f"The {e.door}{where} is {e.action} from the other side.")]
    if e.actor == viewer:
        verb = {"opened": "open", "closed": "close", "locked": "lock", "unlocked": "unlock"}
        return [("", f"You {verb.get(e.action, e.action)} the {e.door}{where}.")]
    verb = {"opened": "opens", "closed": "closes", "locked": "locks", "unlocked": "unlocks"}
    return [("character", e.actor), ("", f" {verb.get(e.action, e.action)} the {e.door}{where}.")]


def _said(e: ev.Said, viewer: str) -> Spans:
    text = strip_controls(e.text)
    if e.actor == viewer:
        return [("say", f"You say, '{text}'")]
    return [*_who(e.actor, e.kind), ("say", f" says, '{text}'")]


def _told(e: ev.Told, viewer: str) -> Spans:
    text = strip_controls(e.text)
    if e.actor == viewer:
        return [("tell", f"You tell {e.target}, '{text}'")]
    return [*_who(e.actor, e.kind), ("tell", f" tells you, '{text}'")]


def _shouted(e: ev.Shouted, viewer: str) -> Spans:
    text = strip_controls(e.text)
    if e.actor == viewer:
        return [("shout", f"You shout, '{text}'")]
    return [*_who(e.actor, e.kind), ("shout", f" shouts, '{text}'")]


def _emoted(e: ev.Emoted, viewer: str) -> Spans:
    return [*_who(e.actor, e.kind), ("emote", " " + strip_controls(e.text))]


def _looked(e: ev.LookedAt, viewer: str) -> Spans:
    spans: Spans = [("", e.description)]
    d = e.details
    if e.target_kind in ("player", "agent", "mob"):
        title = f" {d['title']}" if d.get("title") else ""
        spans.append(("", "\n"))
        spans.extend(_who(e.target, e.target_kind))
        what = (f", a level {d.get('level')} {d['class']}," if d.get("class")
                else f" (level {d.get('level')})")
        condition = str(d.get("condition"))
        state = _CONDITION_TEXT.get(condition, f"is in {condition} condition")
        spans.append(("", f"{title}{what} {state}."))
    return spans


def _who_listed(e: ev.WhoListed, viewer: str) -> Spans:
    spans: Spans = [("heading", "Players online"), ("", "\n")]
    for ch in e.characters:
        spans.append(("dim", f"[{ch['level']:>2} {ch['class'][:3].capitalize()}] "))
        spans.extend(_who(ch["name"], ch["kind"]))
        if ch.get("title"):
            spans.append(("", " " + ch["title"]))
        if ch["role"] != "player":
            spans.append(("dim", f" ({ch['role']})"))
        if ch.get("linkdead"):
            spans.append(("dim", " (link-dead)"))
        spans.append(("", "\n"))
    n = len(e.characters)
    spans.append(("", f"{n} {'character' if n == 1 else 'characters'} online."))
    return spans


def _score(e: ev.ScoreShown, viewer: str) -> Spans:
    s = e.sheet
    attrs = "  ".join(f"{k.upper()} {v}" for k, v in s["attributes"].items())
    lines = [
        f"{s['name']} {s['title']}".rstrip() + f", level {s['level']} {s['class_name']}",
        f"HP {s['hp']}/{s['max_hp']}  Mana {s['mana']}/{s['max_mana']}  "
        f"Moves {s['moves']}/{s['max_moves']}",
        f"XP {s['xp']} (next level at {s['xp_next']})",
        attrs,
        f"Armour class {s.get('armor_class', 0)}  Gold {s.get('gold', 0)}",
        f"You are {s['position']} in {s['room']}.",
        f"Played: {s['played_seconds'] // 3600}h {s['played_seconds'] % 3600 // 60}m",
    ]
    return [("heading", lines[0]), ("", "\n" + "\n".join(lines[1:]))]


def _help(e: ev.HelpShown, viewer: str) -> Spans:
    if e.topic and e.format == "markdown":  # a page of content/help, made plain
        page = helptext.markdown_spans(e.body)
        if page and page[0][0] == "heading":
            return page
        return [("heading", f"Help: {e.topic}"), ("", "\n"), *page]
    if e.topic:
        body = "\n".join(helptext.inline(line) for line in e.body.split("\n"))
        return [("heading", f"Help: {e.topic}"), ("", "\n" + body)]
    by_cat: dict[str, list[str]] = {}
    for c in e.commands:
        by_cat.setdefault(c["category"], []).append(c["name"])
    spans: Spans = [("heading", "Commands"), ("", "\n")]
    for cat, names in by_cat.items():
        spans.append(("dim", f"{cat:<14}"))
        spans.append(("", " ".join(names) + "\n"))
    spans.append(("", "Type 'help <group>' for a group's commands (help combat), "
                      "'help <command>' for details, 'help newbie' to get started."))
    return spans


def _inventory(e: ev.InventoryListed, viewer: str) -> Spans:
    gold = f"\nGold: {e.gold}" if e.gold else ""
    if not e.items:
        return [("", "You are carrying nothing."), ("dim", gold)]
    spans: Spans = [("heading", "You are carrying:")]
    for it in e.items:
        spans.append(("item", f"\n  {it['name']}"))
    count = f"  Items {e.count}/{e.max_count}" if e.max_count else ""
    spans.append(("dim", f"\nWeight {e.weight}/{e.max_weight}{count}{gold}"))
    return spans


def _item_moved(e: ev.ItemMoved, viewer: str) -> Spans:
    verb = {"got": ("get", "gets"), "dropped": ("drop", "drops"), "put": ("put", "puts"),
            "taken_from": ("get", "gets"), "given": ("give", "gives")}.get(
                e.action, (e.action, e.action))
    tail: Spans = [("", ".")]
    if e.action == "put" and e.container:
        tail = [("", " in "), ("item", e.container), ("", ".")]
    elif e.action == "taken_from" and e.container:
        tail = [("", " from "), ("item", e.container), ("", ".")]
    elif e.action == "given" and e.target:
        if e.target == viewer:
            return [("character", _cap(e.actor)), ("", " gives you "), ("item", e.item),
                    ("", ".")]
        tail = [("", " to "), ("character", e.target), ("", ".")]
    if e.actor == viewer:
        return [("", f"You {verb[0]} "), ("item", e.item), *tail]
    return [("character", _cap(e.actor)), ("", f" {verb[1]} "), ("item", e.item), *tail]


def _position(e: ev.PositionChanged, viewer: str) -> Spans:
    you = {"resting": "You sit down and rest.", "sleeping": "You go to sleep.",
           "standing": "You stand up."}
    them = {"resting": " sits down and rests.", "sleeping": " goes to sleep.",
            "standing": " stands up."}
    if e.actor == viewer:
        return [("", you.get(e.position, f"You are {e.position}."))]
    return [("character", e.actor), ("", them.get(e.position, f" is {e.position}."))]


def _message(e: ev.Message, viewer: str) -> Spans:
    return [("warning" if e.level == "warning" else "notice" if e.level == "notice" else "",
             e.text)]


def _stats(e: ev.StatsShown, viewer: str) -> Spans:
    lines = [f"{k:<22} {v}" for k, v in e.stats.items()]
    return [("heading", "Server statistics"), ("", "\n" + "\n".join(lines))]


def _setting(e: ev.SettingChanged, viewer: str) -> Spans:
    if e.key == "color":
        return [("notice", "Colour is on.")] if e.value else [("", "Colour is off.")]
    if e.key == "prompt":
        return [("", f"Your prompt: {e.value!r}" if e.value else "Your prompt is off.")]
    if e.key == "width":
        if e.value is None:
            return [("", f"Text wraps to your client's window, or at {DEFAULT_WIDTH} columns "
                         "when it does not say its size.")]
        return [("", f"Text wraps at {e.value} columns." if e.value else "Text is not wrapped.")]
    if e.key == "aliases":
        if not e.value:
            return [("", "You have no aliases.")]
        return [("heading", "Aliases:"),
                *[("", f"\n  {k:<10} {v}") for k, v in sorted(e.value.items())]]
    return [("", f"{e.key}: {e.value}")]


RENDERERS: dict[type, Callable[[Any, str], Spans]] = {
    ev.RoomShown: _room,
    ev.Vitals: _vitals,
    ev.Arrived: _arrived,
    ev.Departed: _departed,
    ev.Entered: _entered,
    ev.Left: _left,
    ev.LinkLost: _link_lost,
    ev.DoorChanged: _door,
    ev.Said: _said,
    ev.Told: _told,
    ev.Shouted: _shouted,
    ev.Emoted: _emoted,
    ev.LookedAt: _looked,
    ev.WhoListed: _who_listed,
    ev.ScoreShown: _score,
    ev.HelpShown: _help,
    ev.InventoryListed: _inventory,
    ev.ItemMoved: _item_moved,
    ev.PositionChanged: _position,
    ev.Message: _message,
    ev.StatsShown: _stats,
    ev.SettingChanged: _setting,
}


R = Any


def renders(event_type: type[ev.Event]) -> Callable[[Callable[[R, str], Spans]],
                                                     Callable[[R, str], Spans]]:
    """Register the renderer of one event type (every wire event needs one)."""

    def deco(fn: Callable[[R, str], Spans]) -> Callable[[R, str], Spans]:
        RENDERERS[event_type] = fn
        return fn

    return deco


def render(event: ev.Event, viewer: str) -> Spans:
    """The spans `viewer` (a character name) reads for `event`."""
    fn = RENDERERS.get(type(event))
    if fn is None:
        return [("dim", f"[{event.name}]")]
    return fn(event, viewer)


def perspective(event: ev.Event, viewer: str, cache: dict[Any, Any] | None = None) -> str:
    """Who reads `event` as far as its text goes: the viewer's own name if the viewer is
    one of the people it names (the text may say "You"), else "" (a bystander).

    Bystanders all read the same words, so their text (and encoded frame) is made once
    however many are in the room; only the people named get their own.
    """
    if not viewer or type(event) not in _PERSONAL:
        return ""
    names = personal_names(event, cache)
    return viewer if names is None or viewer in names else ""


def personal_names(event: ev.Event, cache: dict[Any, Any] | None = None
                   ) -> frozenset[str] | None:
    """The names of those who read `event` in words of their own (the text may say
    "You"); everyone else reads the same words. None: every reader has words of their
    own (an event whose data is too nested to tell). `cache` (one per fan-out pass)
    keeps them, so a `say` heard by fifty people is looked through once, not fifty
    times."""
    if type(event) not in _PERSONAL:
        return _NOBODY
    names: frozenset[str] | None
    if cache is None:
        names = _names(event)
    else:
        key = ("names", id(event))
        names = cache.get(key)
        if names is None:
            names = cache[key] = _names(event)
    return None if names is _EVERYONE else names


_NOBODY: frozenset[str] = frozenset()
_EVERYONE: frozenset[str] = frozenset({"\x00everyone"})
"""`_names` of an event with nested values: every reader gets their own text."""


def _names(event: ev.Event) -> frozenset[str]:
    names = []
    for value in event.to_data().values():
        if isinstance(value, list | dict):  # nested: play safe
            return _EVERYONE
        if isinstance(value, str):
            names.append(value)
    return frozenset(names)


def is_personal(event: ev.Event) -> bool:
    """Whether the text of `event` depends on who reads it (You vs a name)."""
    return type(event) in _PERSONAL


_PERSONAL = {ev.DoorChanged, ev.Said, ev.Told, ev.Shouted, ev.ItemMoved, ev.PositionChanged,
             ev.RoomShown}


# ---- combat ------------------------------------------------------------------------


@renders(ev.FightStarted)
def _fight_started(e: ev.FightStarted, viewer: str) -> Spans:
    whom: Spans = [("mob", e.target)] if e.target_kind == "mob" else _who(e.target,
                                                                          e.target_kind)
    if e.actor == viewer:
        return [("warning", "You attack "), *whom, ("warning", "!")]
    if e.target == viewer:
        return [*_who(e.actor, e.kind), ("warning", " attacks you!")]
    return [*_who(e.actor, e.kind), ("", " attacks "), *whom, ("", "!")]


def _name(name: str, viewer: str, cap: bool) -> str:
    if name == viewer:
        return "You" if cap else "you"
    return name[:1].upper() + name[1:] if cap else name


@renders(ev.HitLanded)
def _hit(e: ev.HitLanded, viewer: str) -> Spans:
    who = _name(e.actor, viewer, True)
    whom = _name(e.target, viewer, False)
    if e.damage == 0:
        verb = "miss" if e.actor == viewer else "misses"
        return [("dim", f"{who} {verb} {whom}.")]
    verb = "hit" if e.actor == viewer else "hits"
    crit = " A critical hit!" if e.critical else ""
    style = "notice" if e.actor == viewer else ("warning" if e.target == viewer else "")
    return [(style, f"{who} {verb} {whom} for {e.damage} damage.{crit}"
                    f"{_condition_after(e.target, e.condition, viewer)}")]


_CONDITION_TEXT = {"excellent": "is in excellent condition", "a few scratches":
                   "has a few scratches", "wounded": "is wounded", "badly wounded":
                   "is badly wounded", "awful": "is in awful condition"}


def _condition_after(target: str, condition: str | None, viewer: str) -> str:
    """" The rat is badly wounded." after a blow, telling how hurt its target is now (not
    for the viewer's own hurts: the prompt and the vitals tell those; nothing for a
    killing blow: `died` follows)."""
    if target == viewer or condition not in _CONDITION_TEXT:
        return ""
    return f" {_name(target, viewer, True)} {_CONDITION_TEXT[condition]}."


@renders(ev.Died)
def _died(e: ev.Died, viewer: str) -> Spans:
    if e.actor == viewer:
        return [("warning", "You are DEAD! You wake, weak, at your recall point.")]
    by = f", slain by {_name(e.killer, viewer, False)}" if e.killer else ""
    return [*_who(e.actor, e.kind), ("warning", f" is dead{by}!")]


@renders(ev.Decayed)
def _decayed(e: ev.Decayed, viewer: str) -> Spans:
    return [("dim", f"{_name(e.item, viewer, True)} crumbles into dust.")]


# ---- items, equipment and shops ----------------------------------------------------


@renders(ev.GoldChanged)
def _gold_changed(e: ev.GoldChanged, viewer: str) -> Spans:
    return [("dim", f"You now have {e.total} gold.")]


@renders(ev.LimitReached)
def _limit_reached(e: ev.LimitReached, viewer: str) -> Spans:
    why = {"too_heavy": "it would be too heavy for you",
           "too_many": "your hands are full",
           "container_full": "there is no more room in it"}.get(e.limit, e.limit)
    things = "item stays" if e.left == 1 else "items stay"
    return [("warning", f"{e.left} {things} behind: {why}.")]


@renders(ev.ItemExamined)
def _item_examined(e: ev.ItemExamined, viewer: str) -> Spans:
    d = e.details
    spans: Spans = [("item", _cap(e.item)), ("", "\n" + e.description)]
    facts = [f"{d.get('type', 'item')}, weight {d.get('weight', 0)}"]
    if d.get("slot"):
        facts.append(f"worn: {d['slot']}")
    if d.get("damage"):
        facts.append(f"damage {d['damage']}" + (", two-handed" if d.get("two_handed") else ""))
    if d.get("armor"):
        facts.append(f"armour {d['armor']}")
    if d.get("level"):
        facts.append(f"level {d['level']}")
    if d.get("classes"):
        facts.append("for " + ", ".join(d["classes"]))
    if "capacity" in d:
        facts.append(f"holds {d.get('holding', 0)}/{d['capacity']}")
    if "max_portions" in d:
        facts.append(_nourish_fact(d))
    spans.append(("dim", "\n" + "; ".join(facts)))
    if e.contents or e.gold:
        spans.append(("", "\nInside:"))
        for it in e.contents:
            spans.append(("item", f"\n  {it['name']}"))
        if e.gold:
            spans.append(("item", f"\n  {e.gold} gold"))
    elif "capacity" in d or d.get("type") == "corpse":
        spans.append(("", "\nIt is empty."))
    return spans


def _nourish_fact(d: dict[str, Any]) -> str:
    """"each drink: +15 moves, 3 of 5 left, refill at water" for a food or drink."""
    eat = d.get("type") == "food"
    gains = ", ".join(f"+{v} {k}" for k, v in (d.get("nourish") or {}).items()) or "nothing"
    fact = f"{'eat' if eat else 'drink'}: {gains}"
    total = d.get("max_portions", 1)
    if total > 1 or d.get("refill"):
        fact = f"each {'bite' if eat else 'drink'}: {gains}, {d.get('portions', 0)} of {total} left"
    if d.get("refill"):
        fact += ", refill at water (fill)"
    return fact


_WORN_AT = {
    "light": "as a light", "head": "on your head", "neck1": "around your neck",
    "neck2": "around your neck", "body": "on your body", "arms": "on your arms",
    "hands": "on your hands", "wrist1": "around your wrist", "wrist2": "around your wrist",
    "waist": "around your waist", "legs": "on your legs", "feet": "on your feet",
    "offhand": "in your off hand", "finger1": "on your finger", "finger2": "on your finger",
}


@renders(ev.EquipmentChanged)
def _equipment_changed(e: ev.EquipmentChanged, viewer: str) -> Spans:
    you = e.actor == viewer
    who: Spans = [("", "You")] if you else [("character", _cap(e.actor))]
    if e.action == "removed":
        return [*who, ("", " stop using " if you else " stops using "), ("item", e.item),
                ("", ".")]
    if e.slot == "wield":
        return [*who, ("", " wield " if you else " wields "), ("item", e.item), ("", ".")]
    if e.slot in ("light", "offhand"):
        return [*who, ("", " hold " if you else " holds "), ("item", e.item), ("", ".")]
    where = " " + _WORN_AT.get(e.slot, "") if you else ""
    return [*who, ("", " wear " if you else " wears "), ("item", e.item), ("", f"{where}.")]


@renders(ev.EquipmentListed)
def _equipment_listed(e: ev.EquipmentListed, viewer: str) -> Spans:
    spans: Spans = [("heading", "You are using:")]
    for entry in e.slots:
        spans.append(("dim", f"\n  {'<' + entry['slot'] + '>':<10} "))
        spans.append(("item", entry["item"]) if entry["item"] else ("dim", "(nothing)"))
    spans.append(("", f"\nArmour class {e.armor_class}"))
    return spans


@renders(ev.ShopListed)
def _shop_listed(e: ev.ShopListed, viewer: str) -> Spans:
    keeper = _cap(e.shopkeeper)
    if not e.items:
        spans: Spans = [("", f"{keeper} has nothing for sale.")]
    else:
        spans = [("heading", f"{keeper} sells:")]
        for it in e.items:
            spans.append(("dim", f"\n  {it['price']:>6} gold  "))
            spans.append(("item", it["name"]))
            if it.get("level"):
                spans.append(("dim", f" (level {it['level']})"))
    if e.buys:
        spans.append(("", f"\n{keeper} buys: {', '.join(e.buys)}."))
    return spans


@renders(ev.ItemBought)
def _item_bought(e: ev.ItemBought, viewer: str) -> Spans:
    if e.actor == viewer:
        return [("", "You buy "), ("item", e.item),
                ("", f" from {e.shopkeeper} for {e.price} gold.")]
    return [("character", _cap(e.actor)), ("", " buys "), ("item", e.item),
            ("", f" from {e.shopkeeper}.")]


@renders(ev.ItemSold)
def _item_sold(e: ev.ItemSold, viewer: str) -> Spans:
    if e.actor == viewer:
        return [("", "You sell "), ("item", e.item),
                ("", f" to {e.shopkeeper} for {e.price} gold.")]
    return [("character", _cap(e.actor)), ("", " sells "), ("item", e.item),
            ("", f" to {e.shopkeeper}.")]


@renders(ev.Valued)
def _valued(e: ev.Valued, viewer: str) -> Spans:
    return [("", f"{_cap(e.shopkeeper)} would give you {e.price} gold for "), ("item", e.item),
            ("", ".")]


_PERSONAL.update({ev.EquipmentChanged, ev.ItemBought, ev.ItemSold})


# ---- magic: spells, skills and effects -----------------------------------------------


def _spell(sid: str) -> str:
    return sid.replace("_", " ")


def _whose(name: str, viewer: str, cap: bool) -> str:
    if name == viewer:
        return "Your" if cap else "your"
    return _name(name, viewer, cap) + "'s"


@renders(ev.SpellCast)
def _spell_cast(e: ev.SpellCast, viewer: str) -> Spans:
    spell = _spell(e.spell)
    at = ""
    if e.target is not None and e.target != e.actor:
        at = f" at {_name(e.target, viewer, False)}"
    elif e.target == e.actor and e.actor != viewer:
        at = " on themselves"
    if e.actor == viewer:
        return [("magic", f"You utter the words, '{spell}'{at}.")]
    return [*_who(e.actor, e.kind), ("magic", f" utters the words, '{spell}'{at}.")]


@renders(ev.SpellFailed)
def _spell_failed(e: ev.SpellFailed, viewer: str) -> Spans:
    if e.reason == "no_effect":
        return [("dim", "Nothing seems to happen.")]
    if e.actor == viewer:
        return [("dim", "You lose your concentration.")]
    return [("dim", f"{_whose(e.actor, viewer, True)} {_spell(e.spell)} fizzles.")]


@renders(ev.SpellHit)
def _spell_hit(e: ev.SpellHit, viewer: str) -> Spans:
    style = "notice" if e.actor == viewer else ("warning" if e.target == viewer else "magic")
    return [(style, f"{_whose(e.actor, viewer, True)} {_spell(e.spell)} hits "
                    f"{_name(e.target, viewer, False)} for {e.damage} damage."
                    f"{_condition_after(e.target, e.condition, viewer)}")]


@renders(ev.Healed)
def _healed(e: ev.Healed, viewer: str) -> Spans:
    if e.target == viewer:
        if e.actor == viewer:
            return [("notice", f"You feel better (+{e.amount} hp).")]
        return [("notice", f"{_name(e.actor, viewer, True)} heals you (+{e.amount} hp).")]
    who = _name(e.actor, viewer, True)
    verb = "heal" if e.actor == viewer else "heals"
    whom = "themselves" if e.target == e.actor else _name(e.target, viewer, False)
    return [("magic", f"{who} {verb} {whom}.")]


_STATES = {"stunned": ("You are stunned!", "is stunned!"),
           "hasted": ("You feel yourself speed up.", "starts moving faster.")}


@renders(ev.EffectStarted)
def _effect_started(e: ev.EffectStarted, viewer: str) -> Spans:
    secs = f" ({e.duration // 10} s)" if e.duration else ""
    state = next((_STATES[f] for f in e.flags if f in _STATES), None)
    if e.target == viewer:
        if e.refreshed:
            return [("magic", f"Your {_spell(e.effect)} is renewed{secs}.")]
        if state is not None:
            return [("warning" if "stunned" in e.flags else "magic", state[0] + secs)]
        return [("magic", f"You are affected by {_spell(e.effect)}{secs}.")]
    who = _name(e.target, viewer, True)
    if e.refreshed:
        return [("magic", f"{who}'s {_spell(e.effect)} is renewed.")]
    if state is not None:
        return [("magic", f"{who} {state[1]}")]
    return [("magic", f"{who} is affected by {_spell(e.effect)}.")]


@renders(ev.EffectEnded)
def _effect_ended(e: ev.EffectEnded, viewer: str) -> Spans:
    return [("dim", f"{_whose(e.target, viewer, True)} {_spell(e.effect)} wears off.")]


@renders(ev.EffectTicked)
def _effect_ticked(e: ev.EffectTicked, viewer: str) -> Spans:
    if e.target == viewer:
        return [("warning", f"You suffer {e.damage} damage from {_spell(e.effect)}.")]
    return [("magic", f"{_name(e.target, viewer, True)} suffers {e.damage} damage from "
                      f"{_spell(e.effect)}.")]


@renders(ev.SkillUsed)
def _skill_used(e: ev.SkillUsed, viewer: str) -> Spans:
    whose = _whose(e.actor, viewer, True)
    whom = _name(e.target, viewer, False)
    if not e.success:
        return [("dim", f"{whose} {_spell(e.skill)} misses {whom}.")]
    style = "notice" if e.actor == viewer else ("warning" if e.target == viewer else "")
    return [(style, f"{whose} {_spell(e.skill)} hits {whom} for {e.damage} damage!"
                    f"{_condition_after(e.target, e.condition, viewer)}")]


@renders(ev.Rescued)
def _rescued(e: ev.Rescued, viewer: str) -> Spans:
    who = _name(e.actor, viewer, True)
    verb = "rescue" if e.actor == viewer else "rescues"
    return [("notice", f"{who} {verb} {_name(e.target, viewer, False)} from "
                       f"{_name(e.foe, viewer, False)}!")]


@renders(ev.Dodged)
def _dodged(e: ev.Dodged, viewer: str) -> Spans:
    who = _name(e.actor, viewer, True)
    verb = "dodge" if e.actor == viewer else "dodges"
    return [("dim", f"{who} {verb} {_whose(e.attacker, viewer, False)} attack.")]


@renders(ev.SpellsListed)
def _spells_listed(e: ev.SpellsListed, viewer: str) -> Spans:
    what = "skills" if e.skills else "spells"
    if not e.spells:
        return [("", f"You know no {what}.")]
    spans: Spans = [("heading", f"Your {what}:")]
    for row in e.spells:
        level = f"level {row['level']:>2}" if row.get("level") is not None else "        "
        mana = f"  mana {row['mana']:>3}" if row["mana"] else ""
        if not row["learned"]:
            spans.append(("dim", f"\n  {row['name']:<16} {level}  (not learned yet)"))
            continue
        ready = f"  ready in {(row['ready_in'] + 9) // 10} s" if row["ready_in"] else ""
        spans.append(("", f"\n  {row['name']:<16} {level}{mana}  {row['proficiency']}%"
                          f"{ready}"))
    return spans


@renders(ev.ItemIdentified)
def _identified(e: ev.ItemIdentified, viewer: str) -> Spans:
    d = e.details
    lines = [f"Type {d.get('type')}, weight {d.get('weight')}, value {d.get('value')}"]
    if d.get("level"):
        lines.append(f"Level {d['level']} and above")
    if d.get("classes"):
        lines.append("Only for: " + ", ".join(d["classes"]))
    if d.get("slot"):
        lines.append(f"Worn: {d['slot']}")
    if d.get("damage"):
        two = ", two-handed" if d.get("two_handed") else ""
        lines.append(f"Damage {d['damage']} (average {d.get('average_damage')}){two}")
    if d.get("armor"):
        lines.append(f"Armour {d['armor']}")
    if d.get("mods"):
        lines.append("Affects: " + ", ".join(f"{k} {v:+d}" for k, v in d["mods"].items()))
    if d.get("effects"):
        lines.append("Spells: " + ", ".join(_spell(s) for s in d["effects"]))
    if d.get("capacity"):
        lines.append(f"Holds {d['capacity']} weight")
    return [("item", _cap(e.item)), ("", "\n" + "\n".join(lines))]


@renders(ev.ItemUsed)
def _item_used(e: ev.ItemUsed, viewer: str) -> Spans:
    verbs = {"quaffed": ("quaff", "quaffs"), "recited": ("recite", "recites")}
    you, they = verbs.get(e.action, (e.action, e.action))
    if e.actor == viewer:
        return [("", f"You {you} "), ("item", e.item), ("", ".")]
    return [("character", e.actor), ("", f" {they} "), ("item", e.item), ("", ".")]


@renders(ev.ItemConsumed)
def _item_consumed(e: ev.ItemConsumed, viewer: str) -> Spans:
    eat = e.action == "ate"
    part = "" if e.gone else (" some of" if eat else " from")
    if e.actor != viewer:
        return [("character", e.actor), ("", f" {'eats' if eat else 'drinks'}{part} "),
                ("item", e.item), ("", ".")]
    gains = [f"+{n} {what}" for n, what in ((e.hp, "hp"), (e.mana, "mana"), (e.moves, "moves"))
             if n]
    tail = f" ({', '.join(gains)})" if gains else ""
    if not e.gone:
        unit = ("bite" if eat else "drink") + ("" if e.left == 1 else "s")
        tail += f" {e.left} {unit} left." if e.left else " It is empty now."
    return [("", f"You {'eat' if eat else 'drink'}{part} "), ("item", e.item),
            ("", f".{tail}")]


@renders(ev.ItemFilled)
def _item_filled(e: ev.ItemFilled, viewer: str) -> Spans:
    if e.actor == viewer:
        return [("", "You fill "), ("item", e.item),
                ("", f" with fresh water ({e.portions} drinks).")]
    return [("character", e.actor), ("", " fills "), ("item", e.item),
            ("", " with water.")]


_PERSONAL.update({ev.SpellCast, ev.SpellFailed, ev.SpellHit, ev.Healed, ev.EffectStarted,
                  ev.EffectEnded, ev.EffectTicked, ev.SkillUsed, ev.Rescued, ev.Dodged,
                  ev.ItemUsed, ev.ItemConsumed, ev.ItemFilled})


# ---- quests and trainers -------------------------------------------------------------


def _reward_text(r: dict[str, Any]) -> str:
    parts = []
    if r.get("xp"):
        parts.append(f"{r['xp']} XP")
    if r.get("gold"):
        parts.append(f"{r['gold']} gold")
    parts.extend(r.get("items") or [])
    return ", ".join(parts) if parts else "nothing but thanks"


def _quest_goal(kind: str, target: str, count: int, to: str | None) -> str:
    if kind == "kill":
        return f"kill {target}" + (f" ({count})" if count > 1 else "")
    if kind == "collect":
        return f"bring {target}" + (f" ({count})" if count > 1 else "")
    return f"deliver {target} to {to or 'someone'}"


@renders(ev.QuestListed)
def _quest_listed(e: ev.QuestListed, viewer: str) -> Spans:
    spans: Spans = [("heading", "Quests offered here:")]
    state = {"accepted": " (accepted)", "too_low": " (too hard for you yet)"}
    for row in e.quests:
        spans.append(("", f"\n  {row['n']}. "))
        spans.append(("notice", row["title"]))
        spans.append(("dim", f" [level {row['level']}, from {row['giver']}]"
                             f"{state.get(row['state'], '')}"))
        goal = _quest_goal(row["kind"], row["target"], row["count"], row["to"])
        spans.append(("", f"\n     {_cap(goal)}. Reward: {_reward_text(row['reward'])}."))
    spans.append(("dim", "\nType 'quest accept <number>' to take one on."))
    return spans


@renders(ev.QuestAccepted)
def _quest_accepted(e: ev.QuestAccepted, viewer: str) -> Spans:
    spans: Spans = [("notice", f"You accept the quest '{e.title}'."),
                    ("", "\n" + e.description)]
    if e.given:
        spans.append(("", f"\n{_cap(e.giver)} hands you "))
        spans.extend([("item", e.given), ("", ".")])
    return spans


@renders(ev.QuestProgressed)
def _quest_progressed(e: ev.QuestProgressed, viewer: str) -> Spans:
    done = " Return to claim your reward!" if e.count >= e.needed else ""
    return [("notice", f"Quest '{e.title}': {e.count}/{e.needed}.{done}")]


@renders(ev.QuestCompleted)
def _quest_completed(e: ev.QuestCompleted, viewer: str) -> Spans:
    return [("notice", f"Quest complete: '{e.title}'!"),
            ("", f" You receive {_reward_text(e.rewards)}.")]


@renders(ev.QuestAbandoned)
def _quest_abandoned(e: ev.QuestAbandoned, viewer: str) -> Spans:
    return [("", f"You abandon the quest '{e.title}'.")]


_QUEST_DONE = {"kill": "killed", "collect": "carried"}


@renders(ev.QuestStatusShown)
def _quest_status(e: ev.QuestStatusShown, viewer: str) -> Spans:
    if not e.quests and not e.done:
        return [("", "You are on no quest. Look for quest givers and type 'quest list'.")]
    spans: Spans = [("heading", "Your quests:")]
    if not e.quests:
        spans.append(("", "\n  none under way"))
    for n, row in enumerate(e.quests, 1):
        spans.append(("", f"\n  {n}. "))
        spans.append(("notice", row["title"]))
        goal = _quest_goal(row["kind"], row["target"], 1, row["turn_in"])
        spans.append(("", f": {goal}."))
        done = _QUEST_DONE.get(row["kind"], "done")
        if row["kind"] == "deliver":
            if row["count"] >= row["needed"]:
                spans.append(("notice", f" Delivered: ready to hand in to {row['turn_in']}."))
            elif row["ready"]:
                spans.append(("notice", f" You carry it: give it to {row['turn_in']}."))
            else:
                spans.append(("", f" Not yet: you no longer carry {row['target']}."))
        elif row["ready"]:
            spans.append(("notice", f" {row['count']} of {row['needed']} {done}: ready to "
                                    f"hand in to {row['turn_in']}."))
        else:
            spans.append(("", f" Not yet: {row['count']} of {row['needed']} {done}."))
    if e.done:
        spans.append(("dim", f"\nDone: {', '.join(e.done)}."))
    return spans


@renders(ev.PracticeListed)
def _practice_listed(e: ev.PracticeListed, viewer: str) -> Spans:
    if not e.skills:
        return [("", f"{_cap(e.trainer)} has nothing to teach you.")]
    spans: Spans = [("heading", f"{_cap(e.trainer)} can teach you:")]
    for s in e.skills:
        known = f"{s['proficiency']}%" if s["proficiency"] is not None else "not learned"
        when = "" if s["can"] else (f" (from level {s['level']})"
                                    if s["proficiency"] is None or s["proficiency"] < s["max"]
                                    else " (mastered here)")
        spans.append(("", f"\n  {s['title']:<20} {known:>12}  {s['cost']:>5} gold{when}"))
    spans.append(("dim", f"\nYou have {e.gold} gold. Type 'practice <skill>'."))
    return spans


@renders(ev.Practiced)
def _practiced(e: ev.Practiced, viewer: str) -> Spans:
    return [("notice", f"You practise {e.title} with {e.trainer}: now {e.proficiency}%"),
            ("dim", f" (up to {e.max}% here; {e.cost} gold).")]


# ---- combat commands, groups and progression -----------------------------------------


@renders(ev.Fled)
def _fled(e: ev.Fled, viewer: str) -> Spans:
    you = e.actor == viewer
    if not e.success:
        if you:
            return [("warning", "PANIC! You couldn't escape!")]
        return [*_who(e.actor, e.kind), ("", " tries to flee, but can't get away!")]
    way = f" {e.direction}" if e.direction else ""
    if you:
        why = "Your nerve breaks! " if e.wimpy else ""
        return [("warning", f"{why}You flee{way}, head over heels!")]
    return [*_who(e.actor, e.kind), ("", f" panics, and flees{way}!")]


@renders(ev.Considered)
def _considered(e: ev.Considered, viewer: str) -> Spans:
    say = {
        "easy": "Easy! You could take them with one hand tied behind your back.",
        "fair": "A fair fight, and the odds are with you.",
        "risky": "Risky: this could go either way.",
        "deadly": "Deadly! You would not live to tell of it.",
    }
    level = ("same level as you" if e.level_diff == 0
             else f"{abs(e.level_diff)} level{'s' if abs(e.level_diff) != 1 else ''} "
                  f"{'above' if e.level_diff > 0 else 'below'} you")
    style = {"easy": "notice", "deadly": "warning", "risky": "warning"}.get(e.verdict, "")
    xp = f", worth about {e.xp} XP" if e.xp else ""
    joined = ""
    if e.joined_by:
        them = ", ".join(e.joined_by[:-1]) + " and " + e.joined_by[-1] \
            if len(e.joined_by) > 1 else e.joined_by[0]
        joined = f"\n{_cap(them)} would fight you too."
    they = "they do" if e.joined_by else "it does"
    if e.brief:  # one of `consider all`: a short line
        also = f", with {len(e.joined_by)} more" if e.joined_by else ""
        return [*_who(e.target, e.target_kind), ("", f" ({level}{xp}): "),
                (style, f"{e.verdict}{also}.")]
    spans: Spans = [*_who(e.target, e.target_kind), ("", f" ({level}{xp}): "),
                    (style, say.get(e.verdict, e.verdict))]
    if joined:
        spans.append(("warning", joined))
    return [*spans,
            ("dim", f"\nYou hit {e.hit_chance}% for ~{e.damage_per_round}/round and need "
                    f"~{e.rounds_to_win} rounds; {they} ~{e.damage_taken_per_round}/round "
                    f"and need{'' if e.joined_by else 's'} ~{e.rounds_to_lose}.")]


@renders(ev.Assisted)
def _assisted(e: ev.Assisted, viewer: str) -> Spans:
    if e.actor == viewer:
        return [("", f"You join {_name(e.ally, viewer, False)}'s fight against {e.target}!")]
    return [*_who(e.actor, e.kind),
            ("", f" joins {_name(e.ally, viewer, False)} against {_name(e.target, viewer, False)}"
                 "!")]


@renders(ev.WimpySet)
def _wimpy(e: ev.WimpySet, viewer: str) -> Spans:
    if e.hp <= 0:
        return [("", "You will fight to the death (wimpy is off).")]
    return [("", f"You will flee when your hit points fall below {e.hp}.")]


@renders(ev.XpGained)
def _xp_gained(e: ev.XpGained, viewer: str) -> Spans:
    if e.reason == "quest":
        why = f" for the quest '{e.title}'" if e.title else " for a quest"
    else:
        why = f" for {e.title or e.source}" if e.title or e.source else ""
    return [("notice", f"You gain {e.amount} experience{why}."),
            ("dim", f" ({e.xp}/{e.xp_next})")]


@renders(ev.XpLost)
def _xp_lost(e: ev.XpLost, viewer: str) -> Spans:
    return [("warning", f"You lose {e.amount} experience ({e.reason})."),
            ("dim", f" ({e.xp}/{e.xp_next})")]


@renders(ev.LevelGained)
def _level_gained(e: ev.LevelGained, viewer: str) -> Spans:
    gains = [f"+{e.hp} hp"]
    if e.mana:
        gains.append(f"+{e.mana} mana")
    if e.moves:
        gains.append(f"+{e.moves} moves")
    gains.extend(f"+{n} {attr}" for attr, n in e.attributes.items())
    spans: Spans = [("notice", f"You raise a level! You are now level {e.level}."),
                    ("", " (" + ", ".join(gains) + ")")]
    for learned in e.learned:
        kind = "skill" if learned.get("skill") else "spell"
        spans.append(("notice", f"\nYou learn a new {kind}: {learned.get('name')}."))
    return spans


@renders(ev.Followed)
def _followed(e: ev.Followed, viewer: str) -> Spans:
    if e.leader is None:
        if e.actor == viewer:
            return [("", f"You stop following {e.previous}.")]
        return [("character", e.actor), ("", " stops following you.")]
    if e.actor == viewer:
        return [("", f"You now follow {e.leader}.")]
    if e.leader == viewer:
        return [("character", e.actor), ("", " now follows you.")]
    return [("character", e.actor), ("", f" stops following you and follows {e.leader}.")]


@renders(ev.GroupChanged)
def _group_changed(e: ev.GroupChanged, viewer: str) -> Spans:
    if e.member == viewer:
        if e.joined:
            return [("notice", f"You are now a member of {e.leader}'s group.")]
        return [("", f"You are no longer a member of {e.leader}'s group.")]
    leader = "your" if e.leader == viewer else f"{e.leader}'s"
    verb = "joins" if e.joined else "leaves"
    return [("character", e.member), ("", f" {verb} {leader} group.")]


@renders(ev.GroupListed)
def _group_listed(e: ev.GroupListed, viewer: str) -> Spans:
    spans: Spans = [("heading", f"{e.leader}'s group:")]
    for m in e.members:
        tag = " (leader)" if m.get("leader") else ""
        where = "" if m.get("here") else " (elsewhere)"
        spans.append(("", f"\n  [{m['level']:>2} {str(m['class'])[:3].capitalize()}] "))
        spans.extend(_who(m["name"], m["kind"]))
        spans.append(("dim", f"{tag}  HP {m['hp']}/{m['max_hp']}  Mana {m['mana']}/"
                             f"{m['max_mana']}  Moves {m['moves']}/{m['max_moves']}{where}"))
    return spans


@renders(ev.GroupTold)
def _group_told(e: ev.GroupTold, viewer: str) -> Spans:
    text = strip_controls(e.text)
    if e.actor == viewer:
        return [("tell", f"You tell your group, '{text}'")]
    return [*_who(e.actor, e.kind), ("tell", f" tells the group, '{text}'")]


_PERSONAL.update({ev.FightStarted, ev.HitLanded, ev.Died, ev.Fled, ev.Assisted, ev.Followed,
                  ev.GroupChanged, ev.GroupTold})


def error_spans(message: str) -> Spans:
    """A refusal or error, as people read it."""
    return [("error", message)]


def prompt_spans(text: str) -> Spans:
    """The prompt shown after output in text mode."""
    return [("prompt", strip_controls(text))]


# ---- administration ------------------------------------------------------------------

_MODERATED = {
    "kick": "You throw {target} out", "ban": "You ban {target}", "unban": "You lift the ban on "
    "{target}", "mute": "You mute {target}", "unmute": "You unmute {target}",
    "promote": "{target} is now {role}", "announce": "Announced", "force": "You force {target}",
    "snoop": "You are snooping on {target}", "unsnoop": "You stop snooping",
    "shutdown": "Shutdown in {seconds} s", "reboot": "Reboot in {seconds} s",
    "cancel": "The countdown is called off", "export": "Zone {target} written to {path}",
}


@renders(ev.Moderated)
def _moderated(e: ev.Moderated, viewer: str) -> Spans:
    d = e.detail
    text = _MODERATED.get(e.action, e.action + " {target}").format_map(
        {"target": e.target, **{k: v for k, v in d.items() if isinstance(v, str | int)}})
    until = d.get("until")
    if e.action in ("ban", "mute"):
        text += f" until {until}" if until else " until lifted"
    if d.get("reason"):
        text += f" ({strip_controls(str(d['reason']))})"
    if e.action == "force" and d.get("error"):
        text += f"; it was refused: {d['error']}"
    return [("notice", text + ".")]


@renders(ev.RoleChanged)
def _role_changed(e: ev.RoleChanged, viewer: str) -> Spans:
    return [("notice", f"{e.by} made you {'an' if e.role == 'admin' else 'a'} {e.role} "
                       f"(you were {e.previous}). Type 'help' for what you may use now.")]


@renders(ev.AuditListed)
def _audit_listed(e: ev.AuditListed, viewer: str) -> Spans:
    if not e.rows:
        return [("", "No audit entries match.")]
    spans: Spans = [("heading", f"Audit log ({len(e.rows)}, newest first)")]
    for row in e.rows:
        when = str(row.get("at") or "")[:19].replace("T", " ")
        change = ""
        if row.get("before") is not None or row.get("after") is not None:
            change = f" {_short(row.get('before'))} -> {_short(row.get('after'))}"
        detail = f" ({strip_controls(str(row['detail']))})" if row.get("detail") else ""
        spans.append(("dim", f"\n{when} "))
        spans.append(("", f"{row.get('actor')} {row.get('action')} {row.get('target')}"
                          f"{detail}{change}"))
    return spans


def _short(value: Any, limit: int = 60) -> str:
    text = strip_controls(json.dumps(value, ensure_ascii=False, default=str)).replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


@renders(ev.Snooped)
def _snooped(e: ev.Snooped, viewer: str) -> Spans:
    prefix = f"{e.target}{'<' if e.input else '>'} "
    return [("dim", prefix + strip_controls(e.text).replace("\n", "\n" + prefix))]


# ---- building (world/building.py) ----------------------------------------------------------


def _value(value: Any, limit: int = 100) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False,
                                                           default=str)
    text = strip_controls(text).replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _built_text(e: bld.Built) -> str:
    d = e.detail
    kind = e.kind
    if kind.startswith(bld.UNDO_PREFIX):
        return f"You undo your {d.get('undone', kind[len(bld.UNDO_PREFIX):])} of {e.target}."
    if kind == "room.dig":
        return f"You dig {d['direction']} to {d['name']} ({e.target})."
    if kind == "exit.link":
        way = "one way" if d.get("oneway") else "and back"
        return f"You link {d['direction']} to {d['to']}, {way}."
    if kind == "exit.unlink":
        back = " and the way back" if d.get("both") else ""
        return f"You remove the exit {d['direction']} (to {d['to']}){back}."
    if kind == "door.set":
        door = d.get("door") or {}
        if d["action"] == "remove":
            return f"You take the door {d['direction']} away."
        if d["action"] == "add":
            lock = f", locked (key {door['key']})" if door.get("key") else ""
            return f"You put a {door.get('name', 'door')} {d['direction']}, closed{lock}."
        state = "locked" if door.get("locked") else "closed" if door.get("closed", True) \
            else "open"
        return f"The {door.get('name', 'door')} {d['direction']} is {state} now, and starts so."
    if kind == "room.set":
        if d["field"] == "flags" and "flag" in d:
            return f"The room's flag {d['flag']} is {'on' if d.get('on') else 'off'}."
        if d["field"] == "extras":
            return f"The room's extra '{d.get('keyword')}' is set."
        return f"The room's {d['field']}: {_value(d.get('value'))}"
    if kind == "proto.create":
        return f"You create the {d['kind']} prototype {e.target} ({d['name']})."
    if kind in ("proto.set", "zone.set"):
        return f"{e.target}: {d['field']} = {_value(d.get('value'))}"
    if kind == "char.set":
        return f"{d['name']}: {d['field']} = {_value(d.get('value'))}"
    if kind == "zone.create":
        return f"You create the zone {e.target}, {d['name']}; here is its first room, {d['room']}."
    if kind == "zone.reset":
        return f"Zone {e.target} reset: {d['made']} thing(s) appeared."
    if kind == "reset.add":
        return f"Reset {d['n']}: up to {d['count']} of {d['proto']} in {d['room']}."
    if kind == "reset.remove":
        return f"Reset {d['n']} ({d['proto']} in {d['room']}) removed."
    if kind in ("mob.spawn", "item.spawn"):
        where = "" if kind == "mob.spawn" else " (in your inventory)"
        return f"You spawn {d['name']}{where}."
    return f"{kind} {e.target}"


@renders(bld.Built)
def _built(e: bld.Built, viewer: str) -> Spans:
    return [("notice", _built_text(e))]


@renders(bld.Examined)
def _examined(e: bld.Examined, viewer: str) -> Spans:
    spans: Spans = [("heading", f"{e.kind} {e.id}: {strip_controls(e.title)}")]
    for key, value in e.fields.items():
        spans.append(("dim", f"\n  {key:<14} "))
        spans.append(("", _value(value, 200)))
    return spans


@renders(bld.ResetsListed)
def _resets_listed(e: bld.ResetsListed, viewer: str) -> Spans:
    spans: Spans = [("heading", f"Resets of zone {e.zone} (every {e.reset_minutes:g} min)")]
    if not e.resets:
        spans.append(("", "\n  none yet: `reset add mob|item <proto> [count]` here"))
    for r in e.resets:
        mark = "*" if r.get("here") else " "
        spans.append(("", f"\n{mark}{r['n']:>3}. {r['kind']} {r['proto']} ({r['name']}) "
                          f"x{r['count']} in {r['room']}"))
    return spans


@renders(bld.ZonesListed)
def _zones_listed(e: bld.ZonesListed, viewer: str) -> Spans:
    spans: Spans = [("heading", "Zones")]
    for z in e.zones:
        spans.append(("", f"\n  {z['id']:<12} {strip_controls(z['name'])}: {z['rooms']} rooms, "
                          f"{z['resets']} resets every {z['reset_minutes']:g} min, levels "
                          f"{z['levels'][0]}-{z['levels'][1]}"))
    return spans


@renders(bld.Purged)
def _purged(e: bld.Purged, viewer: str) -> Spans:
    things = ", ".join(e.things)
    if e.actor == viewer:
        return [("notice", f"You purge {things}.")]
    return [("character", _cap(e.actor)), ("", f" waves a hand, and {things} vanish.")]


@renders(bld.Teleported)
def _teleported(e: bld.Teleported, viewer: str) -> Spans:
    if e.actor == viewer and e.target == viewer:
        return [("notice", f"You teleport yourself to {e.to}.")]
    if e.actor == viewer:
        return [("notice", f"You send {e.target} to {e.to}.")]
    return [("notice", f"{_cap(e.actor)} teleports you away.")]


@renders(bld.ZoneExported)
def _zone_exported(e: bld.ZoneExported, viewer: str) -> Spans:
    counts = ", ".join(f"{n} {k}" for k, n in e.counts.items())
    return [("notice", f"Zone {e.zone} written to {e.path} ({counts}).")]


@renders(bld.ContentReloaded)
def _content_reloaded(e: bld.ContentReloaded, viewer: str) -> Spans:
    return [("notice", f"The world shimmers: its content was reloaded ({e.zones} zones, "
                       f"{e.rooms} rooms).")]


_PERSONAL.update({bld.Purged, bld.Teleported})
