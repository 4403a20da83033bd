"""Shared FFmpeg plumbing for the offline media providers: the binary, probing, running (also in the
background), fonts, atomic writes.

There is no ffprobe here: `probe` reads what `ffmpeg -i` prints about its input. The binary is the
`ffmpeg` on PATH when there is one, else the build that ships inside the imageio-ffmpeg wheel
(libx264, libass, loudnorm). Caption fonts come from matplotlib's wheel, so rendering never depends
on system fonts.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import tempfile
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from shorts_assets.core.errors import ProviderError

CAPTION_FONT = "DejaVu Sans"

_STDERR_TAIL_CHARS = 1500

_DURATION_RE = re.compile(r"^\s*Duration:\s*(\d+):(\d{2}):(\d{2}(?:\.\d+)?)", re.MULTILINE)
_STREAM_RE = re.compile(r"^\s*Stream #0:\d+\S*:\s*(Video|Audio):\s*(.*)$", re.MULTILINE)
_SIZE_RE = re.compile(r"(?<![\w.])([1-9]\d{0,4})x([1-9]\d{0,4})(?![\w.])")
_FPS_RE = re.compile(r"(\d+(?:\.\d+)?)(k?) fps")
_TBR_RE = re.compile(r"(\d+(?:\.\d+)?)(k?) tbr")
_RATE_RE = re.compile(r"(\d+) Hz")
_CHANNELS_RE = re.compile(r"(\d+) channels")
_TIME_RE = re.compile(r"time=\s*(\d+):(\d{2}):(\d{2}(?:\.\d+)?)")

_LAYOUT_CHANNELS = {
    "mono": 1,
    "stereo": 2,
    "2.1": 3,
    "3.0": 3,
    "3.0(back)": 3,
    "4.0": 4,
    "quad": 4,
    "quad(side)": 4,
    "3.1": 4,
    "5.0": 5,
    "5.0(side)": 5,
    "4.1": 5,
    "5.1": 6,
    "5.1(side)": 6,
    "6.0": 6,
    "6.1": 7,
    "7.0": 7,
    "7.1": 8,
    "7.1(wide)": 8,
    "7.1(wide-side)": 8,
}


@dataclass(frozen=True)
class MediaInfo:
    duration_s: float
    width: int | None
    height: int | None
    fps: float | None
    video_codec: str | None
    video_profile: str | None
    pix_fmt: str | None
    audio_codec: str | None
    sample_rate: int | None
    audio_channels: int | None
    has_video: bool
    has_audio: bool


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    """The ffmpeg on PATH if there is one, else the binary bundled with imageio-ffmpeg."""
    on_path = shutil.which("ffmpeg")
    if on_path:
        return on_path
    try:
        import imageio_ffmpeg
    except ImportError as exc:  # pragma: no cover - a dependency of the project
        raise ProviderError("no ffmpeg on PATH and imageio-ffmpeg is not installed") from exc
    return imageio_ffmpeg.get_ffmpeg_exe()


def fonts_dir() -> Path:
    """The folder of TrueType fonts shipped in matplotlib's wheel (DejaVu Sans among them)."""
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise ProviderError("matplotlib is not installed: no caption fonts")
    folder = Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf"
    if not (folder / "DejaVuSans-Bold.ttf").is_file():
        raise ProviderError(f"caption fonts missing: no DejaVuSans-Bold.ttf in {folder}")
    return folder


def _stderr_tail(stderr: bytes | str) -> str:
    text = stderr.decode("utf-8", "replace") if isinstance(stderr, bytes) else stderr
    text = text.strip()
    if len(text) > _STDERR_TAIL_CHARS:
        text = "…" + text[-_STDERR_TAIL_CHARS:]
    return text or "(no output)"


