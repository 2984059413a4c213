"""Persistence: accounts and character snapshots behind a small repository.

The world never touches the database. It hands out plain snapshot dicts
(`World.snapshot`), and the server stores them here from one dedicated worker
thread, batched off the tick (DESIGN.md, Storage). Every method is therefore plain
synchronous code; none may be called from the event loop.

What lives here:

* `AccountRow` and `CharacterRow`, the SQLModel tables. Their schema is owned by the
  hand-written Alembic revisions in `server/migrations/versions/`; the models and the
  revisions must agree (a test compares them).
* `Repository`, the Protocol the rest of the server depends on, and
  `SqlRepository`, its SQLModel implementation for SQLite (the default, a file under
  `data/`) and PostgreSQL (through psycopg), chosen by the database URL alone.
* `AccountRecord`, the frozen value handed to callers. ORM objects never leave this
  module.

Invariants: account and character names are unique case-insensitively; the `name`
columns hold the lower-cased key and the spelling a player chose is kept elsewhere
(`display_name`, or the snapshot itself). A character row always belongs to an
account. `CharacterRow.data` holds the whole snapshot; the other character columns
are copies of some of its keys, kept for queries.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import orjson
from alembic import command
from alembic.config import Config
from sqlalchemy import JSON, DateTime, Engine, bindparam, event, func, insert, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool
from sqlmodel import Field, Session, SQLModel, col, create_engine, select

if TYPE_CHECKING:
    from server.config import Settings

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"  # server/migrations
"""The Alembic script folder (`env.py`, `versions/`), shipped inside the package."""

_BATCH = 500
"""Names per `IN (...)` query, well under every backend's bound-parameter limit."""


