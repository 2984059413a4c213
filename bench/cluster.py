"""The cluster benchmark (issue #14): nats-server, one world host, two gateways, the load.

    python -m bench.cluster --clients 1000 --crowd 0.15 --duration 20 --repeat 3
    python -m bench.cluster --clients 1000 --crowd 0.15 --duration 20 --repeat 3 --kill-at 10

Each run lays the cluster out as `aegent cluster` does (server/cluster.py `plan`: free
ports, nats-server with JetStream storing under the data dir, `aegent world`, gateways
`g1` and `g2`, each told both addresses in `AEGENT_GATEWAY_URLS`) over a data dir
prepared as `bench.run` prepares it (`DataDir`: accounts, characters spread over the
starter town with `--crowd` of them in the square), starts nats-server, then the world
host (up once it prints "world host up"), then the gateways (up once their /health says
the world answers), and runs `python -m bench.load` over both gateways (client i on
gateway i mod 2) as its own process. Over the measurement window it takes the CPU time
of each process (world host, each gateway, nats-server, the load generator) and how long
each waited for a CPU. The journal and the JetStream store are removed before each run,
so that a run's journal holds that run only.

`--kill-at T`: T seconds into the window the world host gets SIGKILL and is started
again at once on the same data dir (its CPU before the kill and the new one's after it,
start-up included, are the world role's). The load generator is told the moment
(SIGUSR1), and the run reports:

- **drops**: connections closed under a client (0: the gateways keep them);
- **world_unavailable**: commands answered so, apart from the other errors: those the
  world host took and never answered (in flight at the kill, or sent to it before the
  gateways noticed it was gone: up to about 2 x `world_ping_interval`);
- **resume_s**: from the kill to the first answer ok to a command sent after it, as the
  load generator saw it; **all_resumed_s**, until the last client had one (of
  `clients_resumed`: a client whose only commands after the kill were answered
  world_unavailable has none); and **world_start_s**, the new world host's own start
  (process started to "world host up"); `world_away_events` counts the gateways' log
  lines saying the world host went away (one per gateway and kill when all is well);
- **lost acknowledged commands**: every command answered ok (`--acked-out` of the load
  generator) must be in the world host's journal (DATA_DIR/journal/wal, read after the
  run): a `Command` entry with the client's `id`, from a session whose `Enter` entry
  carries the client's name. Lost = answered ok and not journaled (it must be 0).
  `journaled_not_answered` counts the other way round: commands the world host
  journaled (and so applied) whose answer died with it (answered world_unavailable).

Without `--kill-at` the same check runs too (it must also be 0), and the bar is the
issue's: p99 under 50 ms, no error, no drop.

Results (medians over `--repeat`; errors, drops and lost commands summed) go to
`bench/results/cluster.json`, or `cluster-kill.json` with `--kill-at`, and a table to
stdout. The machine should be quiet: every process of the cluster and the generator
share its cores (`--quiet-wait` waits for other work to calm down first, as bench.run
does); the `wait%` columns say how long each role sat runnable without a CPU.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import psutil

from bench.run import (
    BAR_MS,
    FAST_HASH_ENV,
    HASH_NOTE,
    RESULTS,
    ROOT,
    DataDir,
    cpu_s,
    environment,
    host_busy_s,
    load_command,
    load_messages,
    log,
    logged_in_line,
    median,
    raise_fd_limit,
    sched_wait_s,
    stop_server,
    wait_quiet,
    write_report,
)

GATEWAYS = 2
ROLES = ("world", "g1", "g2", "nats", "loadgen")
"""The processes whose CPU is measured, by role."""

UNAVAILABLE = "world_unavailable"
READY_TIMEOUT = 60.0
"""Seconds a process of the cluster has to get ready."""


@dataclass(slots=True)
class Proc:
    """One process of the cluster and where its output goes."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path
    started: float = field(default_factory=time.perf_counter)

    @property
    def ps(self) -> psutil.Process:
        """Its psutil handle."""
        return psutil.Process(self.process.pid)


