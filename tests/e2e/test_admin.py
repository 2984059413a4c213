"""Roles, building that lasts, moderation and the audit log, end to end over real sockets.

Every test runs the real server in-process on free ports, with a real SQLite file and
a copy of content/ in tmp_path (so `zone export` writes there), and plays it with
real WebSocket clients. The first admin comes from the real `aegent user create`.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import FAST_HASH, StartServer, ws_url
from websockets.exceptions import ConnectionClosed
from wsclient import Client, auth_of, events

from server.app import Server
from server.config import Settings, default_content_dir
from server.host import accounts
from server.host import content as content_loader
from server.host.admin import REBOOT_EXIT_CODE
from server.host.admin_storage import AdminStore
from server.host.storage import SqlRepository
from world.building import export_zone
from world.commands.registry import REGISTRY, parse_line
from world.entities import Role
from world.game import World

AEGENT = [sys.executable, "-m", "server.cli"]
PASSWORD = "correct horse"


# ---- helpers ----------------------------------------------------------------------------


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    """A private copy of content/ (exports write into it)."""
    target = tmp_path / "content"
    shutil.copytree(default_content_dir(), target)
    return target


@pytest.fixture
def settings(tmp_path: Path, content_dir: Path) -> Settings:
    """The conftest settings, on the private content copy, with quick housekeeping."""
    return Settings(port=0, telnet_port=0, data_dir=tmp_path / "data", seed=7,
                    content_dir=content_dir, housekeeping_interval=0.1,
                    argon2_time_cost=FAST_HASH["argon2_time_cost"],
                    argon2_memory_kib=FAST_HASH["argon2_memory_kib"])


def cli_env(data: Path) -> dict[str, str]:
    return {**os.environ, "AEGENT_ARGON2_TIME_COST": "1", "AEGENT_ARGON2_MEMORY_KIB": "1024",
            "AEGENT_DATA_DIR": str(data)}


def user_create(data: Path, name: str, role: str) -> subprocess.CompletedProcess[str]:
    """The real `aegent user create`, the password on stdin."""
    return subprocess.run([*AEGENT, "user", "create", name, "--role", role, "--data-dir",
                           str(data)], input=PASSWORD + "\n", capture_output=True, text=True,
                          env=cli_env(data), timeout=60)


async def make_account(settings: Settings, name: str, role: str) -> None:
    """An account made straight in the database (quicker than the CLI; same result)."""
    def work() -> None:
        repo = SqlRepository(settings.resolved_database_url)
        repo.migrate()
        repo.create_account(name, password_hash, role)
        repo.close()

    hasher = accounts.Hasher(1, 1024, 1)
    password_hash = await hasher.hash(PASSWORD)
    hasher.close()
    await asyncio.to_thread(work)


async def connect(server: Server, name: str, *, register: bool = False,
                  sub: str = "aegent.json") -> Client:
    c = await Client.open(ws_url(server), sub)
    await c.recv()  # hello
    got = await (c.register(name, PASSWORD) if register else c.login(name, PASSWORD))
    assert auth_of(got)["ok"], got
    return c


async def ok(c: Client, line: str) -> list[Any]:
    got = await c.command(line)
    assert got[-1]["ok"], (line, got[-1])
    return got


async def refused(c: Client, line: str, code: str) -> list[Any]:
    got = await c.command(line)
    assert not got[-1]["ok"] and got[-1]["error"]["code"] == code, (line, got[-1])
    return got


async def closed(c: Client) -> list[Any]:
    """Everything until the server closes the connection."""
    got: list[Any] = []
    with pytest.raises(ConnectionClosed):
        while True:
            got.append(await c.recv())
    return got


async def wait_for(c: Client, name: str, text: str | None = None) -> dict[str, Any]:
    got = await c.until(lambda m: m.get("type") == "event" and m["name"] == name
                        and (text is None or text in m.get("text", "")))
    msg: dict[str, Any] = got[-1]
    return msg


async def login_answer(server: Server, name: str, *, register: bool = False) -> dict[str, Any]:
    c = await Client.open(ws_url(server), "aegent.json")
    await c.recv()
    got = await (c.register(name, PASSWORD) if register else c.login(name, PASSWORD))
    await c.close()
    return auth_of(got)


async def audit_rows(server: Server, **filters: Any) -> list[dict[str, Any]]:
    await server.admin.flush()
    rows = await server.in_db(server.admin.store.audit, filters.get("actor"),
                              filters.get("action"), None, 200)
    return [r.to_data() for r in rows]


def world_state(server: Server) -> dict[str, Any]:
    """What a refused command must not change: every zone as content, and the players
    (mobs wander and scavenge as time goes by, so they are left out)."""
    w = server.world
    return {
        "zones": {z: export_zone(w, z) for z in w.content.zones},
        "characters": sorted((c.name, c.room, str(c.role), c.muted, c.level, c.hp, c.gold,
                              [it.proto for it in c.inventory]) for c in w.characters.values()),
        "rooms": sorted(w.rooms),
    }


async def db_state(server: Server) -> dict[str, Any]:
    await server.admin.flush()

    def read() -> dict[str, Any]:
        with server.repo.engine.connect() as conn:
            out: dict[str, Any] = {}
            for table in ("world_edits", "audit", "bans"):
                out[table] = conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
            out["roles"] = sorted(conn.execute(sa.text("SELECT name, role FROM accounts")).all())
            out["flags"] = sorted(
                (n, str(f)) for n, f in conn.execute(sa.text("SELECT name, flags FROM characters")))
            return out

    return await server.in_db(read)


# ---- roles and building that lasts --------------------------------------------------------


async def test_cli_admin_makes_a_builder_whose_zone_survives_restarts_and_export(
        start_server: StartServer, settings: Settings, content_dir: Path) -> None:
    made = user_create(settings.data_dir, "Ada", "admin")
    assert made.returncode == 0 and "created Ada with role admin" in made.stdout, made.stderr
    server = await start_server()
    root = await connect(server, "Ada")
    bea = await connect(server, "Bea", register=True, sub="aegent.msgpack")
    await bea.send({"type": "tools"})
    tools = (await bea.until(lambda m: m.get("type") == "tools"))[-1]["tools"]
    assert "dig" not in {t["name"] for t in tools}
    await refused(bea, "dig north Nowhere", "forbidden")

    got = await ok(root, "promote bea builder")
    assert events(got, "moderated")[0]["data"] == {
        "action": "promote", "target": "Bea", "detail": {"role": "builder", "previous": "player"}}
    changed = await wait_for(bea, "role_changed")
    assert changed["data"] == {"role": "builder", "previous": "player", "by": "Ada"}
    tools = (await bea.until(lambda m: m.get("type") == "tools"))[-1]["tools"]
    names = {t["name"] for t in tools}
    assert {"dig", "zone", "set", "undo"} <= names and not {"ban", "promote"} & names
    assert (await server.in_db(server.repo.get_account, "bea")).role == "builder"  # type: ignore[union-attr]
    got = await ok(bea, "help")
    listed = {c["name"] for c in events(got, "help_shown")[0]["data"]["commands"]}
    assert "dig" in listed and "ban" not in listed

    # A small zone, built live.
    for line in ("zone create tower The Old Tower",
                 "rdesc Wind whistles through the arrow slits.",
                 "dig up Spiral Stair",
                 "door up add trapdoor",
                 "create item brass_bell a brass bell",
                 "set brass_bell weight 3",
                 "create mob tower_owl a tower owl",
                 "reset add mob tower_owl",
                 "up",
                 "rname Top of the Stair",
                 "rflag safe"):
        if line == "up":
            await ok(bea, "open trapdoor")
        await ok(bea, line)
    built = export_zone(server.world, "tower")
    assert set(built["rooms"]) == {"entrance", "spiral_stair"}
    assert built["rooms"]["spiral_stair"]["name"] == "Top of the Stair"
    assert built["items"]["brass_bell"]["weight"] == 3
    rows = await audit_rows(server, actor="bea")
    assert {"zone.create", "room.dig", "door.set", "proto.create", "proto.set", "reset.add",
            "room.set"} <= {r["action"] for r in rows}
    dig = next(r for r in rows if r["action"] == "room.dig")
    assert dig["target"] == "tower:spiral_stair" and dig["after"]["rooms"]
    assert (await audit_rows(server, action="promote"))[0]["before"] == {"role": "player"}
    await root.close()
    await bea.close()

    # Restart: shut down, a new server on the same data and content.
    await server.shutdown("restart")
    server = await start_server()
    assert server.admin.replayed >= 10
    assert export_zone(server.world, "tower") == built
    bea = await connect(server, "Bea")
    got = await ok(bea, "look")
    assert events(got, "room")[0]["data"]["id"] == "tower:spiral_stair"
    assert server.world.find_online("Bea").role is Role.BUILDER  # type: ignore[union-attr]

    # Export: the file holds it all; the loader reads it back equal.
    got = await ok(bea, "zone export tower")
    exported = events(got, "zone_exported")[0]["data"]
    path = Path(exported["path"])
    assert path == content_dir / "zones" / "tower.yaml" and path.is_file()
    assert exported["counts"]["rooms"] == 2
    text = path.read_text()
    assert text.startswith("# Zone tower") and "brass_bell:" in text and "{" not in text
    reloaded = World(content_loader.load(content_dir), seed=1)
    assert export_zone(reloaded, "tower") == export_zone(server.world, "tower") == built
    assert await server.in_db(server.admin.store.pending_edits) == []
    # An edit after the export is replayed over the file at the next start.
    await ok(bea, "rname Stair Top")
    await bea.close()
    await server.shutdown("restart")
    server = await start_server()
    assert server.admin.replayed == 1  # only the one since the export
    assert server.world.content.rooms["tower:spiral_stair"].name == "Stair Top"
    assert export_zone(server.world, "tower")["items"] == built["items"]


async def test_reload_content_keeps_unexported_edits_and_refuses_broken_files(
        start_server: StartServer, settings: Settings, content_dir: Path) -> None:
    await make_account(settings, "Ada", "admin")
    server = await start_server()
    root = await connect(server, "Ada")
    await ok(root, "zone create crypt The Crypt")
    before = world_state(server)
    got = await ok(root, "reload content")
    assert events(got, "content_reloaded") and events(got, "moderated")
    assert world_state(server)["zones"] == before["zones"]  # the crypt is still there
    (content_dir / "zones" / "haven.yaml").write_text("zone: {id: haven}\nrooms: []\n")
    got = await refused(root, "reload content", "bad_content")
    assert "haven.yaml" in got[-1]["error"]["message"]
    assert world_state(server)["zones"] == before["zones"]
    rows = await audit_rows(server, action="reload")
    assert [r["detail"][:8] for r in rows] == ["refused:", ""]


async def test_a_player_is_refused_every_builder_and_admin_command(
        start_server: StartServer, settings: Settings) -> None:
    await make_account(settings, "Ada", "admin")
    server = await start_server(rate=1000.0, burst=1000)  # hundreds of commands, at once
    root = await connect(server, "Ada")
    pat = await connect(server, "Pat", register=True)
    await ok(root, "say hello Pat")
    await wait_for(pat, "said")
    specs = [s for s in REGISTRY.specs.values() if s.role is not Role.PLAYER]
    assert len(specs) >= 25
    world_before, db_before = world_state(server), await db_state(server)
    for spec in specs:
        lines = [*spec.examples] or [spec.name]
        for line in lines:
            got = await refused(pat, line, "forbidden")
            assert [m for m in got if m.get("type") == "event"] == [], line
            _, args = parse_line(line)
            plain = {k: v.value if isinstance(v, Enum) else v for k, v in args.items()}
            got = await pat.call(spec.name, **plain)
            assert got[-1]["error"]["code"] == "forbidden", (spec.name, plain)
        got = await pat.call(spec.name)  # no arguments at all: still only `forbidden`
        assert got[-1]["error"]["code"] == "forbidden", spec.name
    assert world_state(server) == world_before
    assert await db_state(server) == db_before
    # Nor does a player see them.
    await pat.send({"type": "tools", "id": "t"})
    tools = (await pat.until(lambda m: m.get("type") == "tools"))[-1]["tools"]
    assert {t["role"] for t in tools} == {"player"}


# ---- moderation -----------------------------------------------------------------------------


async def test_disconnect_saves_and_closes_and_force_and_announce(
        start_server: StartServer, settings: Settings) -> None:
    await make_account(settings, "Ada", "admin")
    await make_account(settings, "Olga", "admin")
    server = await start_server()
    root = await connect(server, "Ada")
    olga = await connect(server, "Olga")
    bob = await connect(server, "Bob", register=True)
    cara = await connect(server, "Cara", register=True, sub="aegent.msgpack")

    got = await ok(root, "announce The bridge is open again.")
    for c in (bob, cara, olga):
        note = await wait_for(c, "message", "announces")
        assert note["data"] == {"text": "Ada announces: The bridge is open again.",
                                "level": "notice"}

    got = await ok(root, "force bob say I was made to say this")
    assert events(got, "moderated")[0]["data"]["detail"] == {
        "line": "say I was made to say this", "ok": True, "error": None}
    assert "Ada forces you to" in (await wait_for(bob, "message"))["data"]["text"]
    said = await wait_for(cara, "said")
    assert said["data"]["actor"] == "Bob" and said["data"]["text"] == "I was made to say this"
    got = await ok(root, "force bob fly away")
    assert events(got, "moderated")[0]["data"]["detail"]["error"] == "unknown_command"
    await refused(root, "force olga look", "bad_target")

    got = await ok(root, "disconnect bob spamming the square")
    assert events(got, "moderated")[0]["data"]["detail"] == {"reason": "spamming the square"}
    left = await closed(bob)
    texts = [m["data"]["text"] for m in events(left, "message")]
    assert any("thrown you out" in t and "spamming the square" in t for t in texts)
    assert server.world.find_online("Bob") is None
    assert await server.in_db(server.repo.load_character, "bob") is not None
    await refused(root, "disconnect bob", "not_here")
    await refused(root, "disconnect olga", "bad_target")
    assert (await login_answer(server, "Bob"))["ok"]  # a kick is no ban

    rows = await audit_rows(server, actor="ada")
    assert [r["action"] for r in rows] == ["kick", "force", "force", "announce"]
    assert rows[0]["target"] == "Bob" and rows[0]["detail"] == "spamming the square"
    assert rows[2]["detail"] == "say I was made to say this (ok)"


async def test_account_ban_kicks_refuses_login_expires_and_lifts(
        start_server: StartServer, settings: Settings) -> None:
    await make_account(settings, "Ada", "admin")
    server = await start_server()
    root = await connect(server, "Ada")
    bob = await connect(server, "Bob", register=True)
    got = await ok(root, "ban bob 1h spamming")
    detail = events(got, "moderated")[0]["data"]["detail"]
    assert detail["kind"] == "account" and detail["kicked"] == ["Bob"]
    assert detail["reason"] == "spamming" and detail["until"]
    left = await closed(bob)
    assert any("banned" in m["data"]["text"] for m in events(left, "message"))
    answer = await login_answer(server, "Bob")
    assert answer["ok"] is False and answer["error"]["code"] == "banned"
    assert "spamming" in answer["error"]["message"] and "until" in answer["error"]["message"]
    await refused(root, "ban nobody", "not_here")
    await refused(root, "ban ada", "bad_target")

    await ok(root, "unban bob")
    assert (await login_answer(server, "Bob"))["ok"]
    await refused(root, "unban bob", "not_here")

    # A ban with an end: refused now, let in once it is over.
    await ok(root, "ban bob 2s")
    assert (await login_answer(server, "Bob"))["error"]["code"] == "banned"
    bans = await server.admin.bans()
    assert bans and bans[0].until is not None
    await asyncio.sleep(max(0.0, (bans[0].until - bans[0].at).total_seconds()) + 0.2)
    assert (await login_answer(server, "Bob"))["ok"]
    rows = await audit_rows(server, action="ban")
    assert len(rows) == 2 and rows[-1]["after"]["value"] == "bob"
    assert [r["action"] for r in await audit_rows(server, action="unban")] == ["unban"]


async def test_address_ban_spares_admins(start_server: StartServer, settings: Settings) -> None:
    await make_account(settings, "Ada", "admin")
    server = await start_server()
    root = await connect(server, "Ada")
    bob = await connect(server, "Bob", register=True)
    got = await ok(root, "ban 127.0.0.1 perm bots from here")
    detail = events(got, "moderated")[0]["data"]["detail"]
    assert detail["kind"] == "address" and detail["until"] is None and detail["kicked"] == ["Bob"]
    await closed(bob)
    await ok(root, "look")  # the admin on the same address stays
    for answer in (await login_answer(server, "Bob"),
                   await login_answer(server, "Carl", register=True)):
        assert answer["error"]["code"] == "banned"
        assert "address" in answer["error"]["message"].lower()
    root = await connect(server, "Ada")  # an admin still gets in (taking the session over)
    await refused(root, "ban 999.1.1.1", "bad_args")
    await ok(root, "unban 127.0.0.1")
    assert (await login_answer(server, "Bob"))["ok"]


async def test_mute_persists_until_unmuted_or_over(start_server: StartServer,
                                                   settings: Settings) -> None:
    await make_account(settings, "Ada", "admin")
    server = await start_server()
    root = await connect(server, "Ada")
    bob = await connect(server, "Bob", register=True, sub="aegent.msgpack")
    await ok(root, "mute bob 1h flooding")
    note = await wait_for(bob, "message", "muted")
    assert "flooding" in note["data"]["text"]
    for line in ("say hi", "shout hi", "emote waves", "tell ada hi", "gtell hi"):
        await refused(bob, line, "muted")
    got = await bob.call("say", text="hi")
    assert got[-1]["error"]["code"] == "muted"
    await ok(bob, "look")
    # Still muted after quitting and coming back.
    await ok(bob, "quit")
    await bob.close()
    bob = await connect(server, "Bob")
    await refused(bob, "say hi", "muted")
    flags = await server.in_db(server.admin.store.get_flags, "bob")
    assert flags is not None and flags["muted"]["by"] == "Ada"
    await ok(root, "unmute bob")
    await wait_for(bob, "message", "unmuted")
    await ok(bob, "say free again")
    await refused(root, "unmute bob", "already")
    await refused(root, "mute ada", "bad_target")
    # A mute with an end ends by itself.
    await ok(root, "mute bob 1s")
    await refused(bob, "say hi", "muted")
    await wait_for(bob, "message", "mute has ended")
    await ok(bob, "say and again")
    assert await server.in_db(server.admin.store.get_flags, "bob") == {}
    actions = [(r["actor"], r["action"]) for r in await audit_rows(server, action="unmute")]
    assert actions == [("system", "unmute"), ("Ada", "unmute")]


async def test_snoop_copies_what_a_player_gets_until_stopped(
        start_server: StartServer, settings: Settings) -> None:
    await make_account(settings, "Ada", "admin")
    await make_account(settings, "Olga", "admin")
    server = await start_server()
    root = await connect(server, "Ada", sub="aegent.msgpack")
    olga = await connect(server, "Olga")
    bob = await connect(server, "Bob", register=True)
    cara = await connect(server, "Cara", register=True)
    await refused(root, "snoop olga", "bad_target")
    await refused(root, "snoop", "bad_args")
    await ok(root, "snoop bob")
    await ok(bob, "say anyone here?")
    await ok(cara, "tell bob over here")
    got = await root.command("look")
    copies = [(m["data"]["input"], m["data"]["text"]) for m in events(got, "snooped")]
    assert (True, "say anyone here?") in copies
    assert (False, "You say, 'anyone here?'") in copies
    assert (False, "Cara tells you, 'over here'") in copies
    assert all(m["data"]["target"] == "Bob" for m in events(got, "snooped"))
    await ok(root, "snoop")
    await ok(bob, "say now alone")
    got = await root.command("look")
    assert events(got, "snooped") == []
    await ok(olga, "snoop cara")
    await cara.close()
    assert "snoop ends" in (await wait_for(olga, "message"))["data"]["text"]
    assert [r["action"] for r in await audit_rows(server, actor="ada")] == ["unsnoop", "snoop"]


async def test_shutdown_counts_down_and_saves(start_server: StartServer,
                                              settings: Settings) -> None:
    await make_account(settings, "Ada", "admin")
    server = await start_server()
    root = await connect(server, "Ada")
    bob = await connect(server, "Bob", register=True)
    await ok(bob, "north")
    room = server.world.find_online("Bob").room  # type: ignore[union-attr]
    await ok(root, "shutdown 30 not now")
    await ok(root, "shutdown cancel")
    assert "called off" in (await wait_for(bob, "message", "called off"))["data"]["text"]
    await refused(root, "shutdown cancel", "bad_args")
    await ok(root, "shutdown 2 maintenance")
    left = await closed(bob)
    texts = [m["data"]["text"] for m in events(left, "message")]
    assert [t for t in texts if "server" in t] == [
        "The server shuts down in 2 seconds (maintenance).",
        "The server shuts down in 1 second.",
        "The server is shutting down now. Your character is saved; see you soon."]
    await asyncio.wait_for(server.stopped.wait(), 10)
    assert server.exit_code == 0
    repo = SqlRepository(settings.resolved_database_url)
    try:
        assert (repo.load_character("bob") or {})["room"] == room
        store = AdminStore(repo.engine)
        assert [r.action for r in store.audit(actor="ada")] == ["shutdown", "cancel",
                                                                  "shutdown"]
    finally:
        repo.close()


async def test_reboot_exits_with_its_own_status(tmp_path: Path) -> None:
    """A real `aegent serve` process, a fresh data dir, an admin from `aegent user create`."""
    data = tmp_path / "data"
    assert user_create(data, "Ada", "admin").returncode == 0
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([*AEGENT, "serve", "--port", str(port), "--telnet-port", "0"],
                            env={**cli_env(data), "AEGENT_SEED": "3",
                                 "AEGENT_PARENT_PID": str(os.getpid())},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for _ in range(400):
            try:
                c = await Client.open(f"ws://127.0.0.1:{port}/ws", "aegent.json")
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                await asyncio.sleep(0.05)
        await c.recv()
        assert auth_of(await c.login("Ada", PASSWORD))["character"]["role"] == "admin"
        await ok(c, "reboot now")
        await closed(c)
        _, err = await asyncio.to_thread(proc.communicate, timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == REBOOT_EXIT_CODE == 75, err.decode()


async def test_audit_reads_with_filters(start_server: StartServer, settings: Settings) -> None:
    await make_account(settings, "Ada", "admin")
    server = await start_server()
    root = await connect(server, "Ada")
    await connect(server, "Bob", register=True)
    await ok(root, "mute bob 1h")
    await ok(root, "unmute bob")
    await ok(root, "announce hello")
    got = await ok(root, "audit")
    listed = events(got, "audit_listed")[0]["data"]
    assert [r["action"] for r in listed["rows"]] == ["announce", "unmute", "mute"]
    assert listed["filters"] == {"who": None, "action": None, "since": None, "limit": 50}
    row = listed["rows"][2]
    assert row["actor"] == "Ada" and row["target"] == "Bob" and row["after"]["by"] == "Ada"
    assert "mute" in events(got, "audit_listed")[0]["text"]
    got = await ok(root, "audit ada mute 1h")
    assert [r["action"] for r in events(got, "audit_listed")[0]["data"]["rows"]] == ["mute"]
    got = await root.call("audit", who="bob")
    assert events(got, "audit_listed")[0]["data"]["rows"] == []
    got = await ok(root, "audit - unmute 2000-01-01")
    assert [r["action"] for r in events(got, "audit_listed")[0]["data"]["rows"]] == ["unmute"]
    await refused(root, "audit - - someday", "bad_args")


def comment_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.lstrip().startswith("#")]


async def test_zone_export_keeps_the_files_comments_and_tutorial_header(
        start_server: StartServer, settings: Settings, content_dir: Path) -> None:
    """`zone export` over a hand-written zone file (ruamel.yaml round trip): every comment,
    the TUTORIAL header first, stays where it was; the edit is in; the loader reads it
    back equal to the live zone."""
    path = content_dir / "zones" / "haven.yaml"
    before = path.read_text()
    assert before.startswith("# TUTORIAL:") and len(comment_lines(before)) > 50
    await make_account(settings, "Ada", "admin")
    server = await start_server()
    ada = await connect(server, "Ada")
    await ok(ada, "rname The Renamed Square")
    got = await ok(ada, "zone export haven")
    assert Path(events(got, "zone_exported")[0]["data"]["path"]) == path
    await ada.close()
    after = path.read_text()
    assert after.startswith(before.split("\n", 1)[0])
    assert comment_lines(after) == comment_lines(before)
    assert "name: The Renamed Square" in after
    reloaded = World(content_loader.load(content_dir), seed=1)
    assert export_zone(reloaded, "haven") == export_zone(server.world, "haven")
