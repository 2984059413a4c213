"""compose.yaml and the Dockerfile, checked without a container runtime (there is none
where the tests run, so the image is never built here).

Read as files, against the code they drive:
- every variable in the environment of a service built from the Dockerfile, and in the
  image's ENV, is a setting's (`config.env_names`), and all of them together with the
  command's flags load (`config.load`) as they would in the container;
- each such service's command, and the image's CMD, parse with `server.cli.build_parser()`;
- the ports published and EXPOSEd are the ones those settings listen on; the data
  folder is on a volume; DATABASE_URL and QDRANT_URL name the services that serve them;
- every service has a health check, every named volume is declared, `depends_on`
  waits for health; the image runs as a user of its own, its HEALTHCHECK asks /health,
  and the build context holds what the sdist needs.

Then run, as far as this machine allows: the nats service's flags given to Debian's
nats-server, and the game service's command and environment, rewritten only where a
container differs from here (addresses, ports, the data folder, the database's host),
against a real PostgreSQL (tests/pg.py): `aegent user create` for the first admin as
docs/deploy.md says, `aegent serve`, the image's health check (compose.yaml repeats it)
passing and then failing once the server stopped, an admin's login, a player's
registration over the WebSocket, the telnet port, and the rows in PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import tomllib
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import yaml
from natsd import HOW as NATS_HOW
from natsd import find_nats_server
from needs import require
from pg import scratch_database
from wsclient import Client, auth_of

from server import config
from server.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
PASSWORD = "compose-test-password"  # POSTGRES_PASSWORD, as .env gives it
ENV_NAMES = {var: name for name in config.FIELDS for var in config.env_names(name)}
ENV_NAMES[config.CONFIG_ENV] = "--config"  # not a setting: where the settings file is


# ---- reading the files ------------------------------------------------------------------

_REF = re.compile(r"\$(?:(?P<dollar>\$)|\{(?P<braced>[A-Za-z_]\w*)(?P<op>:?[-?+])?(?P<arg>[^}]*)\}"
                  r"|(?P<plain>[A-Za-z_]\w*))")


def interpolate(text: str, variables: Mapping[str, str]) -> str:
    """Compose's interpolation of `text`: $$, $VAR, ${VAR}, ${VAR:-x}, ${VAR-x}, ${VAR:?e},
    ${VAR?e}, ${VAR:+x}, ${VAR+x}; a required variable that is missing raises."""

    def one(match: re.Match[str]) -> str:
        if match["dollar"]:
            return "$"
        name = match["braced"] or match["plain"]
        op, arg = match["op"] or "", match["arg"] or ""
        assert op or not arg, f"{match[0]!r} is not compose's syntax"
        value = variables.get(name)
        unset = value is None or (op.startswith(":") and value == "")
        if op.endswith("?") and unset:
            raise KeyError(f"{name}: {arg}")
        if op.endswith("-") and unset:
            return arg
        if op.endswith("+"):
            return "" if unset else arg
        return value or ""

    return _REF.sub(one, text)


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


def services() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose()["services"]
    return found


def built_here() -> dict[str, dict[str, Any]]:
    """The services that run the image of this repository's Dockerfile."""
    return {name: s for name, s in services().items() if "build" in s}


def environment(service: dict[str, Any], variables: Mapping[str, str]) -> dict[str, str]:
    """A service's `environment` (a mapping or a list of KEY=VALUE), interpolated."""
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) for item in raw)
    return {key: interpolate(str(value), variables) for key, value in raw.items()}


@dataclass(frozen=True, slots=True)
class Instruction:
    """One Dockerfile instruction: its keyword, its arguments and its build stage."""

    keyword: str
    args: str
    stage: int


def dockerfile() -> list[Instruction]:
    """The Dockerfile's instructions, continuation lines joined, comments left out."""
    out: list[Instruction] = []
    stage, pending = -1, ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, args = (pending + stripped).partition(" ")
        pending = ""
        if keyword.upper() == "FROM":
            stage += 1
        out.append(Instruction(keyword.upper(), args.strip(), stage))
    return out


def runtime_stage() -> list[Instruction]:
    """The instructions of the image's own stage, the last."""
    steps = dockerfile()
    return [i for i in steps if i.stage == steps[-1].stage]


def one(keyword: str) -> str:
    found = [i.args for i in runtime_stage() if i.keyword == keyword]
    assert len(found) == 1, f"the runtime stage has {len(found)} {keyword} instructions"
    return found[0]


def image_env() -> dict[str, str]:
    """The settings the image's ENV sets (its other variables are not settings)."""
    env: dict[str, str] = {}
    for step in runtime_stage():
        if step.keyword == "ENV":
            for word in shlex.split(step.args):
                key, _, value = word.partition("=")
                env[key] = value
    return {k: v for k, v in env.items() if k in ENV_NAMES or k.startswith(config.ENV_PREFIX)}


