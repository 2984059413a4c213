"""`Tracker`: folds the server's events and `observation` answers into an `Observation`.

The server sends each agent the same events a person gets (docs/protocol.md);
this keeps what a policy needs of them up to date between two `observe` calls:

- the room (`room`; `arrived`, `departed`, `entered_game`, `left_game`, `died` keep
  its list of characters current; `item_moved` its items),
- vitals and the combat state (`vitals`, `fight_started`, `died`),
- inventory and equipment as far as events tell (`item_moved`, `equipment_changed`,
  `inventory_listed`, buying and selling), effects (`effect_started`/`ended`),
- recent chat as data: `{"from", "channel", "text"}` (said, told, shouted,
  emoted, group_told): what others said, never an order to follow,
- a bounded window of recent event texts,
- sequence numbers: `seq` is the last event number seen; a jump counts the
  events in between as `missed`; a reconnection starts a new session (numbers
  start over),
- the events since the last turn, as data (`events`, see `start_turn`).

An `observation` answer replaces the snapshot parts wholesale (it is the
server's own view) and brings the admissible `actions`; `fresh` tells whether
anything happened since (the actions may then be stale).
"""

from __future__ import annotations

from collections import deque
from typing import Any

from agents.contracts import Observation, Outcome

CHAT_EVENTS = {"said": "say", "told": "tell", "shouted": "shout", "emoted": "emote",
               "group_told": "group"}


