"""Settings: the one place configuration lives, built from flags and AEGENT_* variables.

A flag wins over its environment variable, which wins over the default.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parent.parent


def default_content_dir() -> Path:
    """content/ beside the server package (the repository's own)."""
    return _ROOT / "content"


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the server can be told. Times are in seconds unless named otherwise."""

    host: str = "127.0.0.1"
    port: int = 4000
    telnet_port: int = 4001
    data_dir: Path = Path("data")
    content_dir: Path = field(default_factory=default_content_dir)
    database_url: str | None = None
    qdrant_url: str | None = None
    embeddings_url: str | None = None  # an OpenAI-compatible /v1 base; unset: local MiniLM
    embeddings_model: str = "text-embedding-3-small"
    log_json: bool = False
    log_level: str = "info"
    seed: int | None = None

    tick_hz: float = 10.0
    autosave_interval: float = 60.0
    linkdead_grace: float = 180.0
    idle_timeout: float = 1800.0
    login_timeout: float = 120.0
    housekeeping_interval: float = 1.0

    rate: float = 8.0  # commands per second a session may send, sustained
    burst: int = 16  # commands it may send at once
    queue_max: int = 32  # commands waiting beyond the burst; more get `rate_limited`
    max_message_bytes: int = 8192  # larger messages get `too_large` (the session goes on)
    max_frame_bytes: int = 1 << 20  # larger frames close the connection (1009)
    fanout_delay: float = 0.05  # others' events wait up to this long to share a write (half a tick)
    ping_interval: float = 20.0
    ping_timeout: float = 20.0

    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 1
    login_fail_limit: int = 5  # failures per (name, address) before waits start...
    login_fail_window: float = 300.0  # ...forgotten after this long quiet past the wait
    login_fail_delay: float = 1.0  # the first wait past the limit; doubles per failure...
    login_fail_delay_max: float = 900.0  # ...up to this (server/accounts.py, Throttle)

    # Hardening: every bound on what a client can make the server hold or do.
    # docs/security.md keeps the table (the bound, this setting, what the client gets).
    max_fragments: int = 128  # frames in one fragmented WebSocket message (more: 1009)
    max_connections_per_address: int = 16  # open TCP connections from one address
    trusted_proxies: str = ""  # addresses/CIDRs, comma-separated, whose X-Forwarded-For
    #                            (WebSocket) or PROXY header (telnet) is believed
    allowed_origins: str = ""  # browser Origins allowed on /ws, comma-separated, besides
    #                            the server's own host; "*" allows any; none sent: allowed
    gmcp_supports_max: int = 64  # GMCP packages a connection may declare (Core.Supports)
    terminal_types_max: int = 8  # distinct telnet terminal types remembered (MTTS cycle)
    log_lines_per_minute: int = 30  # log lines one connection's input may cause per minute
    exempt_addresses: str = "127.0.0.0/8,::1"  # this machine (your agents, tools, bench):
    #   no per-address limit on connections, registrations or logins in progress (the
    #   failed-login throttle and the overall limits still apply). Behind a proxy on this
    #   machine, set trusted_proxies so that players are not all 127.0.0.1; "" for none
    auth_concurrency: int = 2  # argon2 checks running at once, server-wide; others queue
    auth_queue_max: int = 256  # logins waiting for a check; more are refused at once (busy)
    auth_inflight_per_address: int = 4  # logins/registrations in flight from one address
    register_per_address: int = 3  # new accounts from one address per register_window
    register_window: float = 3600.0
    register_global: int = 30  # new accounts from everyone per register_global_window
    register_global_window: float = 60.0
    dirty_save_interval: float = 1.0  # changed characters are written this often (durability)

    # Usage accounting (server/usage.py): prices are USD per 1M tokens, by model.
    prices_file: Path | None = None  # JSON {"model": {"prompt", "completion", "cached_prompt"?}}
    prices: str | None = None  # the same JSON inline; overrides the file and the defaults
    usage_reservation_ttl: float = 600.0  # an unsettled reservation frees its budget then
    usage_flush_interval: float = 1.0  # usage is written to the database in batches this often
    usage_budget_reload: float = 10.0  # budgets set with `aegent usage budget` apply within

    # Agents (API-key logins, server/identity.py): their own command rate unless their
    # agent_config says otherwise, and how often live keys are re-checked (revocations
    # made from the command line close the agent's connection within this many seconds).
    agent_rate: float = 4.0
    agent_burst: int = 8
    agent_key_check_interval: float = 2.0

    @property
    def resolved_database_url(self) -> str:
        """DATABASE_URL, or the SQLite file under the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'aegent.sqlite3').resolve()}"

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with some fields changed (None values are ignored)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


