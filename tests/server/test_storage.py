"""Storage against real databases: an SQLite file and a throwaway PostgreSQL server.

Every test runs on both backends. PostgreSQL tests each get a database of their own,
so they are as independent as the SQLite ones (a file in `tmp_path`).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from pg import BACKENDS, database_url

import server.host.identity_storage  # noqa: F401  (registers api_keys)
import server.host.usage_storage  # noqa: F401  (registers agent_usage, budgets)
from server.host.storage import (
    AccountNotFound,
    AccountRecord,
    AccountRow,
    CharacterRow,
    NameTaken,
    Repository,
    SqlRepository,
    alembic_config,
)


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database of the backend under test."""
    with database_url(request, tmp_path) as url:
        yield url


@pytest.fixture
def repo(db_url: str) -> Iterator[SqlRepository]:
    """A migrated repository, closed afterwards."""
    repository = SqlRepository(db_url)
    repository.migrate()
    try:
        yield repository
    finally:
        repository.close()


def snapshot(name: str, **changes: Any) -> dict[str, Any]:
    """A snapshot shaped like `World.snapshot`'s, with nested JSON values."""
    data: dict[str, Any] = {
        "name": name,
        "cls": "warrior",
        "room": "limbo:white",
        "level": 1,
        "xp": 0,
        "hp": 20,
        "max_hp": 20,
        "title": None,
        "description": "A wanderer, «pas très» sûr.",
        "played_ticks": 123,
        "position": "standing",
        "inventory": [{"proto": "limbo:sword"}, {"proto": "limbo:bread"}],
        "flags": {"tutorial_done": True, "ratio": 0.5},
    }
    data.update(changes)
    return data


def count_rows(url: str, table: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())
    finally:
        engine.dispose()


def test_sql_repository_satisfies_the_protocol(repo: SqlRepository) -> None:
    repository: Repository = repo
    assert repository.count_accounts() == 0


def test_migrate_twice_is_idempotent_and_stamps_head(repo: SqlRepository) -> None:
    repo.create_account("Keeper", "h")
    repo.migrate()
    again = SqlRepository(repo.url)
    try:
        again.migrate()
        assert again.count_accounts() == 1
    finally:
        again.close()

    head = ScriptDirectory.from_config(alembic_config(repo.url)).get_current_head()
    assert head == "0006"
    with repo.engine.connect() as conn:
        versions = conn.execute(sa.text("SELECT version_num FROM alembic_version")).all()
    assert versions == [(head,)]


def test_migration_matches_the_models(repo: SqlRepository) -> None:
    ours = {AccountRow.__tablename__, CharacterRow.__tablename__, "world_edits", "audit", "bans",
            "api_keys", "agent_usage", "budgets", "a2a_agents", "world_snapshots"}
    with repo.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, AccountRow.metadata)
    mine = [d for d in diffs if _table_of(d) in ours or _table_of(d) is None]
    assert mine == []


def _table_of(diff: Any) -> str | None:
    """The table a compare_metadata entry is about (entries are tuples or lists)."""
    kind, *rest = diff[0] if isinstance(diff, list) else diff
    for part in rest:
        if isinstance(part, sa.Table):
            return part.name
        if isinstance(part, sa.Index | sa.Constraint) and part.table is not None:
            return str(part.table.name)
    if kind in ("add_column", "remove_column") or kind.startswith("modify_"):
        return str(rest[1])
    return None


def test_create_and_get_account_ignore_letter_case(repo: SqlRepository) -> None:
    created = repo.create_account("Hero", "hash-1")
    assert created == AccountRecord("hero", "Hero", "hash-1", "player")
    assert repo.get_account("hero") == created
    assert repo.get_account("HERO") == created
    assert repo.get_account("nobody") is None
    builder = repo.create_account("Mason", "hash-2", role="builder")
    assert builder.role == "builder"
    assert repo.count_accounts() == 2


def test_duplicate_name_raises_name_taken(repo: SqlRepository) -> None:
    repo.create_account("Hero", "hash-1")
    with pytest.raises(NameTaken):
        repo.create_account("hero", "hash-2")
    with pytest.raises(NameTaken):
        repo.create_account("HERO", "hash-3")
    assert repo.count_accounts() == 1
    assert repo.get_account("Hero") == AccountRecord("hero", "Hero", "hash-1", "player")


