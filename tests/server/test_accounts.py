"""Accounts: name rules, the login throttle, registration quotas and the auth gate (with a
fake clock), argon2 hashing off the loop, and console logs that print no locals."""

from __future__ import annotations

import logging

import pytest
import structlog

from server import log
from server.host.accounts import (
    ADDRESS_FACTOR,
    Attempt,
    AuthGate,
    Backoff,
    Denied,
    Hasher,
    KnownAddresses,
    Registrations,
    Throttle,
    check_name,
    check_password,
    network_of,
    normalize,
)


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


def test_backoff_waits_double_past_the_limit_up_to_the_cap() -> None:
    clock = FakeClock()
    backoff = Backoff(limit=3, window=60.0, delay=2.0, delay_max=10.0)

    def fail() -> None:
        backoff.reserve("ann", clock.now)
        backoff.settle("ann", clock.now, failed=True)

    for _ in range(2):
        fail()
    assert backoff.wait("ann", clock.now) == 0.0
    waits = []
    for _ in range(4):
        fail()
        waits.append(backoff.wait("ann", clock.now))
        clock.now += waits[-1]
        assert backoff.wait("ann", clock.now) == 0.0
    assert waits == [2.0, 4.0, 8.0, 10.0]  # doubling, capped
    clock.now += 59.0
    assert backoff.wait("ann", clock.now) == 0.0 and len(backoff) == 1
    clock.now += 1.0  # a window of quiet after the wait: forgotten
    assert backoff.wait("ann", clock.now) == 0.0 and len(backoff) == 0


def test_backoff_counts_attempts_in_flight() -> None:
    backoff = Backoff(limit=3, window=60.0, delay=1.0, delay_max=10.0)
    for _ in range(3):
        assert backoff.wait("ann", 0.0) == 0.0
        backoff.reserve("ann", 0.0)
    assert backoff.wait("ann", 0.0) > 0  # three being checked: a fourth waits
    backoff.settle("ann", 0.0, failed=False)  # one was right
    assert backoff.wait("ann", 0.0) == 0.0


def test_backoff_keeps_a_bounded_number_of_keys() -> None:
    backoff = Backoff(limit=1, window=60.0, delay=1.0, delay_max=10.0, max_keys=3)
    for key in "abcde":
        backoff.reserve(key, 0.0)
        backoff.settle(key, 0.0, failed=True)
    assert len(backoff) == 3
    assert backoff.wait("a", 0.5) == 0.0 and backoff.wait("e", 0.5) > 0  # oldest dropped


def test_throttle_parallel_attempts_take_their_places_before_the_check() -> None:
    throttle = Throttle(limit=5, clock=FakeClock())
    started = [throttle.begin("Ann", "10.0.0.1") for _ in range(40)]
    attempts = [a for a in started if isinstance(a, Attempt)]
    assert len(attempts) == 5
    assert all(isinstance(a, Denied) and a.code == "throttled" for a in started[5:])
    for attempt in attempts:
        throttle.finish(attempt, ok=False)
    assert isinstance(throttle.begin("Ann", "10.0.0.1"), Denied)
    assert isinstance(throttle.begin(None, "10.0.0.1"), Attempt)  # API keys: their own


def test_throttle_never_locks_the_owner_out_of_a_known_address() -> None:
    clock = FakeClock()
    throttle = Throttle(limit=3, delay=30.0, clock=clock)
    first = throttle.begin("Ann", "10.0.0.1")
    assert isinstance(first, Attempt)
    throttle.finish(first, ok=True)  # the owner's place
    for n in range(2, 7):  # an attack from five other places
        attempt = throttle.begin("Ann", f"10.0.0.{n}")
        if isinstance(attempt, Attempt):
            throttle.finish(attempt, ok=False)
    stranger = throttle.begin("ann", "10.0.0.9")
    assert isinstance(stranger, Denied) and "new places" in stranger.message
    assert "try again in 30 seconds" in stranger.message
    owner = throttle.begin("ANN", "10.0.0.1")
    assert isinstance(owner, Attempt)
    throttle.finish(owner, ok=False)  # the owner's typos count only for the owner's place
    assert isinstance(throttle.begin("Bob", "10.0.0.9"), Attempt)  # other names: untouched
    clock.now += 30.0
    assert isinstance(throttle.begin("Ann", "10.0.0.9"), Attempt)  # waited: one more try