def utc_now() -> datetime:
    """Now, as an aware UTC datetime (what every timestamp column holds)."""
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """A datetime read back from the database, as aware UTC (SQLite keeps it naive)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)



# ---- tables ---------------------------------------------------------------------


class AccountRow(SQLModel, table=True):
    """One login. `name` is the lower-cased key; `display_name` keeps the spelling."""

    __tablename__ = "accounts"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True)
    display_name: str
    password_hash: str
    role: str = Field(default="player", sa_column_kwargs={"server_default": "player"})
    created_at: datetime = Field(default_factory=utc_now, sa_type=DateTime(timezone=True))
    last_login_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    # Agents (revision 0003, server/host/identity.py): "person" or "agent"; an agent's owner
    # is a person's account; `agent_config` holds its rate limits, policy and model.
    kind: str = Field(default="person", sa_column_kwargs={"server_default": "person"})
    owner_id: int | None = Field(default=None, foreign_key="accounts.id", index=True,
                                 ondelete="CASCADE")
    agent_config: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False,
                                         sa_column_kwargs={"server_default": "{}"})


class CharacterRow(SQLModel, table=True):
    """One saved character: the full snapshot in `data`, a few keys copied out."""

    __tablename__ = "characters"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="accounts.id", index=True, ondelete="CASCADE")
    name: str = Field(index=True, unique=True)
    cls: str
    room: str
    level: int
    xp: int
    data: dict[str, Any] = Field(sa_type=JSON, nullable=False)
    saved_at: datetime = Field(default_factory=utc_now, sa_type=DateTime(timezone=True))
    # Server-set flags that outlive snapshots (a mute); see server/host/admin_storage.py.
    flags: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False,
                                  sa_column_kwargs={"server_default": "{}"})


# ---- values and errors ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AccountRecord:
    """An account as callers see it: plain values, detached from the database.

    Attributes:
        name: The lower-cased key used for lookups.
        display_name: The spelling chosen at registration.
        password_hash: The stored hash (its format belongs to `server/host/accounts.py`).
        role: `"player"`, `"builder"` or `"admin"` (the values of `world.entities.Role`).
        kind: `"person"`, or `"agent"` for an AI agent's account (server/host/identity.py),
            which never logs in by password.
    """

    name: str
    display_name: str
    password_hash: str
    role: str
    kind: str = "person"


class NameTaken(Exception):
    """An account (or character) with that name, in any letter case, already exists."""


class AccountNotFound(LookupError):
    """No account has that name."""


# ---- the protocol -----------------------------------------------------------------


class Repository(Protocol):
    """What the server needs from storage. Synchronous; call from one worker thread."""

    def migrate(self) -> None:
        """Bring the schema up to the newest revision."""
        ...

    def close(self) -> None:
        """Release connections; the repository is unusable afterwards."""
        ...

    def get_account(self, name: str) -> AccountRecord | None:
        """The account called `name` in any letter case, or None."""
        ...

    def create_account(
        self, name: str, password_hash: str, role: str = "player"
    ) -> AccountRecord:
        """Register a new account; raises `NameTaken` if the name is in use."""
        ...

    def set_password(self, name: str, password_hash: str) -> None:
        """Replace the password hash; raises `AccountNotFound`."""
        ...

    def set_role(self, name: str, role: str) -> None:
        """Change the role; raises `AccountNotFound`."""
        ...

    def touch_login(self, name: str) -> None:
        """Record a successful login now; raises `AccountNotFound`."""
        ...

    def load_character(self, name: str) -> dict[str, Any] | None:
        """The last saved snapshot of the character `name`, or None."""
        ...

    def save_characters(self, snapshots: Sequence[tuple[str, dict[str, Any]]]) -> int:
        """Insert or update `(account name, snapshot)` pairs in one transaction."""
        ...

    def count_accounts(self) -> int:
        """How many accounts exist."""
        ...


# ---- the SQLModel implementation --------------------------------------------------


def _key(name: str) -> str:
    return name.lower()


def _record(row: AccountRow) -> AccountRecord:
    return AccountRecord(
        name=row.name,
        display_name=row.display_name,
        password_hash=row.password_hash,
        role=row.role,
        kind=row.kind,
    )


def _sqlite_pragmas(dbapi_connection: Any, _entry: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


@dataclass(frozen=True, slots=True)
class _Fields:
    """The columns of a character row, copied out of a snapshot."""

    key: str
    cls: str
    room: str
    level: int
    xp: int


def _json_text(value: Any) -> str:
    """JSON columns' encoder: orjson, several times quicker than the standard library's
    on the snapshots written every second (keys that are not strings become strings, as
    with `json.dumps`)."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def _fields(snapshot: dict[str, Any]) -> _Fields:
    """Check a snapshot's required keys and copy them out; raises ValueError."""
    try:
        name, klass, room = snapshot["name"], snapshot["cls"], snapshot["room"]
        level, xp = snapshot["level"], snapshot["xp"]
    except KeyError as missing:
        raise ValueError(f"snapshot lacks the key {missing.args[0]!r}") from None
    if not (isinstance(name, str) and _key(name)):
        raise ValueError(f"snapshot name must be a non-empty string, not {name!r}")
    for label, text in (("cls", klass), ("room", room)):
        if not isinstance(text, str):
            raise ValueError(f"snapshot {label} of {name!r} must be a string")
    for label, number in (("level", level), ("xp", xp)):
        if isinstance(number, bool) or not isinstance(number, int):
            raise ValueError(f"snapshot {label} of {name!r} must be an integer")
    return _Fields(key=_key(name), cls=klass, room=room, level=level, xp=xp)