def spawn(name: str, argv: list[str], env: dict[str, str], work: Path,
          orphan_kill: bool = False) -> Proc:
    """Start `argv` with `env` added, its output to `work/<name>.log` (appended: a
    restarted world host writes after the one before).

    `orphan_kill`: on Linux it gets SIGKILL when the thread that started it ends
    (util-linux's setpriv; the kernel's parent-death signal follows the *thread*), so
    that no nats-server outlives a killed benchmark. Only for what the main thread
    starts: the world host restarted by the crash timer's thread would die with it. The
    world host and the gateways go by themselves anyway (`AEGENT_PARENT_PID`).
    """
    out_path = work / f"{name}.log"
    setpriv = shutil.which("setpriv") if orphan_kill and sys.platform == "linux" else None
    launcher = [setpriv, "--pdeathsig", "KILL", "--"] if setpriv else []
    with out_path.open("ab") as out:
        process = subprocess.Popen([*launcher, *argv], env={**os.environ, **env}, stdout=out,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   cwd=ROOT)
    return Proc(name, process, out_path)


def wait_for(proc: Proc, ready: Callable[[], bool], what: str,
             timeout: float = READY_TIMEOUT) -> float:
    """Poll `ready()` until it holds; the seconds since `proc` started.

    Raises:
        RuntimeError: `proc` exited first, or `timeout` passed (with its log's tail).
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return time.perf_counter() - proc.started
        if proc.process.poll() is not None:
            break
        time.sleep(0.02)
    tail = proc.log.read_text(errors="replace")[-2000:]
    raise RuntimeError(f"{what} did not get ready (exit {proc.process.poll()}): {tail}")


def listening(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:`port`."""
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
        return True
    return False


