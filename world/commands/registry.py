"""The one command registry: each command is declared once, as a typed function.

`@command(...)` records a `CommandSpec` from the function's signature and
docstring. From that one declaration come the text parser (`parse_line`), the
structured call checker (`bind_call`), the JSON-Schema tool entry (`tool_schema`)
and the help page (`help_page`). Parameters are typed with the small marker types
below, never a raw argument string.
"""

from __future__ import annotations

import difflib
import inspect
import json
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any

from world.directions import Direction, parse_direction
from world.entities import Role
from world.errors import Code, Refused
from world.text import clean


class Word(str):
    """One word (or one quoted phrase): a name, a keyword, a topic."""


class Target(str):
    """Something to act on, named as people do: `goblin`, `2.sword`, `all`."""


class Text(str):
    """Free text: the rest of the line."""


class Line(Text):
    """Free text that is itself a command line (an alias's expansion, a forced line): what
    hides a sensitive command's arguments hides them in it too (`redact_line`)."""


class ParamKind(StrEnum):
    """How a parameter is read from a line and described in a schema."""

    WORD = "word"
    TARGET = "target"
    TEXT = "text"
    DIRECTION = "direction"
    NUMBER = "number"


_KIND_OF: dict[object, ParamKind] = {
    Word: ParamKind.WORD,
    Target: ParamKind.TARGET,
    Text: ParamKind.TEXT,
    Line: ParamKind.TEXT,
    Direction: ParamKind.DIRECTION,
    int: ParamKind.NUMBER,
}


@dataclass(frozen=True, slots=True)
class Call:
    """A structured command: the tool's name and its arguments."""

    tool: str
    args: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """One typed parameter of a command."""

    name: str
    kind: ParamKind
    description: str
    required: bool
    line: bool = False  # a command line (`Line`)


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """Everything the registry knows about one command."""

    name: str
    func: Callable[..., None]
    params: tuple[ParamSpec, ...]
    aliases: tuple[str, ...]
    shortcuts: Mapping[str, Mapping[str, Any]]
    category: str
    role: Role
    summary: str
    help: str
    sleeping_ok: bool
    sensitive: bool
    examples: tuple[str, ...]
    exact: bool = False  # only the whole word runs it (`quit`, never `q`)

    @property
    def usage(self) -> str:
        """`name <req> [opt]`, generated from the parameters."""
        parts = [self.name]
        for p in self.params:
            parts.append(f"<{p.name}>" if p.required else f"[{p.name}]")
        return " ".join(parts)


@dataclass(slots=True)
class Registry:
    """All commands, by name, alias and shortcut, in declaration order."""

    specs: dict[str, CommandSpec] = field(default_factory=dict)
    words: dict[str, tuple[CommandSpec, Mapping[str, Any]]] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)

    def add(self, spec: CommandSpec) -> None:
        """Register `spec`; a name or alias may be taken only once."""
        for word in (spec.name, *spec.aliases, *spec.shortcuts):
            if word in self.words:
                raise ValueError(f"command word {word!r} declared twice")
        self.specs[spec.name] = spec
        self.words[spec.name] = (spec, {})
        for alias in spec.aliases:
            self.words[alias] = (spec, {})
        for word, preset in spec.shortcuts.items():
            self.words[word] = (spec, preset)
        self.order.extend((spec.name, *spec.shortcuts, *spec.aliases))

    def lookup(self, word: str) -> tuple[CommandSpec, Mapping[str, Any]] | None:
        """Find the command a typed verb means: exact word, then first prefix match."""
        word = word.lower()
        hit = self.words.get(word)
        if hit is not None:
            return hit
        for candidate in self.order:
            if candidate.startswith(word):
                spec, preset = self.words[candidate]
                if spec.exact and candidate == spec.name:
                    continue  # `q` must not quit: such commands are typed in full
                return spec, preset
        return None


REGISTRY = Registry()


