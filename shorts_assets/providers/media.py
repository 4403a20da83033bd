"""Shared FFmpeg plumbing for the offline media providers: the binary, probing, running (also in the
background), reading a file through to its end, fonts, atomic writes and private work folders.

There is no ffprobe here: `probe` reads what `ffmpeg -i` prints about its input. The binary is the
`ffmpeg` on PATH when there is one, else the build that ships inside the imageio-ffmpeg wheel
(libx264, libass, loudnorm). Caption fonts come from matplotlib's wheel, so rendering never depends
on system fonts.

Every child process runs in a process group of its own and is killed with it when the Python side
fails or is interrupted; on Linux it also gets SIGKILL when the Python process dies (even by
`kill -9`). Files are written under a name unique to their writer and renamed into place, so
concurrent writers of one target never touch each other's half-written file; what a dead writer
left behind is removed by the next writer in that folder.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
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
_PROGRESS_RE = re.compile(r"^(frame|out_time_us)=(\d+)\s*$", re.MULTILINE)

# A half-written file or work folder this old is abandoned even if a process with its owner's pid
# runs (a pid can be reused); nothing the engine writes takes this long.
STALE_AFTER_S = 6 * 3600.0
# How far a file may read short of its header's duration (the last packets' own length).
READ_TOLERANCE_S = 0.25

_PR_SET_PDEATHSIG = 1

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


class BadMediaFile(ProviderError):
    """A media file is unreadable or incomplete; `path` is that file, so whoever made it can make it again."""

    def __init__(self, message: str, path: str | os.PathLike[str]):
        super().__init__(message)
        self.path = Path(path)


@lru_cache(maxsize=1)
def _prctl():  # type: ignore[no-untyped-def]
    """libc's prctl on Linux, looked up before any fork (the child must not load libraries)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # pragma: no cover - every Linux libc has prctl
        return None


def _die_with_parent():  # type: ignore[no-untyped-def]
    """A preexec_fn that has the kernel SIGKILL the child when its parent dies, or None off Linux.

    The kernel ties this to the thread that started the child, which waits for it in every caller here.
    """
    prctl = _prctl()
    if prctl is None:
        return None
    parent = os.getpid()

    def setup() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the signal was armed
            os.kill(os.getpid(), signal.SIGKILL)

    return setup


def start_process(command: list[str], **popen_kwargs: object) -> subprocess.Popen:
    """Start `command` in a process group of its own that dies with this process (see `stop_process`)."""
    return subprocess.Popen(command, start_new_session=True, preexec_fn=_die_with_parent(), **popen_kwargs)  # noqa: PLW1509 (it only calls prctl)


def stop_process(process: subprocess.Popen) -> None:
    """Kill `process` and everything in its group, reap it and close its pipes."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            process.kill()
    process.wait()
    for pipe in (process.stdin, process.stdout, process.stderr):
        if pipe is not None:
            pipe.close()


def run_process(
    command: list[str], *, input_bytes: bytes | None = None, timeout_s: float | None = None
) -> subprocess.CompletedProcess[bytes]:
    """`subprocess.run(command, capture_output=True)` in a process group of its own.

    However the wait ends (a timeout, an interrupt, an error) the group is killed before it returns.
    Raises subprocess.TimeoutExpired and OSError as subprocess.run does.
    """
    process = start_process(
        command,
        stdin=subprocess.DEVNULL if input_bytes is None else subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        stdout, stderr = process.communicate(input_bytes, timeout=timeout_s)
    except BaseException:
        stop_process(process)
        raise
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def run_ffmpeg(args: list[str], what: str, *, timeout_s: float | None = None) -> None:
    """Run ffmpeg quietly with `args`; on failure raise ProviderError naming `what` and the error tail."""
    command = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-loglevel", "error", *args]
    try:
        completed = run_process(command, timeout_s=timeout_s)
    except subprocess.TimeoutExpired as exc:
        raise ProviderError(f"{what}: ffmpeg timed out after {timeout_s:g} s") from exc
    except OSError as exc:
        raise ProviderError(f"{what}: cannot run ffmpeg ({command[0]}): {exc}") from exc
    if completed.returncode != 0:
        raise ProviderError(
            f"{what}: ffmpeg exited with status {completed.returncode}: {_stderr_tail(completed.stderr)}"
        )


def _progress(report: bytes | str) -> tuple[int, float]:
    """The last frame count and output time (s) in ffmpeg's `-progress` report."""
    text = report.decode("utf-8", "replace") if isinstance(report, bytes) else report
    frames, out_us = 0, 0
    for key, value in _PROGRESS_RE.findall(text):
        if key == "frame":
            frames = int(value)
        else:
            out_us = int(value)
    return frames, out_us / 1_000_000


