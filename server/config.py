"""Settings: the one place configuration lives, read by pydantic-settings.

Each setting comes from the first of these that has it, last wins:

1. its default (below);
2. the TOML file: `--config FILE` (or `AEGENT_CONFIG`), else `aegent.toml` in the current
   folder (a game folder made by `aegent init`); relative paths in it are relative to it;
3. its environment variable: `AEGENT_<NAME>` (`AEGENT_TELNET_PORT`), and for two settings
   also the unprefixed name that other tools use (`DATABASE_URL`, `QDRANT_URL`);
4. a command-line flag (`aegent serve --port 4000`).

`load()` does that and remembers where each value came from (`Loaded.sources`), which
`aegent config show` prints and every validation error names. `Settings(...)` itself reads
nothing: defaults and the arguments given, as tests and embedders want.
docs/configuration.md is generated from this class (`configuration_table()`).
"""

from __future__ import annotations

import os
import tomllib
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic.config import JsonDict
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, EnvSettingsSource, SettingsConfigDict
from pydantic_settings.sources import PydanticBaseSettingsSource
from pydantic_settings.sources.utils import parse_env_vars

_ROOT = Path(__file__).resolve().parent.parent

CONFIG_FILE = "aegent.toml"
"""The configuration file a game folder holds (`aegent init`)."""

CONFIG_ENV = "AEGENT_CONFIG"
"""The environment variable naming a configuration file, like `--config FILE`."""

ENV_PREFIX = "AEGENT_"


def default_content_dir() -> Path:
    """The starter world: content/ beside the server package in a checkout (or an editable
    install), else the copy an installed wheel carries as `server/starter/` (setup.py)."""
    checkout = _ROOT / "content"
    packaged = Path(__file__).resolve().parent / "starter"
    if (checkout / "world.yaml").is_file() or not (packaged / "world.yaml").is_file():
        return checkout
    return packaged


def _also_env(name: str, *env: str) -> AliasChoices:
    """Setting `name` read from these environment variables (the first set one wins) as
    well as from its own name (arguments, the TOML file)."""
    return AliasChoices(*env, name)


_SECRET: JsonDict = {"secret": True}  # `config show` masks the value


