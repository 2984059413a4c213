"""Admin commands in the pure world: role gates, refusals, mute, and the requests they make."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import new_world

from world.commands.admin import duration_and_reason, parse_duration
from world.commands.registry import REGISTRY, Call, allowed
from world.entities import Character, Role
from world.errors import Refused
from world.events import ServerRequest
from world.world import SPEECH, World


def setup() -> tuple[World, Character, Character, Character]:
    w = new_world()
    root = w.enter("Root", "warrior", role=Role.ADMIN)
    bob = w.enter("Bob", "warrior")
    other = w.enter("Olga", "warrior", role=Role.ADMIN)
    w.drain()
    return w, root, bob, other


def requests(w: World, who: Character) -> list[tuple[str, dict[str, Any]]]:
    return [(d.event.kind, d.event.args) for d in w.drain()
            if isinstance(d.event, ServerRequest) and d.recipient is who]


def test_durations() -> None:
    assert parse_duration("30s") == 30
    assert parse_duration("2h") == 7200
    assert parse_duration("3D") == 3 * 86400
    assert parse_duration("1w") == 7 * 86400
    assert parse_duration("perm") is None and parse_duration("forever") is None
    for bad in ("2", "h", "2y", "0m", "9999999d", "-1h"):
        with pytest.raises(Refused) as err:
            parse_duration(bad)
        assert err.value.code == "bad_args"
    # A first word that is no duration starts the reason.
    assert duration_and_reason("spamming", "the square") == (None, "spamming the square")
    assert duration_and_reason("2h", "spam") == (7200, "spam")
    assert duration_and_reason(None, None) == (None, "")
    with pytest.raises(Refused):
        duration_and_reason("5times", "spam")


def test_every_admin_command_is_refused_to_players_before_its_arguments() -> None:
    w, root, bob, _ = setup()
    admin_specs = [s for s in REGISTRY.specs.values() if s.category == "admin"]
    assert {"promote", "demote", "disconnect", "ban", "unban", "mute", "unmute", "announce",
            "shutdown", "reboot", "snoop", "force", "audit"} <= {s.name for s in admin_specs}
    for spec in admin_specs:
        assert not allowed(spec, Role.PLAYER) and not allowed(spec, Role.BUILDER)
        for line in (spec.name, f"{spec.name} 1 2 3", *spec.examples):
            refusal = w.perform_line(bob, line)
            assert refusal is not None and refusal.code == "forbidden", line
        for args in ({}, {"bogus": 1}, {p.name: "x" for p in spec.params}):
            refusal = w.perform(bob, Call(spec.name, args))
            assert refusal is not None and refusal.code == "forbidden", (spec.name, args)
    assert w.drain() == []


def test_admin_commands_ask_the_server() -> None:
    w, root, bob, _ = setup()
    cases = {
        "promote bob builder": ("promote", {"name": "bob", "role": "builder"}),
        "demote bob": ("promote", {"name": "bob", "role": "player"}),
        "disconnect bob flooding the square": ("kick", {"name": "Bob",
                                                        "reason": "flooding the square"}),
        "boot Bob": ("kick", {"name": "Bob", "reason": ""}),
        "ban bob 3d spam": ("ban", {"kind": "account", "value": "bob", "seconds": 259200,
                                    "reason": "spam"}),
        "ban bob spamming": ("ban", {"kind": "account", "value": "bob", "seconds": None,
                                     "reason": "spamming"}),
        "ban 203.0.113.7 2h": ("ban", {"kind": "address", "value": "203.0.113.7",
                                       "seconds": 7200, "reason": ""}),
        "ban 10.0.0.0/8 perm bots": ("ban", {"kind": "address", "value": "10.0.0.0/8",
                                             "seconds": None, "reason": "bots"}),
        "unban Bob": ("unban", {"kind": "account", "value": "bob"}),
        "mute bob 30m": ("mute", {"name": "bob", "seconds": 1800, "reason": ""}),
        "unmute bob": ("unmute", {"name": "bob"}),
        "announce  Hello   all ": ("announce", {"text": "Hello all"}),
        "shutdown": ("shutdown", {"seconds": 60, "reason": "", "reboot": False}),
        "shutdown 5 new version": ("shutdown", {"seconds": 5, "reason": "new version",
                                                "reboot": False}),
        "reboot now": ("shutdown", {"seconds": 0, "reason": "", "reboot": True}),
        "reboot cancel": ("shutdown", {"seconds": "cancel", "reason": "", "reboot": True}),
        "snoop bob": ("snoop", {"name": "Bob"}),
        "snoop": ("snoop", {"name": None}),
        "force bob say hi": ("force", {"name": "Bob", "line": "say hi"}),
        "audit": ("audit", {"who": None, "action": None, "since_seconds": None,
                            "since_date": None}),
        "audit root ban 2h": ("audit", {"who": "root", "action": "ban", "since_seconds": 7200,
                                        "since_date": None}),
        "audit - - 2025-11-29": ("audit", {"who": None, "action": None, "since_seconds": None,
                                           "since_date": "2025-11-29T00:00:00"}),
    }
    for line, expected in cases.items():
        assert w.perform_line(root, line) is None, line
        assert requests(w, root) == [expected], line
    # The structured face says the same.
    assert w.perform(root, Call("ban", {"target": "bob", "duration": "2h", "reason": "x"})) is None
    assert requests(w, root) == [("ban", {"kind": "account", "value": "bob", "seconds": 7200,
                                          "reason": "x"})]


@pytest.mark.parametrize(("line", "code"), [
    ("promote bob wizard", "bad_args"),
    ("promote root builder", "bad_target"),  # not yourself
    ("demote olga", None),  # admins may demote admins (never themselves)
    ("disconnect nobody", "not_here"),
    ("disconnect olga", "bad_target"),  # not another admin
    ("disconnect root", "bad_target"),
    ("ban olga", "bad_target"),
    ("ban bob 5times", "bad_args"),
    ("mute b4d", "bad_args"),
    ("snoop olga", "bad_target"),
    ("snoop nobody", "not_here"),
    ("force olga look", "bad_target"),
    ("force nobody look", "not_here"),
    ("shutdown 99999", "bad_args"),
    ("shutdown soon", "bad_args"),
    ("audit - - yesterday", "bad_args"),
    ("announce", "bad_args"),
])
def test_refusals(line: str, code: str | None) -> None:
    w, root, _, _ = setup()
    refusal = w.perform_line(root, line)
    assert (refusal.code if refusal else None) == code
    if code is not None:
        assert requests(w, root) == []


def test_a_muted_character_cannot_talk_but_can_play() -> None:
    w, root, bob, _ = setup()
    bob.muted = True
    for line in ("say hi", "'hi", "tell root hi", "shout hi", "yell hi", "emote waves",
                 ":waves", "gtell hi"):
        refusal = w.perform_line(bob, line)
        assert refusal is not None and refusal.code == "muted", line
    for name in SPEECH:
        refusal = w.perform(bob, Call(name, {"text": "hi", "target": "root"} if name == "tell"
                                      else {"text": "hi"}))
        assert refusal is not None and refusal.code == "muted", name
    assert w.drain() == []
    assert w.perform_line(bob, "look") is None
    bob.muted = False
    assert w.perform_line(bob, "say hi") is None