_ENV = {
    "host": "AEGENT_HOST",
    "port": "AEGENT_PORT",
    "telnet_port": "AEGENT_TELNET_PORT",
    "data_dir": "AEGENT_DATA_DIR",
    "content_dir": "AEGENT_CONTENT_DIR",
    "database_url": "DATABASE_URL",
    "qdrant_url": "QDRANT_URL",
    "embeddings_url": "AEGENT_EMBEDDINGS_URL",
    "embeddings_model": "AEGENT_EMBEDDINGS_MODEL",
    "log_level": "AEGENT_LOG_LEVEL",
    "tick_hz": "AEGENT_TICK_HZ",
    "autosave_interval": "AEGENT_AUTOSAVE_INTERVAL",
    "linkdead_grace": "AEGENT_LINKDEAD_GRACE",
    "idle_timeout": "AEGENT_IDLE_TIMEOUT",
    "argon2_time_cost": "AEGENT_ARGON2_TIME_COST",
    "argon2_memory_kib": "AEGENT_ARGON2_MEMORY_KIB",
    "seed": "AEGENT_SEED",
    "prices_file": "AEGENT_PRICES_FILE",
    "prices": "AEGENT_PRICES",
    "usage_reservation_ttl": "AEGENT_USAGE_RESERVATION_TTL",
    "fanout_delay": "AEGENT_FANOUT_DELAY",
    "agent_rate": "AEGENT_AGENT_RATE",
    "agent_burst": "AEGENT_AGENT_BURST",
    "max_message_bytes": "AEGENT_MAX_MESSAGE_BYTES",
    "max_frame_bytes": "AEGENT_MAX_FRAME_BYTES",
    "max_fragments": "AEGENT_MAX_FRAGMENTS",
    "max_connections_per_address": "AEGENT_MAX_CONNECTIONS_PER_ADDRESS",
    "trusted_proxies": "AEGENT_TRUSTED_PROXIES",
    "allowed_origins": "AEGENT_ALLOWED_ORIGINS",
    "gmcp_supports_max": "AEGENT_GMCP_SUPPORTS_MAX",
    "terminal_types_max": "AEGENT_TERMINAL_TYPES_MAX",
    "log_lines_per_minute": "AEGENT_LOG_LINES_PER_MINUTE",
    "login_fail_limit": "AEGENT_LOGIN_FAIL_LIMIT",
    "login_fail_window": "AEGENT_LOGIN_FAIL_WINDOW",
    "login_fail_delay": "AEGENT_LOGIN_FAIL_DELAY",
    "login_fail_delay_max": "AEGENT_LOGIN_FAIL_DELAY_MAX",
    "auth_concurrency": "AEGENT_AUTH_CONCURRENCY",
    "exempt_addresses": "AEGENT_EXEMPT_ADDRESSES",
    "auth_queue_max": "AEGENT_AUTH_QUEUE_MAX",
    "auth_inflight_per_address": "AEGENT_AUTH_INFLIGHT_PER_ADDRESS",
    "register_per_address": "AEGENT_REGISTER_PER_ADDRESS",
    "register_window": "AEGENT_REGISTER_WINDOW",
    "register_global": "AEGENT_REGISTER_GLOBAL",
    "register_global_window": "AEGENT_REGISTER_GLOBAL_WINDOW",
    "dirty_save_interval": "AEGENT_DIRTY_SAVE_INTERVAL",
    "rate": "AEGENT_RATE",
    "burst": "AEGENT_BURST",
    "queue_max": "AEGENT_QUEUE_MAX",
}


def from_env(env: dict[str, str] | None = None, **flags: Any) -> Settings:
    """Settings from defaults, then environment variables, then flags (non-None ones).

    Raises:
        ValueError: a variable holds a value of the wrong type, naming it.
    """
    env = dict(os.environ if env is None else env)
    types = {f.name: f.type for f in fields(Settings)}
    values: dict[str, Any] = {}
    for name, var in _ENV.items():
        raw = env.get(var)
        if raw is None or raw == "":
            continue
        kind = str(types[name])
        try:
            if "Path" in kind:
                values[name] = Path(raw)
            elif kind.startswith("int"):
                values[name] = int(raw)
            elif kind.startswith("float"):
                values[name] = float(raw)
            else:
                values[name] = raw
        except ValueError:
            raise ValueError(f"{var}={raw!r} is not a valid {kind}") from None
    if env.get("AEGENT_LOG_JSON", "").lower() in ("1", "true", "yes"):
        values["log_json"] = True
    values.update({k: v for k, v in flags.items() if v is not None})
    return Settings(**values)
