"""Usage accounting: agents' daily model usage and budgets.

Revision ID: 0004
Revises: 0003
Create Date: 2025-12-01

Written by hand: keep `UsageRow` and `BudgetRow` in server/host/usage_storage.py in step
with it.

* `agent_usage`: one row per agent account, UTC day and model: prompt, completion and
  cached prompt tokens, calls, cost in micro-dollars; `owner_id` is the agent's owner
  copied in, for per-owner queries. Deleting the agent (or its owner) deletes them.
* `budgets`: a daily limit per agent or per owner (`scope`), in tokens
  (`tokens_per_day`) and/or dollars (`usd_per_day`), null meaning no limit of that
  kind; `on_limit` is what the agent does when refused: `scripted` or `stop`.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create `agent_usage` and `budgets`."""
    op.create_table(
        "agent_usage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("model", sa.String(), nullable=False),
        sa.Column("prompt_tokens", sa.BigInteger(), nullable=False),
        sa.Column("completion_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cached_tokens", sa.BigInteger(), nullable=False),
        sa.Column("calls", sa.BigInteger(), nullable=False),
        sa.Column("cost_micro", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"],
                                name="fk_agent_usage_account_id_accounts", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["owner_id"], ["accounts.id"],
                                name="fk_agent_usage_owner_id_accounts", ondelete="CASCADE"),
        sa.UniqueConstraint("account_id", "day", "model",
                            name="uq_agent_usage_account_day_model"),
    )
    op.create_index("ix_agent_usage_account_id", "agent_usage", ["account_id"])
    op.create_index("ix_agent_usage_owner_id", "agent_usage", ["owner_id"])
    op.create_index("ix_agent_usage_day", "agent_usage", ["day"])

    op.create_table(
        "budgets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("tokens_per_day", sa.BigInteger(), nullable=True),
        sa.Column("usd_per_day", sa.Float(), nullable=True),
        sa.Column("on_limit", sa.String(), server_default="scripted", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"],
                                name="fk_budgets_account_id_accounts", ondelete="CASCADE"),
        sa.UniqueConstraint("scope", "account_id", name="uq_budgets_scope_account"),
    )
    op.create_index("ix_budgets_account_id", "budgets", ["account_id"])


def downgrade() -> None:
    """Drop what `upgrade` made."""
    op.drop_index("ix_budgets_account_id", table_name="budgets")
    op.drop_table("budgets")
    op.drop_index("ix_agent_usage_day", table_name="agent_usage")
    op.drop_index("ix_agent_usage_owner_id", table_name="agent_usage")
    op.drop_index("ix_agent_usage_account_id", table_name="agent_usage")
    op.drop_table("agent_usage")
