"""`aegent ping` (server/probe.py), the world host's health check in compose.yaml, run as
a program against a real nats-server and a real `aegent world` (tests/clusterproc.py).

It exits 0 and names the world host's run and game when one answers; 1, with a line
that says why, when NATS is there but no world host is, and when NATS is not there;
2 when it is not told where NATS is.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from clusterproc import Cluster
from daemons import free_port
from natsd import NatsServer, nats_or_skip
from serverproc import AEGENT

from server.bus.messages import GATEWAY_ID
from server.probe import PROBE_ID


async def ping(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """`aegent ping *args`: its status, stdout and stderr."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AEGENT_")}
    proc = await asyncio.create_subprocess_exec(
        *AEGENT, "ping", *args, env={**clean, **(env or {})},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


@pytest.fixture
def nats() -> Iterator[NatsServer]:
    with nats_or_skip() as server:
        yield server


async def test_ping_says_whether_a_world_host_answers(nats: NatsServer, tmp_path: Path
                                                      ) -> None:
    code, out, err = await ping("--nats", nats.url)
    assert (code, out) == (1, "")
    assert "no world host is serving requests" in err and nats.url in err, err

    cluster = Cluster(nats.url, tmp_path)
    try:
        await asyncio.to_thread(cluster.start_world)
        code, out, err = await ping("--nats", nats.url)
        assert code == 0, err
        assert out.startswith("world host up: Aegent Quest (run "), out
        code, again, _ = await ping(env={"AEGENT_NATS_URL": nats.url})  # the variable
        assert code == 0 and again == out  # the same run
    finally:
        await asyncio.to_thread(cluster.stop)
    code, _, err = await ping("--nats", nats.url)  # stopped: no answer any more
    assert code == 1 and "no world host" in err, err


async def test_ping_without_nats_fails_within_its_timeout() -> None:
    url = f"nats://127.0.0.1:{free_port()}"  # nobody listens there
    code, out, err = await ping("--nats", url, "--timeout", "0.5")
    assert (code, out) == (1, "")
    assert f"cannot reach NATS at {url} within 0.5 s" in err, err
    code, _, err = await ping()
    assert code == 2 and "--nats" in err, err
    code, _, err = await ping("--nats", url, "--timeout", "0")
    assert code == 2 and "--timeout" in err, err


def test_the_probe_is_never_taken_for_a_gateway() -> None:
    """The world host drops a gateway's sessions when a `ping` under its name carries
    another run id: the probe's name is one no gateway can have."""
    assert GATEWAY_ID.fullmatch(PROBE_ID) is None