def run_ffmpeg(args: list[str], what: str, *, timeout_s: float | None = None) -> None:
    """Run ffmpeg quietly with `args`; on failure raise ProviderError naming `what` and the error tail."""
    command = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-loglevel", "error", *args]
    try:
        completed = subprocess.run(
            command, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout_s, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise ProviderError(f"{what}: ffmpeg timed out after {timeout_s:g} s") from exc
    except OSError as exc:
        raise ProviderError(f"{what}: cannot run ffmpeg ({command[0]}): {exc}") from exc
    if completed.returncode != 0:
        raise ProviderError(
            f"{what}: ffmpeg exited with status {completed.returncode}: {_stderr_tail(completed.stderr)}"
        )


class BackgroundFfmpeg:
    """ffmpeg run quietly with `args` while the caller does other work.

    Use it as a context manager: `wait()` blocks until it ends and raises ProviderError naming
    `what` (with the error tail) if it failed; leaving the block before then stops it.
    """

    def __init__(self, args: list[str], what: str):
        self.what = what
        command = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-loglevel", "error", *args]
        # A file, not a pipe: nobody reads stderr until the run ends, and a full pipe would stall it.
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (closed when the process is reaped)
        try:
            self._process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._stderr
            )
        except OSError as exc:
            self._stderr.close()
            raise ProviderError(f"{what}: cannot run ffmpeg ({command[0]}): {exc}") from exc

    @property
    def pid(self) -> int:
        return self._process.pid

    def __enter__(self) -> BackgroundFfmpeg:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        self._stderr.close()

    def wait(self) -> None:
        returncode = self._process.wait()
        if returncode != 0:
            self._stderr.seek(0)
            raise ProviderError(
                f"{self.what}: ffmpeg exited with status {returncode}: {_stderr_tail(self._stderr.read())}"
            )


def _split_top_level(text: str) -> list[str]:
    """Split a stream description on commas that are not inside parentheses."""
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        elif char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    parts.append("".join(current).strip())
    return parts


def _codec_and_profile(head: str) -> tuple[str, str | None]:
    """`h264 (High) (avc1 / 0x31637661)` -> ("h264", "High"); codec tags like `(avc1 / 0x…)` are skipped."""
    codec = head.split(" ", 1)[0]
    profile = None
    for group in re.findall(r"\(([^()]*)\)", head):
        if "/ 0x" not in group:
            profile = group
            break
    return codec, profile


def _rate(match: re.Match[str] | None) -> float | None:
    if match is None:
        return None
    return float(match.group(1)) * (1000 if match.group(2) else 1)


def _seconds(hours: str, minutes: str, seconds: str) -> float:
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def _measured_duration(path: Path) -> float:
    """Duration by decoding to the null muxer, for streams that don't state one (raw H.264, pipes).

    Stream copy would be cheaper but reports no time for streams without timestamps.
    """
    completed = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", f"file:{path}", "-f", "null", "-"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=False,
    )
    times = _TIME_RE.findall(completed.stderr.decode("utf-8", "replace"))
    return _seconds(*times[-1]) if times else 0.0


