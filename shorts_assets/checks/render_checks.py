"""Blocking quality checks on the rendered shorts: what a platform would reject, or a viewer would notice.

`check_render` inspects one MP4 with ffmpeg alone (no ffprobe): duration within the platform limit,
geometry, frame rate, codecs and pixel format, audio present, integrated loudness near the target,
no long black or silent stretch, and a sane file size. `build_render_checks` wraps it as a blocking
Dagster asset check over every rendered video of the `renders` partition.
"""

import re
import subprocess
import warnings
from datetime import date
from pathlib import Path
from typing import Sequence

import dagster as dg

from shorts_assets.constants import RENDER_STAGE
from shorts_assets.partitions import loop_partitions
from shorts_assets.providers.interfaces import ProviderError
from shorts_assets.providers.media import ffmpeg_exe, probe
from shorts_assets.resources import DatabaseResource

YOUTUBE_SHORTS_MAX_S = 180.0

CheckResult = tuple[str, bool, str]

_INTEGRATED_RE = re.compile(r"Integrated loudness:\s*I:\s*(-?[\d.]+|-inf) LUFS", re.MULTILINE)
_TRUE_PEAK_RE = re.compile(r"True peak:\s*Peak:\s*(-?[\d.]+|-inf) dBFS", re.MULTILINE)
_BLACK_RE = re.compile(r"black_start:\s*(-?[\d.]+)\s+black_end:\s*(-?[\d.]+)\s+black_duration:\s*([\d.]+)")
_SILENCE_START_RE = re.compile(r"silence_start:\s*(-?[\d.]+)")
_SILENCE_END_RE = re.compile(r"silence_end:\s*(-?[\d.]+)\s*\|\s*silence_duration:\s*([\d.]+)")


def _measure(path: Path, has_video: bool, min_stretch_s: float, silence_db: float) -> str:
    """ffmpeg's report of one decoding pass: ebur128 loudness, blackdetect and silencedetect."""
    command = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-i", f"file:{path.resolve()}"]
    if has_video:
        command += ["-map", "0:v:0", "-vf", f"blackdetect=d={min_stretch_s:g}:pix_th=0.10"]
    command += [
        "-map", "0:a:0",
        "-af", f"ebur128=peak=true,silencedetect=n={silence_db:g}dB:d={min_stretch_s:g}",
        "-f", "null", "-",
    ]
    completed = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, check=False)
    report = completed.stderr.decode("utf-8", "replace")
    if completed.returncode != 0:
        raise ProviderError(f"measuring {path}: ffmpeg exited {completed.returncode}: {report[-800:]}")
    return report


def _silences(report: str, duration_s: float) -> list[float]:
    """Lengths of the silent stretches, an unterminated one running to the end of the file."""
    starts = [float(s) for s in _SILENCE_START_RE.findall(report)]
    ends = [float(d) for _, d in _SILENCE_END_RE.findall(report)]
    if len(starts) > len(ends):
        ends.append(max(0.0, duration_s - starts[-1]))
    return ends


