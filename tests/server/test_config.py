"""server/config.py: one configuration, defaults < aegent.toml < environment < flags.

Every environment variable name the server read before pydantic-settings still works
(`OLD_ENV`, copied from the old `_ENV` table), every setting now has an AEGENT_* name,
each value knows its source, errors name the setting and the source, secrets are masked,
the template `aegent init` writes is every setting at its default, and
docs/configuration.md holds the table generated from the class.
"""

from __future__ import annotations

import os
import subprocess
import sys
import typing
from pathlib import Path
from typing import Any

import pytest

from server import config
from server.config import ConfigError, Settings, load

ROOT = Path(__file__).resolve().parents[2]

OLD_ENV = {  # the variables read before this module used pydantic-settings: all still work
    "host": "AEGENT_HOST", "port": "AEGENT_PORT", "telnet_port": "AEGENT_TELNET_PORT",
    "data_dir": "AEGENT_DATA_DIR", "content_dir": "AEGENT_CONTENT_DIR",
    "database_url": "DATABASE_URL", "qdrant_url": "QDRANT_URL",
    "embeddings_url": "AEGENT_EMBEDDINGS_URL", "embeddings_model": "AEGENT_EMBEDDINGS_MODEL",
    "log_level": "AEGENT_LOG_LEVEL", "log_json": "AEGENT_LOG_JSON",
    "tick_hz": "AEGENT_TICK_HZ", "autosave_interval": "AEGENT_AUTOSAVE_INTERVAL",
    "linkdead_grace": "AEGENT_LINKDEAD_GRACE", "idle_timeout": "AEGENT_IDLE_TIMEOUT",
    "argon2_time_cost": "AEGENT_ARGON2_TIME_COST",
    "argon2_memory_kib": "AEGENT_ARGON2_MEMORY_KIB", "seed": "AEGENT_SEED",
    "prices_file": "AEGENT_PRICES_FILE", "prices": "AEGENT_PRICES",
    "usage_reservation_ttl": "AEGENT_USAGE_RESERVATION_TTL",
    "fanout_delay": "AEGENT_FANOUT_DELAY", "agent_rate": "AEGENT_AGENT_RATE",
    "agent_burst": "AEGENT_AGENT_BURST", "max_message_bytes": "AEGENT_MAX_MESSAGE_BYTES",
    "max_frame_bytes": "AEGENT_MAX_FRAME_BYTES", "max_fragments": "AEGENT_MAX_FRAGMENTS",
    "max_connections_per_address": "AEGENT_MAX_CONNECTIONS_PER_ADDRESS",
    "trusted_proxies": "AEGENT_TRUSTED_PROXIES", "allowed_origins": "AEGENT_ALLOWED_ORIGINS",
    "gmcp_supports_max": "AEGENT_GMCP_SUPPORTS_MAX",
    "terminal_types_max": "AEGENT_TERMINAL_TYPES_MAX",
    "log_lines_per_minute": "AEGENT_LOG_LINES_PER_MINUTE",
    "login_fail_limit": "AEGENT_LOGIN_FAIL_LIMIT",
    "login_fail_window": "AEGENT_LOGIN_FAIL_WINDOW",
    "login_fail_delay": "AEGENT_LOGIN_FAIL_DELAY",
    "login_fail_delay_max": "AEGENT_LOGIN_FAIL_DELAY_MAX",
    "auth_concurrency": "AEGENT_AUTH_CONCURRENCY", "exempt_addresses": "AEGENT_EXEMPT_ADDRESSES",
    "auth_queue_max": "AEGENT_AUTH_QUEUE_MAX",
    "auth_inflight_per_address": "AEGENT_AUTH_INFLIGHT_PER_ADDRESS",
    "register_per_address": "AEGENT_REGISTER_PER_ADDRESS",
    "register_window": "AEGENT_REGISTER_WINDOW", "register_global": "AEGENT_REGISTER_GLOBAL",
    "register_global_window": "AEGENT_REGISTER_GLOBAL_WINDOW",
    "dirty_save_interval": "AEGENT_DIRTY_SAVE_INTERVAL",
    "rate": "AEGENT_RATE", "burst": "AEGENT_BURST", "queue_max": "AEGENT_QUEUE_MAX",
}


