"""Agent identity without a server: keys, the store on a real SQLite file, scopes, the CLI.

The CLI tests run `aegent agent ...` through `server.cli.main(argv)` against a real
SQLite file in tmp_path, as an operator would.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from server import cli, wire
from server.gateway.session import Limits
from server.host import identity
from server.host.identity import (
    AgentIdentity,
    IdentityError,
    command_categories,
    command_of,
    generate_key,
    hash_key,
    key_id_of,
    parse_scopes,
    verify_key,
)
from server.host.identity_storage import IdentityStore
from server.host.storage import SqlRepository
from world.commands import REGISTRY

CATEGORIES = command_categories(REGISTRY)


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("AEGENT_DATA_DIR", raising=False)
    return tmp_path / "data"


@pytest.fixture
def store(data: Path) -> IdentityStore:
    repo = SqlRepository(f"sqlite:///{data / 'aegent.sqlite3'}")
    repo.migrate()
    repo.create_account("Ann", "argon-hash-ann")
    repo.create_account("Bob", "argon-hash-bob")
    return IdentityStore(repo.engine)


def test_keys_are_random_well_formed_and_verified_in_constant_time() -> None:
    one, two = generate_key(), generate_key()
    assert one.key != two.key and one.key_id != two.key_id
    assert one.key.startswith("aq_") and len(one.key) > 50
    assert key_id_of(one.key) == one.key_id and len(one.key_id) == 12
    assert one.key_hash == hash_key(one.key) and len(one.key_hash) == 64
    assert verify_key(one.key, one.key_hash)
    assert not verify_key(two.key, one.key_hash)
    assert one.key not in repr(one)
    for bad in ("", "aq_", "aq_abc", "xx_abc_def", "aq__secret", "a" * 300):
        assert key_id_of(bad) is None


def test_only_the_hash_of_a_key_is_stored(store: IdentityStore, data: Path) -> None:
    record, key = identity.create_agent(store, "scout", "ann", ["*"], {"rate": 2.0})
    assert record.display_name == "Scout" and record.owner == "ann"
    secret = key.split("_", 2)[2]
    raw = (data / "aegent.sqlite3").read_bytes()
    for path in data.iterdir():  # the WAL holds fresh writes
        raw += path.read_bytes()
    assert secret.encode() not in raw and key.encode() not in raw
    engine = sa.create_engine(f"sqlite:///{data / 'aegent.sqlite3'}")
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT key_id, key_hash, scopes FROM api_keys")).all()
        kind, owner, password = conn.execute(sa.text(
            "SELECT kind, owner_id, password_hash FROM accounts WHERE name='scout'")).one()
    engine.dispose()
    assert [(r[0], r[1]) for r in rows] == [(record.key_id, hash_key(key))]
    assert (kind, password) == ("agent", "") and owner is not None
    found = store.find_key(record.key_id or "")
    assert found is not None and found[1] == hash_key(key) and found[2] is None


def test_create_rotate_revoke_scopes_and_config(store: IdentityStore) -> None:
    record, key = identity.create_agent(store, "Scout", "Ann", ["movement"], {})
    assert record.scopes == ("movement",)
    with pytest.raises(IdentityError) as taken:
        identity.create_agent(store, "scout", "bob", ["*"], {})
    assert taken.value.code == "name_taken"
    with pytest.raises(IdentityError) as person:
        identity.create_agent(store, "ann", "bob", ["*"], {})  # a person's name
    assert person.value.code == "name_taken"
    with pytest.raises(IdentityError) as by_agent:
        identity.create_agent(store, "Minion", "scout", ["*"], {})
    assert by_agent.value.code == "forbidden"
    with pytest.raises(IdentityError) as bad:
        identity.create_agent(store, "x1", "ann", ["*"], {})
    assert bad.value.code == "bad_name"

    rotated, new_key, revoked = identity.rotate_key(store, "SCOUT")
    assert revoked == [record.key_id] and new_key != key
    assert rotated.key_id == key_id_of(new_key) and rotated.scopes == ("movement",)
    old = store.find_key(record.key_id or "")
    assert old is not None and old[2] is not None  # revoked, kept for the record

    assert identity.set_scopes(store, "scout", ["combat", "movement"]).scopes == (
        "combat", "movement")
    changed = identity.set_config(store, "scout", {"rate": 3, "on_limit": "stop"})
    assert changed.config == {"rate": 3.0, "on_limit": "stop"}
    with pytest.raises(IdentityError):
        identity.set_config(store, "scout", {"burst": 0})

    assert identity.revoke_agent(store, "scout") == [rotated.key_id]
    assert identity.revoke_agent(store, "scout") == []
    listed = identity.list_agents(store, "ann")
    assert [(r.name, r.key_id) for r in listed] == [("scout", None)]
    assert identity.list_agents(store, "bob") == []
    with pytest.raises(IdentityError):
        identity.rotate_key(store, "ann")  # a person, not an agent
    with pytest.raises(IdentityError):
        identity.list_agents(store, "nobody")


def test_scopes_are_checked_against_the_registry_categories() -> None:
    assert {"movement", "combat", "communication", "account"} <= CATEGORIES
    assert parse_scopes("Movement, combat", CATEGORIES) == ["combat", "movement"]
    assert parse_scopes("*", CATEGORIES) == ["*"]
    for bad in ("", "flying", "*,combat"):
        with pytest.raises(IdentityError) as err:
            parse_scopes(bad, CATEGORIES)
        assert err.value.code == "bad_args"
    with pytest.raises(IdentityError, match="flying"):
        parse_scopes("movement,flying", CATEGORIES)


def test_command_of_resolves_like_the_world() -> None:
    def category(line: str, aliases: dict[str, str] | None = None) -> str | None:
        spec = command_of(REGISTRY, aliases or {}, wire.Command(line=line))
        return spec.category if spec else None

    assert category("north") == "movement"
    assert category("'hello") == "communication"
    assert category("say hi") == "communication"
    assert category("zz", {"zz": "say hi"}) == "communication"
    assert category("nonsense") is None
    tool = command_of(REGISTRY, {}, wire.CallTool(tool="kill", args={}))
    assert tool is not None and tool.category == "combat"


def test_agent_limits_default_to_the_servers() -> None:
    base = Limits(8.0, 16, 32, 8192)
    assert identity.agent_limits({}, 4.0, 8, base) == Limits(4.0, 8, 32, 8192)
    assert identity.agent_limits({"rate": 1.5, "burst": 2}, 4.0, 8, base) == Limits(
        1.5, 2, 32, 8192)


def test_agent_identity_is_frozen() -> None:
    who = AgentIdentity("scout", "Scout", "ann", "k1", frozenset({"*"}))
    with pytest.raises(AttributeError):
        who.name = "x"  # type: ignore[misc]


# ---- the command line ---------------------------------------------------------------


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_create_list_rotate_scopes_config_revoke(
        store: IdentityStore, data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = ["--data-dir", str(data)]
    code, out, err = run(capsys, "agent", "create", "Scout", "--owner", "ann",
                         "--scopes", "movement,communication", "--class", "mage",
                         "--rate", "2", *d)
    assert code == 0, err
    key = out.strip()
    assert key.startswith("aq_") and "\n" not in key and "shown only this once" in err
    found = store.find_key(key_id_of(key) or "")
    assert found is not None and verify_key(key, found[1])
    assert found[0].config == {"rate": 2.0, "cls": "mage"}
    assert found[0].scopes == ("communication", "movement")

    code, out, _ = run(capsys, "agent", "list", "--owner", "Ann", *d)
    assert code == 0 and "Scout" in out and (key_id_of(key) or "?") in out and key not in out
    code, out, _ = run(capsys, "agent", "list", "--json", *d)
    assert code == 0 and '"owner": "ann"' in out

    code, out, err = run(capsys, "agent", "rotate", "scout", *d)
    new_key = out.strip()
    assert code == 0 and new_key.startswith("aq_") and new_key != key
    old = store.find_key(key_id_of(key) or "")
    assert old is not None and old[2] is not None

    code, out, _ = run(capsys, "agent", "scopes", "scout", "combat", *d)
    assert code == 0 and "combat" in out
    code, out, _ = run(capsys, "agent", "config", "scout", "--burst", "3",
                       "--on-limit", "stop", *d)
    assert code == 0 and "burst=3" in out

    code, out, _ = run(capsys, "agent", "revoke", "scout", *d)
    assert code == 0 and (key_id_of(new_key) or "?") in out
    current = store.find_key(key_id_of(new_key) or "")
    assert current is not None and current[2] is not None


def test_cli_errors_are_clear(store: IdentityStore, data: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    d = ["--data-dir", str(data)]
    cases = [
        (["agent", "create", "Scout", "--owner", "nobody"], "No account named"),
        (["agent", "create", "Scout", "--owner", "ann", "--scopes", "flying"],
         "Unknown command category flying"),
        (["agent", "create", "Scout", "--owner", "ann", "--class", "pirate"], "No class"),
        (["agent", "create", "Scout", "--owner", "ann", "--rate", "-1"], "rate must be"),
        (["agent", "create", "Bob", "--owner", "ann"], "taken"),
        (["agent", "rotate", "ghost"], "No agent named"),
        (["agent", "revoke", "bob"], "No agent named"),
        (["agent", "scopes", "ghost", "combat"], "No agent named"),
        (["agent", "config", "ghost"], "nothing to change"),
    ]
    for argv, message in cases:
        code, out, err = run(capsys, *argv, *d)
        assert code == 2 and message in err and out == "", (argv, err)