def healthcheck_command() -> list[str]:
    """The argv of the image's HEALTHCHECK (exec form)."""
    _, cmd, argv = one("HEALTHCHECK").partition("CMD ")
    assert cmd, "HEALTHCHECK has no CMD"
    parsed: list[str] = json.loads(argv)
    return parsed


def parse_command(argv: list[str]) -> argparse.Namespace:
    """`aegent ...` parsed by the real parser (argparse exits on an unknown flag)."""
    assert argv[0] == "aegent", f"{argv}: not an aegent command"
    try:
        return build_parser().parse_args(argv[1:])
    except SystemExit:
        pytest.fail(f"`{' '.join(argv)}` does not parse with server.cli.build_parser()")


def effective(argv: list[str], env: Mapping[str, str], cwd: Path) -> config.Settings:
    """The settings a container with this command and environment runs with."""
    args = parse_command(argv)
    flags = {k: v for k, v in vars(args).items()
             if k in config.FIELDS and v is not None and v is not False}
    return config.load(env=env, cwd=cwd, **flags).settings


def container_env(service: dict[str, Any], variables: Mapping[str, str]) -> dict[str, str]:
    return {**image_env(), **environment(service, variables)}


def container_port(spec: str | int | dict[str, Any]) -> int:
    """The container's side of a `ports` entry ("4000:4000", "127.0.0.1:4000:4000/tcp")."""
    if isinstance(spec, dict):
        return int(spec["target"])
    return int(str(spec).rsplit(":", 1)[-1].split("/", 1)[0])


def volume_mounts(service: dict[str, Any]) -> dict[str, str]:
    """target -> source of a service's volumes (short or long syntax)."""
    mounts: dict[str, str] = {}
    for entry in service.get("volumes") or []:
        if isinstance(entry, dict):
            mounts[entry["target"]] = entry.get("source", "")
        else:
            source, _, rest = str(entry).partition(":")
            mounts[rest.split(":", 1)[0]] = source
    return mounts


# ---- the files, against the code --------------------------------------------------------


def test_every_variable_of_the_game_services_is_a_setting(tmp_path: Path) -> None:
    assert built_here(), "no service builds the Dockerfile"
    for variable in image_env():
        assert variable in ENV_NAMES, f"Dockerfile ENV {variable} is not a setting"
    for name, service in built_here().items():
        env = environment(service, {"POSTGRES_PASSWORD": PASSWORD})
        for variable in env:
            assert variable in ENV_NAMES, (
                f"{name}: {variable} is not a setting's variable (server/config.py)")
        effective(service["command"], container_env(service, {"POSTGRES_PASSWORD": PASSWORD}),
                  tmp_path)  # every value valid, or a ConfigError naming it


def test_the_commands_parse_with_the_real_parser() -> None:
    argv: list[str] = json.loads(one("CMD"))
    assert parse_command(argv).fn is not None
    for name, service in built_here().items():
        command = service["command"]
        assert isinstance(command, list), f"{name}: give the command as a list"
        parse_command(command)


def test_the_ports_are_the_ones_the_settings_listen_on(tmp_path: Path) -> None:
    image = effective(json.loads(one("CMD")), image_env(), tmp_path)
    exposed = {int(p.split("/")[0]) for p in one("EXPOSE").split()}
    assert exposed == {image.port, image.telnet_port}
    assert image.host == "0.0.0.0", "the image must listen beyond its own loopback"
    for name, service in built_here().items():
        settings = effective(service["command"],
                             container_env(service, {"POSTGRES_PASSWORD": PASSWORD}), tmp_path)
        published = {container_port(p) for p in service.get("ports") or []}
        assert published == {settings.port, settings.telnet_port}, name


def test_the_data_folder_is_on_a_volume(tmp_path: Path) -> None:
    image = effective(json.loads(one("CMD")), image_env(), tmp_path)
    volume = one("VOLUME")
    assert str(image.data_dir) in (json.loads(volume) if volume.startswith("[")
                                   else volume.split())
    declared = compose().get("volumes") or {}
    for name, service in built_here().items():
        settings = effective(service["command"],
                             container_env(service, {"POSTGRES_PASSWORD": PASSWORD}), tmp_path)
        mounts = volume_mounts(service)
        assert str(settings.data_dir) in mounts, f"{name}: {settings.data_dir} is on no volume"
        assert mounts[str(settings.data_dir)] in declared, name


