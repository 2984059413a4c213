"""Attacks on the ways in, over real sockets with real argon2: each is answered.

Parallel wrong passwords, API-key guesses and `password` commands are checked at most
`login_fail_limit` times (an attempt counts as a failure while it is checked); an attack
on a name from elsewhere never shuts out its owner's known address; password checks
in progress are bounded per address (`throttled`) and in all (`busy`); registrations
are limited per address and overall, those in flight included; a character made and
dropped before its first command leaves at once; snooping admins never see a password.

Clients come from several loopback addresses (127.0.0.2, 127.0.0.3...: all loopback on
Linux). To have every attempt in flight at once without timing, a test holds the
hasher's workers (or the database thread) busy while it sends them: whatever the
server refuses "at once" is answered while nothing can be checked.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator
from concurrent.futures import Executor
from typing import Any

from conftest import StartServer, ws_url
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol
from wsclient import TIMEOUT, Client, auth_of, events

from server.app import Server

WRONG = "not the password"
RIGHT = "correct horse"


async def client_from(server: Server, address: str = "127.0.0.1") -> Client:
    """A JSON client connecting from `address` (a loopback address), past its hello."""
    ws = await connect(ws_url(server), subprotocols=[Subprotocol("aegent.json")],
                       open_timeout=TIMEOUT, max_size=None, local_addr=(address, 0))
    client = Client(ws, "aegent.json")
    await client.until(lambda m: m.get("type") == "hello")
    return client


async def auth_reply(client: Client) -> dict[str, Any]:
    """The next `auth` answer of `client`."""
    return auth_of(await client.until(lambda m: m.get("type") == "auth"))


async def login(client: Client, name: str, password: str) -> dict[str, Any]:
    await client.send({"type": "login", "name": name, "password": password})
    return await auth_reply(client)


async def send_in_order(client: Client, msg: dict[str, Any]) -> None:
    """Send `msg`, then a ping, and wait for the pong: the server has read `msg` and
    started on it before it reads anything sent after this returns."""
    await client.send(msg)
    mid = client.next_id()
    await client.send({"type": "ping", "id": mid})
    await client.until(lambda m: m.get("type") == "pong" and m.get("id") == mid)


def code(auth: dict[str, Any]) -> str | None:
    return None if auth["ok"] else str(auth["error"]["code"])


@contextlib.asynccontextmanager
async def holding(pool: Executor, workers: int) -> AsyncIterator[threading.Event]:
    """Keep the `workers` threads of `pool` busy until the yielded event is set (or the
    block ends): work submitted meanwhile waits in the pool's queue."""
    release, started = threading.Event(), threading.Semaphore(0)

    def block() -> None:
        started.release()
        release.wait(TIMEOUT * 3)

    futures = [pool.submit(block) for _ in range(workers)]
    try:
        for _ in range(workers):
            assert await asyncio.to_thread(started.acquire, True, TIMEOUT)
        yield release
    finally:
        release.set()
        for future in futures:
            await asyncio.wrap_future(future)


async def answered_while_held(tasks: list[asyncio.Task[dict[str, Any]]], count: int
                              ) -> list[dict[str, Any]]:
    """Wait until `count` of `tasks` have an answer (nothing can be checked meanwhile)."""
    done: set[asyncio.Task[dict[str, Any]]] = set()
    pending = set(tasks)
    while len(done) < count:
        finished, pending = await asyncio.wait(pending, timeout=TIMEOUT,
                                               return_when=asyncio.FIRST_COMPLETED)
        assert finished, f"only {len(done)} of {count} were answered at once"
        done |= finished
    return [task.result() for task in done]


async def test_parallel_wrong_passwords_are_checked_at_most_the_limit(
        start_server: StartServer) -> None:
    server = await start_server(login_fail_limit=5, login_fail_delay=60.0,
                                max_connections_per_address=100,
                                auth_inflight_per_address=100, auth_queue_max=100)
    owner = await client_from(server)
    assert auth_of(await owner.register("Ann", RIGHT))["ok"]
    await owner.close()
    attackers = [await client_from(server) for _ in range(40)]
    checked = server.hasher.verifications
    async with holding(server.hasher._pool, server.hasher.workers) as release:
        for c in attackers:
            await c.send({"type": "login", "name": "Ann", "password": WRONG})
        tasks = [asyncio.create_task(auth_reply(c)) for c in attackers]
        at_once = await answered_while_held(tasks, 35)
        assert {code(a) for a in at_once} == {"throttled"}
        assert "try again in" in at_once[0]["error"]["message"]
        release.set()
        answers = await asyncio.gather(*tasks)
    assert sorted(str(code(a)) for a in answers) == ["auth_failed"] * 5 + ["throttled"] * 35
    assert server.hasher.verifications - checked == 5  # argon2 ran 5 times, not 40
    for c in attackers:
        await c.close()


