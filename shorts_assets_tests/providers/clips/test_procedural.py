"""Specifies the offline clip generator: one real, moving H.264 clip per scene at the short's own size and
rate, a distinct look per visual, cheap to re-encode, deterministic from the video id, written
atomically and reused on re-runs."""

from __future__ import annotations

import hashlib
import itertools
import re
import subprocess
from pathlib import Path

import pytest

from shorts_assets.core.errors import ProviderError
from shorts_assets.core.types import Scene, Script
from shorts_assets.providers.clips.procedural import VISUALS, ProceduralClips, visual_graph
from shorts_assets.providers.media import ffmpeg_exe, probe

pytestmark = pytest.mark.slow

TOPIC_VISUALS = ("starfield", "waves", "parchment", "bubbles", "meadow", "title_card")


def make_script(video_id: str, *scenes: tuple[str, float]) -> Script:
    return Script(
        video_id=video_id,
        title="A title",
        hook="A hook?",
        narration="A hook? Then the rest.",
        description="",
        scenes=tuple(Scene(prompt=f"scene {i}", duration_s=d, visual=v) for i, (v, d) in enumerate(scenes, start=1)),
        tags=(),
        arms={},
    )


def frame_bytes(path: Path, frame: int, size: str = "9x16") -> bytes:
    """One frame of `path`, shrunk to `size` RGB pixels."""
    return subprocess.run(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            "-i",
            str(path),
            "-vf",
            f"select=eq(n\\,{frame}),scale={size}:flags=area,format=rgb24",
            "-frames:v",
            "1",
            "-f",
            "rawvideo",
            "-",
        ],
        capture_output=True,
        check=True,
    ).stdout


def mean_abs_diff(a: bytes, b: bytes) -> float:
    return sum(abs(x - y) for x, y in zip(a, b)) / len(a)


@pytest.fixture(scope="module")
def every_visual(tmp_path_factory: pytest.TempPathFactory):
    script = make_script("vid-every-visual", *((name, 0.6) for name in VISUALS))
    out_dir = tmp_path_factory.mktemp("every")
    return script, out_dir, ProceduralClips().generate(script, out_dir)


def test_the_script_writers_visuals_all_exist() -> None:
    assert set(TOPIC_VISUALS) <= set(VISUALS)


def test_one_h264_clip_per_scene_at_the_shorts_size_and_rate(every_visual) -> None:
    script, out_dir, clips = every_visual

    assert [c.path.name for c in clips] == [f"scene_{i:02d}.mp4" for i in range(1, len(VISUALS) + 1)]
    for clip, scene in zip(clips, script.scenes):
        info = probe(clip.path)
        assert clip.path.parent == out_dir
        assert (clip.width, clip.height) == (info.width, info.height) == (1080, 1920)
        assert info.video_codec == "h264" and info.pix_fmt == "yuv420p"
        assert info.fps == 30
        assert not info.has_audio
        assert clip.duration_s == pytest.approx(scene.duration_s, abs=0.05)
        assert info.duration_s == pytest.approx(clip.duration_s, abs=0.01)


def test_every_visual_moves(every_visual) -> None:
    _, _, clips = every_visual

    for name, clip in zip(VISUALS, clips):
        first, last = frame_bytes(clip.path, 0, "36x64"), frame_bytes(clip.path, 14, "36x64")
        assert first != last, f"{name} does not move"


