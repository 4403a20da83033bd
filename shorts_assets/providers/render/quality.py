"""Quality checks on the rendered shorts: what a platform would reject, or a viewer would notice.

`check_render` inspects one MP4 with ffmpeg alone (no ffprobe): duration within the platform limit,
geometry, frame rate, codecs and pixel format, audio present, integrated loudness near the target,
no long black or silent stretch, a sane file size, and that it decodes through to the end its
header states (a file cut short keeps its header's duration). The Dagster wing runs it as a blocking asset
check over every rendered video of a partition.
"""

import re
from pathlib import Path

from shorts_assets.core.errors import ProviderError
from shorts_assets.providers.media import READ_TOLERANCE_S, ffmpeg_exe, probe, run_process

YOUTUBE_SHORTS_MAX_S = 180.0

CheckResult = tuple[str, bool, str]

_INTEGRATED_RE = re.compile(r"Integrated loudness:\s*I:\s*(-?[\d.]+|-inf) LUFS", re.MULTILINE)
_TRUE_PEAK_RE = re.compile(r"True peak:\s*Peak:\s*(-?[\d.]+|-inf) dBFS", re.MULTILINE)
_BLACK_RE = re.compile(r"black_start:\s*(-?[\d.]+)\s+black_end:\s*(-?[\d.]+)\s+black_duration:\s*([\d.]+)")
_SILENCE_START_RE = re.compile(r"silence_start:\s*(-?[\d.]+)")
_SILENCE_END_RE = re.compile(r"silence_end:\s*(-?[\d.]+)\s*\|\s*silence_duration:\s*([\d.]+)")
_OUT_TIME_RE = re.compile(r"^out_time_us=(\d+)\s*$", re.MULTILINE)


def _measure(path: Path, has_video: bool, min_stretch_s: float, silence_db: float) -> tuple[str, float]:
    """ffmpeg's report of one decoding pass (ebur128 loudness, blackdetect and silencedetect) and how
    many seconds of the file it decoded."""
    command = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-i", f"file:{path.resolve()}"]
    if has_video:
        command += ["-map", "0:v:0", "-vf", f"blackdetect=d={min_stretch_s:g}:pix_th=0.10"]
    command += [
        "-map",
        "0:a:0",
        "-af",
        f"ebur128=peak=true,silencedetect=n={silence_db:g}dB:d={min_stretch_s:g}",
        "-f",
        "null",
        "-",
        "-progress",
        "pipe:1",
    ]
    completed = run_process(command)
    report = completed.stderr.decode("utf-8", "replace")
    if completed.returncode != 0:
        raise ProviderError(f"measuring {path}: ffmpeg exited {completed.returncode}: {report[-800:]}")
    decoded = _OUT_TIME_RE.findall(completed.stdout.decode("utf-8", "replace"))
    return report, int(decoded[-1]) / 1_000_000 if decoded else 0.0


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
    results.append(
        (
            "duration",
            0 < duration <= max_duration_s,
            f"{duration:.2f} s (limit {max_duration_s:g} s)",
        )
    )
    results.append(
        (
            "resolution",
            (info.width, info.height) == (width, height),
            f"{info.width}x{info.height} (want {width}x{height})",
        )
    )
    results.append(
        (
            "frame_rate",
            info.fps is not None and abs(info.fps - fps) < 0.01,
            f"{info.fps} fps (want {fps:g})",
        )
    )
    codecs_ok = (info.video_codec, info.pix_fmt, info.audio_codec) == ("h264", "yuv420p", "aac")
    results.append(
        (
            "codecs",
            codecs_ok,
            f"video {info.video_codec} {info.video_profile or ''} {info.pix_fmt}, audio {info.audio_codec} "
            f"(want h264 yuv420p, aac)",
        )
    )
    results.append(
        (
            "audio_present",
            info.has_audio,
            f"{info.sample_rate} Hz, {info.audio_channels} channels" if info.has_audio else "no audio stream",
        )
    )
    size = path.stat().st_size
    per_s = size / duration if duration > 0 else 0
    results.append(
        (
            "file_size",
            min_bytes_per_s <= per_s <= max_bytes_per_s,
            f"{size} bytes, {per_s / 1000:.0f} kB/s (want {min_bytes_per_s / 1000:.0f}–"
            f"{max_bytes_per_s / 1000:.0f} kB/s)",
        )
    )
    if not info.has_audio:
        return results

    try:
        report, decoded_s = _measure(path, info.has_video, min(max_black_s, max_silence_s), silence_db)
    except ProviderError as exc:
        return results + [("measured", False, str(exc))]
    results.append(
        (
            "decodes_fully",
            decoded_s + READ_TOLERANCE_S >= duration,
            f"{decoded_s:.2f} s decoded of the {duration:.2f} s the header states",
        )
    )
    integrated = _INTEGRATED_RE.findall(report)
    lufs = float(integrated[-1]) if integrated and integrated[-1] != "-inf" else float("-inf")
    results.append(
        (
            "loudness",
            abs(lufs - lufs_target) <= lufs_tolerance,
            f"{lufs:.1f} LUFS integrated (want {lufs_target:g} ± {lufs_tolerance:g} LU)",
        )
    )
    peaks = _TRUE_PEAK_RE.findall(report)
    peak = float(peaks[-1]) if peaks and peaks[-1] != "-inf" else float("-inf")
    results.append(
        (
            "true_peak",
            peak <= max_true_peak_db,
            f"{peak:.1f} dBTP (ceiling {max_true_peak_db:g} dBTP)",
        )
    )
    blacks = [float(d) for _, _, d in _BLACK_RE.findall(report)]
    longest_black = max(blacks, default=0.0)
    results.append(
        (
            "no_black_stretch",
            longest_black <= max_black_s,
            f"longest black stretch {longest_black:.2f} s (limit {max_black_s:g} s)",
        )
    )
    longest_silence = max(_silences(report, duration), default=0.0)
    results.append(
        (
            "no_silent_stretch",
            longest_silence <= max_silence_s,
            f"longest stretch below {silence_db:g} dB {longest_silence:.2f} s (limit {max_silence_s:g} s)",
        )
    )
    return results


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
