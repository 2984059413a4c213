"""Refusals: the one way a command says no, each with a stable error code.

A command raises `Refused(code, message)`; the server turns it into a `result` with
`ok: false` for structured clients and a readable line for people.
"""

from __future__ import annotations

from enum import StrEnum


class Code(StrEnum):
    """Stable error codes that a command can answer with (they go on the wire)."""

    UNKNOWN_COMMAND = "unknown_command"
    BAD_ARGS = "bad_args"
    NOT_HERE = "not_here"
    NO_EXIT = "no_exit"
    DOOR_CLOSED = "door_closed"
    DOOR_LOCKED = "door_locked"
    NO_KEY = "no_key"
    NOT_A_DOOR = "not_a_door"
    ALREADY = "already"
    NOT_PLAYING = "not_playing"
    EXHAUSTED = "exhausted"
    FORBIDDEN = "forbidden"
    BAD_TARGET = "bad_target"
    TOO_HEAVY = "too_heavy"
    NOT_CARRIED = "not_carried"
    NO_HELP = "no_help"
    POSITION = "position"


class Refused(Exception):
    """A command declined to act; nothing in the world changed.

    Args:
        code: the stable error code.
        message: a sentence for people, in the second person.
    """

    def __init__(self, code: Code | str, message: str) -> None:
        super().__init__(message)
        self.code = str(code)
        self.message = message
