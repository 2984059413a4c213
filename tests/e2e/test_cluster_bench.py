"""The cluster benchmark (bench/cluster.py) still runs, small: nats-server, a world host
killed with SIGKILL and started again mid-run, two gateways, 20 players.

The figures are the benchmark's (`python -m bench.cluster --clients 1000 ...`), never
asserted here; what is checked is that the run completes, writes its fields, and that
its crash checks hold: no connection dropped, and every command answered ok is in the
world host's journal. (A 3 s window with the kill at 1 s: the 2 s after it leave every
client commands sent once the gateways have noticed, so play visibly resumes.)
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from needs import require

from bench.cluster import journal_check

ROOT = Path(__file__).resolve().parents[2]


def test_a_small_run_with_a_kill_loses_no_acknowledged_command(tmp_path: Path) -> None:
    require("nats-server")
    out = tmp_path / "cluster-kill.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench.cluster", "--clients", "20", "--duration", "3",
         "--warmup", "1", "--repeat", "1", "--kill-at", "1", "--quiet-wait", "0",
         "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["mode"] == "cluster-kill" and report["gateways"] == 2
    point = report["point"]
    run = point["each"][0]
    assert run["logged_in"] == 20 and len(run["urls"]) == 2
    assert point["drops"] == 0
    assert point["lost_acked"] == 0 and run["journal"]["lost"] == 0
    assert run["journal"]["acked"] > 0  # the check had something to check
    assert run["journal"]["journaled"] >= run["journal"]["acked"]
    kill = point["kill"]
    assert run["kill"]["restart_error"] is None and kill["world_start_s"] is not None
    assert kill["resume_s"] is not None  # play went on after the restart
    for key in ("p50", "p99"):
        assert key in point["rtt_ms"]
    for role in ("world", "g1", "g2", "nats", "gateways"):
        assert role in point["cpu_percent"] and role in point["cpu_us_per_cmd"]
    assert "world_unavailable" in point and "other_errors" in point
    assert "cluster:" in done.stdout and "lost acked" in done.stdout


def test_the_journal_check_finds_an_acknowledged_command_missing(tmp_path: Path) -> None:
    """journal_check against a journal written here: an ok answer whose command is not in
    it is lost; commands are matched to names through their session's Enter entry."""
    from server.bus.messages import Command, Enter
    from server.host.journal import FileJournal

    journal = FileJournal(tmp_path / "journal" / "wal")
    journal.append_now(Enter("", "g1.1", "Ann", "player", "warrior"))
    journal.append_now(Enter("", "g2.1", "Bob", "player", "warrior"))
    journal.append_now(Command("g1", "g1.1", 1, "look", 1, 1))
    journal.append_now(Command("g2", "g2.1", 2, "look", 1, 1))
    journal.append_now(Command("g1", "g1.1", 1, "north", 2, 2))
    journal.close()
    acked = tmp_path / "acked.json"
    acked.write_text(json.dumps([{"name": "Ann", "acked": [1, 2], "refused": []},
                                 {"name": "Bob", "acked": [1, 2], "refused": []}]))
    got = journal_check(tmp_path, acked)
    assert got == {"acked": 4, "journaled": 3, "lost": 1, "journaled_not_answered": 0}
    # Ann's north was journaled, then its answer died with the world host
    acked.write_text(json.dumps([{"name": "Ann", "acked": [1], "refused": []},
                                 {"name": "Bob", "acked": [1], "refused": []}]))
    assert journal_check(tmp_path, acked)["journaled_not_answered"] == 1
    # refused (a valid answer): answered, not lost, not unanswered
    acked.write_text(json.dumps([{"name": "Ann", "acked": [1], "refused": [2]},
                                 {"name": "Bob", "acked": [1], "refused": []}]))
    assert journal_check(tmp_path, acked) == {"acked": 2, "journaled": 3, "lost": 0,
                                              "journaled_not_answered": 0}


def test_the_bar_is_on_the_median_and_any_error_fails_the_point() -> None:
    """As bench.run: a point passes on its runs' median p99 (one slow run of five does
    not fail it), but an error, a drop or a lost command in any run does."""
    from bench.cluster import aggregate

    def run(p99: float, **extra: int) -> dict[str, object]:
        r: dict[str, object] = {
            "clients": 10, "rate": 1.0, "cmds_per_s": 10.0, "logged_in": 10, "results": 100,
            "drops": 0, "lost_acked": 0, "other_errors": 0, "timeouts_total": 0,
            "error_lines": 0, "world_unavailable": 0, "world_away_events": 0,
            "journal": {"acked": 100},
            "rtt_ms": {k: p99 for k in ("p50", "p90", "p99", "p999", "max", "mean")},
            "cpu_percent": {}, "cpu_us_per_cmd": {}, "wait_percent": {},
            "other_cpu_percent": 0.0, "world_start_s": 1.0}
        r.update(extra)
        return r

    assert aggregate([run(40), run(45), run(120), run(44), run(60)], False)["passed"]
    assert not aggregate([run(40), run(55), run(120), run(52), run(60)], False)["passed"]
    assert not aggregate([run(40), run(45), run(30, drops=1)], False)["passed"]
    assert not aggregate([run(40), run(45), run(30, lost_acked=1)], False)["passed"]
