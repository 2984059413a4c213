"""Talking: say, tell, shout, emote."""

from __future__ import annotations

from typing import Annotated

from world.commands.registry import Text, Word, command
from world.errors import Code, Refused
from world.events import Emoted, Message, Said, Shouted, Told
from world.text import clean
from world.world import Ctx

MAX_SAY = 500
"""The longest line of speech (say, tell, shout, emote, gtell), in characters: what is over
is cut, and the speaker told (`cut_notice`). Well under the server's message limit
(8 KiB), so a long line always arrives to be cut here rather than refused there."""


def speech(text: str, what: str = "Say what?") -> tuple[str, bool]:
    """One line of speech: no control or bidi characters (world/text.py), runs of spaces and
    line breaks as one space, at most `MAX_SAY` characters; and whether it was cut."""
    text = " ".join(clean(text, newlines=False).split())
    if not text:
        raise Refused(Code.BAD_ARGS, what)
    return text[:MAX_SAY], len(text) > MAX_SAY


def cut_notice(ctx: Ctx, cut: bool) -> None:
    """Tell the speaker that their words were cut to `MAX_SAY` characters (if they were)."""
    if cut:
        ctx.tell(Message(f"(Your words were cut to {MAX_SAY} characters.)"))


@command("say", category="communication", examples=("say hello", "'hello"))
def say(ctx: Ctx, text: Annotated[Text, "what to say"]) -> None:
    """Say something aloud to everyone in the room.

    A leading ' works too: `'hello there`. At most 500 characters: the rest is cut.
    """
    words, cut = speech(text)
    ctx.tell_room(Said(ctx.actor.name, str(ctx.actor.kind), words), include_actor=True)
    cut_notice(ctx, cut)


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
    words, cut = speech(text)
    event = Told(ctx.actor.name, str(ctx.actor.kind), other.name, words)
    ctx.world.emit_to(other, event)
    ctx.tell(event)
    cut_notice(ctx, cut)


@command("shout", aliases=("yell",), category="communication", examples=("shout help!",))
def shout(ctx: Ctx, text: Annotated[Text, "what to shout"]) -> None:
    """Shout something that everyone in the world hears."""
    words, cut = speech(text)
    ctx.world.emit_all(Shouted(ctx.actor.name, str(ctx.actor.kind), words))
    cut_notice(ctx, cut)


@command("emote", aliases=("me",), category="communication", examples=("emote waves.",))
def emote(ctx: Ctx, text: Annotated[Text, "what you do, after your name"]) -> None:
    """Act something out: `emote waves.` shows `Ann waves.` to the room.

    A leading : works too: `:grins.`
    """
    words, cut = speech(text)
    ctx.tell_room(Emoted(ctx.actor.name, str(ctx.actor.kind), words), include_actor=True)
    cut_notice(ctx, cut)
