"""`aegent usage` (a table of agents' model usage) and `aegent usage budget`.

`add_arguments` is argparse only (the parser is built at every start of `aegent`);
`usage_command` loads the storage and report code when it runs. It works on the
database directly, with or without a server running: a running server reloads
budgets every `usage_budget_reload` seconds.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from server.host.usage import OnLimit

if TYPE_CHECKING:
    from server.host.usage_storage import UsageStore


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of `aegent usage` and `aegent usage budget`."""
    parser.add_argument("--agent", help="one agent")
    parser.add_argument("--owner", help="every agent of this person (and their total)")
    parser.add_argument("--days", type=int, default=7, help="days the recent figures cover")
    parser.add_argument("--data-dir", help="where data lives (AEGENT_DATA_DIR, ./data)")
    sub = parser.add_subparsers(dest="usage_what")
    b = sub.add_parser("budget", help="set (or --remove) a daily budget of an agent or owner")
    who = b.add_mutually_exclusive_group(required=True)
    who.add_argument("--agent", dest="budget_agent", help="an agent's own budget")
    who.add_argument("--owner", dest="budget_owner", help="all the agents of a person together")
    b.add_argument("--tokens", type=int, help="prompt + completion tokens per UTC day")
    b.add_argument("--usd", type=float, help="dollars per UTC day")
    b.add_argument("--on-limit", choices=[str(o) for o in OnLimit], default="scripted",
                   help="what the agent does at the limit (default: scripted)")
    b.add_argument("--remove", action="store_true", help="remove the budget")
    b.add_argument("--data-dir", dest="budget_data_dir", help="where data lives")


def usage_command(args: argparse.Namespace) -> int:
    """`aegent usage` and `aegent usage budget`."""
    from pathlib import Path

    from server import config
    from server.host import storage
    from server.host.storage import AccountNotFound
    from server.host.usage_service import build_report, report_lines, utc_today
    from server.host.usage_storage import UsageStore

    data_dir = getattr(args, "budget_data_dir", None) or args.data_dir
    settings = config.from_env(config_file=getattr(args, "config", None),
                               data_dir=Path(data_dir) if data_dir else None)
    with storage.opened(settings) as repo:
        store = UsageStore(repo.engine)
        if args.usage_what == "budget":
            return _budget_command(args, store)
        if args.agent and args.owner:
            print("aegent: give --agent or --owner, not both", file=sys.stderr)
            return 2
        if args.days < 1:
            print("aegent: --days must be 1 or more", file=sys.stderr)
            return 2
        budgets = {b.key: b for b in store.budgets()}
        try:
            if args.agent or args.owner:
                reports = [build_report(store, budgets, args.agent, args.owner, utc_today(),
                                        args.days)]
            else:
                owners = sorted({u.owner for u in store.lines() if u.owner})
                reports = [build_report(store, budgets, None, o, utc_today(), args.days)
                           for o in owners]
        except AccountNotFound as exc:
            print(f"aegent: no account named {exc.args[0]!r}", file=sys.stderr)
            return 1
        if not reports:
            print("No model usage recorded yet.")
        for n, rep in enumerate(reports):
            if n:
                print()
            print("\n".join(report_lines(rep.to_data())))
        return 0


def _budget_command(args: argparse.Namespace, store: UsageStore) -> int:
    from server.host.storage import AccountNotFound
    from server.host.usage import Scope, UsageError, make_budget, usd

    scope = Scope.AGENT if args.budget_agent else Scope.OWNER
    account = str(args.budget_agent or args.budget_owner)
    try:
        if args.remove:
            gone = store.remove_budget(scope, account)
            print(f"removed the {scope} budget of {account}" if gone
                  else f"{account} had no {scope} budget")
            return 0
        if args.tokens is None and args.usd is None:
            print("aegent: give --tokens and/or --usd (or --remove)", file=sys.stderr)
            return 2
        budget = make_budget(str(scope), account, args.tokens, args.usd, args.on_limit)
        store.set_budget(budget)
    except UsageError as exc:
        print(f"aegent: {exc.message}", file=sys.stderr)
        return 2
    except AccountNotFound:
        print(f"aegent: no account named {account!r}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"aegent: {exc}", file=sys.stderr)
        return 2
    limits = [f"{budget.tokens_per_day:,} tokens" if budget.tokens_per_day is not None else "",
              usd(budget.micro_per_day) if budget.micro_per_day is not None else ""]
    print(f"set the {scope} budget of {budget.account}: "
          f"{' and '.join(x for x in limits if x)} per day, then {budget.on_limit} "
          "(a running server applies it within seconds)")
    return 0
