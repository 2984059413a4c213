"""The flags of `aegent agents run` and `aegent agents eval`.

Kept apart from agents/runner.py so that server/cli.py can build its parser without
importing the agent runtime (which it imports only when an agents command runs).
"""

from __future__ import annotations

import argparse


def add_arguments(run: argparse.ArgumentParser, ev: argparse.ArgumentParser) -> None:
    """The flags of `agents run` and `agents eval` (server/cli.py builds the parsers)."""
    for p in (run, ev):
        p.add_argument("--policy", choices=["scripted", "llm"], default="scripted")
        p.add_argument("--count", type=int, default=1, help="how many agents")
        p.add_argument("--model", help="the model for --policy llm (OPENAI_BASE_URL, "
                                       "OPENAI_API_KEY say where)")
        p.add_argument("--name-prefix", default="Robo", help="agents are named PREFIX + letters")
        p.add_argument("--classes", default="warrior",
                       help="classes to give new agents, in turn (warrior,cleric,...)")
        p.add_argument("--pace", type=float, default=0.25,
                       help="at least this many seconds between an agent's actions")
        p.add_argument("--quiet", action="store_true", help="no status table on stderr")
        p.add_argument("--status-every", type=float, default=1.0,
                       help="seconds between status tables")
    run.add_argument("--server", default="ws://127.0.0.1:4000/ws", help="the WebSocket URL")
    run.add_argument("--duration", type=float, help="seconds to play (default: until Ctrl-C)")
    run.add_argument("--data-dir", help="credentials and logs go under DIR/agents "
                                        "(AEGENT_DATA_DIR, ./data)")
    run.add_argument("--seed", type=int, help="seed the policies' own choices")
    ev.add_argument("--duration", type=float, default=600.0, help="seconds to play")
    ev.add_argument("--seed", type=int, default=1, help="the server's world seed")
    ev.add_argument("--until-level", type=int, help="stop early once every agent has it")
    ev.add_argument("--out", help="where the report, plot and logs go "
                                  "(default data/agents/eval-<time>)")
    ev.add_argument("--write-docs", help="put the figures into this Markdown file "
                                         "(docs/agents.md)")
