"""What the by-hand episode benchmarks (bench/env_scores.py, bench/parties.py) share:
the flags that shape an episode, and how they report (a Markdown table on stdout, every
episode's figures as JSON with `--json-out`)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def add_episode_flags(ap: argparse.ArgumentParser, max_ticks: int, cap: str) -> None:
    """--max-ticks (default `max_ticks`, `cap` saying what it is), --ticks-per-step and
    --json-out."""
    ap.add_argument("--max-ticks", type=int, default=max_ticks, help=cap)
    ap.add_argument("--ticks-per-step", type=int, default=10)
    ap.add_argument("--json-out", type=Path, help="also write every episode's figures here")


def report(table: Sequence[str], rows: Sequence[dict[str, Any]], json_out: Path | None) -> None:
    """The table after a blank line; the rows in `json_out` if given."""
    print()
    for line in table:
        print(line)
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(rows, indent=1), encoding="utf-8")
