"""The soak benchmark: normal players at play while every known attack runs beside them.

    python -m bench.soak                    # 500 players at 1 command/s, 120 s of attacks
    python -m bench.soak --players 200 --duration 30 --repeat 1   # a shorter look

A real `aegent serve` on the shipped defaults (only argon2 made cheap, as in
`bench.run`) over a temp data dir whose characters stand spread over the starter
town, with `--crowd` of them (30 %: 150 of 500) in the town square. `bench.load`
logs the players in, each from its own loopback address, and plays them; when its
measured window opens, `bench.attacks` starts every attack of docs/security.md from
addresses of their own for exactly that window. The server's RSS is sampled each
second: before (players logged in, no attack), the most during, and after (the
attacks and the players gone for `--settle` seconds).

The bar (the Hardening issue): the players' p99 under 50 ms, no error and no
dropped connection seen by a player, and the RSS back after the attacks (within
`--rss-slack` MiB of before). Figures are medians over `--repeat` runs; the JSON
goes to bench/results/soak.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from bench.run import (
    PASSWORD,
    RESULTS,
    ROOT,
    DataDir,
    log,
    raise_fd_limit,
    start_server,
    stop_server,
)

BAR_MS = 50.0


class RssSampler(threading.Thread):
    """The server's RSS once a second, with the time of each sample."""

    def __init__(self, proc: psutil.Process) -> None:
        super().__init__(daemon=True)
        self.proc = proc
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()

    def run(self) -> None:
        while not self._stop.wait(1.0):
            try:
                self.samples.append((time.monotonic(), self.proc.memory_info().rss))
            except psutil.Error:
                return

    def stop(self) -> None:
        self._stop.set()


def one_run(args: argparse.Namespace, data: DataDir, work: Path, label: str) -> dict[str, Any]:
    attacker_account = data.names[-1]  # the last account is the hostile talker's
    # Nothing exempt: the attackers come from loopback addresses too (127.2.0.N), and
    # the players each from their own (127.1.x.y), as from the internet.
    server, port, server_log = start_server(data, work, label,
                                            extra_env={"AEGENT_EXEMPT_ADDRESSES": "none",
                                                       **dict(kv.split("=", 1)
                                                              for kv in args.env)})
    sp = psutil.Process(server.pid)
    telnet_port = _telnet_port(server_log, sp)
    sampler = RssSampler(sp)
    sampler.start()
    out_load, out_attacks = work / f"load-{label}.json", work / f"attacks-{label}.json"
    result: dict[str, Any] = {}
    attacks: subprocess.Popen[str] | None = None
    try:
        load_cmd = [sys.executable, "-m", "bench.load", "--url", f"ws://127.0.0.1:{port}/ws",
                    "--clients", str(args.players), "--rate", str(args.rate),
                    "--duration", str(args.duration), "--warmup", str(args.warmup),
                    "--names-file", str(data.names_file), "--password", PASSWORD,
                    "--json-out", str(out_load), "--spread"]
        gen = subprocess.Popen(load_cmd, stdout=subprocess.PIPE, cwd=ROOT, text=True)
        assert gen.stdout is not None
        t_start = t_end = 0.0
        for line in gen.stdout:
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            phase = msg.get("phase")
            if phase == "logged_in":
                log(f"  {msg['clients']} players logged in ({msg['failures']} failed)")
            elif phase == "window_start":
                t_start = time.monotonic()
                result["rss_before_mib"] = sp.memory_info().rss / 2**20
                attacks = subprocess.Popen(
                    [sys.executable, "-m", "bench.attacks", "--port", str(port),
                     "--telnet-port", str(telnet_port), "--duration", str(args.duration),
                     "--victim", data.names[0], "--account", attacker_account,
                     "--password", PASSWORD, "--json-out", str(out_attacks)]
                    + (["--only", args.only] if args.only else []),
                    cwd=ROOT, text=True, stderr=subprocess.DEVNULL)
                log(f"  attacks started; server RSS {result['rss_before_mib']:.1f} MiB")
            elif phase == "window_end":
                t_end = time.monotonic()
                log("  window over")
        gen.wait(timeout=120)
        if attacks is not None:
            attacks.wait(timeout=120)
        time.sleep(args.settle)
        result["rss_after_mib"] = sp.memory_info().rss / 2**20
        sampler.stop()
        during = [rss for t, rss in sampler.samples if t_start <= t <= t_end + 1]
        result["rss_during_max_mib"] = max(during, default=0) / 2**20
        load = json.loads(out_load.read_text())
        result["load"] = load
        result["attacks"] = json.loads(out_attacks.read_text()) if out_attacks.exists() else {}
        result["server_alive"] = server.poll() is None
    finally:
        sampler.stop()
        if attacks is not None and attacks.poll() is None:
            attacks.kill()
        stop_server(server)
        if args.keep_log:
            Path(args.keep_log).mkdir(parents=True, exist_ok=True)
            shutil.copy(server_log, Path(args.keep_log) / server_log.name)
    return result


