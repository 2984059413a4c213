"""The command registry's machinery, pinned on a registry of its own.

Every command of the game is declared when its module is imported, before any test
runs, so the declaration code (`command`, `_param_specs`, `Registry.add`) is only
exercised here, where each test declares throwaway commands on a fresh `Registry`.
Then the faces made from one declaration are pinned to exact values: the spec, the
parser's words and errors, the structured call's checks, the secrets' redaction, the
help page. Written to kill the mutants `make mutate` found (docs/testing.md).
"""

from __future__ import annotations

from typing import Annotated, Any, Optional

import pytest

from world.commands.registry import (
    SECRET,
    Call,
    CommandSpec,
    Line,
    ParamKind,
    ParamSpec,
    Registry,
    Target,
    Text,
    Word,
    bind_call,
    closest,
    command,
    did_you_mean,
    help_page,
    is_sensitive,
    parse_line,
    redact_call,
    redact_line,
    split_words,
)
from world.directions import Direction
from world.entities import Role
from world.errors import Code, Refused


def made() -> Registry:
    """A registry with a secret first (`password`), a command with every option (`poke`),
    one with none (`wave`), a command line carrier (`force`), `say` and `go`."""
    reg = Registry()

    @command("password", sensitive=True, registry=reg)
    def password(ctx: Any, old: Word, new: Word) -> None:
        """Change your password."""

    @command("poke", aliases=("prod",), shortcuts={"jab": {"how": "hard"}}, category="fun",
             role=Role.BUILDER, sleeping_ok=True, examples=("poke rat",), registry=reg)
    def poke(ctx: Any, target: Annotated[Target, "whom to poke"], how: Word | None = None,
             times: Optional[int] = None) -> None:  # noqa: UP045 (typing.Union on purpose)
        """Poke someone.

        Usage: poke <target> [how] [times]
        """

    @command("wave", registry=reg)
    def wave(ctx: Any) -> None:
        pass

    @command("force", registry=reg)
    def force(ctx: Any, line: Annotated[Line, "a command line"]) -> None:
        """Make someone do something."""

    @command("say", registry=reg)
    def say(ctx: Any, text: Text) -> None:
        """Say something."""

    @command("go", shortcuts={"north": {"direction": "north"}}, registry=reg)
    def go(ctx: Any, direction: Direction) -> None:
        """Walk."""

    return reg


def refusal(code: str, fn: Any, *args: Any) -> str:
    with pytest.raises(Refused) as refused:
        fn(*args)
    assert refused.value.code == code
    return refused.value.message


# ---- declaring -------------------------------------------------------------------------


def test_a_declaration_with_every_option() -> None:
    reg = made()
    spec = reg.specs["poke"]
    assert spec == CommandSpec(
        name="poke", func=spec.func, aliases=("prod",),
        params=(ParamSpec("target", ParamKind.TARGET, "whom to poke", True),
                ParamSpec("how", ParamKind.WORD, "how", False),
                ParamSpec("times", ParamKind.NUMBER, "times", False)),
        shortcuts={"jab": {"how": "hard"}}, category="fun", role=Role.BUILDER,
        summary="Poke someone.", help="Poke someone.\n\nUsage: poke <target> [how] [times]",
        sleeping_ok=True, sensitive=False, examples=("poke rat",), exact=False)
    assert spec.func.__name__ == "poke"
    assert spec.usage == "poke <target> [how] [times]"


def test_a_declaration_with_the_defaults() -> None:
    spec = made().specs["wave"]
    assert (spec.params, spec.aliases, dict(spec.shortcuts), spec.category, spec.role,
            spec.summary, spec.help, spec.sleeping_ok, spec.sensitive, spec.examples,
            spec.exact) == ((), (), {}, "general", Role.PLAYER, "wave", "wave", False, False,
                            (), False)
    assert made().specs["password"].sensitive is True


def test_line_and_text_parameters() -> None:
    reg = made()
    assert reg.specs["force"].params == (ParamSpec("line", ParamKind.TEXT, "a command line",
                                                   True, True),)
    assert reg.specs["say"].params == (ParamSpec("text", ParamKind.TEXT, "text", True,
                                                 False),)


def test_bad_declarations_say_what_is_wrong() -> None:
    reg = Registry()
    with pytest.raises(TypeError, match=r"^zap: parameter x has no command type: "):
        @command("zap", registry=reg)
        def zap(ctx: Any, x: float) -> None:
            pass
    with pytest.raises(TypeError, match=r"^zip_: a Text parameter must come last$"):
        @command("zip", registry=reg)
        def zip_(ctx: Any, a: Word, t: Text, b: Word) -> None:
            pass
    with pytest.raises(ValueError, match=r"^command word 'prod' declared twice$"):
        @command("prod", registry=made())
        def prod(ctx: Any) -> None:
            pass
    assert reg.specs == {}


