"""What a party means to the scripted policy: the group as seen, the odds of a fight
together, and the plans heard (agents/plans.py).

Pure helpers over an `Observation`; the decisions are `ScriptedPolicy`'s
(agents/scripted.py, party mode).

- `Group` reads `observe`'s `group` (world/observe.py): the leader, the members with
  their vitals, where they are and whom they fight.
- `party_ratio` is `consider`'s measure (rounds to lose over rounds to win) for a fight
  taken on together: `n` fighters here share the work of the kill (the rounds to win
  divide by `n`) while the foe keeps hitting one of them (the rounds to lose stay), and a
  healer with mana keeps that one up for half as long again. The same thresholds as the
  server's verdicts (`VERDICTS`) turn it into a verdict.
- `heard` picks the plans out of the events since the last turn: `tell`s and `gtell`s
  whose text is a valid plan line; every other line stays chat.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from agents.contracts import Observation
from agents.plans import Plan, read

HEALER_CLASSES = frozenset({"cleric"})
HEALER_BONUS = 1.5  # a healer with mana makes the one hit last this much longer
VERDICTS = ((3.0, "easy"), (1.5, "fair"), (0.8, "risky"))  # as world/systems/combat.assess
PLAN_CHANNELS = {"told": "tell", "group_told": "group"}


def _ratio(value: Any, top: Any) -> float:
    if not isinstance(value, int) or not isinstance(top, int) or top <= 0:
        return 1.0
    return value / top


@dataclass(frozen=True, slots=True)
class Group:
    """The group we are in, as `observe` shows it (`members` is empty when in none)."""

    me: str
    leader: str
    members: tuple[Mapping[str, Any], ...]

    @classmethod
    def of(cls, obs: Observation) -> Group:
        """The group in `obs` (its `group` part)."""
        view = obs.group or {}
        members = tuple(m for m in view.get("members") or () if isinstance(m, Mapping))
        return cls(obs.name, str(view.get("leader") or ""), members)

    @property
    def grouped(self) -> bool:
        return bool(self.members)

    @property
    def leading(self) -> bool:
        return self.grouped and self.leader == self.me

    def mates(self) -> list[Mapping[str, Any]]:
        """The others of the group, wherever they are."""
        return [m for m in self.members if m.get("name") != self.me]

    def mates_here(self) -> list[Mapping[str, Any]]:
        """The others of the group in our room."""
        return [m for m in self.mates() if m.get("here")]

    def names(self) -> set[str]:
        return {str(m.get("name")) for m in self.members}

    def member(self, name: str) -> Mapping[str, Any] | None:
        return next((m for m in self.members if m.get("name") == name), None)

    def healers_here(self, me_too: bool = True) -> list[Mapping[str, Any]]:
        """The healers of the group in our room (ourselves too, if `me_too`)."""
        return [m for m in self.members if str(m.get("class")) in HEALER_CLASSES
                and (m.get("here") or (me_too and m.get("name") == self.me))
                and (me_too or m.get("name") != self.me)]


def hp_of(member: Mapping[str, Any]) -> float:
    """A member's hit points, as a fraction of its maximum."""
    return _ratio(member.get("hp"), member.get("max_hp"))


def mana_of(member: Mapping[str, Any]) -> float:
    """A member's mana, as a fraction of its maximum (1.0 without mana)."""
    return _ratio(member.get("mana"), member.get("max_mana"))


def party_ratio(row: Mapping[str, Any], fighters: int, healer: bool) -> float:
    """`consider`'s rounds to lose over rounds to win for a fight against `row` (one of
    `observe`'s `characters`) taken on by `fighters` of us, a healer among them or not
    (see the module docstring); 0 when `consider` gave no numbers."""
    win, lose = row.get("rounds_to_win"), row.get("rounds_to_lose")
    if not isinstance(win, int) or not isinstance(lose, int) or win <= 0:
        return 0.0
    return lose * (HEALER_BONUS if healer else 1.0) / (win / max(1, fighters))


def verdict(ratio: float) -> str:
    """The server's verdict for a ratio of rounds to lose over rounds to win."""
    return next((name for bar, name in VERDICTS if ratio >= bar), "deadly")


def heard(events: Iterable[Mapping[str, Any]], me: str) -> list[tuple[str, str, Plan]]:
    """The plans told to us or to our group since the last turn: (sender, channel, plan),
    oldest first; our own lines and lines that are not valid plans are left out."""
    out: list[tuple[str, str, Plan]] = []
    for ev in events:
        channel = PLAN_CHANNELS.get(str(ev.get("name")))
        data = ev.get("data")
        if channel is None or not isinstance(data, Mapping):
            continue
        sender = str(data.get("actor") or "")
        if not sender or sender == me:
            continue
        plan = read(str(data.get("text") or ""))
        if plan is not None:
            out.append((sender, channel, plan))
    return out
