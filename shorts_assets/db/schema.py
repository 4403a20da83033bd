"""The application's tables, as SQLAlchemy Core metadata. Migrations create them; this mirrors them."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

UTC_DATETIME = sa.DateTime(timezone=True)

video_requests = sa.Table(
    "video_requests",
    metadata,
    sa.Column("video_id", sa.String(64), primary_key=True),
    sa.Column("channel", sa.String(40), nullable=False),
    sa.Column("batch_date", sa.Date, nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("strategy_version", sa.String(80), nullable=False),
    sa.Column("arms", sa.JSON, nullable=False),
    sa.Column("script", sa.JSON, nullable=False),
    sa.Column("writer", sa.String(40), nullable=False),
    sa.Column("created_at", UTC_DATETIME, nullable=False),
    sa.Column("forced_arms", sa.JSON),  # dimensions a person chose for this video, not the learner
    sa.Index("ix_video_requests_batch", "channel", "batch_date"),
)

videos = sa.Table(
    "videos",
    metadata,
    sa.Column("video_id", sa.String(64), primary_key=True),
    sa.Column("channel", sa.String(40), nullable=False),
    sa.Column("batch_date", sa.Date, nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    # The last stage that finished: scripted, clips, voiceover, rendered.
    sa.Column("stage", sa.String(20), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),  # ok | failed | awaiting_review | approved | rejected
    sa.Column("failed_stage", sa.String(20)),
    sa.Column("error", sa.Text),
    sa.Column("outputs", sa.JSON, nullable=False),  # per stage: paths, durations, word timings
    sa.Column("updated_at", UTC_DATETIME, nullable=False),
    sa.Index("ix_videos_batch", "channel", "batch_date"),
)

publish_results = sa.Table(
    "publish_results",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("video_id", sa.String(64), nullable=False),
    sa.Column("channel", sa.String(40), nullable=False),
    sa.Column("batch_date", sa.Date, nullable=False),
    sa.Column("platform", sa.String(20), nullable=False),
    sa.Column("account", sa.String(80), nullable=False),
    # pending | uploading | processing | published | in_inbox | failed | needs_manual
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("remote_id", sa.String(80)),
    sa.Column("url", sa.Text),
    sa.Column("scheduled_at", UTC_DATETIME),
    sa.Column("published_at", UTC_DATETIME),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("error", sa.Text),
    sa.Column("created_at", UTC_DATETIME, nullable=False),
    sa.Column("updated_at", UTC_DATETIME, nullable=False),
    # Who holds the slot's claim while it calls out, and when that claim lapses (its owner died).
    sa.Column("claim_owner", sa.String(80)),
    sa.Column("claim_expires_at", UTC_DATETIME),
    sa.UniqueConstraint("video_id", "platform", "account", name="uq_publish_video_platform_account"),
    sa.Index("ix_publish_results_batch", "channel", "batch_date"),
)

performance_metrics = sa.Table(
    "performance_metrics",
    metadata,
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
    sa.Index("ix_performance_metrics_video", "video_id", "platform", "fetched_at"),
)

comments = sa.Table(
    "comments",
    metadata,
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
    sa.Index("ix_comments_video", "video_id"),
)

content_strategy = sa.Table(
    "content_strategy",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("version", sa.String(80), nullable=False, unique=True),
    sa.Column("channel", sa.String(40), nullable=False),
    sa.Column("strategy_date", sa.Date, nullable=False),
    sa.Column("videos_per_day", sa.Integer, nullable=False),
    sa.Column("allocation", sa.JSON, nullable=False),  # dimension -> value -> share
    sa.Column("state", sa.JSON, nullable=False),  # the learning state carried to the next date (learning.state)
    sa.Column("summary", sa.JSON, nullable=False),
    sa.Column("created_at", UTC_DATETIME, nullable=False),
    sa.Column("run_id", sa.String(64)),  # the run that wrote this version
    sa.Index("ix_content_strategy_channel_date", "channel", "strategy_date"),
)

provider_state = sa.Table(
    "provider_state",
    metadata,
    sa.Column("namespace", sa.String(80), primary_key=True),
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("updated_at", UTC_DATETIME, nullable=False),
)

quota_usage = sa.Table(
    "quota_usage",
    metadata,
    sa.Column("api", sa.String(80), primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("units", sa.BigInteger, nullable=False),
)

experiments = sa.Table(
    "experiments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("channel", sa.String(40), nullable=False),
    sa.Column("dimension", sa.String(40), nullable=False),
    sa.Column("arm_a", sa.String(80), nullable=False),
    sa.Column("arm_b", sa.String(80), nullable=False),
    sa.Column("started_on", sa.Date, nullable=False),  # the strategy date that opened it
    sa.Column("status", sa.String(12), nullable=False),  # running | decided | stopped
    sa.Column("decided_on", sa.Date),
    sa.Column("winner", sa.String(80)),
    sa.Column("p_superiority", sa.Float),  # posterior P(effect of arm_a > effect of arm_b) at the last look
    sa.Column("videos_a", sa.Integer, nullable=False, server_default="0"),
    sa.Column("videos_b", sa.Integer, nullable=False, server_default="0"),
    sa.Column("reason", sa.Text),
    sa.Column("created_at", UTC_DATETIME, nullable=False),
    sa.Column("updated_at", UTC_DATETIME, nullable=False),
    sa.UniqueConstraint("channel", "dimension", "started_on", name="uq_experiments_channel_dimension_start"),
    sa.Index("ix_experiments_channel_status", "channel", "status"),
)

# ##### notifications: the outbox of events and their deliveries, and the failed runs

notification_events = sa.Table(
    "notification_events",
    metadata,
    sa.Column("event_id", sa.String(36), primary_key=True),  # the receiver deduplicates by it
    sa.Column("kind", sa.String(24), nullable=False),
    sa.Column("channel", sa.String(40)),
    sa.Column("video_id", sa.String(64)),
    sa.Column("payload", sa.JSON, nullable=False),  # {id, kind, channel, video_id, occurred_at, data}
    sa.Column("created_at", UTC_DATETIME, nullable=False),
    sa.Index("ix_notification_events_kind", "kind", "created_at"),
)

notification_deliveries = sa.Table(
    "notification_deliveries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.String(36), nullable=False),
    # A digest of the URL, never the URL itself (a chat webhook's URL is its credential).
    sa.Column("destination", sa.String(64), nullable=False),
    sa.Column("target", sa.String(200), nullable=False),  # the URL's scheme and host, for people to read
    sa.Column("format", sa.String(12), nullable=False),  # json | slack | discord
    sa.Column("status", sa.String(12), nullable=False),  # pending | delivered | dead
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", UTC_DATETIME, nullable=False),
    sa.Column("claimed_by", sa.String(80)),
    sa.Column("claim_expires_at", UTC_DATETIME),
    sa.Column("delivered_at", UTC_DATETIME),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", UTC_DATETIME, nullable=False),
    sa.Column("updated_at", UTC_DATETIME, nullable=False),
    sa.UniqueConstraint("event_id", "destination", name="uq_notification_deliveries_event_destination"),
    sa.Index("ix_notification_deliveries_due", "status", "next_attempt_at"),
)

run_failures = sa.Table(
    "run_failures",
    metadata,
    sa.Column("run_id", sa.String(64), primary_key=True),
    sa.Column("job_name", sa.String(200), nullable=False),
    sa.Column("partition", sa.String(120)),
    sa.Column("tags", sa.JSON, nullable=False),  # the run's partition tags
    sa.Column("error", sa.Text, nullable=False),
    sa.Column("failed_at", UTC_DATETIME, nullable=False),
    sa.Column("recorded_at", UTC_DATETIME, nullable=False),
    sa.Index("ix_run_failures_failed_at", "failed_at"),
)

# One row per review decision, never updated: a video's latest decision is the one that holds.
review_decisions = sa.Table(
    "review_decisions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("video_id", sa.String(64), nullable=False),
    sa.Column("channel", sa.String(40), nullable=False),
    sa.Column("batch_date", sa.Date, nullable=False),
    sa.Column("decision", sa.String(12), nullable=False),  # approve | reject
    sa.Column("reason", sa.Text),
    sa.Column("title", sa.Text),  # the title to publish with, when the reviewer edited it
    sa.Column("description", sa.Text),  # the description to publish with, when the reviewer edited it
    sa.Column("reviewer", sa.String(200), nullable=False),
    sa.Column("via", sa.String(8), nullable=False),  # ui | cli
    sa.Column("run_id", sa.String(64)),  # the review run that recorded it, when it came from one
    sa.Column("decided_at", UTC_DATETIME, nullable=False),
    sa.Index("ix_review_decisions_video", "video_id", "id"),
    sa.Index("ix_review_decisions_channel", "channel", "batch_date"),
)
