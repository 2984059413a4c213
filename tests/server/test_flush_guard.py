"""The durability flush never writes a snapshot older than one written through meanwhile
(server/app.py `Server.flush_dirty`): a gift or a sale that lands between the flush's
snapshot and its write keeps its newer state on disk."""

from __future__ import annotations

from typing import Any

from conftest import StartServer, ws_url
from wsclient import Client

from server.app import Server
from world.events import GoldChanged


async def test_a_write_through_during_the_flush_is_not_overwritten(start_server: StartServer
                                                                   ) -> None:
    server: Server = await start_server(dirty_save_interval=3600.0)  # we run the flush
    ann = await Client.open(ws_url(server), "aegent.json")
    await ann.register("Ann")
    await ann.command("north")  # Ann changed: the flush has her to write
    ch = server.world.characters["ann"]
    real = server.snapshots
    state = {"armed": True}

    def snapshots(characters: Any) -> list[tuple[str, dict[str, Any]]]:
        taken = real(characters)
        if state["armed"] and any(c is ch for c in characters):
            state["armed"] = False
            # Between the flush's snapshot of Ann and its write: she is paid, and the
            # economy write-through saves her at once with the new gold.
            ch.gold = 777
            server.world.emit_to(ch, GoldChanged(777, 777, "reward"))
            server.route()
        return taken

    server.snapshots = snapshots  # type: ignore[method-assign]
    await server.flush_dirty()
    assert not state["armed"], "the flush never took Ann's snapshot"
    stored = await server.in_db(server.repo.load_character, "Ann")
    assert stored is not None and stored["gold"] == 777  # not the flush's older 0
    await ann.close()


async def test_without_changes_a_flush_writes_nothing(start_server: StartServer) -> None:
    server = await start_server(dirty_save_interval=3600.0)
    before = server.saved
    await server.flush_dirty()
    assert server.saved == before


async def test_the_flush_writes_who_changed_not_who_only_heard(start_server: StartServer
                                                               ) -> None:
    server: Server = await start_server(dirty_save_interval=3600.0)  # we run the flush
    ann = await Client.open(ws_url(server), "aegent.json")
    bob = await Client.open(ws_url(server), "aegent.json")
    await ann.register("Ann")
    await bob.register("Bob")
    await server.flush_dirty()  # both written once: the flush knows their state now
    await ann.command("say hello")  # Bob hears it, Ann speaks: neither changes
    await bob.until(lambda m: m.get("name") == "said")
    before = server.saved
    await server.flush_dirty()
    assert server.saved == before  # nothing written: the same state, but for time played
    await ann.command("north")  # Ann moves (Bob sees her go): only Ann changed
    await bob.until(lambda m: m.get("name") == "departed")
    await server.flush_dirty()
    assert server.saved == before + 1
    stored = await server.in_db(server.repo.load_character, "Ann")
    assert stored is not None and stored["room"] == server.world.characters["ann"].room
    for c in (ann, bob):
        await c.close()


def test_same_state_ignores_only_the_time_played() -> None:
    from server.app import same_state

    snap = {"room": "a", "gold": 3, "played_ticks": 10, "inventory": [{"proto": "x"}]}
    assert same_state(dict(snap, played_ticks=99), snap)
    assert not same_state(None, snap)
    assert not same_state(dict(snap, gold=4), snap)
    assert not same_state(dict(snap, inventory=[]), snap)
    assert not same_state({**snap, "extra": 1}, snap)


async def test_hearing_someone_talk_or_walk_takes_no_snapshot(start_server: StartServer
                                                              ) -> None:
    """In a crowd nearly every event is a say, an arrival or a departure: those who only
    hear one are not even snapshotted by the flush (`HEARD_ONLY`), the speaker and the
    walker are."""
    server: Server = await start_server(dirty_save_interval=3600.0)  # we run the flush
    ann = await Client.open(ws_url(server), "aegent.json")
    bob = await Client.open(ws_url(server), "aegent.json")
    await ann.register("Ann")
    await bob.register("Bob")
    await server.flush_dirty()
    taken: list[str] = []
    real = server.snapshots

    def snapshots(characters: Any) -> list[tuple[str, dict[str, Any]]]:
        chars = list(characters)
        taken.extend(c.name for c in chars)
        return real(chars)

    server.snapshots = snapshots  # type: ignore[method-assign]
    await ann.command("say hello")
    await bob.until(lambda m: m.get("name") == "said")
    await ann.command("north")
    await bob.until(lambda m: m.get("name") == "departed")
    await server.flush_dirty()
    assert taken == ["Ann"]
    await ann.close()
    await bob.close()
