"""`aegent agent create|list|rotate|revoke|scopes|config|a2a`: agent accounts from the shell.

Like `aegent user create`, each command opens the database named by `--data-dir`
(or AEGENT_DATA_DIR) or DATABASE_URL, migrates it, and works on it directly; a running
server notices revocations and scope changes within `agent_key_check_interval`
seconds. A new key is printed once, alone on standard output (so `KEY=$(aegent agent
create ...)` works); what was done goes to standard error. Errors exit with status 2.
`aegent agent a2a NAME on` lets the agent be reached over A2A (server/host/a2a.py) and prints
its Agent Card's URL alone on standard output; `off` stops it (at once: the server
reads the consent on every request).

Only argparse is imported at start: the parser is built on every `aegent` call.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from server.host.identity_storage import AgentRecord, IdentityStore


def add_agent_commands(sub: Any) -> None:
    """Add create, list, rotate, revoke, scopes, config and a2a to the `agent` subparsers."""
    def common(parser: argparse.ArgumentParser, fn: Callable[[argparse.Namespace], int]
               ) -> None:
        parser.add_argument("--data-dir", type=Path,
                            help="where data lives (AEGENT_DATA_DIR; DATABASE_URL wins)")
        parser.set_defaults(fn=_reporting(fn))

    c = sub.add_parser("create", help="create an agent owned by a person; prints its API key "
                                      "once")
    c.add_argument("name")
    c.add_argument("--owner", required=True, help="the person's account that owns it")
    c.add_argument("--scopes", default="*",
                   help="command categories its key may use, comma-separated (default *: all)")
    c.add_argument("--class", dest="cls", help="its character's class (default: the first)")
    c.add_argument("--content-dir", type=Path, help="content folder, to check --class")
    _limit_flags(c)
    common(c, _create)

    ls = sub.add_parser("list", help="list agents (all, or one owner's)")
    ls.add_argument("--owner", help="only this person's agents")
    ls.add_argument("--json", action="store_true", help="one JSON document")
    common(ls, _list)

    r = sub.add_parser("rotate", help="a new API key (printed once); the old one is revoked")
    r.add_argument("name")
    common(r, _rotate)

    rv = sub.add_parser("revoke", help="revoke the agent's API key (its connections close)")
    rv.add_argument("name")
    common(rv, _revoke)

    s = sub.add_parser("scopes", help="set the command categories the agent's key may use")
    s.add_argument("name")
    s.add_argument("scopes", help="comma-separated categories, or *")
    common(s, _scopes)

    cf = sub.add_parser("config", help="set the agent's rate limits, policy and model")
    cf.add_argument("name")
    _limit_flags(cf)
    common(cf, _config)

    a = sub.add_parser("a2a", help="let the agent be reached over A2A (on), or not (off); "
                                   "on prints its Agent Card's URL")
    a.add_argument("name")
    a.add_argument("state", choices=["on", "off"])
    common(a, _a2a)


def _limit_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rate", type=float, help="commands per second, sustained")
    parser.add_argument("--burst", type=int, help="commands at once")
    parser.add_argument("--on-limit", choices=["scripted", "stop"],
                        help="at its budget's limit: fall back to the scripted policy, or stop")
    parser.add_argument("--policy", help="the policy its runtime plays with (llm, scripted)")
    parser.add_argument("--model", help="the LLM model its runtime uses")


def _config_of(args: argparse.Namespace) -> dict[str, Any]:
    values = {"rate": args.rate, "burst": args.burst, "on_limit": args.on_limit,
              "policy": args.policy, "model": args.model}
    return {k: v for k, v in values.items() if v is not None}


@contextmanager
def _store(args: argparse.Namespace) -> Iterator[IdentityStore]:
    from server import config
    from server.host import storage
    from server.host.identity_storage import IdentityStore

    with storage.opened(config.from_env(config_file=getattr(args, "config", None),
                                        data_dir=args.data_dir)) as repo:
        yield IdentityStore(repo.engine)


def _fail(message: str) -> int:
    print(f"aegent: {message}", file=sys.stderr)
    return 2


def _reporting(fn: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """`fn`, with the `IdentityError` it raises (a bad name, scope or value; no such agent)
    said on stderr with status 2."""
    @functools.wraps(fn)
    def run(args: argparse.Namespace) -> int:
        from server.host.identity import IdentityError

        try:
            return fn(args)
        except IdentityError as exc:
            return _fail(exc.message)
    return run


def _new_key(message: str, key: str) -> int:
    """`message` on stderr, then the key alone on stdout (`KEY=$(aegent agent ...)`)."""
    print(message, file=sys.stderr)
    print(key)
    return 0


def _categories() -> frozenset[str]:
    from server.host.identity import command_categories
    from world.commands import REGISTRY

    return command_categories(REGISTRY)


def _create(args: argparse.Namespace) -> int:
    from server import config
    from server.host import identity

    scopes = identity.parse_scopes(args.scopes, _categories())
    classes = None
    if args.cls is not None:
        from server.host import content

        folder = args.content_dir or config.from_env(
            config_file=getattr(args, "config", None)).content_dir
        classes = list(content.load(folder).classes)
    agent_config = identity.check_config({**_config_of(args), "cls": args.cls}, classes)
    agent_config = {k: v for k, v in agent_config.items() if v is not None}
    with _store(args) as store:
        record, key = identity.create_agent(store, args.name, args.owner, scopes, agent_config)
    return _new_key(f"Agent {record.display_name} created, owned by {record.owner} "
                    f"(scopes: {', '.join(record.scopes)}). Its API key, shown only this once:",
                    key)


def _list(args: argparse.Namespace) -> int:
    from server.host import identity

    with _store(args) as store:
        records = identity.list_agents(store, args.owner)
    if args.json:
        print(json.dumps([r.to_data() for r in records], indent=2))
        return 0
    if not records:
        print("no agents")
        return 0
    for r in records:
        print(_line(r))
    return 0


def _line(r: AgentRecord) -> str:
    state = f"key {r.key_id}" if r.key_id else "revoked"
    used = r.last_used_at.strftime("%Y-%m-%d %H:%M") if r.last_used_at else "never"
    config = " ".join(f"{k}={v}" for k, v in sorted(r.config.items()))
    return (f"{r.display_name:<16} owner={r.owner:<16} {state:<16} "
            f"scopes={','.join(r.scopes)} last_login={used}" + (f" {config}" if config else ""))


def _rotate(args: argparse.Namespace) -> int:
    from server.host import identity

    with _store(args) as store:
        record, key, revoked = identity.rotate_key(store, args.name)
    old = ", ".join(revoked) or "none live"
    return _new_key(f"{record.display_name} has a new API key (revoked: {old}); shown only "
                    "this once:", key)


def _revoke(args: argparse.Namespace) -> int:
    from server.host import identity

    with _store(args) as store:
        revoked = identity.revoke_agent(store, args.name)
    if revoked:
        print(f"revoked {args.name}'s key {', '.join(revoked)}")
    else:
        print(f"{args.name} had no live key")
    return 0


def _scopes(args: argparse.Namespace) -> int:
    from server.host import identity

    scopes = identity.parse_scopes(args.scopes, _categories())
    with _store(args) as store:
        record = identity.set_scopes(store, args.name, scopes)
    print(f"{record.display_name} may use: {', '.join(record.scopes)}")
    return 0


def _config(args: argparse.Namespace) -> int:
    from server.host import identity

    changes = _config_of(args)
    if not changes:
        return _fail("nothing to change: give --rate, --burst, --on-limit, --policy or --model")
    with _store(args) as store:
        record = identity.set_config(store, args.name, changes)
    print(f"{record.display_name}: " + " ".join(f"{k}={v}"
                                                 for k, v in sorted(record.config.items())))
    return 0


def _a2a(args: argparse.Namespace) -> int:
    from server import config
    from server.host import storage
    from server.host.a2a import configured_base
    from server.host.a2a_protocol import card_url
    from server.host.a2a_storage import A2AStore
    from server.host.identity_storage import AgentNotFound

    on = args.state == "on"
    settings = config.from_env(config_file=getattr(args, "config", None), data_dir=args.data_dir)
    try:
        with storage.opened(settings) as repo:
            record = A2AStore(repo.engine).set_reachable(args.name, on)
    except AgentNotFound:
        return _fail(f"No agent named '{args.name[:30]}'.")
    if not on:
        print(f"{record.display_name} can no longer be reached over A2A.")
        return 0
    url = card_url(configured_base(settings), record.display_name)
    print(f"{record.display_name} can now be reached over A2A with an API key of "
          f"{record.owner}'s (Authorization: Bearer <key>). Its Agent Card:", file=sys.stderr)
    if record.key_id is None:
        print(f"(it has no live API key: `aegent agent rotate {record.display_name}` gives it "
              "one; until then its card is not served)", file=sys.stderr)
    print(url)
    return 0
