"""Accounts: name rules, argon2 password hashing off the event loop, and the guards of the
ways in: failed-login throttling, registration quotas, checks in progress.

* `Hasher`: argon2id in a thread pool of `auth_concurrency` workers.
* `Throttle`: failed logins per (name, address), per address and, for addresses a
  name has not logged in from before, per name, with waits that double past the limit;
  an attempt counts as a failure while it is being checked.
* `Registrations`: new accounts per address and overall, in sliding windows.
* `AuthGate`: attempts in progress per address and in all (the hasher's queue).
Every table is bounded (`MAX_KEYS` keys each, the least recently touched dropped
first); docs/security.md lists the bounds.
"""

from __future__ import annotations

import asyncio
import ipaddress
import math
import re
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from server.netguard import AddressCounter, Network, is_trusted
from server.wire import ErrorCode
from world.commands.registry import REGISTRY
from world.directions import parse_direction

NAME_MIN = 3
NAME_MAX = 16
PASSWORD_MIN = 8
PASSWORD_MAX = 128
_NAME_RE = re.compile(r"^[A-Za-z]+$")
THROTTLED = str(ErrorCode.THROTTLED)
BUSY = str(ErrorCode.BUSY)

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
        workers: threads for hashing: the password checks that run at once.

    Attributes:
        workers: as given.
        verifications: `verify` calls so far (each one argon2 check).
    """

    def __init__(self, time_cost: int = 3, memory_kib: int = 65536, parallelism: int = 1,
                 workers: int = 2) -> None:
        self._ph = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib,
                                  parallelism=parallelism)
        self.workers = workers
        self.verifications = 0
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

        self.verifications += 1
        return await asyncio.get_running_loop().run_in_executor(self._pool, check)

    def close(self) -> None:
        """Stop the worker threads."""
        self._pool.shutdown(wait=False, cancel_futures=True)


# ---- throttling: failed logins, known addresses, registrations, checks at once -----------

Clock = Callable[[], float]

MAX_KEYS = 50_000
"""Each throttle table below keeps at most this many keys (names, addresses, pairs); past
it, the least recently touched key is dropped first. About 100 bytes a key."""

ADDRESS_FACTOR = 4
"""An address may fail this many times `login_fail_limit` (over every name) before it must
wait: several people can share one address (a NAT), each with a few typos."""

KNOWN_PER_NAME = 8
"""Addresses remembered per name as having logged in to it successfully..."""

KNOWN_TTL = 30 * 86400.0
"""...each for this long after its last successful login (in memory: a restart forgets)."""


def network_of(address: str) -> str:
    """The key an address is throttled and remembered under: an IPv4 address itself, an
    IPv6 address's /64 (one subscriber's block), anything else as it is."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def _seconds(wait: float) -> int:
    return max(1, math.ceil(wait))


@dataclass(frozen=True, slots=True)
class Denied:
    """Why an attempt may not go on now: an error code and a message for the client."""

    code: str
    message: str


@dataclass(slots=True)
class _Failures:
    fails: int = 0
    inflight: int = 0
    last: float = 0.0  # when the last failure was recorded


