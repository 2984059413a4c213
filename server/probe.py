"""`aegent ping`: whether a world host answers on the bus, for a health check.

A world host listens on no port (it has only the bus), so its container's health check
cannot ask it over HTTP. `ping()` asks it the way a gateway does (server/gateway/relay.py,
`Gateway._ping`): it connects to NATS, sends the bus request `ping`, and returns the
world host's answer, its run id and its game's name. It raises `NoAnswer`, saying why,
when NATS cannot be reached, no world host serves requests, none answers within the
timeout, or the answer is a refusal.

The request names its sender `PROBE_ID`, which no gateway can be called (a gateway's id
is letters, digits, `_` and `-`): the world host notes each asker's last `ping` by name
and drops the sessions of a gateway whose run id changed, so a probe named like a
gateway would cut that gateway's players off.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from server.bus import BusError, BusMessageError, Request

PROBE_ID = "(probe)"
"""The name a probe's request carries: never a gateway's (module docstring)."""

DEFAULT_TIMEOUT = 3.0
"""Seconds `aegent ping` waits, in all, by default: under compose's 5 s check timeout."""


class NoAnswer(Exception):
    """No world host answered; the text says why."""


@dataclass(frozen=True, slots=True)
class Pong:
    """A world host's answer: the id of its run (a new one each start) and its game."""

    run: str
    name: str


def nats_urls(spec: str) -> list[str]:
    """The NATS servers of a comma-separated `nats_url`.

    Raises:
        ValueError: none given.
    """
    urls = [u.strip() for u in spec.split(",") if u.strip()]
    if not urls:
        raise ValueError("aegent ping needs the bus: --nats nats://HOST:PORT "
                         "(or AEGENT_NATS_URL)")
    return urls


async def ping(urls: list[str], timeout: float = DEFAULT_TIMEOUT) -> Pong:
    """Ask the world host behind the NATS server(s) `urls` whether it is there, within
    `timeout` seconds in all.

    Raises:
        NoAnswer: it did not answer (the text says why).
        ValueError: `timeout` is not positive.
    """
    from server.bus.nats import NatsBus  # nats-py only for this command

    if timeout <= 0:
        raise ValueError(f"--timeout must be more than 0 seconds, not {timeout:g}")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    where = ", ".join(urls)
    try:  # nats-py tries again and again until it connects: the timeout ends that
        bus = await asyncio.wait_for(NatsBus.connect(
            urls, name="aegent-ping", connect_timeout=timeout, on_error=lambda exc: None),
            timeout)
    except TimeoutError:
        raise NoAnswer(f"cannot reach NATS at {where} within {timeout:g} s") from None
    except BusError as exc:
        raise NoAnswer(str(exc)) from None
    try:
        left = max(0.05, round(deadline - loop.time(), 2))
        reply = await bus.request(Request(PROBE_ID, "", "ping"), timeout=left)
    except (BusError, BusMessageError) as exc:
        raise NoAnswer(f"NATS at {where} is up, but {exc}") from None
    finally:
        await bus.close()
    if not reply.ok:
        raise NoAnswer(f"the world host refused: {reply.code or 'no code'}: "
                       f"{reply.message or 'no reason given'}")
    return Pong(str(reply.data.get("run", "")), str(reply.data.get("name", "")))