def gateway_ready(port: int) -> bool:
    """Whether the gateway on `port` answers /health and sees the world host."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
            return bool(json.loads(r.read()).get("world"))
    except (OSError, ValueError):
        return False


class Cluster:
    """The processes of one run: start, crash the world host and start it again, stop.

    The world host's CPU time is kept across its restart: what the killed process used
    in the window (read just before the kill) plus what the new one used since it began.
    """

    def __init__(self, data: DataDir, work: Path, env: dict[str, str]) -> None:
        from server.cluster import plan

        children, _ = plan(GATEWAYS, None, "127.0.0.1", data.path, extra_env=env)
        self.work = work
        self.nats_spec, self.world_spec, *self.gateway_specs = children
        self.urls = [f"ws://127.0.0.1:{g.ready_port}/ws" for g in self.gateway_specs]
        self.procs: dict[str, Proc] = {}
        self.lock = threading.Lock()
        self.world_cpu_before = 0.0  # CPU of killed world hosts within the window
        self.world_wait_before = 0.0
        self.world_starts: list[float] = []
        self.kill_wall: float | None = None
        self.crash_error: str | None = None
        self.base: dict[str, float] = {}  # CPU seconds at the window's start, by role
        self.wait0: dict[str, float] = {}  # run-queue wait at the window's start
        self.t0 = self.host0 = self.me0 = 0.0

    def start(self) -> None:
        """nats-server, then the world host, then the gateways; each once ready."""
        nats = self.nats_spec
        self.procs["nats"] = p = spawn("nats", nats.argv, nats.env, self.work, True)
        assert nats.ready_port is not None
        wait_for(p, lambda: listening(nats.ready_port or 0), "nats-server")
        self.start_world()
        urls = {"AEGENT_GATEWAY_URLS": ",".join(self.urls)}
        for n, spec in enumerate(self.gateway_specs, 1):
            self.procs[f"g{n}"] = spawn(f"g{n}", spec.argv, {**spec.env, **urls}, self.work)
        for n, spec in enumerate(self.gateway_specs, 1):
            wait_for(self.procs[f"g{n}"], partial(gateway_ready, spec.ready_port or 0),
                     f"gateway g{n}")

    def start_world(self) -> Proc:
        """Start the world host; return once it says it is up."""
        spec = self.world_spec
        log_path = self.work / "world.log"
        offset = log_path.stat().st_size if log_path.exists() else 0  # the killed one's
        proc = spawn("world", spec.argv, spec.env, self.work)
        with self.lock:
            self.procs["world"] = proc

        def up() -> bool:
            with proc.log.open("rb") as f:
                f.seek(offset)
                return b"world host up" in f.read()

        self.world_starts.append(round(wait_for(proc, up, "the world host"), 3))
        return proc

    def crash(self, loadgen: subprocess.Popen[str]) -> None:
        """SIGKILL the world host, tell the load generator (SIGUSR1), start it again."""
        try:
            with self.lock:
                old = self.procs["world"]
                self.world_cpu_before += cpu_s(old.ps) - self.base["world"]
                self.world_wait_before += sched_wait_s(old.process.pid) - self.wait0["world"]
                old.process.send_signal(signal.SIGKILL)
                self.kill_wall = time.time()
                with contextlib.suppress(ProcessLookupError):
                    loadgen.send_signal(signal.SIGUSR1)
                old.process.wait()
                self.base["world"] = 0.0
                self.wait0["world"] = 0.0
            log(f"  killed the world host (pid {old.process.pid}); starting it again")
            self.start_world()
            log(f"  the new world host is up after {self.world_starts[-1]:.2f} s")
        except Exception as exc:  # reported in the run's result; the run goes on
            self.crash_error = repr(exc)
            log(f"  the restart failed: {exc!r}")

    def window_open(self, loadgen: psutil.Process) -> None:
        """Note every process's CPU and run-queue wait at the window's start."""
        self.base = {name: cpu_s(p.ps) for name, p in self.procs.items()}
        self.base["loadgen"] = cpu_s(loadgen)
        self.wait0 = {name: sched_wait_s(p.process.pid) for name, p in self.procs.items()}
        self.wait0["loadgen"] = sched_wait_s(loadgen.pid)
        self.t0 = time.perf_counter()
        self.host0, self.me0 = host_busy_s(), cpu_s(psutil.Process())

    def window_close(self, loadgen: psutil.Process) -> dict[str, Any]:
        """CPU seconds and run-queue waits of each role over the window, and its length."""
        with self.lock:
            wall = time.perf_counter() - self.t0
            cpu = {name: cpu_s(p.ps) - self.base[name] for name, p in self.procs.items()}
            wait = {name: sched_wait_s(p.process.pid) - self.wait0[name]
                    for name, p in self.procs.items()}
            cpu["world"] += self.world_cpu_before
            wait["world"] += self.world_wait_before
        cpu["loadgen"] = cpu_s(loadgen) - self.base["loadgen"]
        wait["loadgen"] = sched_wait_s(loadgen.pid) - self.wait0["loadgen"]
        other = (host_busy_s() - self.host0) - sum(cpu.values()) - (
            cpu_s(psutil.Process()) - self.me0)
        return {"wall": wall, "cpu": cpu, "wait": wait, "other": other}

    def stop(self) -> None:
        """The gateways, then the world host (SIGTERM: it saves everyone), then NATS."""
        for name in ("g1", "g2", "world", "nats"):
            proc = self.procs.get(name)
            if proc is not None:
                stop_server(proc.process)


def reset(data: DataDir) -> None:
    """Remove the previous run's journal, snapshots and JetStream store."""
    for folder in ("journal", "nats"):
        shutil.rmtree(data.path / folder, ignore_errors=True)


def journal_check(data_dir: Path, acked_file: Path) -> dict[str, int]:
    """Every command answered ok must be in the world host's journal.

    The journal's `Command` entries carry the client's `id` and the session; the
    session's `Enter` entry (its login, or its resume after a restart) carries the
    character's name. Returns how many commands were answered ok (`acked`), journaled
    (`journaled`), answered ok and not journaled (`lost`), and journaled but answered
    neither ok nor with a refusal (`journaled_not_answered`: taken by the world host,
    whose answer died with it; the client read world_unavailable, or nothing).
    """
    from server.bus.messages import Command, Enter
    from server.host.journal import FileJournal

    names: dict[str, str] = {}  # session -> character name
    journaled: set[tuple[str, Any]] = set()
    journal = FileJournal(data_dir / "journal" / "wal", readonly=True)
    try:
        for record in journal.read():
            entry = record.entry
            if isinstance(entry, Enter):
                names[entry.session] = entry.name.lower()
            elif isinstance(entry, Command):
                journaled.add((names.get(entry.session, "?"), entry.id))
    finally:
        journal.close()
    clients = json.loads(acked_file.read_text())
    acked = {(c["name"].lower(), cid) for c in clients for cid in c["acked"]}
    refused = {(c["name"].lower(), cid) for c in clients for cid in c.get("refused", ())}
    return {"acked": len(acked), "journaled": len(journaled), "lost": len(acked - journaled),
            "journaled_not_answered": len(journaled - acked - refused)}