class SqlRepository:
    """`Repository` on SQLModel: SQLite by default, PostgreSQL by URL.

    Example::

        repo = SqlRepository("sqlite:///data/aegent.db")
        repo.migrate()
        repo.create_account("Hero", argon2_hash)  # AccountRecord(name="hero", ...)
        repo.save_characters([("hero", world.snapshot(ch))])
        repo.close()

    Thread use: the engine is shared safely, but the server calls this object from
    one worker thread only, which keeps SQLite to a single writer.
    """

    def __init__(self, url: str) -> None:
        """Create the engine; no connection is opened until the first call.

        Args:
            url: An SQLAlchemy URL, such as `sqlite:///data/aegent.db` or
                `postgresql+psycopg://user:secret@host/aegent`. For an SQLite file the
                parent folder is created if missing.
        """
        parsed = make_url(url)
        self.url = url
        if parsed.get_backend_name() == "sqlite":
            database = parsed.database or ""
            in_memory = database in ("", ":memory:") or parsed.query.get("mode") == "memory"
            if not in_memory and not database.startswith("file:"):
                Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            self._engine: Engine = create_engine(
                parsed,
                connect_args={"check_same_thread": False},
                # One shared connection, or each thread would see its own empty database.
                poolclass=StaticPool if in_memory else None,
                json_serializer=_json_text,
            )
            event.listen(self._engine, "connect", _sqlite_pragmas)
        else:
            self._engine = create_engine(parsed, pool_pre_ping=True,
                                         json_serializer=_json_text)

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for migrations, diagnostics and tests)."""
        return self._engine

    # ---- lifecycle ----

    def migrate(self) -> None:
        """Run Alembic `upgrade head` on this repository's database.

        Idempotent: a database already at the newest revision is left alone. The
        migration runs on one of this engine's connections, in one transaction.
        """
        config = alembic_config(self._engine.url.render_as_string(hide_password=False))
        with self._engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def close(self) -> None:
        """Dispose of the engine's connection pool."""
        self._engine.dispose()

    def _session(self) -> Session:
        return Session(self._engine, expire_on_commit=False)

    # ---- accounts ----

    def get_account(self, name: str) -> AccountRecord | None:
        """Look an account up by name, ignoring letter case.

        Args:
            name: The account name as typed.

        Returns:
            The account, or None if there is none by that name.
        """
        with self._session() as session:
            row = self.find_account(session, _key(name))
            return None if row is None else _record(row)

    def create_account(
        self, name: str, password_hash: str, role: str = "player"
    ) -> AccountRecord:
        """Register a new account.

        Args:
            name: The name as the player spelled it; it becomes the display name, and
                its lower-case form the key.
            password_hash: An already computed hash; this module never sees passwords.
            role: The account's role.

        Returns:
            The new account.

        Raises:
            NameTaken: The name exists in some letter case, including when another
                writer inserted it between our check and our insert.
            ValueError: The name is empty.
        """
        key = _key(name)
        if not key:
            raise ValueError("an account name must not be empty")
        row = AccountRow(
            name=key, display_name=name, password_hash=password_hash, role=role
        )
        with self._session() as session:
            if self.find_account(session, key) is not None:
                raise NameTaken(name)
            session.add(row)
            try:
                session.commit()
            except IntegrityError as error:
                session.rollback()
                if self.find_account(session, key) is not None:
                    raise NameTaken(name) from error
                raise
            return _record(row)

    def set_password(self, name: str, password_hash: str) -> None:
        """Replace an account's password hash.

        Args:
            name: The account name, any letter case.
            password_hash: The new hash.

        Raises:
            AccountNotFound: No such account.
        """
        self._update_account(name, password_hash=password_hash)

    def set_role(self, name: str, role: str) -> None:
        """Change an account's role.

        Args:
            name: The account name, any letter case.
            role: The new role.

        Raises:
            AccountNotFound: No such account.
        """
        self._update_account(name, role=role)

    def touch_login(self, name: str) -> None:
        """Stamp the account's last login with the current time (UTC).

        Args:
            name: The account name, any letter case.

        Raises:
            AccountNotFound: No such account.
        """
        self._update_account(name, last_login_at=utc_now())

    def count_accounts(self) -> int:
        """Count the accounts.

        Returns:
            How many accounts exist.
        """
        with self._session() as session:
            return session.exec(select(func.count()).select_from(AccountRow)).one()

    # ---- characters ----

    def load_character(self, name: str) -> dict[str, Any] | None:
        """Fetch the last saved snapshot of a character.

        Args:
            name: The character name, any letter case.

        Returns:
            The snapshot dict exactly as last saved (after a JSON round trip), or None
            if the character was never saved.
        """
        with self._session() as session:
            statement = select(CharacterRow.data).where(CharacterRow.name == _key(name))
            data = session.exec(statement).first()
            return None if data is None else dict(data)

    def save_characters(self, snapshots: Sequence[tuple[str, dict[str, Any]]]) -> int:
        """Insert or update many characters in one transaction.

        Each snapshot replaces the character's previous one whole. Either every
        snapshot is written or, on any error, none is. When the same character appears
        more than once, the last snapshot wins.

        Args:
            snapshots: `(account name, snapshot)` pairs. A snapshot is a JSON-ready
                dict (as made by `World.snapshot`) with at least the keys `name`,
                `cls`, `room` (strings), `level` and `xp` (integers).

        Returns:
            How many characters were written (distinct names).

        Raises:
            ValueError: A snapshot lacks a required key or has one of the wrong type.
            AccountNotFound: An account name is unknown.
            NameTaken: A character of that name belongs to another account.
        """
        latest: dict[str, tuple[str, _Fields, dict[str, Any]]] = {}
        for account, snapshot in snapshots:
            fields = _fields(snapshot)
            latest[fields.key] = (_key(account), fields, dict(snapshot))
        if not latest:
            return 0
        now = utc_now()
        table = CharacterRow.__table__  # type: ignore[attr-defined]
        with self._session() as session:
            account_ids = self._account_ids(session, {acc for acc, _, _ in latest.values()})
            owners = self._owners(session, list(latest))
            inserts: list[dict[str, Any]] = []
            updates: list[dict[str, Any]] = []
            for key, (account, fields, data) in latest.items():
                account_id = account_ids.get(account)
                if account_id is None:
                    raise AccountNotFound(account)
                values = {"cls": fields.cls, "room": fields.room, "level": fields.level,
                          "xp": fields.xp, "data": data, "saved_at": now}
                owner = owners.get(key)
                if owner is None:
                    inserts.append({"account_id": account_id, "name": key, **values})
                elif owner != account_id:
                    raise NameTaken(f"character {key!r} belongs to another account")
                else:
                    updates.append({"key": key, **values})
            # Core statements, many rows each (executemany): the ORM's unit of work would
            # load every row whole (its JSON decoded) only to overwrite it.
            connection = session.connection()
            if updates:
                connection.execute(
                    update(table).where(table.c.name == bindparam("key")), updates)
            if inserts:
                connection.execute(insert(table), inserts)
            session.commit()
        return len(latest)

    # ---- helpers ----

    @staticmethod
    def find_account(session: Session, key: str) -> AccountRow | None:
        return session.exec(select(AccountRow).where(AccountRow.name == key)).first()

    def _update_account(self, name: str, **values: Any) -> None:
        with self._session() as session:
            row = self.find_account(session, _key(name))
            if row is None:
                raise AccountNotFound(name)
            for field, value in values.items():
                setattr(row, field, value)
            session.add(row)
            session.commit()

    @staticmethod
    def _account_ids(session: Session, keys: set[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        ordered = sorted(keys)
        for start in range(0, len(ordered), _BATCH):
            chunk = ordered[start : start + _BATCH]
            statement = select(AccountRow.name, AccountRow.id).where(
                col(AccountRow.name).in_(chunk)
            )
            for name, account_id in session.exec(statement):
                if account_id is not None:
                    found[name] = account_id
        return found

    @staticmethod
    def _owners(session: Session, keys: list[str]) -> dict[str, int]:
        """Character name -> its account's id, for those of `keys` that exist."""
        found: dict[str, int] = {}
        for start in range(0, len(keys), _BATCH):
            chunk = keys[start : start + _BATCH]
            statement = select(CharacterRow.name, CharacterRow.account_id).where(
                col(CharacterRow.name).in_(chunk))
            for name, account_id in session.exec(statement):
                found[name] = account_id
        return found


def alembic_config(url: str) -> Config:
    """An Alembic configuration for `server/migrations`, built in code (no .ini file).

    Args:
        url: The database URL, used by `env.py` only when no connection is passed in
            `config.attributes["connection"]`.

    Returns:
        A config usable with `alembic.command` functions.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@contextmanager
def opened(settings: Settings) -> Iterator[SqlRepository]:
    """The settings' database, migrated to the latest revision, for a command-line tool
    (`aegent user`, `agent`, `usage`); closed on leaving. An SQLite file's folder is made
    when missing."""
    if not settings.database_url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    repo = SqlRepository(settings.resolved_database_url)
    try:
        repo.migrate()
        yield repo
    finally:
        repo.close()
