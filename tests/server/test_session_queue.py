"""The session's token bucket and command queue, pinned: order, refill arithmetic, bounds.

The rules (server/gateway/session.py): a session starts with `burst` tokens and earns `rate`
tokens a second, never more than `burst`; a command takes one token and runs at once
only when no command is waiting; otherwise it joins the back of a queue of at most
`queue` commands (beyond that it is refused with `rate_limited`), and `tick` runs the
queued commands, oldest first, while there are whole tokens. The numbers below are that
arithmetic done by hand.
"""

from __future__ import annotations

from typing import Any

from server import wire
from server.gateway.session import Limits, Session, State
from server.wire import Subprotocol
from world.entities import Character, Kind


class Recorder:
    """A `GamePort` that records the lines it was asked to run."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def run(self, session: Session, msg: wire.Command | wire.CallTool | wire.Observe) -> None:
        assert isinstance(msg, wire.Command)
        self.lines.append(msg.line)

    def tool_list(self, session: Session, every: bool = False) -> list[dict[str, Any]]:
        return []

    def class_names(self) -> dict[str, str]:
        return {"warrior": "Warrior"}


def playing(rate: float, burst: int, queue: int) -> tuple[Session, Recorder]:
    game = Recorder()
    session = Session("s1", Subprotocol.JSON, game, Limits(rate=rate, burst=burst, queue=queue),
                      now=0.0)
    session.auth_succeeded(Character(id=1, name="Ann", kind=Kind.PLAYER, cls="warrior",
                                     room="x:y"), "player")
    session.outbox()
    return session, game


def command(session: Session, line: str, now: float) -> None:
    session.receive_frame(f'{{"type": "command", "line": "{line}"}}', now)


def refusals(session: Session) -> list[str]:
    return [frame for frame in session.outbox() if isinstance(frame, str)
            and '"rate_limited"' in frame]


def test_a_new_command_never_jumps_ahead_of_queued_ones_after_a_refill() -> None:
    session, game = playing(rate=1.0, burst=3, queue=5)
    for n in range(5):
        command(session, f"c{n}", 0.0)
    assert game.lines == ["c0", "c1", "c2"] and session.queued == 2
    # Ten seconds later the bucket is full again (3 tokens), but no tick has run yet:
    # the new command still goes to the back of the queue, behind c3 and c4.
    command(session, "c5", 10.0)
    assert game.lines == ["c0", "c1", "c2"] and session.queued == 3
    session.tick(10.0)
    assert game.lines == ["c0", "c1", "c2", "c3", "c4", "c5"] and session.queued == 0


def test_the_queue_drains_oldest_first_one_token_at_a_time() -> None:
    session, game = playing(rate=4.0, burst=2, queue=4)
    for n in range(6):
        command(session, f"c{n}", 0.0)
    assert game.lines == ["c0", "c1"] and session.queued == 4
    session.tick(0.125)  # half a token: not a whole one
    assert game.lines == ["c0", "c1"]
    session.tick(0.25)  # 4 a second: one token after a quarter of a second
    assert game.lines == ["c0", "c1", "c2"]
    session.tick(0.75)  # two more
    assert game.lines == ["c0", "c1", "c2", "c3", "c4"]
    session.tick(0.75)  # the same instant earns nothing
    assert session.queued == 1
    session.tick(2.0)  # 5 tokens' worth, but the queue is short
    assert game.lines == ["c0", "c1", "c2", "c3", "c4", "c5"] and session.queued == 0


def test_the_queue_holds_exactly_its_size_then_refuses() -> None:
    session, game = playing(rate=1.0, burst=2, queue=3)
    for n in range(6):
        command(session, f"c{n}", 0.0)
    assert game.lines == ["c0", "c1"] and session.queued == 3  # c2, c3, c4 wait
    assert len(refusals(session)) == 1  # c5
    session.tick(100.0)  # a long pause refills only the burst: 2 of the 3
    assert game.lines == ["c0", "c1", "c2", "c3"] and session.queued == 1


def test_the_bucket_refills_at_the_rate_up_to_the_burst() -> None:
    session, game = playing(rate=2.0, burst=3, queue=10)
    for n in range(3):
        command(session, f"a{n}", 0.0)  # the bucket is empty now
    command(session, "b0", 1.0)  # 2 tokens earned: b0 and b1 run at once
    command(session, "b1", 1.0)
    command(session, "b2", 1.0)  # none left: it waits
    assert game.lines[3:] == ["b0", "b1"] and session.queued == 1
    session.tick(1.5)  # one more token
    assert game.lines[3:] == ["b0", "b1", "b2"]
    command(session, "c0", 60.0)  # a minute later: 3 tokens, not 120
    for n in range(1, 5):
        command(session, f"c{n}", 60.0)
    assert game.lines[6:] == ["c0", "c1", "c2"] and session.queued == 2


def test_time_going_backwards_earns_nothing_and_loses_nothing() -> None:
    session, game = playing(rate=1.0, burst=1, queue=5)
    command(session, "c0", 10.0)  # runs: the first token
    command(session, "c1", 10.0)
    session.tick(5.0)  # an earlier time: nothing earned
    assert game.lines == ["c0"]
    session.tick(11.0)  # one second after the last refill
    assert game.lines == ["c0", "c1"]


def test_nothing_queued_runs_outside_play() -> None:
    session, game = playing(rate=1.0, burst=1, queue=5)
    command(session, "c0", 0.0)
    command(session, "c1", 0.0)
    session.close("bye")
    assert session.state is State.CLOSED
    session.tick(10.0)
    assert game.lines == ["c0"] and session.queued == 1


def test_new_limits_start_with_a_full_bucket_of_their_own() -> None:
    session, game = playing(rate=1.0, burst=1, queue=5)
    command(session, "c0", 0.0)
    session.apply_limits(Limits(rate=1.0, burst=4, queue=5))
    for n in range(1, 6):
        command(session, f"c{n}", 0.0)
    assert game.lines == ["c0", "c1", "c2", "c3", "c4"] and session.queued == 1
