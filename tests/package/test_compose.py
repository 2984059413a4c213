"""compose.yaml, deploy/haproxy.cfg and the Dockerfile, checked without a container
runtime (there is none where the tests run, so the image is never built here).

compose.yaml runs cluster mode: `nats` (JetStream), `postgres`, `qdrant`, one world host
(`world`: `aegent world`), two gateways (`gateway-1`, `gateway-2`: `aegent gateway`) and
`proxy` (HAProxy with deploy/haproxy.cfg), the one service that publishes 4000 and 4001.

Read as files, against the code they drive:
- every variable in the environment of a service built from the Dockerfile, and in the
  image's ENV, is a setting's (`config.env_names`), and all of them together with the
  command's flags load (`config.load`) as they would in the container;
- each such service's command, the world host's health check (`aegent ping`) and the
  image's CMD parse with `server.cli.build_parser()`;
- only the proxy publishes ports, the image's own, which its frontends bind; the
  gateways listen where its backends send and where their health check asks; the world
  host's data folder is on a volume, the gateways keep nothing; DATABASE_URL and
  QDRANT_URL name the services that serve them, and only the world host has them;
- every service has a health check, every named volume is declared, `depends_on`
  waits for health; the image runs as a user of its own, its HEALTHCHECK asks /health,
  and the build context holds what the sdist needs;
- the proxy sends X-Forwarded-For on the web port and the PROXY protocol on telnet, checks
  each gateway's /health, and has the one address the gateways trust;
- the topology is the one `aegent cluster --gateways 2` starts (`server.cluster.plan`):
  a nats-server with JetStream, a world host and two gateways, given the same settings.

Then run, as far as this machine allows, with only what a container changes rewritten
(addresses, ports, the data folder, the database's host): the nats service's flags on
Debian's nats-server; `aegent user create` for the first admin as docs/deploy.md says;
the world service's command and environment against a real PostgreSQL (tests/pg.py)
and that nats-server, its health check (`aegent ping`) passing, then failing once it
stopped; both gateways' commands and environments, their health checks passing; and
Debian's haproxy with deploy/haproxy.cfg in front of them: the admin logs in and a
player registers through the proxy's WebSocket port, another through its telnet port,
they hear each other (one world), the connections are spread over both gateways, and
the players' own addresses reach the gateways (X-Forwarded-For, the PROXY header).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import io
import ipaddress
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from collections import Counter
from collections.abc import Awaitable, Iterator, Mapping
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
from websockets.asyncio.client import connect
from wsclient import TIMEOUT, Client, auth_of, events

from server import config
from server.cli import build_parser
from server.cluster import plan

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
HAPROXY_CFG = ROOT / "deploy" / "haproxy.cfg"
PASSWORD = "compose-test-password"  # POSTGRES_PASSWORD, as .env gives it
VARIABLES = {"POSTGRES_PASSWORD": PASSWORD}  # .env, at its least
ENV_NAMES = {var: name for name in config.FIELDS for var in config.env_names(name)}
ENV_NAMES[config.CONFIG_ENV] = "--config"  # not a setting: where the settings file is
FLAG_SETTINGS = {"nats": "nats_url"}  # flags whose setting has another name
NOT_SETTINGS = {"timeout", "gateways"}  # `aegent ping --timeout`, `aegent cluster --gateways`
SUPERVISOR_ONLY = {"parent_pid"}  # `aegent cluster` sets it; in a container, PID 1 is the program


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


def loaded(argv: list[str], env: Mapping[str, str], cwd: Path) -> config.Loaded:
    """The settings a container with this command and environment runs with, and where
    each came from."""
    args = parse_command(argv)
    flags = {FLAG_SETTINGS.get(k, k): v for k, v in vars(args).items()
             if v is not None and v is not False}
    flags = {k: v for k, v in flags.items() if k in config.FIELDS}
    return config.load(env=env, cwd=cwd, **flags)


def effective(argv: list[str], env: Mapping[str, str], cwd: Path) -> config.Settings:
    """The settings a container with this command and environment runs with."""
    return loaded(argv, env, cwd).settings


def given(argv: list[str], env: Mapping[str, str], cwd: Path) -> set[str]:
    """The settings that this command and environment set (not left at the default)."""
    return {name for name, source in loaded(argv, env, cwd).sources.items()
            if source != "default"}


def container_env(service: dict[str, Any], variables: Mapping[str, str]) -> dict[str, str]:
    return {**image_env(), **environment(service, variables)}


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


def published(service: dict[str, Any]) -> dict[int, int]:
    """host port -> container port of a service's `ports` ("4000:4000", "127.0.0.1:4000:4000")."""
    out: dict[int, int] = {}
    for spec in service.get("ports") or []:
        if isinstance(spec, dict):
            out[int(spec["published"])] = int(spec["target"])
        else:
            parts = str(spec).split("/", 1)[0].rsplit(":", 2)
            out[int(parts[-2])] = int(parts[-1])
    return out


