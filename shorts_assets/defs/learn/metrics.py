"""metrics: snapshots of the day's published cohort, appended on every materialisation."""

from collections import defaultdict
from datetime import datetime, timezone

import dagster as dg

from shorts_assets.core.errors import PartialResultError
from shorts_assets.core.records import to_json
from shorts_assets.core.types import Publication
from shorts_assets.defs.learn.cohort import cohort_asset, read_cohort
from shorts_assets.defs.metadata import markdown_table
from shorts_assets.defs.resources import ChannelsResource, DatabaseResource, PlatformsResource
from shorts_assets.learning import reward


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
        raise dg.Failure(description=f"no metrics could be read: {errors}")

    rows = []
    for s in sorted(snapshots, key=lambda s: (by_video[(s.platform, s.remote_id)], s.platform)):
        value = reward(to_json(s))
        rows.append(
            [
                by_video[(s.platform, s.remote_id)],
                s.platform,
                f"{s.age_hours:.1f}",
                s.views,
                s.likes,
                f"{s.avg_view_pct:.1f}",
                "" if value is None else f"{value:.3f}",
            ]
        )
    return dg.MaterializeResult(
        metadata={
            "published_videos": len(day_cohort.video_ids),
            "snapshots_appended": appended,
            "total_snapshots": store.snapshot_count(day_cohort.video_ids),
            "views": sum(s.views for s in snapshots),
            "platform_errors": dg.MetadataValue.json(errors),
            "snapshot": markdown_table(["video", "platform", "age h", "views", "likes", "avg view %", "reward"], rows),
        }
    )
