"""The `aegent` command line: serve, play, content check/schema, user create, agents run/eval.

Every `serve` flag also reads an AEGENT_* variable (see server/config.py); the
flag wins.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from pathlib import Path

from server import config, log


def _serve(args: argparse.Namespace) -> int:
    from server.app import serve
    from world.prototypes import ContentError

    try:
        settings = config.from_env(
            host=args.host, port=args.port, telnet_port=args.telnet_port,
            data_dir=args.data_dir, content_dir=args.content_dir,
            log_json=True if args.log_json else None, log_level=args.log_level,
            seed=args.seed,
        )
    except ValueError as exc:
        print(f"aegent: {exc}", file=sys.stderr)
        return 2
    log.configure(json=settings.log_json, level=settings.log_level)
    try:
        return asyncio.run(serve(settings))  # 75 after `reboot`: start it again
    except ContentError as exc:
        print(f"aegent: content error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"aegent: cannot start: {exc}", file=sys.stderr)
        return 1


def _content_check(args: argparse.Namespace) -> int:
    from server import content
    from world.prototypes import ContentError

    directory = args.content_dir or config.default_content_dir()
    try:
        loaded = content.load(directory)
    except ContentError as exc:
        print(f"content error: {exc}", file=sys.stderr)
        return 1
    print(f"ok: {len(loaded.zones)} zones, {len(loaded.rooms)} rooms, {len(loaded.items)} items, "
          f"{len(loaded.classes)} classes, {len(loaded.help)} help pages")
    return 0


def _content_schema(args: argparse.Namespace) -> int:
    from server import content

    print(content.json_schema_text())
    return 0


def _user_create(args: argparse.Namespace) -> int:
    from server import accounts
    from server.storage import NameTaken, SqlRepository

    settings = config.from_env(data_dir=args.data_dir)
    name = accounts.normalize(args.name)
    problem = accounts.check_name(name)
    if problem:
        print(f"aegent: {problem}", file=sys.stderr)
        return 2
    if sys.stdin.isatty():
        password = getpass.getpass(f"Password for {name}: ")
        if getpass.getpass("Again: ") != password:
            print("aegent: the passwords don't match", file=sys.stderr)
            return 2
    else:
        password = sys.stdin.readline().rstrip("\n")
    problem = accounts.check_password(password)
    if problem:
        print(f"aegent: {problem}", file=sys.stderr)
        return 2
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    repo = SqlRepository(settings.resolved_database_url)
    repo.migrate()
    hasher = accounts.Hasher(settings.argon2_time_cost, settings.argon2_memory_kib,
                             settings.argon2_parallelism)
    try:
        password_hash = asyncio.run(hasher.hash(password))
        try:
            repo.create_account(name, password_hash, args.role)
        except NameTaken:
            repo.set_role(name, args.role)
            repo.set_password(name, password_hash)
            print(f"updated {name}: role {args.role}, new password")
            return 0
    finally:
        hasher.close()
        repo.close()
    print(f"created {name} with role {args.role}")
    return 0


def _play(args: argparse.Namespace) -> int:
    from server import play

    return play.main(args.url, args.color)


def _agents_run(args: argparse.Namespace) -> int:
    # The one place server/ reaches into agents/: the CLI entry point, imported lazily.
    from agents import runner

    return runner.run_command(args)


def _agents_eval(args: argparse.Namespace) -> int:
    from agents import runner

    return runner.eval_command(args)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `aegent`."""
    p = argparse.ArgumentParser(prog="aegent", description="Aegent Quest: a MUD for people "
                                                           "and AI agents.")
    sub = p.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("serve", help="run the game server")
    s.add_argument("--host", help="address to listen on (AEGENT_HOST, default 127.0.0.1)")
    s.add_argument("--port", type=int, help="WebSocket/HTTP port (AEGENT_PORT, default 4000)")
    s.add_argument("--telnet-port", type=int,
                   help="telnet port (AEGENT_TELNET_PORT, default 4001)")
    s.add_argument("--data-dir", type=Path, help="where data lives (AEGENT_DATA_DIR, ./data)")
    s.add_argument("--content-dir", type=Path, help="content folder (AEGENT_CONTENT_DIR)")
    s.add_argument("--log-json", action="store_true", help="JSON log lines (AEGENT_LOG_JSON)")
    s.add_argument("--log-level", help="debug, info, warning (AEGENT_LOG_LEVEL)")
    s.add_argument("--seed", type=int, help="seed the world's RNG (AEGENT_SEED)")
    s.set_defaults(fn=_serve)

    pl = sub.add_parser("play", help="play in this terminal")
    pl.add_argument("url", nargs="?", help="the server's WebSocket URL (ws://localhost:4000/ws)")
    pl.add_argument("--color", dest="color", action="store_true", default=None,
                    help="colour output (default: when the output is a terminal)")
    pl.add_argument("--no-color", dest="color", action="store_false",
                    help="no colour (also: NO_COLOR set)")
    pl.set_defaults(fn=_play)

    c = sub.add_parser("content", help="check or describe content/")
    csub = c.add_subparsers(dest="what", required=True)
    cc = csub.add_parser("check", help="load and validate content/")
    cc.add_argument("--content-dir", type=Path)
    cc.set_defaults(fn=_content_check)
    cs = csub.add_parser("schema", help="print the JSON Schema of content files")
    cs.set_defaults(fn=_content_schema)

    u = sub.add_parser("user", help="manage accounts")
    usub = u.add_subparsers(dest="what", required=True)
    uc = usub.add_parser("create", help="create an account (password from a prompt or stdin)")
    uc.add_argument("name")
    uc.add_argument("--role", choices=["player", "builder", "admin"], default="player")
    uc.add_argument("--data-dir", type=Path)
    uc.set_defaults(fn=_user_create)

    from agents.cliargs import add_arguments  # argparse only; the runtime loads on use

    a = sub.add_parser("agents", help="play agents (scripted or LLM) against a server")
    asub = a.add_subparsers(dest="what", required=True)
    ar = asub.add_parser("run", help="play N agents against a running server")
    ae = asub.add_parser("eval", help="N agents on a fresh server with a fixed seed, for a "
                                      "bounded time: a report and a plot")
    add_arguments(ar, ae)
    ar.set_defaults(fn=_agents_run)
    ae.set_defaults(fn=_agents_eval)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `aegent` console script."""
    args = build_parser().parse_args(argv)
    code: int = args.fn(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
