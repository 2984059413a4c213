"""About yourself and the game: who, score, help, rest/sleep/wake/stand, quit, password, stats."""

from __future__ import annotations

from typing import Annotated

from world.commands.registry import (
    REGISTRY,
    CommandSpec,
    Registry,
    Text,
    Word,
    allowed,
    closest,
    command,
    command_words,
    did_you_mean,
    help_page,
    tool_schema,
)
from world.entities import Position, Role
from world.errors import Code, Refused
from world.events import HelpShown, PositionChanged, ScoreShown, ServerRequest, WhoListed
from world.rules import armor_class, xp_next
from world.world import Ctx


@command("who", category="information", sleeping_ok=True, examples=("who",))
def who(ctx: Ctx) -> None:
    """List everyone playing now."""
    ctx.tell(WhoListed([
        {
            "name": ch.name,
            "level": ch.level,
            "class": ch.cls,
            "kind": str(ch.kind),
            "title": ch.title,
            "role": str(ch.role),
            "linkdead": ch.linkdead,
        }
        for ch in sorted(ctx.world.characters.values(), key=lambda c: (-c.level, c.name))
        if ch.kind.value != "mob"
    ]))


@command("score", aliases=("sc",), category="information", sleeping_ok=True,
         examples=("score",))
def score(ctx: Ctx) -> None:
    """Show your character sheet."""
    ch = ctx.actor
    proto = ctx.world.content.classes[ch.cls]
    ctx.tell(ScoreShown({
        "name": ch.name,
        "title": ch.title,
        "class": ch.cls,
        "class_name": proto.name,
        "level": ch.level,
        "xp": ch.xp,
        "xp_next": xp_next(ch),
        "hp": ch.hp,
        "max_hp": ch.max_hp,
        "mana": ch.mana,
        "max_mana": ch.max_mana,
        "moves": ch.moves,
        "max_moves": ch.max_moves,
        "attributes": dict(proto.attributes),
        "position": str(ch.position),
        "role": str(ch.role),
        "room": ctx.room.name,
        "played_seconds": (ch.played_ticks + ctx.world.time - ch.session_start) // 10,
        "armor_class": armor_class(ch),
        "gold": ch.gold,
    }))


@command("help", aliases=("?", "commands"), category="information", sleeping_ok=True,
         examples=("help", "help look", "help combat", "help magic missile", "help death"))
def help_(ctx: Ctx, topic: Annotated[Text | None, "a command, a group of commands (combat), "
                                                  "a spell or skill, or a topic (newbie)"]
          = None) -> None:
    """Show the list of commands, or the help page of a command, a group, a spell or a topic.

    `help` lists the commands by group; `help combat` lists one group with what each
    command does; `help kill` explains one command; `help magic missile` (or
    `help 'magic missile'`) one spell or skill; `help newbie`, `help rules`,
    `help death` and `help level` are pages for everyone. The start of a name is enough.
    """
    role = ctx.actor.role
    registry = ctx.world.registry
    word = " ".join((topic or "").strip().strip("'\"").lower().split())
    if not word:
        listing = [
            {"name": s.name, "summary": s.summary, "category": s.category}
            for s in registry.specs.values()
            if allowed(s, role)
        ]
        ctx.tell(HelpShown("", "", listing))
        return
    pages = ctx.world.content.help
    groups = _groups(registry, role)
    spells = {_spell_topic(sid, spell.name): sid for sid, spell in
              ctx.world.content.spells.items()}
    if word in pages:
        ctx.tell(HelpShown(word, pages[word], [], "markdown"))
        return
    exact = registry.words.get(word)
    if exact is not None and allowed(exact[0], role):
        _command_page(ctx, exact[0], word, groups)
        return
    if word in groups:
        _group_page(ctx, word, groups[word])
        return
    if word in spells or word.replace(" ", "_") in ctx.world.content.spells:
        _spell_page(ctx, spells.get(word) or word.replace(" ", "_"))
        return
    hit = registry.lookup(word)
    if hit is not None and allowed(hit[0], role):
        _command_page(ctx, hit[0], word, groups)
        return
    page = next((n for n in pages if n.startswith(word)), None)
    if page is not None:
        ctx.tell(HelpShown(page, pages[page], [], "markdown"))
        return
    group = next((n for n in groups if n.startswith(word)), None)
    if group is not None:
        _group_page(ctx, group, groups[group])
        return
    spell = next((n for n in spells if n.startswith(word)), None)
    if spell is not None:
        _spell_page(ctx, spells[spell])
        return
    known = [*pages, *groups, *spells, *command_words(registry, role)]
    raise Refused(Code.NO_HELP, f"No help on '{word[:40]}'."
                  + (did_you_mean(closest(word, known)) or " Type 'help' for the list."))


def _groups(registry: Registry, role: Role) -> dict[str, list[CommandSpec]]:
    """The groups of commands `role` may use (`help` lists them), each in declaration order."""
    out: dict[str, list[CommandSpec]] = {}
    for spec in registry.specs.values():
        if allowed(spec, role):
            out.setdefault(spec.category, []).append(spec)
    return out


def _group_listing(specs: list[CommandSpec]) -> str:
    width = max(len(s.name) for s in specs)
    return "\n".join(f"{s.name:<{width}}  {s.summary}" for s in specs)


def _group_page(ctx: Ctx, group: str, specs: list[CommandSpec]) -> None:
    """`help combat`: the group's commands, each with its one-line description."""
    body = (f"The {group} commands:\n{_group_listing(specs)}\n\n"
            "Type 'help <command>' for more on one of them.")
    ctx.tell(HelpShown(group, body, [{"name": s.name, "summary": s.summary,
                                      "category": s.category} for s in specs]))


