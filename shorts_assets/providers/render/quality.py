"""Quality checks on the rendered shorts: what a platform would reject, or a viewer would notice.

`check_render` inspects one MP4 with ffmpeg alone (no ffprobe): duration within the platform limit,
geometry, frame rate, codecs and pixel format, audio present, integrated loudness near the target,
no long black or silent stretch, a sane file size, and that it decodes through to the end its
header states (a file cut short keeps its header's duration). The Dagster wing runs it as a blocking asset
check over every rendered video of a partition.

What needs decoding (loudness and true peak, black and silent stretches, how far the file decodes)
is measured, when it can be, by the render's own passes: `BLACK_FILTER` watches the frames the
picture pass encodes, `AUDIO_FILTERS` the finished file's sound as it is read through, and
`measurements` turns their reports into a small record the render keeps with its output.
`check_render(path, measured=...)` then decodes nothing; without such a record (a render from
elsewhere, such as the cloud renderer's), or with one measured under other thresholds, it decodes
the file once itself.
"""

import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

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

# The thresholds a render measures itself with: stretches from half a second are reported, so any
# limit from half a second up can be judged from the longest one.
MEASURED_MIN_STRETCH_S = 0.5
SILENCE_DB = -50.0
BLACK_PIX_TH = 0.10
BLACK_FILTER = f"blackdetect=d={MEASURED_MIN_STRETCH_S:g}:pix_th={BLACK_PIX_TH:g}"
AUDIO_FILTERS = f"ebur128=peak=true,silencedetect=n={SILENCE_DB:g}dB:d={MEASURED_MIN_STRETCH_S:g}"
# Where a render's output records its measurements.
MEASURED = "measured"
# The keys of a measurement record, as a render stores it with its output.
MEASURED_KEYS = (
    "lufs",
    "true_peak_db",
    "longest_black_s",
    "longest_silence_s",
    "decoded_s",
    "min_stretch_s",
    "silence_db",
    "black_pix_th",
)


def _level(found: list[str]) -> float:
    return float(found[-1]) if found and found[-1] != "-inf" else float("-inf")


def measurements(
    picture_report: str,
    sound_report: str,
    decoded_s: float,
    duration_s: float,
    *,
    min_stretch_s: float = MEASURED_MIN_STRETCH_S,
    silence_db: float = SILENCE_DB,
    black_pix_th: float = BLACK_PIX_TH,
) -> dict[str, Any]:
    """The measurement record of one render from its passes' ffmpeg reports.

    `picture_report` holds blackdetect's lines, `sound_report` ebur128's and silencedetect's;
    `decoded_s` is how far the finished file read through, `duration_s` the length its header states.
    Levels of silence are stored as None (JSON has no infinity).
    """
    lufs, peak = _level(_INTEGRATED_RE.findall(sound_report)), _level(_TRUE_PEAK_RE.findall(sound_report))
    return {
        "lufs": lufs if math.isfinite(lufs) else None,
        "true_peak_db": peak if math.isfinite(peak) else None,
        "longest_black_s": max((float(d) for _, _, d in _BLACK_RE.findall(picture_report)), default=0.0),
        "longest_silence_s": max(_silences(sound_report, duration_s), default=0.0),
        "decoded_s": decoded_s,
        "min_stretch_s": min_stretch_s,
        "silence_db": silence_db,
        "black_pix_th": black_pix_th,
    }


def usable(measured: Mapping[str, Any] | None, min_stretch_s: float, silence_db: float) -> bool:
    """Whether a stored measurement record answers checks with these thresholds."""
    if not measured or any(key not in measured for key in MEASURED_KEYS):
        return False
    try:
        return (
            float(measured["min_stretch_s"]) <= min_stretch_s
            and float(measured["silence_db"]) == silence_db
            and float(measured["black_pix_th"]) == BLACK_PIX_TH
        )
    except (TypeError, ValueError):
        return False


