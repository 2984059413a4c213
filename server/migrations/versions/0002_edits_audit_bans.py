"""Builder edits, the audit log, bans, and character flags.

Revision ID: 0002
Revises: 0001
Create Date: 2025-11-29

Written by hand: keep the SQLModel tables in server/host/admin_storage.py (and
`CharacterRow.flags` in server/host/storage.py) in step with it.

* `world_edits`: every builder change to content, in order. The server replays the
  rows whose `exported_at` is null over the content loaded from files at start.
  `zone export` adds the zone to `exported` (the zones whose files hold the edit's
  effect) of each row touching it, and stamps `exported_at` once every zone the edit
  touches is exported; the replay leaves the exported zones' parts out.
* `audit`: who did what to whom, when, with the state before and after.
* `bans`: account and address bans, with a reason and an optional end; lifting a ban
  stamps `lifted_at` (the row stays, for the record).
* `characters.flags`: server-set flags of a character that outlive its snapshot
  (`muted`: `{"until": ISO time or null, "by", "reason", "at"}`).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create `world_edits`, `audit` and `bans`; add `characters.flags`."""
    op.create_table(
        "world_edits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("target", sa.String(), nullable=False),
        sa.Column("zone", sa.String(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("exported", sa.JSON(), server_default="[]", nullable=False),
        sa.Column("exported_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_world_edits_zone", "world_edits", ["zone"])

    op.create_table(
        "audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("target", sa.String(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("detail", sa.String(), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_at", "audit", ["at"])
    op.create_index("ix_audit_actor", "audit", ["actor"])
    op.create_index("ix_audit_action", "audit", ["action"])

    op.create_table(
        "bans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("value", sa.String(), nullable=False),
        sa.Column("reason", sa.String(), server_default="", nullable=False),
        sa.Column("by", sa.String(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lifted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_bans_value", "bans", ["value"])

    with op.batch_alter_table("characters") as batch:
        batch.add_column(sa.Column("flags", sa.JSON(), server_default="{}", nullable=False))


def downgrade() -> None:
    """Drop what `upgrade` made."""
    with op.batch_alter_table("characters") as batch:
        batch.drop_column("flags")
    op.drop_index("ix_bans_value", table_name="bans")
    op.drop_table("bans")
    op.drop_index("ix_audit_action", table_name="audit")
    op.drop_index("ix_audit_actor", table_name="audit")
    op.drop_index("ix_audit_at", table_name="audit")
    op.drop_table("audit")
    op.drop_index("ix_world_edits_zone", table_name="world_edits")
    op.drop_table("world_edits")
