"""The flags of `aegent agents run`, `aegent agents eval` and `aegent mcp`.

Kept apart from agents/runner.py so that server/cli.py can build its parser without
importing the agent runtime (which it imports only when an agents command runs).
"""

from __future__ import annotations

import argparse
import os


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
    run.add_argument("--server", default="ws://127.0.0.1:4000/ws",
                     help="the WebSocket URL, or the world's gateways' comma-separated: "
                          "a lost connection moves on to the next")
    run.add_argument("--duration", type=float, help="seconds to play (default: until Ctrl-C)")
    run.add_argument("--data-dir", help="credentials and logs go under DIR/agents "
                                        "(AEGENT_DATA_DIR, ./data)")
    run.add_argument("--seed", type=int, help="seed the policies' own choices")
    run.add_argument("--no-memory", action="store_true",
                     help="--policy llm without its memory (QDRANT_URL, else <data dir>/qdrant)")
    ev.add_argument("--duration", type=float, default=600.0, help="seconds to play")
    ev.add_argument("--seed", type=int, default=1, help="the server's world seed")
    ev.add_argument("--until-level", type=int, help="stop early once every agent has it")
    ev.add_argument("--out", help="where the report, plot and logs go "
                                  "(default data/agents/eval-<time>)")
    ev.add_argument("--write-docs", help="put the figures into this Markdown file "
                                         "(docs/agents.md)")


def add_mcp_arguments(p: argparse.ArgumentParser) -> None:
    """The flags of `aegent mcp` (agents/mcp_server.py; server/cli.py builds the parser)."""
    p.add_argument("--server", default=os.environ.get("AEGENT_SERVER", "ws://127.0.0.1:4000/ws"),
                   help="the game's WebSocket URL, or several comma-separated (the "
                        "world's gateways; AEGENT_SERVER)")
    p.add_argument("--api-key", default=None,
                   help="an agent's API key (better: AEGENT_API_KEY, kept out of `ps`)")
    p.add_argument("--name", help="a person's character instead of an agent (with a password)")
    p.add_argument("--password", default=None,
                   help="that character's password (better: AEGENT_PASSWORD)")
    p.add_argument("--register", action="store_true",
                   help="create the character (--name) if it does not exist yet")
    p.add_argument("--class", dest="cls", help="its class when --register creates it")
    p.add_argument("--log-level", default="warning", help="stderr log level (default warning)")