def error_lines(paths: list[Path]) -> list[str]:
    """The log lines of the cluster's processes that say error or traceback."""
    out = []
    for path in paths:
        with contextlib.suppress(OSError):
            out += [f"{path.stem}: {ln}" for ln in path.read_text(errors="replace").splitlines()
                    if '"level": "error"' in ln or "[error" in ln or "traceback" in ln.lower()]
    return out


def run_once(data: DataDir, args: argparse.Namespace, work: Path, label: str) -> dict[str, Any]:
    """One measured run: a fresh cluster, one load generator process, the numbers."""
    data.ensure(args.clients, crowd=args.crowd)
    reset(data)
    if args.quiet_wait > 0:
        wait_quiet(args.quiet_limit, args.quiet_wait)
    run_dir = work / label
    run_dir.mkdir(parents=True, exist_ok=True)
    env = {**FAST_HASH_ENV, "AEGENT_SEED": "1", "AEGENT_IDLE_TIMEOUT": "36000",
           "AEGENT_LOG_LEVEL": "warning", "PYTHONUNBUFFERED": "1",
           **dict(kv.split("=", 1) for kv in args.env)}
    cluster = Cluster(data, run_dir, env)
    gen: subprocess.Popen[str] | None = None
    crasher: threading.Timer | None = None
    result: dict[str, Any] = {"clients": args.clients, "rate": args.rate}
    try:
        cluster.start()
        log(f"  cluster up: world host in {cluster.world_starts[0]:.2f} s; gateways "
            f"{', '.join(cluster.urls)}")
        out_json, acked_json = run_dir / "load.json", run_dir / "acked.json"
        load_cmd = load_command(",".join(cluster.urls), args.clients, args, data, out_json,
                                "--acked-out", str(acked_json), "--timeout", str(args.timeout))
        gen = subprocess.Popen(load_cmd, stdout=subprocess.PIPE, cwd=ROOT, text=True)
        gp = psutil.Process(gen.pid)
        window: dict[str, Any] = {}
        for msg in load_messages(gen):
            phase = msg.get("phase")
            if phase == "logged_in":
                log(logged_in_line(msg))
            elif phase == "window_start":
                cluster.window_open(gp)
                if args.kill_at is not None:
                    crasher = threading.Timer(args.kill_at, cluster.crash, (gen,))
                    crasher.start()
            elif phase == "window_end":
                window = cluster.window_close(gp)
        gen.wait()
        if crasher is not None:
            crasher.join()
        if gen.returncode != 0 or not out_json.exists():
            raise RuntimeError(f"the load generator failed ({gen.returncode})")
        load = json.loads(out_json.read_text())
        result.update(load)
        result.update(role_figures(window, load))
        result["world_start_s"] = cluster.world_starts[0]
    finally:
        if crasher is not None:
            crasher.cancel()
            crasher.join()
        if gen is not None and gen.poll() is None:
            gen.kill()
            gen.wait()
        cluster.stop()
    result["journal"] = journal_check(data.path, run_dir / "acked.json")
    result["lost_acked"] = result["journal"]["lost"]
    unavailable = result.get("errors", {}).get(UNAVAILABLE, 0)
    result["world_unavailable"] = unavailable
    result["other_errors"] = result.get("error_count", 0) - unavailable
    if args.kill_at is not None:
        result["kill"] = kill_figures(cluster, result)
    result["world_away_events"] = sum(
        p.log.read_text(errors="replace").count("world_away")
        for name, p in cluster.procs.items() if name.startswith("g"))
    problems = error_lines([p.log for p in cluster.procs.values()])
    result["error_lines"] = len(problems)
    if problems:
        result["error_lines_sample"] = problems[:5]
    result["passed"] = passed(result, args.kill_at is not None)
    return result


