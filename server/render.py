"""Events as text: each event becomes styled spans, then ANSI or plain text.

`render(event, viewer)` returns `Spans` (a list of `(style, text)` pairs) as the
viewer should read them ("You say" or "Ann says"). `ansi()` and `plain()` turn
spans into a string; styles are semantic (`room_name`, `say`...) and only
`ansi()` maps them to colours, so every client works without colour.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from typing import Any

from world import events as ev

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
    """Remove control characters (ESC and friends) that players could inject."""
    return "".join(c for c in text if c >= " " or c in "\n\t")


_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def wrap(text: str, width: int) -> str:
    """Word-wrap every line of `text` to `width` columns; ANSI codes take no room.

    Breaks at spaces (the space is dropped, its colour codes kept); a word longer
    than the width is cut. Existing line breaks stay.
    """
    width = max(width, 10)
    return "\n".join(_wrap_line(line, width) for line in text.split("\n"))


def _wrap_line(line: str, width: int) -> str:
    if len(line) <= width:
        return line
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
    out: list[str] = []
    start = 0
    while len(atoms) - start > width:
        cut = next((i for i in range(start + width, start, -1) if atoms[i][1] == " "), -1)
        if cut < 0:
            out.append("".join(a for a, _ in atoms[start:start + width]))
            start += width
        else:
            out.append("".join(a for a, _ in atoms[start:cut]) + atoms[cut][0][:-1])
            start = cut + 1
    out.append("".join(a for a, _ in atoms[start:]) + codes)
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


def _room(e: ev.RoomShown, viewer: str) -> Spans:
    spans: Spans = [("room_name", e.title), ("", "\n")]
    spans.append(("", textwrap.fill(e.description, 78) + "\n"))
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
        state = {"standing": "is here", "resting": "is resting here",
                 "sleeping": "is sleeping here", "fighting": "is here, fighting"}
        text = " " + state.get(ch["position"], "is here") + "."
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
    spans: Spans = [("", textwrap.fill(e.description, 78))]
    d = e.details
    if e.target_kind in ("player", "agent", "mob"):
        title = f" {d['title']}" if d.get("title") else ""
        spans.append(("", "\n"))
        spans.extend(_who(e.target, e.target_kind))
        spans.append(("", f"{title}, a level {d.get('level')} {d.get('class')}, "
                          f"is in {d.get('condition')} condition."))
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
        f"You are {s['position']} in {s['room']}.",
        f"Played: {s['played_seconds'] // 3600}h {s['played_seconds'] % 3600 // 60}m",
    ]
    return [("heading", lines[0]), ("", "\n" + "\n".join(lines[1:]))]


def _help(e: ev.HelpShown, viewer: str) -> Spans:
    if e.topic:
        return [("heading", f"Help: {e.topic}"), ("", "\n" + e.body)]
    by_cat: dict[str, list[str]] = {}
    for c in e.commands:
        by_cat.setdefault(c["category"], []).append(c["name"])
    spans: Spans = [("heading", "Commands"), ("", "\n")]
    for cat, names in by_cat.items():
        spans.append(("dim", f"{cat:<14}"))
        spans.append(("", " ".join(names) + "\n"))
    spans.append(("", "Type 'help <command>' for details, 'help newbie' to get started."))
    return spans


def _inventory(e: ev.InventoryListed, viewer: str) -> Spans:
    if not e.items:
        return [("", "You are carrying nothing.")]
    spans: Spans = [("heading", "You are carrying:")]
    for it in e.items:
        spans.append(("item", f"\n  {it['name']}"))
    spans.append(("dim", f"\nWeight {e.weight}/{e.max_weight}"))
    return spans


def _item_moved(e: ev.ItemMoved, viewer: str) -> Spans:
    verb = {"got": ("get", "gets"), "dropped": ("drop", "drops")}.get(e.action,
                                                                        (e.action, e.action))
    if e.actor == viewer:
        return [("", f"You {verb[0]} "), ("item", e.item), ("", ".")]
    return [("character", e.actor), ("", f" {verb[1]} "), ("item", e.item), ("", ".")]


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
    if e.key == "aliases":
        if not e.value:
            return [("", "You have no aliases.")]
        return [("heading", "Aliases:"),
                *[("", f"\n  {k:<10} {v}") for k, v in sorted(e.value.items())]]
    return [("", f"{e.key}: {e.value}")]


_RENDERERS: dict[type, Callable[[Any, str], Spans]] = {
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
        _RENDERERS[event_type] = fn
        return fn

    return deco


def render(event: ev.Event, viewer: str) -> Spans:
    """The spans `viewer` (a character name) reads for `event`."""
    fn = _RENDERERS.get(type(event))
    if fn is None:
        return [("dim", f"[{event.name}]")]
    return fn(event, viewer)


def is_personal(event: ev.Event) -> bool:
    """Whether the text of `event` depends on who reads it (You vs a name)."""
    return type(event) in _PERSONAL


_PERSONAL = {ev.DoorChanged, ev.Said, ev.Told, ev.Shouted, ev.ItemMoved, ev.PositionChanged,
             ev.RoomShown}


# ---- combat ------------------------------------------------------------------------


@renders(ev.FightStarted)
def _fight_started(e: ev.FightStarted, viewer: str) -> Spans:
    if e.actor == viewer:
        return [("warning", "You attack "), *_who(e.target, e.target_kind), ("warning", "!")]
    if e.target == viewer:
        return [*_who(e.actor, e.kind), ("warning", " attacks you!")]
    return [*_who(e.actor, e.kind), ("", " attacks "), *_who(e.target, e.target_kind),
            ("", "!")]


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
    return [(style, f"{who} {verb} {whom} for {e.damage} damage.{crit}")]


@renders(ev.Died)
def _died(e: ev.Died, viewer: str) -> Spans:
    if e.actor == viewer:
        return [("warning", "You are DEAD! You wake, weak, at your recall point.")]
    by = f", slain by {_name(e.killer, viewer, False)}" if e.killer else ""
    return [*_who(e.actor, e.kind), ("warning", f" is dead{by}!")]


def error_spans(message: str) -> Spans:
    """A refusal or error, as people read it."""
    return [("error", message)]


def prompt_spans(text: str) -> Spans:
    """The prompt shown after output in text mode."""
    return [("prompt", strip_controls(text))]
