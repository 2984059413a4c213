"""The benchmark orchestrator (`make bench`): a real server, a separate load generator.

For each measured point it starts `aegent serve` on a fresh port over a temp data
dir (accounts and character snapshots made beforehand with the server's own
`SqlRepository` and `accounts.Hasher`, each character in a random room of the
starter world so the crowd is spread over its rooms), waits for `/health`, takes
the server's RSS with nobody connected, runs `python -m bench.load` as its own
process, samples the server's CPU and RSS with psutil during the measurement
window, stops the server and gathers the numbers.

    python -m bench.run                       # 1000 clients, 30 s window, then the tick table
    python -m bench.run --clients 2000 --duration 20 --repeat 3
    python -m bench.run --knee --duration 20  # step up until p99 >= 50 ms or an error/drop
    python -m bench.run --quick               # smoke run: 100 clients, 5 s

The bar (the issue): 1,000 clients at one command a second each, p99 round trip
under 50 ms, no errors, no dropped connections. Login hashing is made cheap
(argon2 time cost 1, 1 MiB) for the server too, since this measures commands, not
logins. Writes `--out` (`bench/results/latest.json`), and with `--knee` also
`knee.json` and `knee.svg` beside it.

The numbers need the machine to themselves: on two cores, any third busy process
takes CPU from the server or the generator and the round trips show it. So before
each run it waits (`--quiet-wait`) for other processes to calm down, and after it
reads how long the server and the generator sat runnable but waiting for a CPU
(/proc/PID/task/*/schedstat): a run where either waited more than
`--starved-limit` % of the window is measured again (`--noisy-retries`), and the
`srv wait%` column shows what was left. On a busy shared box, `--nice -10` puts
the server and the generator ahead of other work (in sessions of their own, so
that it also counts against other autogroups).

`--ref REV` measures a committed revision (a `git archive` copy) rather than the
working tree, which keeps a long run stable while the tree changes under it;
`--profile FILE` attaches py-spy to the server during the window (`pip install
py-spy` first; `--profile-format raw` also writes FILE.top.txt, the hot path as
text).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil

from bench import tick as tick_bench

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
PASSWORD = "bench-password"
BAR_MS = 50.0
KNEE_STEPS = (500, 1000, 1500, 2000, 2500, 3000, 4000, 5000, 6000, 8000, 10000)
# The same cheap argon2 for the accounts made here and for the server that checks them.
FAST_HASH_ENV = {"AEGENT_ARGON2_TIME_COST": "1", "AEGENT_ARGON2_MEMORY_KIB": "1024"}
HASH_NOTE = ("note: login hashing cost is lowered (argon2 time cost 1, 1 MiB) for the accounts "
             "and the server: this benchmark measures commands, not logins")


def log(msg: str) -> None:
    """Progress, to stderr (the tables go to stdout)."""
    print(msg, file=sys.stderr, flush=True)


def account_names(n: int) -> list[str]:
    """`n` valid character names: Bench + four letters (Benchaaaa, Benchaaab, ...)."""
    out = []
    for i in range(n):
        s = ""
        for _ in range(4):
            i, r = divmod(i, 26)
            s = chr(97 + r) + s
        out.append("Bench" + s)
    return out


def free_port() -> int:
    """A TCP port free right now on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def raise_fd_limit() -> int:
    """Lift the soft open-files limit to the hard one (inherited by the children)."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def starter_rooms(world: Any) -> list[str]:
    """The rooms of the start room's zone with at least one exit not closed by a door.

    The crowd is spread over the starter town (peaceful, no aggressive mobs), not
    over the whole world: the benchmark measures commands, not fights.
    """
    zone = world.rooms[world.content.start_room].zone
    return [rid for rid, room in world.rooms.items()
            if room.zone == zone
            and any(ex.door is None or not ex.door.closed for ex in room.exits.values())]


class DataDir:
    """A temp data dir with accounts Bench... and their characters' snapshots."""

    def __init__(self, root: Path) -> None:
        from server import config

        self.path = root / "data"
        self.settings = config.from_env(env={**FAST_HASH_ENV, "AEGENT_DATA_DIR": str(self.path)})
        self.path.mkdir(parents=True, exist_ok=True)
        self.names: list[str] = []
        self.names_file = root / "names.txt"
        self._hash: str | None = None

    def ensure(self, n: int, seed: int = 1, crowd: float = 0.0) -> None:
        """At least `n` accounts exist; every character is put back in a random room
        (`crowd`: this share of them in the start room instead, a town square at peak)."""
        from server.host import accounts, content
        from server.host.storage import SqlRepository
        from world.game import World

        s = self.settings
        repo = SqlRepository(s.resolved_database_url)
        try:
            repo.migrate()
            if len(self.names) < n:
                t0 = time.perf_counter()
                if self._hash is None:
                    hasher = accounts.Hasher(s.argon2_time_cost, s.argon2_memory_kib,
                                             s.argon2_parallelism)
                    try:
                        self._hash = asyncio.run(hasher.hash(PASSWORD))
                    finally:
                        hasher.close()
                new = account_names(n)[len(self.names):]
                for name in new:
                    repo.create_account(name, self._hash)
                self.names.extend(new)
                self.names_file.write_text("\n".join(self.names) + "\n")
                log(f"  made {len(new)} accounts in {time.perf_counter() - t0:.1f} s")
            # Snapshots exactly as the world makes them, each in a random room of the
            # starter zone that has a way out (not one whose only doors start closed).
            world = World(content.load(s.content_dir), seed=seed)
            rng = random.Random(seed)
            rooms = starter_rooms(world)
            classes = list(world.content.classes)
            batch = []
            square = world.content.start_room
            for i, name in enumerate(self.names):
                ch = world.enter(name, rng.choice(classes))
                world.move(ch, square if i < crowd * len(self.names) else rng.choice(rooms))
                batch.append((name, world.leave(ch, "bench")))
                world.drain()
            repo.save_characters(batch)
        finally:
            repo.close()


