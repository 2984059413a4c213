"""Storage for agent identity: the `api_keys` table and its queries.

Agents are rows of the `accounts` table (`AccountRow.kind == "agent"`, with an
`owner_id` pointing at the person who owns them and an `agent_config` JSON column);
their keys live in `api_keys`. Both are owned by the hand-written Alembic revision
`0003` (a test compares models and revisions). The key logic (formats, hashing,
`AgentIdentity`) is in `server/host/identity.py`; this module only stores and finds rows.

Like the rest of the storage code, everything here is plain synchronous code for the
database worker thread (`Server.in_db`) or the command line; never the event loop.

Invariants: only a key's sha256 hex digest is stored, never its secret. `key_id` is
public and unique. A key is live while `revoked_at` is null; revoking stamps it and
keeps the row, for the record. An agent has at most one live key at a time (rotation
revokes the old one in the same transaction that adds the new one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select

from server.host.storage import AccountNotFound, AccountRow, NameTaken
from server.host.storage import as_utc as _utc
from server.host.storage import utc_now as _now

# ---- the table ------------------------------------------------------------------


class ApiKeyRow(SQLModel, table=True):
    """One API key of an agent: its public id, the hash of the whole key, its scopes."""

    __tablename__ = "api_keys"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="accounts.id", index=True, ondelete="CASCADE")
    key_id: str = Field(index=True, unique=True)
    key_hash: str
    scopes: list[str] = Field(default_factory=lambda: ["*"], sa_type=JSON, nullable=False,
                              sa_column_kwargs={"server_default": '["*"]'})
    label: str = Field(default="", sa_column_kwargs={"server_default": ""})
    created_at: datetime = Field(default_factory=_now, sa_type=DateTime(timezone=True))
    last_used_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    revoked_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


# ---- values ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AgentRecord:
    """An agent account and its live key (if any), detached from the database.

    Attributes:
        name: The lower-cased account (and character) name.
        display_name: The spelling chosen at creation.
        owner: The owner's lower-cased account name.
        config: The agent's `agent_config` (rate, burst, on_limit, policy, model, cls...).
        key_id: The public id of the live key, or None when every key is revoked.
        key_hash: The sha256 hex digest of the live key ("" when none).
        scopes: The live key's scopes (or the last key's, when all are revoked).
        created_at: When the agent was created.
        last_used_at: The live key's last login, or None.
    """

    name: str
    display_name: str
    owner: str
    config: dict[str, Any]
    key_id: str | None
    key_hash: str
    scopes: tuple[str, ...]
    created_at: datetime
    last_used_at: datetime | None

    def to_data(self) -> dict[str, Any]:
        """The agent as wire-safe data (never the key's hash)."""
        return {"name": self.display_name, "owner": self.owner, "key_id": self.key_id,
                "active": self.key_id is not None, "scopes": list(self.scopes),
                "config": dict(self.config), "created_at": self.created_at.isoformat(),
                "last_used_at": self.last_used_at.isoformat() if self.last_used_at else None}


class AgentNotFound(LookupError):
    """No agent account has that name."""


class NotAnOwner(ValueError):
    """The owner named is not a person's account (agents cannot own agents)."""


# ---- the store ------------------------------------------------------------------


class IdentityStore:
    """Agent accounts and API keys on an existing (migrated) engine.

    Example::

        store = IdentityStore(repo.engine)
        store.create_agent("Scout", owner="ann", key_id="k1", key_hash=h, scopes=["*"],
                           config={"rate": 4.0})
        store.find_key("k1")  # (AgentRecord, revoked_at) or None
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def _session(self) -> Session:
        return Session(self._engine, expire_on_commit=False)

    # ---- creation ----

    def create_agent(self, name: str, owner: str, key_id: str, key_hash: str,
                     scopes: list[str], config: dict[str, Any], label: str = "") -> AgentRecord:
        """Create an agent account owned by `owner`, with its first key.

        Raises:
            NameTaken: An account (person or agent) has that name in any letter case.
            AccountNotFound: No account is called `owner`.
            NotAnOwner: `owner` is itself an agent.
            ValueError: The name is empty.
        """
        key = name.lower()
        if not key:
            raise ValueError("an agent name must not be empty")
        with self._session() as session:
            owner_row = _account(session, owner.lower())
            if owner_row is None:
                raise AccountNotFound(owner)
            if owner_row.kind == "agent":
                raise NotAnOwner(f"{owner_row.display_name} is an agent; agents cannot own agents")
            if _account(session, key) is not None:
                raise NameTaken(name)
            row = AccountRow(name=key, display_name=name, password_hash="", role="player",
                             kind="agent", owner_id=owner_row.id, agent_config=dict(config))
            session.add(row)
            try:
                session.flush()
            except IntegrityError as error:
                session.rollback()
                raise NameTaken(name) from error
            assert row.id is not None
            key_row = ApiKeyRow(account_id=row.id, key_id=key_id, key_hash=key_hash,
                                scopes=list(scopes), label=label)
            session.add(key_row)
            session.commit()
            return _agent_record(row, owner_row.name, key_row)

    # ---- queries ----

    def get_agent(self, name: str) -> AgentRecord | None:
        """The agent called `name` (any letter case) with its live key, or None."""
        with self._session() as session:
            row = _account(session, name.lower())
            if row is None or row.kind != "agent":
                return None
            return self._record(session, row)

    def list_agents(self, owner: str | None = None) -> list[AgentRecord]:
        """Every agent (of `owner` only, when given), by name.

        Raises:
            AccountNotFound: `owner` is given and no account has that name.
        """
        with self._session() as session:
            statement = select(AccountRow).where(AccountRow.kind == "agent")
            if owner is not None:
                owner_row = _account(session, owner.lower())
                if owner_row is None:
                    raise AccountNotFound(owner)
                statement = statement.where(AccountRow.owner_id == owner_row.id)
            rows = session.exec(statement.order_by(col(AccountRow.name))).all()
            return [self._record(session, row) for row in rows]

    def find_key(self, key_id: str) -> tuple[AgentRecord, str, datetime | None] | None:
        """The agent a key id belongs to, that key's hash and its revocation time.

        Returns:
            `(agent, key_hash, revoked_at)`, where `agent` describes the agent with the
            scopes of *this* key; None if no key has that id.
        """
        with self._session() as session:
            key_row = session.exec(select(ApiKeyRow).where(ApiKeyRow.key_id == key_id)).first()
            if key_row is None:
                return None
            row = session.get(AccountRow, key_row.account_id)
            if row is None:
                return None
            owner = session.get(AccountRow, row.owner_id) if row.owner_id is not None else None
            record = _agent_record(row, owner.name if owner else "", key_row)
            return record, key_row.key_hash, _utc(key_row.revoked_at)

    # ---- changes ----

    def rotate(self, name: str, key_id: str, key_hash: str,
               scopes: list[str] | None = None) -> tuple[AgentRecord, list[str]]:
        """Revoke every live key of the agent and add a new one, in one transaction.

        Args:
            scopes: The new key's scopes; None keeps the last key's.

        Returns:
            The agent with its new key, and the key ids revoked.

        Raises:
            AgentNotFound: No agent has that name.
        """
        now = _now()
        with self._session() as session:
            row = self._agent_row(session, name)
            assert row.id is not None
            keys = _keys(session, row.id)
            kept = scopes if scopes is not None else (list(keys[-1].scopes) if keys else ["*"])
            revoked = _revoke_live(session, keys, now)
            session.add(ApiKeyRow(account_id=row.id, key_id=key_id, key_hash=key_hash,
                                  scopes=list(kept)))
            session.commit()
            return self._record(session, row), revoked

    def revoke(self, name: str) -> list[str]:
        """Revoke every live key of the agent.

        Returns:
            The key ids revoked (empty when none was live).

        Raises:
            AgentNotFound: No agent has that name.
        """
        now = _now()
        with self._session() as session:
            row = self._agent_row(session, name)
            assert row.id is not None
            revoked = _revoke_live(session, _keys(session, row.id), now)
            session.commit()
            return revoked

    def set_scopes(self, name: str, scopes: list[str]) -> AgentRecord:
        """Replace the scopes of the agent's live key (of its last key when none is live).

        Raises:
            AgentNotFound: No agent has that name, or it has no key at all.
        """
        with self._session() as session:
            row = self._agent_row(session, name)
            assert row.id is not None
            keys = _keys(session, row.id)
            if not keys:
                raise AgentNotFound(name)
            live = [k for k in keys if k.revoked_at is None] or [keys[-1]]
            for key_row in live:
                key_row.scopes = list(scopes)
                session.add(key_row)
            session.commit()
            return self._record(session, row)

    def update_config(self, name: str, changes: dict[str, Any]) -> AgentRecord:
        """Merge `changes` into the agent's config (a None value removes that key).

        Raises:
            AgentNotFound: No agent has that name.
        """
        with self._session() as session:
            row = self._agent_row(session, name)
            config = dict(row.agent_config or {})
            for key, value in changes.items():
                if value is None:
                    config.pop(key, None)
                else:
                    config[key] = value
            row.agent_config = config
            session.add(row)
            session.commit()
            return self._record(session, row)

    def touch_key(self, key_id: str) -> None:
        """Stamp the key's `last_used_at` with the current time (no-op if unknown)."""
        now = _now()
        with self._session() as session:
            key_row = session.exec(select(ApiKeyRow).where(ApiKeyRow.key_id == key_id)).first()
            if key_row is None:
                return
            key_row.last_used_at = now
            session.add(key_row)
            owner = session.get(AccountRow, key_row.account_id)
            if owner is not None:
                owner.last_login_at = now
                session.add(owner)
            session.commit()

    def key_states(self, key_ids: list[str]) -> dict[str, tuple[bool, list[str]]]:
        """For each known key id: whether it is revoked, and its scopes (one query)."""
        if not key_ids:
            return {}
        with self._session() as session:
            statement = select(ApiKeyRow).where(col(ApiKeyRow.key_id).in_(key_ids))
            return {row.key_id: (row.revoked_at is not None, list(row.scopes))
                    for row in session.exec(statement)}

    def is_agent(self, name: str) -> bool:
        """Whether the account called `name` is an agent."""
        with self._session() as session:
            row = _account(session, name.lower())
            return row is not None and row.kind == "agent"

    # ---- helpers ----

    def _agent_row(self, session: Session, name: str) -> AccountRow:
        row = _account(session, name.lower())
        if row is None or row.kind != "agent":
            raise AgentNotFound(name)
        return row

    def _record(self, session: Session, row: AccountRow) -> AgentRecord:
        assert row.id is not None
        keys = _keys(session, row.id)
        live = next((k for k in reversed(keys) if k.revoked_at is None), None)
        owner = session.get(AccountRow, row.owner_id) if row.owner_id is not None else None
        record = _agent_record(row, owner.name if owner else "", live)
        if live is None and keys:
            record = AgentRecord(record.name, record.display_name, record.owner, record.config,
                                 None, "", tuple(keys[-1].scopes), record.created_at, None)
        return record


def _account(session: Session, key: str) -> AccountRow | None:
    return session.exec(select(AccountRow).where(AccountRow.name == key)).first()


def _keys(session: Session, account_id: int) -> list[ApiKeyRow]:
    statement = (select(ApiKeyRow).where(ApiKeyRow.account_id == account_id)
                 .order_by(col(ApiKeyRow.id)))
    return list(session.exec(statement).all())


def _revoke_live(session: Session, keys: list[ApiKeyRow], now: datetime) -> list[str]:
    """Mark the live ones of `keys` revoked at `now` (not committed); their key ids."""
    revoked = []
    for key in keys:
        if key.revoked_at is None:
            key.revoked_at = now
            session.add(key)
            revoked.append(key.key_id)
    return revoked


def _agent_record(row: AccountRow, owner: str, key: ApiKeyRow | None) -> AgentRecord:
    created = _utc(row.created_at) or _now()
    return AgentRecord(
        name=row.name, display_name=row.display_name, owner=owner,
        config=dict(row.agent_config or {}),
        key_id=key.key_id if key is not None else None,
        key_hash=key.key_hash if key is not None else "",
        scopes=tuple(key.scopes) if key is not None else (),
        created_at=created,
        last_used_at=_utc(key.last_used_at) if key is not None else None,
    )