def role(service: dict[str, Any]) -> str:
    """The `aegent` subcommand a service built from the Dockerfile runs."""
    return str(service["command"][1])


def of_role(name: str) -> dict[str, dict[str, Any]]:
    return {n: s for n, s in built_here().items() if role(s) == name}


def settings_of(service: dict[str, Any], cwd: Path,
                variables: Mapping[str, str] = VARIABLES) -> config.Settings:
    return effective(service["command"], container_env(service, variables), cwd)


def flag(argv: list[str], name: str) -> str:
    """The value after `name` in `argv`."""
    assert name in argv, f"{name} is not in {argv}"
    return argv[argv.index(name) + 1]


def with_flags(argv: list[str], values: Mapping[str, str]) -> list[str]:
    """`argv` with the value after each flag of `values` replaced."""
    out = list(argv)
    for name, value in values.items():
        if name in out:
            out[out.index(name) + 1] = value
    return out


@dataclass(frozen=True, slots=True)
class Section:
    """One section of haproxy.cfg: `frontend web`, `backend gateways_web`, `global`..."""

    kind: str
    name: str
    lines: tuple[tuple[str, ...], ...]  # each directive's words, comments left out

    def find(self, *words: str) -> list[tuple[str, ...]]:
        """The directives that begin with `words`."""
        return [line for line in self.lines if line[:len(words)] == words]

    def value(self, *words: str) -> str:
        """The one directive beginning with `words`: its next word."""
        found = self.find(*words)
        assert len(found) == 1, f"{self.kind} {self.name}: {len(found)} `{' '.join(words)}`"
        return found[0][len(words)]

    def binds(self) -> dict[int, tuple[str, ...]]:
        """Each port it binds, with the words after the address."""
        return {int(line[1].rsplit(":", 1)[1]): line[2:] for line in self.find("bind")}

    def bind_port(self) -> int:
        """The port of its first `bind`, the one without options."""
        port, options = next(iter(self.binds().items()))
        assert not options, f"frontend {self.name}: its first bind has {options}"
        return port


def haproxy_cfg() -> dict[str, Section]:
    """deploy/haproxy.cfg's sections by `kind name` ("frontend web", "global")."""
    sections: dict[str, Section] = {}
    kind, name = "", ""
    lines: list[tuple[str, ...]] = []
    for raw in HAPROXY_CFG.read_text().splitlines():
        words = tuple(raw.split("#", 1)[0].split())
        if not words:
            continue
        if not raw[0].isspace():
            if kind:
                sections[f"{kind} {name}".strip()] = Section(kind, name, tuple(lines))
            kind, name, lines = words[0], " ".join(words[1:]), []
        else:
            lines.append(words)
    if kind:
        sections[f"{kind} {name}".strip()] = Section(kind, name, tuple(lines))
    return sections


@dataclass(frozen=True, slots=True)
class Server:
    """A `server` line of a backend: its name, host, port and the words after them."""

    name: str
    host: str
    port: int
    options: tuple[str, ...]

    def option(self, word: str) -> str | None:
        """The word after `word` in the options, or None."""
        return self.options[self.options.index(word) + 1] if word in self.options else None


def servers(backend: Section) -> list[Server]:
    out = []
    for line in backend.find("server"):
        host, _, port = line[2].rpartition(":")
        out.append(Server(line[1], host, int(port), line[3:]))
    return out


def backend_of(cfg: dict[str, Section], frontend: str) -> Section:
    return cfg["backend " + cfg["frontend " + frontend].value("default_backend")]


def proxy_address() -> str:
    """The proxy service's fixed address on the compose network."""
    address: str = services()["proxy"]["networks"]["default"]["ipv4_address"]
    return address


# ---- the files, against the code --------------------------------------------------------


