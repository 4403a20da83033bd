"""Specifies the FFmpeg plumbing: which binary runs, what `probe` reads from real files without ffprobe,
how failures surface as ProviderError naming the file, runs in the background, the caption fonts,
and atomic output."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from shorts_assets.core.errors import ProviderError
from shorts_assets.providers.media import (
    CAPTION_FONT,
    BackgroundFfmpeg,
    MediaInfo,
    atomic_output,
    ffmpeg_exe,
    fonts_dir,
    partial_path,
    probe,
    run_ffmpeg,
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
