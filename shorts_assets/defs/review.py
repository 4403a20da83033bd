"""Reviewing in Dagster: review_job records a person's decisions from the Launchpad, and
approved_videos_sensor launches publish_approved_job for each approval, at its slot.

The decisions are made by loop.review.decide, the same engine function the command line calls
(`python -m shorts_assets.review`).
"""

import json

import dagster as dg
from pydantic import Field

from shorts_assets.core.clock import utc_now
from shorts_assets.core.errors import ConfigError
from shorts_assets.defs.constants import PUBLISH
from shorts_assets.defs.jobs import RUN_CONFIG
from shorts_assets.defs.metadata import markdown_table
from shorts_assets.defs.resources import ChannelsResource, DatabaseResource
from shorts_assets.loop.review import ReviewRequest, decide, past_tense, plan_publishing

USER_TAGS = ("dagster/user", "user")  # who launched the run, where the instance records it
REFUSED_TAG = "shorts/review_refused"


class ReviewConfig(dg.Config):
    """One review: the videos to approve and to reject (with the reason), and edits to what is published."""

    channels: list[str] = Field(
        description="the channel(s) this review is about; a decision on another channel's video is refused"
    )
    approve: list[str] = Field(default=[], description="video ids to approve for publishing")
    reject: dict[str, str] = Field(default={}, description="video id -> why it is rejected (a reason is required)")
    titles: dict[str, str] = Field(
        default={}, description="video id -> the title to publish an approved video with, instead of its own"
    )
    descriptions: dict[str, str] = Field(
        default={}, description="video id -> the description to publish an approved video with, instead of its own"
    )
    reviewer: str = Field(
        default="", description="who decides, when the run carries no user tag (dagster/user); else 'unknown'"
    )


def reviewer_of(tags: dict[str, str], config: ReviewConfig) -> str:
    """Who made the decisions: the run's user tag, else the config's reviewer, else 'unknown'."""
    for tag in USER_TAGS:
        if tags.get(tag, "").strip():
            return tags[tag].strip()
    return config.reviewer.strip() or "unknown"


@dg.op(description="Record the review's decisions, one row each; refuse each invalid one by id, recording the rest.")
def record_review(
    context: dg.OpExecutionContext, config: ReviewConfig, database: DatabaseResource, channels: ChannelsResource
) -> dg.Output:
    request = ReviewRequest(
        channels=config.channels,
        approve=config.approve,
        reject=config.reject,
        titles=config.titles,
        descriptions=config.descriptions,
        reviewer=reviewer_of(dict(context.run.tags), config),
        via="ui",
        run_id=context.run_id,
    )
    try:
        result = decide(database.store(), channels.configs(), request)
    except ConfigError as exc:
        raise dg.Failure(description=f"ops.record_review.config: {exc}") from None
    for d in result.recorded:
        context.log.info(
            f"{d.video_id} {past_tense(d.decision)} by {d.reviewer}" + (f": {d.reason}" if d.reason else "")
        )
    metadata = {
        "reviewer": request.reviewer,
        "recorded": len(result.recorded),
        "refused": len(result.refused),
        "decisions": markdown_table(
            ["decision id", "video", "channel", "decision", "reason", "edited title"],
            [[d.id, d.video_id, d.channel, d.decision, d.reason or "", d.title or ""] for d in result.recorded],
        ),
        "refused_ids": dg.MetadataValue.json(result.refused),
    }
    if result.refused:
        context.instance.add_run_tags(context.run_id, {REFUSED_TAG: ",".join(sorted(result.refused))[:4000]})
        lines = "; ".join(f"{video_id}: {why}" for video_id, why in result.refused.items())
        raise dg.Failure(
            description=(
                f"{len(result.refused)} decision(s) refused, {len(result.recorded)} recorded. Refused: {lines}"
            ),
            metadata=metadata,
        )
    return dg.Output(result.summary(), metadata=metadata)


# No default run config (the other jobs' LOG_LEVEL): a default would have to invent the channels under review.
@dg.job(
    description=(
        "Approve or reject videos waiting for review: ops.record_review.config takes channels, approve, "
        "reject (id: reason), and optional titles/descriptions for approved videos."
    ),
    tags={"shorts/kind": "review"},
)
def review_job():
    record_review()


publish_approved_job = dg.define_asset_job(
    "publish_approved_job",
    selection=dg.AssetSelection.assets("clips", "voiceovers", "renders") | dg.AssetSelection.groups(PUBLISH),
    config=RUN_CONFIG,
    description=(
        "Make what an approved video still lacks and publish it (launched by approved_videos_sensor); "
        "videos without approval stay held."
    ),
)


@dg.sensor(job=publish_approved_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def approved_videos_sensor(
    context: dg.SensorEvaluationContext, database: DatabaseResource, channels: ChannelsResource
) -> dg.SensorResult:
    """Launch the publishing of each approved video once at its approval and, if its slot was ahead, once
    more when the slot comes, for the platforms that wait for it."""
    state = json.loads(context.cursor) if context.cursor else {}
    launches, state = plan_publishing(database.store(), channels.configs(), state, utc_now())
    requests = [
        dg.RunRequest(
            run_key=launch.run_key,
            partition_key=dg.MultiPartitionKey({"channel": launch.channel, "date": launch.batch_date.isoformat()}),
            tags={"shorts/review": launch.reason[:200]},
        )
        for launch in launches
    ]
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(state))
