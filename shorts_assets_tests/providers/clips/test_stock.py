"""Stock footage from Pexels and Pixabay, against fakes on real sockets: the search by keywords, the
portrait HD rendition chosen, whole downloads only, the credit kept on the clip and read back from its
row, no clip used twice by a channel within its window, rate limits kept to without hammering, empty
searches as a clear no-match and keys kept out of errors and logs."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import pytest

from shorts_assets.core.errors import ProviderError
from shorts_assets.core.records import clips_from_json, to_json
from shorts_assets.core.state import MemoryStateStore
from shorts_assets.core.types import Scene, Script
from shorts_assets.db.state_store import DatabaseStateStore
from shorts_assets.db.store import Store
from shorts_assets.fakes.pexels_server import FakePexels, make_mp4
from shorts_assets.fakes.pixabay_server import FakePixabay
from shorts_assets.fakes.server import FakeServer, Fault
from shorts_assets.providers.clips.chain import NoMatch
from shorts_assets.providers.clips.stock import (
    PexelsClips,
    PixabayClips,
    RateLimited,
    Rendition,
    best_rendition,
    credit_line,
)
from shorts_assets.providers.media import probe
from shorts_assets.providers.net.http import RetryPolicy

POLICY = RetryPolicy(attempts=3, base_delay_s=0.5, max_delay_s=30.0)


class Clock:
    """A settable UTC clock whose sleep moves it on (and records the waits)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 27, 9, 0, tzinfo=timezone.utc)
        self.sleeps: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += timedelta(seconds=seconds)


def script(video_id: str, *keywords: tuple[str, ...]) -> Script:
    scenes = tuple(
        Scene(prompt=f"Scene about {' and '.join(k)}", duration_s=3.0, visual="waves", keywords=k) for k in keywords
    )
    return Script(video_id, "Three hearts", "Did you know?", "Did you know?", "#shorts", scenes, ("octopus",), {})


OCTOPUS = script("vid-1", ("octopus", "coral reef"), ("octopus", "heart"))


@pytest.fixture(scope="module")
def mp4(tmp_path_factory) -> bytes:
    return make_mp4(tmp_path_factory.mktemp("stock") / "portrait.mp4")


def pexels(server, app, state, clock, **kwargs) -> PexelsClips:
    kwargs.setdefault("api_key", app.api_key)
    kwargs.setdefault("channel", "demo")
    return PexelsClips(base_url=server.url, state=state, clock=clock, sleep=clock.sleep, retry=POLICY, **kwargs)


def pixabay(server, app, state, clock, **kwargs) -> PixabayClips:
    kwargs.setdefault("api_key", app.api_key)
    return PixabayClips(
        base_url=f"{server.url}/api",
        channel="demo",
        state=state,
        clock=clock,
        sleep=clock.sleep,
        retry=POLICY,
        **kwargs,
    )


def requests(app, route: str):
    return [r for name, r in app.requests if name == route]


# --- choosing a rendition ---------------------------------------------------------------------------


def test_the_best_rendition_is_portrait_then_the_smallest_that_reaches_1080_else_the_largest():
    landscape_4k = Rendition("l4k", 3840, 2160)
    portrait_hd = Rendition("phd", 1080, 1920)
    portrait_4k = Rendition("p4k", 2160, 3840)
    portrait_sd = Rendition("psd", 540, 960)
    assert best_rendition([landscape_4k, portrait_4k, portrait_sd, portrait_hd]) == portrait_hd
    assert best_rendition([landscape_4k, portrait_sd, Rendition("p720", 720, 1280)]).url == "p720"
    assert best_rendition([landscape_4k, Rendition("l1080", 1920, 1080)]).url == "l1080"
    assert best_rendition([Rendition("", 1080, 1920), Rendition("hls", 0, 0)]) is None


# --- Pexels -----------------------------------------------------------------------------------------


