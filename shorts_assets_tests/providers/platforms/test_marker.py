"""The marker of a video in a post's text: stable per video id, distinct between videos, found only
as a whole word."""

import pytest

from shorts_assets.providers.platforms.marker import MARKER_CHARS, carries_marker, marker, with_marker


def test_a_marker_is_stable_per_video_and_distinct_between_videos():
    assert marker("demo-20261121-01") == marker("demo-20261121-01")
    assert marker("demo-20261121-01") != marker("demo-20261121-02")
    assert len(marker("demo-20261121-01")) == MARKER_CHARS
    assert marker("demo-20261121-01").startswith("sv-")


def test_the_marker_goes_on_its_own_last_line():
    assert with_marker("Three hearts.\n", "v") == f"Three hearts.\n\n{marker('v')}"
    assert with_marker("", "v") == marker("v")


def test_a_text_carries_a_marker_only_as_a_whole_word():
    own = marker("v")
    assert carries_marker(f"a post\n\n{own}", "v")
    assert not carries_marker(f"a post\n\n{own}0", "v")
    assert not carries_marker(f"a post x{own}", "v")
    assert not carries_marker(f"a post\n\n{marker('w')}", "v")
    assert not carries_marker(None, "v")


def test_a_marker_needs_a_video_id():
    with pytest.raises(ValueError, match="video id"):
        marker("")
