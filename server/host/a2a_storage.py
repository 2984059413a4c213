"""Storage for A2A: the `a2a_agents` table, the agents their owners let be reached.

An agent can be reached over A2A (server/host/a2a.py) only while it has a row here, made
by its owner's consent (`aegent agent a2a NAME on`) and removed by `off`. The table is
owned by the hand-written Alembic revision `0005` (a test compares models and
revisions). Like the rest of the storage code, everything here is plain synchronous
code for the database worker thread (`Server.in_db`) or the command line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import DateTime, Engine
from sqlmodel import Field, Session, SQLModel, select

from server.host.identity_storage import AgentNotFound, AgentRecord, IdentityStore
from server.host.storage import AccountRow, as_utc, utc_now


class A2AConsentRow(SQLModel, table=True):
    """An agent account whose owner lets it be reached over A2A, since `enabled_at`."""

    __tablename__ = "a2a_agents"

    account_id: int = Field(foreign_key="accounts.id", primary_key=True, ondelete="CASCADE")
    enabled_at: datetime = Field(default_factory=utc_now, sa_type=DateTime(timezone=True))


@dataclass(frozen=True, slots=True)
class Reachable:
    """An agent that may be reached over A2A.

    Attributes:
        agent: the agent, with its live key's scopes (`agent.key_id` None: revoked).
        owner_display: the owner's name as spelled at registration.
        since: when its owner consented.
    """

    agent: AgentRecord
    owner_display: str
    since: datetime


class A2AStore:
    """A2A consent on an existing (migrated) engine."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._identity = IdentityStore(engine)

    def set_reachable(self, name: str, on: bool) -> AgentRecord:
        """Let the agent called `name` be reached over A2A, or no longer (idempotent).

        Raises:
            AgentNotFound: no agent has that name.
        """
        with Session(self._engine, expire_on_commit=False) as session:
            row = _agent_row(session, name)
            assert row.id is not None
            consent = session.get(A2AConsentRow, row.id)
            if on and consent is None:
                session.add(A2AConsentRow(account_id=row.id))
            elif not on and consent is not None:
                session.delete(consent)
            session.commit()
        record = self._identity.get_agent(name)
        if record is None:  # deleted meanwhile
            raise AgentNotFound(name)
        return record

    def reachable(self, name: str) -> Reachable | None:
        """The agent called `name` (any letter case) if its owner consented, else None."""
        with Session(self._engine) as session:
            row = session.exec(select(AccountRow).where(AccountRow.name == name.lower())
                               ).first()
            if row is None or row.kind != "agent" or row.id is None:
                return None
            consent = session.get(A2AConsentRow, row.id)
            if consent is None:
                return None
            owner = session.get(AccountRow, row.owner_id) if row.owner_id is not None else None
            owner_display = owner.display_name if owner is not None else ""
            since = as_utc(consent.enabled_at) or utc_now()
        record = self._identity.get_agent(name)
        return None if record is None else Reachable(record, owner_display, since)


def _agent_row(session: Session, name: str) -> AccountRow:
    row = session.exec(select(AccountRow).where(AccountRow.name == name.lower())).first()
    if row is None or row.kind != "agent":
        raise AgentNotFound(name)
    return row