async def test_an_attack_on_a_name_never_shuts_out_its_owners_address(
        start_server: StartServer) -> None:
    # Was: five wrong passwords for a name from five addresses, and the right one from
    # anywhere was refused for 300 s, the owner's (an admin's) included.
    server = await start_server(login_fail_limit=5, login_fail_delay=60.0)
    owner = await client_from(server, "127.0.0.2")
    assert auth_of(await owner.register("Ann", RIGHT))["ok"]
    await owner.close()
    await server.in_db(server.repo.set_role, "Ann", "admin")
    for n in range(3, 8):  # five attackers, one wrong password each
        attacker = await client_from(server, f"127.0.0.{n}")
        assert code(await login(attacker, "Ann", WRONG)) == "auth_failed"
        await attacker.close()
    owner = await client_from(server, "127.0.0.2")  # the owner's own place: in at once
    welcome = await login(owner, "Ann", RIGHT)
    assert welcome["ok"] and welcome["character"]["role"] == "admin"
    late = await client_from(server, "127.0.0.9")  # a sixth attacker waits
    assert code(await login(late, "Ann", WRONG)) == "throttled"
    stranger = await client_from(server, "127.0.0.8")  # the right password, a new place
    refused = await login(stranger, "Ann", RIGHT)
    assert code(refused) == "throttled"
    assert "new places" in refused["error"]["message"]
    for c in (late, stranger, owner):
        await c.close()


async def test_parallel_api_key_guesses_are_checked_at_most_the_limit(
        start_server: StartServer) -> None:
    server = await start_server(login_fail_limit=5, login_fail_delay=60.0,
                                max_connections_per_address=100,
                                auth_inflight_per_address=100, auth_queue_max=100)
    guessers = [await client_from(server) for _ in range(40)]

    def failed() -> float:
        return server.metrics.registry.get_sample_value(
            "aegent_logins_total", {"outcome": "failed"}) or 0.0

    async with holding(server.db, 1) as release:  # the key lookups wait
        for n, c in enumerate(guessers):
            await c.send({"type": "login", "api_key": f"aq_guess{n}_{'x' * 43}"})
        tasks = [asyncio.create_task(auth_reply(c)) for c in guessers]
        at_once = await answered_while_held(tasks, 35)
        assert {code(a) for a in at_once} == {"throttled"}
        release.set()
        answers = await asyncio.gather(*tasks)
    assert sorted(str(code(a)) for a in answers) == ["auth_failed"] * 5 + ["throttled"] * 35
    assert failed() == 5  # five keys looked up, not forty
    for c in guessers:
        await c.close()


async def test_parallel_password_commands_are_checked_at_most_the_limit(
        start_server: StartServer) -> None:
    server = await start_server(login_fail_limit=5, login_fail_delay=60.0,
                                auth_inflight_per_address=100)
    player = await client_from(server)
    assert auth_of(await player.register("Ann", RIGHT))["ok"]
    checked = server.hasher.verifications

    def notices(msgs: list[Any], text: str) -> int:
        return sum(text in m["data"]["text"] for m in events(msgs, "message"))

    async with holding(server.hasher._pool, server.hasher.workers) as release:
        for _ in range(8):
            await player.command(f"password {WRONG.replace(' ', '')} newsecret1")
        throttled = notices(player.seen, "Too many failed logins")
        while throttled < 3:
            await player.until(lambda m: m.get("type") == "event" and m["name"] == "message")
            throttled = notices(player.seen, "Too many failed logins")
        release.set()
        while notices(player.seen, "is not that") < 5:
            await player.until(lambda m: m.get("type") == "event" and m["name"] == "message")
    assert throttled == 3
    assert server.hasher.verifications - checked == 5
    await player.close()


async def test_checks_in_progress_are_bounded_per_address_and_in_all(
        start_server: StartServer) -> None:
    server = await start_server(auth_concurrency=1, auth_queue_max=2,
                                auth_inflight_per_address=2)
    crowd = [await client_from(server, "127.0.0.2") for _ in range(4)]
    crowd += [await client_from(server, f"127.0.0.{n}") for n in range(3, 7)]
    async with holding(server.hasher._pool, server.hasher.workers) as release:
        tasks = []
        for n, c in enumerate(crowd):  # distinct names: no failures counted yet
            await send_in_order(c, {"type": "login", "name": f"Nobody{'abcdefgh'[n]}",
                                    "password": WRONG})
            tasks.append(asyncio.create_task(auth_reply(c)))
        # 127.0.0.2: two in progress, two more throttled; then 1 checked + 2 waiting is
        # the most in all: the rest are busy.
        at_once = await answered_while_held(tasks, 5)
        assert sorted(str(code(a)) for a in at_once) == ["busy"] * 3 + ["throttled"] * 2
        messages = {a["error"]["code"]: a["error"]["message"] for a in at_once}
        assert "at once from your address" in messages["throttled"]
        assert "busy" in messages["busy"]
        release.set()
        answers = await asyncio.gather(*tasks)
    assert sorted(str(code(a)) for a in answers) == (["auth_failed"] * 3 + ["busy"] * 3
                                                      + ["throttled"] * 2)
    again = await login(crowd[0], "Nobodyz", WRONG)  # all released: checked again
    assert code(again) == "auth_failed"
    for c in crowd:
        await c.close()


