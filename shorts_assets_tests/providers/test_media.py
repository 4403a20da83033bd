"""Specifies the FFmpeg plumbing: which binary runs, what `probe` reads from real files without ffprobe,
how failures surface as ProviderError naming the file, runs in the background, the caption fonts,
atomic output under concurrent writers and after crashed ones, ffmpeg children that die with
their parent (even by SIGKILL), private work folders, and reading a file through to its end."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from shorts_assets.core.errors import ProviderError
from shorts_assets.providers.media import (
    CAPTION_FONT,
    STALE_AFTER_S,
    BackgroundFfmpeg,
    BadMediaFile,
    MediaInfo,
    atomic_output,
    ffmpeg_exe,
    fonts_dir,
    partial_path,
    probe,
    read_through,
    remove_stale_work_dirs,
    run_ffmpeg,
    verify_complete,
    work_dir,
)


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Characters that are special to shells, ffmpeg protocols and filtergraphs.
    return tmp_path_factory.mktemp("media") / "it's: 50% [a], b"


@pytest.fixture(scope="module")
def movie(media_dir: Path) -> Path:
    media_dir.mkdir(parents=True, exist_ok=True)
    path = media_dir / "movie.mp4"
    run_ffmpeg(
        [
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=640x360:rate=25:duration=1",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=44100:duration=1",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-profile:v",
            "high",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-ac",
            "2",
            f"file:{path}",
        ],
        "making a test movie",
    )
    return path


@pytest.fixture(scope="module")
def speech(media_dir: Path) -> Path:
    media_dir.mkdir(parents=True, exist_ok=True)
    path = media_dir / "speech.wav"
    run_ffmpeg(
        ["-f", "lavfi", "-i", "sine=frequency=220:sample_rate=22050:duration=1.5", "-ac", "1", f"file:{path}"],
        "making a test wav",
    )
    return path


def test_ffmpeg_exe_is_a_runnable_binary_and_is_cached() -> None:
    exe = ffmpeg_exe()
    assert os.access(exe, os.X_OK)
    assert ffmpeg_exe() is exe


def test_probe_reads_video_and_audio_streams(movie: Path) -> None:
    info = probe(movie)

    assert isinstance(info, MediaInfo)
    assert info.has_video and info.has_audio
    assert (info.width, info.height) == (640, 360)
    assert info.fps == 25
    assert info.video_codec == "h264"
    assert info.video_profile == "High"
    assert info.pix_fmt == "yuv420p"
    assert info.audio_codec == "aac"
    assert info.sample_rate == 44100
    assert info.audio_channels == 2
    assert info.duration_s == pytest.approx(1.0, abs=0.05)


def test_probe_reads_an_audio_only_wav(speech: Path) -> None:
    info = probe(speech)

    assert info.has_audio and not info.has_video
    assert info.audio_codec == "pcm_s16le"
    assert info.sample_rate == 22050
    assert info.audio_channels == 1
    assert info.duration_s == pytest.approx(1.5, abs=0.01)
    assert info.width is None and info.height is None and info.fps is None
    assert info.video_codec is None and info.pix_fmt is None


def test_probe_measures_a_stream_whose_container_states_no_duration(tmp_path: Path) -> None:
    raw = tmp_path / "raw.h264"
    run_ffmpeg(
        [
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240:rate=25:duration=1",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            f"file:{raw}",
        ],
        "making a raw H.264 stream",
    )

    info = probe(raw)

    assert info.video_codec == "h264"
    assert info.duration_s == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("notes.txt", b"just some notes, not a movie\n"),
        ("garbage.mp4", os.urandom(4096)),
        ("empty.wav", b""),
    ],
)
def test_probe_of_non_media_raises_naming_the_file(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)

    with pytest.raises(ProviderError, match=name):
        probe(path)


def test_probe_of_a_missing_file_or_a_folder_raises_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ProviderError, match="nowhere.mp4"):
        probe(tmp_path / "nowhere.mp4")
    with pytest.raises(ProviderError, match=tmp_path.name):
        probe(tmp_path)


def test_run_ffmpeg_failure_names_the_work_and_carries_ffmpeg_error(tmp_path: Path) -> None:
    missing = tmp_path / "absent.mp4"

    with pytest.raises(ProviderError) as raised:
        run_ffmpeg(["-i", str(missing), "-f", "null", "-"], "decoding the absent clip")

    message = str(raised.value)
    assert message.startswith("decoding the absent clip")
    assert "absent.mp4" in message


def test_a_background_run_has_done_its_work_once_wait_returns(tmp_path: Path) -> None:
    tone = tmp_path / "tone.wav"

    with BackgroundFfmpeg(["-f", "lavfi", "-i", "sine=duration=0.5", f"file:{tone}"], "a tone") as job:
        job.wait()
        assert probe(tone).duration_s == pytest.approx(0.5, abs=0.05)


def test_a_failed_background_run_names_the_work_and_carries_ffmpeg_error(tmp_path: Path) -> None:
    with pytest.raises(ProviderError, match=r"drawing the cover: ffmpeg exited .*no_such_filter"):
        with BackgroundFfmpeg(
            ["-f", "lavfi", "-i", "no_such_filter", f"file:{tmp_path / 'x.png'}"], "drawing the cover"
        ) as job:
            job.wait()


def test_leaving_the_block_early_stops_a_background_run(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError):
        # Paced to real time, this would run for a minute.
        with BackgroundFfmpeg(
            ["-re", "-f", "lavfi", "-i", "anullsrc", "-t", "60", "-f", "null", "-"], "a minute of silence"
        ) as job:
            raise RuntimeError("the caller failed")

    with pytest.raises(ProcessLookupError):
        os.kill(job.pid, 0)


def test_caption_fonts_come_from_matplotlib() -> None:
    folder = fonts_dir()

    assert (folder / "DejaVuSans-Bold.ttf").is_file()
    assert (folder / "DejaVuSans.ttf").is_file()
    assert "matplotlib" in folder.parts
    assert CAPTION_FONT == "DejaVu Sans"


def test_partial_path_sits_next_to_the_final_file_with_the_same_suffix(tmp_path: Path) -> None:
    final = tmp_path / "video.v1.mp4"

    temp = partial_path(final)

    assert temp.parent == final.parent
    assert temp.suffix == ".mp4"
    assert temp != final


def test_atomic_output_moves_the_finished_file_into_place(tmp_path: Path) -> None:
    final = tmp_path / "sub" / "out.mp4"

    with atomic_output(final) as temp:
        assert temp.parent == final.parent and temp.suffix == ".mp4"
        temp.write_bytes(b"complete")
        assert not final.exists()

    assert final.read_bytes() == b"complete"
    assert not temp.exists()


def test_atomic_output_failure_leaves_no_partial_and_keeps_the_old_file(tmp_path: Path) -> None:
    final = tmp_path / "out.mp4"
    final.write_bytes(b"previous")

    with pytest.raises(RuntimeError):
        with atomic_output(final) as temp:
            temp.write_bytes(b"half")
            raise RuntimeError("encoder died")

    assert final.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]


def test_atomic_output_with_nothing_written_fails_and_creates_nothing(tmp_path: Path) -> None:
    final = tmp_path / "out.jpg"

    with pytest.raises(ProviderError, match="out.jpg"):
        with atomic_output(final):
            pass

    assert list(tmp_path.iterdir()) == []


def _dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _state(pid: int) -> str | None:
    """The process's state letter from /proc (Z for a zombie), or None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def _children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _wait_for(predicate, what: str, limit_s: float = 60.0):  # type: ignore[no-untyped-def]
    """Poll `predicate` until it returns something truthy; fail naming `what` after `limit_s`."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"gave up waiting for {what}")


def _encode_args(colour: str, out: Path) -> list[str]:
    return [
        "-f",
        "lavfi",
        "-i",
        f"color=c={colour}:s=128x128:r=25:d=2",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-threads",
        "1",
        "-pix_fmt",
        "yuv420p",
        "-fflags",
        "+bitexact",
        "-flags:v",
        "+bitexact",
        "-f",
        "mp4",
        f"file:{out}",
    ]


_WRITER = """
import sys
from pathlib import Path
from shorts_assets.providers.media import atomic_output, run_ffmpeg
from shorts_assets_tests.providers.test_media import _encode_args

