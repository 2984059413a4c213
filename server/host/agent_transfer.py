"""Moving an agent between servers, the database side (`aegent agent export|import`).

- `read_agent`: an agent's identity, configuration and saved character snapshot, for
  export. Never its keys: nothing here reads `api_keys` for export.
- `check_import` and `create_imported`: on import, check the owner (a person's
  account on this server) and that the name is free, then create the agent account,
  its character (the exported snapshot, renamed if asked) and a NEW API key, in one
  transaction; the key text is returned once and only its hash is stored.
- `ProgressLine`: progress for long transfers, as plain full lines on stderr.
- `add_transfer_commands`: the flags of `aegent agent export|import`.

The memory side (Qdrant, embeddings, the file format) is agents/portable.py; the
server never imports agents/ here: server/cli.py, the composition root, joins both.
Everything is synchronous code for the command line (never the event loop); it
prints what it did to stderr and a new key alone to stdout, like `aegent agent create`,
and logs nothing (structlog's default output is stdout, where the key goes).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:  # the database modules load on use: the parser is built on every call
    from sqlalchemy import Engine
    from sqlmodel import Session

    from server.host.storage import AccountRow


class TransferError(Exception):
    """An export or import refused, with a stable code.

    Attributes:
        code: `not_found`, `not_agent`, `no_owner`, `owner_not_person`, `name_taken`,
            `bad_name`, `bad_config`, `bad_snapshot`.
        message: what is wrong, for a person.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class AgentExport:
    """What the database holds about an agent, for export (no key, no hash)."""

    name: str
    display_name: str
    owner: str
    created_at: datetime
    config: dict[str, Any]
    snapshot: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class ImportedAgent:
    """An agent created by an import: `key` is the new API key, shown once."""

    name: str
    display_name: str
    owner: str
    key: str
    key_id: str


def _session(engine: Engine) -> Session:
    from sqlmodel import Session

    return Session(engine, expire_on_commit=False)


def _account(session: Session, key: str) -> AccountRow | None:
    from sqlmodel import select

    from server.host.storage import AccountRow

    return session.exec(select(AccountRow).where(AccountRow.name == key)).first()


def read_agent(engine: Engine, name: str) -> AgentExport:
    """The agent called `name` (any letter case) as it is saved.

    Raises:
        TransferError: `not_found` (no such account), `not_agent` (a person's account).
    """
    from sqlmodel import select

    from server.host.storage import AccountRow, CharacterRow

    with _session(engine) as session:
        row = _account(session, name.lower())
        if row is None:
            raise TransferError("not_found", f"no agent is called {name}")
        if row.kind != "agent":
            raise TransferError("not_agent", f"{row.display_name} is a person's account, "
                                             "not an agent")
        owner = session.get(AccountRow, row.owner_id) if row.owner_id is not None else None
        character = session.exec(select(CharacterRow).where(
            CharacterRow.account_id == row.id, CharacterRow.name == row.name)).first()
        if character is None:  # an agent plays one character; take whichever it has
            character = session.exec(select(CharacterRow).where(
                CharacterRow.account_id == row.id)).first()
        created = row.created_at
        created = created.replace(tzinfo=UTC) if created.tzinfo is None else created
        return AgentExport(
            name=row.name, display_name=row.display_name, owner=owner.name if owner else "",
            created_at=created, config=dict(row.agent_config or {}),
            snapshot=dict(character.data) if character is not None else None)


def check_import(engine: Engine, name: str, owner: str) -> str:
    """Check that an agent called `name` can be created for `owner`; returns the owner's key.

    Called before any memory is written, so a refused import changes nothing.

    Raises:
        TransferError: `bad_name`, `no_owner`, `owner_not_person`, `name_taken`.
    """
    from sqlmodel import select

    from server.host import identity
    from server.host.storage import CharacterRow

    try:
        identity.check_agent_name(name)
    except identity.IdentityError as exc:
        raise TransferError("bad_name", f"{name}: {exc.message}") from None
    with _session(engine) as session:
        owner_row = _account(session, owner.lower())
        if owner_row is None:
            raise TransferError("no_owner", f"no account is called {owner} on this server: "
                                            "create it, or name another owner with --owner")
        if owner_row.kind == "agent":
            raise TransferError("owner_not_person",
                                f"{owner_row.display_name} is an agent; agents cannot own agents")
        key = name.lower()
        taken = _account(session, key) is not None or session.exec(
            select(CharacterRow.id).where(CharacterRow.name == key)).first() is not None
        if taken:
            raise TransferError("name_taken", f"the name {name} is taken on this server: "
                                              "import it under another with --rename NEW")
        return owner_row.name


