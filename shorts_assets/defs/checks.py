"""The asset checks of the loop's partitions.

`render_quality` is blocking: every rendered short of a partition meets the contract. `no_failed_videos`,
one per per-video stage, is not: it warns when some videos of the batch failed at that stage, naming
each with its full reason, so the asset's health shows a partial failure its materialisation hides.
"""

import warnings
from collections.abc import Callable, Mapping, Sequence

import dagster as dg

from shorts_assets.db.store import VideoRow
from shorts_assets.defs.metadata import column, partition_of
from shorts_assets.defs.partitions import loop_partitions
from shorts_assets.defs.resources import ChannelsResource, DatabaseResource, MediaResource
from shorts_assets.loop.batch import verify_output, video_id_for
from shorts_assets.loop.stages import RENDER_STAGE
from shorts_assets.providers.render.quality import MEASURED, YOUTUBE_SHORTS_MAX_S, CheckResult, check_render
from shorts_assets.storage.fetch import fetch_verified


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

    The check needs the `database` and `media` resources; it reads each video's render output from the
    partition's batch, verifies its files in the media store against their checksums and judges the
    measurements the render made of itself, fetching and decoding only a render that has none. Extra
    keyword arguments are passed on to `check_render`.
    """
    asset_key = dg.AssetKey.from_coercible(renders_asset_key)

    def render_quality(
        context: dg.AssetCheckExecutionContext, database: DatabaseResource, media: MediaResource
    ) -> dg.AssetCheckResult:
        channel, day = partition_of(context)
        files = media.store()
        per_video: dict[str, list[CheckResult]] = {}
        for row in database.store().batch(channel, day):
            render = row.outputs.get(RENDER_STAGE) or {}
            video_path = render.get("video_path")
            if not video_path:
                continue
            render, problem = fetch_verified(render, files, verify_output)
            if problem is not None:
                per_video[row.video_id] = [("verified", False, problem)]
                continue
            # The render's own measurements, kept with the verified file; renders without them are decoded.
            per_video[row.video_id] = check_render(
                render["video_path"],
                max_duration_s=max_duration_s,
                lufs_target=lufs_target,
                measured=render.get(MEASURED),
                **thresholds,
            )
        passed, metadata = summarise(per_video)
        return dg.AssetCheckResult(
            passed=passed,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata=metadata,
        )

    check = _partition_check(
        render_quality,
        asset_key,
        name="render_quality",
        blocking=True,
        description="Every rendered short of the partition meets the platform contract: "
        "duration, 1080x1920@30, H.264/AAC/yuv420p, audio, loudness, no long black or silent "
        "stretch, sane size.",
    )
    return [check]


def _partition_check(
    fn: Callable[..., dg.AssetCheckResult], asset_key: dg.AssetKey, *, name: str, blocking: bool, description: str
) -> dg.AssetChecksDefinition:
    # Checks on a partitioned asset need its partitions; Dagster still labels that a preview.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return dg.asset_check(
            asset=asset_key,
            name=name,
            blocking=blocking,
            partitions_def=loop_partitions,
            description=description,
        )(fn)


FAILURE_SCHEMA = dg.TableSchema(
    columns=[
        column("video", description="video id"),
        column("stage", description="the stage it failed at"),
        column("error", description="why, in full"),
    ]
)

NO_SCRIPT = (
    "no script recorded: writing it failed or the daily budget did not cover it (the scripts run's log says which)"
)


def failed_at(rows: Sequence[VideoRow], stage: str) -> list[tuple[str, str]]:
    """(video id, full reason) of every video of the batch whose row says it failed at `stage`."""
    return [(r.video_id, r.error or "") for r in rows if r.status == "failed" and r.failed_stage == stage]


def failure_result(failures: Sequence[tuple[str, str]], videos: int, stage: str) -> dg.AssetCheckResult:
    """A non-blocking verdict: WARN, not passed, when any video failed, each named with its reason."""
    return dg.AssetCheckResult(
        passed=not failures,
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            f"{len(failures)} of {videos} videos failed at {stage}: {', '.join(v for v, _ in failures)}"
            if failures
            else f"no video of the batch failed at {stage}"
        ),
        metadata={
            "videos": videos,
            "failed_videos": len(failures),
            "failures": dg.MetadataValue.table(
                [dg.TableRecord({"video": v, "stage": stage, "error": e}) for v, e in failures], FAILURE_SCHEMA
            ),
        },
    )


def build_failed_video_checks(
    stages: Mapping[dg.AssetKey | str, str], *, scripts_asset_key: dg.AssetKey | str | None = None
) -> list[dg.AssetChecksDefinition]:
    """Non-blocking `no_failed_videos` checks: one per asset of `stages` (asset key -> the stage it records).

    Each reads the partition's video rows (the `database` resource) and warns when some failed at
    its stage. A script that could not be written leaves no row, so the check on `scripts_asset_key`
    (which also needs the `channels` resource) counts the videos the channel's batch lacks.
    """
    checks = [_failure_check(_failed_at_stage(stage), key, stage) for key, stage in stages.items()]
    if scripts_asset_key is not None:

        def no_missing_scripts(
            context: dg.AssetCheckExecutionContext, database: DatabaseResource, channels: ChannelsResource
        ) -> dg.AssetCheckResult:
            channel, day = partition_of(context)
            rows = database.store().batch(channel, day)
            present = {r.video_id for r in rows}
            wanted = [video_id_for(channel, day, p) for p in range(1, channels.get(channel).videos_per_day + 1)]
            return failure_result([(v, NO_SCRIPT) for v in wanted if v not in present], len(wanted), "scripts")

        checks.append(_failure_check(no_missing_scripts, scripts_asset_key, "scripts"))
    return checks


def _failed_at_stage(stage: str) -> Callable[..., dg.AssetCheckResult]:
    def no_failed_videos(context: dg.AssetCheckExecutionContext, database: DatabaseResource) -> dg.AssetCheckResult:
        channel, day = partition_of(context)
        rows = database.store().batch(channel, day)
        return failure_result(failed_at(rows, stage), len(rows), stage)

    return no_failed_videos


def _failure_check(
    fn: Callable[..., dg.AssetCheckResult], key: dg.AssetKey | str, stage: str
) -> dg.AssetChecksDefinition:
    return _partition_check(
        fn,
        dg.AssetKey.from_coercible(key),
        name="no_failed_videos",
        blocking=False,
        description=f"No video of the partition's batch failed at {stage}; warns with each failed video's "
        "id and full reason.",
    )
