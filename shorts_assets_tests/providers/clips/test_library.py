"""The user's media library: files matched to scenes by the words of their names and their sidecar tags,
the best overlap winning with ties broken the same way every time, no file twice in one video, stills
returned as stills with the scene's length, the sidecar's author and licence in the credit, and a
library with nothing usable (empty, unreadable, malformed sidecars) a clear no-match naming the
folder and the files."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from shorts_assets.core.errors import ProviderError
from shorts_assets.core.records import clips_from_json, to_json
from shorts_assets.core.types import Scene, Script
from shorts_assets.providers.clips.chain import NoMatch
from shorts_assets.providers.clips.library import MediaLibrary
from shorts_assets.providers.media import probe, run_ffmpeg


def script(*keywords: tuple[str, ...], video_id: str = "vid-1") -> Script:
    scenes = tuple(Scene(prompt="A shot", duration_s=4.0, visual="waves", keywords=k) for k in keywords)
    return Script(video_id, "Three hearts", "Hook", "Narration", "#shorts", scenes, (), {})


def make_video(path: Path) -> Path:
    run_ffmpeg(
        ["-f", "lavfi", "-i", "testsrc2=size=108x192:rate=10", "-t", "1", "-pix_fmt", "yuv420p", "-c:v", "libx264"]
        + ["-preset", "ultrafast", f"file:{path}"],
        "making a library clip",
    )
    return path


def make_image(path: Path) -> Path:
    run_ffmpeg(["-f", "lavfi", "-i", "color=c=teal:s=120x180", "-frames:v", "1", f"file:{path}"], "making a still")
    return path


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> tuple[bytes, bytes]:
    folder = tmp_path_factory.mktemp("library-media")
    return make_video(folder / "v.mp4").read_bytes(), make_image(folder / "i.png").read_bytes()


@pytest.fixture
def library(tmp_path, media) -> Path:
    video, image = media
    folder = tmp_path / "library"
    (folder / "sea").mkdir(parents=True)
    (folder / "sea" / "octopus_coral-reef.mp4").write_bytes(video)
    (folder / "octopus-swimming.mp4").write_bytes(video)
    (folder / "IMG_0042.png").write_bytes(image)
    (folder / "IMG_0042.png.json").write_text(
        json.dumps({"tags": ["octopus", "heart"], "author": "Sam Diver", "licence": "CC BY 4.0"})
    )
    (folder / "notes.txt").write_text("octopus heart coral reef")
    (folder / ".octopus-heart.mp4").write_bytes(video)  # hidden: not part of the library
    return folder


def test_each_scene_gets_the_file_whose_tags_overlap_its_keywords_most(library, tmp_path):
    clips = MediaLibrary(library).generate(script(("octopus", "coral reef"), ("octopus", "heart")), tmp_path / "out")
    first, second = clips
    assert first.credit["clip_id"] == "sea/octopus_coral-reef.mp4" and first.path.name == "scene_01.mp4"
    assert second.credit["clip_id"] == "IMG_0042.png"  # its sidecar tags it octopus and heart
    assert second.path.name == "scene_02.png" and second.duration_s == 4.0  # a still lasts its scene
    assert (second.width, second.height) == (120, 180) and probe(second.path).has_video
    assert second.credit["author"] == "Sam Diver" and second.credit["licence"] == "CC BY 4.0"
    assert first.credit["author"] == "" and first.credit["licence"] == "the channel's own media"
    assert first.credit["source_url"].startswith("file://") and first.credit["provider"] == "library"
    assert clips_from_json({"clips": to_json(clips)}) == clips
    assert not list((tmp_path / "out").glob("*.partial*"))


def test_a_file_is_used_once_per_video_and_ties_go_to_video_then_path_order(library, tmp_path):
    clips = MediaLibrary(library).generate(script(("octopus",), ("octopus",), ("octopus",)), tmp_path / "out")
    # All three share one word; videos before the still, then by path.
    assert [c.credit["clip_id"] for c in clips] == [
        "octopus-swimming.mp4",
        "sea/octopus_coral-reef.mp4",
        "IMG_0042.png",
    ]
    again = MediaLibrary(library).generate(script(("octopus",), ("octopus",), ("octopus",)), tmp_path / "again")
    assert [c.credit for c in again] == [c.credit for c in clips]
    with pytest.raises(NoMatch, match=r"is tagged with any of octopus \(3 used by earlier scenes\)"):
        MediaLibrary(library).generate(script(*[("octopus",)] * 4), tmp_path / "four")


def test_a_scene_matching_nothing_is_a_no_match_naming_the_folder_and_keywords(library, tmp_path):
    with pytest.raises(NoMatch) as info:
        MediaLibrary(library).generate(script(("kangaroo", "desert")), tmp_path / "out")
    assert str(library) in str(info.value) and "kangaroo, desert" in str(info.value)
    assert not (tmp_path / "out" / "scene_01.mp4").exists()


def test_an_unreadable_file_is_passed_over_with_a_warning_and_named_when_nothing_else_matches(
    library, tmp_path, caplog
):
    (library / "kangaroo-desert.mp4").write_bytes(b"not a video at all" * 100)
    (library / "kangaroo.png").write_bytes(b"\x89PNG broken")
    caplog.set_level(logging.WARNING)
    with pytest.raises(NoMatch) as info:
        MediaLibrary(library).generate(script(("kangaroo", "desert")), tmp_path / "out")
    message = str(info.value)
    assert "is unreadable" in message and "kangaroo-desert.mp4" in message and "kangaroo.png" in message
    assert "kangaroo-desert.mp4" in caplog.text
    (library / "desert_kangaroo_2.mp4").write_bytes((library / "octopus-swimming.mp4").read_bytes())
    clips = MediaLibrary(library).generate(script(("kangaroo", "desert")), tmp_path / "out")
    assert clips[0].credit["clip_id"] == "desert_kangaroo_2.mp4"  # the readable match, not the broken best


def test_an_empty_library_is_a_no_match_and_a_missing_one_is_a_hard_error(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.txt").write_text("nothing here")
    with pytest.raises(NoMatch, match="holds no usable clip or image"):
        MediaLibrary(empty).generate(script(("octopus",)), tmp_path / "out")
    with pytest.raises(ProviderError, match="is not a folder") as info:
        MediaLibrary(tmp_path / "missing").generate(script(("octopus",)), tmp_path / "out")
    assert not isinstance(info.value, NoMatch) and str(tmp_path / "missing") in str(info.value)
    with pytest.raises(ProviderError, match="needs the folder"):
        MediaLibrary("")


def test_a_malformed_sidecar_leaves_its_file_out_and_says_why(tmp_path, media):
    folder = tmp_path / "library"
    folder.mkdir()
    (folder / "octopus.mp4").write_bytes(media[0])
    (folder / "octopus.mp4.json").write_text('{"tags": "octopus"}')
    with pytest.raises(NoMatch) as info:
        MediaLibrary(folder).generate(script(("octopus",)), tmp_path / "out")
    assert "octopus.mp4.json has tags that are not a list of strings" in str(info.value)
    (folder / "octopus.mp4.json").write_text("{not json")
    with pytest.raises(NoMatch, match="octopus.mp4.json is not readable JSON"):
        MediaLibrary(folder).generate(script(("octopus",)), tmp_path / "out")


def test_a_scene_without_keywords_is_matched_by_its_prompt(library, tmp_path):
    bare = Script("vid-2", "t", "h", "n", "d", (Scene("An octopus swimming slowly", 3.0, "waves"),), (), {})
    clips = MediaLibrary(library).generate(bare, tmp_path / "out")
    assert clips[0].credit["clip_id"] == "octopus-swimming.mp4"
