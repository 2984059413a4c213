"""A2A: which agents their owners let be reached over Agent2Agent.

Revision ID: 0005
Revises: 0004
Create Date: 2026-01-15

Written by hand: keep `A2AConsentRow` in server/host/a2a_storage.py in step with it.

* `a2a_agents`: one row per agent account whose owner consented (`aegent agent a2a
  NAME on`); no row: not reachable. `enabled_at` says since when. Deleting the agent
  deletes its row.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create `a2a_agents`."""
    op.create_table(
        "a2a_agents",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("enabled_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account_id"),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"],
                                name="fk_a2a_agents_account_id_accounts", ondelete="CASCADE"),
    )


def downgrade() -> None:
    """Drop what `upgrade` made."""
    op.drop_table("a2a_agents")