def test_pexels_serves_each_scene_a_portrait_hd_clip_found_by_its_keywords_with_its_credit(tmp_path, mp4):
    app = FakePexels(video_bytes=mp4)
    with FakeServer(app) as server, pexels(server, app, MemoryStateStore(), Clock()) as adapter:
        clips = adapter.generate(OCTOPUS, tmp_path)
    assert [c.path.name for c in clips] == ["scene_01.mp4", "scene_02.mp4"]
    assert all((c.width, c.height) == (1080, 1920) and probe(c.path).has_video for c in clips)
    searches = requests(app, "search")
    assert searches[0].query["query"] == "octopus coral reef" and searches[0].query["orientation"] == "portrait"
    assert all(r.headers["authorization"] == app.api_key for r in searches)  # the raw key, no Bearer
    files = requests(app, "file")
    assert [r.path.rsplit("/", 1)[1] for r in files] == ["hd.mp4", "hd.mp4"]
    assert not any("authorization" in r.headers for r in files)  # the key never goes to the file host
    first, second = (c.credit for c in clips)
    assert first["provider"] == "pexels" and first["clip_id"] == "2499611" and first["author"] == "Joey Farina"
    assert first["source_url"] == "https://www.pexels.com/video/2499611/" and "Pexels License" in first["licence"]
    assert second["clip_id"] != first["clip_id"]  # not the same clip twice in one video
    assert "Video by Joey Farina on Pexels (https://www.pexels.com/video/2499611/)" in credit_line(clips)
    assert not list(tmp_path.glob("*.partial*"))


def test_the_credit_survives_the_row_the_clips_stage_stores(tmp_path, mp4):
    app = FakePexels(video_bytes=mp4)
    with FakeServer(app) as server, pexels(server, app, MemoryStateStore(), Clock()) as adapter:
        clips = adapter.generate(OCTOPUS, tmp_path)
    row = {"clips": to_json(clips)}
    assert row["clips"][0]["credit"]["author"] == "Joey Farina"
    assert clips_from_json(row) == clips
    assert clips_from_json({"clips": [{**row["clips"][0], "credit": None}]})[0].credit == {}


def test_a_channel_never_reuses_a_clip_within_its_window_but_a_retried_video_keeps_its_own(tmp_path, mp4):
    app = FakePexels(video_bytes=mp4)
    state, clock = MemoryStateStore(), Clock()
    with FakeServer(app) as server:
        with pexels(server, app, state, clock, window_days=30) as adapter:
            first = adapter.generate(OCTOPUS, tmp_path / "a")
            searches = app.calls["search"]
            again = adapter.generate(OCTOPUS, tmp_path / "a")
            assert [c.credit for c in again] == [c.credit for c in first]
            assert app.calls["search"] == searches and app.calls["file"] == 2  # resumed: nothing asked again
            clock.now += timedelta(days=1)
            second = adapter.generate(script("vid-2", ("octopus", "coral reef"), ("octopus", "heart")), tmp_path / "b")
        used = {c.credit["clip_id"] for c in first}
        assert not used & {c.credit["clip_id"] for c in second}
        # A third video on the same day finds only used octopus clips for its one scene.
        with pexels(server, app, state, clock) as adapter, pytest.raises(NoMatch) as info:
            adapter.generate(script("vid-3", ("octopus",)), tmp_path / "c")
        assert "used by channel 'demo' in the last 30 days" in str(info.value)
        assert not (tmp_path / "c" / "scene_01.mp4").exists()
        # Past the window, the first video's clips may be used again.
        clock.now += timedelta(days=30)
        with pexels(server, app, state, clock) as adapter:
            reused = adapter.generate(script("vid-4", ("octopus",)), tmp_path / "d")
        assert reused[0].credit["clip_id"] in used


def test_another_channel_may_use_a_clip_this_channel_used(tmp_path, mp4):
    app = FakePexels(video_bytes=mp4)
    state, clock = MemoryStateStore(), Clock()
    with FakeServer(app) as server:
        with pexels(server, app, state, clock) as demo:
            mine = demo.generate(script("vid-1", ("octopus",)), tmp_path / "demo")
        with pexels(server, app, state, clock, channel="cooking") as cooking:
            theirs = cooking.generate(script("vid-2", ("octopus",)), tmp_path / "cooking")
    assert mine[0].credit["clip_id"] == theirs[0].credit["clip_id"] == "2499611"