def sample(name: str) -> tuple[str, Any]:
    """A valid non-default value of setting `name`: (as text, as the setting holds it)."""
    default = config.FIELDS[name].get_default(call_default_factory=True)
    annotation = config.FIELDS[name].annotation
    if name in ("trusted_proxies", "exempt_addresses"):
        return "10.0.0.0/8", "10.0.0.0/8"
    if name == "log_level":
        return "debug", "debug"
    if name == "gateway_id":
        return "gw-2", "gw-2"
    if name == "nats_url":
        return "nats://bus:4222", "nats://bus:4222"
    if name == "gateway_urls":
        return "ws://g1:4000/ws,ws://g2:4000/ws", "ws://g1:4000/ws,ws://g2:4000/ws"
    if typing.get_origin(annotation) is typing.Literal:  # one of its other choices
        other = next(a for a in typing.get_args(annotation) if a != default)
        return str(other), other
    if isinstance(default, bool) or annotation is bool:
        return "true", True
    if isinstance(default, int) and not isinstance(default, bool) or annotation == int | None:
        return "7", 7
    if isinstance(default, float):
        return "2.5", 2.5
    if config.is_path(name):
        return "/srv/x", Path("/srv/x")
    return "postgresql://u@h/db", "postgresql://u@h/db"


@pytest.mark.parametrize("name", sorted(OLD_ENV))
def test_every_old_environment_variable_still_sets_its_setting(name: str) -> None:
    text, value = sample(name)
    loaded = load(env={OLD_ENV[name]: text}, cwd=ROOT)
    assert getattr(loaded.settings, name) == value
    assert loaded.sources[name] == OLD_ENV[name]


def test_every_setting_has_an_aegent_variable_and_all_are_documented() -> None:
    assert set(OLD_ENV) <= set(config.FIELDS)
    for name in config.FIELDS:
        var = config.env_names(name)[0]
        assert var == f"AEGENT_{name.upper()}"
        text, value = sample(name)
        assert getattr(load(env={var: text}, cwd=ROOT).settings, name) == value, name
        assert config.FIELDS[name].description, name


def test_layers_defaults_file_environment_flags(tmp_path: Path) -> None:
    (tmp_path / "aegent.toml").write_text(
        'port = 5000\ntelnet_port = 5001\nhost = "0.0.0.0"\ndata_dir = "save"\n')
    loaded = load(env={"AEGENT_TELNET_PORT": "6001", "AEGENT_HOST": "::1"}, cwd=tmp_path,
                  host="127.0.0.2")
    s = loaded.settings
    assert (s.port, s.telnet_port, s.host, s.tick_hz) == (5000, 6001, "127.0.0.2", 10.0)
    toml = str(tmp_path / "aegent.toml")
    assert loaded.sources["port"] == toml
    assert loaded.sources["telnet_port"] == "AEGENT_TELNET_PORT"
    assert loaded.sources["host"] == "flag"
    assert loaded.sources["tick_hz"] == "default"
    assert s.data_dir == tmp_path / "save"  # relative to the file's folder
    # No file in the folder: none is read; AEGENT_CONFIG or --config names one.
    assert load(env={}, cwd=tmp_path / "elsewhere").config_file is None
    assert load(env={"AEGENT_CONFIG": toml}, cwd=ROOT).settings.port == 5000
    assert load(toml, env={}, cwd=ROOT).settings.port == 5000
    assert config.from_env({"AEGENT_PORT": "1"}, config_file=toml).port == 1
    both = load(env={"DATABASE_URL": "sqlite:///a", "AEGENT_DATABASE_URL": "sqlite:///b"},
                cwd=ROOT)
    assert (both.settings.database_url, both.sources["database_url"]) == (
        "sqlite:///b", "AEGENT_DATABASE_URL")


def test_settings_itself_reads_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AEGENT_PORT", "5555")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h/db")
    s = Settings(port=0)
    assert s.port == 0 and s.database_url is None and s.tick_hz == 10.0
    assert s.with_overrides(port=3, host=None).port == 3
    with pytest.raises(ValueError, match="port"):
        s.with_overrides(port=70000)
    with pytest.raises(ValueError):
        s.port = 2  # frozen


@pytest.mark.parametrize(("source", "message"), [
    ("env", "setting port from AEGENT_PORT: Input should be a valid integer"),
    ("file", "setting port from {toml}: Input should be a valid integer"),
    ("flag", "setting port from the command line: Input should be a valid integer"),
])
def test_a_bad_value_names_the_setting_and_its_source(tmp_path: Path, source: str,
                                                      message: str) -> None:
    toml = tmp_path / "aegent.toml"
    toml.write_text('port = "many"\n' if source == "file" else "")
    env = {"AEGENT_PORT": "many"} if source == "env" else {}
    flags = {"port": "many"} if source == "flag" else {}
    with pytest.raises(ConfigError) as err:
        load(env=env, cwd=tmp_path, **flags)
    assert message.format(toml=toml) in str(err.value)
    assert "'many'" in str(err.value)


