"""Experiments: A/B tests between two values of one content dimension, and how each ended.

Revision ID: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "experiments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("dimension", sa.String(40), nullable=False),
        sa.Column("arm_a", sa.String(80), nullable=False),
        sa.Column("arm_b", sa.String(80), nullable=False),
        sa.Column("started_on", sa.Date, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("decided_on", sa.Date),
        sa.Column("winner", sa.String(80)),
        sa.Column("p_superiority", sa.Float),
        sa.Column("videos_a", sa.Integer, nullable=False, server_default="0"),
        sa.Column("videos_b", sa.Integer, nullable=False, server_default="0"),
        sa.Column("reason", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("channel", "dimension", "started_on", name="uq_experiments_channel_dimension_start"),
    )
    op.create_index("ix_experiments_channel_status", "experiments", ["channel", "status"])


def downgrade() -> None:
    op.drop_index("ix_experiments_channel_status", table_name="experiments")
    op.drop_table("experiments")
