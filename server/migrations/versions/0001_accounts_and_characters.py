"""Accounts and characters.

Revision ID: 0001
Revises:
Create Date: 2025-11-29

Written by hand: keep the SQLModel tables in server/host/storage.py in step with it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create `accounts` and `characters` with their keys and indexes."""
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("display_name", sa.String(), nullable=False),
        sa.Column("password_hash", sa.String(), nullable=False),
        sa.Column("role", sa.String(), server_default="player", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_accounts_name", "accounts", ["name"], unique=True)

    op.create_table(
        "characters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("cls", sa.String(), nullable=False),
        sa.Column("room", sa.String(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("xp", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_characters_account_id_accounts",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_characters_name", "characters", ["name"], unique=True)
    op.create_index("ix_characters_account_id", "characters", ["account_id"])


def downgrade() -> None:
    """Drop both tables (characters first: they point at accounts)."""
    op.drop_index("ix_characters_account_id", table_name="characters")
    op.drop_index("ix_characters_name", table_name="characters")
    op.drop_table("characters")
    op.drop_index("ix_accounts_name", table_name="accounts")
    op.drop_table("accounts")