class Backoff:
    """Failures per key, with waits that grow past a limit; attempts in flight count.

    A key may hold `limit` failures, attempts in flight included, before the next attempt
    must wait: `delay` seconds after the failure that reached the limit, doubling with each
    further failure, up to `delay_max`. While an attempt is in flight at or past the
    limit, every other attempt waits (so at most `limit` are ever checked at once). A key
    is forgotten `window` seconds after its wait ends; at most `max_keys` are kept.

    Args:
        limit: failures before waits start (0 or less: never wait).
        window: seconds of quiet (after the wait) that wipe a key's failures.
        delay: the first wait, in seconds.
        delay_max: the longest wait.
        max_keys: keys kept (the least recently touched goes first).
    """

    __slots__ = ("limit", "window", "delay", "delay_max", "max_keys", "_keys")

    def __init__(self, limit: int, window: float, delay: float, delay_max: float,
                 max_keys: int = MAX_KEYS) -> None:
        self.limit = limit
        self.window = window
        self.delay = delay
        self.delay_max = delay_max
        self.max_keys = max_keys
        self._keys: OrderedDict[str, _Failures] = OrderedDict()

    def _delay(self, fails: int) -> float:
        if self.limit <= 0 or fails < self.limit:
            return 0.0
        return min(self.delay_max, self.delay * 2.0 ** min(fails - self.limit, 60))

    def _live(self, key: str, now: float) -> _Failures | None:
        rec = self._keys.get(key)
        if (rec is not None and not rec.inflight
                and now >= rec.last + self._delay(rec.fails) + self.window):
            del self._keys[key]
            return None
        return rec

    def _touch(self, key: str, now: float) -> _Failures:
        rec = self._live(key, now)
        if rec is None:
            while len(self._keys) >= self.max_keys > 0:
                self._keys.popitem(last=False)
            rec = self._keys[key] = _Failures()
        else:
            self._keys.move_to_end(key)
        return rec

    def wait(self, key: str, now: float) -> float:
        """Seconds before `key` may try again (0: now)."""
        rec = self._live(key, now)
        if rec is None or self.limit <= 0 or rec.fails + rec.inflight < self.limit:
            return 0.0
        if rec.inflight:  # one is being checked: wait as if it had failed just now
            return self._delay(rec.fails + rec.inflight)
        return max(0.0, rec.last + self._delay(rec.fails) - now)

    def reserve(self, key: str, now: float) -> None:
        """An attempt of `key` starts: it counts as a failure until `settle`."""
        self._touch(key, now).inflight += 1

    def settle(self, key: str, now: float, failed: bool) -> None:
        """The attempt `reserve` counted is over: a failure, or nothing."""
        rec = self._keys.get(key)
        if rec is None and not failed:
            return
        rec = self._touch(key, now)
        rec.inflight = max(0, rec.inflight - 1)
        if failed:
            rec.fails += 1
            rec.last = now

    def clear(self, key: str) -> None:
        """Forget the failures of `key` (attempts in flight still count)."""
        rec = self._keys.get(key)
        if rec is not None:
            rec.fails = 0
            if not rec.inflight:
                del self._keys[key]

    def __len__(self) -> int:
        return len(self._keys)


class KnownAddresses:
    """The addresses each name logged in from successfully: the last `per_name` of each
    name, for `ttl` seconds after the last time, for at most `max_names` names (the least
    recently used name goes first).

    Args:
        per_name: addresses kept per name.
        ttl: how long one is remembered, in seconds.
        max_names: names kept.
    """

    __slots__ = ("per_name", "ttl", "max_names", "_names")

    def __init__(self, per_name: int = KNOWN_PER_NAME, ttl: float = KNOWN_TTL,
                 max_names: int = MAX_KEYS) -> None:
        self.per_name = per_name
        self.ttl = ttl
        self.max_names = max_names
        self._names: OrderedDict[str, OrderedDict[str, float]] = OrderedDict()

    def add(self, name: str, address: str, now: float) -> None:
        """`address` logged in to `name` now."""
        seen = self._names.pop(name, None) or OrderedDict()
        seen.pop(address, None)
        seen[address] = now
        while seen and (len(seen) > self.per_name or now - next(iter(seen.values())) >= self.ttl):
            seen.popitem(last=False)
        self._names[name] = seen
        while len(self._names) > self.max_names:
            self._names.popitem(last=False)

    def knows(self, name: str, address: str, now: float) -> bool:
        """Whether `address` logged in to `name` within the last `ttl` seconds."""
        seen = self._names.get(name)
        when = seen.get(address) if seen else None
        return when is not None and now - when < self.ttl

    def __len__(self) -> int:
        return len(self._names)


@dataclass(slots=True)
class Attempt:
    """A login in progress, holding its place in the throttle until `Throttle.finish`."""

    name: str | None
    address: str
    holds: tuple[tuple[Backoff, str], ...]
    done: bool = False


