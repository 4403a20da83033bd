"""Specifies the renderer's output contract: a 1080x1920 30 fps H.264 High / AAC 48 kHz stereo MP4 as long
as the narration plus a short tail, loudness-normalised with the music ducking under the narration,
with word-highlighted captions from an ASS file in the arm's style, a JPEG thumbnail, atomic
writes, and ProviderErrors that name the input."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import tempfile
import uuid
from pathlib import Path

import numpy as np
import pytest

from shorts_assets.core.errors import ProviderError
from shorts_assets.core.types import Clip, RenderResult, Scene, Script, Voiceover, WordTiming
from shorts_assets.providers.clips.procedural import ProceduralClips
from shorts_assets.providers.media import BadMediaFile, ffmpeg_exe, probe, run_ffmpeg
from shorts_assets.providers.render import ffmpeg as ffmpeg_renderer
from shorts_assets.providers.render.ffmpeg import (
    CAPTION_STYLES,
    DUCKING,
    LOUDNORM,
    TAIL_S,
    FfmpegRenderer,
    ass_escape,
    write_ass,
)
from shorts_assets.providers.render.layout import caption_lines, segment_frames
from shorts_assets.providers.voices.espeak import EspeakVoice

# Captions that are hostile to ASS, to filtergraphs and to text shaping.
HOSTILE_WORDS = (
    "Did",
    "you",
    "know",
    "{this}",
    "back\\slash",
    "C:\\Nope",
    "100%",
    "it's",
    '"quoted"',
    "🚀",
    "rocket",
    "مرحبا",
    "بالعالم",
    "ratio:",
    "two\nlines",
    "done.",
)
VOICE_S = 4.0

DIALOGUE = re.compile(r"^Dialogue: 0,([0-9:.]+),([0-9:.]+),([a-z_]+),,0,0,0,,(.*)$", re.MULTILINE)


def make_script(video_id: str, style: str, durations: tuple[float, ...]) -> Script:
    visuals = ("title_card", "starfield", "waves")
    return Script(
        video_id=video_id,
        title="Title",
        hook="Did you know?",
        narration=" ".join(HOSTILE_WORDS),
        description="",
        scenes=tuple(Scene(prompt=f"scene {i}", duration_s=d, visual=visuals[i % 3]) for i, d in enumerate(durations)),
        tags=(),
        arms={"caption_style": style},
    )


def make_voiceover(path: Path, duration_s: float, words: tuple[str, ...]) -> Voiceover:
    run_ffmpeg(
        [
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=180:sample_rate=22050:duration={duration_s}",
            "-ac",
            "1",
            f"file:{path}",
        ],
        "making a narration stand-in",
    )
    step = (duration_s - 0.2) / len(words)
    timings = tuple(
        WordTiming(word=w, start_s=round(0.1 + i * step, 3), end_s=round(0.1 + (i + 0.8) * step, 3))
        for i, w in enumerate(words)
    )
    return Voiceover(audio_path=path, duration_s=duration_s, sample_rate=22050, voice="en-us", words=timings)


def video_frames(path: Path) -> int:
    """The number of video packets (frames) in `path`, counted without decoding."""
    listing = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path), "-map", "0:v", "-c", "copy", "-f", "framemd5", "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return sum(1 for line in listing.splitlines() if line and not line.startswith("#"))


def seconds(stamp: str) -> float:
    hours, minutes, secs = stamp.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(secs)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory):
    # A folder name full of characters special to ffmpeg's filtergraph and protocol parsing.
    base = tmp_path_factory.mktemp("render") / "it's: 50% [ok], done; yes"
    base.mkdir()
    script = make_script("vid-render", "bold_yellow", (1.0, 2.0, 1.5))
    clips = ProceduralClips().generate(script, base / "clips")
    voiceover = make_voiceover(base / "voice.wav", VOICE_S, HOSTILE_WORDS)
    out_path = base / "out" / "vid-render.mp4"
    result = FfmpegRenderer().render(clips, voiceover, script, out_path)
    return script, clips, voiceover, out_path, result


@pytest.mark.slow
def test_output_meets_the_platform_contract(rendered) -> None:
    _, _, voiceover, out_path, result = rendered
    info = probe(out_path)

    assert (info.width, info.height) == (1080, 1920)
    assert info.fps == 30
    assert (info.video_codec, info.video_profile, info.pix_fmt) == ("h264", "High", "yuv420p")
    assert (info.audio_codec, info.sample_rate, info.audio_channels) == ("aac", 48000, 2)
    assert info.duration_s == pytest.approx(voiceover.duration_s + TAIL_S, abs=0.1)
    assert video_frames(out_path) == round((voiceover.duration_s + TAIL_S) * 30)


@pytest.mark.slow
def test_the_result_describes_the_written_file(rendered) -> None:
    _, _, _, out_path, result = rendered

    assert isinstance(result, RenderResult)
    assert result.video_path == out_path
    assert result.thumbnail_path == out_path.with_suffix(".jpg")
    assert (result.width, result.height, result.fps) == (1080, 1920, 30)
    assert result.duration_s == pytest.approx(probe(out_path).duration_s)


@pytest.mark.slow
def test_srt_and_vtt_sidecars_carry_the_caption_lines(rendered) -> None:
    _, _, voiceover, out_path, _ = rendered
    srt = out_path.with_suffix(".srt").read_text(encoding="utf-8")
    vtt = out_path.with_suffix(".vtt").read_text(encoding="utf-8")

    cue_times = re.findall(r"^(\d\d:\d\d:\d\d,\d{3}) --> (\d\d:\d\d:\d\d,\d{3})$", srt, re.MULTILINE)
    assert len(cue_times) == len(caption_lines(voiceover.words))
    assert cue_times[0][0] == "00:00:00,100"
    assert vtt.startswith("WEBVTT\n\n00:00:00.100 --> ")
    assert "{this}" in srt and "C:\\Nope" in srt and "two lines" in srt and '"quoted"' in srt


@pytest.mark.slow
def test_moov_atom_comes_first_for_streaming(rendered) -> None:
    _, _, _, out_path, _ = rendered
    head = out_path.read_bytes()[:4096]

    assert 0 <= head.find(b"moov") < head.find(b"mdat") or b"mdat" not in head


def loudness(path: Path) -> tuple[float, float]:
    """(integrated loudness in LUFS, true peak in dBTP) of the audio of `path`."""
    report = subprocess.run(
        [
            ffmpeg_exe(),
            "-hide_banner",
            "-nostats",
            "-i",
            str(path),
            "-map",
            "0:a",
            "-af",
            "ebur128=peak=true:framelog=quiet",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    integrated = float(re.findall(r"I:\s+(-?[\d.]+) LUFS", report)[-1])
    true_peak = float(re.findall(r"Peak:\s+(-?[\d.]+|-inf) dBFS", report)[-1])
    return integrated, true_peak


@pytest.mark.slow
def test_narration_is_loudness_normalised(rendered) -> None:
    _, _, _, out_path, _ = rendered

    integrated, true_peak = loudness(out_path)

    assert integrated == pytest.approx(-14, abs=0.5)
    assert true_peak <= -1


SPOKEN = "Octopuses have three hearts, and two of them stop beating when they swim."


@pytest.fixture(scope="module")
def quiet_speech(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Synthesised speech in a voice, 12 dB down: quiet, with peaks 18-22 dB above its loudness."""
    folder = tmp_path_factory.mktemp("speech")
    made: dict[str, Voiceover] = {}

    def speech(voice: str) -> Voiceover:
        if voice not in made:
            name = voice.replace("+", "_")
            spoken = EspeakVoice().synthesize(SPOKEN, voice, folder / f"{name}.wav")
            path = folder / f"{name}_quiet.wav"
            run_ffmpeg(
                ["-i", f"file:{spoken.audio_path}", "-af", "volume=-12dB", f"file:{path}"], "making a quiet narration"
            )
            made[voice] = dataclasses.replace(spoken, audio_path=path)
        return made[voice]

    return speech


