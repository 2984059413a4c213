"""Talking: say, tell, shout, emote."""

from __future__ import annotations

from typing import Annotated

from world.commands.registry import Text, Word, command
from world.context import Ctx
from world.errors import Code, Refused
from world.events import Emoted, Said, Shouted, Told
from world.text import clean

MAX_SAY = 500


def _clean(text: str) -> str:
    """One line of speech: no control or bidi characters (world/text.py), runs of spaces and
    line breaks as one space, at most `MAX_SAY` characters."""
    text = " ".join(clean(text, newlines=False).split())
    if not text:
        raise Refused(Code.BAD_ARGS, "Say what?")
    return text[:MAX_SAY]


@command("say", category="communication", examples=("say hello", "'hello"))
def say(ctx: Ctx, text: Annotated[Text, "what to say"]) -> None:
    """Say something aloud to everyone in the room.

    A leading ' works too: `'hello there`.
    """
    ctx.tell_room(Said(ctx.actor.name, str(ctx.actor.kind), _clean(text)), include_actor=True)


@command("tell", category="communication",
         examples=("tell Ann meet me at the gate",))
def tell(ctx: Ctx, target: Annotated[Word, "who to tell (anywhere in the world)"],
         text: Annotated[Text, "what to tell them"]) -> None:
    """Tell someone something privately, wherever they are."""
    other = ctx.world.find_online(target)
    if other is None:
        raise Refused(Code.NOT_HERE, f"No one called '{target[:30]}' is playing now.")
    if other is ctx.actor:
        raise Refused(Code.BAD_TARGET, "You mutter to yourself.")
    if other.linkdead:
        raise Refused(Code.NOT_HERE, f"{other.name} has lost their link and can't hear you.")
    event = Told(ctx.actor.name, str(ctx.actor.kind), other.name, _clean(text))
    ctx.world.emit_to(other, event)
    ctx.tell(event)


@command("shout", aliases=("yell",), category="communication", examples=("shout help!",))
def shout(ctx: Ctx, text: Annotated[Text, "what to shout"]) -> None:
    """Shout something that everyone in the world hears."""
    ctx.world.emit_all(Shouted(ctx.actor.name, str(ctx.actor.kind), _clean(text)))


@command("emote", aliases=("me",), category="communication", examples=("emote waves.",))
def emote(ctx: Ctx, text: Annotated[Text, "what you do, after your name"]) -> None:
    """Act something out: `emote waves.` shows `Ann waves.` to the room.

    A leading : works too: `:grins.`
    """
    ctx.tell_room(Emoted(ctx.actor.name, str(ctx.actor.kind), _clean(text)), include_actor=True)
