"""Accounts: name rules, the login throttle (with a fake clock), argon2 hashing off the loop."""

from __future__ import annotations

import pytest

from server.accounts import Hasher, Throttle, check_name, check_password, normalize


@pytest.mark.parametrize("name", ["Ann", "bob", "Zoltan", "Abcdefghijklmnop"])
def test_good_names(name: str) -> None:
    assert check_name(name) is None


@pytest.mark.parametrize("name", [
    "Al", "", "Abcdefghijklmnopq",  # too short, too long
    "Ann2", "Ann Lee", "Ann-Marie", "Ánn", "R2D2",  # letters A-Z only
    "admin", "Admin", "ROOT", "someone", "agent",  # reserved
    "north", "Up", "nor", "sou",  # directions and their prefixes
    "look", "say", "Quit", "inventory", "walk",  # command words
    "Fuckface", "xxNaziXx",  # offensive
])
def test_bad_names(name: str) -> None:
    problem = check_name(name)
    assert isinstance(problem, str) and problem


def test_passwords_and_display_names() -> None:
    assert check_password("12345678") is None
    assert check_password("1234567") is not None
    assert check_password("x" * 129) is not None
    assert normalize("  aNN ") == "Ann"


class FakeClock:
    """Monotonic seconds that only move when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_throttle_blocks_after_the_limit_within_the_window() -> None:
    clock = FakeClock()
    throttle = Throttle(limit=3, window=60.0, clock=clock)
    for _ in range(2):
        throttle.fail("ann", "10.0.0.1")
        clock.now += 1
    assert throttle.blocked("ann") == 0.0
    throttle.fail("ann")
    assert throttle.blocked("ann") == pytest.approx(58.0)  # the first failure was at t=0
    assert throttle.blocked("bob") == 0.0
    assert throttle.blocked("bob", "ann") == pytest.approx(58.0)
    assert throttle.blocked("10.0.0.1") == 0.0  # only two there
    clock.now += 30
    assert throttle.blocked("ann") == pytest.approx(28.0)
    clock.now += 28.5  # the first failure has left the window
    assert throttle.blocked("ann") == 0.0
    clock.now += 100
    assert throttle.blocked("ann") == 0.0


def test_throttle_forgets_after_success() -> None:
    clock = FakeClock()
    throttle = Throttle(limit=2, window=60.0, clock=clock)
    throttle.fail("ann")
    throttle.fail("ann")
    assert throttle.blocked("ann") > 0
    throttle.clear("ann")
    assert throttle.blocked("ann") == 0.0


async def test_hasher_round_trip() -> None:
    hasher = Hasher(time_cost=1, memory_kib=1024)
    try:
        stored = await hasher.hash("correct horse")
        assert stored.startswith("$argon2id$")
        assert "correct horse" not in stored
        assert await hasher.verify(stored, "correct horse")
        assert not await hasher.verify(stored, "wrong horse")
        assert not await hasher.verify(None, "correct horse")  # no such account
        assert not await hasher.verify("not a hash", "correct horse")
        assert await hasher.hash("correct horse") != stored  # salted
    finally:
        hasher.close()