def test_every_service_has_a_health_check_volumes_and_healthy_dependencies() -> None:
    declared = compose().get("volumes") or {}
    for name, service in services().items():
        check = service.get("healthcheck") or {}
        test = check.get("test")
        assert test and test[0] in ("CMD", "CMD-SHELL") and not check.get("disable"), (
            f"{name} has no health check")
        mounts = volume_mounts(service)
        assert mounts, f"{name} keeps its data on no volume"
        for source in mounts.values():
            if not source.startswith((".", "/")):  # a named volume, not a bind mount
                assert source in declared, f"{name}: volume {source} is not declared"
        for needed, how in (service.get("depends_on") or {}).items():
            assert needed in services(), f"{name} depends on a missing {needed}"
            assert how.get("condition") == "service_healthy", (
                f"{name} must wait for {needed} to be healthy, not only started")


def test_the_database_and_memory_urls_name_their_services() -> None:
    pg = services()["postgres"]
    pg_env = environment(pg, {"POSTGRES_PASSWORD": PASSWORD})
    probe = pg["healthcheck"]["test"]
    assert probe[probe.index("-U") + 1] == pg_env["POSTGRES_USER"]
    assert probe[probe.index("-d") + 1] == pg_env["POSTGRES_DB"]
    users = [s for s in built_here().values() if "DATABASE_URL" in (s.get("environment") or {})]
    assert users, "no service is given the database"
    for service in users:
        env = environment(service, {"POSTGRES_PASSWORD": PASSWORD})
        url = urlsplit(env["DATABASE_URL"])
        assert url.scheme == "postgresql+psycopg"  # the driver of the postgres extra
        assert (url.hostname, url.port) == ("postgres", 5432)
        assert (url.username, url.password) == (pg_env["POSTGRES_USER"], PASSWORD)
        assert url.path == "/" + pg_env["POSTGRES_DB"]
        with pytest.raises(KeyError, match="POSTGRES_PASSWORD"):  # no password, no start
            environment(service, {})
        qdrant = urlsplit(env["QDRANT_URL"])
        assert qdrant.hostname == "qdrant" and qdrant.port == 6333
    assert "/dev/tcp/127.0.0.1/6333" in services()["qdrant"]["healthcheck"]["test"][-1]


def test_the_image_runs_as_its_own_user_and_checks_health() -> None:
    user = one("USER").split(":")[0]
    assert user not in ("root", "0", ""), "the image must not run as root"
    created = " ".join(i.args for i in runtime_stage() if i.keyword == "RUN")
    assert re.search(rf"useradd\b[^&]*\b{re.escape(user)}\b", created), (
        f"the runtime stage never creates the user {user}")
    argv = healthcheck_command()
    assert argv[0] == "python" and re.search(r"/health'", argv[-1]), argv
    for name, service in built_here().items():
        assert service["healthcheck"]["test"] == ["CMD", *argv], (
            f"compose.yaml's {name} health check must be the image's")


def _excluded(path: str, patterns: list[str]) -> bool:
    return any(fnmatch(path.rstrip("/"), p.rstrip("/")) for p in patterns)


