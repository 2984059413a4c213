"""Shared by the portable-memory tests (tests/agents/test_portable.py and
tests/e2e/test_agent_transfer.py): a few dozen memories, queries, a small deterministic
embedder, and the check that two stores retrieve the same."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np
import pytest

from agents.embedding import Vectors, normalize
from agents.memory import QdrantMemory

HOUR = 3600.0

TEXTS = [
    "A grey wolf bit me in the dark forest north of the village.",
    "The baker sells fresh bread for 3 gold.",
    "I learned the magic missile spell from the guild master.",
    "Bob asked me to join his group.",
    "The fountain in the square is full of coins.",
    "I killed a giant rat in the sewers and gained 20 xp.",
    "The blacksmith repairs armour near the east gate.",
    "I died to the troll under the old stone bridge.",
    "Mira told me the crypt key is hidden in the chapel.",
    "I bought a healing potion at the alchemist's shop.",
    "The guard captain offers a quest to clear the goblin camp.",
    "Reached level 3 in the birch grove.",
    "The river ferry leaves at dawn for the southern marsh.",
    "A hooded stranger in the tavern sells maps of the mines.",
    "The goblin camp lies west of the old mill.",
    "I fled from a pack of wolves near the river.",
    "The temple priest heals wounds for a donation.",
    "I found a rusty key in the abandoned well.",
    "The mayor's daughter went missing in the forest.",
    "Lightning spells are strong against water elementals.",
    "I sold a wolf pelt for 5 gold.",
    "The library holds a book about the ancient kings.",
    "The mines are dark: bring a torch.",
    "A bandit ambushed me on the road to the capital.",
    "The inn serves ale and a warm bed for 2 gold.",
    "I trained my sword skill with the weapon master.",
    "Spiders nest in the caves beyond the waterfall.",
    "The chapel bell rings at midnight when ghosts walk.",
    "I completed the quest of the lost ring and got 50 gold.",
    "Ann said she is hunting wolves tomorrow.",
]
QUERIES = ["where are the wolves?", "who sells food?", "how do I heal?", "where is a quest?",
           "what killed me?", "where can I learn spells?", "what is in the mines?"]


class WordHashEmbedder:
    """A small deterministic embedder (the `Embedder` protocol): hashed bag of words."""

    def __init__(self, dim: int = 64) -> None:
        self._dim = dim

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def name(self) -> str:
        return f"word-hash-{self._dim}"

    def embed(self, texts: Sequence[str]) -> Vectors:
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z]+", text.lower()):
                word = word[:-1] if word.endswith("s") and len(word) > 3 else word
                out[row, int(hashlib.sha256(word.encode()).hexdigest(), 16) % self._dim] += 1.0
        return normalize(out)


def fill(store: QdrantMemory, agent: str = "Scout") -> None:
    """A few dozen memories at different game times and importances, and reflections."""
    for n, text in enumerate(TEXTS):
        kind = "action" if text.startswith("I ") else "observation"
        store.add(agent, text, kind, importance=0.2 + (n % 7) / 10, now=n * 0.5 * HOUR,
                  extra={"event": "room", "zone": f"z{n % 3}", "room": f"r{n}"} if n % 5 == 0
                  else None)
    store.reflect(agent, now=20 * HOUR)
    store.flush(agent)


def assert_same_retrieval(a: QdrantMemory, b: QdrantMemory, agent: str,
                          agent_b: str | None = None) -> None:
    """The same queries at the same game times give the same memories, in the same order,
    with the same scores, on both stores.

    Scores are compared to 1e-12: local mode's scan is a BLAS matrix-vector product,
    whose last bit may depend on where a row sits in the matrix (insertion order, the
    matrix's spare capacity), which a copy cannot reproduce.
    """
    for n, query in enumerate(QUERIES):
        now = 30 * HOUR + n * HOUR
        got_a = a.retrieve(agent, query, now, k=5)
        got_b = b.retrieve(agent_b or agent, query, now, k=5)
        assert [(m.id, m.text, m.kind) for m in got_a] == [(m.id, m.text, m.kind)
                                                          for m in got_b], query
        assert [m.score for m in got_b] == pytest.approx([m.score for m in got_a],
                                                         rel=1e-12, abs=1e-12), query
        assert len(got_a) == 5