def _snapshot_fields(snapshot: dict[str, Any]) -> tuple[str, str, int, int]:
    cls, room, level, xp = (snapshot.get(k) for k in ("cls", "room", "level", "xp"))
    if not isinstance(cls, str) or not isinstance(room, str):
        raise TransferError("bad_snapshot", "the character snapshot lacks its class or room")
    if type(level) is not int or type(xp) is not int:
        raise TransferError("bad_snapshot", "the character snapshot lacks its level or xp")
    return cls, room, level, xp


def create_imported(engine: Engine, *, name: str, owner: str, config: dict[str, Any],
                    snapshot: dict[str, Any] | None, scopes: list[str] | None = None,
                    label: str = "imported") -> ImportedAgent:
    """Create the agent account `name` owned by `owner`, its character and a new key.

    One transaction: all of it or nothing. The snapshot (if any) becomes the
    character, under the new name. `scopes` default to all (`["*"]`).

    Raises:
        TransferError: as `check_import`, and `bad_config`, `bad_snapshot`.
    """
    from sqlalchemy.exc import IntegrityError

    from server.host import identity
    from server.host.identity_storage import ApiKeyRow
    from server.host.storage import AccountRow, CharacterRow

    name = identity.check_agent_name(name) if name else name
    owner_key = check_import(engine, name, owner)
    try:
        config = identity.check_config(config)
    except identity.IdentityError as exc:
        raise TransferError("bad_config", f"the agent's configuration: {exc.message}") from None
    data = dict(snapshot) if snapshot is not None else None
    fields = _snapshot_fields(data) if data is not None else None
    if data is not None:
        data["name"] = name
    issued = identity.generate_key()
    key_id = issued.key_id
    with _session(engine) as session:
        owner_row = _account(session, owner_key)
        assert owner_row is not None and owner_row.id is not None
        row = AccountRow(name=name.lower(), display_name=name, password_hash="", role="player",
                         kind="agent", owner_id=owner_row.id, agent_config=dict(config))
        session.add(row)
        try:
            session.flush()
            assert row.id is not None
            session.add(ApiKeyRow(account_id=row.id, key_id=key_id, key_hash=issued.key_hash,
                                  scopes=list(scopes or ["*"]), label=label))
            if data is not None and fields is not None:
                cls, room, level, xp = fields
                session.add(CharacterRow.model_validate({
                    "account_id": row.id, "name": name.lower(), "cls": cls, "room": room,
                    "level": level, "xp": xp, "data": data}))
            session.commit()
        except IntegrityError as error:
            session.rollback()
            raise TransferError("name_taken", f"the name {name} was taken meanwhile") from error
    return ImportedAgent(name=name.lower(), display_name=name, owner=owner_key, key=issued.key,
                         key_id=key_id)


class ProgressLine:
    """Progress as plain full lines ("memories: embed 640/5000"), at most one per stage
    every `every` seconds and always the last; nothing for small jobs (`quiet_under`)."""

    def __init__(self, out: IO[str] | None = None, every: float = 1.0,
                 quiet_under: int = 200) -> None:
        self.out = out or sys.stderr
        self.every = every
        self.quiet_under = quiet_under
        self._last: dict[str, float] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        """Report `done` of `total` for `stage`."""
        if total < self.quiet_under:
            return
        now = time.monotonic()
        if done < total and now - self._last.get(stage, -1e9) < self.every:
            return
        self._last[stage] = now
        print(f"memories: {stage} {done}/{total}", file=self.out, flush=True)


def add_transfer_commands(sub: Any, export: Callable[[argparse.Namespace], int],
                          import_: Callable[[argparse.Namespace], int]) -> None:
    """Add `export` and `import` to the `agent` subparsers (argparse only; server/cli.py
    passes the functions that do the work)."""
    e = sub.add_parser("export", help="write an agent (identity, config, character, memories) "
                                      "to one portable file; never its key")
    e.add_argument("name")
    e.add_argument("-o", "--output", type=Path, required=True, help="the file to write")
    i = sub.add_parser("import", help="create an agent from an exported file, with its "
                                      "memories; prints a new API key once")
    i.add_argument("file", type=Path)
    i.add_argument("--owner", help="the person's account that owns it here (default: the "
                                   "exported owner, if that account exists here)")
    i.add_argument("--rename", metavar="NEW", help="import it under another name")
    i.add_argument("--scopes", default="*",
                   help="command categories its new key may use, comma-separated (default *)")
    for parser, fn in ((e, export), (i, import_)):
        parser.add_argument("--data-dir", type=Path,
                            help="where data lives (AEGENT_DATA_DIR; DATABASE_URL and "
                                 "QDRANT_URL win; embeddings: AEGENT_EMBEDDINGS_URL/_MODEL)")
        parser.add_argument("--quiet", action="store_true", help="no progress lines")
        parser.set_defaults(fn=fn)
