"""Accounts: name rules, argon2 password hashing off the event loop, login throttling."""

from __future__ import annotations

import asyncio
import re
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from world.commands.registry import REGISTRY
from world.directions import parse_direction

NAME_MIN = 3
NAME_MAX = 16
PASSWORD_MIN = 8
PASSWORD_MAX = 128
_NAME_RE = re.compile(r"^[A-Za-z]+$")

RESERVED = frozenset({
    "admin", "administrator", "root", "system", "server", "god", "gods", "immortal",
    "moderator", "mod", "staff", "builder", "someone", "somebody", "anyone", "everyone",
    "nobody", "self", "all", "here", "room", "you", "aegent", "quest", "guest", "null",
    "none", "undefined", "agent", "agents",
})
# Substrings that make a name unacceptable. Kept short and plain on purpose:
# moderators handle the rest with bans.
OFFENSIVE = (
    "fuck", "shit", "cunt", "nigg", "fag", "rape", "nazi", "hitler", "whore", "slut",
    "retard", "kike", "spic", "chink", "dick", "cock", "pussy", "bitch", "penis", "vagina",
)


def check_name(name: str) -> str | None:
    """Why `name` can't be a character's name, or None if it can."""
    if not NAME_MIN <= len(name) <= NAME_MAX:
        return f"A name has {NAME_MIN} to {NAME_MAX} letters."
    if not _NAME_RE.match(name):
        return "A name has letters only (A to Z), no spaces, digits or symbols."
    low = name.lower()
    if low in RESERVED or parse_direction(low) is not None or low in REGISTRY.words:
        return f"'{name}' is reserved; please choose another name."
    if any(bad in low for bad in OFFENSIVE):
        return "That name is not acceptable here; please choose another."
    return None


def check_password(password: str) -> str | None:
    """Why `password` is not acceptable, or None."""
    if len(password) < PASSWORD_MIN:
        return f"A password needs at least {PASSWORD_MIN} characters."
    if len(password) > PASSWORD_MAX:
        return f"A password has at most {PASSWORD_MAX} characters."
    return None


def normalize(name: str) -> str:
    """The display form of a name: `aNN` becomes `Ann`."""
    return name.strip().capitalize()


class Hasher:
    """argon2id hashing and verification in a thread pool, never on the event loop.

    Args:
        time_cost: argon2 iterations.
        memory_kib: argon2 memory in KiB.
        parallelism: argon2 lanes.
        workers: threads for hashing.
    """

    def __init__(self, time_cost: int = 3, memory_kib: int = 65536, parallelism: int = 1,
                 workers: int = 2) -> None:
        self._ph = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib,
                                  parallelism=parallelism)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="argon2")
        # A hash to verify against when the account does not exist, so that a
        # wrong name costs as much time as a wrong password.
        self._dummy = self._ph.hash("not a real password")

    async def hash(self, password: str) -> str:
        """The argon2id hash of `password`."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, self._ph.hash,
                                                                password)

    async def verify(self, stored: str | None, password: str) -> bool:
        """Whether `password` matches `stored` (a missing account costs the same time)."""

        def check() -> bool:
            try:
                return self._ph.verify(stored or self._dummy, password) and stored is not None
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return False

        return await asyncio.get_running_loop().run_in_executor(self._pool, check)

    def close(self) -> None:
        """Stop the worker threads."""
        self._pool.shutdown(wait=False, cancel_futures=True)


class Throttle:
    """Counts failed logins per key (a name, an address) in a sliding window.

    Args:
        limit: failures allowed within the window.
        window: the window, in seconds.
        clock: the time source (monotonic seconds).
    """

    def __init__(self, limit: int = 5, window: float = 300.0,
                 clock: object = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._fails: dict[str, deque[float]] = {}

    def _now(self) -> float:
        clock = self._clock
        assert callable(clock)
        value = clock()
        assert isinstance(value, float | int)
        return float(value)

    def _recent(self, key: str) -> deque[float]:
        q = self._fails.get(key)
        if q is None:
            return deque()
        cutoff = self._now() - self.window
        while q and q[0] < cutoff:
            q.popleft()
        if not q:
            del self._fails[key]
        return q

    def blocked(self, *keys: str) -> float:
        """Seconds to wait before any of `keys` may try again (0 if none is blocked)."""
        wait = 0.0
        for key in keys:
            q = self._recent(key)
            if len(q) >= self.limit:
                wait = max(wait, q[0] + self.window - self._now())
        return wait

    def fail(self, *keys: str) -> None:
        """Record a failure for each key."""
        now = self._now()
        for key in keys:
            self._fails.setdefault(key, deque()).append(now)

    def clear(self, key: str) -> None:
        """Forget the failures of `key` (after a success)."""
        self._fails.pop(key, None)