def _telnet_port(server_log: Path, proc: psutil.Process) -> int:
    """The telnet port the server listens on (the second listening socket)."""
    ports = sorted(c.laddr.port for c in proc.net_connections(kind="tcp")
                   if c.status == psutil.CONN_LISTEN)
    for line in server_log.read_text(errors="replace").splitlines():
        if "telnet_port=" in line:
            return int(line.split("telnet_port=")[1].split()[0])
    return ports[-1]


def summarize(r: dict[str, Any]) -> dict[str, Any]:
    load = r["load"]
    rtt = load.get("rtt_ms", {})
    return {
        "p50_ms": rtt.get("p50"), "p99_ms": rtt.get("p99"), "max_ms": rtt.get("max"),
        "commands": load.get("sent"), "login_failures": load.get("login_failures", 0),
        "errors": load.get("error_count", 0), "error_codes": load.get("errors", {}),
        "timeouts": load.get("timeouts_total", 0), "dropped": load.get("drops", 0),
        "rss_before_mib": round(r["rss_before_mib"], 1),
        "rss_during_max_mib": round(r["rss_during_max_mib"], 1),
        "rss_after_mib": round(r["rss_after_mib"], 1),
        "server_alive": r["server_alive"],
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--players", type=int, default=500)
    p.add_argument("--rate", type=float, default=1.0, help="commands per second per player")
    p.add_argument("--duration", type=float, default=120.0, help="attack window, seconds")
    p.add_argument("--warmup", type=float, default=5.0)
    p.add_argument("--settle", type=float, default=15.0, help="seconds before 'after' RSS")
    p.add_argument("--crowd", type=float, default=0.3, help="share of players in the square")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--only", default="", help="comma-separated attacks (default: all)")
    p.add_argument("--rss-slack", type=float, default=32.0)
    p.add_argument("--env", action="append", default=[], metavar="AEGENT_X=V",
                   help="a setting for the server (repeatable)")
    p.add_argument("--out", default=str(RESULTS / "soak.json"))
    p.add_argument("--keep-log", metavar="DIR", help="copy each run's server log here "
                   "(with --env PYTHONASYNCIODEBUG=1 it names every callback over 100 ms)")
    args = p.parse_args(argv)
    raise_fd_limit()
    runs = []
    with tempfile.TemporaryDirectory(prefix="aegent-soak-") as tmp:
        work = Path(tmp)
        data = DataDir(work)
        data.ensure(args.players + 1, crowd=args.crowd)
        for i in range(args.repeat):
            log(f"run {i + 1}/{args.repeat}: {args.players} players, {args.duration:.0f} s "
                "of attacks")
            r = one_run(args, data, work, f"r{i}")
            s = summarize(r)
            log("  " + json.dumps(s))
            runs.append({"summary": s, "attacks": r["attacks"]})
    keys = ("p50_ms", "p99_ms", "max_ms", "rss_before_mib", "rss_during_max_mib",
            "rss_after_mib")
    median = {k: statistics.median(float(r["summary"][k] or 0) for r in runs) for k in keys}
    worst = {k: max(int(r["summary"][k] or 0) for r in runs)
             for k in ("login_failures", "errors", "timeouts", "dropped")}
    ok = (median["p99_ms"] < BAR_MS and not any(worst.values())
          and all(r["summary"]["server_alive"] for r in runs)
          and median["rss_after_mib"] <= median["rss_before_mib"] + args.rss_slack)
    report = {"players": args.players, "rate": args.rate, "duration": args.duration,
              "crowd": args.crowd, "runs": runs, "median": median, "worst": worst,
              "bar_met": ok}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=1))
    print(f"players {args.players}, {args.duration:.0f} s of attacks, {len(runs)} runs (medians)")
    print(f"p50 {median['p50_ms']:.1f} ms, p99 {median['p99_ms']:.1f} ms, max "
          f"{median['max_ms']:.1f} ms; errors {worst['errors']}, timeouts {worst['timeouts']}, "
          f"dropped {worst['dropped']}")
    print(f"server RSS: before {median['rss_before_mib']:.1f} MiB, during (max) "
          f"{median['rss_during_max_mib']:.1f} MiB, after {median['rss_after_mib']:.1f} MiB")
    print("bar (p99 < 50 ms, no error or drop, RSS back):", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