def test_the_next_page_is_read_when_the_first_holds_only_used_clips_and_no_page_past_the_last(tmp_path, mp4):
    app = FakePexels(video_bytes=mp4)
    state, clock = MemoryStateStore(), Clock()
    with FakeServer(app) as server, pexels(server, app, state, clock, per_page=1, max_pages=5) as adapter:
        first = adapter.generate(script("vid-1", ("heart",)), tmp_path / "a")
        second = adapter.generate(script("vid-2", ("heart",)), tmp_path / "b")
        with pytest.raises(NoMatch, match="none of the 2 videos pexels found for the keywords heart"):
            adapter.generate(script("vid-3", ("heart",)), tmp_path / "c")
    assert (first[0].credit["clip_id"], second[0].credit["clip_id"]) == ("2499613", "2499615")
    # Two portrait videos are tagged heart: page 2 has no next_page, so no third page is asked for,
    # and pages already read come from the cache.
    assert [r.query["page"] for r in requests(app, "search")] == ["1", "2"]
    with pytest.raises(ValueError, match="per_page must be 1 to 80"):
        PexelsClips(api_key="k" * 8, channel="demo", state=state, per_page=81)
    with pytest.raises(ValueError, match="per_page must be 3 to 200"):
        PixabayClips(api_key="k" * 8, channel="demo", state=state, per_page=2)


def test_the_clips_a_channel_used_are_remembered_in_the_database_across_runs(tmp_path, mp4, database_url):
    app = FakePexels(video_bytes=mp4)
    clock = Clock()
    with FakeServer(app) as server:
        used = []
        for video_id in ("vid-1", "vid-2", "vid-3"):
            store = Store(database_url)  # each run opens the database afresh
            with pexels(server, app, DatabaseStateStore(store), clock) as adapter:
                used += adapter.generate(script(video_id, ("octopus",)), tmp_path / video_id)
            store.engine.dispose()
        store = Store(database_url)
        with pexels(server, app, DatabaseStateStore(store), clock) as adapter, pytest.raises(NoMatch):
            adapter.generate(script("vid-4", ("octopus",)), tmp_path / "vid-4")  # three octopus clips, all used
        store.engine.dispose()
    assert sorted(c.credit["clip_id"] for c in used) == ["2499611", "2499612", "2499613"]
    assert app.calls["search"] == 1  # the search answer itself was kept for the day


def test_a_long_list_of_keywords_is_searched_and_cached_under_a_short_key(tmp_path, mp4, database_url):
    app = FakePexels(video_bytes=mp4)
    keywords = ("octopus", *(f"very-long-keyword-number-{n}" for n in range(12)))
    store = Store(database_url)
    with FakeServer(app) as server, pexels(server, app, DatabaseStateStore(store), Clock()) as adapter:
        clips = adapter.generate(script("vid-1", keywords), tmp_path)
    store.engine.dispose()
    assert clips[0].credit["clip_id"] == "2499611"
    assert len(requests(app, "search")[0].query["query"]) > 200


def test_an_empty_search_is_a_no_match_naming_the_keywords_and_writes_nothing(tmp_path, mp4):
    app = FakePexels(video_bytes=mp4)
    app.empty = 10
    with FakeServer(app) as server, pexels(server, app, MemoryStateStore(), Clock()) as adapter:
        with pytest.raises(NoMatch, match="pexels found no video for the keywords octopus, coral reef"):
            adapter.generate(OCTOPUS, tmp_path)
    assert not list(tmp_path.iterdir())


def test_a_scene_without_keywords_is_searched_by_the_words_of_its_prompt(tmp_path, mp4):
    app = FakePexels(video_bytes=mp4)
    bare = Script("vid-9", "t", "h", "n", "d", (Scene("A slow shot of an octopus on a reef", 3.0, "waves"),), (), {})
    with FakeServer(app) as server, pexels(server, app, MemoryStateStore(), Clock()) as adapter:
        clips = adapter.generate(bare, tmp_path)
    assert requests(app, "search")[0].query["query"] == "octopus reef"
    assert clips[0].credit["clip_id"] == "2499611"


