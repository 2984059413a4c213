"""/metrics over real HTTP: the process's own metrics are in it (ProcessCollector), and with
the `metrics_token` setting only a request bearing that token reads it."""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request

import pytest
from conftest import StartServer


def get(port: int, token: str | None = None) -> tuple[int, str, dict[str, str]]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/metrics")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as r:
            return r.status, r.read().decode(), dict(r.headers)
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read().decode(), dict(exc.headers)


async def test_metrics_hold_the_process_metrics(start_server: StartServer) -> None:
    server = await start_server()
    status, body, _ = await asyncio.to_thread(get, server.port)
    assert status == 200
    for name in ("process_cpu_seconds_total", "process_resident_memory_bytes",
                 "process_open_fds", "process_start_time_seconds", "aegent_tick_duration"):
        assert name in body, name


@pytest.mark.parametrize("token", [None, "wrong", ""])
async def test_metrics_behind_a_bearer_token_refuse_others(start_server: StartServer,
                                                           token: str | None) -> None:
    server = await start_server(metrics_token="s3cret-token")
    status, body, headers = await asyncio.to_thread(get, server.port, token)
    assert status == 401 and "process_" not in body
    assert headers["WWW-Authenticate"].startswith("Bearer")
    status, body, _ = await asyncio.to_thread(get, server.port, "s3cret-token")
    assert status == 200 and "process_cpu_seconds_total" in body