class BackgroundFfmpeg:
    """ffmpeg run quietly with `args` while the caller does other work.

    Use it as a context manager: `wait()` blocks until it ends and raises ProviderError naming
    `what` (with the error tail) if it failed, else returns the number of video frames it wrote;
    leaving the block before then stops it and its process group.
    """

    def __init__(self, args: list[str], what: str, *, loglevel: str = "error"):
        self.what = what
        command = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-y", "-loglevel", loglevel]
        command += ["-progress", "pipe:1", *args]
        # Files, not pipes: nobody reads them until the run ends, and a full pipe would stall it.
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (closed when the process is reaped)
        self._stdout = tempfile.TemporaryFile()  # noqa: SIM115
        try:
            self._process = start_process(command, stdin=subprocess.DEVNULL, stdout=self._stdout, stderr=self._stderr)
        except OSError as exc:
            self._close()
            raise ProviderError(f"{what}: cannot run ffmpeg ({command[0]}): {exc}") from exc

    @property
    def pid(self) -> int:
        return self._process.pid

    def __enter__(self) -> BackgroundFfmpeg:
        return self

    def __exit__(self, *exc_info: object) -> None:
        stop_process(self._process)
        self._close()

    def _close(self) -> None:
        self._stderr.close()
        self._stdout.close()

    def wait(self) -> int:
        try:
            returncode = self._process.wait()
        except BaseException:
            stop_process(self._process)
            raise
        if returncode != 0:
            self._stderr.seek(0)
            raise ProviderError(
                f"{self.what}: ffmpeg exited with status {returncode}: {_stderr_tail(self._stderr.read())}"
            )
        self._stdout.seek(0)
        return _progress(self._stdout.read())[0]

    def report(self) -> str:
        """What ffmpeg printed to stderr so far (with loglevel "info": the measuring filters' reports)."""
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")


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
    completed = run_process([ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", f"file:{path}", "-f", "null", "-"])
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
        completed = run_process([ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", f"file:{path.resolve()}"])
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


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # somebody else's process
        return True
    return True


def _abandoned(path: Path, pid: int, now: float) -> bool:
    """Whether the file or folder `path`, owned by `pid`, belongs to no live writer."""
    if pid != os.getpid() and not _pid_alive(pid):
        return True
    try:
        return now - path.stat().st_mtime > STALE_AFTER_S
    except FileNotFoundError:
        return False


def partial_path(final_path: Path) -> Path:
    """Where this writer writes `final_path` before it is complete: same folder and suffix, a name of its own.

    `<stem>.<pid>-<random>.partial<suffix>`: no other writer, in this process or another, uses it.
    """
    return final_path.with_name(f"{final_path.stem}.{os.getpid()}-{uuid.uuid4().hex}.partial{final_path.suffix}")


# `<stem>.<pid>-<random>.partial<suffix>`, and files a writer derives from it (`….partial.loudness.mp4`).
_PARTIAL_RE = re.compile(r"\.(\d+)-[0-9a-f]{32}\.partial(?:\.|$)")


def remove_stale_partials(folder: str | os.PathLike[str]) -> list[Path]:
    """Remove the half-written files in `folder` whose writer died (or that are older than STALE_AFTER_S).

    A live writer's file is never touched. Returns what was removed.
    """
    removed = []
    now = time.time()
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return removed
    for entry in entries:
        found = _PARTIAL_RE.search(entry.name)
        if found is None or not entry.is_file(follow_symlinks=False):
            continue
        path = Path(entry.path)
        if _abandoned(path, int(found.group(1)), now):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


@contextmanager
def atomic_output(final_path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to `final_path`; move it into place on success, delete it on failure.

    A reader never finds a half-written file at `final_path`: either the previous file (if any) or
    a complete new one. Concurrent writers each write their own temporary file, and the last to
    finish wins whole. Half-written files that dead writers left in the folder are removed first.
    """
    final_path = Path(final_path)
    final_path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(final_path.parent)
    temp_path = partial_path(final_path)
    try:
        yield temp_path
        if not temp_path.is_file():
            raise ProviderError(f"writing {final_path}: nothing was written to {temp_path.name}")
        os.replace(temp_path, final_path)
    finally:
        temp_path.unlink(missing_ok=True)


def _work_dir_owner(name: str, prefix: str) -> int | None:
    found = re.fullmatch(rf"{re.escape(prefix)}-(\d+)-[0-9a-f]{{32}}", name)
    return int(found.group(1)) if found else None


def remove_stale_work_dirs(prefix: str, parent: str | os.PathLike[str] | None = None) -> list[Path]:
    """Remove the `work_dir(prefix)` folders whose owner died (or older than STALE_AFTER_S); return them."""
    parent = Path(parent or tempfile.gettempdir())
    removed = []
    now = time.time()
    for path in parent.glob(f"{prefix}-*"):
        owner = _work_dir_owner(path.name, prefix)
        if owner is not None and path.is_dir() and not path.is_symlink() and _abandoned(path, owner, now):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


@contextmanager
def work_dir(prefix: str, parent: str | os.PathLike[str] | None = None) -> Iterator[Path]:
    """A private folder `<parent>/<prefix>-<pid>-<random>` (parent: the system's temporary folder),
    removed when the block ends; folders of the same prefix that a dead process left are removed first.
    """
    parent = Path(parent or tempfile.gettempdir())
    remove_stale_work_dirs(prefix, parent)
    path = parent / f"{prefix}-{os.getpid()}-{uuid.uuid4().hex}"
    path.mkdir(mode=0o700)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@dataclass(frozen=True)
class ReadThrough:
    """How far a media file could be read: its video frames (packets when copied) and seconds, and
    ffmpeg's report (the audio filters' measurements, when some were given)."""

    frames: int
    seconds: float
    report: str = ""


def read_through(path: str | os.PathLike[str], *, decode: bool = False, audio_filter: str | None = None) -> ReadThrough:
    """Read every packet of the file's streams (and decode them if `decode`) to the null muxer.

    Copying the packets costs little (it reads the file once) and finds a file cut short; decoding
    costs about what playing it does and also finds damaged pictures. With `audio_filter` the sound
    alone is decoded, through that filter chain, and its report kept (decoding sound costs little).
    """
    path = Path(path)
    level = "info" if audio_filter else "error"
    command = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-v", level, "-i", f"file:{path.resolve()}"]
    command += ["-map", "0:v?", "-map", "0:a?"]
    if audio_filter:
        command += ["-c:v", "copy", "-af", audio_filter]
    elif not decode:
        command += ["-c", "copy"]
    command += ["-f", "null", "-", "-progress", "pipe:1"]
    try:
        completed = run_process(command)
    except OSError as exc:
        raise ProviderError(f"cannot read {path} through: cannot run ffmpeg: {exc}") from exc
    frames, seconds = _progress(completed.stdout)
    report = completed.stderr.decode("utf-8", "replace") if audio_filter else ""
    return ReadThrough(frames=frames, seconds=seconds, report=report)


def verify_complete(
    path: str | os.PathLike[str], what: str, *, decode: bool = False, expected_frames: int | None = None
) -> MediaInfo:
    """The file's MediaInfo once it is known to read through to the end its header states.

    Raises BadMediaFile naming `what` and the file when it is not media, reads short of its
    header's duration, or (with `expected_frames`) holds another number of video frames.
    """
    return verify_measured(path, what, decode=decode, expected_frames=expected_frames)[0]


def verify_measured(
    path: str | os.PathLike[str],
    what: str,
    *,
    decode: bool = False,
    expected_frames: int | None = None,
    audio_filter: str | None = None,
) -> tuple[MediaInfo, ReadThrough]:
    """`verify_complete`, also returning the read-through (and, with `audio_filter`, its sound's report)."""
    path = Path(path)
    try:
        info = probe(path)
    except ProviderError as exc:
        raise BadMediaFile(f"{what}: {exc}", path) from None
    got = read_through(path, decode=decode, audio_filter=audio_filter)
    if got.seconds + READ_TOLERANCE_S < info.duration_s:
        raise BadMediaFile(
            f"{what}: {path} {'decodes' if decode else 'reads'} to only {got.seconds:.2f} s of the "
            f"{info.duration_s:.2f} s its header states (the file is cut short or damaged)",
            path,
        )
    if expected_frames is not None and info.has_video and got.frames != expected_frames:
        raise BadMediaFile(f"{what}: {path} holds {got.frames} video frames, {expected_frames} were written", path)
    return info, got


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
        completed = run_process(command, timeout_s=timeout_s)
    except subprocess.TimeoutExpired as exc:
        raise ProviderError(f"{what}: ffmpeg timed out after {timeout_s:g} s") from exc
    except OSError as exc:
        raise ProviderError(f"{what}: cannot run ffmpeg ({command[0]}): {exc}") from exc
    stderr = completed.stderr.decode("utf-8", "replace")
    if completed.returncode != 0:
        raise ProviderError(f"{what}: ffmpeg exited with status {completed.returncode}: {_stderr_tail(stderr)}")
    return stderr