def test_every_variable_of_the_game_services_is_a_setting(tmp_path: Path) -> None:
    assert built_here(), "no service builds the Dockerfile"
    for variable in image_env():
        assert variable in ENV_NAMES, f"Dockerfile ENV {variable} is not a setting"
    for name, service in built_here().items():
        for variable in environment(service, VARIABLES):
            assert variable in ENV_NAMES, (
                f"{name}: {variable} is not a setting's variable (server/config.py)")
        settings_of(service, tmp_path)  # every value valid, or a ConfigError naming it


def test_the_commands_parse_with_the_real_parser() -> None:
    argv: list[str] = json.loads(one("CMD"))
    assert parse_command(argv).fn is not None
    for name, service in built_here().items():
        command = service["command"]
        assert isinstance(command, list), f"{name}: give the command as a list"
        parse_command(command)
    assert sorted(role(s) for s in built_here().values()) == ["gateway", "gateway", "world"]


def test_only_the_proxy_publishes_the_game_ports(tmp_path: Path) -> None:
    image = effective(json.loads(one("CMD")), image_env(), tmp_path)
    exposed = {int(p.split("/")[0]) for p in one("EXPOSE").split()}
    assert exposed == {image.port, image.telnet_port}
    assert image.host == "0.0.0.0", "the image must listen beyond its own loopback"
    for name, service in services().items():
        if name != "proxy":
            assert not service.get("ports"), f"{name} publishes ports: only the proxy does"
    cfg = haproxy_cfg()
    web, telnet = cfg["frontend web"], cfg["frontend telnet"]
    # The same ports as `aegent serve` (the image alone), on the host and in the proxy.
    assert published(services()["proxy"]) == {image.port: web.bind_port(),
                                              image.telnet_port: telnet.bind_port()}
    # The telnet port for a TLS proxy in front believes any PROXY header: not published
    # until its owner publishes it, on the loopback (docs/deploy.md).
    assert [p for p, options in telnet.binds().items() if "accept-proxy" in options]
    for name, service in of_role("gateway").items():
        settings = settings_of(service, tmp_path)
        assert settings.host == "0.0.0.0", f"{name} must listen for the proxy"
        env = container_env(service, VARIABLES)
        # The health check (the image's) asks AEGENT_PORT, or 4000: where it listens.
        assert settings.port == int(env.get("AEGENT_PORT", "4000")), name


def test_the_world_host_keeps_its_data_on_a_volume_and_the_gateways_none(
        tmp_path: Path) -> None:
    image = effective(json.loads(one("CMD")), image_env(), tmp_path)
    volume = one("VOLUME")
    assert str(image.data_dir) in (json.loads(volume) if volume.startswith("[")
                                   else volume.split())
    declared = compose().get("volumes") or {}
    (world,) = of_role("world").values()
    settings = settings_of(world, tmp_path)
    mounts = volume_mounts(world)
    assert str(settings.data_dir) in mounts, f"{settings.data_dir} is on no volume"
    assert mounts[str(settings.data_dir)] in declared
    for name, service in of_role("gateway").items():
        assert not service.get("volumes"), f"{name}: a gateway keeps nothing"


STATEFUL = ("postgres", "qdrant", "nats", "world")
"""The services whose data outlives their container (on a named volume)."""

DEPENDS = {"world": {"postgres", "nats"}, "gateway-1": {"nats"}, "gateway-2": {"nats"},
           "proxy": {"gateway-1", "gateway-2"}}


def test_every_service_has_a_health_check_volumes_and_healthy_dependencies() -> None:
    declared = compose().get("volumes") or {}
    for name, service in services().items():
        check = service.get("healthcheck") or {}
        test = check.get("test")
        assert test and test[0] in ("CMD", "CMD-SHELL") and not check.get("disable"), (
            f"{name} has no health check")
        mounts = volume_mounts(service)
        if name in STATEFUL:
            assert mounts, f"{name} keeps its data on no volume"
        for source in mounts.values():
            if not source.startswith((".", "/")):  # a named volume, not a bind mount
                assert source in declared, f"{name}: volume {source} is not declared"
        for needed, how in (service.get("depends_on") or {}).items():
            assert needed in services(), f"{name} depends on a missing {needed}"
            assert how.get("condition") == "service_healthy", (
                f"{name} must wait for {needed} to be healthy, not only started")
    for name, needs in DEPENDS.items():
        assert set(services()[name].get("depends_on") or {}) == needs, name