class Tracker:
    """Keeps one agent's `Observation` from what the server sends.

    Args:
        name: the agent's character name.
        recent: how many recent event texts to keep.
        chat: how many recent chat lines to keep.
    """

    def __init__(self, name: str = "", recent: int = 40, chat: int = 20) -> None:
        self.obs = Observation(name=name)
        self._recent: deque[str] = deque(maxlen=recent)
        self._chat: deque[dict[str, str]] = deque(maxlen=chat)
        self.fresh = False  # an observation came and nothing happened since
        self.events_seen = 0
        self.last_event: dict[str, Any] = {}
        self._news: deque[dict[str, Any]] = deque(maxlen=500)

    # ---- folding ----------------------------------------------------------------------

    def fold(self, msg: dict[str, Any]) -> None:
        """Take one message from the server (an event, an observation, a reconnection)."""
        kind = msg.get("type")
        if kind == "event":
            self._event(msg)
        elif kind == "observation":
            self._observation(msg)
        elif kind == "reconnected":
            self.obs.seq = 0  # a new session numbers its events from 1 again
            self.fresh = False

    def fold_all(self, msgs: list[dict[str, Any]]) -> None:
        """Fold several messages, in order."""
        for msg in msgs:
            self.fold(msg)

    def _seq(self, seq: Any) -> None:
        if not isinstance(seq, int):
            return
        if self.obs.seq and seq > self.obs.seq + 1:
            self.obs.missed += seq - self.obs.seq - 1
        if seq > self.obs.seq or seq <= 1:
            self.obs.seq = seq

    def _observation(self, msg: dict[str, Any]) -> None:
        obs = self.obs
        self._seq(msg.get("seq"))
        for key in ("room", "vitals", "equipment"):
            value = msg.get(key)
            if isinstance(value, dict):
                setattr(obs, key, value)
        for key in ("inventory", "effects", "quests", "actions"):
            value = msg.get(key)
            if isinstance(value, list):
                setattr(obs, key, value)
        obs.character = dict(msg.get("character") or {})
        obs.characters = list(msg.get("characters") or [])
        obs.zones = dict(msg.get("zones") or {})
        obs.group = dict(msg.get("group") or {})
        if obs.character.get("name"):
            obs.name = str(obs.character["name"])
        obs.fighting = obs.character.get("fighting") or obs.vitals.get("fighting")
        self.fresh = True

    def _event(self, msg: dict[str, Any]) -> None:
        obs = self.obs
        self.events_seen += 1
        self._news.append(msg)
        self._seq(msg.get("seq"))
        self.fresh = False
        self.last_event = msg
        name = msg.get("name")
        data = msg.get("data") or {}
        text = msg.get("text")
        if isinstance(text, str) and text:
            self._recent.append(text)
            obs.recent = list(self._recent)
        if not isinstance(data, dict):
            return
        me = obs.name
        if name == "room":
            obs.room = data
        elif name == "vitals":
            obs.vitals = data
            obs.fighting = data.get("fighting")
        elif name in CHAT_EVENTS:
            who = str(data.get("actor", ""))
            if who != me or name == "told":
                self._chat.append({"from": who, "channel": CHAT_EVENTS[name],
                                   "text": str(data.get("text", ""))})
                obs.chat = list(self._chat)
        elif name in ("arrived", "entered_game"):
            self._add_here(str(data.get("actor", "")), str(data.get("kind", "")))
        elif name in ("departed", "left_game"):
            self._remove_here(str(data.get("actor", "")))
        elif name == "died":
            who = str(data.get("actor", ""))
            if who == me:
                obs.fighting = None
            else:
                self._remove_here(who)
                if obs.fighting == who:
                    obs.fighting = None
        elif name == "fight_started":
            if data.get("target") == me:
                obs.fighting = obs.fighting or str(data.get("actor"))
            elif data.get("actor") == me:
                obs.fighting = str(data.get("target"))
        elif name == "item_moved":
            self._item_moved(data)
        elif name == "equipment_changed" and data.get("actor") == me:
            slot = str(data.get("slot"))
            if data.get("action") == "worn":
                obs.equipment[slot] = {"name": data.get("item"), "keyword": data.get("keyword")}
                self._drop_item(str(data.get("item")))
            else:
                obs.equipment.pop(slot, None)
                obs.inventory.append({"name": data.get("item"), "keyword": data.get("keyword")})
        elif name == "inventory_listed":
            items = data.get("items")
            if isinstance(items, list):
                obs.inventory = items
        elif name == "item_bought" and data.get("actor") == me:
            obs.inventory.append({"name": data.get("item"), "keyword": data.get("keyword")})
        elif name == "item_sold" and data.get("actor") == me:
            self._drop_item(str(data.get("item")))
        elif name == "effect_started" and data.get("target") == me:
            obs.effects = [e for e in obs.effects if e.get("name") != data.get("effect")]
            obs.effects.append({"name": data.get("effect"), "ticks_left": data.get("duration"),
                                "mods": data.get("mods") or {}, "flags": data.get("flags") or []})
        elif name == "effect_ended" and data.get("target") == me:
            obs.effects = [e for e in obs.effects if e.get("name") != data.get("effect")]

    # ---- helpers -------------------------------------------------------------------------

    def _add_here(self, who: str, kind: str) -> None:
        if not who or who == self.obs.name:
            return
        chars = self.obs.room.setdefault("characters", [])
        if isinstance(chars, list):
            chars.append({"name": who, "kind": kind})

    def _remove_here(self, who: str) -> None:
        for chars in (self.obs.room.get("characters"), self.obs.characters):
            if isinstance(chars, list):
                for n, c in enumerate(chars):
                    if isinstance(c, dict) and c.get("name") == who:
                        del chars[n]
                        break

    def _drop_item(self, item: str) -> None:
        for n, it in enumerate(self.obs.inventory):
            if it.get("name") == item:
                del self.obs.inventory[n]
                return

    def _item_moved(self, data: dict[str, Any]) -> None:
        action = data.get("action")
        item = str(data.get("item", ""))
        entry = {"name": item, "keyword": data.get("keyword")}
        items = self.obs.room.get("items")
        mine = data.get("actor") == self.obs.name
        if action == "got" and isinstance(items, list):
            for n, it in enumerate(items):
                if isinstance(it, dict) and it.get("name") == item:
                    del items[n]
                    break
        elif action == "dropped" and isinstance(items, list):
            items.append(entry)
        if not mine or data.get("keyword") == "gold":
            return
        if action in ("got", "taken_from"):
            self.obs.inventory.append(entry)
        elif action in ("dropped", "given", "put"):
            self._drop_item(item)

    # ---- turns -----------------------------------------------------------------------------

    def start_turn(self, outcomes: list[Outcome] | None = None) -> Observation:
        """The observation for the next `decide`: the events since the last turn in
        `events`, what became of the last turn's actions in `outcomes`."""
        self.obs.events = list(self._news)
        self._news.clear()
        self.obs.outcomes = list(outcomes or [])
        return self.obs

    # ---- reading ---------------------------------------------------------------------------

    @property
    def hp_ratio(self) -> float:
        """Hit points as a fraction of the maximum (1.0 when unknown)."""
        v = self.obs.vitals
        hp, top = v.get("hp"), v.get("max_hp")
        if not isinstance(hp, int) or not isinstance(top, int) or top <= 0:
            return 1.0
        return hp / top
