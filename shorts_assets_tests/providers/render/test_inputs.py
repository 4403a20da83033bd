"""Specifies how the renderer treats unusual and broken inputs: the draft profile, still images and
their slow zoom, odd geometries (1x1, 4K, 21:9), clips that are not video, and narration too long
for the platforms. Each is rendered correctly, or fails with a ProviderError naming the input and
leaves nothing at out_path."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from shorts_assets.core.errors import ProviderError
from shorts_assets.core.types import Clip, Voiceover, WordTiming
from shorts_assets.providers.media import ffmpeg_exe, probe, run_ffmpeg
from shorts_assets.providers.render.ffmpeg import MAX_DURATION_S, STILL_ZOOM, TAIL_S, FfmpegRenderer
from shorts_assets_tests.providers.render.test_ffmpeg import make_script, make_voiceover, video_frames

WORDS = ("Odd", "inputs:", "50%", "{ok}", "back\\slash", '"fine"', "two\nlines")


def make_video(path: Path, size: str, seconds: float = 1.0, rate: int = 25) -> Clip:
    run_ffmpeg(
        [
            "-f",
            "lavfi",
            "-i",
            f"testsrc2=size={size}:rate={rate}:duration={seconds}",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            f"file:{path}",
        ],
        f"making {path.name}",
    )
    width, height = (int(v) for v in size.split("x"))
    return Clip(path=path, duration_s=seconds, width=width, height=height)


def make_image(path: Path, size: str) -> Clip:
    run_ffmpeg(
        ["-f", "lavfi", "-i", f"testsrc2=size=320x240,scale={size}", "-frames:v", "1", f"file:{path}"],
        f"making {path.name}",
    )
    width, height = (int(v) for v in size.split("x"))
    return Clip(path=path, duration_s=0.0, width=width, height=height)


@pytest.fixture(scope="module")
def voice(tmp_path_factory: pytest.TempPathFactory) -> Voiceover:
    return make_voiceover(tmp_path_factory.mktemp("voice") / "voice.wav", 1.5, WORDS)


def assert_nothing_at(out_path: Path) -> None:
    assert not out_path.exists()
    assert not out_path.with_suffix(".jpg").exists()
    assert not any(p.name.endswith((".partial.mp4", ".partial.jpg")) for p in out_path.parent.glob("*"))


@pytest.mark.slow
def test_the_draft_profile_mixes_video_and_stills_with_sidecars(tmp_path: Path, voice) -> None:
    clips = [make_video(tmp_path / "moving.mp4", "640x360"), make_image(tmp_path / "still.png", "800x600")]
    out_path = tmp_path / "draft.mp4"

    result = FfmpegRenderer(profile="draft").render(
        clips, voice, make_script("vid-draft", "clean_white", (1.0, 1.0)), out_path
    )

    info = probe(out_path)
    assert (result.width, result.height, info.fps) == (540, 960, 30)
    assert (info.video_codec, info.video_profile, info.pix_fmt) == ("h264", "High", "yuv420p")
    assert (info.audio_codec, info.sample_rate, info.audio_channels) == ("aac", 48000, 2)
    assert video_frames(out_path) == round((voice.duration_s + TAIL_S) * 30)
    assert probe(result.thumbnail_path).width == 540
    srt = out_path.with_suffix(".srt").read_text(encoding="utf-8")
    assert "two lines" in srt and "back\\slash" in srt and "{ok}" in srt
    assert out_path.with_suffix(".vtt").read_text(encoding="utf-8").startswith("WEBVTT")


def bright_run(path: Path, frame: int, row: int) -> int:
    """How many near-white pixels frame `frame` of `path` has along row `row`."""
    grey = subprocess.run(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            "-i",
            str(path),
            "-vf",
            f"select=eq(n\\,{frame}),format=gray,crop=iw:1:0:{row}",
            "-frames:v",
            "1",
            "-f",
            "rawvideo",
            "-",
        ],
        capture_output=True,
        check=True,
    ).stdout
    return sum(1 for value in grey if value >= 200)


@pytest.mark.slow
def test_a_still_image_slowly_zooms_in(tmp_path: Path, voice) -> None:
    image = tmp_path / "square.png"
    run_ffmpeg(
        [
            "-f",
            "lavfi",
            "-i",
            "color=c=gray:s=1080x1920,drawbox=x=390:y=810:w=300:h=300:color=white:t=fill",
            "-frames:v",
            "1",
            f"file:{image}",
        ],
        "drawing a square",
    )
    out_path = tmp_path / "still.mp4"

    FfmpegRenderer(music=False).render(
        [Clip(image, 0.0, 1080, 1920)], voice, make_script("vid-still", "boxed", (1.0,)), out_path
    )

    last = video_frames(out_path) - 1
    first_width, last_width = bright_run(out_path, 0, 960), bright_run(out_path, last, 960)
    assert first_width == pytest.approx(300, abs=6)
    assert last_width / first_width == pytest.approx(1 + STILL_ZOOM, abs=0.025)
    assert bright_run(out_path, last // 2, 960) == pytest.approx(300 * (1 + STILL_ZOOM / 2), abs=8)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("one_pixel.png", lambda p: make_image(p, "1x1")),
        ("uhd.mp4", lambda p: make_video(p, "3840x2160", seconds=1.0, rate=30)),
        ("cinema.mp4", lambda p: make_video(p, "840x360", seconds=1.0)),
        ("portrait.jpg", lambda p: make_image(p, "360x1280")),
    ],
)
def test_odd_geometries_are_cover_cropped_to_the_frame(tmp_path: Path, voice, name, make) -> None:
    clip = make(tmp_path / name)
    out_path = tmp_path / "out.mp4"

    result = FfmpegRenderer(profile="draft", music=False).render(
        [clip], voice, make_script(f"vid-{name}", "boxed", (1.0,)), out_path
    )

    assert (result.width, result.height) == (540, 960)
    assert video_frames(out_path) == round((voice.duration_s + TAIL_S) * 30)


@pytest.mark.parametrize("content", [b"", b"\x00\x00\x00\x18ftypmp42" + bytes(200)])
def test_an_empty_or_truncated_clip_is_named_in_the_error(tmp_path: Path, voice, content) -> None:
    bad = tmp_path / "scene_03.mp4"
    bad.write_bytes(content)
    out_path = tmp_path / "out" / "short.mp4"

    with pytest.raises(ProviderError) as raised:
        FfmpegRenderer().render([Clip(bad, 1.0, 1280, 720)], voice, make_script("vid-empty", "boxed", (1.0,)), out_path)

    assert "scene_03.mp4" in str(raised.value) and "vid-empty" in str(raised.value)
    assert_nothing_at(out_path)


def test_a_clip_without_a_video_stream_is_named_in_the_error(tmp_path: Path, voice) -> None:
    audio_only = tmp_path / "scene_01.m4a"
    run_ffmpeg(
        ["-f", "lavfi", "-i", "sine=duration=1", "-c:a", "aac", f"file:{audio_only}"], "making an audio-only clip"
    )
    out_path = tmp_path / "out" / "short.mp4"

    with pytest.raises(ProviderError, match="scene_01.m4a.*no video stream"):
        FfmpegRenderer().render(
            [Clip(audio_only, 1.0, 1280, 720)], voice, make_script("vid-audio", "boxed", (1.0,)), out_path
        )

    assert_nothing_at(out_path)


def test_narration_longer_than_the_platform_limit_is_refused(tmp_path: Path) -> None:
    long_voice = Voiceover(
        audio_path=tmp_path / "long.wav",
        duration_s=MAX_DURATION_S + 5,
        sample_rate=22050,
        voice="en-us",
        words=(WordTiming("long", 0, 1),),
    )
    out_path = tmp_path / "out" / "short.mp4"

    with pytest.raises(ProviderError, match=r"long\.wav.*180 s platform limit"):
        FfmpegRenderer().render(
            [Clip(tmp_path / "c.mp4", 1.0, 1280, 720)], long_voice, make_script("vid-long", "boxed", (1.0,)), out_path
        )

    assert_nothing_at(out_path)


def test_an_unknown_profile_is_a_provider_error() -> None:
    with pytest.raises(ProviderError, match="cinema"):
        FfmpegRenderer(profile="cinema")


@pytest.mark.slow
def test_a_licensed_track_from_the_music_folder_is_mixed_in(tmp_path: Path, voice, caplog) -> None:
    music_dir = tmp_path / "music"
    music_dir.mkdir()
    run_ffmpeg(
        ["-f", "lavfi", "-i", "sine=frequency=330:duration=1", f"file:{music_dir / 'tune.wav'}"], "making a music track"
    )
    (music_dir / "tune.license.txt").write_text("CC0 1.0, made for this test")
    run_ffmpeg(
        ["-f", "lavfi", "-i", "sine=frequency=550:duration=1", f"file:{music_dir / 'unlicensed.wav'}"],
        "making an unlicensed track",
    )
    out_path = tmp_path / "music.mp4"

    result = FfmpegRenderer(profile="draft", music_dir=music_dir).render(
        [make_video(tmp_path / "clip.mp4", "640x360")],
        voice,
        make_script("vid-music", "boxed", (1.0,)),
        out_path,
    )

    assert probe(result.video_path).has_audio
    assert "unlicensed.wav" in caplog.text