class Settings(BaseSettings):
    """Everything the server can be told. Times are in seconds unless named otherwise.

    A field's description is its line in docs/configuration.md and in the `aegent.toml`
    that `aegent init` writes.
    """

    model_config = SettingsConfigDict(
        frozen=True, extra="forbid", populate_by_name=True, env_prefix=ENV_PREFIX)

    host: str = Field(default="127.0.0.1", description="address to listen on")
    port: int = Field(default=4000, ge=0, le=65535,
                      description="WebSocket/HTTP port (0: any free one)")
    telnet_port: int = Field(default=4001, ge=0, le=65535,
                             description="telnet port (0: any free one)")
    data_dir: Path = Field(default=Path("data"), description=(
        "where the SQLite file, the agents' local memory and the lock live"))
    content_dir: Path = Field(default_factory=default_content_dir, description=(
        "the world's content folder (default: the packaged starter world)"))
    database_url: str | None = Field(
        default=None,
        validation_alias=_also_env("database_url", "AEGENT_DATABASE_URL", "DATABASE_URL"),
        description="a database URL (postgresql+psycopg://...); unset: SQLite under data_dir",
        json_schema_extra=_SECRET)
    qdrant_url: str | None = Field(
        default=None, validation_alias=_also_env("qdrant_url", "AEGENT_QDRANT_URL", "QDRANT_URL"),
        description="a Qdrant server for agent memory; unset: local mode under data_dir",
        json_schema_extra=_SECRET)
    embeddings_url: str | None = Field(default=None, description=(
        "an OpenAI-compatible /v1 base for embeddings; unset: the local MiniLM model"))
    embeddings_model: str = Field(default="text-embedding-3-small",
                                  description="the embeddings model at embeddings_url")
    log_json: bool = Field(default=False, description="JSON log lines (one object per line)")
    log_level: str = Field(default="info", description="debug, info, warning, error or critical")
    seed: int | None = Field(default=None, description="seed of the world's RNG (unset: random)")
    metrics_token: str = Field(default="", description=(
        "if set, GET /metrics needs `Authorization: Bearer <this>`; empty: open"),
        json_schema_extra=_SECRET)

    tick_hz: float = Field(default=10.0, gt=0, description="world ticks per second")
    lockstep: bool = Field(default=False, description=(
        "the world ticks only when a client sends `advance`, never on the clock, and "
        "others' events go out at once (research environments, agents/env.py); not for "
        "a server people play on"))
    advance_max_ticks: int = Field(default=36000, ge=1, description=(
        "the most ticks one `advance` may ask for (lockstep)"))
    autosave_interval: float = Field(default=60.0,
                                     description="every character is saved this often")
    linkdead_grace: float = Field(default=180.0, description=(
        "a character whose connection dropped stays in the world this long"))
    idle_timeout: float = Field(default=1800.0,
                                description="idle sessions are closed after this long")
    login_timeout: float = Field(default=120.0, description=(
        "a connection must log in within this long"))
    housekeeping_interval: float = Field(default=1.0, description=(
        "how often timeouts, link-dead characters and key checks are looked at"))
    parent_pid: int | None = Field(default=None, description=(
        "stop (saving everyone) once this process is no longer the server's parent: "
        "set by programs that start a server of their own (the research environments, "
        "agents eval) so that it does not outlive them when they are killed"))

    rate: float = Field(default=8.0,
                        description="commands per second a session may send, sustained")
    burst: int = Field(default=16, description="commands it may send at once")
    queue_max: int = Field(default=32, description=(
        "commands waiting beyond the burst; more get `rate_limited`"))
    max_message_bytes: int = Field(default=8192, description=(
        "larger messages get `too_large` (the session goes on)"))
    max_frame_bytes: int = Field(default=1 << 20, description=(
        "larger frames close the connection (1009)"))
    fanout_delay: float = Field(default=0.1, description=(
        "others' events wait up to this long to share a write (one tick at 10 Hz: a "
        "bystander gets at most one write a tick; the answer to its own command goes "
        "at once)"))
    ping_interval: float = Field(default=20.0, description="WebSocket ping interval")
    ping_timeout: float = Field(default=20.0, description="a ping unanswered this long closes")

    argon2_time_cost: int = Field(default=3, description="argon2 password hashing: passes")
    argon2_memory_kib: int = Field(default=65536,
                                   description="argon2 password hashing: memory (KiB)")
    argon2_parallelism: int = Field(default=1, description="argon2 password hashing: lanes")
    login_fail_limit: int = Field(default=5, description=(
        "failures per (name, address) before waits start..."))
    login_fail_window: float = Field(default=300.0, description=(
        "...forgotten after this long quiet past the wait"))
    login_fail_delay: float = Field(default=1.0, description=(
        "the first wait past the limit; doubles per failure..."))
    login_fail_delay_max: float = Field(default=900.0, description=(
        "...up to this (server/host/accounts.py, Throttle)"))

    # Hardening: every bound on what a client can make the server hold or do.
    # docs/security.md keeps the table (the bound, this setting, what the client gets).
    max_fragments: int = Field(default=128, description=(
        "frames in one fragmented WebSocket message (more: 1009)"))
    max_connections_per_address: int = Field(default=16, description=(
        "open TCP connections from one address"))
    trusted_proxies: str = Field(default="", description=(
        "addresses/CIDRs, comma-separated, whose X-Forwarded-For (WebSocket) or PROXY "
        "header (telnet) is believed"))
    gateway_urls: str = Field(default="", description=(
        "the WebSocket URLs of every gateway of this world, comma-separated "
        "(ws://host:port/ws), sent to clients in `hello` so that they reconnect to "
        "another when theirs goes away (the web page dials them from this one's origin: "
        "each gateway's allowed_origins lists the others'); empty: only this one"))
    nats_url: str = Field(default="", description=(
        "the NATS server(s) of the bus between gateways and the world host, "
        "comma-separated (nats://host:4222); `aegent world` and `aegent gateway` need it, "
        "`aegent serve` ignores it"))
    gateway_id: str = Field(default="", pattern=r"^[A-Za-z0-9_-]{0,64}$", description=(
        "this gateway's name on the bus (letters, digits, _ and -); empty: made from the "
        "host name and the process id. Two gateways must not share one"))
    world_wait: float = Field(default=30.0, gt=0, description=(
        "a gateway holds a command this long while the world host is away (restarting), "
        "then answers it `world_unavailable`"))
    world_ping_interval: float = Field(default=0.5, gt=0, description=(
        "a gateway asks the world host this often whether it is there (and notices a "
        "restart); it is away once a question goes unanswered this long"))
    allowed_origins: str = Field(default="", description=(
        "browser Origins allowed on /ws, comma-separated, besides the server's own host; "
        "\"*\" allows any; none sent: allowed"))
    gmcp_supports_max: int = Field(default=64, description=(
        "GMCP packages a connection may declare (Core.Supports)"))
    terminal_types_max: int = Field(default=8, description=(
        "distinct telnet terminal types remembered (MTTS cycle)"))
    log_lines_per_minute: int = Field(default=30, description=(
        "log lines one connection's input may cause per minute"))
    input_bytes_per_second: int = Field(
        32768, description="bytes a connection may send a second, sustained; past it the "
        "server stops reading that socket for a while (0: no limit)")
    input_burst_bytes: int = Field(
        131072, description="bytes a connection may send at once before the pacing starts")
    http_head_timeout: float = Field(
        10.0, description="seconds a client has to send a whole HTTP request head (408)")
    exempt_addresses: str = Field(default="127.0.0.0/8,::1", description=(
        "this machine (your agents, tools, bench): no per-address limit on connections, "
        "registrations or logins in progress (the failed-login throttle and the overall "
        "limits still apply). Behind a proxy on this machine, set trusted_proxies so that "
        "players are not all 127.0.0.1; \"none\" for none"))
    auth_concurrency: int = Field(default=2, description=(
        "argon2 checks running at once, server-wide; others queue"))
    auth_queue_max: int = Field(default=256, description=(
        "logins waiting for a check; more are refused at once (busy)"))
    auth_inflight_per_address: int = Field(default=4, description=(
        "logins/registrations in flight from one address"))
    register_per_address: int = Field(default=3, description=(
        "new accounts from one address per register_window"))
    register_window: float = Field(default=3600.0, description="see register_per_address")
    register_global: int = Field(default=30, description=(
        "new accounts from everyone per register_global_window"))
    register_global_window: float = Field(default=60.0, description="see register_global")
    dirty_save_interval: float = Field(default=1.0, description=(
        "changed characters are written this often (durability)"))
    gc_threshold: int = Field(default=50_000, ge=0, description=(
        "aegent serve freezes the objects alive at start out of the garbage collector and "
        "runs young collections every this many allocations (0: Python's own settings)"))
    journal: bool = Field(default=True, description=(
        "journal every world input in DATA_DIR/journal before applying it, snapshot the "
        "world, and recover it at start (docs/architecture.md)"))
    journal_retention: float = Field(default=86400.0, gt=0, description=(
        "journal entries are kept this long, even behind snapshots (for aegent replay)"))
    journal_sync: Literal["batch", "always"] = Field(default="batch", description=(
        "fsync the journal every append (always) or at most every 50 ms (batch); "
        "either survives a kill -9, only always a power cut"))
    snapshot_interval: float = Field(default=300.0, gt=0, description=(
        "the world is snapshotted this often (recovery replays the journal after it)"))

    # Usage accounting (server/host/usage.py): prices are USD per 1M tokens, by model.
    prices_file: Path | None = Field(default=None, description=(
        "JSON {\"model\": {\"prompt\", \"completion\", \"cached_prompt\"?}}"))
    prices: str | None = Field(default=None, description=(
        "the same JSON inline; overrides the file and the defaults"))
    usage_reservation_ttl: float = Field(default=600.0, description=(
        "an unsettled reservation frees its budget then"))
    usage_flush_interval: float = Field(default=1.0, description=(
        "usage is written to the database in batches this often"))
    usage_budget_reload: float = Field(default=10.0, description=(
        "budgets set with `aegent usage budget` apply within this long"))

    # Agents (API-key logins, server/host/identity.py): their own command rate unless their
    # agent_config says otherwise, and how often live keys are re-checked (revocations
    # made from the command line close the agent's connection within this many seconds).
    agent_rate: float = Field(default=4.0, description="an agent's commands per second, sustained")
    agent_burst: int = Field(default=8, description="an agent's commands at once")
    agent_key_check_interval: float = Field(default=2.0, description=(
        "how often live API keys are re-checked (revocations apply within this)"))

    # A2A (server/host/a2a.py): agents their owners let be reached over Agent2Agent, on the
    # HTTP port. docs/security.md lists the bounds.
    public_url: str = Field(default="", description=(
        "the server's address as others reach it (https://mud.example.org), for the links "
        "it gives out (A2A agent cards); empty: the request's Host, or http://host:port"))
    a2a_reply_timeout: float = Field(default=30.0, gt=0, description=(
        "how long an A2A message waits for the agent's answer (its next tell to its owner); "
        "keep it under login_timeout, which closes connections without a session"))
    a2a_per_minute: int = Field(default=30, ge=0, description=(
        "A2A requests one API key may make a minute; more get 429 (0: no limit)"))
    a2a_max_body_bytes: int = Field(default=65536, ge=1, description=(
        "the largest HTTP request body (an A2A JSON-RPC request); more: 413"))
    http_body_timeout: float = Field(default=10.0, gt=0, description=(
        "seconds a client has to send a whole HTTP request body (408)"))

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """`Settings(...)` takes only its arguments; `load()` layers the file and the
        environment itself, so that it knows each value's source."""
        return (init_settings,)

    @field_validator("seed", "parent_pid", "database_url", "qdrant_url", "embeddings_url",
                     "prices_file", "prices", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        value = value.strip().lower()
        if value not in ("debug", "info", "warning", "warn", "error", "critical"):
            raise ValueError("must be debug, info, warning, error or critical")
        return value

    @field_validator("gateway_urls")
    @classmethod
    def _gateway_urls(cls, value: str) -> str:
        for url in (u.strip() for u in value.split(",")):
            parsed = urlsplit(url)
            if url and (parsed.scheme not in ("ws", "wss") or not parsed.hostname):
                raise ValueError(f"{url!r} is not a WebSocket URL (ws://host:port/ws)")
        return value

    @field_validator("trusted_proxies", "exempt_addresses")
    @classmethod
    def _networks(cls, value: str) -> str:
        from server import netguard

        netguard.parse_networks(value, "this setting")  # raises ValueError, naming the entry
        return value

    @property
    def resolved_database_url(self) -> str:
        """DATABASE_URL, or the SQLite file under the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'aegent.sqlite3').resolve()}"

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with some fields changed (None values are ignored), validated again."""
        values = {name: getattr(self, name) for name in type(self).model_fields}
        values.update({k: v for k, v in changes.items() if v is not None})
        return type(self)(**values)


FIELDS: dict[str, FieldInfo] = Settings.model_fields


def env_names(name: str) -> tuple[str, ...]:
    """The environment variables of setting `name`, the preferred one first."""
    alias = FIELDS[name].validation_alias
    if isinstance(alias, AliasChoices):
        return tuple(str(c).upper() for c in alias.choices if str(c) != name)
    return (ENV_PREFIX + name.upper(),)


def is_secret(name: str) -> bool:
    """Whether `config show` masks the value of setting `name`."""
    extra = FIELDS[name].json_schema_extra
    return isinstance(extra, dict) and bool(extra.get("secret"))


class ConfigError(ValueError):
    """A setting has a bad value; `str()` is one line naming the setting and its source."""


class _Env(EnvSettingsSource):
    """pydantic-settings' environment source over a given mapping (tests, `from_env(env=)`)."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._given = dict(env)
        super().__init__(Settings, case_sensitive=False, env_ignore_empty=True)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(self._given, False, True, None)


@dataclass(frozen=True, slots=True)
class Loaded:
    """The settings and, for each one, where its value came from."""

    settings: Settings
    sources: dict[str, str]  # name -> "default" | the TOML file | an env var | "flag"
    config_file: Path | None

    def rows(self) -> Iterator[tuple[str, str, str]]:
        """(name, value as shown, source) for each setting, secrets masked."""
        for name in FIELDS:
            yield name, shown(name, getattr(self.settings, name)), self.sources[name]


def shown(name: str, value: Any) -> str:
    """A setting's value as `config show` prints it: secrets masked, None as `unset`."""
    if value is None:
        return "unset"
    text = str(value).lower() if isinstance(value, bool) else str(value)
    if not is_secret(name) or text == "":
        return text
    parts = urlsplit(text)
    if parts.scheme and parts.netloc:  # a URL: only its password (or a lone user token) goes
        user, at, host = parts.netloc.rpartition("@")
        if at:
            login, colon, _password = user.partition(":")
            netloc = f"{login}:********@{host}" if colon else f"********@{host}"
            return urlunsplit(parts._replace(netloc=netloc))
        return text
    return "********"


def config_file_in(folder: Path, env: Mapping[str, str]) -> Path | None:
    """The configuration file to read: `AEGENT_CONFIG`, else `aegent.toml` in `folder`."""
    named = env.get(CONFIG_ENV)
    if named:
        return Path(named)
    here = folder / CONFIG_FILE
    return here if here.is_file() else None


def _read_toml(path: Path) -> dict[str, Any]:
    """The file's settings with its relative paths made relative to its folder."""
    from pydantic_settings import TomlConfigSettingsSource

    if not path.is_file():
        raise ConfigError(f"{path}: no such configuration file")
    try:
        data = TomlConfigSettingsSource(Settings, toml_file=path).toml_data
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in FIELDS:
            raise ConfigError(f"{path}: unknown setting {key!r} (`aegent config show` "
                              "lists them all)")
        if is_path(key) and isinstance(value, str) and value:
            value = path.parent / value
        values[key] = value
    return values


def is_path(name: str) -> bool:
    annotation = FIELDS[name].annotation
    return annotation is Path or Path in typing.get_args(annotation)


def load(config_file: Path | str | None = None, env: Mapping[str, str] | None = None,
         cwd: Path | None = None, **flags: Any) -> Loaded:
    """Defaults < the TOML file < environment variables < flags (non-None ones).

    Args:
        config_file: `--config FILE`; None: `AEGENT_CONFIG`, else ./aegent.toml if any.
        env: the environment (default: os.environ).
        cwd: where to look for aegent.toml (default: the current folder).
        flags: settings given on the command line.

    Raises:
        ConfigError: a value is not valid, naming the setting and its source.
    """
    env = dict(os.environ if env is None else env)
    path = Path(config_file) if config_file else config_file_in(cwd or Path.cwd(), env)
    values: dict[str, Any] = {}
    sources = dict.fromkeys(FIELDS, "default")
    if path is not None:
        label = str(path)
        for key, value in _read_toml(path).items():
            values[key], sources[key] = value, label
    upper = {k.upper(): k for k, v in env.items() if v}
    by_var = {var: name for name in FIELDS for var in env_names(name)}
    for key, value in _Env(env)().items():  # keyed by name, or by an alias's first choice
        name = key if key in FIELDS else by_var.get(key.upper())
        if name is not None:
            var = next(upper[v] for v in env_names(name) if v in upper)
            values[name], sources[name] = value, var
    for key, value in flags.items():
        if value is not None:
            if key not in FIELDS:
                raise ConfigError(f"unknown setting {key!r}")
            values[key], sources[key] = value, "flag"
    try:
        settings = Settings(**values)
    except ValidationError as exc:
        raise _explain(exc, values, sources) from None
    return Loaded(settings, sources, path)


def _explain(exc: ValidationError, values: dict[str, Any], sources: dict[str, str]) -> ConfigError:
    lines = []
    for err in exc.errors():
        name = str(err["loc"][0]) if err["loc"] else "?"
        where = sources.get(name, "?")
        given = values.get(name)
        what = "" if is_secret(name) else f" (got {given!r})"
        source = "its default" if where == "default" else (
            "the command line" if where == "flag" else where)
        message = err["msg"].removeprefix("Value error, ")
        lines.append(f"setting {name} from {source}: {message}{what}")
    return ConfigError("; ".join(lines))


def from_env(env: dict[str, str] | None = None, *, config_file: Path | str | None = None,
             **flags: Any) -> Settings:
    """Settings from defaults, the TOML file, environment variables, then flags
    (non-None ones): `load(...).settings`.

    Raises:
        ValueError: a value is not valid (a `ConfigError`, naming the setting and source).
    """
    return load(config_file, env, **flags).settings


def toml_template() -> str:
    """The commented aegent.toml that `aegent init` writes: every setting, commented out
    at its default, except the two that make the folder a game folder."""
    out = ["# Aegent Quest configuration (docs/configuration.md). Each setting is read from",
           "# here, then from its environment variable (AEGENT_<NAME>), then from a flag, the",
           "# last one winning. Relative paths are relative to this file's folder.",
           "# `aegent config show` prints every effective value and where it came from.",
           "",
           'content_dir = "content"  # the world: edit the YAML there (content/README.md)',
           'data_dir = "data"  # the database, the agents\' memory, the lock',
           ""]
    for name, info in FIELDS.items():
        if name in ("content_dir", "data_dir"):
            continue
        default = info.get_default(call_default_factory=True)
        out.append(f"# {name}: {info.description}")
        out.append(f"# {name} = {_toml_value(default)}")
    return "\n".join(out) + "\n"


def _toml_value(value: Any) -> str:
    if value is None:
        return '""  # unset by default'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def configuration_table() -> str:
    """The Markdown table of every setting, for docs/configuration.md (a test keeps the
    file equal to it: regenerate with `aegent config docs`)."""
    rows = ["| setting | environment variable | default | what it is |",
            "| --- | --- | --- | --- |"]
    for name, info in FIELDS.items():
        if name == "content_dir":
            default = "the packaged starter world"
        else:
            default = shown(name, info.get_default(call_default_factory=True))
        env = ", ".join(f"`{v}`" for v in env_names(name))
        text = str(info.description).replace("|", "\\|")
        rows.append(f"| `{name}` | {env} | `{default}` | {text} |")
    return "\n".join(rows) + "\n"
