"""Finding what a command's words name: `find` (the n-th character or item a word
names, as people type `2.sword`) and `split_ordinal`.

A command's `Ctx` (the world, the actor, and helpers to find and tell) is in
world/world.py beside `World`, which makes one for each command: the two name each
other, and the finders here need neither.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar

from world.entities import Character, Item

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