@pytest.mark.parametrize("music", [True, False], ids=["music", "no_music"])
@pytest.mark.parametrize("voice", ["en-us", "en-us+klatt"])
def test_peaky_speech_leaves_loudnorm_a_plain_gain(tmp_path: Path, quiet_speech, voice: str, music: bool) -> None:
    speech = quiet_speech(voice)

    measured = FfmpegRenderer(music=music).mix_audio(
        speech, speech.duration_s + TAIL_S, "vid-peaky", None, tmp_path / "mix.wav", "test"
    )

    # loudnorm's condition for normalising with a plain gain rather than its dynamic mode.
    peak_to_loudness = float(measured["input_tp"]) - float(measured["input_i"])
    assert peak_to_loudness <= LOUDNORM["TP"] - LOUDNORM["I"]
    assert 0 < float(measured["input_lra"]) <= LOUDNORM["LRA"]


@pytest.mark.slow
@pytest.mark.parametrize(("voice", "music"), [("en-us", True), ("en-us+klatt", False)])
def test_quiet_peaky_speech_renders_at_the_loudness_target(
    tmp_path: Path, quiet_speech, voice: str, music: bool
) -> None:
    clip = tmp_path / "clip.mp4"
    run_ffmpeg(
        [
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=540x960:rate=30:duration=1",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            f"file:{clip}",
        ],
        "making a clip",
    )
    script = make_script("vid-peaky", "boxed", (4.0,))
    out_path = tmp_path / "peaky.mp4"

    FfmpegRenderer(profile="draft", music=music).render(
        [Clip(clip, 1.0, 540, 960)], quiet_speech(voice), script, out_path
    )

    integrated, true_peak = loudness(out_path)
    assert integrated == pytest.approx(LOUDNORM["I"], abs=0.5)
    assert true_peak <= -1


