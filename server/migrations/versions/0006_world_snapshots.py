"""World snapshots in the database, for a world host that starts on another machine.

Revision ID: 0006
Revises: 0005
Create Date: 2026-02-01

Written by hand: keep `WorldSnapshotRow` in server/host/snapshot_db.py in step with it.

* `world_snapshots`: one row per snapshot of the world (server/host/snapshots.py), keyed
  by the journal entry `seq` it was taken after: the world `tick`, the wall-clock `time`,
  the hash of the `content` files, the world code's `fingerprint`, why it was taken
  (`kind`: periodic, start, reload, stop) and the pickled world (`data`, a few MB).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create `world_snapshots`."""
    op.create_table(
        "world_snapshots",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("tick", sa.BigInteger(), nullable=False),
        sa.Column("time", sa.Float(), nullable=False),
        sa.Column("content", sa.String(length=64), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )


def downgrade() -> None:
    """Drop what `upgrade` made."""
    op.drop_table("world_snapshots")