target, colour, rounds = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
sys.stdin.readline()  # both writers start together
for _ in range(rounds):
    with atomic_output(target) as temp:
        run_ffmpeg(_encode_args(colour, temp), f"writing {colour}")
"""


def test_two_processes_writing_one_target_at_once_leave_a_whole_file_of_one_of_them(tmp_path: Path) -> None:
    target = tmp_path / "clips" / "scene_01.mp4"
    expected = {}
    for colour in ("red", "blue"):
        reference = tmp_path / f"{colour}.mp4"
        run_ffmpeg(_encode_args(colour, reference), f"the {colour} reference")
        expected[hashlib.sha256(reference.read_bytes()).hexdigest()] = colour
    assert len(expected) == 2

    writers = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(target), colour, "12"],
            stdin=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for colour in ("red", "blue")
    ]
    for writer in writers:
        writer.stdin.write("go\n")
        writer.stdin.flush()
    errors = [writer.communicate()[1] for writer in writers]

    assert [writer.returncode for writer in writers] == [0, 0], errors
    assert hashlib.sha256(target.read_bytes()).hexdigest() in expected
    assert verify_complete(target, "the target").has_video
    assert sorted(p.name for p in target.parent.iterdir()) == ["scene_01.mp4"]


def test_partial_paths_are_unique_to_their_writer_and_name_its_pid(tmp_path: Path) -> None:
    final = tmp_path / "short.mp4"

    first, second = partial_path(final), partial_path(final)

    assert first != second
    assert first.name.startswith(f"short.{os.getpid()}-") and first.name.endswith(".partial.mp4")


def test_the_next_writer_removes_what_a_dead_writer_left_and_spares_a_live_writers_file(tmp_path: Path) -> None:
    final = tmp_path / "short.mp4"
    dead = tmp_path / f"short.{_dead_pid()}-{uuid.uuid4().hex}.partial.mp4"
    dead_derived = tmp_path / f"thumb.{_dead_pid()}-{uuid.uuid4().hex}.partial.loudness.mp4"
    live_writer = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        live = tmp_path / f"short.{live_writer.pid}-{uuid.uuid4().hex}.partial.mp4"
        abandoned = tmp_path / f"short.{live_writer.pid}-{uuid.uuid4().hex}.partial.mp4"
        for path in (dead, dead_derived, live, abandoned):
            path.write_bytes(b"half")
        long_ago = time.time() - STALE_AFTER_S - 60
        os.utime(abandoned, (long_ago, long_ago))
        unrelated = tmp_path / "notes.partial.txt"
        unrelated.write_bytes(b"someone else's")

        with atomic_output(final) as temp:
            temp.write_bytes(b"complete")

        left = sorted(p.name for p in tmp_path.iterdir())
    finally:
        live_writer.communicate(b"")
    assert left == sorted(["short.mp4", live.name, unrelated.name])


@pytest.mark.parametrize("runner", ["run_ffmpeg", "BackgroundFfmpeg", "ffmpeg_report"])
def test_an_ffmpeg_child_dies_when_its_python_process_is_killed(runner: str) -> None:
    script = f"""
