"""Review decisions, and room in a video's status for `awaiting_review`.

Each decision a person makes on a video (approve or reject, the reason, an edited title or
description, who, when, through which interface) is a row of its own, never updated; the latest
decision of a video is the one that holds, and the history stays.

Revision ID: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("videos") as batch:
        batch.alter_column("status", existing_type=sa.String(12), type_=sa.String(20), existing_nullable=False)
    op.create_table(
        "review_decisions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("video_id", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("batch_date", sa.Date, nullable=False),
        sa.Column("decision", sa.String(12), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("title", sa.Text),
        sa.Column("description", sa.Text),
        sa.Column("reviewer", sa.String(200), nullable=False),
        sa.Column("via", sa.String(8), nullable=False),
        sa.Column("run_id", sa.String(64)),
        sa.Column("decided_at", UTC_DATETIME, nullable=False),
    )
    op.create_index("ix_review_decisions_video", "review_decisions", ["video_id", "id"])
    op.create_index("ix_review_decisions_channel", "review_decisions", ["channel", "batch_date"])


def downgrade() -> None:
    op.drop_index("ix_review_decisions_channel", table_name="review_decisions")
    op.drop_index("ix_review_decisions_video", table_name="review_decisions")
    op.drop_table("review_decisions")
    with op.batch_alter_table("videos") as batch:
        batch.alter_column("status", existing_type=sa.String(20), type_=sa.String(12), existing_nullable=False)