def test_lookup_by_name_alias_shortcut_and_prefix() -> None:
    reg = made()
    poke, go = reg.specs["poke"], reg.specs["go"]
    assert reg.lookup("POKE") == (poke, {})
    assert reg.lookup("prod") == (poke, {})
    assert reg.lookup("jab") == (poke, {"how": "hard"})
    assert reg.lookup("pok") == (poke, {})
    assert reg.lookup("nor") == (go, {"direction": "north"})
    assert reg.lookup("xyz") is None


# ---- the text face ---------------------------------------------------------------------


@pytest.mark.parametrize(("text", "split"), [
    ("look", ("look", "")),
    ("  get  the sword ", ("get", "the sword ")),
    ("'two words' rest", ("two words", "rest")),
    ("  'two words'   rest", ("two words", "rest")),
    ("'a' 'b'", ("a", "'b'")),
    ("'a'c", ("a", "c")),
    ("''x", ("", "x")),
    ("'unclosed words", ("unclosed words", "")),
    ('"double" q', ("double", "q")),
    ("Xyz abc", ("Xyz", "abc")),
    ("", ("", "")),
])
def test_split_words(text: str, split: tuple[str, str]) -> None:
    assert split_words(text) == split


def test_parse_line_reads_each_parameter_by_its_kind() -> None:
    reg = made()
    spec, args = parse_line("POKE rat gently 3", reg)
    assert spec is reg.specs["poke"] and args == {"target": "rat", "how": "gently", "times": 3}
    assert [type(args[k]) for k in ("target", "how", "times")] == [Target, Word, int]
    _, args = parse_line("jab rat 2", reg)  # the preset is kept, the rest read after it
    assert args == {"how": "hard", "target": "rat", "times": 2}
    _, args = parse_line("'hello  there", reg)
    assert args == {"text": "hello  there"} and type(args["text"]) is Text
    _, args = parse_line("go N", reg)
    assert args == {"direction": Direction.NORTH}


def test_parse_line_refusals() -> None:
    reg = made()
    assert refusal(Code.BAD_ARGS, parse_line, "   ", reg) == \
        "Say what? (type 'help' for the commands)"
    assert refusal(Code.BAD_ARGS, parse_line, "poke", reg) == \
        "Usage: poke <target> [how] [times]"
    assert refusal(Code.BAD_ARGS, parse_line, "poke rat hard lots", reg) == \
        "'lots' is not a number."
    assert refusal(Code.BAD_ARGS, parse_line, "go sideways-and-then-some", reg) == \
        "'sideways-and-then-so' is not a direction."
    message = refusal(Code.UNKNOWN_COMMAND, parse_line, "Zqxj" * 12, reg)
    assert message.startswith(f"Unknown command '{('zqxj' * 12)[:40]}'.")


# ---- the structured face ---------------------------------------------------------------


def test_bind_call_types_and_cleans_the_arguments() -> None:
    reg = made()
    _, args = bind_call(Call("poke", {"target": "rat", "times": "2"}), reg)
    assert args == {"target": "rat", "times": 2}  # `how` missing, `times` still read
    _, args = bind_call(Call("poke", {"target": "rat", "how": "", "times": 4}), reg)
    assert args == {"target": "rat", "times": 4}
    _, args = bind_call(Call("poke", {"target": "rat", "how": "\x07", "times": 5}), reg)
    assert args == {"target": "rat", "times": 5}  # nothing but controls: as if not given
    _, args = bind_call(Call("poke", {"target": "r\nat", "how": "so\nft"}), reg)
    assert args == {"target": "r at", "how": "so ft"}  # a word loses its newlines
    assert (type(args["target"]), type(args["how"])) == (Target, Word)
    _, args = bind_call(Call("say", {"text": "two\nlines"}), reg)
    assert args == {"text": "two\nlines"} and type(args["text"]) is Text  # text keeps them
    _, args = bind_call(Call("password", {"old": "a\x07b", "new": "c d"}), reg)
    assert args == {"old": "a\x07b", "new": "c d"}  # secrets stay as typed


