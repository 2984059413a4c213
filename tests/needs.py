"""Tests that need a real thing installed: skip outside CI, fail under CI.

Some tests exercise real outside programs rather than fakes: PostgreSQL (tests/pg.py),
Debian's Chromium (tests/e2e/test_browser.py), a NATS server (tests/natsd.py), HAProxy
(tests/package/test_compose.py), and,
for the tests still to come, the TinTin++ MUD client. `make test` installs what it can
(`make postgres`, `make browser`, `make nats`, `make haproxy`). When one is missing anyway:

- under CI (the environment variable `CI` set to anything but "", "0", "false" or
  "no": `.ci/run` runs with CI=true), the test **fails**, so that a failed install can
  never turn "tested for real" into a green run that tested nothing;
- elsewhere it is skipped, and the skip says how to install the missing thing.

A test asks with `require(name)` (or `require(name, available=..., how=...)` for a
probe of its own), at its start or in a fixture; `missing(name)` only tells.
"""

from __future__ import annotations

import glob
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True, slots=True)
class Thing:
    """A real program some tests need: how to find it and how to install it."""

    probe: Callable[[], bool]
    how: str


def _postgres() -> bool:
    if shutil.which("initdb") and shutil.which("pg_ctl"):
        return True
    return any(Path(d, "initdb").is_file() and Path(d, "pg_ctl").is_file()
               for d in glob.glob("/usr/lib/postgresql/*/bin"))


THINGS: dict[str, Thing] = {
    "postgresql": Thing(_postgres, "run `make postgres` (Debian's postgresql package: "
                                   "initdb and pg_ctl)"),
    "chromium": Thing(lambda: Path("/usr/bin/chromium").exists(),
                      "run `make browser` (Debian's chromium package, /usr/bin/chromium)"),
    "nats-server": Thing(lambda: shutil.which("nats-server") is not None
                         or Path("/usr/sbin/nats-server").exists(),
                         "run `make nats` (Debian's nats-server package)"),
    "haproxy": Thing(lambda: shutil.which("haproxy") is not None
                     or Path("/usr/sbin/haproxy").exists(),
                     "run `make haproxy` (Debian's haproxy package)"),
    "tintin++": Thing(lambda: shutil.which("tt++") is not None,
                      "run `apt-get install tintin++` (Debian's package; the program is tt++)"),
}

_FALSE = ("", "0", "false", "no")


def in_ci(environ: dict[str, str] | None = None) -> bool:
    """Whether this run is CI's (`CI` set and not false): missing things then fail."""
    value = (os.environ if environ is None else environ).get("CI", "")
    return value.strip().lower() not in _FALSE


def missing(name: str) -> bool:
    """Whether the real thing `name` (a key of `THINGS`) is not installed."""
    return not THINGS[name].probe()


def require(name: str, available: bool | None = None, how: str | None = None) -> None:
    """Go on only if `name` is installed: else fail under CI and skip elsewhere.

    Args:
        name: what is needed, a key of `THINGS` (or any name when `available` and
            `how` are given).
        available: the caller's own probe; by default `THINGS[name]`'s.
        how: how to install it; by default `THINGS[name]`'s.
    """
    thing = THINGS.get(name)
    if available is None:
        if thing is None:
            raise KeyError(f"no probe for {name!r}: pass available=")
        available = thing.probe()
    if available:
        return
    how = how or (thing.how if thing is not None else f"install {name}")
    if in_ci():
        pytest.fail(f"{name} is not installed, and under CI a test that needs it fails "
                    f"instead of skipping: {how}", pytrace=False)
    pytest.skip(f"{name} is not installed: {how}")