def test_file_errors_are_one_line(tmp_path: Path) -> None:
    toml = tmp_path / "aegent.toml"
    toml.write_text("prot = 4000\n")
    with pytest.raises(ConfigError, match=r"aegent.toml: unknown setting 'prot'"):
        load(env={}, cwd=tmp_path)
    toml.write_text("port = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load(env={}, cwd=tmp_path)
    with pytest.raises(ConfigError, match="no such configuration file"):
        load(tmp_path / "missing.toml", env={})
    with pytest.raises(ConfigError, match="trusted_proxies from AEGENT_TRUSTED_PROXIES"):
        load(env={"AEGENT_TRUSTED_PROXIES": "proxy.example"}, cwd=ROOT)
    with pytest.raises(ConfigError, match="log_level"):
        load(env={"AEGENT_LOG_LEVEL": "loud"}, cwd=ROOT)
    with pytest.raises(ConfigError, match=r"gateway_urls .*'http://a/ws' is not a WebSocket"):
        load(env={"AEGENT_GATEWAY_URLS": "ws://b:4000/ws, http://a/ws"}, cwd=ROOT)
    good = load(env={"AEGENT_GATEWAY_URLS": "ws://b:4000/ws, wss://c.example/ws"}, cwd=ROOT)
    assert good.settings.gateway_urls == "ws://b:4000/ws, wss://c.example/ws"


def test_secrets_are_masked() -> None:
    loaded = load(env={"DATABASE_URL": "postgresql+psycopg://aq:s3cret@db:5432/aq",
                       "QDRANT_URL": "http://qdrant:6333", "AEGENT_METRICS_TOKEN": "t0ken"},
                  cwd=ROOT)
    rows = {name: (value, source) for name, value, source in loaded.rows()}
    assert rows["database_url"] == ("postgresql+psycopg://aq:********@db:5432/aq",
                                    "DATABASE_URL")
    assert rows["qdrant_url"] == ("http://qdrant:6333", "QDRANT_URL")
    assert rows["metrics_token"] == ("********", "AEGENT_METRICS_TOKEN")
    assert "s3cret" not in str(list(loaded.rows()))
    with pytest.raises(ConfigError) as err:
        load(env={"AEGENT_METRICS_TOKEN": "t0ken", "AEGENT_PORT": "x"}, cwd=ROOT)
    assert "t0ken" not in str(err.value)


def test_the_init_template_is_every_setting_at_its_default(tmp_path: Path) -> None:
    text = config.toml_template()
    for name in config.FIELDS:
        assert f"{name} = " in text, name
    # Uncommented whole, it loads, and gives the defaults (paths in the folder).
    lines = [line[2:] if line.startswith("# ") and " = " in line else line
             for line in text.splitlines()]
    (tmp_path / "aegent.toml").write_text("\n".join(lines) + "\n")
    loaded = load(env={}, cwd=tmp_path)
    defaults = Settings(content_dir=tmp_path / "content", data_dir=tmp_path / "data")
    assert loaded.settings == defaults


def test_docs_configuration_table_is_current() -> None:
    doc = (ROOT / "docs" / "configuration.md").read_text()
    assert config.configuration_table() in doc, (
        "docs/configuration.md is stale: paste the output of `aegent config docs` in it")


def test_config_show_in_a_game_folder(tmp_path: Path) -> None:
    """The real CLI: `aegent init`, then `aegent config show` inside the folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AEGENT_")}
    env.update(DATABASE_URL="postgresql+psycopg://aq:s3cret@db/aq", AEGENT_PORT="4100")
    made = subprocess.run([sys.executable, "-m", "server.cli", "init", "game"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    game = tmp_path / "game"
    shown = subprocess.run([sys.executable, "-m", "server.cli", "config", "show"], cwd=game,
                           env={**env, "PYTHONPATH": str(ROOT)}, capture_output=True,
                           text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    rows = {line.split()[0]: line.split(None, 1)[1] for line in shown.stdout.splitlines()}
    assert set(rows) == set(config.FIELDS)
    assert rows["content_dir"] == f"{game / 'content'}  ({game / 'aegent.toml'})"
    assert rows["port"] == "4100  (AEGENT_PORT)"
    assert rows["database_url"] == "postgresql+psycopg://aq:********@db/aq  (DATABASE_URL)"
    assert rows["tick_hz"] == "10.0  (default)"
    assert "s3cret" not in shown.stdout
    again = subprocess.run([sys.executable, "-m", "server.cli", "init", "game"], cwd=tmp_path,
                           env=env, capture_output=True, text=True, timeout=60)
    assert again.returncode == 2 and "not an empty folder" in again.stderr
    bad = subprocess.run([sys.executable, "-m", "server.cli", "config", "show"], cwd=game,
                         env={**env, "PYTHONPATH": str(ROOT), "AEGENT_TICK_HZ": "fast"},
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2
    assert bad.stderr.startswith("aegent: setting tick_hz from AEGENT_TICK_HZ:")