def test_insert_race_is_reported_as_name_taken(
    repo: SqlRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.create_account("Hero", "hash-1")
    # Another writer got there between our check and our insert: the check misses.
    monkeypatch.setattr(SqlRepository, "find_account", _miss_first_lookup())
    with pytest.raises(NameTaken):
        repo.create_account("hero", "hash-2")
    assert repo.count_accounts() == 1


def _miss_first_lookup() -> Any:
    real = SqlRepository.find_account
    calls = 0

    def find(session: Any, key: str) -> AccountRow | None:
        nonlocal calls
        calls += 1
        return None if calls == 1 else real(session, key)

    return staticmethod(find)


def test_set_password_role_and_touch_login(repo: SqlRepository) -> None:
    repo.create_account("Hero", "old")
    repo.set_password("HERO", "new")
    repo.set_role("hero", "admin")
    assert repo.get_account("hero") == AccountRecord("hero", "Hero", "new", "admin")

    with repo.engine.connect() as conn:
        before = conn.execute(sa.text("SELECT last_login_at FROM accounts")).scalar_one()
    repo.touch_login("Hero")
    with repo.engine.connect() as conn:
        after = conn.execute(sa.text("SELECT last_login_at FROM accounts")).scalar_one()
    assert before is None and after is not None

    with pytest.raises(AccountNotFound):
        repo.set_password("ghost", "x")
    with pytest.raises(AccountNotFound):
        repo.set_role("ghost", "admin")
    with pytest.raises(AccountNotFound):
        repo.touch_login("ghost")


def test_saved_characters_survive_a_restart(repo: SqlRepository) -> None:
    repo.create_account("Alice", "h")
    repo.create_account("Bob", "h")
    saved = [
        ("alice", snapshot("Aria", level=3, xp=450)),
        ("ALICE", snapshot("Brannoc", cls="mage", room="forest:glade")),
        ("Bob", snapshot("Cora", cls="cleric", inventory=[])),
    ]
    assert repo.save_characters(saved) == 3
    url = repo.url
    repo.close()

    restarted = SqlRepository(url)
    try:
        restarted.migrate()
        for _, snap in saved:
            assert restarted.load_character(snap["name"]) == snap
        assert restarted.load_character("aria") == saved[0][1]
        assert restarted.load_character("nobody") is None
    finally:
        restarted.close()


def test_saving_again_updates_instead_of_duplicating(repo: SqlRepository) -> None:
    repo.create_account("Alice", "h")
    first = [("alice", snapshot(name)) for name in ("Aria", "Brannoc", "Cora")]
    assert repo.save_characters(first) == 3

    aria = snapshot("Aria", level=4, xp=900, room="forest:glade", inventory=[])
    assert repo.save_characters([("alice", aria)]) == 1
    assert count_rows(repo.url, "characters") == 3
    assert repo.load_character("Aria") == aria
    assert repo.load_character("Cora") == first[2][1]

    # The same name twice in a batch: the last snapshot wins, one row.
    older, newer = snapshot("Dain", xp=1), snapshot("Dain", xp=2)
    assert repo.save_characters([("alice", older), ("alice", newer)]) == 1
    assert repo.load_character("dain") == newer
    assert count_rows(repo.url, "characters") == 4
    with repo.engine.connect() as conn:
        row = conn.execute(
            sa.text("SELECT level, xp, room FROM characters WHERE name = 'aria'")
        ).one()
    assert tuple(row) == (4, 900, "forest:glade")


def test_saved_snapshot_is_a_copy(repo: SqlRepository) -> None:
    repo.create_account("Alice", "h")
    snap = snapshot("Aria")
    kept = copy.deepcopy(snap)
    repo.save_characters([("alice", snap)])
    loaded = repo.load_character("Aria")
    assert loaded == kept
    assert loaded is not None
    loaded["inventory"].clear()
    assert repo.load_character("Aria") == kept


def test_a_bad_batch_writes_nothing(repo: SqlRepository) -> None:
    repo.create_account("Alice", "h")
    repo.create_account("Bob", "h")
    repo.save_characters([("bob", snapshot("Cora"))])

    with pytest.raises(AccountNotFound):
        repo.save_characters([("alice", snapshot("Aria")), ("ghost", snapshot("Brannoc"))])
    with pytest.raises(NameTaken):
        repo.save_characters([("alice", snapshot("Aria")), ("alice", snapshot("Cora"))])
    with pytest.raises(ValueError, match="xp"):
        repo.save_characters([("alice", snapshot("Aria")), ("alice", snapshot("B", xp="1"))])
    bad = snapshot("Brannoc")
    del bad["room"]
    with pytest.raises(ValueError, match="room"):
        repo.save_characters([("alice", snapshot("Aria")), ("alice", bad)])

    assert repo.load_character("Aria") is None
    assert count_rows(repo.url, "characters") == 1
    assert repo.save_characters([]) == 0
