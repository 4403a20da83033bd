"""The notification outbox and the record of failed runs.

Every event the engine reports (published, failed, needs_manual, awaiting_review, budget_exhausted,
quota_exhausted, run_failed) is one row of ``notification_events``; each of its destinations is one
row of ``notification_deliveries`` that a drainer claims, posts and marks delivered, retries with
backoff, or marks dead after the give-up horizon (kept, never deleted). ``run_failures`` holds one
row per failed Dagster run.

Revision ID: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "notification_events",
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("channel", sa.String(40)),
        sa.Column("video_id", sa.String(64)),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
    )
    op.create_index("ix_notification_events_kind", "notification_events", ["kind", "created_at"])
    op.create_table(
        "notification_deliveries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("destination", sa.String(64), nullable=False),
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("format", sa.String(12), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", UTC_DATETIME, nullable=False),
        sa.Column("claimed_by", sa.String(80)),
        sa.Column("claim_expires_at", UTC_DATETIME),
        sa.Column("delivered_at", UTC_DATETIME),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.UniqueConstraint("event_id", "destination", name="uq_notification_deliveries_event_destination"),
    )
    op.create_index("ix_notification_deliveries_due", "notification_deliveries", ["status", "next_attempt_at"])
    op.create_table(
        "run_failures",
        sa.Column("run_id", sa.String(64), primary_key=True),
        sa.Column("job_name", sa.String(200), nullable=False),
        sa.Column("partition", sa.String(120)),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("failed_at", UTC_DATETIME, nullable=False),
        sa.Column("recorded_at", UTC_DATETIME, nullable=False),
    )
    op.create_index("ix_run_failures_failed_at", "run_failures", ["failed_at"])


def downgrade() -> None:
    op.drop_index("ix_run_failures_failed_at", table_name="run_failures")
    op.drop_table("run_failures")
    op.drop_index("ix_notification_deliveries_due", table_name="notification_deliveries")
    op.drop_table("notification_deliveries")
    op.drop_index("ix_notification_events_kind", table_name="notification_events")
    op.drop_table("notification_events")