class Throttle:
    """Failed logins, with growing waits, that an attacker cannot turn against the owner.

    Four tables of `Backoff`, each bounded (`max_keys`):
    * per (name, address): `limit` failures, then waits of `delay`, doubling, up to
      `delay_max`;
    * per address, over every name: `limit * ADDRESS_FACTOR` failures, then the same;
    * per name, counting only the addresses that have not logged in to it before (the
      last `KNOWN_PER_NAME` that did, per name, are remembered for `KNOWN_TTL`): a name
      under attack from elsewhere never shuts out its owner's known address, while a new
      address waits;
    * per address for API-key logins: `limit` failures, then the same.
    An attempt counts as a failure from `begin` (before its check) until `finish`, so
    parallel attempts cannot slip past the limit.

    Args:
        limit: failures allowed per key before waits start.
        window: seconds of quiet after a key's wait that wipe its failures.
        delay: the first wait, in seconds.
        delay_max: the longest wait, in seconds.
        max_keys: keys kept per table.
        clock: monotonic seconds.
    """

    def __init__(self, limit: int = 5, window: float = 300.0, *, delay: float = 1.0,
                 delay_max: float = 900.0, max_keys: int = MAX_KEYS,
                 clock: Clock = time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        self.pairs = Backoff(limit, window, delay, delay_max, max_keys)
        self.addresses = Backoff(limit * ADDRESS_FACTOR, window, delay, delay_max, max_keys)
        self.names = Backoff(limit, window, delay, delay_max, max_keys)
        self.keys = Backoff(limit, window, delay, delay_max, max_keys)
        self.known = KnownAddresses(max_names=max_keys)

    def begin(self, name: str | None, address: str) -> Attempt | Denied:
        """Start a login of `name` (None: an API key) from `address`, or say how long to
        wait (`throttled`)."""
        now = self._clock()
        net = network_of(address)
        holds: tuple[tuple[Backoff, str], ...]
        if name is None:
            holds = ((self.keys, net),)
        else:
            low = name.lower()[:NAME_MAX + 1]  # longer can't be a name; keys stay small
            holds = ((self.pairs, f"{low}|{net}"), (self.addresses, net))
            if not self.known.knows(low, net, now):
                holds += ((self.names, low),)
        own = max(backoff.wait(key, now) for backoff, key in holds if backoff is not self.names)
        if own > 0:
            return Denied(THROTTLED, f"Too many failed logins; try again in {_seconds(own)} "
                                     "seconds.")
        shared = max((b.wait(k, now) for b, k in holds if b is self.names), default=0.0)
        if shared > 0:
            return Denied(THROTTLED, f"Too many failed logins for {normalize(low)} from "
                                     f"new places; try again in {_seconds(shared)} seconds, or "
                                     "log in from a place you have used before.")
        for backoff, key in holds:
            backoff.reserve(key, now)
        return Attempt(None if name is None else low, net, holds)

    def finish(self, attempt: Attempt, ok: bool) -> None:
        """The attempt's check is over: a success (its address becomes known to the name,
        its failures there are forgotten) or a failure. Only the first call counts."""
        if attempt.done:
            return
        attempt.done = True
        now = self._clock()
        for backoff, key in attempt.holds:
            backoff.settle(key, now, failed=not ok)
        if ok and attempt.name is not None:
            self.pairs.clear(f"{attempt.name}|{attempt.address}")
            self.known.add(attempt.name, attempt.address, now)

    def cancel(self, attempt: Attempt) -> None:
        """The attempt ended without a check (an error): release it, counting nothing.
        Does nothing after `finish`."""
        if not attempt.done:
            attempt.done = True
            now = self._clock()
            for backoff, key in attempt.holds:
                backoff.settle(key, now, failed=False)

    def remember(self, name: str, address: str) -> None:
        """`address` made the account `name`: it counts as a known address of it."""
        self.known.add(name.lower()[:NAME_MAX + 1], network_of(address), self._clock())


@dataclass(slots=True)
class _Window:
    times: deque[float] = field(default_factory=deque)
    inflight: int = 0


class Quota:
    """At most `limit` events per key in any `window` seconds; reservations in flight
    count. At most `max_keys` keys are kept (the least recently touched goes first).

    Args:
        limit: events per window (0 or less: no limit).
        window: seconds.
        max_keys: keys kept.
    """

    __slots__ = ("limit", "window", "max_keys", "_keys")

    def __init__(self, limit: int, window: float, max_keys: int = MAX_KEYS) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._keys: OrderedDict[str, _Window] = OrderedDict()

    def _live(self, key: str, now: float) -> _Window | None:
        rec = self._keys.get(key)
        if rec is None:
            return None
        while rec.times and rec.times[0] <= now - self.window:
            rec.times.popleft()
        if not rec.times and not rec.inflight:
            del self._keys[key]
            return None
        return rec

    def reserve(self, key: str, now: float) -> float:
        """Take a place for one event of `key` (0.0: taken; `commit` or `cancel` it), or
        the seconds before one may free up."""
        if self.limit <= 0:
            return 0.0
        rec = self._live(key, now)
        if rec is not None and len(rec.times) + rec.inflight >= self.limit:
            return rec.times[0] + self.window - now if rec.times else self.window
        if rec is None:
            while len(self._keys) >= self.max_keys > 0:
                self._keys.popitem(last=False)
            rec = self._keys[key] = _Window()
        else:
            self._keys.move_to_end(key)
        rec.inflight += 1
        return 0.0

    def commit(self, key: str, now: float) -> None:
        """The reserved event happened."""
        if self.limit <= 0:
            return
        rec = self._keys.get(key)
        if rec is None:
            rec = self._keys[key] = _Window()
        rec.inflight = max(0, rec.inflight - 1)
        rec.times.append(now)

    def cancel(self, key: str) -> None:
        """The reserved event did not happen."""
        rec = self._keys.get(key)
        if rec is not None:
            rec.inflight = max(0, rec.inflight - 1)
            if not rec.times and not rec.inflight:
                del self._keys[key]

    def __len__(self) -> int:
        return len(self._keys)


class Registrations:
    """New accounts: at most `per_address` per `window` from one address (its network,
    `network_of`) and `overall` per `overall_window` from everyone; registrations in
    flight count.

    Args:
        per_address: accounts one address may make per `window`.
        window: seconds.
        overall: accounts everyone together may make per `overall_window`.
        overall_window: seconds.
        clock: monotonic seconds.
    """

    def __init__(self, per_address: int, window: float, overall: int, overall_window: float,
                 clock: Clock = time.monotonic, exempt: tuple[Network, ...] = ()) -> None:
        self.per_address = Quota(per_address, window)
        self.overall = Quota(overall, overall_window)
        self.exempt = exempt  # addresses with no per-address quota (only the overall one)
        self._clock = clock

    def _net(self, address: str) -> str:
        """The per-address quota's key: the address's network, or "" when it is exempt."""
        return "" if is_trusted(address, self.exempt) else network_of(address)

    def begin(self, address: str) -> Denied | None:
        """Take a place for one registration from `address` (None: taken; `finish` it), or
        say when to try again (`throttled`)."""
        now, net = self._clock(), self._net(address)
        wait = self.per_address.reserve(net, now) if net else 0.0
        if wait > 0:
            return Denied(THROTTLED, "Too many new characters from your address; try again in "
                                     f"{_seconds(wait)} seconds, or log in to one you have.")
        wait = self.overall.reserve("*", now)
        if wait > 0:
            if net:
                self.per_address.cancel(net)
            return Denied(THROTTLED, "Too many new characters are being made right now; try "
                                     f"again in {_seconds(wait)} seconds.")
        return None

    def finish(self, address: str, made: bool) -> None:
        """The registration `begin` let through is over: the account was `made`, or not."""
        now, net = self._clock(), self._net(address)
        if made:
            if net:
                self.per_address.commit(net, now)
            self.overall.commit("*", now)
        else:
            if net:
                self.per_address.cancel(net)
            self.overall.cancel("*")


class AuthGate:
    """Logins, registrations and password checks in progress: at most `per_address` from
    one address (more: `throttled`), and at most `concurrency + queue_max` in all (more:
    `busy`). The hasher checks `concurrency` passwords at once; the others wait in its
    queue, so the queue never holds more than `queue_max`.

    Args:
        concurrency: password checks at once (the hasher's workers).
        queue_max: attempts that may wait for a check.
        per_address: attempts in progress from one address (0 or less: no limit).
    """

    __slots__ = ("capacity", "per_address", "total", "_addresses")

    def __init__(self, concurrency: int, queue_max: int, per_address: int,
                 exempt: tuple[Network, ...] = ()) -> None:
        self.capacity = max(1, concurrency) + max(0, queue_max)
        self.per_address = per_address
        self.total = 0
        self._addresses = AddressCounter(per_address, exempt)

    def admit(self, address: str) -> Denied | None:
        """Let one attempt from `address` in (None: in; `release` it later), or refuse."""
        exempt = is_trusted(address, self._addresses.exempt)
        address = network_of(address)
        if self._addresses.count(address) >= self.per_address > 0 and not exempt:
            return Denied(THROTTLED, f"Too many logins at once from your address (at most "
                                     f"{self.per_address}); wait for them to finish.")
        if self.total >= self.capacity:
            return Denied(BUSY, "The server is busy with other logins; try again in a few "
                                "seconds.")
        self._addresses.acquire(address)
        self.total += 1
        return None

    def release(self, address: str) -> None:
        """An attempt `admit` let in is over."""
        self._addresses.release(network_of(address))
        self.total = max(0, self.total - 1)
