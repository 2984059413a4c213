"""Administration: promote, demote, disconnect (kick), ban, unban, mute, unmute, announce,
shutdown, reboot, snoop, force and audit (role admin).

The world checks what it can see (the arguments, who is online, that nobody acts on
another admin) and refuses before anything happens; what needs the database, the
connections or the clock it asks of the server with an internal
`ServerRequest(kind, args)`, as `quit` and `stats` do. The server carries it out,
writes the audit log and answers the command's `result` when it is done.

Durations are written `30s`, `10m`, `2h`, `3d` or `1w` (`perm` or `forever`: no end).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated

from world.commands.registry import Line, Text, Word, command
from world.entities import Character, Role
from world.errors import Code, Refused
from world.events import ServerRequest
from world.world import Ctx

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"^(\d{1,6})([smhdw])$")
FOREVER = frozenset({"perm", "permanent", "forever", "never"})
MAX_DURATION = 10 * 365 * 86400  # ten years: beyond that, write `perm`
MAX_COUNTDOWN = 3600
DEFAULT_COUNTDOWN = 60
WILDCARDS = frozenset({"-", "*", "any", "all"})


def parse_duration(word: str) -> int | None:
    """`2h` is 7200 seconds; `perm` (or `forever`) is None.

    Raises:
        Refused: `bad_args`, the word is not a duration.
    """
    word = word.strip().lower()
    if word in FOREVER:
        return None
    m = _DURATION.match(word)
    if m is None:
        raise Refused(Code.BAD_ARGS, f"'{word[:20]}' is not a duration: write 30m, 2h, 3d, 1w "
                                     "or perm.")
    seconds = int(m.group(1)) * _UNITS[m.group(2)]
    if not 0 < seconds <= MAX_DURATION:
        raise Refused(Code.BAD_ARGS, "A duration runs from 1 second to 10 years (or perm).")
    return seconds


def duration_and_reason(duration: str | None, reason: str | None) -> tuple[int | None, str]:
    """Split `[duration] [reason]`: a first word that does not look like a duration (no
    leading digit, not `perm`) is the start of the reason, so `ban bob spamming` works."""
    text = " ".join((reason or "").split())
    if not duration:
        return None, text[:200]
    word = duration.strip()
    if word[:1].isdigit() or word.lower() in FOREVER:
        return parse_duration(word), text[:200]
    return None, f"{word} {text}".strip()[:200]


def _online(ctx: Ctx, name: str, verb: str) -> Character:
    """The character `name` playing now; refuses yourself and other admins."""
    ch = ctx.world.find_online(name)
    if ch is None or ch.is_mob:
        raise Refused(Code.NOT_HERE, f"No one called '{name[:30]}' is playing now.")
    if ch is ctx.actor:
        raise Refused(Code.BAD_TARGET, f"You can't {verb} yourself.")
    if ch.role is Role.ADMIN:
        raise Refused(Code.BAD_TARGET, f"You can't {verb} another admin.")
    return ch


def _name(ctx: Ctx, name: str, verb: str) -> str:
    """A character or account name to act on, online or not (not yourself)."""
    if not re.fullmatch(r"[A-Za-z]{2,20}", name):
        raise Refused(Code.BAD_ARGS, f"'{name[:30]}' is not a character's name.")
    if name.lower() == ctx.actor.name.lower():
        raise Refused(Code.BAD_TARGET, f"You can't {verb} yourself.")
    online = ctx.world.find_online(name)
    if online is not None and online.role is Role.ADMIN and verb not in ("promote", "demote"):
        raise Refused(Code.BAD_TARGET, f"You can't {verb} another admin.")
    return name


def _seconds(word: str | None, verb: str) -> int | str:
    if word is None:
        return DEFAULT_COUNTDOWN
    w = word.strip().lower()
    if w == "now":
        return 0
    if w in ("cancel", "abort", "stop"):
        return "cancel"
    if not w.isascii() or not w.isdigit() or int(w[:5]) > MAX_COUNTDOWN:
        raise Refused(Code.BAD_ARGS, f"Usage: {verb} [seconds (0-{MAX_COUNTDOWN}) | now | "
                                     "cancel] [reason]")
    return int(w)


@command("promote", category="admin", role=Role.ADMIN, sleeping_ok=True,
         examples=("promote ann builder", "promote bob admin"))
def promote(ctx: Ctx, name: Annotated[Word, "whose role to change (online or not)"],
            role: Annotated[Word, "the new role: player, builder or admin"]) -> None:
    """Give an account a role: player, builder or admin.

    The change is saved at once, and a character playing now gets it (and its new
    tool list) on the spot. Builders shape the world (see `help building`); admins
    also moderate.
    """
    new = role.lower()
    if new not in {r.value for r in Role}:
        raise Refused(Code.BAD_ARGS, "The role is one of player, builder, admin.")
    ctx.tell(ServerRequest("promote", {"name": _name(ctx, name, "promote"), "role": new}))


@command("demote", category="admin", role=Role.ADMIN, sleeping_ok=True,
         examples=("demote ann",))
def demote(ctx: Ctx, name: Annotated[Word, "whose role to take back (online or not)"]) -> None:
    """Make an account a plain player again (saved at once; takes effect at once)."""
    ctx.tell(ServerRequest("promote", {"name": _name(ctx, name, "demote"),
                                       "role": Role.PLAYER.value}))


@command("disconnect", aliases=("boot", "dc"), category="admin", role=Role.ADMIN,
         sleeping_ok=True, examples=("disconnect bob", "boot bob spamming the square"))
def disconnect(ctx: Ctx, name: Annotated[Word, "who to throw out"],
               reason: Annotated[Text | None, "why (they are told)"] = None) -> None:
    """Kick a player out: close their connection now (their character is saved and
    leaves the world; they may log in again). `kick` itself is the fighting skill.
    """
    ch = _online(ctx, name, "disconnect")
    ctx.tell(ServerRequest("kick", {"name": ch.name,
                                    "reason": " ".join((reason or "").split())[:200]}))


@command("ban", category="admin", role=Role.ADMIN, sleeping_ok=True,
         examples=("ban bob 3d spamming", "ban 203.0.113.7 2h", "ban 198.51.100.0/24 perm bots"))
def ban(ctx: Ctx, target: Annotated[Word, "an account name, an address or a network"],
        duration: Annotated[Word | None, "how long: 30m, 2h, 3d, 1w, perm (default)"] = None,
        reason: Annotated[Text | None, "why (shown to them at login)"] = None) -> None:
    """Ban an account or an address (or a network such as 10.0.0.0/24).

    A banned account or address is refused at login with the reason and the end of
    the ban; a banned player who is connected is kicked at once. Without a
    duration the ban lasts until `unban`. Admins are never shut out by an address
    ban.
    """
    seconds, why = duration_and_reason(duration, reason)
    kind = "address" if _is_address(target) else "account"
    value = target.lower() if kind == "account" else target
    if kind == "account":
        _name(ctx, target, "ban")
    ctx.tell(ServerRequest("ban", {"kind": kind, "value": value, "seconds": seconds,
                                   "reason": why}))


@command("unban", category="admin", role=Role.ADMIN, sleeping_ok=True,
         examples=("unban bob", "unban 203.0.113.7"))
def unban(ctx: Ctx, target: Annotated[Word, "the banned account name or address"]) -> None:
    """Lift a ban on an account or an address."""
    kind = "address" if _is_address(target) else "account"
    value = target.lower() if kind == "account" else target
    ctx.tell(ServerRequest("unban", {"kind": kind, "value": value}))


def _is_address(text: str) -> bool:
    return bool(re.fullmatch(r"[0-9a-fA-F.:]+(/\d{1,3})?", text)) and any(
        c in text for c in ".:")


@command("mute", category="admin", role=Role.ADMIN, sleeping_ok=True,
         examples=("mute bob 30m", "mute bob 1d flooding", "mute bob"))
def mute(ctx: Ctx, name: Annotated[Word, "who to silence (online or not)"],
         duration: Annotated[Word | None, "how long: 30m, 2h, 3d, perm (default)"] = None,
         reason: Annotated[Text | None, "why (they are told)"] = None) -> None:
    """Stop a character from talking: no say, tell, shout, emote or gtell (code `muted`).

    The mute is saved with the character and ends by itself after the duration, or
    with `unmute`.
    """
    seconds, why = duration_and_reason(duration, reason)
    ctx.tell(ServerRequest("mute", {"name": _name(ctx, name, "mute"), "seconds": seconds,
                                    "reason": why}))


@command("unmute", category="admin", role=Role.ADMIN, sleeping_ok=True,
         examples=("unmute bob",))
def unmute(ctx: Ctx, name: Annotated[Word, "who may talk again"]) -> None:
    """Let a muted character talk again."""
    ctx.tell(ServerRequest("unmute", {"name": _name(ctx, name, "unmute")}))


@command("announce", category="admin", role=Role.ADMIN, sleeping_ok=True,
         examples=("announce The bridge to the Barrow is open again.",))
def announce(ctx: Ctx, text: Annotated[Text, "what everyone should read"]) -> None:
    """Tell everyone playing something important (a `message` event, level notice)."""
    clean = " ".join(text.split())[:500]
    if not clean:
        raise Refused(Code.BAD_ARGS, "Announce what?")
    ctx.tell(ServerRequest("announce", {"text": clean}))


@command("shutdown", category="admin", role=Role.ADMIN, sleeping_ok=True, exact=True,
         examples=("shutdown", "shutdown 300 upgrading the server", "shutdown now",
                   "shutdown cancel"))
def shutdown(ctx: Ctx,
             seconds: Annotated[Word | None, "seconds before it stops (default 60), now, or "
                                             "cancel"] = None,
             reason: Annotated[Text | None, "why (everyone is told)"] = None) -> None:
    """Stop the server after a countdown that everyone hears (at 60, 30, 10, 5...1 s).

    Everything is saved first. `shutdown cancel` calls off a countdown under way.
    The process exits with status 0; to restart, see `reboot`.
    """
    ctx.tell(ServerRequest("shutdown", {"seconds": _seconds(seconds, "shutdown"),
                                        "reason": " ".join((reason or "").split())[:200],
                                        "reboot": False}))


@command("reboot", category="admin", role=Role.ADMIN, sleeping_ok=True, exact=True,
         examples=("reboot", "reboot 30", "reboot cancel"))
def reboot(ctx: Ctx,
           seconds: Annotated[Word | None, "seconds before it restarts (default 60), now, or "
                                           "cancel"] = None,
           reason: Annotated[Text | None, "why (everyone is told)"] = None) -> None:
    """Restart the server after a countdown, like `shutdown`; everything is saved first.

    The process exits with status 75, which tells its supervisor (`make run`, a
    systemd unit with `RestartForceExitStatus=75`) to start it again.
    """
    ctx.tell(ServerRequest("shutdown", {"seconds": _seconds(seconds, "reboot"),
                                        "reason": " ".join((reason or "").split())[:200],
                                        "reboot": True}))


@command("snoop", category="admin", role=Role.ADMIN, sleeping_ok=True,
         examples=("snoop bob", "snoop"))
def snoop(ctx: Ctx, name: Annotated[Word | None, "whose connection to watch; none: stop"] = None
          ) -> None:
    """Watch everything a player's connection receives (and what they type), as text.

    `snoop` alone stops. Admins can't be snooped.
    """
    if not name:
        ctx.tell(ServerRequest("snoop", {"name": None}))
        return
    ch = _online(ctx, name, "snoop")
    ctx.tell(ServerRequest("snoop", {"name": ch.name}))


@command("force", category="admin", role=Role.ADMIN, sleeping_ok=True,
         examples=("force bob look", "force bob drop cursed ring"))
def force(ctx: Ctx, name: Annotated[Word, "who must do it (playing now; not an admin)"],
          line: Annotated[Line, "the command line they run"]) -> None:
    """Make a character run a command line, as if they had typed it (they are told)."""
    ch = _online(ctx, name, "force")
    if not line.strip():
        raise Refused(Code.BAD_ARGS, "Usage: force <name> <command line>")
    ctx.tell(ServerRequest("force", {"name": ch.name, "line": line.strip()[:500]}))


@command("audit", category="admin", role=Role.ADMIN, sleeping_ok=True,
         examples=("audit", "audit ann", "audit - ban", "audit ann room 2h",
                   "audit - - 2025-11-29"))
def audit(ctx: Ctx,
          who: Annotated[Word | None, "only this actor's entries (- for anyone)"] = None,
          action: Annotated[Word | None, "only this action, or a family like room "
                                         "(- for any)"] = None,
          since: Annotated[Word | None, "only since: a duration ago (2h, 3d) or a date "
                                        "(2025-11-29)"] = None) -> None:
    """Read the audit log: every builder and admin action, newest first (50 at most)."""
    args: dict[str, object] = {"who": None, "action": None, "since_seconds": None,
                               "since_date": None}
    if who and who.lower() not in WILDCARDS:
        args["who"] = str(who)
    if action and action.lower() not in WILDCARDS:
        args["action"] = action.lower()
    if since and since.lower() not in WILDCARDS:
        if since[:1].isdigit() and _DURATION.match(since.lower()):
            args["since_seconds"] = parse_duration(since)
        else:
            try:
                when = (datetime.fromisoformat(since) if "T" in since
                        else datetime.combine(date.fromisoformat(since), datetime.min.time()))
            except ValueError:
                raise Refused(Code.BAD_ARGS, f"'{since[:30]}' is neither a duration (2h) nor a "
                                             "date (2025-11-29).") from None
            args["since_date"] = when.isoformat()
    ctx.tell(ServerRequest("audit", args))
