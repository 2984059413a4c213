"""Benchmarks of Aegent Quest: how fast, how many, how much memory. Never run by the tests.

* `python -m bench.run`   the orchestrator (`make bench`): a real server process, a
  separate load generator process, the table, `bench/results/latest.json`;
  `--knee` steps the client count up until p99 breaks 50 ms and draws `knee.svg`.
* `python -m bench.load`  the load generator alone: many WebSocket clients in one lean
  asyncio process, each logging in and sending commands at a fixed rate.
* `python -m bench.cluster`  cluster mode (nats-server, a world host, two gateways) under
  the same load: p50/p99 and CPU per command of each role, `bench/results/cluster.json`;
  `--kill-at T` kills the world host mid-run and checks that no connection dropped and
  no command answered ok is missing from its journal (`cluster-kill.json`).
  tests/e2e/test_cluster_bench.py runs it small.
* `python -m bench.tick`  the world alone, no sockets: tick time and command time for
  N characters.
* `python -m bench.mob_behaviours`  the world alone: tick p50/p99 with 5,000 wandering
  mobs, 500 of them fighting (the mob tick bar).
* `python -m bench.naive_bot`  a naive bot per class on a fresh real server: real time
  to its first level (the naive bot bar). tests/e2e/test_naive_bot.py plays it briefly.
* `python -m bench.balance`  a scripted player per class on the real content, simulated
  ticks: game time to each level. tests/world/test_balance.py plays it to level 5.

Speed is measured here and only here; the tests check behaviour, never timings (the
two tests above import their player from here and assert progress, not speed).
"""