@pytest.mark.slow
def test_thumbnail_is_a_full_size_jpeg(rendered) -> None:
    _, _, _, out_path, result = rendered

    assert result.thumbnail_path.read_bytes()[:3] == b"\xff\xd8\xff"
    info = probe(result.thumbnail_path)
    assert (info.video_codec, info.width, info.height) == ("mjpeg", 1080, 1920)


@pytest.mark.slow
def test_captions_have_one_highlighted_event_per_spoken_word(rendered) -> None:
    _, _, voiceover, out_path, _ = rendered
    ass = out_path.with_suffix(".ass").read_text(encoding="utf-8")
    style = CAPTION_STYLES["bold_yellow"]
    events = DIALOGUE.findall(ass)

    assert len(events) == len(voiceover.words)
    for (start, end, style_name, text), word in zip(events, voiceover.words):
        assert style_name == "bold_yellow"
        assert seconds(start) == pytest.approx(word.start_s, abs=0.011)
        assert seconds(end) > seconds(start)
        highlighted = re.findall(
            re.escape(f"{{\\c{style.highlight}&}}") + "(.*?)" + re.escape(f"{{\\c{style.primary}&}}"),
            text,
        )
        assert highlighted == [ass_escape(word.word) if word.word != "🚀" else ""]


@pytest.mark.slow
def test_captions_use_the_arms_style_inside_the_safe_area(rendered) -> None:
    _, _, _, out_path, _ = rendered
    ass = out_path.with_suffix(".ass").read_text(encoding="utf-8")

    assert "PlayResX: 1080" in ass and "PlayResY: 1920" in ass
    fields = re.search(r"^Style: (.*)$", ass, re.MULTILINE).group(1).split(",")
    name, font, bold, alignment = fields[0], fields[1], fields[7], fields[18]
    margin_l, margin_r, margin_v = int(fields[19]), int(fields[20]), int(fields[21])
    assert (name, font, bold, alignment) == ("bold_yellow", "DejaVu Sans", "-1", "2")
    assert min(margin_l, margin_r) >= 90
    assert margin_v >= 0.25 * 1920