def test_the_build_context_holds_what_the_wheel_is_built_from() -> None:
    """The COPYs of the build stage give `python -m build` what pyproject.toml,
    MANIFEST.in and setup.py ask for, and .dockerignore leaves them in."""
    copied: set[str] = set()
    for step in dockerfile():
        if step.keyword == "COPY" and "--from" not in step.args:
            copied.update(w.rstrip("/") for w in shlex.split(step.args)[:-1])
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    needed = {"pyproject.toml", "setup.py", "MANIFEST.in", project["project"]["readme"],
              *project["project"]["license-files"], "content"}  # setup.py packs content/
    for line in (ROOT / "MANIFEST.in").read_text().splitlines():
        words = line.split()
        if words and words[0] in ("include", "graft"):
            needed.update(words[1:])
    packages = project["tool"]["setuptools"]["packages"]["find"]["include"]
    tops = {p.name for p in ROOT.iterdir() if (p / "__init__.py").is_file()}
    needed.update(t for t in tops if any(fnmatch(t, pattern) for pattern in packages))
    assert needed <= copied, f"the Dockerfile does not COPY {sorted(needed - copied)}"
    patterns = [line.strip() for line in DOCKERIGNORE.read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    assert not [c for c in copied if _excluded(c, patterns)], ".dockerignore drops a COPY"
    assert _excluded(".venv", patterns) and _excluded("data", patterns)


# ---- run, as far as this machine allows -------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_the_nats_flags_start_jetstream_and_answer_the_health_check(tmp_path: Path) -> None:
    binary = find_nats_server()
    if binary is None:
        require("nats-server", available=False, how=NATS_HOW)
        return
    service = services()["nats"]
    argv = [str(a) for a in service["command"]]
    store = argv[argv.index("-sd") + 1]
    assert store in volume_mounts(service), "the JetStream store is on no volume"
    monitor = argv[argv.index("-m") + 1]
    url = service["healthcheck"]["test"][-1]
    assert urlsplit(url).port == int(monitor)
    local_monitor = free_port()
    argv[argv.index("-sd") + 1] = str(tmp_path / "nats")
    argv[argv.index("-m") + 1] = str(local_monitor)
    proc = subprocess.Popen([str(binary), *argv, "-a", "127.0.0.1", "-p", str(free_port())],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        log = []
        for line in proc.stderr:  # its log, until it says it is ready
            log.append(line)
            if "Server is ready" in line:
                break
        assert any("Starting JetStream" in line for line in log), "".join(log)
        parts = urlsplit(url)
        local = urlunsplit(parts._replace(netloc=f"127.0.0.1:{local_monitor}"))
        with urllib.request.urlopen(local, timeout=5) as answer:
            assert answer.status == 200 and json.load(answer)["status"] == "ok"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stderr is not None:
            proc.stderr.close()


@dataclass(frozen=True, slots=True)
class Local:
    """The game service as it runs here: its argv and environment, and where it listens."""

    argv: list[str]
    env: dict[str, str]
    port: int
    telnet_port: int


def local_game(database_url: str, data: Path) -> Local:
    """The game service's command and environment with only what a container changes
    rewritten: the address and ports (free ones on 127.0.0.1), the data folder, and the
    database's host, port and name (the test server's); its user and driver stay."""
    service = services()["game"]
    env = container_env(service, {"POSTGRES_PASSWORD": PASSWORD})
    theirs, ours = urlsplit(env["DATABASE_URL"]), urlsplit(database_url)
    netloc = f"{theirs.username}:{theirs.password}@{ours.hostname}:{ours.port}"
    port, telnet_port = free_port(), free_port()
    env.update(DATABASE_URL=urlunsplit(theirs._replace(netloc=netloc, path=ours.path)),
               AEGENT_HOST="127.0.0.1", AEGENT_PORT=str(port),
               AEGENT_TELNET_PORT=str(telnet_port), AEGENT_DATA_DIR=str(data),
               AEGENT_ARGON2_TIME_COST="1", AEGENT_ARGON2_MEMORY_KIB="1024")
    keep = {k: v for k, v in os.environ.items()
            if not k.startswith(("AEGENT_", "DATABASE_URL", "QDRANT_"))}
    argv = [sys.executable, "-m", "server.cli", *service["command"][1:]]
    return Local(argv, {**keep, **env}, port, telnet_port)


async def run(argv: list[str], env: dict[str, str], stdin: bytes = b"") -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        *argv, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(stdin), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(errors="replace")


@pytest.fixture
def game_database(postgres_url: str) -> Iterator[str]:
    with scratch_database(postgres_url) as url:
        yield url


@pytest.mark.postgres
async def test_the_game_service_serves_players_from_postgresql(
        game_database: str, tmp_path: Path) -> None:
    game = local_game(game_database, tmp_path / "data")
    code, out = await run([sys.executable, "-m", "server.cli", "user", "create", "Ada",
                           "--role", "admin"], game.env, b"correct horse\n")
    assert code == 0 and "created Ada with role admin" in out, out
    health = healthcheck_command()
    with open(tmp_path / "server.log", "wb") as log:
        proc = await asyncio.create_subprocess_exec(
            *game.argv, env=game.env, stdout=subprocess.PIPE, stderr=log)
        try:
            assert proc.stdout is not None
            ready = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
            assert f":{game.port}/" in ready, ready + (tmp_path / "server.log").read_text()
            code, out = await run(health, game.env)
            assert code == 0, out
            url = f"ws://127.0.0.1:{game.port}/ws"
            admin = await Client.open(url, "aegent.json")
            await admin.recv()
            assert auth_of(await admin.login("Ada"))["ok"]
            player = await Client.open(url, "aegent.json")
            await player.recv()
            assert auth_of(await player.register("Mira"))["ok"]
            await admin.close()
            await player.close()
            reader, writer = await asyncio.open_connection("127.0.0.1", game.telnet_port)
            assert await asyncio.wait_for(reader.read(64), 10), "telnet said nothing"
            writer.close()
            await writer.wait_closed()
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(proc.wait(), 30)
    assert code == 0, (tmp_path / "server.log").read_text()[-3000:]
    dsn = game_database.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT name, role FROM accounts ORDER BY name").fetchall()
    assert rows == [("ada", "admin"), ("mira", "player")]
    assert not list((tmp_path / "data").glob("*.sqlite3")), "it used SQLite, not DATABASE_URL"
    code, _ = await run(health, game.env)  # nothing listens now: the check must say so
    assert code != 0