def test_bind_call_refusals() -> None:
    reg = made()
    assert refusal(Code.UNKNOWN_COMMAND, bind_call, Call("n\nope" + "x" * 50, {}), reg) == \
        f"Unknown tool '{('n ope' + 'x' * 50)[:40]}'."
    not_a_map: Any = ["rat"]
    assert refusal(Code.BAD_ARGS, bind_call, Call("poke", not_a_map), reg) == \
        "args must be an object"
    assert refusal(Code.BAD_ARGS, bind_call,
                   Call("poke", {"target": "rat", "zz": 1, "a\nb": 2, "y" * 50: 3}), reg) == \
        f"poke: unknown argument(s) a b, {'y' * 40}, zz"
    assert refusal(Code.BAD_ARGS, bind_call, Call("poke", {"target": ""}), reg) == \
        "poke: missing argument 'target'"
    assert refusal(Code.BAD_ARGS, bind_call, Call("poke", {"target": "\x07"}), reg) == \
        "Usage: poke <target> [how] [times]"
    for bad in (True, 2.5, [1]):
        assert refusal(Code.BAD_ARGS, bind_call, Call("poke", {"target": "r", "times": bad}),
                       reg) == "poke: 'times' must be an integer"
    assert refusal(Code.BAD_ARGS, bind_call, Call("poke", {"target": 7}), reg) == \
        "poke: 'target' must be a string"
    assert refusal(Code.BAD_ARGS, bind_call, Call("poke", {"target": "r", "times": "x" * 30}),
                   reg) == f"'{'x' * 20}' is not a number."


# ---- secrets ---------------------------------------------------------------------------


@pytest.mark.parametrize(("line", "secret"), [
    ("password old new", True),
    ("pass old new", True),                          # a prefix runs it too
    ("say password old new", False),
    ("'password old new", False),                    # a say
    ("", False),
    ("n", False),
    ("nosuchverb at all", False),
    ("force say hi", False),
    ("force password a b", True),
    ("force force password a b", True),
    ("force force say hi", False),
    ("force force force say hi", True),              # deeper than 3: hidden to be safe
    ("force", False),                                # its line is missing
])
def test_is_sensitive(line: str, secret: bool) -> None:
    assert is_sensitive(line, made()) is secret


def test_aliases_are_expanded_before_judging() -> None:
    reg = made()
    assert is_sensitive("pw a b", reg, {"pw": "password"}) is True
    assert is_sensitive("pw a b", reg, {}) is False


def test_redact_line_and_call() -> None:
    reg = made()
    assert redact_line("password  old\nnew", reg) == f"password {SECRET}"
    assert redact_line("pass\x07word old new", reg) == "password old new"  # not a command
    assert redact_line("say two\nlines", reg) == "say two lines"
    assert redact_call("password", {"old": "a", "new": "b"}, reg) == f"password {SECRET}"
    assert redact_call("force", {"line": "password a b"}, reg) == f"force {SECRET}"
    assert redact_call("force", {"line": "force force say hi"}, reg) == f"force {SECRET}"
    assert redact_call("force", {"line": "force say hi"}, reg) == \
        'force {"line": "force say hi"}'
    assert redact_call("po\nke", {"when": {1, 2}}, reg) == 'po ke {"when": "{1, 2}"}'


# ---- help --------------------------------------------------------------------------------


def test_help_pages() -> None:
    reg = made()
    assert help_page(reg.specs["poke"]) == (
        "Usage: poke <target> [how] [times]\nAlso: prod, jab\n\n"
        "Poke someone.\n\nUsage: poke <target> [how] [times]")
    assert help_page(reg.specs["say"]) == "Usage: say <text>\n\nSay something."


def test_an_annotation_without_words_describes_by_name_and_exact_commands() -> None:
    reg = Registry()

    @command("quit", exact=True, registry=reg)
    def quit_(ctx: Any, how: Annotated[Word, 5] = Word("now")) -> None:  # noqa: B008
        """Leave."""

    @command("quiet", registry=reg)
    def quiet(ctx: Any) -> None:
        """Hush."""

    spec = reg.specs["quit"]
    assert spec.exact is True and reg.specs["quiet"].exact is False
    assert spec.params == (ParamSpec("how", ParamKind.WORD, "how", False),)
    assert reg.lookup("qui") == (reg.specs["quiet"], {})  # never `quit` by a prefix
    assert reg.lookup("quit") == (spec, {})


def test_closest_and_did_you_mean() -> None:
    assert closest("abc", ["abcdefg"]) == ["abcdefg"]  # a ratio of exactly 0.6 is close
    assert closest("abc", ["abcdefgh"]) == []
    assert closest("look", ["lock", "loo", "look"]) == ["look"]  # the best, nearly alone
    assert closest("abcdefghij", ["abcdefghijkl", "abcdefghijk"]) == [
        "abcdefghijk", "abcdefghijkl"]  # best first (0.95, then 0.91: within 0.05)
    assert closest("abcd", ["abcde", "abcdf", "abcdg", "abcdh"]) == [
        "abcde", "abcdf", "abcdg"]  # three at most
    assert closest("abcd", ["abcdxy", "abcx"]) == [
        "abcdxy", "abcx"]  # 0.8, then 0.75: exactly 0.05 below the best is kept
    assert did_you_mean([]) == ""
    assert did_you_mean(["look"]) == " Did you mean 'look'?"
    assert did_you_mean(["look", "lock"]) == " Did you mean 'look' or 'lock'?"
    assert did_you_mean(["a", "b", "c"]) == " Did you mean 'a', 'b' or 'c'?"