@pytest.mark.slow
def test_hostile_caption_text_is_burned_in(rendered) -> None:
    _, clips, voiceover, out_path, _ = rendered
    ass = out_path.with_suffix(".ass").read_text(encoding="utf-8")

    # Literal braces and backslashes are escaped, never parsed as ASS overrides or line breaks.
    assert "\\{this\\}" in ass
    assert "\\N" not in ass and "{this}" not in ass
    assert "مرحبا" in ass and "100%" in ass and "it's" in ass and "ratio:" in ass
    assert "two lines" in ass
    # libass drew the line: the caption band is full of bright glyph pixels, the sky above is not.
    word = next(w for w in voiceover.words if w.word == "{this}")
    at = (word.start_s + word.end_s) / 2
    caption_band, sky_band = _bright_pixels(out_path, at, top=1150), _bright_pixels(out_path, at, top=300)
    assert caption_band > 2000
    assert caption_band > 10 * sky_band


def _bright_pixels(path: Path, at_s: float, top: int) -> int:
    """How many near-white pixels a 200-pixel-high band starting at `top` has, at `at_s`."""
    grey = subprocess.run(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            "-ss",
            f"{at_s:.3f}",
            "-i",
            str(path),
            "-vf",
            f"crop=1080:200:0:{top},format=gray",
            "-frames:v",
            "1",
            "-f",
            "rawvideo",
            "-",
        ],
        capture_output=True,
        check=True,
    ).stdout
    return sum(1 for value in grey if value >= 235)


def decoded_audio(path: Path) -> np.ndarray:
    """The audio of `path` as mono float samples at 48 kHz."""
    raw = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path), "-map", "0:a", "-ac", "1", "-ar", "48000", "-f", "f32le", "-"],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, dtype="<f4")


def band_db(samples: np.ndarray, start_s: float, end_s: float, low_hz: float, high_hz: float) -> float:
    """RMS level (dB) of the part of samples[start_s:end_s] between low_hz and high_hz."""
    part = samples[round(start_s * 48000) : round(end_s * 48000)]
    spectrum = np.abs(np.fft.rfft(part)) ** 2
    freqs = np.fft.rfftfreq(len(part), 1 / 48000)
    band = spectrum[(freqs >= low_hz) & (freqs < high_hz)].sum()
    return 10 * np.log10(band / len(part) ** 2 + 1e-20)


@pytest.mark.slow
def test_the_music_bed_ducks_under_the_narration(tmp_path: Path, monkeypatch) -> None:
    # The narration stand-in is a loud 3 kHz tone for its first 1.8 s, then silence; the generated bed
    # has nothing above ~600 Hz, so the decoded render's low band is the music alone.
    voice_path = tmp_path / "voice.wav"
    run_ffmpeg(
        [
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=3000:sample_rate=22050:duration=1.7",
            "-af",
            "volume=4,adelay=100,apad=whole_dur=4",
            "-ac",
            "1",
            f"file:{voice_path}",
        ],
        "making a narration stand-in",
    )
    words = (WordTiming("Tone", 0.1, 0.9), WordTiming("then", 0.9, 1.8))
    voiceover = Voiceover(audio_path=voice_path, duration_s=4.0, sample_rate=22050, voice="en-us", words=words)
    clip = tmp_path / "clip.mp4"
    run_ffmpeg(
        [
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=540x960:rate=30:duration=1",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            f"file:{clip}",
        ],
        "making a clip",
    )
    script = make_script("vid-duck", "boxed", (4.0,))

    def music_lift_after_speech(ducking: dict, name: str) -> float:
        """How much louder (dB) the music is once the narrator stops than while they speak."""
        monkeypatch.setattr(ffmpeg_renderer, "DUCKING", ducking)
        out_path = tmp_path / f"{name}.mp4"
        FfmpegRenderer(profile="draft").render([Clip(clip, 1.0, 540, 960)], voiceover, script, out_path)
        audio = decoded_audio(out_path)
        speaking, after = (0.6, 1.6), (2.6, 3.5)
        assert band_db(audio, *speaking, 2500, 3500) > band_db(audio, *after, 2500, 3500) + 30
        return band_db(audio, *after, 20, 1000) - band_db(audio, *speaking, 20, 1000)

    ducked = music_lift_after_speech(dict(DUCKING), "ducked")
    # The same render with a 1:1 compressor: what the loudness normalisation alone does.
    level = music_lift_after_speech({**DUCKING, "ratio": 1}, "level")

    assert ducked - level >= 10