def test_a_rejected_key_is_a_hard_error_that_never_shows_the_key(tmp_path, mp4):
    app = FakePexels(video_bytes=mp4)
    wrong = "pexels-wrong-key-987654321"
    with FakeServer(app) as server, pexels(server, app, MemoryStateStore(), Clock(), api_key=wrong) as adapter:
        with pytest.raises(ProviderError) as info:
            adapter.generate(OCTOPUS, tmp_path)
    assert not isinstance(info.value, NoMatch)
    assert "401" in str(info.value) and wrong not in str(info.value) and "[redacted]" in str(info.value)


def test_a_spent_pexels_allowance_refuses_before_sending_until_it_resets(tmp_path, mp4):
    app = FakePexels(video_bytes=mp4, monthly_limit=1)
    state, clock = MemoryStateStore(), Clock()
    with FakeServer(app) as server, pexels(server, app, state, clock) as adapter:
        with pytest.raises(RateLimited) as info:
            adapter.generate(OCTOPUS, tmp_path)
    assert app.calls["search"] == 1  # the answer said 0 remaining: the second scene never asked
    assert "2027-01-15" in str(info.value) and "allowance of 1 requests" in str(info.value)
    assert isinstance(info.value, NoMatch)  # a chain may serve the scene elsewhere
    assert (tmp_path / "scene_01.mp4").is_file() and not (tmp_path / "scene_02.mp4").exists()


def test_a_pexels_429_stops_every_request_for_an_hour_even_from_a_new_adapter(tmp_path, mp4):
    app = FakePexels(video_bytes=mp4)
    app.inject("search", Fault.answer(429, "Too Many Requests"))
    state, clock = MemoryStateStore(), Clock()
    with FakeServer(app) as server:
        with pexels(server, app, state, clock) as adapter, pytest.raises(RateLimited, match="429"):
            adapter.generate(OCTOPUS, tmp_path)
        with pexels(server, app, state, clock) as adapter, pytest.raises(RateLimited, match="10:00:00 UTC"):
            adapter.generate(OCTOPUS, tmp_path)
        assert app.calls["search"] == 1 and clock.sleeps == []
        clock.now += timedelta(hours=1)
        with pexels(server, app, state, clock) as adapter:
            assert len(adapter.generate(OCTOPUS, tmp_path)) == 2


