"""Claims on side effects and arms a person forced.

A publish slot carries the owner of its claim and when the claim lapses, so that concurrent runs of
one partition never upload twice and a dead owner's claim is recovered. A video request records the
arms a person forced for it (not the learner's choice). A strategy row records the run that wrote
it, so a retried step does not add a version.

Revision ID: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("publish_results") as batch:
        batch.add_column(sa.Column("claim_owner", sa.String(80)))
        batch.add_column(sa.Column("claim_expires_at", UTC_DATETIME))
    with op.batch_alter_table("video_requests") as batch:
        batch.add_column(sa.Column("forced_arms", sa.JSON))
    with op.batch_alter_table("content_strategy") as batch:
        batch.add_column(sa.Column("run_id", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("content_strategy") as batch:
        batch.drop_column("run_id")
    with op.batch_alter_table("video_requests") as batch:
        batch.drop_column("forced_arms")
    with op.batch_alter_table("publish_results") as batch:
        batch.drop_column("claim_owner")
        batch.drop_column("claim_expires_at")
