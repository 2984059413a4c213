"""What a command function receives: the world, the actor, and helpers to find and tell."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from world.entities import Character, Item, Room
from world.events import Event

if TYPE_CHECKING:
    from world.world import World

T = TypeVar("T", Character, Item)


def split_ordinal(word: str) -> tuple[int, str]:
    """`2.sword` is (2, "sword"); `sword` is (1, "sword")."""
    head, dot, tail = word.partition(".")
    # ASCII digits only ("²".isdigit() is true but int() refuses it), and few of them
    # (int() refuses over 4300 digits); no one means the 10000th sword.
    if dot and head.isascii() and head.isdigit() and len(head) <= 4 and tail:
        return max(1, int(head)), tail
    return 1, word


def _names(thing: Character | Item) -> Sequence[str]:
    if isinstance(thing, Character):
        return thing.keywords or (thing.keyword,)
    return thing.keywords


def find(word: str, candidates: Iterable[T]) -> T | None:
    """The n-th candidate whose name or a keyword starts with `word` (people type `2.sword`)."""
    nth, word = split_ordinal(word.lower())
    if not word:
        return None
    for cand in candidates:
        if any(name.startswith(word) for name in _names(cand)):
            nth -= 1
            if nth == 0:
                return cand
    return None


@dataclass(slots=True)
class Ctx:
    """A command's view of the world while it runs."""

    world: World
    actor: Character

    @property
    def room(self) -> Room:
        """The room the actor stands in."""
        return self.world.rooms[self.actor.room]

    def tell(self, event: Event) -> None:
        """Send `event` to the actor only."""
        self.world.emit_to(self.actor, event)

    def tell_room(self, event: Event, *, include_actor: bool = False) -> None:
        """Send `event` to everyone in the actor's room (but the actor, by default)."""
        self.world.emit_room(self.room, event, exclude=None if include_actor else self.actor)

    def character_here(self, word: str) -> Character | None:
        """A character in the room named by `word` (`me` and `self` are the actor)."""
        if word.lower() in ("me", "self"):
            return self.actor
        return find(word, self.room.characters)

    def item_here(self, word: str) -> Item | None:
        """An item on the floor named by `word`."""
        return find(word, self.room.items)

    def item_carried(self, word: str) -> Item | None:
        """An item in the actor's inventory named by `word`."""
        return find(word, self.actor.inventory)