async def test_registrations_are_limited_per_address_counting_those_in_flight(
        start_server: StartServer) -> None:
    server = await start_server(register_per_address=2, register_window=3600.0,
                                register_global=100, auth_inflight_per_address=100)
    makers = [await client_from(server) for _ in range(6)]
    async with holding(server.hasher._pool, server.hasher.workers) as release:
        tasks = []
        for n, c in enumerate(makers):
            await c.send({"type": "register", "name": f"Maker{'abcdef'[n]}", "password": RIGHT})
            tasks.append(asyncio.create_task(auth_reply(c)))
        at_once = await answered_while_held(tasks, 4)
        assert {code(a) for a in at_once} == {"throttled"}
        assert "try again in" in at_once[0]["error"]["message"]
        release.set()
        answers = await asyncio.gather(*tasks)
    assert sum(a["ok"] for a in answers) == 2
    assert await server.in_db(server.repo.count_accounts) == 2
    one_more = await client_from(server)
    assert code(auth_of(await one_more.register("Makerg", RIGHT))) == "throttled"
    elsewhere = await client_from(server, "127.0.0.2")
    assert auth_of(await elsewhere.register("Makerh", RIGHT))["ok"]
    for c in (*makers, one_more, elsewhere):
        await c.close()


async def test_registrations_are_limited_overall(start_server: StartServer) -> None:
    server = await start_server(register_per_address=100, register_global=2,
                                register_global_window=60.0)
    made = []
    for n in range(2, 5):
        c = await client_from(server, f"127.0.0.{n}")
        made.append(auth_of(await c.register(f"Many{'abcd'[n - 2]}", RIGHT)))
        await c.close()
    assert [code(a) for a in made] == [None, None, "throttled"]
    assert "right now" in made[2]["error"]["message"]


async def test_a_new_character_dropped_before_its_first_command_leaves_at_once(
        start_server: StartServer) -> None:
    server = await start_server()
    bob = await client_from(server)
    assert auth_of(await bob.register("Bob", RIGHT))["ok"]
    await bob.command("look")
    cid = await client_from(server, "127.0.0.2")
    assert auth_of(await cid.register("Cid", RIGHT))["ok"]
    await cid.close()  # gone without a command
    got = await bob.until(lambda m: m.get("type") == "event"
                          and m["name"] in ("left_game", "link_lost")
                          and m["data"].get("actor") == "Cid")
    assert got[-1]["name"] == "left_game"  # not link-dead in the start room for minutes
    assert "cid" not in server.world.characters and not server.linkdead
    back = await client_from(server, "127.0.0.2")  # saved: it logs in again
    assert auth_of(await back.login("Cid", RIGHT))["ok"]
    await back.command("look")
    await back.close()  # played now: link-dead as ever
    got = await bob.until(lambda m: m.get("type") == "event"
                          and m["name"] in ("left_game", "link_lost")
                          and m["data"].get("actor") == "Cid")
    assert got[-1]["name"] == "link_lost"
    await bob.close()


async def test_a_snooping_admin_never_sees_a_password(start_server: StartServer) -> None:
    server = await start_server()
    root = await client_from(server)
    assert auth_of(await root.register("Olga", RIGHT))["ok"]
    await server.in_db(server.repo.set_role, "Olga", "admin")
    await root.close()
    root = await client_from(server)
    assert auth_of(await root.login("Olga", RIGHT))["ok"]
    bob = await client_from(server, "127.0.0.2")
    assert auth_of(await bob.register("Bob", RIGHT))["ok"]
    assert (await root.command("snoop bob"))[-1]["ok"]
    await bob.command("password correcthorse newsecret99")
    got = await root.until(lambda m: m.get("type") == "event" and m["name"] == "snooped"
                           and m["data"].get("input"))
    typed = got[-1]["data"]["text"]
    assert typed.startswith("password") and "correcthorse" not in typed
    assert "newsecret99" not in typed
    await bob.close()
    await root.close()