def check_render(
    path: str | Path,
    *,
    max_duration_s: float = YOUTUBE_SHORTS_MAX_S,
    lufs_target: float = -14.0,
    lufs_tolerance: float = 1.0,
    max_true_peak_db: float = -1.0,
    width: int = 1080,
    height: int = 1920,
    fps: float = 30.0,
    max_black_s: float = 2.0,
    max_silence_s: float = 2.0,
    silence_db: float = -50.0,
    min_bytes_per_s: int = 20_000,
    max_bytes_per_s: int = 2_000_000,
) -> list[CheckResult]:
    """(name, passed, detail) for each property of the MP4 at `path` a platform or viewer cares about."""
    path = Path(path)
    try:
        info = probe(path)
    except ProviderError as exc:
        return [("readable", False, str(exc))]
    results: list[CheckResult] = [("readable", True, str(path))]
    duration = info.duration_s
    results.append((
        "duration", 0 < duration <= max_duration_s,
        f"{duration:.2f} s (limit {max_duration_s:g} s)",
    ))
    results.append((
        "resolution", (info.width, info.height) == (width, height),
        f"{info.width}x{info.height} (want {width}x{height})",
    ))
    results.append((
        "frame_rate", info.fps is not None and abs(info.fps - fps) < 0.01,
        f"{info.fps} fps (want {fps:g})",
    ))
    codecs_ok = (info.video_codec, info.pix_fmt, info.audio_codec) == ("h264", "yuv420p", "aac")
    results.append((
        "codecs", codecs_ok,
        f"video {info.video_codec} {info.video_profile or ''} {info.pix_fmt}, audio {info.audio_codec} "
        f"(want h264 yuv420p, aac)",
    ))
    results.append((
        "audio_present", info.has_audio,
        f"{info.sample_rate} Hz, {info.audio_channels} channels" if info.has_audio else "no audio stream",
    ))
    size = path.stat().st_size
    per_s = size / duration if duration > 0 else 0
    results.append((
        "file_size", min_bytes_per_s <= per_s <= max_bytes_per_s,
        f"{size} bytes, {per_s / 1000:.0f} kB/s (want {min_bytes_per_s / 1000:.0f}–"
        f"{max_bytes_per_s / 1000:.0f} kB/s)",
    ))
    if not info.has_audio:
        return results

    try:
        report = _measure(path, info.has_video, min(max_black_s, max_silence_s), silence_db)
    except ProviderError as exc:
        return results + [("measured", False, str(exc))]
    integrated = _INTEGRATED_RE.findall(report)
    lufs = float(integrated[-1]) if integrated and integrated[-1] != "-inf" else float("-inf")
    results.append((
        "loudness", abs(lufs - lufs_target) <= lufs_tolerance,
        f"{lufs:.1f} LUFS integrated (want {lufs_target:g} ± {lufs_tolerance:g} LU)",
    ))
    peaks = _TRUE_PEAK_RE.findall(report)
    peak = float(peaks[-1]) if peaks and peaks[-1] != "-inf" else float("-inf")
    results.append((
        "true_peak", peak <= max_true_peak_db,
        f"{peak:.1f} dBTP (ceiling {max_true_peak_db:g} dBTP)",
    ))
    blacks = [float(d) for _, _, d in _BLACK_RE.findall(report)]
    longest_black = max(blacks, default=0.0)
    results.append((
        "no_black_stretch", longest_black <= max_black_s,
        f"longest black stretch {longest_black:.2f} s (limit {max_black_s:g} s)",
    ))
    longest_silence = max(_silences(report, duration), default=0.0)
    results.append((
        "no_silent_stretch", longest_silence <= max_silence_s,
        f"longest stretch below {silence_db:g} dB {longest_silence:.2f} s (limit {max_silence_s:g} s)",
    ))
    return results


def _partition(context: dg.AssetCheckExecutionContext) -> tuple[str, date]:
    keys = context.partition_key.keys_by_dimension  # type: ignore[union-attr]
    return keys["channel"], date.fromisoformat(keys["date"])


def reject_if_below_contract(path: str | Path, contract: dict[str, float]) -> None:
    """Fail one video whose render misses the contract, moving its file aside so it is never published.

    Run per video inside `renders`, so one bad render fails only itself; the blocking asset check
    then guards the batch against anything that slipped through.
    """
    path = Path(path)
    failed = [f"{name}: {detail}" for name, passed, detail in check_render(path, **contract) if not passed]
    if failed:
        rejected = path.with_name(f"{path.stem}.rejected{path.suffix}")
        path.replace(rejected)
        raise ProviderError(f"render {path} fails its checks ({'; '.join(failed)}); kept as {rejected.name}")


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

    def render_quality(
        context: dg.AssetCheckExecutionContext, database: DatabaseResource
    ) -> dg.AssetCheckResult:
        channel, day = _partition(context)
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