@pytest.mark.parametrize("visual", ["starfield", "waves", "meadow", "parchment", "title_card"])
def test_the_pictures_glide_so_an_encoder_skips_most_of_each_frame(every_visual, visual) -> None:
    # Per-pixel noise or churn would leave x264 coding nearly every macroblock of every frame.
    _, _, clips = every_visual
    clip = clips[list(VISUALS).index(visual)]
    log = subprocess.run(
        [
            ffmpeg_exe(),
            "-hide_banner",
            "-nostdin",
            "-i",
            str(clip.path),
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "21",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stderr

    skipped = float(re.search(r"mb P .*skip:\s*([\d.]+)%", log).group(1))
    assert skipped >= 75, f"{visual}: only {skipped}% of P-frame macroblocks skipped"


def test_every_visual_looks_different(every_visual) -> None:
    _, _, clips = every_visual
    looks = {name: frame_bytes(clip.path, 0) for name, clip in zip(VISUALS, clips)}

    for a, b in itertools.combinations(VISUALS, 2):
        assert mean_abs_diff(looks[a], looks[b]) > 20, f"{a} and {b} look alike"


def test_no_partial_files_are_left_behind(every_visual) -> None:
    _, out_dir, clips = every_visual

    assert sorted(p.name for p in out_dir.iterdir()) == sorted(c.path.name for c in clips)


def test_clips_are_deterministic_given_the_script(tmp_path: Path) -> None:
    script = make_script("vid-same", ("starfield", 0.4), ("bubbles", 0.4))

    first = ProceduralClips().generate(script, tmp_path / "a")
    second = ProceduralClips().generate(script, tmp_path / "b")

    for a, b in zip(first, second):
        assert hashlib.sha256(a.path.read_bytes()).digest() == hashlib.sha256(b.path.read_bytes()).digest()


def test_the_video_id_seeds_the_picture(tmp_path: Path) -> None:
    one = ProceduralClips().generate(make_script("vid-one", ("parchment", 0.4)), tmp_path / "one")
    two = ProceduralClips().generate(make_script("vid-two", ("parchment", 0.4)), tmp_path / "two")

    assert frame_bytes(one[0].path, 0, "36x64") != frame_bytes(two[0].path, 0, "36x64")


def test_a_rerun_reuses_good_clips_and_redraws_broken_ones(tmp_path: Path) -> None:
    script = make_script("vid-rerun", ("waves", 0.4), ("meadow", 0.4))
    generator = ProceduralClips()
    first = generator.generate(script, tmp_path)
    kept_mtime = first[0].path.stat().st_mtime_ns
    first[1].path.write_bytes(b"truncated by a crash")

    second = generator.generate(script, tmp_path)

    assert second == first
    assert second[0].path.stat().st_mtime_ns == kept_mtime
    assert probe(second[1].path).has_video


def test_a_changed_scene_duration_redraws_the_clip(tmp_path: Path) -> None:
    generator = ProceduralClips()
    generator.generate(make_script("vid-change", ("waves", 0.4)), tmp_path)

    clips = generator.generate(make_script("vid-change", ("waves", 0.8)), tmp_path)

    assert clips[0].duration_s == pytest.approx(0.8, abs=0.05)


def test_an_unknown_visual_is_a_provider_error_naming_it(tmp_path: Path) -> None:
    script = make_script("vid-unknown", ("waves", 0.4), ("lava_lamp", 0.4))

    with pytest.raises(ProviderError, match="lava_lamp") as raised:
        ProceduralClips().generate(script, tmp_path)

    assert "vid-unknown" in str(raised.value)
    assert not any(tmp_path.iterdir())


def test_visual_graph_rejects_an_unknown_visual() -> None:
    with pytest.raises(ProviderError, match="'volcano'"):
        visual_graph("volcano", seed=1)


def test_every_look_a_script_may_name_has_a_recipe():
    from shorts_assets.core import types

    assert set(VISUALS) == set(types.VISUALS)


def test_a_clip_cut_short_in_place_is_drawn_again_though_its_header_still_says_it_is_whole(tmp_path: Path) -> None:
    script = make_script("vid-cut", ("starfield", 1.0))
    generator = ProceduralClips(width=180, height=320)
    [first] = generator.generate(script, tmp_path)
    whole = first.path.read_bytes()
    first.path.write_bytes(whole[: len(whole) // 2])
    assert probe(first.path).duration_s == pytest.approx(first.duration_s)

    [second] = generator.generate(script, tmp_path)

    assert second == first
    assert second.path.read_bytes() == whole


def test_every_visual_draws_at_the_draft_profiles_size(tmp_path: Path) -> None:
    script = make_script("vid-draft", *((name, 0.3) for name in VISUALS))

    clips = ProceduralClips(width=540, height=960).generate(script, tmp_path)

    for name, clip in zip(VISUALS, clips):
        info = probe(clip.path)
        assert (clip.width, clip.height) == (info.width, info.height) == (540, 960), name
        assert info.pix_fmt == "yuv420p" and info.fps == 30


def test_a_clip_drawn_for_another_size_is_drawn_again_not_reused(tmp_path: Path) -> None:
    script = make_script("vid-sizes", ("meadow", 0.4))
    [draft] = ProceduralClips(width=540, height=960).generate(script, tmp_path)

    [final] = ProceduralClips().generate(script, tmp_path)

    assert (final.width, final.height) == (probe(final.path).width, probe(final.path).height) == (1080, 1920)
    assert (draft.width, draft.height) == (540, 960)


def test_a_size_the_recipes_cannot_draw_is_refused_naming_it() -> None:
    with pytest.raises(ProviderError, match="541x960"):
        ProceduralClips(width=541, height=960)
