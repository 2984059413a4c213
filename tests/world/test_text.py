"""world/text.py: the cleaning of player text, where it enters the world (the registry), and
what may be shown of a sensitive command (`redact_line`, `redact_call`)."""

from __future__ import annotations

from helpers import events, new_world

from server import wire
from world import text
from world.commands.registry import REGISTRY, Call, is_sensitive, redact_call, redact_line

EVIL = "\x07\x1b[2J\u009b31m\u202eevil\u2066x\x7f"


def test_wire_and_world_clean_the_same_characters() -> None:
    """agents/ may not import world/: wire.clean_text and world.text.clean are two copies of
    one definition, and must agree on every code point (alone and in company)."""
    every = "".join(chr(i) + "a" for i in range(0x110000))
    assert wire.clean_text(every) == text.clean(every)
    assert wire.clean_text(every, False) == text.clean(every, False)
    assert wire.UNSAFE_TEXT.pattern == text.UNSAFE.pattern
    removed = {i for i in range(0x110000) if text.clean(chr(i)) == ""}
    assert removed == (set(range(0x00, 0x09)) | set(range(0x0B, 0x20)) | set(range(0x7F, 0xA0))
                       | {0x061C, 0x200E, 0x200F, 0x2028, 0x2029} | set(range(0x202A, 0x202F))
                       | set(range(0x2066, 0x206A)) | set(range(0xD800, 0xE000))
                       | set(range(0xE0000, 0xE0080)))
    assert text.clean("a\tb\nc") == "a b\nc" and text.clean("a\nb", False) == "a b"
    assert text.clean("héllo, wörld ✓ 日本") == "héllo, wörld ✓ 日本"
    assert text.clean_value({"k\x1b": ["a\u202eb", 3, {"x": "\x07"}]}) == {
        "k": ["ab", 3, {"x": ""}]}


def test_player_text_is_cleaned_where_it_enters_by_line_and_by_call() -> None:
    w = new_world()
    ann = w.enter("Ann", "warrior")
    w.enter("Bob", "warrior")
    w.drain()
    assert w.perform_line(ann, "say " + EVIL) is None
    assert w.perform(ann, Call("emote", {"text": EVIL + "\nwaves"})) is None
    assert w.perform_line(ann, f"tell bob {EVIL}") is None
    got = w.drain()
    assert [e["text"] for e in events(got, "said", "Bob")] == ["[2J31mevilx"]
    assert [e["text"] for e in events(got, "emoted", "Bob")] == ["[2J31mevilx waves"]
    assert [e["text"] for e in events(got, "told", "Bob")] == ["[2J31mevilx"]
    # nothing left once cleaned: as if nothing was given
    refused = w.perform_line(ann, "say \x07\x1b")
    assert refused is not None and refused.code == "bad_args"
    refused = w.perform_line(ann, "tell \x07 hi")
    assert refused is not None and refused.code == "bad_args"
    refused = w.perform_line(ann, "\x1b[2Jfoo")
    assert refused is not None and "\x1b" not in refused.message


def test_an_alias_can_not_hold_a_password() -> None:
    w = new_world()
    ann = w.enter("Ann", "warrior")
    for line in ("alias pw password oldsecret newsecret", "alias pw passw $*",
                 "alias pw force bob password a b"):
        refused = w.perform_line(ann, line)
        assert refused is not None and refused.code == "bad_args", line
    assert ann.aliases == {}
    assert w.perform_line(ann, "alias gg say good game, $*") is None


def test_what_may_be_shown_of_a_sensitive_command() -> None:
    aliases = {"pw": "password $*", "do": "$*", "p": "pass$*", "gg": "say good game"}
    hidden = ["password oldsecret newsecret", "passw oldsecret newsecret", "  PASSWORD a b",
              "pw oldsecret newsecret", "do password oldsecret newsecret",
              "p word oldsecret newsecret", "alias x password oldsecret newsecret",
              "force bob password oldsecret newsecret", "alias x force bob password a b"]
    for line in hidden:
        assert is_sensitive(line, REGISTRY, aliases), line
        shown = redact_line(line, REGISTRY, aliases)
        assert "secret" not in shown and shown.endswith(" ********"), (line, shown)
    shown_as_typed = ["say my password is long", "'password a b", "gg", "look", "alias",
                      "force bob say hi", "tell ann password please"]
    for line in shown_as_typed:
        assert not is_sensitive(line, REGISTRY, aliases), line
        assert redact_line(line, REGISTRY, aliases) == line
    assert redact_line("say \x1b[2Jhi\x07") == "say [2Jhi"
    assert redact_call("password", {"old": "oldsecret", "new": "newsecret"}) == \
        "password ********"
    assert redact_call("alias", {"name": "x", "expansion": "password a b"}) == "alias ********"
    assert redact_call("force", {"name": "bob", "line": "pw a b"}) == 'force {"name": "bob", ' \
        '"line": "pw a b"}'  # a forced line is run without the forcer's aliases
    assert redact_call("say", {"text": "hi\x07", b"k": b"v"}) == 'say {"text": "hi\\u0007"}'