def test_an_address_fails_over_many_names_before_it_waits() -> None:
    throttle = Throttle(limit=2, clock=FakeClock())
    for n in range(2 * ADDRESS_FACTOR):
        attempt = throttle.begin(f"Name{'abcdefgh'[n]}", "10.0.0.1")
        assert isinstance(attempt, Attempt)
        throttle.finish(attempt, ok=False)
    assert isinstance(throttle.begin("Other", "10.0.0.1"), Denied)
    assert isinstance(throttle.begin("Other", "10.0.0.2"), Attempt)


def test_known_addresses_are_bounded_and_expire() -> None:
    known = KnownAddresses(per_name=2, ttl=100.0, max_names=2)
    for n in range(3):
        known.add("ann", f"10.0.0.{n}", float(n))
    assert not known.knows("ann", "10.0.0.0", 3.0)  # only the last two per name
    assert known.knows("ann", "10.0.0.2", 3.0) and not known.knows("ann", "10.0.0.2", 102.0)
    known.add("bob", "10.0.0.1", 4.0)
    known.add("cid", "10.0.0.1", 5.0)
    assert len(known) == 2 and not known.knows("ann", "10.0.0.2", 6.0)  # oldest name gone


def test_ipv6_addresses_are_counted_by_their_64_block() -> None:
    assert network_of("2001:db8:1:2:aaaa::1") == network_of("2001:db8:1:2:bbbb::9")
    assert network_of("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64"
    assert network_of("::ffff:10.0.0.1") == "10.0.0.1" == network_of("10.0.0.1")
    assert network_of("not an address") == "not an address"


def test_registrations_count_those_in_flight_and_free_up_with_the_window() -> None:
    clock = FakeClock()
    regs = Registrations(per_address=2, window=100.0, overall=3, overall_window=10.0,
                         clock=clock)
    assert regs.begin("10.0.0.1") is None and regs.begin("10.0.0.1") is None
    refused = regs.begin("10.0.0.1")  # two in flight fill the quota
    assert isinstance(refused, Denied) and refused.code == "throttled"
    regs.finish("10.0.0.1", made=False)  # one failed (a name taken): its place frees
    assert regs.begin("10.0.0.1") is None
    regs.finish("10.0.0.1", made=True)
    regs.finish("10.0.0.1", made=True)
    clock.now += 50.0
    refused = regs.begin("10.0.0.1")
    assert isinstance(refused, Denied) and "try again in 50 seconds" in refused.message
    for n in (2, 3, 4):
        assert regs.begin(f"10.0.0.{n}") is None
    overall = regs.begin("10.0.0.5")  # three in ten seconds from everyone
    assert isinstance(overall, Denied) and "right now" in overall.message
    for n in (2, 3, 4):
        regs.finish(f"10.0.0.{n}", made=True)
    clock.now += 10.0
    assert regs.begin("10.0.0.5") is None
    clock.now += 40.0
    assert regs.begin("10.0.0.1") is None


def test_auth_gate_bounds_attempts_per_address_and_in_all() -> None:
    gate = AuthGate(concurrency=1, queue_max=2, per_address=2)
    assert gate.admit("10.0.0.1") is None and gate.admit("10.0.0.1") is None
    per_address = gate.admit("10.0.0.1")
    assert isinstance(per_address, Denied) and per_address.code == "throttled"
    assert gate.admit("10.0.0.2") is None
    full = gate.admit("10.0.0.3")
    assert isinstance(full, Denied) and full.code == "busy"
    gate.release("10.0.0.1")
    assert gate.admit("10.0.0.3") is None and gate.total == 3


def test_console_logs_print_no_local_variables(capsys: pytest.CaptureFixture[str]) -> None:
    saved, root = structlog.get_config(), logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        log.configure(json=False)

        def login(password: str) -> None:
            raise RuntimeError("boom")

        secret = "hunter" + "2" * 8  # built, so the source lines don't hold it
        try:
            login(secret)
        except RuntimeError as exc:
            log.get().error("auth_crashed", exc_info=exc)
    finally:
        structlog.configure(**saved)
        root.handlers[:], root.level = handlers, level
    err = capsys.readouterr().err
    assert "RuntimeError: boom" in err and "hunter22222222" not in err


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


def test_zero_lifts_the_per_address_limits() -> None:
    regs = Registrations(per_address=0, window=100.0, overall=0, overall_window=10.0,
                         clock=FakeClock())
    assert all(regs.begin("10.0.0.1") is None for _ in range(100))
    gate = AuthGate(concurrency=1, queue_max=100, per_address=0)
    assert all(gate.admit("10.0.0.1") is None for _ in range(50))