def role_figures(window: dict[str, Any], load: dict[str, Any]) -> dict[str, Any]:
    """CPU % and CPU µs per command of each role, and how long each waited for a CPU."""
    if not window:
        return {}
    wall, sent = window["wall"], max(1, load["sent"])
    cpu: dict[str, float] = dict(window["cpu"])
    cpu["gateways"] = cpu["g1"] + cpu["g2"]
    return {
        "cpu_percent": {r: round(100.0 * s / wall, 1) for r, s in cpu.items()},
        "cpu_us_per_cmd": {r: round(1e6 * s / sent, 1) for r, s in cpu.items()},
        "wait_percent": {r: round(100.0 * s / wall, 1) for r, s in window["wait"].items()},
        "other_cpu_percent": round(100.0 * window["other"] / wall, 1),
    }


def kill_figures(cluster: Cluster, r: dict[str, Any]) -> dict[str, Any]:
    """What the crash cost: the restart, the time to resume, the commands it took."""
    mark = r.get("mark") or {}
    delay = (mark["wall"] - cluster.kill_wall if mark.get("wall") and cluster.kill_wall
             else None)

    def since_kill(ms: float | None) -> float | None:
        return None if ms is None or delay is None else round(delay + ms / 1000.0, 3)

    return {
        "world_start_s": cluster.world_starts[1] if len(cluster.world_starts) > 1 else None,
        "resume_s": since_kill(mark.get("first_ok_ms")),
        "all_resumed_s": since_kill(mark.get("all_ok_ms")),
        "clients_resumed": mark.get("clients_resumed", 0),
        "signal_delay_ms": None if delay is None else round(1000.0 * delay, 1),
        "unavailable_sent_before_kill": mark.get("unavailable_sent_before", 0),
        "unavailable_sent_after_kill": mark.get("unavailable_sent_after", 0),
        "restart_error": cluster.crash_error,
    }


def passed(r: dict[str, Any], killed: bool) -> bool:
    """The bar for one run: p99 under 50 ms and `clean` (below)."""
    return clean(r, killed) and (killed or r.get("rtt_ms", {}).get("p99", math.inf) < BAR_MS)


def clean(r: dict[str, Any], killed: bool) -> bool:
    """Without a kill: no error, timeout or drop, everyone in, nothing lost, the world
    host never away. With one: no drop, no error but world_unavailable, no timeout,
    nothing lost, and play resumed. Either way no error line in the cluster's logs."""
    common = (r.get("drops", 1) == 0 and r.get("lost_acked", 1) == 0
              and r.get("other_errors", 1) == 0 and r.get("timeouts_total", 1) == 0
              and r.get("error_lines", 1) == 0
              and r.get("logged_in") == r.get("clients") and r.get("results", 0) > 0)
    if killed:
        return common and (r.get("kill") or {}).get("resume_s") is not None
    return (common and r.get("world_unavailable", 1) == 0
            and r.get("world_away_events", 1) == 0)


