"""Edits, audit, bans and character flags against real databases (SQLite file, PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from pg import BACKENDS, database_url

from server.host.admin_storage import (
    AdminStore,
    AuditRecord,
    EditRecord,
    address_matches,
    touched_zones,
)
from server.host.storage import SqlRepository


@pytest.fixture(params=BACKENDS)
def repo(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlRepository]:
    """A migrated repository on the backend under test."""
    with database_url(request, tmp_path) as url:
        repository = SqlRepository(url)
        repository.migrate()
        yield repository
        repository.close()


@pytest.fixture
def store(repo: SqlRepository) -> AdminStore:
    return AdminStore(repo.engine)


def now() -> datetime:
    return datetime.now(UTC)


def edit(n: int, zone: str = "tower", also: str | None = None) -> EditRecord:
    """A room edit in `zone` (and, with `also`, an exit edit of a room in that zone)."""
    rid = f"{zone}:hall"
    after: dict[str, Any] = {"rooms": {rid: {"name": f"Hall «é» {n}", "description": "x"}}}
    if also:
        after["rooms"][f"{also}:gate"] = {"name": "Gate", "description": "y",
                                          "exits": {"up": rid}}
    return EditRecord("Bea", "room.set", rid, zone, {"rooms": {rid: None}}, after, now())


def names(records: list[EditRecord]) -> list[str]:
    return [next(iter(r.after["rooms"].values()))["name"] for r in records]


def test_edits_come_back_in_order_until_exported(store: AdminStore) -> None:
    assert store.write([edit(1), edit(2), edit(3, "moor")], []) > 0
    pending = store.pending_edits()
    assert [(e.zone, e.exported) for e in pending] == [("tower", ()), ("tower", ()),
                                                      ("moor", ())]
    assert names(pending) == ["Hall «é» 1", "Hall «é» 2", "Hall «é» 3"]  # unicode kept
    assert pending[0].at.tzinfo is not None
    assert [e.id for e in pending] == sorted(e.id for e in pending if e.id is not None)

    assert store.mark_exported("tower") == 2
    assert [e.zone for e in store.pending_edits()] == ["moor"]
    assert store.mark_exported("tower") == 0  # marked once
    store.write([edit(4)], [])
    assert [e.zone for e in store.pending_edits()] == ["moor", "tower"]


def test_an_edit_across_zones_waits_for_both(store: AdminStore) -> None:
    store.write([edit(1, "tower", also="haven")], [])
    assert store.pending_edits()[0].zones == {"tower", "haven"}
    assert store.mark_exported("tower") == 1
    (left,) = store.pending_edits()
    assert left.exported == ("tower",)  # still replayed, less the tower's part
    assert store.mark_exported("haven") == 1
    assert store.pending_edits() == []


def test_touched_zones() -> None:
    state = {"zones": {"crypt": {}}, "rooms": {"haven:square": None},
             "items": {"barrow:key": {}}, "mobs": {}, "resets": {"moor": []}}
    assert touched_zones(state) == {"crypt", "haven", "barrow", "moor"}
    assert touched_zones(None) == set() and touched_zones({"rooms": []}) == set()


def test_audit_filters_by_actor_action_family_and_time(store: AdminStore) -> None:
    old = now() - timedelta(days=2)
    store.write([], [
        AuditRecord("Ann", "ban", "bob", None, {"until": None}, "spam", old),
        AuditRecord("Ann", "room.set", "tower:hall", {"name": "a"}, {"name": "b"}, "", now()),
        AuditRecord("Bea", "room.dig", "tower:top", None, {"rooms": {}}, "", now()),
        AuditRecord("Bea", "roomy", "x", at=now()),
        AuditRecord("Ann", "mute", "bob", detail="flood", at=now()),
    ])
    newest_first = store.audit()
    assert [r.action for r in newest_first] == ["mute", "roomy", "room.dig", "room.set", "ban"]
    assert [r.action for r in store.audit(actor="ann")] == ["mute", "room.set", "ban"]
    assert [r.action for r in store.audit(action="room")] == ["room.dig", "room.set"]
    assert [r.action for r in store.audit(action="ban")] == ["ban"]
    assert [r.action for r in store.audit(actor="ANN", since=now() - timedelta(hours=1))] == [
        "mute", "room.set"]
    assert [r.action for r in store.audit(limit=2)] == ["mute", "roomy"]
    row = store.audit(action="room.set")[0].to_data()
    assert row["before"] == {"name": "a"} and row["after"] == {"name": "b"}
    assert row["at"].endswith("+00:00") and row["actor"] == "Ann"
    assert store.audit(actor="nobody") == []


def test_bans_by_account_and_address_with_an_end(store: AdminStore) -> None:
    assert store.active_ban("bob", "10.1.2.3") is None
    ban = store.add_ban("account", "bob", "spam", "Ann", None)
    assert ban.until is None and ban.lifted_at is None
    assert store.active_ban("Bob", None) == ban
    store.add_ban("address", "10.0.0.0/8", "bots", "Ann", now() + timedelta(hours=1))
    hit = store.active_ban(None, "10.1.2.3")
    assert hit is not None and hit.value == "10.0.0.0/8" and hit.until is not None
    assert store.active_ban("carl", "192.168.1.1") is None
    # An ended ban is no ban.
    store.add_ban("address", "192.168.1.1", "", "Ann", now() - timedelta(seconds=1))
    assert store.active_ban(None, "192.168.1.1") is None
    # Banning again replaces; lifting leaves the rows with lifted_at.
    store.add_ban("account", "bob", "again", "Ann", None)
    assert [b.reason for b in store.active_bans() if b.kind == "account"] == ["again"]
    lifted = store.lift_bans("account", "bob")
    assert [b.reason for b in lifted] == ["again"] and lifted[0].lifted_at is not None
    assert store.active_ban("bob", None) is None
    assert store.lift_bans("account", "bob") == []
    with store._session() as session:  # the record stays
        assert session.execute(sa.text("SELECT count(*) FROM bans")).scalar_one() == 4


def test_address_rules() -> None:
    assert address_matches("127.0.0.1", "127.0.0.1")
    assert not address_matches("127.0.0.1", "127.0.0.2")
    assert address_matches("203.0.113.0/24", "203.0.113.77")
    assert address_matches("::1", "::1")
    assert not address_matches("10.0.0.0/8", "::1")
    assert not address_matches("10.0.0.0/8", "not-an-address")


def test_character_flags_survive_saves(repo: SqlRepository, store: AdminStore) -> None:
    assert store.get_flags("bob") is None
    assert store.set_flag("bob", "muted", {"until": None}) is False  # no such character
    repo.create_account("Bob", "hash")
    snap = {"name": "Bob", "cls": "warrior", "room": "haven:square", "level": 1, "xp": 0}
    repo.save_characters([("bob", snap)])
    assert store.get_flags("BOB") == {}
    assert store.set_flag("bob", "muted", {"until": None, "by": "Ann"})
    repo.save_characters([("bob", {**snap, "xp": 5})])  # a save keeps the flags
    assert store.get_flags("bob") == {"muted": {"until": None, "by": "Ann"}}
    assert store.set_flag("bob", "muted", None)
    assert store.get_flags("bob") == {}