from shorts_assets.providers.media import BackgroundFfmpeg, ffmpeg_report, run_ffmpeg
args = ["-re", "-f", "lavfi", "-i", "anullsrc", "-t", "600", "-f", "null", "-"]
runner = {runner!r}
if runner == "run_ffmpeg":
    run_ffmpeg(args, "ten minutes of silence")
elif runner == "ffmpeg_report":
    ffmpeg_report(args, "ten minutes of silence")
else:
    with BackgroundFfmpeg(args, "ten minutes of silence") as job:
        job.wait()
"""
    python = subprocess.Popen([sys.executable, "-c", script])
    try:
        [ffmpeg] = _wait_for(lambda: _children_of(python.pid), "the ffmpeg child to start")
        assert _state(ffmpeg) not in (None, "Z")
    finally:
        python.send_signal(signal.SIGKILL)
        python.wait()

    _wait_for(lambda: _state(ffmpeg) in (None, "Z"), f"ffmpeg {ffmpeg} to die with its parent")


def test_an_ffmpeg_child_runs_in_a_process_group_of_its_own() -> None:
    with BackgroundFfmpeg(["-re", "-f", "lavfi", "-i", "anullsrc", "-t", "60", "-f", "null", "-"], "silence") as job:
        assert os.getpgid(job.pid) == job.pid != os.getpgid(0)


def test_a_background_run_reports_the_frames_it_wrote(tmp_path: Path) -> None:
    with BackgroundFfmpeg(_encode_args("green", tmp_path / "green.mp4"), "fifty frames") as job:
        assert job.wait() == 50


def test_a_work_folder_is_private_and_removed_after_its_block_even_on_failure(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError):
        with work_dir("shorts-render", tmp_path) as folder:
            (folder / "picture.mp4").write_bytes(b"frames")
            assert folder.parent == tmp_path and folder.name.startswith(f"shorts-render-{os.getpid()}-")
            assert folder.stat().st_mode & 0o777 == 0o700
            raise RuntimeError("the render failed")

    assert list(tmp_path.iterdir()) == []


def test_a_work_folder_a_dead_process_left_is_removed_by_the_next_and_a_live_ones_is_not(tmp_path: Path) -> None:
    dead = tmp_path / f"shorts-render-{_dead_pid()}-{uuid.uuid4().hex}"
    live = tmp_path / f"shorts-render-{os.getppid()}-{uuid.uuid4().hex}"
    other = tmp_path / f"shorts-upload-{_dead_pid()}-{uuid.uuid4().hex}"
    for folder in (dead, live, other):
        folder.mkdir()
        (folder / "mix.wav").write_bytes(b"audio")

    with work_dir("shorts-render", tmp_path):
        pass

    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, other.name])
    assert remove_stale_work_dirs("shorts-upload", tmp_path) == [other]


def test_a_whole_file_reads_through_to_its_end(movie: Path) -> None:
    assert read_through(movie).seconds == pytest.approx(probe(movie).duration_s, abs=0.05)
    assert read_through(movie, decode=True).frames == 25
    assert verify_complete(movie, "the movie", expected_frames=25).has_audio


@pytest.mark.parametrize("decode", [False, True])
def test_a_file_cut_short_keeps_its_header_but_fails_verification_naming_it(
    movie: Path, tmp_path: Path, decode: bool
) -> None:
    faststart = tmp_path / "faststart.mp4"
    run_ffmpeg(["-i", f"file:{movie}", "-c", "copy", "-movflags", "+faststart", f"file:{faststart}"], "faststart")
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(faststart.read_bytes()[: faststart.stat().st_size // 3])
    assert probe(cut).duration_s == pytest.approx(probe(faststart).duration_s)

    with pytest.raises(BadMediaFile, match=r"the clip: .*cut\.mp4 (reads|decodes) to only") as raised:
        verify_complete(cut, "the clip", decode=decode)

    assert raised.value.path == cut


def test_a_file_with_fewer_frames_than_were_written_fails_verification(movie: Path) -> None:
    with pytest.raises(BadMediaFile, match="holds 25 video frames, 30 were written"):
        verify_complete(movie, "the movie", expected_frames=30)


def test_a_file_that_is_not_media_fails_verification_naming_it(tmp_path: Path) -> None:
    junk = tmp_path / "scene_03.mp4"
    junk.write_bytes(os.urandom(4096))

    with pytest.raises(BadMediaFile, match="scene_03.mp4") as raised:
        verify_complete(junk, "clip 3")

    assert raised.value.path == junk


def test_an_ffmpeg_run_that_times_out_is_killed_with_its_group_before_the_error_is_raised() -> None:
    marker = f"anullsrc=r={8000 + os.getpid() % 1000}"

    with pytest.raises(ProviderError, match="timed out after 0.5 s"):
        run_ffmpeg(["-re", "-f", "lavfi", "-i", marker, "-t", "600", "-f", "null", "-"], "silence", timeout_s=0.5)

    running = [pid for pid in _children_of(os.getpid()) if marker.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()]
    assert running == []
