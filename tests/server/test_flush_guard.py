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
