"""`make mutate`: mutation testing of the rule modules with mutmut, and its report.

    python tests/mutate.py                       # every rule module, then the report
    python tests/mutate.py world/rules.py        # one module (a file or a folder)
    python tests/mutate.py --report              # only the report of the last run

mutmut (configured in pyproject.toml, `[tool.mutmut]`) copies world/ and server/ to
mutants/, plants one small bug at a time in the modules below (a `<` for a `<=`, a 2
for a 3, a dropped call...) and runs the tests that call the mutated function; a
mutant that no test notices "survives". One mutmut run covers the modules asked for
(two workers on two cores). The report prints, per module, the mutants killed out of
all and the score, then every survivor with its diff, marking those that
docs/testing.md lists as equivalent (a change no test can see, with the reason
there), and counts the survivors that are neither. It exits 1 when a module scores
under `GOAL`.

docs/testing.md explains the choice of mutmut and holds the scores of the last run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MUTMUT = Path(sys.executable).with_name("mutmut")
DOC = ROOT / "docs" / "testing.md"
GOAL = 85.0  # percent of the mutants of each module killed

# The rule modules: what `make mutate` covers, each with the mutmut names of its mutants.
MODULES = {
    "world/rules.py": "world.rules.*",
    "world/inventory.py": "world.inventory.*",
    "world/systems/": "world.systems.*",
    "world/commands/registry.py": "world.commands.registry.*",
    "server/gateway/session.py": "server.gateway.session.*",
}

# mutmut's exit codes of a mutant's test run (mutmut/stats.py), as kept in mutants/*.meta.
KILLED = {1, 3, 36, -24, 24, 152, 255, 37, -11, -9}  # failed, timed out, crashed, typed out
SURVIVED = {0}
NO_TESTS = {5, 33}


def run(modules: list[str], children: int) -> None:
    """Run mutmut over the mutants of `modules` (its output goes to mutants/mutmut.log).

    One run for them all: mutmut then makes the mutants, runs the clean suite and checks
    that a forced failure is seen once, not once per module; it runs the mutants with
    the fastest expected first, each against the tests that call its function.
    """
    log = ROOT / "mutants" / "mutmut.log"
    log.parent.mkdir(exist_ok=True)
    t0 = time.monotonic()
    print(f"mutmut: {', '.join(modules)} ...", flush=True)
    with log.open("w") as out:
        # No terminal: a mutant that makes a test read stdin must not stop the run.
        code = subprocess.call([str(MUTMUT), "run", *(MODULES[m] for m in modules),
                                "--max-children", str(children)],
                               cwd=ROOT, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                               start_new_session=True)
    print(f"mutmut: done in {time.monotonic() - t0:.0f} s (log: {log.relative_to(ROOT)})",
          flush=True)
    if code != 0:
        sys.exit(f"mutmut failed ({code}): see {log}")


def results() -> dict[str, dict[str, int | None]]:
    """Source file -> {mutant name: exit code} from mutmut's mutants/**/*.py.meta."""
    out: dict[str, dict[str, int | None]] = {}
    for meta in sorted((ROOT / "mutants").rglob("*.py.meta")):
        source = meta.relative_to(ROOT / "mutants").as_posix()[: -len(".meta")]
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        if codes:
            out[source] = codes
    return out


def documented_equivalents() -> set[str]:
    """The mutants docs/testing.md lists as equivalent (their names in backticks)."""
    if not DOC.exists():
        return set()
    return set(re.findall(r"`((?:world|server)\.[\w.]+__mutmut_\d+)`", DOC.read_text()))


def status(code: int | None) -> str:
    if code in KILLED:
        return "killed"
    if code in SURVIVED:
        return "survived"
    if code in NO_TESTS:
        return "no tests"
    return "not checked" if code is None else f"other ({code})"


def module_of(source: str) -> str | None:
    for module in MODULES:
        if source == module or (module.endswith("/") and source.startswith(module)):
            return module
    return None


def diff_of(name: str, source: str) -> str:
    """The changed lines of mutant `name` of `source` (as `mutmut show NAME` prints them)."""
    from mutmut.mutation.diff_apply import get_diff_for_mutant  # reads pyproject.toml

    os.chdir(ROOT)
    shown = get_diff_for_mutant(name, path=Path(source))
    return "\n".join(line for line in shown.splitlines()
                     if line[:1] in "+-" and not line.startswith(("+++", "---")))


def report(modules: list[str], diffs: bool = True) -> bool:
    """Print the scores and the survivors of `modules`; True if all is well."""
    equivalent = documented_equivalents()
    by_source = results()
    ok = True
    untriaged = 0
    survivors: list[tuple[str, str, str]] = []
    print(f"\nmutation score (killed / mutants), goal {GOAL:.0f} % per module:")
    print(f"  {'module':34} {'mutants':>7} {'killed':>7} {'score':>7}   equivalent  left")
    for module in modules:
        counts: Counter[str] = Counter()
        files = [s for s in by_source if module_of(s) == module]
        for source in files:
            for name, code in sorted(by_source[source].items()):
                st = status(code)
                counts[st] += 1
                if st != "killed":
                    survivors.append((source, name, st))
                    counts["equivalent" if name in equivalent else "left"] += 1
        total = sum(counts[s] for s in counts if s not in ("equivalent", "left"))
        if not total:
            print(f"  {module:34} not run")
            ok = False
            continue
        score = 100 * counts["killed"] / total
        flag = "" if score >= GOAL else "  < goal"
        print(f"  {module:34} {total:7} {counts['killed']:7} {score:6.1f} %"
              f"   {counts['equivalent']:10} {counts['left']:5}{flag}")
        ok = ok and score >= GOAL
        untriaged += counts["left"]
        if module.endswith("/"):
            for source in files:
                c = Counter(status(code) for code in by_source[source].values())
                n = sum(c.values())
                print(f"    {source:32} {n:7} {c['killed']:7} {100 * c['killed'] / n:6.1f} %")
    if survivors:
        print(f"\nsurvivors ({len(survivors)}; `mutmut show NAME` gives the diff):")
        for source, name, st in survivors:
            mark = "equivalent (docs/testing.md)" if name in equivalent else f"{st.upper()}"
            print(f"  {name}  [{mark}]")
            if diffs and name not in equivalent:
                for line in diff_of(name, source).splitlines():
                    print(f"      {line}")
    if untriaged:
        print(f"\n{untriaged} survivors are neither killed nor listed as equivalent in "
              "docs/testing.md: kill them with a test, or list them there with the reason.")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("modules", nargs="*", help=f"some of {', '.join(MODULES)}")
    parser.add_argument("--report", action="store_true", help="only report the last run")
    parser.add_argument("--max-children", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    modules = args.modules or list(MODULES)
    unknown = [m for m in modules if m not in MODULES]
    if unknown:
        parser.error(f"not a rule module: {', '.join(unknown)} (one of {', '.join(MODULES)})")
    t0 = time.monotonic()
    if not args.report:
        run(modules, args.max_children)
    ok = report(modules)
    if not args.report:
        print(f"\nmake mutate took {(time.monotonic() - t0) / 60:.1f} minutes")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