class Sampler(threading.Thread):
    """Samples a few processes' CPU and RSS every `interval` seconds while running."""

    def __init__(self, server: psutil.Process, loadgen: psutil.Process | None,
                 interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.server = server
        self.loadgen = loadgen
        self.interval = interval
        self.rss: list[int] = []
        self.server_cpu: list[float] = []
        self.total_cpu: list[float] = []
        self._halt = threading.Event()
        self.server.cpu_percent(None)
        psutil.cpu_percent(None)

    def run(self) -> None:
        while not self._halt.wait(self.interval):
            try:
                self.rss.append(self.server.memory_info().rss)
                self.server_cpu.append(self.server.cpu_percent(None))
                self.total_cpu.append(psutil.cpu_percent(None))
            except psutil.Error:
                return

    def stop(self) -> None:
        self._halt.set()
        self.join()


def cpu_s(p: psutil.Process) -> float:
    """CPU seconds `p` has used so far (user + system)."""
    t = p.cpu_times()
    return t.user + t.system


def sched_wait_s(pid: int) -> float:
    """Seconds the threads of `pid` spent runnable but waiting for a CPU (0 if unknown).

    From /proc/PID/task/*/schedstat (time on CPU, time waiting on a run queue,
    slices). This is the precise sign of a shared machine: a server that waited
    for a CPU shows it in its round trips, whatever its own CPU use.
    """
    total = 0
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:
                total += int((task / "schedstat").read_text().split()[1])
            except (OSError, IndexError, ValueError):
                continue
    except OSError:
        return 0.0
    return total / 1e9


def host_busy_s() -> float:
    """CPU seconds the whole machine has been busy (all cores, everything but idle)."""
    t = psutil.cpu_times()
    return sum(t) - t.idle - getattr(t, "iowait", 0.0)


def wait_quiet(limit_pct: float, timeout: float) -> float:
    """Wait until other processes use under `limit_pct` of one core; returns what they use.

    The benchmark needs the machine to itself: on two cores, a third busy process
    takes the server's CPU and the round trips show it, not the server.
    """
    me = psutil.Process()
    deadline = time.monotonic() + timeout
    said = False
    while True:
        b0, m0 = host_busy_s(), cpu_s(me)
        time.sleep(2.0)
        other = 100.0 * ((host_busy_s() - b0) - (cpu_s(me) - m0)) / 2.0
        if other < limit_pct or time.monotonic() > deadline:
            if said:
                log(f"  other processes now use {other:.0f}% of a core; going on")
            return other
        if not said:
            log(f"  other processes use {other:.0f}% of a core; waiting up to {timeout:g} s "
                f"for the machine to be quiet")
            said = True


def wait_health(port: int, proc: subprocess.Popen[bytes], timeout: float = 60.0
                ) -> dict[str, Any]:
    """Poll /health until it answers (or the server dies)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode} before /health")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                health: dict[str, Any] = json.loads(r.read())
                return health
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the server did not answer /health in time")


def load_command(url: str, clients: int, args: argparse.Namespace, data: DataDir,
                 json_out: Path, *more: str) -> list[str]:
    """`python -m bench.load` for `clients` of `data`'s players on `url` (or several,
    comma-separated), at args' rate, window, warm-up, login batch and mix; then `more`."""
    return [sys.executable, "-m", "bench.load", "--url", url, "--clients", str(clients),
            "--rate", str(args.rate), "--duration", str(args.duration),
            "--warmup", str(args.warmup), "--names-file", str(data.names_file),
            "--password", PASSWORD, "--json-out", str(json_out),
            "--batch", str(args.batch), "--mix", args.mix, *more, "--spread",
            *(["--no-events-batch"] if getattr(args, "no_events_batch", False) else [])]


def load_messages(gen: subprocess.Popen[str]) -> Iterator[dict[str, Any]]:
    """The load generator's progress, as it comes: a JSON object a line on its stdout
    (`{"phase": ...}`); any other line is logged."""
    assert gen.stdout is not None
    for line in gen.stdout:
        try:
            msg: dict[str, Any] = json.loads(line)
        except ValueError:
            log(f"  load: {line.rstrip()}")
            continue
        yield msg


def logged_in_line(msg: dict[str, Any]) -> str:
    """What the load generator's `logged_in` message says, as a progress line."""
    return f"  {msg['clients']} logged in ({msg['failures']} failed) in {msg['seconds']} s"


