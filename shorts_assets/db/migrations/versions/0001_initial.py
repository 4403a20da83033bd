"""The initial schema: videos, scripts, publications, metric snapshots, comments, strategy.

Revision ID: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "video_requests",
        sa.Column("video_id", sa.String(64), primary_key=True),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("batch_date", sa.Date, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("strategy_version", sa.String(80), nullable=False),
        sa.Column("arms", sa.JSON, nullable=False),
        sa.Column("script", sa.JSON, nullable=False),
        sa.Column("writer", sa.String(40), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
    )
    op.create_index("ix_video_requests_batch", "video_requests", ["channel", "batch_date"])
    op.create_table(
        "videos",
        sa.Column("video_id", sa.String(64), primary_key=True),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("batch_date", sa.Date, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("stage", sa.String(20), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("failed_stage", sa.String(20)),
        sa.Column("error", sa.Text),
        sa.Column("outputs", sa.JSON, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
    )
    op.create_index("ix_videos_batch", "videos", ["channel", "batch_date"])
    op.create_table(
        "publish_results",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("video_id", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("batch_date", sa.Date, nullable=False),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("account", sa.String(80), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("remote_id", sa.String(80)),
        sa.Column("url", sa.Text),
        sa.Column("scheduled_at", UTC_DATETIME),
        sa.Column("published_at", UTC_DATETIME),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("error", sa.Text),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.UniqueConstraint("video_id", "platform", "account", name="uq_publish_video_platform_account"),
    )
    op.create_index("ix_publish_results_batch", "publish_results", ["channel", "batch_date"])
    op.create_table(
        "performance_metrics",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("video_id", sa.String(64), nullable=False),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("remote_id", sa.String(80), nullable=False),
        sa.Column("window", sa.String(16), nullable=False),
        sa.Column("fetched_at", UTC_DATETIME, nullable=False),
        sa.Column("age_hours", sa.Float, nullable=False),
        sa.Column("views", sa.BigInteger, nullable=False),
        sa.Column("likes", sa.BigInteger, nullable=False),
        sa.Column("comments", sa.BigInteger, nullable=False),
        sa.Column("shares", sa.BigInteger, nullable=False),
        sa.Column("avg_view_pct", sa.Float, nullable=False),
        sa.Column("watch_time_s", sa.Float, nullable=False),
    )
    op.create_index("ix_performance_metrics_video", "performance_metrics", ["video_id", "platform", "fetched_at"])
    op.create_table(
        "comments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("comment_id", sa.String(120), nullable=False),
        sa.Column("remote_id", sa.String(80), nullable=False),
        sa.Column("video_id", sa.String(64), nullable=False),
        sa.Column("parent_id", sa.String(120)),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("like_count", sa.Integer, nullable=False),
        sa.Column("published_at", UTC_DATETIME, nullable=False),
        sa.Column("fetched_at", UTC_DATETIME, nullable=False),
        sa.UniqueConstraint("platform", "comment_id", name="uq_comments_platform_comment"),
    )
    op.create_index("ix_comments_video", "comments", ["video_id"])
    op.create_table(
        "content_strategy",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("version", sa.String(80), nullable=False, unique=True),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("strategy_date", sa.Date, nullable=False),
        sa.Column("videos_per_day", sa.Integer, nullable=False),
        sa.Column("allocation", sa.JSON, nullable=False),
        sa.Column("state", sa.JSON, nullable=False),
        sa.Column("summary", sa.JSON, nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
    )
    op.create_index("ix_content_strategy_channel_date", "content_strategy", ["channel", "strategy_date"])


def downgrade() -> None:
    for table in (
        "content_strategy",
        "comments",
        "performance_metrics",
        "publish_results",
        "videos",
        "video_requests",
    ):
        op.drop_table(table)
