"""metrics: snapshots of the day's published cohort, appended on every materialisation."""

from collections import defaultdict
from datetime import datetime, timezone

import dagster as dg

from shorts_assets.core.errors import PartialResultError
from shorts_assets.core.records import to_json
from shorts_assets.core.types import Publication
from shorts_assets.defs.learn.cohort import cohort_asset, read_cohort
from shorts_assets.defs.metadata import column
from shorts_assets.defs.resources import ChannelsResource, DatabaseResource, PlatformsResource
from shorts_assets.learning import reward

SNAPSHOT_SCHEMA = dg.TableSchema(
    columns=[
        column("video"),
        column("platform"),
        column("age_h", float, "hours since the post went up"),
        column("views", int),
        column("likes", int),
        column("avg_view_pct", float, "average share of the video watched, in percent"),
        column("reward", float, "the snapshot's reward, 0..1 (0.5 is the platform's typical video)"),
    ]
)


@cohort_asset
def metrics(
    context: dg.AssetExecutionContext,
    database: DatabaseResource,
    channels: ChannelsResource,
    platforms: PlatformsResource,
) -> dg.MaterializeResult:
    """Lifetime metric snapshots of the videos published in this batch (never overwritten)."""
    day_cohort = read_cohort(context, database, channels, platforms)
    store, cohort, audience = day_cohort.store, day_cohort.publications, day_cohort.audience
    if not cohort:
        return dg.MaterializeResult(metadata={"published_videos": 0, "snapshots_appended": 0})

    now = datetime.now(timezone.utc)
    by_video = {(p.platform, p.remote_id): p.video_id for p in cohort}
    snapshots, errors = [], {}
    grouped: dict[str, list[Publication]] = defaultdict(list)
    for publication in cohort:
        grouped[publication.platform].append(publication)
    with audience:
        for platform, group in grouped.items():
            try:
                snapshots += audience.fetch_metrics(group, now)
            except PartialResultError as exc:  # what was read before the failure is kept
                snapshots += exc.snapshots
                errors[platform] = str(exc)
                context.log.warning(f"metrics from {platform} incomplete: {exc}")
            except Exception as exc:  # a platform's analytics outage leaves the others' snapshots
                errors[platform] = f"{type(exc).__name__}: {exc}"
                context.log.warning(f"metrics from {platform} failed: {errors[platform]}")
    appended = store.append_snapshots((by_video[(s.platform, s.remote_id)], s) for s in snapshots)
    if errors and not snapshots:
        raise dg.Failure(
            description="no metrics could be read: " + "; ".join(f"{p}: {e}" for p, e in sorted(errors.items())),
            metadata={"platform_errors": dg.MetadataValue.json(errors)},
        )

    records = []
    for s in sorted(snapshots, key=lambda s: (by_video[(s.platform, s.remote_id)], s.platform)):
        value = reward(to_json(s))
        records.append(
            dg.TableRecord(
                {
                    "video": by_video[(s.platform, s.remote_id)],
                    "platform": s.platform,
                    "age_h": round(s.age_hours, 1),
                    "views": s.views,
                    "likes": s.likes,
                    "avg_view_pct": round(s.avg_view_pct, 1),
                    "reward": None if value is None else round(value, 3),
                }
            )
        )
    return dg.MaterializeResult(
        metadata={
            "published_videos": len(day_cohort.video_ids),
            "snapshots_appended": appended,
            "total_snapshots": store.snapshot_count(day_cohort.video_ids),
            "views": sum(s.views for s in snapshots),
            "platform_errors": dg.MetadataValue.json(errors),
            "snapshot": dg.MetadataValue.table(records, SNAPSHOT_SCHEMA),
        }
    )
