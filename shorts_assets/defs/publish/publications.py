"""publications/<platform>: every rendered video posted once per platform (see loop.publishing), each
platform its own asset so that a platform that fails does not hold up the others."""

import dagster as dg

from shorts_assets.core.clock import utc_now
from shorts_assets.core.types import PLATFORMS
from shorts_assets.defs.constants import PUBLISH
from shorts_assets.defs.create.renders import renders
from shorts_assets.defs.metadata import arm_summary, batch_failure, markdown_table, partition_of
from shorts_assets.defs.partitions import loop_partitions
from shorts_assets.defs.resources import ChannelsResource, DatabaseResource, MediaResource, PlatformsResource
from shorts_assets.defs.retries import NETWORK_RETRY
from shorts_assets.loop.publishing import publish_batch
from shorts_assets.loop.review import AT_PUBLISH, due, gate


def build_publication_asset(platform: str) -> dg.AssetsDefinition:
    @dg.asset(
        name=platform,
        key_prefix="publications",
        partitions_def=loop_partitions,
        group_name=PUBLISH,
        deps=[renders],
        pool=f"publish_{platform}",
        retry_policy=NETWORK_RETRY,
        kinds={platform},
        description=f"The batch's shorts posted to {platform}, exactly once per video.",
    )
    def _publications(
        context: dg.AssetExecutionContext,
        database: DatabaseResource,
        channels: ChannelsResource,
        platforms: PlatformsResource,
        media: MediaResource,
    ) -> dg.MaterializeResult:
        channel_name, day = partition_of(context)
        channel = channels.get(channel_name)
        if platform not in channel.platforms:
            return dg.MaterializeResult(metadata={"skipped": f"{channel_name} does not publish to {platform}"})
        publisher = platforms.publisher(platform, account=channel_name, channel=channel)
        if publisher is None:
            return dg.MaterializeResult(
                metadata={"skipped": f"PUBLISHER_{platform.upper()} is off while other platforms publish for real"}
            )
        store = database.store()
        rows = store.batch(channel_name, day)
        # Under review only approved videos go out, each at its slot (see loop.review).
        review = gate(context.log, store, channel, rows, AT_PUBLISH, database.notifier(store))
        timing = due(channel, publisher, review.allowed, utc_now())
        with batch_failure(), publisher:
            result = publish_batch(
                context.log, store, publisher, timing.allowed, notifier=database.notifier(store), media=media.store()
            )
        outcomes, failed = {**result.outcomes, **review.held, **timing.held}, result.failed

        records = {p.video_id: p for p in store.publications(channel_name, day, platform)}
        published = [p for p in records.values() if p.status == "published"]
        table = markdown_table(
            ["video", "title", "arms", "status", "link"],
            [
                [
                    r.video_id,
                    r.script.title,
                    arm_summary(r.arms),
                    outcomes.get(r.video_id, ""),
                    records[r.video_id].url if r.video_id in records and records[r.video_id].url else "",
                ]
                for r in rows
            ],
        )
        metadata = {
            "platform": platform,
            "simulated": platforms.simulated,
            "published": len(published),
            "in_inbox": sum(p.status == "in_inbox" for p in records.values()),
            "failed": failed,
            "review": channel.review,
            "held_for_review": len(review.held),
            "waiting_for_slot": len(timing.held),
            "batch": table,
            "published_at_latest": max((p.published_at.timestamp() for p in published if p.published_at), default=0.0),
        }
        if published:
            metadata["first_url"] = dg.MetadataValue.url(published[0].url or "")
        return dg.MaterializeResult(metadata=metadata)

    return _publications


publication_assets = [build_publication_asset(platform) for platform in PLATFORMS]
