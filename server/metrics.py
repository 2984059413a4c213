"""Prometheus metrics of one server: tick time, sessions, commands, errors, traffic, and
the process's own (CPU seconds, resident memory, open files: `process_*`, from
prometheus_client's `ProcessCollector`).

Each server has its own `CollectorRegistry`, so tests can run several in one
process. `GET /metrics` serves `render()` in the Prometheus text format; with the
`metrics_token` setting, only to a request bearing it (`authorized`).
"""

from __future__ import annotations

import hmac

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    """The server's counters, gauges and histograms."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)  # process_cpu_seconds_total, ..._memory_bytes
        self.tick_seconds = Histogram(
            "aegent_tick_duration_seconds", "Time spent in one world tick.",
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25),
            registry=self.registry,
        )
        self.gc_pause = Histogram(
            "aegent_gc_pause_seconds", "Garbage-collector pauses, by generation.",
            ["generation"],
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25),
            registry=self.registry,
        )
        self.ticks_skipped = Counter(
            "aegent_ticks_skipped_total", "Tick deadlines missed by a whole period.",
            registry=self.registry,
        )
        self.sessions = Gauge("aegent_sessions", "Open sessions by kind.", ["kind"],
                              registry=self.registry)
        self.commands = Counter("aegent_commands_total", "Commands run.", ["command"],
                                registry=self.registry)
        self.errors = Counter("aegent_errors_total", "Errors and refusals sent, by code.",
                              ["code"], registry=self.registry)
        self.bytes_in = Counter("aegent_bytes_in_total", "Bytes received from clients.",
                                registry=self.registry)
        self.bytes_out = Counter("aegent_bytes_out_total", "Bytes sent to clients.",
                                 registry=self.registry)
        self.logins = Counter("aegent_logins_total", "Login attempts by outcome.", ["outcome"],
                              registry=self.registry)
        self.saves = Counter("aegent_characters_saved_total", "Character snapshots written.",
                             registry=self.registry)
        self.a2a = Counter("aegent_a2a_requests_total",
                           "A2A requests (server/host/a2a.py) by outcome: answered, offline, "
                           "unauthorized, rate_limited...", ["outcome"], registry=self.registry)

    def render(self) -> bytes:
        """All metrics in the Prometheus text format."""
        return generate_latest(self.registry)


def authorized(token: str, header: str | None) -> bool:
    """Whether a request with this `Authorization` header may read the metrics: always when
    no token is set, else only with `Bearer <token>` (compared in constant time)."""
    if not token:
        return True
    scheme, _, given = (header or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(),
                                                              token.encode())