def aggregate(runs: list[dict[str, Any]], killed: bool) -> dict[str, Any]:
    """Medians over the runs; errors, drops, timeouts and lost commands summed."""
    def med(get: Any) -> float:
        vals = []
        for r in runs:
            with contextlib.suppress(KeyError, TypeError):
                vals.append(get(r))
        return median([v for v in vals if v is not None])

    roles = [*ROLES, "gateways"]
    agg: dict[str, Any] = {
        "clients": runs[0]["clients"], "rate": runs[0]["rate"], "runs": len(runs),
        "cmds_per_s": med(lambda r: r["cmds_per_s"]),
        "rtt_ms": {k: med(lambda r, k=k: r["rtt_ms"][k])
                   for k in ("p50", "p90", "p99", "p999", "max", "mean")},
        "p99_spread_ms": [min(r["rtt_ms"]["p99"] for r in runs),
                          max(r["rtt_ms"]["p99"] for r in runs)],
        "cpu_percent": {k: med(lambda r, k=k: r["cpu_percent"][k]) for k in roles},
        "cpu_us_per_cmd": {k: med(lambda r, k=k: r["cpu_us_per_cmd"][k]) for k in roles},
        "wait_percent": {k: med(lambda r, k=k: r["wait_percent"][k]) for k in ROLES},
        "other_cpu_percent": med(lambda r: r["other_cpu_percent"]),
        "world_start_s": med(lambda r: r["world_start_s"]),
        "logged_in_min": min(r.get("logged_in", 0) for r in runs),
        "drops": sum(r.get("drops", 0) for r in runs),
        "timeouts": sum(r.get("timeouts_total", 0) for r in runs),
        "world_unavailable": sum(r.get("world_unavailable", 0) for r in runs),
        "other_errors": sum(r.get("other_errors", 0) for r in runs),
        "lost_acked": sum(r.get("lost_acked", 0) for r in runs),
        "acked": sum(r["journal"]["acked"] for r in runs),
        "error_lines": sum(r.get("error_lines", 0) for r in runs),
        "world_away_events": sum(r.get("world_away_events", 0) for r in runs),
        "errors": {},
    }
    # As bench.run: the bar on the medians; an error, a drop or a loss in any run fails
    # the point (with a kill, every run must also have resumed).
    agg["passed"] = ((killed or agg["rtt_ms"]["p99"] < BAR_MS)
                     and all(clean(r, killed) for r in runs))
    for r in runs:
        for code, n in r.get("errors", {}).items():
            agg["errors"][code] = agg["errors"].get(code, 0) + n
    if killed:
        agg["kill"] = {
            "at_s": runs[0].get("kill_at"),
            "resume_s": med(lambda r: r["kill"]["resume_s"]),
            "resume_s_each": [r["kill"]["resume_s"] for r in runs],
            "all_resumed_s": med(lambda r: r["kill"]["all_resumed_s"]),
            "clients_resumed_min": min(r["kill"]["clients_resumed"] for r in runs),
            "world_start_s": med(lambda r: r["kill"]["world_start_s"]),
            "unavailable_sent_before_kill": sum(r["kill"]["unavailable_sent_before_kill"]
                                                for r in runs),
            "unavailable_sent_after_kill": sum(r["kill"]["unavailable_sent_after_kill"]
                                               for r in runs),
        }
    return agg


def table(a: dict[str, Any], killed: bool) -> str:
    """The figures of an aggregated point, as two small tables."""
    rtt = a["rtt_ms"]
    head = ["clients", "cmds/s", "p50 ms", "p99 ms", "max ms", "unavail", "errors", "timeouts",
            "drops", "lost acked", "pass"]
    row = [str(a["clients"]), f"{a['cmds_per_s']:.0f}", f"{rtt['p50']:.1f}",
           f"{rtt['p99']:.1f}", f"{rtt['max']:.1f}", str(a["world_unavailable"]),
           str(a["other_errors"]), str(a["timeouts"]), str(a["drops"]), str(a["lost_acked"]),
           "yes" if a["passed"] else "NO"]
    if killed:
        k = a["kill"]
        head += ["resume s", "all back s", "restart s"]
        row += [_num(k["resume_s"], 2), _num(k["all_resumed_s"], 2),
                _num(k["world_start_s"], 2)]
    widths = [max(len(h), len(c)) for h, c in zip(head, row, strict=True)]
    lines = ["  ".join(f"{h:>{w}}" for h, w in zip(head, widths, strict=True)),
             "  ".join(f"{c:>{w}}" for c, w in zip(row, widths, strict=True)), "",
             f"{'role':>10}  {'CPU %':>6}  {'CPU us/cmd':>10}  {'wait %':>6}"]
    for role in (*ROLES, "gateways"):
        wait = a["wait_percent"].get(role)
        lines.append(f"{role:>10}  {_num(a['cpu_percent'][role], 1):>6}  "
                     f"{_num(a['cpu_us_per_cmd'][role], 0):>10}  "
                     f"{_num(wait, 1) if wait is not None else '':>6}")
    return "\n".join(lines)