def test_the_database_and_memory_urls_name_their_services() -> None:
    pg = services()["postgres"]
    pg_env = environment(pg, VARIABLES)
    probe = pg["healthcheck"]["test"]
    assert probe[probe.index("-U") + 1] == pg_env["POSTGRES_USER"]
    assert probe[probe.index("-d") + 1] == pg_env["POSTGRES_DB"]
    users = {n for n, s in built_here().items() if "DATABASE_URL" in (s.get("environment") or {})}
    assert users == set(of_role("world")), "the world host, and only it, has the database"
    for name in users:
        service = services()[name]
        env = environment(service, VARIABLES)
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


def test_the_image_runs_as_its_own_user_and_the_health_checks_ask_the_programs(
        tmp_path: Path) -> None:
    user = one("USER").split(":")[0]
    assert user not in ("root", "0", ""), "the image must not run as root"
    created = " ".join(i.args for i in runtime_stage() if i.keyword == "RUN")
    assert re.search(rf"useradd\b[^&]*\b{re.escape(user)}\b", created), (
        f"the runtime stage never creates the user {user}")
    argv = healthcheck_command()
    assert argv[0] == "python" and re.search(r"/health'", argv[-1]), argv
    for name, service in of_role("gateway").items():
        assert service["healthcheck"]["test"] == ["CMD", *argv], (
            f"compose.yaml's {name} health check must be the image's")
    for name, service in of_role("world").items():  # no HTTP port: it asks over the bus
        check = service["healthcheck"]["test"]
        assert check[0] == "CMD" and parse_command(check[1:]).cmd == "ping", check
        env = container_env(service, VARIABLES)
        assert (effective(check[1:], env, tmp_path).nats_url
                == settings_of(service, tmp_path).nats_url), f"{name} pings another bus"


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


def test_the_proxy_spreads_both_ports_over_the_gateways(tmp_path: Path) -> None:
    proxy = services()["proxy"]
    # `haproxy -f FILE`: FILE is deploy/haproxy.cfg, through a bind mount.
    read = Path(flag(proxy["command"], "-f"))
    mounted = {Path(target): ROOT / source for target, source in volume_mounts(proxy).items()
               if source.startswith(".")}
    assert [source / read.relative_to(target) for target, source in mounted.items()
            if read.is_relative_to(target)] == [HAPROXY_CFG], (read, mounted)
    cfg = haproxy_cfg()
    gateways = {name: settings_of(s, tmp_path) for name, s in of_role("gateway").items()}
    assert len({s.gateway_id for s in gateways.values()}) == len(gateways) >= 2, (
        "each gateway needs an id of its own")

    web, web_back = cfg["frontend web"], backend_of(cfg, "web")
    assert web.value("mode") == web_back.value("mode") == "http"
    assert web.find("option", "forwardfor") or web_back.find("option", "forwardfor"), (
        "the gateways would see every player come from the proxy")
    assert web_back.find("option", "httpchk", "GET", "/health")
    assert web_back.find("timeout", "tunnel"), "WebSockets would be cut after `timeout server`"
    assert {(s.name, s.host, s.port) for s in servers(web_back)} == {
        (name, name, g.port) for name, g in gateways.items()}

    telnet, telnet_back = cfg["frontend telnet"], backend_of(cfg, "telnet")
    assert telnet.value("mode") == telnet_back.value("mode") == "tcp"
    assert telnet_back.find("option", "httpchk", "GET", "/health")
    for server in servers(telnet_back):
        g = gateways[server.host]
        assert server.port == g.telnet_port
        assert {"send-proxy", "send-proxy-v2"} & set(server.options), (
            f"{server.name}: telnet needs the PROXY header for the player's address")
        assert server.option("port") == str(g.port), "the check must ask the HTTP port"
    assert {s.host for s in servers(telnet_back)} == set(gateways)

    status = cfg["frontend status"]
    url = urlsplit(proxy["healthcheck"]["test"][-1])
    assert (url.port, url.path) == (status.bind_port(), status.value("monitor-uri"))
    assert status.bind_port() not in published(proxy).values(), "the stats stay inside"

    # The gateways believe those headers from the proxy, and from proxies in front of it
    # that .env names: nobody else.
    address = ipaddress.ip_address(proxy_address())
    subnets = [ipaddress.ip_network(c["subnet"])
               for c in compose()["networks"]["default"]["ipam"]["config"]]
    assert any(address in subnet for subnet in subnets)
    for name, service in of_role("gateway").items():
        alone = settings_of(service, tmp_path).trusted_proxies
        assert alone.split(",") == [str(address)], name
        more = settings_of(service, tmp_path, {**VARIABLES, "AEGENT_TRUSTED_PROXIES": "10.1.2.3"})
        assert more.trusted_proxies.split(",") == [str(address), "10.1.2.3"], name