def probe(path: str | os.PathLike[str]) -> MediaInfo:
    """Describe a media file from `ffmpeg -i`; raise ProviderError naming it if it is not readable media."""
    path = Path(path)
    if not path.exists():
        raise ProviderError(f"cannot probe {path}: no such file")
    if not path.is_file():
        raise ProviderError(f"cannot probe {path}: not a regular file")
    try:
        completed = subprocess.run(
            [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", f"file:{path.resolve()}"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=False,
        )
    except OSError as exc:
        raise ProviderError(f"cannot probe {path}: cannot run ffmpeg: {exc}") from exc
    # `ffmpeg -i` without an output always exits non-zero; success is an "Input #0" section.
    stderr = completed.stderr.decode("utf-8", "replace")
    if "Input #0" not in stderr:
        raise ProviderError(f"cannot probe {path}: not readable media: {_stderr_tail(stderr)}")

    video: str | None = None
    audio: str | None = None
    for kind, description in _STREAM_RE.findall(stderr):
        if kind == "Video" and video is None and "(attached pic)" not in description:
            video = description
        elif kind == "Audio" and audio is None:
            audio = description
    if video is None and audio is None:
        raise ProviderError(f"cannot probe {path}: no audio or video stream")

    width = height = None
    fps = None
    video_codec = video_profile = pix_fmt = None
    if video is not None:
        fields = _split_top_level(video)
        video_codec, video_profile = _codec_and_profile(fields[0])
        if len(fields) > 1 and not _SIZE_RE.search(fields[1]):
            pix_fmt = fields[1].split("(", 1)[0].strip() or None
        size = _SIZE_RE.search(video)
        if size:
            width, height = int(size.group(1)), int(size.group(2))
        fps = _rate(_FPS_RE.search(video)) or _rate(_TBR_RE.search(video))

    audio_codec = None
    sample_rate = channels = None
    if audio is not None:
        fields = _split_top_level(audio)
        audio_codec, _ = _codec_and_profile(fields[0])
        rate = _RATE_RE.search(audio)
        sample_rate = int(rate.group(1)) if rate else None
        for field in fields[1:]:
            if field in _LAYOUT_CHANNELS:
                channels = _LAYOUT_CHANNELS[field]
                break
            counted = _CHANNELS_RE.fullmatch(field)
            if counted:
                channels = int(counted.group(1))
                break

    duration = _DURATION_RE.search(stderr)
    duration_s = _seconds(*duration.groups()) if duration else _measured_duration(path.resolve())

    return MediaInfo(
        duration_s=duration_s,
        width=width,
        height=height,
        fps=fps,
        video_codec=video_codec,
        video_profile=video_profile,
        pix_fmt=pix_fmt,
        audio_codec=audio_codec,
        sample_rate=sample_rate,
        audio_channels=channels,
        has_video=video is not None,
        has_audio=audio is not None,
    )


def partial_path(final_path: Path) -> Path:
    """Where `final_path` is written before it is complete: same folder, same suffix."""
    return final_path.with_name(f"{final_path.stem}.partial{final_path.suffix}")


@contextmanager
def atomic_output(final_path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to `final_path`; move it into place on success, delete it on failure.

    A reader never finds a half-written file at `final_path`: either the previous file (if any) or
    the complete new one.
    """
    final_path = Path(final_path)
    final_path.parent.mkdir(parents=True, exist_ok=True)
    temp_path = partial_path(final_path)
    temp_path.unlink(missing_ok=True)
    try:
        yield temp_path
        if not temp_path.is_file():
            raise ProviderError(f"writing {final_path}: nothing was written to {temp_path}")
        os.replace(temp_path, final_path)
    finally:
        temp_path.unlink(missing_ok=True)


def write_wav(out_path: str | os.PathLike[str], pcm: bytes, sample_rate: int, what: str) -> None:
    """16-bit mono little-endian PCM as a WAV at `out_path`, whole or not at all."""
    try:
        with atomic_output(out_path) as temp_path, wave.open(str(temp_path), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(sample_rate)
            wav.writeframes(pcm)
    except OSError as exc:
        raise ProviderError(f"{what}: cannot write {out_path}: {exc}") from exc


def ffmpeg_report(args: list[str], what: str, *, timeout_s: float | None = None) -> str:
    """Run ffmpeg with `args` at the info log level and return what it printed to stderr.

    For the filters that report measurements in the log (loudnorm, ebur128, blackdetect); on failure
    raise ProviderError naming `what`.
    """
    command = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-y", *args]
    try:
        completed = subprocess.run(
            command, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout_s, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise ProviderError(f"{what}: ffmpeg timed out after {timeout_s:g} s") from exc
    except OSError as exc:
        raise ProviderError(f"{what}: cannot run ffmpeg ({command[0]}): {exc}") from exc
    stderr = completed.stderr.decode("utf-8", "replace")
    if completed.returncode != 0:
        raise ProviderError(f"{what}: ffmpeg exited with status {completed.returncode}: {_stderr_tail(stderr)}")
    return stderr
