"""Benchmarks of Aegent Quest: how fast, how many, how much memory. Never run by the tests.

* `python -m bench.run`   the orchestrator (`make bench`): a real server process, a
  separate load generator process, the table, `bench/results/latest.json`;
  `--knee` steps the client count up until p99 breaks 50 ms and draws `knee.svg`.
* `python -m bench.load`  the load generator alone: many WebSocket clients in one lean
  asyncio process, each logging in and sending commands at a fixed rate.
* `python -m bench.tick`  the world alone, no sockets: tick time and command time for
  N characters.

Speed is measured here and only here; the tests check behaviour, never timings.
"""