def _from_record(measured: Mapping[str, Any]) -> tuple[float, float, float, float, float]:
    """(decoded s, LUFS, true peak, longest black, longest silence) of a usable record."""

    def level(value: Any) -> float:
        return float("-inf") if value is None else float(value)

    return (
        float(measured["decoded_s"]),
        level(measured["lufs"]),
        level(measured["true_peak_db"]),
        float(measured["longest_black_s"]),
        float(measured["longest_silence_s"]),
    )


def _measure(path: Path, has_video: bool, min_stretch_s: float, silence_db: float) -> tuple[str, float]:
    """ffmpeg's report of one decoding pass (ebur128 loudness, blackdetect and silencedetect) and how
    many seconds of the file it decoded."""
    command = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-i", f"file:{path.resolve()}"]
    if has_video:
        command += ["-map", "0:v:0", "-vf", f"blackdetect=d={min_stretch_s:g}:pix_th={BLACK_PIX_TH:g}"]
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
    measured: Mapping[str, Any] | None = None,
) -> list[CheckResult]:
    """(name, passed, detail) for each property of the MP4 at `path` a platform or viewer cares about.

    `measured` is the record the render made of itself (`measurements`); when it answers these
    thresholds nothing is decoded, otherwise the file is decoded once to measure it. The `measured`
    result says which.
    """
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

    min_stretch_s = min(max_black_s, max_silence_s)
    if usable(measured, min_stretch_s, silence_db):
        decoded_s, lufs, peak, longest_black, longest_silence = _from_record(measured)  # type: ignore[arg-type]
        results.append(("measured", True, "by the render's own passes"))
    else:
        try:
            report, decoded_s = _measure(path, info.has_video, min_stretch_s, silence_db)
        except ProviderError as exc:
            return results + [("measured", False, str(exc))]
        lufs, peak = _level(_INTEGRATED_RE.findall(report)), _level(_TRUE_PEAK_RE.findall(report))
        longest_black = max((float(d) for _, _, d in _BLACK_RE.findall(report)), default=0.0)
        longest_silence = max(_silences(report, duration), default=0.0)
        results.append(("measured", True, "by decoding the file"))
    results.append(
        (
            "decodes_fully",
            decoded_s + READ_TOLERANCE_S >= duration,
            f"{decoded_s:.2f} s decoded of the {duration:.2f} s the header states",
        )
    )
    results.append(
        (
            "loudness",
            abs(lufs - lufs_target) <= lufs_tolerance,
            f"{lufs:.1f} LUFS integrated (want {lufs_target:g} ± {lufs_tolerance:g} LU)",
        )
    )
    results.append(
        (
            "true_peak",
            peak <= max_true_peak_db,
            f"{peak:.1f} dBTP (ceiling {max_true_peak_db:g} dBTP)",
        )
    )
    results.append(
        (
            "no_black_stretch",
            longest_black <= max_black_s,
            f"longest black stretch {longest_black:.2f} s (limit {max_black_s:g} s)",
        )
    )
    results.append(
        (
            "no_silent_stretch",
            longest_silence <= max_silence_s,
            f"longest stretch below {silence_db:g} dB {longest_silence:.2f} s (limit {max_silence_s:g} s)",
        )
    )
    return results


def reject_if_below_contract(
    path: str | Path, contract: dict[str, float], checks: list[CheckResult] | None = None
) -> None:
    """Fail one video whose render misses the contract, moving its file aside so it is never published.

    Run per video inside `renders`, so one bad render fails only itself; the blocking asset check
    then guards the batch against anything that slipped through. `checks` are `check_render`'s
    results for the file when the caller has them already.
    """
    path = Path(path)
    if checks is None:
        checks = check_render(path, **contract)
    failed = [f"{name}: {detail}" for name, passed, detail in checks if not passed]
    if failed:
        rejected = path.with_name(f"{path.stem}.rejected{path.suffix}")
        path.replace(rejected)
        raise ProviderError(f"render {path} fails its checks ({'; '.join(failed)}); kept as {rejected.name}")