def write_report(out: Path, report: dict[str, Any]) -> None:
    """The results file: the report as indented JSON (its folder made if need be)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    log(f"wrote {out}")


def run_point(data: DataDir, clients: int, args: argparse.Namespace, work: Path,
              label: str) -> dict[str, Any]:
    """One measured run: fresh server, one load generator process, the numbers."""
    data.ensure(clients, crowd=args.crowd)
    if args.quiet_wait > 0:
        wait_quiet(args.quiet_limit, args.quiet_wait)
    server, port, server_log = start_server(data, work, label, args.nice,
                                            extra_env=dict(kv.split("=", 1) for kv in args.env))
    sp = psutil.Process(server.pid)
    result: dict[str, Any] = {"clients": clients, "rate": args.rate}
    gen: subprocess.Popen[str] | None = None
    try:
        time.sleep(1.0)
        rss0 = sp.memory_info().rss
        out_json = work / f"load-{label}.json"
        load_cmd = load_command(f"ws://127.0.0.1:{port}/ws", clients, args, data, out_json)
        gen = subprocess.Popen(load_cmd, stdout=subprocess.PIPE, cwd=ROOT, text=True,
                               preexec_fn=_niceness(args.nice))
        gp = psutil.Process(gen.pid)
        sampler: Sampler | None = None
        rss_logged_in = rss0
        srv_cpu0 = gen_cpu0 = t0 = 0.0
        window: dict[str, float] = {}
        profile: subprocess.Popen[bytes] | None = None
        for msg in load_messages(gen):
            phase = msg.get("phase")
            if phase == "logged_in":
                rss_logged_in = sp.memory_info().rss
                log(f"{logged_in_line(msg)}; server RSS {rss_logged_in / 2**20:.1f} MiB")
            elif phase == "window_start":
                sampler = Sampler(sp, gp)
                sampler.start()
                srv_cpu0, gen_cpu0, t0 = cpu_s(sp), cpu_s(gp), time.perf_counter()
                host0, me0 = host_busy_s(), cpu_s(psutil.Process())
                srv_wait0, gen_wait0 = sched_wait_s(server.pid), sched_wait_s(gen.pid)
                if args.profile:
                    profile = start_profile(server.pid, args, work, label)
            elif phase == "window_end" and sampler is not None:
                wall = time.perf_counter() - t0
                window = {"wall": wall, "srv_cpu": cpu_s(sp) - srv_cpu0,
                          "gen_cpu": cpu_s(gp) - gen_cpu0,
                          "host": host_busy_s() - host0,
                          "me": cpu_s(psutil.Process()) - me0,
                          "srv_wait": sched_wait_s(server.pid) - srv_wait0,
                          "gen_wait": sched_wait_s(gen.pid) - gen_wait0}
                sampler.stop()
        gen.wait()
        if profile is not None:
            profile.wait()
            prof = Path(args.profile)
            if args.profile_format == "raw" and prof.exists():
                summary = prof.with_suffix(prof.suffix + ".top.txt")
                summary.write_text(summarize_collapsed(prof))
                log(f"  profile summary: {summary}")
        if gen.returncode != 0 or not out_json.exists():
            raise RuntimeError(f"the load generator failed ({gen.returncode})")
        load = json.loads(out_json.read_text())
        result.update(load)
        if sampler is not None and sampler.rss and window:
            rss = statistics.median(sampler.rss)
            logged = max(1, load["logged_in"])
            result.update({
                "server_cpu_percent": round(100.0 * window["srv_cpu"] / window["wall"], 1),
                "server_cpu_percent_max": round(max(sampler.server_cpu, default=0.0), 1),
                "host_cpu_percent": round(statistics.median(sampler.total_cpu), 1),
                "server_cpu_ms_per_cmd": round(1000.0 * window["srv_cpu"]
                                               / max(1, load["sent"]), 3),
                "server_wait_percent": round(100.0 * window["srv_wait"] / window["wall"], 1),
                "loadgen_wait_percent": round(100.0 * window["gen_wait"] / window["wall"], 1),
                "other_cpu_percent": round(100.0 * (window["host"] - window["srv_cpu"]
                                                    - window["gen_cpu"] - window["me"])
                                           / window["wall"], 1),
                "loadgen_cpu_percent_psutil": round(100.0 * window["gen_cpu"] / window["wall"],
                                                    1),
                "server_rss_idle_mib": round(rss0 / 2**20, 1),
                "server_rss_logged_in_mib": round(rss_logged_in / 2**20, 1),
                "server_rss_mib": round(rss / 2**20, 1),
                "kib_per_player": round((rss - rss0) / 1024 / logged, 1),
                "kib_per_player_logged_in": round((rss_logged_in - rss0) / 1024 / logged, 1),
            })
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as r:
                h = json.loads(r.read())
            result["server_tick_p99_ms"] = h.get("tick_p99_ms")
            result["server_tick_max_ms"] = h.get("tick_max_ms")
            result["server_ticks_skipped"] = h.get("ticks_skipped")
        except OSError:
            pass
    finally:
        if gen is not None and gen.poll() is None:
            gen.kill()
            gen.wait()
        stop_server(server)
    problems = [ln for ln in server_log.read_text(errors="replace").splitlines()
                if "error" in ln.lower() or "traceback" in ln.lower()]
    result["server_error_lines"] = len(problems)
    if problems:
        result["server_errors_sample"] = problems[:5]
    result["server_exit"] = server.returncode
    result["passed"] = passed(result)
    return result


def _niceness(nice: int) -> Any:
    """A preexec_fn giving the child the nice value `nice` (None when 0).

    With the kernel's autogroups (the default on desktops and many containers) a
    process's nice only counts inside its session's group, and groups share the CPU
    equally; so the child gets a session (and group) of its own, with that nice too.
    """
    if not nice:
        return None

    def apply() -> None:
        os.setsid()
        # no autogroups here (OSError): the process nice below is what counts
        with contextlib.suppress(OSError):
            Path("/proc/self/autogroup").write_text(str(nice))
        os.setpriority(os.PRIO_PROCESS, 0, nice)

    return apply


def start_server(data: DataDir, work: Path, label: str, nice: int = 0, tries: int = 3,
                 extra_env: dict[str, str] | None = None
                 ) -> tuple[subprocess.Popen[bytes], int, Path]:
    """`aegent serve` on a free port, answering /health (another port if one was taken)."""
    env = {**os.environ, **FAST_HASH_ENV,
           "AEGENT_SEED": "1",
           "AEGENT_IDLE_TIMEOUT": "36000",
           "AEGENT_LOG_LEVEL": "warning",
           "PYTHONUNBUFFERED": "1", **(extra_env or {})}
    aegent = Path(sys.executable).parent / "aegent"
    for attempt in range(1, tries + 1):
        port = free_port()
        server_log = work / f"server-{label}-{attempt}.log"
        cmd = [str(aegent) if aegent.exists() else "aegent", "serve", "--port", str(port),
               "--telnet-port", str(free_port()), "--data-dir", str(data.path)]
        with open(server_log, "wb") as out:
            server = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                      cwd=work, preexec_fn=_niceness(nice))
        try:
            wait_health(port, server)
            return server, port, server_log
        except RuntimeError as exc:
            stop_server(server)
            tail = server_log.read_text(errors="replace").strip().splitlines()[-5:]
            log(f"  the server did not start ({exc}): " + " | ".join(tail))
            if attempt == tries:
                raise
    raise AssertionError("unreachable")


def start_profile(pid: int, args: argparse.Namespace, work: Path, label: str
                  ) -> subprocess.Popen[bytes] | None:
    """py-spy on the server for part of the window (an investigation aid, not a dependency)."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        log("  --profile: py-spy not found; pip install py-spy into the venv")
        return None
    out = Path(args.profile)
    out.parent.mkdir(parents=True, exist_ok=True)
    secs = str(int(min(args.duration - 1, 15)))
    log(f"  profiling the server for {secs} s -> {out}")
    return subprocess.Popen([spy, "record", "--pid", str(pid), "--duration", secs,
                             "--rate", "100", "-o", str(out), "--format", args.profile_format],
                            stdout=subprocess.DEVNULL, stderr=open(work / f"pyspy-{label}.log",
                                                                   "wb"))


