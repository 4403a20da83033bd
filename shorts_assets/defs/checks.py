"""render_quality: the blocking asset check that every rendered short of a partition meets the contract."""

import warnings
from collections.abc import Sequence

import dagster as dg

from shorts_assets.defs.metadata import partition_of
from shorts_assets.defs.partitions import loop_partitions
from shorts_assets.defs.resources import DatabaseResource
from shorts_assets.loop.stages import RENDER_STAGE
from shorts_assets.providers.render.quality import YOUTUBE_SHORTS_MAX_S, CheckResult, check_render


def summarise(per_video: dict[str, list[CheckResult]]) -> tuple[bool, dict[str, object]]:
    """Whether every video passed, and check metadata: a table of failures and counts."""
    failures = [
        (video_id, name, detail)
        for video_id, results in per_video.items()
        for name, passed, detail in results
        if not passed
    ]
    lines = ["| video | check | detail |", "|---|---|---|"]
    lines += [f"| {v} | {n} | {d.replace('|', '/')} |" for v, n, d in failures] or ["| — | — | — |"]
    metadata: dict[str, object] = {
        "videos_checked": len(per_video),
        "failed_checks": len(failures),
        "failures": dg.MetadataValue.md("\n".join(lines)),
    }
    return not failures, metadata


def build_render_checks(
    renders_asset_key: dg.AssetKey | str | Sequence[str] = "renders",
    *,
    max_duration_s: float = YOUTUBE_SHORTS_MAX_S,
    lufs_target: float = -14.0,
    **thresholds: float,
) -> list[dg.AssetChecksDefinition]:
    """Blocking checks on the `renders` asset: every rendered MP4 of the partition passes `check_render`.

    The check needs the `database` resource (`DatabaseResource`); it reads each video's render output
    from the partition's batch. Extra keyword arguments are passed on to `check_render`.
    """
    asset_key = dg.AssetKey.from_coercible(renders_asset_key)

    def render_quality(context: dg.AssetCheckExecutionContext, database: DatabaseResource) -> dg.AssetCheckResult:
        channel, day = partition_of(context)
        per_video: dict[str, list[CheckResult]] = {}
        for row in database.store().batch(channel, day):
            render = row.outputs.get(RENDER_STAGE) or {}
            video_path = render.get("video_path")
            if not video_path:
                continue
            per_video[row.video_id] = check_render(
                video_path, max_duration_s=max_duration_s, lufs_target=lufs_target, **thresholds
            )
        passed, metadata = summarise(per_video)
        return dg.AssetCheckResult(
            passed=passed,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata=metadata,
        )

    # Checks on a partitioned asset need its partitions; Dagster still labels that a preview.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)
        check = dg.asset_check(
            asset=asset_key,
            name="render_quality",
            blocking=True,
            partitions_def=loop_partitions,
            description="Every rendered short of the partition meets the platform contract: "
            "duration, 1080x1920@30, H.264/AAC/yuv420p, audio, loudness, no long black or silent "
            "stretch, sane size.",
        )(render_quality)
    return [check]