def test_the_topology_is_the_one_aegent_cluster_starts(tmp_path: Path) -> None:
    """`server.cluster.plan(2, ...)`: nats-server with JetStream, a world host and two
    gateways. compose.yaml has the same programs, on one bus, each given (at least) the
    settings that `aegent cluster` gives it."""
    children, _ = plan(2, None, "0.0.0.0", tmp_path / "data", nats_server=sys.executable)
    planned: dict[str, list[set[str]]] = {}
    for child in children:
        if child.name == "nats":
            assert "-js" in child.argv
            continue
        argv = ["aegent", *child.argv[3:]]  # python -m server.cli ...
        settings = given(argv, child.env, tmp_path) - SUPERVISOR_ONLY
        planned.setdefault(argv[1], []).append(settings)
    ours = built_here()
    assert Counter(role(s) for s in ours.values()) == Counter(
        {r: len(v) for r, v in planned.items()})
    for name, service in ours.items():
        have = given(service["command"], container_env(service, VARIABLES), tmp_path)
        for wanted in planned[role(service)]:
            assert wanted <= have, f"{name} lacks {sorted(wanted - have)}"
    nats = services()["nats"]
    assert "-js" in nats["command"], "the bus's journal stream needs JetStream"
    buses = {settings_of(s, tmp_path).nats_url for s in ours.values()}
    assert len(buses) == 1, f"the world host and the gateways are on different buses: {buses}"
    bus = urlsplit(buses.pop())
    assert bus.hostname == "nats" and bus.port == int(
        flag(nats["command"], "-p") if "-p" in nats["command"] else 4222)


# ---- run, as far as this machine allows -------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def nats_service(root: Path) -> Iterator[tuple[str, int]]:
    """The nats service's command on Debian's nats-server, with its store in `root` and
    its ports free ones on 127.0.0.1: its client URL and its monitoring port, once ready.
    Skips (or fails under CI) without nats-server."""
    binary = find_nats_server()
    if binary is None:
        require("nats-server", available=False, how=NATS_HOW)
        raise AssertionError("unreachable")  # require skipped or failed
    service = services()["nats"]
    argv = [str(a) for a in service["command"]]
    monitor = free_port()
    argv = with_flags(argv, {"-sd": str(root / "nats"), "-m": str(monitor)})
    client = free_port()
    proc = subprocess.Popen([str(binary), *argv, "-a", "127.0.0.1", "-p", str(client)],
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
        yield f"nats://127.0.0.1:{client}", monitor
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stderr is not None:
            proc.stderr.close()


def test_the_nats_flags_start_jetstream_and_answer_the_health_check(tmp_path: Path) -> None:
    service = services()["nats"]
    argv = [str(a) for a in service["command"]]
    assert flag(argv, "-sd") in volume_mounts(service), "the JetStream store is on no volume"
    url = service["healthcheck"]["test"][-1]
    assert urlsplit(url).port == int(flag(argv, "-m"))
    with nats_service(tmp_path) as (_, monitor):
        local = urlunsplit(urlsplit(url)._replace(netloc=f"127.0.0.1:{monitor}"))
        with urllib.request.urlopen(local, timeout=5) as answer:
            assert answer.status == 200 and json.load(answer)["status"] == "ok"


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


AEGENT = [sys.executable, "-m", "server.cli"]  # `aegent` here
FAST = {"AEGENT_ARGON2_TIME_COST": "1", "AEGENT_ARGON2_MEMORY_KIB": "1024"}
TLS_PROXY = "127.0.0.5"  # a TLS proxy in front of HAProxy, as .env names it


def find_haproxy() -> str | None:
    """The `haproxy` program: PATH first, then where Debian puts it (/usr/sbin)."""
    found = shutil.which("haproxy")
    if found:
        return found
    return "/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").is_file() else None


def host_env() -> dict[str, str]:
    """This machine's environment without settings of its own, and what makes a test
    process quick and go away with this one."""
    keep = {k: v for k, v in os.environ.items()
            if not k.startswith(("AEGENT_", "DATABASE_URL", "QDRANT_"))}
    return {**keep, **FAST, "AEGENT_PARENT_PID": str(os.getpid())}