@pytest.mark.slow
def test_short_clips_loop_and_long_clips_are_trimmed(tmp_path: Path) -> None:
    # Scenes share the timeline equally, but the first clip is too short and the second too long.
    drawn = ProceduralClips().generate(make_script("vid-fit", "boxed", (0.5, 3.0)), tmp_path)
    script = make_script("vid-fit", "boxed", (1.0, 1.0))
    voiceover = make_voiceover(tmp_path / "voice.wav", 2.0, ("Fits", "the", "timeline."))
    out_path = tmp_path / "fit.mp4"

    result = FfmpegRenderer(preset="ultrafast").render(drawn, voiceover, script, out_path)

    info = probe(out_path)
    assert result.duration_s == pytest.approx(2.0 + TAIL_S, abs=0.1)
    assert video_frames(out_path) == round((2.0 + TAIL_S) * 30)
    assert (info.video_profile, info.width, info.height, info.fps) == ("High", 1080, 1920, 30)
    assert "Style: boxed," in out_path.with_suffix(".ass").read_text(encoding="utf-8")


def test_a_corrupt_clip_names_the_file_and_leaves_nothing_at_out_path(tmp_path: Path) -> None:
    good = tmp_path / "good.wav"
    voiceover = make_voiceover(good, 1.0, ("Broken",))
    corrupt = tmp_path / "scene_02.mp4"
    corrupt.write_bytes(bytes(range(256)) * 64)
    clips = [Clip(path=corrupt, duration_s=2.0, width=1280, height=720)]
    out_path = tmp_path / "out" / "broken.mp4"

    with pytest.raises(ProviderError) as raised:
        FfmpegRenderer().render(clips, voiceover, make_script("vid-broken", "boxed", (2.0,)), out_path)

    assert "scene_02.mp4" in str(raised.value)
    assert "vid-broken" in str(raised.value)
    assert not out_path.exists()
    assert not out_path.with_suffix(".jpg").exists()


def test_a_clip_cut_short_fails_the_render_as_a_bad_media_file_naming_it(tmp_path: Path) -> None:
    [clip] = ProceduralClips(width=180, height=320).generate(make_script("vid-cut", "boxed", (1.0,)), tmp_path)
    clip.path.write_bytes(clip.path.read_bytes()[: clip.path.stat().st_size // 2])
    voiceover = make_voiceover(tmp_path / "voice.wav", 1.0, ("Cut",))
    out_path = tmp_path / "out" / "cut.mp4"

    with pytest.raises(BadMediaFile, match=r"vid-cut: clip 1 .*scene_01\.mp4 reads to only") as raised:
        FfmpegRenderer(profile="draft").render([clip], voiceover, make_script("vid-cut", "boxed", (1.0,)), out_path)

    assert raised.value.path == clip.path
    assert not out_path.exists()


def test_opening_a_renderer_removes_the_work_folders_dead_renders_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = subprocess.Popen(["true"])
    dead.wait()
    left = tmp_path / f"shorts-render-{dead.pid}-{uuid.uuid4().hex}"
    live = tmp_path / f"shorts-render-{os.getpid()}-{uuid.uuid4().hex}"
    for folder in (left, live):
        folder.mkdir()

    FfmpegRenderer()

    assert list(tmp_path.iterdir()) == [live]


@pytest.mark.slow
def test_a_render_removes_the_work_folder_a_dead_render_left_and_leaves_none_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    temp_root = tmp_path / "tmp"
    temp_root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp_root))
    dead = subprocess.Popen(["true"])
    dead.wait()
    left = temp_root / f"shorts-render-{dead.pid}-{uuid.uuid4().hex}"
    left.mkdir()
    (left / "picture.mp4").write_bytes(b"half a picture")
    script = make_script("vid-tidy", "boxed", (1.0,))
    clips = ProceduralClips(width=180, height=320).generate(script, tmp_path / "clips")
    voiceover = make_voiceover(tmp_path / "voice.wav", 1.0, ("Tidy",))

    FfmpegRenderer(profile="draft", music=False).render(clips, voiceover, script, tmp_path / "out" / "tidy.mp4")

    assert list(temp_root.iterdir()) == []