def test_a_download_that_is_not_a_whole_video_fails_and_leaves_no_clip(tmp_path, mp4):
    app = FakePexels(video_bytes=mp4)
    app.inject("file", Fault.answer(200, mp4[: len(mp4) // 3], {"Content-Type": "video/mp4"}))
    with FakeServer(app) as server, pexels(server, app, MemoryStateStore(), Clock()) as adapter:
        with pytest.raises(ProviderError, match="not a whole video") as info:
            adapter.generate(OCTOPUS, tmp_path)
    assert not isinstance(info.value, NoMatch)
    assert not list(tmp_path.iterdir())


def test_a_download_cut_off_mid_way_is_fetched_again_whole(tmp_path, mp4):
    app = FakePexels(video_bytes=mp4)
    app.inject("file", Fault.drop_after())
    with FakeServer(app) as server, pexels(server, app, MemoryStateStore(), Clock()) as adapter:
        clips = adapter.generate(script("vid-1", ("octopus",)), tmp_path)
    assert app.calls["file"] == 2 and clips[0].path.read_bytes() == mp4
    assert [p.name for p in tmp_path.iterdir()] == ["scene_01.mp4"]


# --- Pixabay ----------------------------------------------------------------------------------------


def test_pixabay_prefers_a_portrait_hit_and_its_full_hd_rendition_with_the_key_as_a_parameter(tmp_path, mp4, caplog):
    app = FakePixabay(video_bytes=mp4)
    caplog.set_level(logging.INFO, logger="httpx")
    with FakeServer(app) as server, pixabay(server, app, MemoryStateStore(), Clock()) as adapter:
        clips = adapter.generate(OCTOPUS, tmp_path)
    search = requests(app, "search")[0]
    assert search.query["key"] == app.api_key and search.query["q"] == "octopus coral reef"
    assert search.query["per_page"] == "20" and "authorization" not in search.headers
    assert clips[0].credit["clip_id"] == "126"  # hit 125 comes first but is landscape only
    assert requests(app, "file")[0].path.endswith("126_medium.mp4")  # large is empty, medium is 1080x1920
    assert clips[0].credit["author_url"] == "https://pixabay.com/users/Beachfront-1281706/"
    assert clips[0].credit["source_url"] == "https://pixabay.com/videos/id-126/"
    assert "key=" in caplog.text and app.api_key not in caplog.text  # httpx logged the URL, key redacted


def test_pixabay_searches_are_cached_for_a_day(tmp_path, mp4):
    app = FakePixabay(video_bytes=mp4)
    state, clock = MemoryStateStore(), Clock()
    with FakeServer(app) as server, pixabay(server, app, state, clock) as adapter:
        adapter.generate(script("vid-1", ("octopus",)), tmp_path / "a")
        adapter.generate(script("vid-2", ("octopus",)), tmp_path / "b")
        assert app.calls["search"] == 1
        clock.now += timedelta(hours=25)
        adapter.generate(script("vid-3", ("octopus",)), tmp_path / "c")
        assert app.calls["search"] == 2


def test_pixabay_waits_out_its_rate_window_when_the_headers_say_it_is_spent(tmp_path, mp4):
    clock = Clock()
    app = FakePixabay(video_bytes=mp4, limit=1, window_s=60.0, clock=lambda: clock.now.timestamp())
    with FakeServer(app) as server, pixabay(server, app, MemoryStateStore(), clock) as adapter:
        clips = adapter.generate(OCTOPUS, tmp_path)
    assert len(clips) == 2 and clock.sleeps == [60.0]
    assert app.calls["search"] == 2  # never a request the fake had to refuse


def test_pixabay_429_is_waited_out_as_its_reset_header_says_or_fails_clearly(tmp_path, mp4):
    app = FakePixabay(video_bytes=mp4)
    limited = Fault.answer(429, "API rate limit exceeded", {"X-RateLimit-Reset": "7", "X-RateLimit-Remaining": "0"})
    app.inject("search", limited)
    clock = Clock()
    with FakeServer(app) as server:
        with pixabay(server, app, MemoryStateStore(), clock) as adapter:
            assert len(adapter.generate(script("vid-1", ("octopus",)), tmp_path / "a")) == 1
        assert clock.sleeps == [7.0]
        app.inject("search", Fault.answer(429, "API rate limit exceeded", {"X-RateLimit-Reset": "3600"}))
        with pixabay(server, app, MemoryStateStore(), clock) as adapter, pytest.raises(RateLimited) as info:
            adapter.generate(script("vid-2", ("octopus",)), tmp_path / "b")
    assert "API rate limit exceeded" in str(info.value) and clock.sleeps == [7.0]


def test_a_rejected_pixabay_key_is_a_hard_error_that_never_shows_the_key(tmp_path, mp4):
    app = FakePixabay(video_bytes=mp4)
    wrong = "99999999-wrongpixabaykey"
    with FakeServer(app) as server, pixabay(server, app, MemoryStateStore(), Clock(), api_key=wrong) as adapter:
        with pytest.raises(ProviderError) as info:
            adapter.generate(OCTOPUS, tmp_path)
    message = str(info.value)
    assert not isinstance(info.value, NoMatch) and "Invalid or missing API key" in message
    assert wrong not in message and "[redacted]" in message


def test_an_empty_pixabay_search_is_a_no_match_naming_the_keywords(tmp_path, mp4):
    app = FakePixabay(video_bytes=mp4)
    with FakeServer(app) as server, pixabay(server, app, MemoryStateStore(), Clock()) as adapter:
        with pytest.raises(NoMatch, match="pixabay found no video for the keywords kangaroo"):
            adapter.generate(script("vid-1", ("kangaroo",)), tmp_path)
