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
    MUTED = "muted"
    BAD_TARGET = "bad_target"
    TOO_HEAVY = "too_heavy"
    NOT_CARRIED = "not_carried"
    NO_HELP = "no_help"
    POSITION = "position"
    # combat and groups
    NOT_FIGHTING = "not_fighting"
    SAFE_ROOM = "safe_room"
    NO_PVP = "no_pvp"
    NOT_GROUPED = "not_grouped"
    NOT_LEADER = "not_leader"
    # magic: spells and skills
    UNKNOWN_SPELL = "unknown_spell"
    NOT_LEARNED = "not_learned"
    NO_MANA = "no_mana"
    COOLDOWN = "cooldown"
    NO_WEAPON = "no_weapon"
    LEVEL_TOO_LOW = "level_too_low"
    # items, equipment and shops
    TOO_MANY = "too_many"
    CANT_TAKE = "cant_take"
    NOT_CONTAINER = "not_container"
    CONTAINER_FULL = "container_full"
    NOT_YOURS = "not_yours"
    TOO_POOR = "too_poor"
    CANT_WEAR = "cant_wear"
    WRONG_CLASS = "wrong_class"
    HANDS_FULL = "hands_full"
    NOT_WORN = "not_worn"
    NO_SHOP = "no_shop"
    NOT_SOLD = "not_sold"
    WONT_BUY = "wont_buy"
    BAD_SHOP = "bad_shop"
    EMPTY = "empty"
    # quests and trainers
    NO_QUEST_GIVER = "no_quest_giver"
    NO_QUEST = "no_quest"
    NOT_READY = "not_ready"
    NO_TRAINER = "no_trainer"
    NOT_TAUGHT = "not_taught"
    # building
    UNKNOWN_FIELD = "unknown_field"
    BAD_VALUE = "bad_value"
    EXISTS = "exists"
    NOTHING_TO_UNDO = "nothing_to_undo"
    CONFLICT = "conflict"
    BAD_CONTENT = "bad_content"


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