def local(name: str, flags: Mapping[str, str], variables: Mapping[str, str] = VARIABLES,
          **env: str) -> tuple[list[str], dict[str, str]]:
    """Service `name`'s command (its `--nats`, `--port`... replaced by `flags`) as this
    checkout runs it, and its container's environment (.env's `variables`) with `env`
    over it."""
    service = services()[name]
    argv = [*AEGENT, *with_flags(service["command"], flags)[1:]]
    return argv, {**host_env(), **container_env(service, variables), **env}


def local_database(url: str, ours: str) -> str:
    """The compose DATABASE_URL `url` on the test server `ours`: its host, port and
    database, compose's user, password and driver."""
    theirs, there = urlsplit(url), urlsplit(ours)
    netloc = f"{theirs.username}:{theirs.password}@{there.hostname}:{there.port}"
    return urlunsplit(theirs._replace(netloc=netloc, path=there.path))


def local_haproxy(text: str, binds: Mapping[int, int],
                  gateways: Mapping[str, Mapping[int, int]]) -> str:
    """deploy/haproxy.cfg for this machine: each `bind :P` on 127.0.0.1:binds[P]; each
    server `gateway-n:P` (and its check `port P`) on 127.0.0.1:gateways[gateway-n][P]."""
    out = []
    for line in text.splitlines():
        if m := re.fullmatch(r"(\s+bind\s+)\S*:(\d+)(.*)", line):
            line = f"{m[1]}127.0.0.1:{binds[int(m[2])]}{m[3]}"
        elif m := re.fullmatch(r"(\s+server\s+\S+\s+)([\w.-]+):(\d+)(.*)", line):
            ports = gateways[m[2]]
            rest = re.sub(r"\bport (\d+)", lambda p, to=ports: f"port {to[int(p[1])]}", m[4])
            line = f"{m[1]}127.0.0.1:{ports[int(m[3])]}{rest}"
        out.append(line)
    return "\n".join(out) + "\n"


@dataclass(frozen=True, slots=True)
class Running:
    """A service's program running here, its output in `log`."""

    name: str
    process: asyncio.subprocess.Process
    log: Path


async def start(name: str, argv: list[str], env: dict[str, str], root: Path,
                ready: str | None = None) -> Running:
    """Run `argv`; with `ready`, wait for its first line on stdout, which must hold it."""
    log = root / f"{name}.log"
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            *argv, env=env, stdin=subprocess.DEVNULL, stderr=out,
            stdout=subprocess.PIPE if ready else out)
    running = Running(name, process, log)
    if ready is not None:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
        if ready not in line:
            await stop(running)
            pytest.fail(f"{name} did not start: {line}{log.read_text()[-3000:]}")
    return running


async def stop(running: Running, timeout: float = 30) -> int:
    """SIGTERM, and its exit status (SIGKILL after `timeout` seconds)."""
    process = running.process
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), timeout)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGKILL)
            await process.wait()
    assert process.returncode is not None
    return process.returncode


def wait_until_gateways_up(stats: str, names: set[str], timeout: float = 20) -> None:
    """Poll HAProxy's stats (CSV) until each of `names` is UP in every backend."""
    deadline = time.monotonic() + timeout
    rows: list[dict[str, str]] = []
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(stats + ";csv", timeout=2) as answer:
                text = answer.read().decode().lstrip("# ")
            rows = list(csv.DictReader(io.StringIO(text)))
            servers = [r for r in rows if r["svname"] in names]
            if len(servers) == 2 * len(names) and all(r["status"] == "UP" for r in servers):
                return
        time.sleep(0.05)
    raise AssertionError(f"the proxy never saw {sorted(names)} up: {rows}")


async def player_from(address: str, url: str, forwarded_for: str) -> Client:
    """A JSON WebSocket client connected to `url` from `address` (a loopback one), its
    request saying `X-Forwarded-For: forwarded_for`."""
    ws = await connect(url, subprotocols=["aegent.json"], open_timeout=TIMEOUT,  # type: ignore[list-item]
                       max_size=None, local_addr=(address, 0),
                       additional_headers={"X-Forwarded-For": forwarded_for})
    client = Client(ws, "aegent.json")
    assert (await client.recv())["type"] == "hello"
    return client


