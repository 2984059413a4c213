"""Guards shared by the listeners: trusted proxies, connections per address, log budgets.

Plain objects, no I/O: `ws.py` and `telnet.py` ask them before they believe a
forwarded address, accept one more connection from an address, or write one more
log line caused by a client's input. docs/security.md lists every bound.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from typing import Any

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING}


def parse_networks(spec: str, setting: str = "trusted_proxies") -> tuple[Network, ...]:
    """Comma-separated addresses or CIDR blocks as networks.

    Raises:
        ValueError: an entry is neither, naming the setting and the entry.
    """
    out: list[Network] = []
    if spec.strip().lower() == "none":  # an explicit "nothing" (an empty variable is unset)
        return ()
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            out.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ValueError(f"{setting}: {part!r} is not an address or a CIDR block") from None
    return tuple(out)


def is_trusted(address: str, networks: tuple[Network, ...]) -> bool:
    """Whether `address` (a peer's IP as text) lies in one of `networks`."""
    if not networks or not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == net.version and ip in net for net in networks)


def valid_address(text: str) -> str | None:
    """`text` as a normalised IP address, or None when it is not one."""
    try:
        ip = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return str(ip)


def _without_port(entry: str) -> str:
    """`1.2.3.4:80` -> `1.2.3.4`, `[2001:db8::1]:80` -> `2001:db8::1`; others unchanged."""
    if entry.startswith("[") and "]" in entry:
        return entry[1:entry.index("]")]
    if entry.count(":") == 1:
        return entry.split(":", 1)[0]
    return entry


def forwarded_client(values: list[str], networks: tuple[Network, ...]) -> str | None:
    """The client that trusted proxies forwarded for, from X-Forwarded-For `values`.

    Each proxy appends the address it got the connection from, so only the entries
    to the right can be believed: the answer is the rightmost entry that is not
    itself a trusted proxy. None (keep the peer's address) when every entry is a
    trusted proxy or that entry is not an address: it was not written by a proxy.
    """
    entries = [e.strip() for value in values for e in value.split(",")]
    for entry in reversed(entries):
        address = valid_address(_without_port(entry))
        if address is None:
            return None
        if not is_trusted(address, networks):
            return address
    return None


class AddressCounter:
    """Open connections per address, with a limit; every `acquire` needs its `release`.

    Args:
        limit: connections one address may hold open (0 or less: no limit).
        exempt: networks counted but never refused (`exempt_addresses`: this machine).
    """

    def __init__(self, limit: int, exempt: tuple[Network, ...] = ()) -> None:
        self.limit = limit
        self.exempt = exempt
        self._open: dict[str, int] = {}

    def acquire(self, address: str) -> bool:
        """Count one more connection from `address`; False (and nothing counted) when
        the address is at its limit."""
        n = self._open.get(address, 0)
        if self.limit > 0 and n >= self.limit and not is_trusted(address, self.exempt):
            return False
        self._open[address] = n + 1
        return True

    def release(self, address: str) -> None:
        """One connection from `address` is gone."""
        n = self._open.get(address, 0) - 1
        if n > 0:
            self._open[address] = n
        else:
            self._open.pop(address, None)

    def count(self, address: str) -> int:
        """Open connections from `address`."""
        return self._open.get(address, 0)

    def __len__(self) -> int:
        return len(self._open)


class InputPacer:
    """Bytes a connection may send: `rate` a second sustained, `burst` at once. Past it,
    the shell stops reading that socket for the seconds `take` returns: the client's
    own data waits in its kernel buffers, costing the server nothing, and a flood from
    one connection can take no more of the loop than `rate` bytes a second.

    Args:
        rate: bytes per second (0 or less: no limit).
        burst: bytes at once.
        clock: monotonic seconds.
    """

    __slots__ = ("rate", "burst", "_clock", "_tokens", "_at")

    def __init__(self, rate: float, burst: int, clock: Callable[[], float]) -> None:
        self.rate = rate
        self.burst = float(burst)
        self._clock = clock
        self._tokens = float(burst)
        self._at = clock()

    def take(self, n: int) -> float:
        """Count `n` bytes received; the seconds to stop reading for (0: read on)."""
        if self.rate <= 0:
            return 0.0
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        self._tokens -= n
        return 0.0 if self._tokens >= 0 else -self._tokens / self.rate


class LogBudget:
    """At most `per_minute` log lines caused by one connection's input in a minute.

    `allow()` says whether one more line may be written; the first refusal in a
    minute returns True once more from `announce()` so the shell can log a single
    "log_suppressed" line instead of the flood.

    Args:
        per_minute: lines allowed per 60 s window.
        clock: monotonic seconds.
    """

    __slots__ = ("per_minute", "_clock", "_start", "_used", "_suppressed")

    def __init__(self, per_minute: int, clock: Callable[[], float]) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._start = clock()
        self._used = 0
        self._suppressed = 0

    def allow(self) -> bool:
        """Whether one more line may be logged now (counts it if so)."""
        now = self._clock()
        if now - self._start >= 60.0:
            self._start, self._used, self._suppressed = now, 0, 0
        if self._used < self.per_minute:
            self._used += 1
            return True
        self._suppressed += 1
        return False

    def announce(self) -> bool:
        """True exactly once per window, on the first suppressed line."""
        return self._suppressed == 1

    def write(self, log: Any, level: str, event: str, who: dict[str, Any],
              **fields: Any) -> None:
        """Log `event` at `level` ("debug", "info", "warning") through the structlog
        logger `log`, within the budget; the first line over it in a minute becomes one
        `log_suppressed` line. A line the logger filters out anyway costs nothing."""
        if _LEVELS[level] < logging.INFO and not log.is_enabled_for(_LEVELS[level]):
            return
        if self.allow():
            getattr(log, level)(event, **who, **fields)
        elif self.announce():
            log.warning("log_suppressed", **who, per_minute=self.per_minute)
