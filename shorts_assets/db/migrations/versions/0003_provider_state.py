"""Provider state: what platform adapters must not forget (upload sessions, rotated tokens), and API quota.

Revision ID: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "provider_state",
        sa.Column("namespace", sa.String(80), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "quota_usage",
        sa.Column("api", sa.String(80), primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("units", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("quota_usage")
    op.drop_table("provider_state")
