"""Agent identity: agent accounts and their API keys.

Revision ID: 0003
Revises: 0002
Create Date: 2025-12-01

Written by hand: keep `AccountRow` in server/host/storage.py and `ApiKeyRow` in
server/host/identity_storage.py in step with it.

* `accounts.kind`: `"person"` (the default, every account so far) or `"agent"`.
* `accounts.owner_id`: for an agent, the person's account that owns it (deleting the
  owner deletes its agents).
* `accounts.agent_config`: an agent's settings as JSON (`rate`, `burst`, `on_limit`,
  `policy`, `model`, `cls`...); `{}` for people.
* `api_keys`: an agent's keys. Only the sha256 of the whole key is kept (`key_hash`);
  `key_id` is the public part of the key text `aq_<key_id>_<secret>`. `scopes` lists
  the command categories the key may use (`["*"]`: all). Revoking stamps `revoked_at`.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the agent columns to `accounts` and create `api_keys`."""
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("kind", sa.String(), server_default="person", nullable=False))
        batch.add_column(sa.Column("owner_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("agent_config", sa.JSON(), server_default="{}",
                                   nullable=False))
        batch.create_foreign_key("fk_accounts_owner_id_accounts", "accounts",
                                 ["owner_id"], ["id"], ondelete="CASCADE")
        batch.create_index("ix_accounts_owner_id", ["owner_id"])

    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(), nullable=False),
        sa.Column("key_hash", sa.String(), nullable=False),
        sa.Column("scopes", sa.JSON(), server_default='["*"]', nullable=False),
        sa.Column("label", sa.String(), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_api_keys_account_id_accounts",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_api_keys_key_id", "api_keys", ["key_id"], unique=True)
    op.create_index("ix_api_keys_account_id", "api_keys", ["account_id"])


def downgrade() -> None:
    """Drop what `upgrade` made."""
    op.drop_index("ix_api_keys_account_id", table_name="api_keys")
    op.drop_index("ix_api_keys_key_id", table_name="api_keys")
    op.drop_table("api_keys")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_index("ix_accounts_owner_id")
        batch.drop_constraint("fk_accounts_owner_id_accounts", type_="foreignkey")
        batch.drop_column("agent_config")
        batch.drop_column("owner_id")
        batch.drop_column("kind")
