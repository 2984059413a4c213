"""Storage for building and administration: world edits, the audit log, bans, character flags.

Like `server/host/storage.py`, everything here is plain synchronous code for the one
database worker thread; the tick never waits for it. The tables are owned by the
hand-written Alembic revision `0002` (a test compares models and revisions).

What lives here:

* `WorldEditRow`, `AuditRow`, `BanRow`: the tables.
* `EditRecord`, `AuditRecord`, `BanRecord`: frozen values handed to callers (ORM
  objects never leave this module).
* `AdminStore`: the queries, on the engine of a `SqlRepository`.

Times are timezone-aware UTC datetimes going in and coming out (SQLite keeps them
naive: they are read back as UTC).

Invariants: `world_edits` rows are only ever appended, and stamped `exported_at`
once, by `mark_exported`; the server replays the unstamped ones in `id` order. A ban
is active while `lifted_at` is null and `until` is null or in the future.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Engine, func, or_
from sqlmodel import Field, Session, SQLModel, col, select

from server.host.storage import CharacterRow
from server.host.storage import as_utc as _utc
from server.host.storage import utc_now as _now

# ---- tables ---------------------------------------------------------------------


class WorldEditRow(SQLModel, table=True):
    """One builder change to the world (`world.building.Edit`), in order."""

    __tablename__ = "world_edits"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=_now, sa_type=DateTime(timezone=True))
    actor: str
    kind: str
    target: str
    zone: str = Field(index=True)
    before: Any = Field(default=None, sa_type=JSON, nullable=True)
    after: Any = Field(default=None, sa_type=JSON, nullable=True)
    # Zones whose content files hold this edit's effect; `exported_at` once all of them.
    exported: list[str] = Field(default_factory=list, sa_type=JSON, nullable=False,
                                sa_column_kwargs={"server_default": "[]"})
    exported_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class AuditRow(SQLModel, table=True):
    """One builder or admin action: who, when, what, to whom, before and after."""

    __tablename__ = "audit"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=_now, sa_type=DateTime(timezone=True), index=True)
    actor: str = Field(index=True)
    action: str = Field(index=True)
    target: str
    before: Any = Field(default=None, sa_type=JSON, nullable=True)
    after: Any = Field(default=None, sa_type=JSON, nullable=True)
    detail: str = Field(default="", sa_column_kwargs={"server_default": ""})


class BanRow(SQLModel, table=True):
    """An account or address ban."""

    __tablename__ = "bans"

    id: int | None = Field(default=None, primary_key=True)
    kind: str  # "account" | "address"
    value: str = Field(index=True)  # a lower-cased account name, an address or a network
    reason: str = Field(default="", sa_column_kwargs={"server_default": ""})
    by: str
    at: datetime = Field(default_factory=_now, sa_type=DateTime(timezone=True))
    until: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    lifted_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


# ---- values ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EditRecord:
    """A world edit as stored (`id` is None until written)."""

    actor: str
    kind: str
    target: str
    zone: str
    before: Any
    after: Any
    at: datetime
    id: int | None = None
    exported: tuple[str, ...] = ()  # zones already written into their files

    @property
    def zones(self) -> set[str]:
        """Every zone the edit touches (from its content states)."""
        return touched_zones(self.before) | touched_zones(self.after) | {self.zone}


def touched_zones(state: Any) -> set[str]:
    """The zones a content state (world/building.py) touches: its zone headers and resets,
    and the zones of its room and prototype ids."""
    zones: set[str] = set()
    if not isinstance(state, dict):
        return zones
    for key, table in state.items():
        if not isinstance(table, dict):
            continue
        if key in ("zones", "resets"):
            zones.update(str(z) for z in table)
        else:
            zones.update(str(i).split(":", 1)[0] for i in table)
    return zones


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """An audit log entry (`id` is None until written)."""

    actor: str
    action: str
    target: str
    before: Any = None
    after: Any = None
    detail: str = ""
    at: datetime | None = None
    id: int | None = None

    def to_data(self) -> dict[str, Any]:
        """The entry as wire-safe data (the time as ISO 8601, UTC)."""
        return {"id": self.id, "at": self.at.isoformat() if self.at else None,
                "actor": self.actor, "action": self.action, "target": self.target,
                "before": self.before, "after": self.after, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class BanRecord:
    """A ban as callers see it."""

    id: int
    kind: str
    value: str
    reason: str
    by: str
    at: datetime
    until: datetime | None
    lifted_at: datetime | None

    def to_data(self) -> dict[str, Any]:
        """The ban as wire-safe data."""
        return {"id": self.id, "kind": self.kind, "value": self.value, "reason": self.reason,
                "by": self.by, "at": self.at.isoformat(),
                "until": self.until.isoformat() if self.until else None}


def _ban(row: BanRow) -> BanRecord:
    assert row.id is not None
    at = _utc(row.at)
    assert at is not None
    return BanRecord(row.id, row.kind, row.value, row.reason, row.by, at, _utc(row.until),
                     _utc(row.lifted_at))


def address_matches(rule: str, address: str) -> bool:
    """Whether `address` is `rule` (an address) or inside it (a network like 10.0.0.0/8)."""
    try:
        ip = ipaddress.ip_address(address)
        if "/" in rule:
            return ip in ipaddress.ip_network(rule, strict=False)
        return ip == ipaddress.ip_address(rule)
    except ValueError:
        return rule == address


# ---- the store ------------------------------------------------------------------


class AdminStore:
    """Queries for edits, audit, bans and flags, on an existing (migrated) engine.

    Example::

        store = AdminStore(repo.engine)
        store.write([edit], [AuditRecord("ann", "kick", "bob", detail="spam")])
        store.active_ban("bob", "10.0.0.7", now)  # BanRecord or None
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def _session(self) -> Session:
        return Session(self._engine, expire_on_commit=False)

    # ---- edits and audit ----

    def write(self, edits: Sequence[EditRecord], audits: Sequence[AuditRecord]) -> int:
        """Append edits and audit entries, in order, in one transaction.

        Returns:
            The id of the last edit written (0 when there were none).
        """
        last = 0
        with self._session() as session:
            rows = [WorldEditRow(at=e.at, actor=e.actor, kind=e.kind, target=e.target,
                                 zone=e.zone, before=e.before, after=e.after) for e in edits]
            for row in rows:
                session.add(row)
            for a in audits:
                session.add(AuditRow(at=a.at or _now(), actor=a.actor, action=a.action,
                                     target=a.target, before=a.before, after=a.after,
                                     detail=a.detail))
            session.commit()
            for row in rows:
                last = max(last, row.id or 0)
        return last

    def pending_edits(self) -> list[EditRecord]:
        """Every edit not yet exported to a content file, oldest first."""
        with self._session() as session:
            statement = (select(WorldEditRow).where(col(WorldEditRow.exported_at).is_(None))
                         .order_by(col(WorldEditRow.id)))
            return [EditRecord(r.actor, r.kind, r.target, r.zone, r.before, r.after,
                               _utc(r.at) or _now(), r.id, tuple(r.exported or ()))
                    for r in session.exec(statement)]

    def mark_exported(self, zone: str) -> int:
        """Note that `zone`'s content file now holds every edit so far that touches it.

        An edit touching several zones (an exit from one zone into another) is stamped
        `exported_at` once all of them are exported.

        Returns:
            How many edits touching `zone` were marked.
        """
        now = _now()
        marked = 0
        with self._session() as session:
            statement = select(WorldEditRow).where(col(WorldEditRow.exported_at).is_(None))
            for row in session.exec(statement):
                record = EditRecord(row.actor, row.kind, row.target, row.zone, row.before,
                                    row.after, now)
                zones = record.zones
                if zone not in zones or zone in (row.exported or []):
                    continue
                row.exported = sorted({*(row.exported or []), zone})
                if zones <= set(row.exported):
                    row.exported_at = now
                session.add(row)
                marked += 1
            session.commit()
        return marked

    def audit(self, actor: str | None = None, action: str | None = None,
              since: datetime | None = None, limit: int = 50) -> list[AuditRecord]:
        """Audit entries, newest first, filtered.

        Args:
            actor: only this actor's (any letter case).
            action: only this action, or those under it (`room` matches `room.set`).
            since: only entries at or after this time.
            limit: at most this many.
        """
        statement = select(AuditRow)
        if actor:
            statement = statement.where(func.lower(AuditRow.actor) == actor.lower())
        if action:
            statement = statement.where(or_(col(AuditRow.action) == action,
                                            col(AuditRow.action).startswith(
                                                action + ".", autoescape=True)))
        if since is not None:
            statement = statement.where(AuditRow.at >= since)
        statement = statement.order_by(col(AuditRow.id).desc()).limit(limit)
        with self._session() as session:
            return [AuditRecord(r.actor, r.action, r.target, r.before, r.after, r.detail,
                                _utc(r.at), r.id) for r in session.exec(statement)]

    # ---- bans ----

    def add_ban(self, kind: str, value: str, reason: str, by: str,
                until: datetime | None) -> BanRecord:
        """Record a ban (an earlier active ban of the same value is lifted: one at a time)."""
        now = _now()
        with self._session() as session:
            for old in session.exec(select(BanRow).where(
                    BanRow.kind == kind, BanRow.value == value,
                    col(BanRow.lifted_at).is_(None))):
                old.lifted_at = now
                session.add(old)
            row = BanRow(kind=kind, value=value, reason=reason, by=by, at=now, until=until)
            session.add(row)
            session.commit()
            return _ban(row)

    def lift_bans(self, kind: str, value: str) -> list[BanRecord]:
        """Lift the active bans of `value`; returns those lifted."""
        now = _now()
        with self._session() as session:
            rows = [r for r in session.exec(select(BanRow).where(
                BanRow.kind == kind, BanRow.value == value, col(BanRow.lifted_at).is_(None)))
                    if (until := _utc(r.until)) is None or until > now]
            for row in rows:
                row.lifted_at = now
                session.add(row)
            session.commit()
            return [_ban(r) for r in rows]

    def active_bans(self, now: datetime | None = None) -> list[BanRecord]:
        """Every ban in force at `now` (default: now), oldest first."""
        now = now or _now()
        with self._session() as session:
            statement = (select(BanRow)
                         .where(col(BanRow.lifted_at).is_(None),
                                or_(col(BanRow.until).is_(None), col(BanRow.until) > now))
                         .order_by(col(BanRow.id)))
            return [_ban(r) for r in session.exec(statement)]

    def active_ban(self, account: str | None, address: str | None,
                   now: datetime | None = None) -> BanRecord | None:
        """The ban in force on this account name or this address, if any (accounts first)."""
        bans = self.active_bans(now)
        if account:
            key = account.lower()
            for ban in bans:
                if ban.kind == "account" and ban.value == key:
                    return ban
        if address:
            for ban in bans:
                if ban.kind == "address" and address_matches(ban.value, address):
                    return ban
        return None

    # ---- character flags ----

    def get_flags(self, name: str) -> dict[str, Any] | None:
        """The flags of the saved character `name` (None: no such character)."""
        with self._session() as session:
            statement = select(CharacterRow.flags).where(CharacterRow.name == name.lower())
            flags = session.exec(statement).first()
            return None if flags is None else dict(flags)

    def set_flag(self, name: str, flag: str, value: Any) -> bool:
        """Set (or with None, clear) one flag of a saved character; False if there is none."""
        with self._session() as session:
            row = session.exec(select(CharacterRow)
                               .where(CharacterRow.name == name.lower())).first()
            if row is None:
                return False
            flags = dict(row.flags or {})
            if value is None:
                flags.pop(flag, None)
            else:
                flags[flag] = value
            row.flags = flags
            session.add(row)
            session.commit()
            return True