def _param_specs(func: Callable[..., None]) -> tuple[ParamSpec, ...]:
    hints = typing.get_type_hints(func, include_extras=True)
    sig = inspect.signature(func)
    out: list[ParamSpec] = []
    for i, (pname, param) in enumerate(sig.parameters.items()):
        if i == 0:
            continue  # ctx
        hint = hints[pname]
        description = ""
        if typing.get_origin(hint) is Annotated:
            hint, *meta = typing.get_args(hint)
            description = next((m for m in meta if isinstance(m, str)), "")
        required = param.default is inspect.Parameter.empty
        if typing.get_origin(hint) in (typing.Union, types.UnionType):
            inner = [a for a in typing.get_args(hint) if a is not type(None)]
            hint = inner[0]
        kind = _KIND_OF.get(hint)
        if kind is None:
            raise TypeError(f"{func.__name__}: parameter {pname} has no command type: {hint!r}")
        out.append(ParamSpec(pname, kind, description or pname, required, hint is Line))
    kinds = [p.kind for p in out]
    if ParamKind.TEXT in kinds[:-1]:
        raise TypeError(f"{func.__name__}: a Text parameter must come last")
    return tuple(out)


def command(
    name: str,
    *,
    aliases: tuple[str, ...] = (),
    shortcuts: Mapping[str, Mapping[str, Any]] | None = None,
    category: str = "general",
    role: Role = Role.PLAYER,
    sleeping_ok: bool = False,
    sensitive: bool = False,
    examples: tuple[str, ...] = (),
    exact: bool = False,
    registry: Registry | None = None,
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Declare a command. The docstring's first line is its summary; all of it is its help.

    Args:
        name: the verb, as people type it and as the tool is named.
        aliases: other verbs for the same command.
        shortcuts: verbs that stand for the command with some arguments preset
            (`north` for `go north`).
        category: groups commands in `help` and the tool list.
        role: the least role that may use it.
        sleeping_ok: usable while asleep.
        sensitive: its arguments are secrets: never logged, never shown to snooping admins
            (`redact_line`, `redact_call`), never cleaned (they are compared, not shown).
        examples: lines people might type.
        exact: only the whole name runs it, never a prefix (for what can't be undone:
            `quit`, `shutdown`); its aliases still work.
        registry: where to register (the global one by default).
    """

    def deco(func: Callable[..., None]) -> Callable[..., None]:
        doc = inspect.cleandoc(func.__doc__ or name)
        spec = CommandSpec(
            name=name,
            func=func,
            params=_param_specs(func),
            aliases=aliases,
            shortcuts=dict(shortcuts or {}),
            category=category,
            role=role,
            summary=doc.splitlines()[0].strip(),
            help=doc,
            sleeping_ok=sleeping_ok,
            sensitive=sensitive,
            examples=examples,
            exact=exact,
        )
        (registry or REGISTRY).add(spec)
        return func

    return deco


# ---- the text face -----------------------------------------------------------


def split_words(text: str) -> tuple[str, str]:
    """Split off the first word (or quoted phrase) of `text`; return it and the rest."""
    text = text.lstrip()
    if not text:
        return "", ""
    if text[0] in "'\"":
        quote = text[0]
        end = text.find(quote, 1)
        if end == -1:
            return text[1:].strip(), ""
        return text[1:end], text[end + 1 :].lstrip()
    parts = text.split(None, 1)
    return parts[0], (parts[1] if len(parts) > 1 else "")


_SPECIAL_PREFIX = {"'": "say", '"': "say", ":": "emote"}


def closest(word: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """The few `candidates` most like `word` (a typo: `lok`, `nroth`), best first: those
    alike enough (difflib's ratio 0.6 or more) and nearly as alike as the best one."""
    word = word.lower()
    matcher = difflib.SequenceMatcher(b=word)
    scored: list[tuple[float, str]] = []
    for cand in dict.fromkeys(candidates):
        matcher.set_seq1(cand.lower())
        if matcher.real_quick_ratio() >= 0.6 and matcher.quick_ratio() >= 0.6:
            ratio = matcher.ratio()
            if ratio >= 0.6:
                scored.append((ratio, cand))
    if not scored:
        return []
    best = max(r for r, _ in scored)
    return [c for r, c in sorted(scored, key=lambda rc: -rc[0]) if r >= best - 0.05][:n]


def did_you_mean(names: list[str]) -> str:
    """" Did you mean 'look' or 'lock'?" for the names found by `closest` ("" if none)."""
    if not names:
        return ""
    quoted = [f"'{name}'" for name in names]
    alternatives = quoted[0] if len(quoted) == 1 else \
        ", ".join(quoted[:-1]) + " or " + quoted[-1]
    return f" Did you mean {alternatives}?"


def command_words(registry: Registry, role: Role) -> list[str]:
    """Every word that runs a command `role` may use: names, shortcuts, aliases."""
    return [word for word in registry.order if allowed(registry.words[word][0], role)]


def parse_line(line: str, registry: Registry = REGISTRY, role: Role = Role.PLAYER
               ) -> tuple[CommandSpec, dict[str, Any]]:
    """Turn a typed line into a command and its arguments.

    An unknown verb is answered with the closest words of the commands `role` may use
    ("Did you mean 'look'?").

    Raises:
        Refused: `unknown_command` or `bad_args`, with a sentence for people.
    """
    line = line.strip()
    if not line:
        raise Refused(Code.BAD_ARGS, "Say what? (type 'help' for the commands)")
    special = _SPECIAL_PREFIX.get(line[0])
    if special is not None:
        verb, rest = special, line[1:].strip()
    else:
        verb, rest = split_words(line)
        verb = verb.lower()
    hit = registry.lookup(verb) if verb else None
    if hit is None:
        shown = clean(verb, False)[:40]
        guess = did_you_mean(closest(shown, command_words(registry, role)))
        raise Refused(Code.UNKNOWN_COMMAND,
                      f"Unknown command '{shown}'." + (guess or " Type 'help'."))
    spec, preset = hit
    return spec, _read_args(spec, preset, rest)


def _read_args(spec: CommandSpec, preset: Mapping[str, Any], rest: str) -> dict[str, Any]:
    """Read `spec`'s parameters from the rest of a line (after the verb), over `preset`."""
    args: dict[str, Any] = dict(preset)
    for p in spec.params:
        if p.name in args:
            continue
        if p.kind is ParamKind.TEXT:
            value, rest = rest.strip(), ""
        else:
            value, rest = split_words(rest)
        if not value:
            if p.required:
                raise Refused(Code.BAD_ARGS, f"Usage: {spec.usage}")
            continue
        args[p.name] = value
    return _coerce(spec, args)


def expand_alias(aliases: Mapping[str, str], line: str) -> str:
    """The line with its first word expanded if it is one of `aliases` (one level only)."""
    if not aliases:
        return line
    stripped = line.strip()
    word, _, rest = stripped.partition(" ")
    expansion = aliases.get(word.lower())
    if expansion is None:
        return line
    rest = rest.strip()
    if "$*" in expansion:
        return expansion.replace("$*", rest)
    return f"{expansion} {rest}".strip()


# ---- secrets: what may be shown of a command ---------------------------------

SECRET = "********"
"""What a snooping admin, a log or an audit row gets in place of a sensitive command's
arguments."""

_LINE_DEPTH = 3  # alias -> force -> password at most; deeper is hidden to be safe


def is_sensitive(line: str, registry: Registry = REGISTRY,
                 aliases: Mapping[str, str] | None = None) -> bool:
    """Whether `line` runs a sensitive command: itself (after `aliases`, expanded as
    `perform_line` does) or in a command line it carries (an alias's expansion, a forced
    line: `Line` parameters)."""
    return _sensitive(line, registry, aliases, _LINE_DEPTH)


def _sensitive(line: str, registry: Registry, aliases: Mapping[str, str] | None,
               depth: int) -> bool:
    text = expand_alias(aliases, line).strip() if aliases else line.strip()
    if not text or text[0] in _SPECIAL_PREFIX:
        return False
    verb, rest = split_words(text)
    hit = registry.lookup(verb) if verb else None
    if hit is None:
        return False
    spec, preset = hit
    if spec.sensitive:
        return True
    carried = [p.name for p in spec.params if p.line]
    if not carried:
        return False
    if depth <= 1:
        return True
    try:
        args = _read_args(spec, preset, rest)
    except Refused:
        return False
    return any(_sensitive(str(args[n]), registry, None, depth - 1) for n in carried if n in args)


def redact_line(line: str, registry: Registry = REGISTRY,
                aliases: Mapping[str, str] | None = None) -> str:
    """`line` as it may be shown to a snooping admin or written down: cleaned, and if it runs
    a sensitive command (`is_sensitive`), only its first word and `SECRET`."""
    if is_sensitive(line, registry, aliases):
        return f"{clean(line.split(None, 1)[0], False)} {SECRET}"
    return clean(line, False)


def redact_call(tool: Any, args: Any, registry: Registry = REGISTRY) -> str:
    """A structured call as it may be shown or written down: `tool {json args}`, or `tool` and
    `SECRET` for a sensitive command (or one whose command line argument runs one)."""
    name = clean(str(tool), False)
    spec = registry.specs.get(str(tool))
    if spec is not None:
        hidden = spec.sensitive or (isinstance(args, Mapping) and any(
            p.line and isinstance(args.get(p.name), str)
            and _sensitive(args[p.name], registry, None, _LINE_DEPTH - 1) for p in spec.params))
        if hidden:
            return f"{name} {SECRET}"
    return f"{name} {json.dumps(args, default=str, skipkeys=True)}"


# ---- the structured face -----------------------------------------------------


def bind_call(call: Call, registry: Registry = REGISTRY) -> tuple[CommandSpec, dict[str, Any]]:
    """Check a structured call against its command's parameters.

    Raises:
        Refused: `unknown_command` or `bad_args`.
    """
    spec = registry.specs.get(call.tool)
    if spec is None:
        raise Refused(Code.UNKNOWN_COMMAND,
                      f"Unknown tool '{clean(str(call.tool), False)[:40]}'.")
    if not isinstance(call.args, Mapping):
        raise Refused(Code.BAD_ARGS, "args must be an object")
    known = {p.name for p in spec.params}
    extra = sorted(clean(str(k), False)[:40] for k in call.args if k not in known)
    if extra:
        raise Refused(Code.BAD_ARGS, f"{spec.name}: unknown argument(s) {', '.join(extra)}")
    args: dict[str, Any] = {}
    for p in spec.params:
        value = call.args.get(p.name)
        if value is None or value == "":
            if p.required:
                raise Refused(Code.BAD_ARGS, f"{spec.name}: missing argument '{p.name}'")
            continue
        if p.kind is ParamKind.NUMBER:
            if isinstance(value, bool) or not isinstance(value, int | str):
                raise Refused(Code.BAD_ARGS, f"{spec.name}: '{p.name}' must be an integer")
        elif not isinstance(value, str):
            raise Refused(Code.BAD_ARGS, f"{spec.name}: '{p.name}' must be a string")
        args[p.name] = value
    return spec, _coerce(spec, args)


def _coerce(spec: CommandSpec, args: dict[str, Any]) -> dict[str, Any]:
    """Typed arguments. This is where player text enters the world: every string is cleaned
    here (world/text.py; text keeps its newlines, a word loses them), so every event made
    from it is clean for every viewer and codec. A sensitive command's arguments are
    secrets, compared and never shown: they stay as typed."""
    out: dict[str, Any] = {}
    for p in spec.params:
        if p.name not in args:
            continue
        value = args[p.name]
        if isinstance(value, str) and not spec.sensitive:
            value = clean(value, p.kind is ParamKind.TEXT)
            if not value:  # nothing but controls: as if not given
                if p.required:
                    raise Refused(Code.BAD_ARGS, f"Usage: {spec.usage}")
                continue
        if p.kind is ParamKind.DIRECTION:
            direction = parse_direction(str(value))
            if direction is None:
                raise Refused(Code.BAD_ARGS, f"'{str(value)[:20]}' is not a direction.")
            out[p.name] = direction
        elif p.kind is ParamKind.NUMBER:
            try:
                out[p.name] = int(value)
            except ValueError:
                raise Refused(Code.BAD_ARGS, f"'{str(value)[:20]}' is not a number.") from None
        elif p.kind is ParamKind.TEXT:
            out[p.name] = Text(str(value))
        elif p.kind is ParamKind.TARGET:
            out[p.name] = Target(str(value))
        else:
            out[p.name] = Word(str(value))
    return out


# ---- the schema and help faces -----------------------------------------------

_SCHEMA_OF: dict[ParamKind, dict[str, Any]] = {
    ParamKind.WORD: {"type": "string"},
    ParamKind.TARGET: {"type": "string"},
    ParamKind.TEXT: {"type": "string"},
    ParamKind.DIRECTION: {"type": "string", "enum": [d.value for d in Direction]},
    ParamKind.NUMBER: {"type": "integer"},
}


TOOLS_KEPT = 4096
"""Tool schemas kept at most (a few hundred commands; more only when specs are made
again)."""
_TOOLS: dict[int, tuple[CommandSpec, dict[str, Any]]] = {}
"""`tool_schema`'s results by spec (its id, the spec kept so the id stays its own)."""


def tool_schema(spec: CommandSpec) -> dict[str, Any]:
    """The command as a tool: name, description, category, the scope an API key must
    grant and the least role, JSON-Schema parameters and worked examples.

    Made once per spec (every login sends the whole list: a hundred schemas, each
    parsing its examples) and handed out as a new top-level map over shared parts:
    a caller may add keys (`tools_for`'s `allowed`), not change the parts."""
    known = _TOOLS.get(id(spec))
    if known is not None and known[0] is spec:
        return dict(known[1])
    tool = _make_tool(spec)
    if len(_TOOLS) >= TOOLS_KEPT:  # specs made again (a reload): start over
        _TOOLS.clear()
    _TOOLS[id(spec)] = (spec, tool)
    return dict(tool)


def _make_tool(spec: CommandSpec) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for p in spec.params:
        props[p.name] = {**_SCHEMA_OF[p.kind], "description": p.description}
    return {
        "name": spec.name,
        "description": spec.summary,
        "category": spec.category,
        "scope": spec.category,
        "role": str(spec.role),
        "parameters": {
            "type": "object",
            "properties": props,
            "required": [p.name for p in spec.params if p.required],
            "additionalProperties": False,
        },
        "examples": [example_call(spec, line) for line in spec.examples],
    }


def example_call(spec: CommandSpec, line: str) -> dict[str, Any]:
    """One declared example as both faces: `{"line": typed text, "args": the same as a
    call's JSON arguments}` (`args` is left out if the line does not parse)."""
    out: dict[str, Any] = {"line": line}
    text = line.strip()
    special = _SPECIAL_PREFIX.get(text[:1])
    if special == spec.name:
        verb, rest = special, text[1:].strip()
    else:
        verb, rest = split_words(text)
        verb = verb.lower()
    try:
        args = _read_args(spec, spec.shortcuts.get(verb, {}), rest)
    except Refused:
        return out
    out["args"] = {k: _json_arg(v) for k, v in args.items()}
    return out


def _json_arg(value: Any) -> Any:
    if isinstance(value, Direction):
        return value.value
    if isinstance(value, int):
        return value
    return str(value)


def allowed(spec: CommandSpec, role: Role) -> bool:
    """Whether a character of `role` may use `spec`."""
    return role.rank >= spec.role.rank


def tools_for(registry: Registry, role: Role, categories: frozenset[str] | None = None,
              *, every: bool = False) -> list[dict[str, Any]]:
    """The tool list of a session: every command `role` may use whose category is in
    `categories` (an API key's scopes; None: every category), in declaration order.

    `every` lists the role's commands whatever the categories, each tool with
    `"allowed": bool` (granted by `categories` or not): a list that stays the same
    for a role, for bridges such as MCP that need a fixed tool list.
    """
    out: list[dict[str, Any]] = []
    for spec in registry.specs.values():
        if not allowed(spec, role):
            continue
        granted = categories is None or spec.category in categories
        if granted or every:
            tool = tool_schema(spec)
            if every:
                tool["allowed"] = granted
            out.append(tool)
    return out


def help_page(spec: CommandSpec) -> str:
    """The help page: usage line, aliases and the docstring."""
    lines = [f"Usage: {spec.usage}"]
    words = [*spec.aliases, *spec.shortcuts]
    if words:
        lines.append("Also: " + ", ".join(words))
    lines.append("")
    lines.append(spec.help)
    return "\n".join(lines)