def _command_page(ctx: Ctx, spec: CommandSpec, word: str,
                  groups: dict[str, list[CommandSpec]]) -> None:
    """A command's page; and the group's list when the word also names a group (`help
    group`, `help quests`)."""
    body = help_page(spec)
    group = word if word in groups else spec.name if spec.name in groups else None
    if group is not None:
        body += f"\n\nThe {group} commands:\n{_group_listing(groups[group])}"
    ctx.tell(HelpShown(spec.name, body, [tool_schema(spec)]))


def _spell_topic(sid: str, name: str) -> str:
    return " ".join(name.lower().split()) or sid.replace("_", " ")


_TARGETS = {"enemy": "a foe", "self": "yourself", "ally": "yourself or someone else",
            "item": "an item", "room_enemies": "every foe in the room", "none": "no one"}


_CAST_TARGET = {"enemy": " <target> (your foe if you fight)",
                "ally": " [target] (yourself if you name no one)", "item": " <item>"}


def _spell_page(ctx: Ctx, sid: str) -> None:
    """`help magic missile`: a spell or skill from content/spells.yaml, for people."""
    spell = ctx.world.content.spells[sid]
    kind = "skill" if spell.skill else "spell"
    lines = [f"{spell.name[:1].upper()}{spell.name[1:]} ({kind})", spell.description.strip(),
             ""]
    facts = [f"Kind: {spell.kind}"]
    if spell.target != "none":
        facts.append(f"aimed at {_TARGETS.get(spell.target, spell.target)}")
    if spell.mana:
        facts.append(f"{spell.mana} mana")
    if spell.cooldown:
        facts.append(f"ready again after {(spell.cooldown + 9) // 10} s")
    lines.append("; ".join(facts) + ".")
    if spell.classes:
        lines.append("Learned by: " + ", ".join(
            f"{ctx.world.content.classes[c].name if c in ctx.world.content.classes else c} "
            f"at level {lv}" for c, lv in sorted(spell.classes.items(), key=lambda kv: kv[1]))
            + ".")
    if spell.kind == "passive":
        lines.append("It works by itself once learned; practice makes it better.")
    elif spell.skill:
        command_spec = ctx.world.registry.specs.get(sid)
        if command_spec is not None:
            lines.append(f"Use it: {command_spec.usage}")
    else:
        name = f"'{spell.name}'" if " " in spell.name else spell.name
        lines.append(f"Cast it: cast {name}" + _CAST_TARGET.get(spell.target, ""))
    lines.append("Type 'spells' or 'skills' to see yours.")
    ctx.tell(HelpShown(spell.name, "\n".join(lines), [{"id": sid, "name": spell.name,
                                                          "skill": spell.skill}]))


def _set_position(ctx: Ctx, position: Position, already: str) -> None:
    if ctx.actor.position is Position.FIGHTING:
        raise Refused(Code.POSITION, "Not while you are fighting!")
    if ctx.actor.position is position:
        raise Refused(Code.ALREADY, already)
    ctx.actor.position = position
    ctx.world.touch(ctx.actor)
    ctx.tell_room(PositionChanged(ctx.actor.name, position.value), include_actor=True)


@command("rest", aliases=("sit",), category="position", examples=("rest",))
def rest(ctx: Ctx) -> None:
    """Sit down and rest: you recover twice as fast."""
    _set_position(ctx, Position.RESTING, "You are already resting.")


@command("sleep", category="position", examples=("sleep",))
def sleep(ctx: Ctx) -> None:
    """Go to sleep: you recover fastest, but see and hear little."""
    _set_position(ctx, Position.SLEEPING, "You are already asleep.")


@command("wake", category="position", sleeping_ok=True, examples=("wake",))
def wake(ctx: Ctx) -> None:
    """Wake up and sit up."""
    if ctx.actor.position is not Position.SLEEPING:
        raise Refused(Code.ALREADY, "You are already awake.")
    _set_position(ctx, Position.RESTING, "")


@command("stand", category="position", sleeping_ok=True, examples=("stand",))
def stand(ctx: Ctx) -> None:
    """Stand up (from resting or sleeping)."""
    _set_position(ctx, Position.STANDING, "You are already standing.")


@command("quit", category="system", sleeping_ok=True, examples=("quit",), exact=True)
def quit_(ctx: Ctx) -> None:
    """Leave the game. Your character is saved where it stands."""
    if ctx.actor.position is Position.FIGHTING:
        raise Refused(Code.POSITION, "No way! You are fighting.")
    ctx.tell(ServerRequest("quit", {}))


@command("password", category="system", sleeping_ok=True, sensitive=True,
         examples=("password oldsecret newsecret",))
def password(ctx: Ctx, old: Annotated[Word, "your current password"],
             new: Annotated[Word, "the new password (8 characters or more)"]) -> None:
    """Change your password: `password <old> <new>`."""
    if len(new) < 8:
        raise Refused(Code.BAD_ARGS, "The new password must have at least 8 characters.")
    ctx.tell(ServerRequest("password", {"old": str(old), "new": str(new)}))


@command("stats", category="admin", role=Role.ADMIN, sleeping_ok=True, examples=("stats",))
def stats(ctx: Ctx) -> None:
    """Show server statistics: tick timing (p50/p99 over the last minute), sessions, traffic."""
    ctx.tell(ServerRequest("stats", {}))


__all__ = ["REGISTRY"]
