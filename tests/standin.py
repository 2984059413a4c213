"""A stand-in child program for tests/server/test_cluster_supervisor.py.

`python tests/standin.py NAME RECORD [--port P] [--ignore-term] [--exit CODE]` appends
`NAME started PID` to the file RECORD, then: with `--exit`, exits at once with CODE;
with `--port`, listens on 127.0.0.1:P and answers each connection with its pid and a
newline; else it waits. On SIGTERM it appends `NAME term` and exits 0, or, with
`--ignore-term`, goes on (SIGKILL ends it). Each record line is one `write` on a file
opened for appending, so lines of several stand-ins do not mix.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
from pathlib import Path
from types import FrameType


def record(path: Path, line: str) -> None:
    """Append `line` to `path` in one write."""
    with path.open("a") as file:
        file.write(line + "\n")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("name")
    parser.add_argument("record", type=Path)
    parser.add_argument("--port", type=int)
    parser.add_argument("--ignore-term", action="store_true")
    parser.add_argument("--exit", type=int)
    args = parser.parse_args()

    def on_term(_sig: int, _frame: FrameType | None) -> None:
        record(args.record, f"{args.name} term")
        if not args.ignore_term:
            sys.exit(0)

    signal.signal(signal.SIGTERM, on_term)
    record(args.record, f"{args.name} started {os.getpid()}")
    if args.exit is not None:
        return int(args.exit)
    if args.port is None:
        while True:
            signal.pause()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", args.port))
        server.listen()
        while True:
            connection, _ = server.accept()
            with connection:
                connection.sendall(f"{os.getpid()}\n".encode())


if __name__ == "__main__":
    sys.exit(main())
