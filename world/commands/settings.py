"""Per-character preferences, saved with the character: color, prompt, alias, unalias."""

from __future__ import annotations

from typing import Annotated

from world.commands.registry import Line, Text, Word, command, is_sensitive
from world.commands.registry import expand_alias as expand_alias  # moved there; kept importable
from world.errors import Code, Refused
from world.events import SettingChanged
from world.world import Ctx

DEFAULT_PROMPT = "<%h/%Hhp %m/%Mm %v/%Vmv> "
MAX_ALIASES = 50
MAX_EXPANSION = 200
PROMPT_CODES = {
    "%h": "hp", "%H": "max hp", "%m": "mana", "%M": "max mana", "%v": "moves",
    "%V": "max moves", "%x": "xp", "%X": "xp for the next level", "%l": "level", "%%": "a %",
}


@command("color", aliases=("colour",), category="settings", sleeping_ok=True,
         examples=("color off", "color on", "color"))
def color(ctx: Ctx, setting: Annotated[Word | None, "on or off; toggles if empty"] = None
          ) -> None:
    """Turn colour in text output on or off (it is on by default in text mode).

    Colour is never needed to play: every coloured word is also plain text.
    """
    current = bool(ctx.actor.settings.get("color", True))
    if setting is None:
        value = not current
    elif setting.lower() in ("on", "yes", "true", "1"):
        value = True
    elif setting.lower() in ("off", "no", "false", "0"):
        value = False
    else:
        raise Refused(Code.BAD_ARGS, "Usage: color on|off")
    ctx.actor.settings["color"] = value
    ctx.tell(SettingChanged("color", value))


@command("width", category="settings", sleeping_ok=True,
         examples=("width 60", "width off", "width auto", "width"))
def width(ctx: Ctx, columns: Annotated[Word | None, "20 to 250 columns, off, or auto"] = None
          ) -> None:
    """Wrap text output to a width, for narrow screens and MUD clients that don't say theirs.

    Text clients are wrapped to the window size they report (telnet NAWS) anyway;
    with none reported, to this setting, or to 80 columns. `width off` stops
    wrapping where the client reports no size (for clients that wrap themselves),
    `width auto` goes back to the default, and `width` alone shows the setting.
    """
    if columns is None:
        ctx.tell(SettingChanged("width", ctx.actor.settings.get("width")))
        return
    if columns.lower() in ("auto", "default"):
        ctx.actor.settings.pop("width", None)
        ctx.tell(SettingChanged("width", None))
        return
    if columns.lower() in ("off", "0", "none"):
        ctx.actor.settings["width"] = 0
        ctx.tell(SettingChanged("width", 0))
        return
    if not columns.isdigit() or not 20 <= int(columns) <= 250:
        raise Refused(Code.BAD_ARGS, "Usage: width <20-250>, width off or width auto")
    ctx.actor.settings["width"] = int(columns)
    ctx.tell(SettingChanged("width", int(columns)))


@command("prompt", category="settings", sleeping_ok=True,
         examples=("prompt %h/%Hhp %v/%Vmv> ", "prompt default", "prompt"))
def prompt(ctx: Ctx, format: Annotated[Text | None, "the prompt; `default` resets it"] = None
           ) -> None:
    """Set the prompt shown after output in text clients.

    Codes: %h hp, %H max hp, %m mana, %M max mana, %v moves, %V max moves,
    %x xp, %X xp for the next level, %l level, %% a percent sign.
    `prompt default` resets it; `prompt off` shows none.
    """
    if format is None:
        ctx.tell(SettingChanged("prompt", ctx.actor.settings.get("prompt", DEFAULT_PROMPT)))
        return
    value = str(format)
    if value.lower() == "default":
        ctx.actor.settings.pop("prompt", None)
        ctx.tell(SettingChanged("prompt", DEFAULT_PROMPT))
        return
    if value.lower() == "off":
        value = ""
    if len(value) > 120:
        raise Refused(Code.BAD_ARGS, "A prompt has at most 120 characters.")
    ctx.actor.settings["prompt"] = value + (" " if value and not value.endswith(" ") else "")
    ctx.tell(SettingChanged("prompt", ctx.actor.settings["prompt"]))


@command("alias", category="settings", sleeping_ok=True,
         examples=("alias", "alias k kill", "alias gg say good game, $*"))
def alias(ctx: Ctx, name: Annotated[Word | None, "the shortcut word"] = None,
          expansion: Annotated[Line | None, "what it stands for; $* is the rest of the line"]
          = None) -> None:
    """Make a word stand for a command: `alias gn go north` makes `gn` walk north.

    `$*` in the expansion is replaced by whatever follows the alias when you type
    it (otherwise that is appended). `alias` alone lists yours; `alias <word>`
    shows one; `unalias <word>` removes it. Aliases are not expanded inside aliases.
    """
    aliases = ctx.actor.aliases
    if name is None:
        ctx.tell(SettingChanged("aliases", dict(aliases)))
        return
    key = name.lower()
    if expansion is None:
        if key not in aliases:
            raise Refused(Code.NOT_HERE, f"You have no alias '{key[:20]}'.")
        ctx.tell(SettingChanged("aliases", {key: aliases[key]}))
        return
    if key in ("alias", "unalias") or not key.isprintable() or len(key) > 20:
        raise Refused(Code.BAD_ARGS, "That word can't be an alias.")
    if len(expansion) > MAX_EXPANSION:
        raise Refused(Code.BAD_ARGS, f"An alias stands for at most {MAX_EXPANSION} characters.")
    if key not in aliases and len(aliases) >= MAX_ALIASES:
        raise Refused(Code.BAD_ARGS, f"You have {MAX_ALIASES} aliases already.")
    if is_sensitive(str(expansion), ctx.world.registry):  # it would be saved in clear
        raise Refused(Code.BAD_ARGS, "An alias can't stand for a command that takes a secret "
                                     "(such as password).")
    aliases[key] = str(expansion)
    ctx.tell(SettingChanged("aliases", {key: aliases[key]}))


@command("unalias", category="settings", sleeping_ok=True, examples=("unalias gn",))
def unalias(ctx: Ctx, name: Annotated[Word, "the alias to remove"]) -> None:
    """Remove one of your aliases."""
    if ctx.actor.aliases.pop(name.lower(), None) is None:
        raise Refused(Code.NOT_HERE, f"You have no alias '{name[:20]}'.")
    ctx.tell(SettingChanged("aliases", dict(ctx.actor.aliases)))


def render_prompt(fmt: str, values: dict[str, int]) -> str:
    """Fill a prompt format (see `prompt`) with a character's numbers."""
    out = []
    i = 0
    while i < len(fmt):
        c = fmt[i]
        if c == "%" and i + 1 < len(fmt):
            code = fmt[i : i + 2]
            if code == "%%":
                out.append("%")
            elif code[1] in _FIELDS:
                out.append(str(values.get(_FIELDS[code[1]], "")))
            else:
                out.append(code)
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


_FIELDS = {"h": "hp", "H": "max_hp", "m": "mana", "M": "max_mana", "v": "moves",
           "V": "max_moves", "x": "xp", "X": "xp_next", "l": "level"}