def summarize_collapsed(path: Path, top: int = 30) -> str:
    """A text summary of py-spy's raw output (collapsed stacks): the event loop's hot path.

    Only the main thread (the event loop) is ranked; the worker threads (database,
    password hashing) are summed apart, without the samples where they sit idle in
    their queue's `get` (py-spy sometimes counts those as active).
    """
    own: dict[str, int] = {}
    incl: dict[str, int] = {}
    main = workers = idle = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        raw = stack.split(";")
        if raw[0].startswith("Thread._bootstrap"):
            if raw[-1] == "_worker (concurrent/futures/thread.py:81)":
                idle += n
            else:
                workers += n
            continue
        main += n
        # by function, not by line: "f (file.py:12)" -> "f (file.py)"
        frames = [re.sub(r":\d+\)$", ")", f) for f in raw]
        own[frames[-1]] = own.get(frames[-1], 0) + n
        for f in set(frames):
            incl[f] = incl.get(f, 0) + n
    total = max(1, main)
    out = [f"event loop thread: {main} samples (the percentages below are of these); "
           f"worker threads busy: {workers}; worker threads idle in queue.get: {idle}",
           "", "self time (the function itself):"]
    out += [f"{100 * n / total:6.1f}%  {f}" for f, n in
            sorted(own.items(), key=lambda kv: -kv[1])[:top]]
    out += ["", "inclusive time (the function and what it calls):"]
    out += [f"{100 * n / total:6.1f}%  {f}" for f, n in
            sorted(incl.items(), key=lambda kv: -kv[1])[:top * 2]]
    return "\n".join(out) + "\n"


def stop_server(server: subprocess.Popen[bytes]) -> None:
    """SIGTERM (the server saves everyone and stops), then SIGKILL if it hangs."""
    if server.poll() is not None:
        return
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(60)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def problems_of(r: dict[str, Any]) -> int:
    """Everything that is not a valid reply: error frames, timeouts, failed logins, crashes."""
    return int(r.get("error_count", 0) + r.get("timeouts_total", 0)
               + r.get("login_failures", 0) + r.get("server_error_lines", 0))


def passed(r: dict[str, Any]) -> bool:
    """The bar: p99 under 50 ms, no error, no drop, every client logged in."""
    p99 = r.get("rtt_ms", {}).get("p99", math.inf)
    return (p99 < BAR_MS and problems_of(r) == 0 and r.get("drops", 1) == 0
            and r.get("logged_in") == r.get("clients") and r.get("results", 0) > 0)


def median(values: list[float]) -> float:
    """The median of `values` without the missing ones (None, nan), rounded; nan if none."""
    vals = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return round(statistics.median(vals), 3) if vals else math.nan