def _num(v: float | None, digits: int) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def build_parser() -> argparse.ArgumentParser:
    """The command line of `python -m bench.cluster`."""
    p = argparse.ArgumentParser(prog="python -m bench.cluster",
                                description=__doc__.split("\n")[0])
    p.add_argument("--clients", type=int, default=1000)
    p.add_argument("--rate", type=float, default=1.0, help="commands per second per client")
    p.add_argument("--duration", type=float, default=20.0, help="measured window, seconds")
    p.add_argument("--warmup", type=float, default=3.0, help="load before the window, seconds")
    p.add_argument("--repeat", type=int, default=1, help="runs (medians reported)")
    p.add_argument("--crowd", type=float, default=0.0, help="share of the players put in "
                   "the town square; the rest spread over the starter town")
    p.add_argument("--kill-at", type=float, default=None, metavar="T",
                   help="SIGKILL the world host T seconds into the window and start it again")
    p.add_argument("--timeout", type=float, default=10.0, help="a result later than this is "
                   "a timeout (it must cover the world host's restart with --kill-at)")
    p.add_argument("--batch", type=int, default=100, help="logins at a time")
    p.add_argument("--mix", default="1,1,1", help="weights of look,move,say")
    p.add_argument("--no-events-batch", action="store_true", help="clients log in without "
                   "`batch`: one frame per event (docs/protocol.md, `events`)")
    p.add_argument("--env", action="append", default=[], metavar="AEGENT_X=V",
                   help="a setting for the world host and the gateways (repeatable)")
    p.add_argument("--quiet-limit", type=float, default=8.0,
                   help="before each run, wait until other processes use less than this "
                        "%% of a core...")
    p.add_argument("--quiet-wait", type=float, default=120.0,
                   help="...for at most this many seconds (0: don't wait)")
    p.add_argument("--out", help="the results file (default bench/results/cluster.json, "
                                 "cluster-kill.json with --kill-at)")
    p.add_argument("--keep", action="store_true", help="keep the temp dir (logs, data)")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m bench.cluster`."""
    args = build_parser().parse_args(argv)
    if args.kill_at is not None and not 0 < args.kill_at < args.duration:
        raise SystemExit("--kill-at must be within the window (0 < T < --duration)")
    signal.signal(signal.SIGTERM, _interrupt)  # unwind: the cluster is stopped too
    from server.cluster import find_nats_server

    if find_nats_server() is None:
        raise SystemExit("bench.cluster: nats-server not found: run `make nats`")
    killed = args.kill_at is not None
    out = Path(args.out or RESULTS / ("cluster-kill.json" if killed else "cluster.json"))
    fd = raise_fd_limit()
    if fd < 2 * args.clients + 100:
        log(f"warning: open-files limit {fd} is low for {args.clients} clients")
    print(HASH_NOTE)
    work = Path(tempfile.mkdtemp(prefix="aegent-clbench-"))
    try:
        data = DataDir(work)
        runs = []
        for k in range(args.repeat):
            log(f"run: {args.clients} clients over {GATEWAYS} gateways, {args.rate:g}/s each, "
                f"{args.duration:g} s window" + (f", world host killed at {args.kill_at:g} s"
                                                 if killed else "")
                + f" (#{k + 1}/{args.repeat})")
            r = run_once(data, args, work, f"run{k + 1}")
            r["kill_at"] = args.kill_at
            log(f"  p50 {r['rtt_ms']['p50']:.1f} ms  p99 {r['rtt_ms']['p99']:.1f} ms  "
                f"{r['cmds_per_s']} cmds/s  world_unavailable {r['world_unavailable']}  "
                f"other errors {r['other_errors']}  timeouts {r['timeouts_total']}  drops "
                f"{r['drops']}  lost acked {r['lost_acked']} of {r['journal']['acked']}"
                + (f"  resume {r['kill']['resume_s']} s" if killed else ""))
            runs.append(r)
        agg = aggregate(runs, killed)
        agg["each"] = runs
    finally:
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    report = {"when": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "environment": environment(),
              "bar_ms": BAR_MS, "argv": sys.argv[1:] if argv is None else argv,
              "command": "python -m bench.cluster " + " ".join(
                  sys.argv[1:] if argv is None else argv),
              "note": HASH_NOTE, "mode": "cluster-kill" if killed else "cluster",
              "gateways": GATEWAYS, "point": agg}
    print()
    print(f"cluster: nats-server, 1 world host, {GATEWAYS} gateways; {args.rate:g} cmd/s per "
          f"client, {args.duration:g} s window, median of {args.repeat} run(s)"
          + (f"; world host killed {args.kill_at:g} s into the window" if killed else ""))
    print(table(agg, killed))
    write_report(out, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
