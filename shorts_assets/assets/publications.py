"""publications/<platform>: every rendered video posted once per platform, each platform its own asset.

Per video and platform the database holds a publish state (uploading, published, failed, or
needs_manual when only a person can help: a revoked login, an upload the platform rejected). Before
posting, the platform's own record is read, so a post whose answer was lost is recovered, never
repeated. A platform that fails does not hold up the others.
"""


from datetime import datetime, time, timezone
from pathlib import Path

import dagster as dg

from shorts_assets.assets.batch import arm_summary, markdown_table, partition_of
from shorts_assets.assets.renders import renders
from shorts_assets.constants import PUBLISH, RENDER_STAGE
from shorts_assets.db.store import Store, VideoRow
from shorts_assets.partitions import loop_partitions
from shorts_assets.providers.http import BudgetExhausted
from shorts_assets.providers.interfaces import PLATFORMS, NeedsManual, Publisher, PublishRequest
from shorts_assets.resources import ChannelsResource, DatabaseResource, PlatformsResource


def scheduled_slot(row: VideoRow) -> datetime:
    """The posting slot the strategy chose: the batch date at its posting hour, UTC."""
    return datetime.combine(row.batch_date, time(int(row.arms["posting_hour"])), tzinfo=timezone.utc)


def publish_one(store: Store, publisher: Publisher, row: VideoRow) -> str:
    """Post one rendered video unless the database or the platform already knows it; return what happened."""
    known = store.publication(row.video_id, publisher.platform, publisher.account)
    if known and known.status == "published":
        return "already published"
    if known and known.status == "needs_manual":
        return f"needs manual attention: {known.error}"
    slot = scheduled_slot(row)
    store.begin_publish(
        video_id=row.video_id,
        channel=row.channel,
        batch_date=row.batch_date,
        platform=publisher.platform,
        account=publisher.account,
        scheduled_at=slot,
    )
    remote = publisher.find(row.video_id)
    if remote is not None:
        store.finish_publish(remote)
        return "recovered from the platform"
    render = row.outputs[RENDER_STAGE]
    request = PublishRequest(
        video_id=row.video_id,
        title=row.script["title"],
        description=row.script["description"],
        tags=tuple(row.script["tags"]),
        video_path=Path(render["video_path"]),
        thumbnail_path=Path(render["thumbnail_path"]),
        scheduled_at=slot,
        duration_s=render["duration_s"],
        features=row.arms,
    )
    try:
        publication = publisher.publish(request)
    except NeedsManual as exc:
        store.fail_publish(
            row.video_id, publisher.platform, publisher.account, f"{type(exc).__name__}: {exc}", status="needs_manual"
        )
        raise
    except Exception as exc:
        store.fail_publish(row.video_id, publisher.platform, publisher.account, f"{type(exc).__name__}: {exc}")
        raise
    store.finish_publish(publication)
    return "published"


def build_publication_asset(platform: str) -> dg.AssetsDefinition:
    @dg.asset(
        name=platform,
        key_prefix="publications",
        partitions_def=loop_partitions,
        group_name=PUBLISH,
        deps=[renders],
        pool=f"publish_{platform}",
        kinds={platform},
        description=f"The batch's shorts posted to {platform}, exactly once per video.",
    )
    def _publications(
        context: dg.AssetExecutionContext,
        database: DatabaseResource,
        channels: ChannelsResource,
        platforms: PlatformsResource,
    ) -> dg.MaterializeResult:
        channel_name, day = partition_of(context)
        channel = channels.get(channel_name)
        if platform not in channel.platforms:
            return dg.MaterializeResult(metadata={"skipped": f"{channel_name} does not publish to {platform}"})
        publisher = platforms.publisher(platform, account=channel_name)
        if publisher is None:
            return dg.MaterializeResult(
                metadata={"skipped": f"PUBLISHER_{platform.upper()} is off while other platforms publish for real"}
            )
        store = database.store()
        outcomes: dict[str, str] = {}
        attempted = failed = 0
        exhausted = ""
        rows = store.batch(channel_name, day)
        for row in rows:
            if RENDER_STAGE not in row.outputs:
                outcomes[row.video_id] = "waiting for render"
                continue
            if exhausted:
                outcomes[row.video_id] = f"not tried: {exhausted}"
                continue
            try:
                outcomes[row.video_id] = publish_one(store, publisher, row)
                attempted += outcomes[row.video_id] != "already published"
            except BudgetExhausted as exc:  # the day's quota or cap is spent: stop posting here, retry later
                exhausted = f"{type(exc).__name__}: {exc}"
                outcomes[row.video_id] = f"failed: {exhausted}"
                attempted += 1
                failed += 1
                context.log.warning(f"{platform}: {exhausted}; no more posts there in this run")
            except Exception as exc:  # one video's failure leaves its siblings published
                attempted += 1
                failed += 1
                outcomes[row.video_id] = f"failed: {type(exc).__name__}: {exc}"
                context.log.warning(f"{row.video_id} on {platform}: {outcomes[row.video_id]}")
        if attempted and failed == attempted and failed == len(rows):
            raise dg.Failure(description=f"every {platform} post of the batch failed; first: {next(iter(outcomes.values()))}")

        records = {p.video_id: p for p in store.publications(channel_name, day, platform)}
        published = [p for p in records.values() if p.status == "published"]
        table = markdown_table(
            ["video", "title", "arms", "status", "link"],
            [
                [
                    r.video_id,
                    r.script["title"],
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
            "failed": failed,
            "batch": table,
            "published_at_latest": max((p.published_at.timestamp() for p in published if p.published_at), default=0.0),
        }
        if published:
            metadata["first_url"] = dg.MetadataValue.url(published[0].url or "")
        return dg.MaterializeResult(metadata=metadata)

    return _publications


publication_assets = [build_publication_asset(platform) for platform in PLATFORMS]