def aggregate(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over repeated runs (errors and drops: summed over all runs)."""
    med = {k: median([r.get(k, math.nan) for r in runs])
           for k in ("cmds_per_s", "server_cpu_percent", "server_rss_mib", "server_rss_idle_mib",
                     "kib_per_player", "kib_per_player_logged_in", "loadgen_cpu_percent",
                     "host_cpu_percent", "other_cpu_percent", "login_seconds",
                     "server_tick_p99_ms", "server_cpu_ms_per_cmd", "server_wait_percent",
                     "loadgen_wait_percent")}
    rtt = {k: median([r["rtt_ms"][k] for r in runs if "rtt_ms" in r])
           for k in ("p50", "p90", "p99", "p999", "max", "mean")}
    by_cmd = {c: {k: median([r["rtt_ms_by_command"][c][k] for r in runs
                              if "rtt_ms_by_command" in r]) for k in ("p50", "p99")}
              for c in ("look", "move", "say")}
    refused: dict[str, int] = {}
    errors: dict[str, int] = {}
    for r in runs:
        for code, n in r.get("refused", {}).items():
            refused[code] = refused.get(code, 0) + n
        for code, n in r.get("errors", {}).items():
            errors[code] = errors.get(code, 0) + n
    p99s = [r["rtt_ms"]["p99"] for r in runs if "rtt_ms" in r]
    agg = {
        "clients": runs[0]["clients"],
        "rate": runs[0]["rate"],
        "runs": len(runs),
        **med,
        "rtt_ms": rtt,
        "rtt_ms_by_command": by_cmd,
        "p99_spread_ms": [min(p99s), max(p99s)] if p99s else [],
        "send_lag_p99_ms": median([r["send_lag_ms"]["p99"] for r in runs if "send_lag_ms" in r]),
        "problems": sum(problems_of(r) for r in runs),
        "drops": sum(r.get("drops", 0) for r in runs),
        "timeouts": sum(r.get("timeouts_total", 0) for r in runs),
        "errors": errors,
        "refused_total": refused,
        "results_total": sum(r.get("results", 0) for r in runs),
        # The bar on the medians; an error or a drop in any run fails the point.
        "passed": (rtt["p99"] < BAR_MS and all(problems_of(r) == 0 and r.get("drops", 1) == 0
                                               and r.get("logged_in") == r.get("clients")
                                               for r in runs)),
    }
    return agg


def measure(data: DataDir, clients: int, args: argparse.Namespace, work: Path
            ) -> dict[str, Any]:
    """`--repeat` runs of one point, and their medians."""
    runs = []
    for k in range(args.repeat):
        log(f"run: {clients} clients, {args.rate}/s each, {args.duration:g} s window "
            f"(#{k + 1}/{args.repeat})")
        for attempt in range(args.noisy_retries + 1):
            r = run_point(data, clients, args, work, f"{clients}-{k + 1}")
            wait = max(r.get("server_wait_percent", 0.0), r.get("loadgen_wait_percent", 0.0))
            if wait <= args.starved_limit or attempt == args.noisy_retries:
                break
            log(f"  the server or the generator waited for a CPU {wait:.0f}% of the window "
                f"(other processes took {r.get('other_cpu_percent', 0):.0f}% of a core): "
                f"discarding this run and measuring again")
        r["attempts"] = attempt + 1
        log(f"  p50 {r['rtt_ms']['p50']:.1f} ms  p99 {r['rtt_ms']['p99']:.1f} ms  "
            f"max {r['rtt_ms']['max']:.1f} ms  {r['cmds_per_s']} cmds/s  "
            f"problems {problems_of(r)}  drops {r['drops']}  server CPU "
            f"{r.get('server_cpu_percent')}%  load generator CPU {r['loadgen_cpu_percent']}%  "
            f"other processes {r.get('other_cpu_percent')}%  server waited for a CPU "
            f"{r.get('server_wait_percent')}% of the window")
        runs.append(r)
    agg = aggregate(runs)
    agg["each"] = runs
    return agg


# ---- output ------------------------------------------------------------------------------

COLUMNS = (("clients", 7), ("rate", 5), ("cmds/s", 7), ("p50 ms", 7), ("p99 ms", 7),
           ("p99 range", 11), ("max ms", 7), ("p99/bar", 7), ("errors", 6), ("drops", 5),
           ("srv CPU%", 8), ("srv ms/cmd", 10), ("srv RSS MiB", 11), ("KiB/player", 10),
           ("gen CPU%", 8), ("srv wait%", 9), ("other CPU%", 10), ("pass", 4))


def row_cells(a: dict[str, Any]) -> list[str]:
    """One table row for an aggregated point."""
    rtt = a["rtt_ms"]
    return [str(a["clients"]), f"{a['rate']:g}", f"{a['cmds_per_s']:.0f}", f"{rtt['p50']:.1f}",
            f"{rtt['p99']:.1f}", "{:.0f}-{:.0f}".format(*a["p99_spread_ms"]) if a["p99_spread_ms"]
            else "-", f"{rtt['max']:.1f}", f"{rtt['p99'] / BAR_MS:.2f}",
            str(a["problems"]), str(a["drops"]), f"{a['server_cpu_percent']:.0f}",
            f"{a['server_cpu_ms_per_cmd']:.3f}", f"{a['server_rss_mib']:.1f}",
            f"{a['kib_per_player']:.1f}", f"{a['loadgen_cpu_percent']:.0f}",
            f"{a['server_wait_percent']:.1f}", f"{a['other_cpu_percent']:.0f}",
            "yes" if a["passed"] else "NO"]


def table(points: list[dict[str, Any]]) -> str:
    """The load table."""
    lines = ["  ".join(f"{h:>{w}}" for h, w in COLUMNS)]
    for a in points:
        lines.append("  ".join(f"{c:>{w}}" for c, (_, w) in zip(row_cells(a), COLUMNS,
                                                                 strict=True)))
    return "\n".join(lines)


def knee_svg(points: list[dict[str, Any]], knee: int | None, subtitle: str = "") -> str:
    """p50 and p99 against clients, log-scale ms, with the 50 ms bar. Hand-written SVG."""
    w, h = 720, 440
    left, right, top, bottom = 70, 30, 56, 60
    pw, ph = w - left - right, h - top - bottom
    pts = sorted(points, key=lambda a: a["clients"])
    xmax: float = max(a["clients"] for a in pts) * 1.08
    ys = [a["rtt_ms"][k] for a in pts for k in ("p50", "p99") if a["rtt_ms"][k] > 0]
    lo = 10 ** math.floor(math.log10(max(0.1, min(ys + [BAR_MS]))))
    hi = 10 ** math.ceil(math.log10(max(ys + [BAR_MS * 2])))

    def x(v: float) -> float:
        return left + pw * v / xmax

    def y(v: float) -> float:
        v = max(v, lo)
        return top + ph * (1 - (math.log10(v) - math.log10(lo)) /
                           (math.log10(hi) - math.log10(lo)))

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
           f'viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="13">',
           f'<rect width="{w}" height="{h}" fill="white"/>',
           f'<text x="{w / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">'
           f'Aegent Quest: command round trip vs concurrent clients (1 cmd/s each)</text>',
           f'<text x="{w / 2}" y="42" text-anchor="middle" font-size="12" fill="#555">'
           f'{subtitle}</text>']
    # grid and y labels (1-2-5 steps)
    decade = lo
    while decade <= hi:
        for m in (1, 2, 5):
            v = decade * m
            if lo <= v <= hi:
                yy = y(v)
                out.append(f'<line x1="{left}" y1="{yy:.1f}" x2="{left + pw}" y2="{yy:.1f}" '
                           f'stroke="#e4e4e4"/>')
                out.append(f'<text x="{left - 8}" y="{yy + 4:.1f}" text-anchor="end">'
                           f'{v:g}</text>')
        decade *= 10
    step = 500 if xmax <= 6000 else 1000
    for v in range(0, int(xmax) + 1, step):
        xx = x(v)
        out.append(f'<line x1="{xx:.1f}" y1="{top}" x2="{xx:.1f}" y2="{top + ph}" '
                   f'stroke="#f0f0f0"/>')
        out.append(f'<text x="{xx:.1f}" y="{top + ph + 18}" text-anchor="middle">{v}</text>')
    out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" '
               f'stroke="#333"/>')
    out.append(f'<text x="{left + pw / 2}" y="{h - 18}" text-anchor="middle">'
               f'concurrent logged-in clients</text>')
    out.append(f'<text x="18" y="{top + ph / 2}" text-anchor="middle" '
               f'transform="rotate(-90 18 {top + ph / 2})">round trip, ms (log scale)</text>')
    # the bar
    yb = y(BAR_MS)
    out.append(f'<line x1="{left}" y1="{yb:.1f}" x2="{left + pw}" y2="{yb:.1f}" stroke="#c00" '
               f'stroke-width="1.5" stroke-dasharray="6 4"/>')
    out.append(f'<text x="{left + pw - 6}" y="{yb - 6:.1f}" text-anchor="end" fill="#c00">'
               f'50 ms bar (p99)</text>')
    if knee:
        xk = x(knee)
        out.append(f'<line x1="{xk:.1f}" y1="{top}" x2="{xk:.1f}" y2="{top + ph}" '
                   f'stroke="#2a7" stroke-width="1.5" stroke-dasharray="3 3"/>')
        out.append(f'<text x="{xk + 5:.1f}" y="{top + ph - 8}" fill="#2a7">knee: {knee}</text>')
    for key, colour in (("p99", "#d35400"), ("p50", "#2471a3")):
        coords = " ".join(f"{x(a['clients']):.1f},{y(a['rtt_ms'][key]):.1f}" for a in pts)
        out.append(f'<polyline points="{coords}" fill="none" stroke="{colour}" '
                   f'stroke-width="2"/>')
        for a in pts:
            cx, cy = x(a["clients"]), y(a["rtt_ms"][key])
            fill = colour if a["passed"] else "white"
            out.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="5" fill="{fill}" '
                       f'stroke="{colour}" stroke-width="2"/>')
            if key == "p99":
                out.append(f'<text x="{cx:.1f}" y="{cy - 10:.1f}" text-anchor="middle" '
                           f'font-size="11" fill="{colour}" stroke="white" stroke-width="3" '
                           f'paint-order="stroke">{a["rtt_ms"]["p99"]:.0f}</text>')
    lx, ly = left + 12, top + 14
    for i, (label, colour) in enumerate((("p99", "#d35400"), ("p50", "#2471a3"))):
        out.append(f'<line x1="{lx}" y1="{ly + i * 18}" x2="{lx + 22}" y2="{ly + i * 18}" '
                   f'stroke="{colour}" stroke-width="2"/>')
        out.append(f'<text x="{lx + 28}" y="{ly + i * 18 + 4}">{label}</text>')
    out.append(f'<text x="{lx}" y="{ly + 40}" font-size="11" fill="#555">hollow point: '
               f'failed (p99 over the bar, an error or a drop)</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def code_version() -> str:
    """The code under test: `--ref`'s commit, or the checkout's commit (+dirty)."""
    label = os.environ.get("AEGENT_BENCH_CODE")
    if label:
        return label
    try:
        sha = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain",
                                "--untracked-files=no"], capture_output=True, text=True,
                               check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{sha} + uncommitted changes" if dirty else sha


def environment() -> dict[str, Any]:
    """What the numbers were measured on."""
    return {"python": platform.python_version(), "machine": platform.machine(),
            "cpus": os.cpu_count(), "platform": platform.platform(),
            "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
            "code": code_version()}


def run_at_ref(ref: str, argv: list[str]) -> int:
    """Run this benchmark against a committed revision, in a copy made by `git archive`.

    The copy's server/, world/ and content/ come first on PYTHONPATH (before the
    editable install), for the server process, the accounts made beforehand and the
    tick table alike; bench/ still comes from this checkout.
    """
    sha = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", ref],
                         capture_output=True, text=True, check=True).stdout.strip()
    code = Path(tempfile.mkdtemp(prefix="aegent-bench-code-"))
    try:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", sha], capture_output=True,
                                 check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(code)], input=archive, check=True)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(code), str(ROOT)]),
               "AEGENT_BENCH_CODE": f"{sha} (committed)" if sha.startswith(ref)
               else f"{sha} ({ref}, committed)"}
        log(f"benchmarking commit {sha} from a copy in {code}")
        child = subprocess.Popen([sys.executable, "-m", "bench.run", *argv], cwd=code, env=env)
        try:
            return child.wait()
        except KeyboardInterrupt:  # pass it on, so the child stops its server
            child.terminate()
            child.wait()
            raise
    finally:
        shutil.rmtree(code, ignore_errors=True)


# ---- modes ---------------------------------------------------------------------------------

def knee_mode(data: DataDir, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Step the client count up until the bar breaks, then bisect `--refine` times."""
    steps = [int(s) for s in args.steps.split(",")] if args.steps else list(KNEE_STEPS)
    points: list[dict[str, Any]] = []
    best, first_fail = 0, None
    results = Path(args.out).parent
    partial = results / "knee.json.tmp"  # progress, in case a long run is cut short
    results.mkdir(parents=True, exist_ok=True)
    for n in steps:
        a = measure(data, n, args, work)
        points.append(a)
        partial.write_text(json.dumps(points, indent=2) + "\n")
        print(table([a]).splitlines()[-1], flush=True)
        if a["passed"]:
            best = n
        else:
            first_fail = n
            break
    if first_fail is not None:
        lo, hi = best, first_fail
        for _ in range(args.refine):
            mid = int(round((lo + hi) / 2 / 100.0)) * 100
            if mid <= lo or mid >= hi:
                break
            a = measure(data, mid, args, work)
            points.append(a)
            partial.write_text(json.dumps(points, indent=2) + "\n")
            print(table([a]).splitlines()[-1], flush=True)
            if a["passed"]:
                lo = best = mid
            else:
                hi = mid
        first_fail = hi
    points.sort(key=lambda a: a["clients"])
    partial.unlink(missing_ok=True)
    return {"points": points, "knee": best or None, "first_failing": first_fail}


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m bench.run`."""
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    p.add_argument("--clients", type=int, default=1000)
    p.add_argument("--rate", type=float, default=1.0, help="commands per second per client")
    p.add_argument("--duration", type=float, default=30.0, help="measured window, seconds")
    p.add_argument("--warmup", type=float, default=3.0, help="load before the window, seconds")
    p.add_argument("--repeat", type=int, default=1, help="runs per point (medians reported)")
    p.add_argument("--knee", action="store_true", help="step the clients up until p99 >= 50 ms")
    p.add_argument("--steps", help="client counts for --knee, comma-separated")
    p.add_argument("--refine", type=int, default=3, help="bisections after the knee brackets")
    p.add_argument("--quick", action="store_true", help="smoke run: 100 clients, 5 s")
    p.add_argument("--batch", type=int, default=100, help="logins at a time")
    p.add_argument("--mix", default="1,1,1", help="weights of look,move,say")
    p.add_argument("--no-events-batch", action="store_true", help="clients log in without "
                   "`batch`: one frame per event (docs/protocol.md, `events`)")
    p.add_argument("--no-tick", action="store_true", help="skip the tick table")
    p.add_argument("--tick-only", action="store_true", help="only the tick table")
    p.add_argument("--profile", help="py-spy the server during the window, into this file")
    p.add_argument("--profile-format", default="flamegraph", help="py-spy output format")
    p.add_argument("--quiet-limit", type=float, default=8.0,
                   help="before each run, wait until other processes use less than this "
                        "%% of a core...")
    p.add_argument("--quiet-wait", type=float, default=120.0,
                   help="...for at most this many seconds (0: don't wait)")
    p.add_argument("--starved-limit", type=float, default=3.0,
                   help="a run in which the server or the generator waited for a CPU more "
                        "than this %% of the window is measured again...")
    p.add_argument("--noisy-retries", type=int, default=4, help="...at most this many times")
    p.add_argument("--crowd", type=float, default=0.0, help="share of the players put in "
                   "the town square (0.15 of 1,000: a crowd of 150 at peak); the rest spread")
    p.add_argument("--env", action="append", default=[], metavar="AEGENT_X=V",
                   help="a setting for the server (repeatable), e.g. "
                   "AEGENT_DIRTY_SAVE_INTERVAL=3600 to measure durability's cost")
    p.add_argument("--nice", type=int, default=0,
                   help="run the server and the generator at this nice value (negative: "
                        "ahead of other work on a shared machine; needs privileges)")
    p.add_argument("--ref", help="benchmark this committed revision (git archive into a temp "
                                 "dir) instead of the working tree")
    p.add_argument("--out", default=str(RESULTS / "latest.json"))
    p.add_argument("--keep", action="store_true", help="keep the temp dir (logs, data)")
    args = p.parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so the server and the generator are stopped too.
    signal.signal(signal.SIGTERM, _interrupt)
    if args.ref:
        rest = list(sys.argv[1:] if argv is None else argv)
        i = next(i for i, a in enumerate(rest) if a == "--ref" or a.startswith("--ref="))
        del rest[i:i + (1 if "=" in rest[i] else 2)]
        return run_at_ref(args.ref, rest)
    if args.quick:
        args.clients, args.duration, args.warmup = 100, 5.0, 1.0
        args.refine = min(args.refine, 1)
    fd = raise_fd_limit()
    report: dict[str, Any] = {"when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                              "environment": environment(), "bar_ms": BAR_MS,
                              "argv": sys.argv[1:], "note": HASH_NOTE}
    print(HASH_NOTE)
    if not args.tick_only:
        need = args.clients if not args.knee else max(
            int(s) for s in (args.steps or ",".join(map(str, KNEE_STEPS))).split(","))
        if fd < 2 * need + 100:
            log(f"warning: open-files limit {fd} is low for {need} clients")
        work = Path(tempfile.mkdtemp(prefix="aegent-bench-"))
        try:
            data = DataDir(work)
            if args.knee:
                k = knee_mode(data, args, work)
                report.update(mode="knee", **k)
                print()
                print(f"knee: {args.rate:g} cmd/s per client, {args.duration:g} s windows, "
                      f"medians of {args.repeat} run(s)")
                print(table(k["points"]))
                if k["knee"] and k["first_failing"] is None:
                    print(f"knee: at least {k['knee']} clients (no step failed; give larger "
                          f"--steps)")
                elif k["knee"]:
                    print(f"knee: {k['knee']} clients hold p99 < {BAR_MS:g} ms with no errors "
                          f"or drops (first failing point: {k['first_failing']})")
                else:
                    print(f"knee: below {k['first_failing']} clients (no point passed)")
                results = Path(args.out).parent  # beside --out: bench/results/ by default
                (results / "knee.json").write_text(json.dumps(report, indent=2) + "\n")
                env = report["environment"]
                subtitle = (f"code {env['code']}; {env['cpus']} CPUs; {args.duration:g} s "
                            f"windows; medians of {args.repeat} run(s); {report['when'][:10]}")
                (results / "knee.svg").write_text(knee_svg(k["points"], k["knee"], subtitle))
            else:
                a = measure(data, args.clients, args, work)
                report.update(mode="single", points=[a])
                print()
                print(f"load: {args.rate:g} cmd/s per client, {args.duration:g} s window, "
                      f"median of {args.repeat} run(s); errors and drops summed over runs")
                print(table([a]))
                by = a["rtt_ms_by_command"]
                print("by command, p50/p99 ms: " + ", ".join(
                    f"{c} {v['p50']:.1f}/{v['p99']:.1f}" for c, v in by.items()))
                if a["refused_total"]:
                    print("refusals (valid replies): " + ", ".join(
                        f"{c} {n}" for c, n in a["refused_total"].items()))
                if a["errors"]:
                    print("errors: " + ", ".join(f"{c} {n}" for c, n in a["errors"].items()))
                if max(a["server_wait_percent"], a["loadgen_wait_percent"]) > args.starved_limit:
                    print(f"warning: the server waited for a CPU {a['server_wait_percent']:.1f}% "
                          f"and the generator {a['loadgen_wait_percent']:.1f}% of the window "
                          f"(other processes took {a['other_cpu_percent']:.0f}% of a core): the "
                          f"machine was shared, the round trips are pessimistic")
                gen_cpu = a["loadgen_cpu_percent"]
                print(f"load generator: {gen_cpu:.0f}% of one core"
                      + (" (SATURATED: above 80%, the numbers may be the generator's)"
                         if gen_cpu > 80 else " (not the bottleneck)"))
        finally:
            if args.keep:
                log(f"kept {work}")
            else:
                shutil.rmtree(work, ignore_errors=True)
    if not args.no_tick:
        sizes = (100, 1000) if args.quick else tick_bench.SIZES
        rows = tick_bench.run(sizes, ticks=300 if args.quick else 600,
                              iterations=300 if args.quick else 2000)
        report["tick"] = rows
        print()
        print("world (pure, no sockets): tick and per-command time with N characters in "
              f"{rows[0]['rooms']} rooms")
        print(tick_bench.table(rows))
    write_report(Path(args.out), report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