class Telnet:
    """A telnet player: what arrived, read up to a marker."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer, self.seen = reader, writer, b""

    async def until(self, text: bytes) -> bytes:
        while text not in self.seen:
            try:
                got = await asyncio.wait_for(self.reader.read(4096), TIMEOUT)
            except TimeoutError:
                got = b""
            assert got, f"no {text!r} in {self.seen[-500:]!r}"
            self.seen += got
        cut = self.seen.index(text) + len(text)
        got, self.seen = self.seen[:cut], self.seen[cut:]
        return got

    async def answer(self, prompt: bytes, line: str) -> None:
        await self.until(prompt)
        self.writer.write(line.encode() + b"\r\n")
        await self.writer.drain()

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


async def telnet_from(address: str, port: int) -> Telnet:
    """A telnet connection to 127.0.0.1:`port` from `address` (a loopback one)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(address, 0))
    return Telnet(reader, writer)


def sessions_opened(log: Path) -> dict[str, str]:
    """A gateway's JSON log: the address of each session it opened -> its subprotocol."""
    opened = {}
    for line in log.read_text().splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            if entry.get("event") == "session_opened":
                opened[entry["address"]] = entry["subprotocol"]
    return opened


async def start_gateways(nats: str, root: Path, running: list[Running]
                         ) -> dict[str, dict[int, int]]:
    """Both gateways as compose gives them, on free ports (in `running` once up): each
    one's container port -> the port it has here. Their health checks pass."""
    image = effective(json.loads(one("CMD")), image_env(), root)
    ports: dict[str, dict[int, int]] = {}
    starting = []
    for name in of_role("gateway"):
        ws, telnet = free_port(), free_port()
        ports[name] = {image.port: ws, image.telnet_port: telnet}
        argv, env = local(name, {"--nats": nats, "--port": str(ws), "--telnet-port": str(telnet)},
                          {**VARIABLES, "AEGENT_TRUSTED_PROXIES": TLS_PROXY},
                          AEGENT_HOST="127.0.0.1", AEGENT_PORT=str(ws),
                          AEGENT_DATA_DIR=str(root / name))
        # The proxy's address on the compose network is 127.0.0.1's here.
        env["AEGENT_TRUSTED_PROXIES"] = env["AEGENT_TRUSTED_PROXIES"].replace(
            proxy_address(), "127.0.0.1")
        starting.append((name, argv, env))

    async def one_gateway(name: str, argv: list[str], env: dict[str, str]) -> None:
        running.append(await start(name, argv, env, root, ready=f"gateway {name}: "))
        code, out = await run(healthcheck_command(), env)  # the image's: the world answers
        assert code == 0, out

    await gather(*(one_gateway(*each) for each in starting))
    return ports


