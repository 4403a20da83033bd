"""Typed values survive the JSON stored on each video's row, including rows written before a field existed."""

from shorts_assets.core.records import script_from_json, to_json
from shorts_assets.core.types import Scene, Script


def script() -> Script:
    return Script(
        video_id="demo-20261120-01", title="T", hook="H?", narration="H? N.", description="D",
        scenes=(Scene("a reef", 4.0, "waves", keywords=("coral", "reef")), Scene("a heart", 3.0, "cells")),
        tags=("ocean",), arms={"topic": "ocean"},
    )  # fmt: skip


def test_a_script_round_trips_through_its_stored_json():
    assert script_from_json(to_json(script())) == script()


def test_a_scene_stored_before_keywords_existed_reads_with_none():
    stored = to_json(script())
    for scene in stored["scenes"]:
        del scene["keywords"]
    assert [s.keywords for s in script_from_json(stored).scenes] == [(), ()]
