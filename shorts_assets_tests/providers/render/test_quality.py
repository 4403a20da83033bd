"""Specifies the blocking render checks: what `check_render` measures in a real MP4 and how the
partition's check reads the rendered paths from the database and blocks on any bad video."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from shorts_assets.db.store import Store
from shorts_assets.defs.checks import build_render_checks
from shorts_assets.defs.partitions import loop_partitions
from shorts_assets.defs.resources import DatabaseResource, MediaResource
from shorts_assets.providers.media import run_ffmpeg
from shorts_assets.providers.render.ffmpeg import FfmpegRenderer
from shorts_assets.providers.render.quality import check_render
from shorts_assets.storage.outputs import store_output
from shorts_assets_tests.helpers import script_json
from shorts_assets_tests.providers.render.test_ffmpeg import make_script, make_voiceover
from shorts_assets_tests.providers.render.test_inputs import make_video

pytestmark = pytest.mark.slow

DRAFT = {"width": 540, "height": 960}


@pytest.fixture(scope="module")
def good_short(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("good")
    clip = make_video(base / "clip.mp4", "640x360", seconds=3.0)
    voice = make_voiceover(base / "voice.wav", 3.0, ("Checks", "pass", "here."))
    out_path = base / "short.mp4"
    FfmpegRenderer(profile="draft").render([clip], voice, make_script("vid-good", "boxed", (3.0,)), out_path)
    return out_path


@pytest.fixture(scope="module")
def black_silent(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bad") / "black.mp4"
    run_ffmpeg(
        [
            "-f",
            "lavfi",
            "-i",
            "color=c=black:s=64x64:r=25:d=4",
            "-f",
            "lavfi",
            "-i",
            "anullsrc=r=44100:cl=mono",
            "-t",
            "4",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv444p",
            "-c:a",
            "aac",
            f"file:{path}",
        ],
        "making a black, silent video",
    )
    return path


def failed(results) -> set[str]:
    return {name for name, passed, _ in results if not passed}


def test_a_rendered_short_passes_every_check(good_short: Path) -> None:
    results = check_render(good_short, **DRAFT)

    assert failed(results) == set(), results
    assert {name for name, _, _ in results} >= {
        "duration",
        "resolution",
        "frame_rate",
        "codecs",
        "audio_present",
        "loudness",
        "true_peak",
        "no_black_stretch",
        "no_silent_stretch",
        "file_size",
        "decodes_fully",
    }


def test_limits_are_configurable(good_short: Path) -> None:
    results = check_render(good_short, max_duration_s=2.0, lufs_target=-23, **DRAFT)

    assert failed(results) == {"duration", "loudness"}
    detail = {n: d for n, _, d in results}
    assert "limit 2 s" in detail["duration"]


def test_a_black_silent_wrong_sized_video_fails_what_it_should(black_silent: Path) -> None:
    results = check_render(black_silent, max_black_s=1.0, max_silence_s=1.0)

    assert {"resolution", "frame_rate", "codecs", "loudness", "no_black_stretch", "no_silent_stretch"} <= failed(
        results
    )
    assert "duration" not in failed(results) and "audio_present" not in failed(results)


def test_a_short_cut_short_keeps_its_header_duration_but_fails_decodes_fully(good_short: Path, tmp_path: Path) -> None:
    cut = tmp_path / "short.mp4"
    whole = good_short.read_bytes()
    cut.write_bytes(whole[: len(whole) // 2])

    results = {name: (passed, detail) for name, passed, detail in check_render(cut, **DRAFT)}

    assert results["duration"][0] and results["readable"][0]  # the header still says it is whole
    passed, detail = results["decodes_fully"]
    assert not passed and "decoded of the" in detail
    assert check_render(good_short, **DRAFT)[-1] != ("decodes_fully", False, detail)


def test_an_unreadable_file_fails_readable(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video")

    [(name, passed, detail)] = check_render(junk)

    assert (name, passed) == ("readable", False)
    assert "junk.mp4" in detail


def test_the_partition_check_reads_the_batch_and_blocks_on_a_bad_video(
    tmp_path: Path, good_short: Path, black_silent: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'shorts.db'}"
    media = MediaResource(data_dir=str(tmp_path / "data"))
    day = date(2026, 11, 20)
    store = Store(url)
    for position, path in enumerate((good_short, black_silent), start=1):
        video_id = f"demo-20261120-{position:02d}"
        store.add_script(
            video_id=video_id,
            channel="demo",
            batch_date=day,
            position=position,
            strategy_version="v0",
            arms={},
            script=script_json(video_id, title="t"),
            writer="test",
        )
        kept = media.store().local_path(f"{video_id}/short.mp4")  # the render as the renders asset keeps it
        kept.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, kept)
        render = {"video_path": str(kept), "files": [str(kept)]}
        store.complete_stage(video_id, "render", store_output(render, media.store()))

    @dg.asset(name="renders", partitions_def=loop_partitions)
    def renders_stub() -> None:
        return None

    checks = build_render_checks("renders", width=540, height=960)
    assert [c.check_specs for c in checks][0] and all(spec.blocking for c in checks for spec in c.check_specs)
    result = dg.materialize(
        [renders_stub, *checks],
        partition_key=dg.MultiPartitionKey({"channel": "demo", "date": day.isoformat()}),
        resources={"database": DatabaseResource(url=url), "media": media},
        raise_on_error=False,
    )

    [evaluation] = result.get_asset_check_evaluations()
    assert evaluation.check_name == "render_quality"
    assert not evaluation.passed
    assert evaluation.metadata["videos_checked"].value == 2
    table = evaluation.metadata["failures"].value
    assert "demo-20261120-02" in table and "demo-20261120-01" not in table