async def gather(*work: Awaitable[Any]) -> list[Any]:
    """`asyncio.gather`, but each one ends before the first failure is raised."""
    results = await asyncio.gather(*work, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


@pytest.mark.postgres
async def test_the_cluster_serves_players_through_the_proxy(
        game_database: str, tmp_path: Path) -> None:
    require("haproxy")
    haproxy = find_haproxy()
    assert haproxy is not None
    running: list[Running] = []
    with nats_service(tmp_path) as (nats, _):
        argv, env = local("world", {"--nats": nats}, AEGENT_DATA_DIR=str(tmp_path / "data"))
        env["DATABASE_URL"] = local_database(env["DATABASE_URL"], game_database)
        check = services()["world"]["healthcheck"]["test"][1:]
        world_check = [*AEGENT, *with_flags(check, {"--nats": nats})[1:]]
        try:
            running.append(await start("world", argv, env, tmp_path, ready="world host up"))
            (code, out), (made, said), ports = await gather(
                run(world_check, env),
                # docs/deploy.md: the first admin, in the world host's container
                run([*AEGENT, "user", "create", "Ada", "--role", "admin"], env,
                    b"correct horse\n"),
                start_gateways(nats, tmp_path, running))
            assert code == 0 and "world host up: Aegent Quest (run " in out, out
            assert made == 0 and "created Ada with role admin" in said, said
            gateways = {r.name: r for r in running if r.name in ports}
            await play_through_the_proxy(haproxy, tmp_path, ports, gateways, running)
        finally:
            codes = {r.name: await stop(r) for r in reversed(running)}
        failed = {r.name: r.log.read_text()[-2000:] for r in running
                  if r.name != "proxy" and codes[r.name] != 0}
        assert not failed, failed  # the world host and the gateways stop cleanly
        code, out = await run(world_check, env)  # the world host stopped: the check fails
        assert code == 1 and "no world host" in out, out
    dsn = game_database.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT name, role FROM accounts ORDER BY name").fetchall()
    assert rows == [("ada", "admin"), ("ann", "player"), ("bob", "player")]
    assert not list((tmp_path / "data").glob("*.sqlite3")), "it used SQLite, not DATABASE_URL"


async def play_through_the_proxy(haproxy: str, root: Path, ports: dict[str, dict[int, int]],
                                 gateways: dict[str, Running], running: list[Running]
                                 ) -> None:
    """deploy/haproxy.cfg in front of the gateways; players through it."""
    cfg = haproxy_cfg()
    binds = {port: free_port() for f in ("web", "telnet", "status")
             for port in cfg[f"frontend {f}"].binds()}
    config_file = root / "haproxy.cfg"
    config_file.write_text(local_haproxy(HAPROXY_CFG.read_text(), binds, ports))
    # The service's command, as the image's entrypoint runs it (-W -db: master-worker, in
    # the foreground).
    command = with_flags(services()["proxy"]["command"], {"-f": str(config_file)})
    assert command[0] == "haproxy"
    running.append(await start("proxy", [haproxy, "-W", "-db", *command[1:]], host_env(), root))
    status = f"http://127.0.0.1:{binds[cfg['frontend status'].bind_port()]}"
    await asyncio.to_thread(wait_until_gateways_up, status + cfg["frontend status"].value(
        "stats", "uri"), set(ports))
    check = urlsplit(services()["proxy"]["healthcheck"]["test"][-1])
    with urllib.request.urlopen(status + check.path, timeout=5) as answer:  # its health check
        assert answer.status == 200

    url = f"ws://127.0.0.1:{binds[cfg['frontend web'].bind_port()]}/ws"
    telnet = cfg["frontend telnet"]
    # Ann forges X-Forwarded-For: HAProxy appends her address, which is what counts.
    ann = await player_from("127.0.0.2", url, "198.51.100.66")
    # Ada comes through the TLS proxy in front (trusted from .env), which forwards for her.
    ada = await player_from(TLS_PROXY, url, "203.0.113.9")
    # Cy on the plain telnet port; Bob through the TLS proxy's port, which sends a PROXY
    # header for him.
    cy = await telnet_from("127.0.0.3", binds[telnet.bind_port()])
    behind = next(p for p, options in telnet.binds().items() if "accept-proxy" in options)
    bob = await telnet_from(TLS_PROXY, binds[behind])
    bob.writer.write(f"PROXY TCP4 192.0.2.44 127.0.0.1 40000 {behind}\r\n".encode())
    try:
        assert auth_of(await ann.register("Ann"))["ok"]
        assert auth_of(await ada.login("Ada"))["ok"]
        await cy.until(b"By what name")
        for prompt, line in ((b"By what name", "Bob"), (b"(y/n)", "y"),
                             (b"password", "a long secret"), (b"retype", "a long secret"),
                             (b"Choose a class", "w")):
            await bob.answer(prompt, line)
        await bob.until(b"Welcome, Bob")
        bob.writer.write(b"say hello through the proxy\r\n")
        heard = await ann.until(lambda m: m.get("type") == "event" and m["name"] == "said")
        assert "Bob says, 'hello through the proxy'" in str(events(heard)[-1].get("text"))
        assert (await ann.command("say hello, Bob"))[-1]["ok"]
        heard_ann = await bob.until(b" says, 'hello, Bob'")  # one world, whichever gateways
        assert b"Ann" in heard_ann.rsplit(b"\n", 1)[-1], heard_ann
    finally:
        await ann.close()
        await ada.close()
        await bob.close()
        await cy.close()

    opened = {name: sessions_opened(r.log) for name, r in gateways.items()}
    where = {address: name for name, seen in opened.items() for address in seen}
    # The players' own addresses, not the proxies': X-Forwarded-For on the WebSocket, the
    # PROXY header on telnet; a forged entry from a player is not believed.
    assert set(where) == {"127.0.0.2", "203.0.113.9", "127.0.0.3", "192.0.2.44"}, opened
    # Spread: with Ann's connection open, Ada's went to the other gateway (leastconn).
    assert where["127.0.0.2"] != where["203.0.113.9"], opened