@pytest.mark.slow
def test_an_ffmpeg_failure_mid_render_leaves_no_partial_files(tmp_path: Path) -> None:
    script = make_script("vid-fails", "clean_white", (0.4,))
    clips = ProceduralClips().generate(script, tmp_path / "clips")
    voiceover = make_voiceover(tmp_path / "voice.wav", 0.5, ("Fails",))
    out_path = tmp_path / "out" / "fails.mp4"

    with pytest.raises(ProviderError, match="vid-fails"):
        FfmpegRenderer(preset="no-such-preset").render(clips, voiceover, script, out_path)

    assert sorted(p.name for p in out_path.parent.iterdir()) == ["fails.ass"]


def test_an_unknown_caption_style_is_a_provider_error(tmp_path: Path) -> None:
    with pytest.raises(ProviderError, match="comic_sans"):
        write_ass(tmp_path / "c.ass", (WordTiming("hi", 0, 0.3),), "comic_sans", 1.0)


@pytest.mark.parametrize(
    ("style", "bold", "border_style"),
    [("bold_yellow", "-1", "1"), ("clean_white", "0", "1"), ("boxed", "-1", "3")],
)
def test_each_caption_style_is_written_as_its_own_ass_style(
    tmp_path: Path, style: str, bold: str, border_style: str
) -> None:
    words = tuple(WordTiming(w, i * 0.4, i * 0.4 + 0.3) for i, w in enumerate(["one", "two", "three"]))
    path = tmp_path / "c.ass"

    assert write_ass(path, words, style, 2.0) == 3

    fields = re.search(r"^Style: (.*)$", path.read_text(encoding="utf-8"), re.MULTILINE).group(1)
    fields = fields.split(",")
    assert (fields[0], fields[7], fields[15]) == (style, bold, border_style)
    assert fields[3] == CAPTION_STYLES[style].primary
    if style == "boxed":
        assert fields[5].startswith("&H00")  # an opaque box
    else:
        assert float(fields[16]) >= (5 if style == "bold_yellow" else 1)


def test_ass_escape_keeps_text_literal() -> None:
    assert ass_escape("{\\b1}") == "\\{\\\u2060b1\\}"
    assert ass_escape("C:\\New\nline") == "C:\\\u2060New line"
    assert ass_escape('50% it\'s: "ok" مرحبا') == '50% it\'s: "ok" مرحبا'


def test_caption_lines_are_short_and_break_at_sentences_and_pauses() -> None:
    words = [
        WordTiming(w, i * 0.3, i * 0.3 + 0.25)
        for i, w in enumerate(["A", "quick", "brown", "fox.", "Jumps", "over", "extraordinarily", "lazy", "dogs"])
    ]
    words.append(WordTiming("later", 10.0, 10.3))

    lines = [[w.word for w in line] for line in caption_lines(words)]

    assert lines == [
        ["A", "quick", "brown", "fox."],
        ["Jumps", "over"],
        ["extraordinarily"],
        ["lazy", "dogs"],
        ["later"],
    ]


def test_segment_frames_split_the_timeline_proportionally_and_exactly() -> None:
    assert segment_frames([1.0, 2.0, 1.0], 138) == [34, 70, 34]
    assert sum(segment_frames([1.3, 2.7, 0.9, 5.1], 751)) == 751
