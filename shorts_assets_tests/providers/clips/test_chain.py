"""The provider chain (library, stock, stills, procedural): each scene served by the first provider that
can, in order, a no-match passing the scene on, a hard error failing the video at once, a scene no
provider can serve failing with every provider's reason, and providers that only make whole scripts
wrapped to make one scene each."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from shorts_assets.core.errors import ProviderError
from shorts_assets.core.state import MemoryStateStore
from shorts_assets.core.types import Scene, Script
from shorts_assets.fakes.openai_server import FakeOpenAI
from shorts_assets.fakes.pexels_server import FakePexels, make_mp4
from shorts_assets.fakes.server import FakeServer
from shorts_assets.providers.clips.chain import NoMatch, ProviderChain, WholeScript
from shorts_assets.providers.clips.library import MediaLibrary
from shorts_assets.providers.clips.procedural import ProceduralClips
from shorts_assets.providers.clips.stills import OpenAIStills
from shorts_assets.providers.clips.stock import PexelsClips
from shorts_assets.providers.media import probe
from shorts_assets.providers.net.http import RetryPolicy
from shorts_assets_tests.helpers import Sleeps

POLICY = RetryPolicy(attempts=2, base_delay_s=0.1, max_delay_s=5.0)


def script(*keywords: tuple[str, ...], visual: str = "cells") -> Script:
    scenes = tuple(Scene(f"A scene of {' '.join(k)}", 1.0, visual, k) for k in keywords)
    return Script("vid-1", "Three hearts", "Hook", "Narration", "#shorts", scenes, (), {})


@pytest.fixture(scope="module")
def mp4(tmp_path_factory) -> bytes:
    return make_mp4(tmp_path_factory.mktemp("chain") / "portrait.mp4", 108, 192, 1.0)


@pytest.fixture
def library(tmp_path, mp4):
    folder = tmp_path / "library"
    folder.mkdir()
    (folder / "octopus-reef.mp4").write_bytes(mp4)
    return MediaLibrary(folder)


def pexels(server, app, **kwargs) -> PexelsClips:
    kwargs.setdefault("api_key", app.api_key)
    return PexelsClips(
        base_url=server.url,
        channel="demo",
        state=MemoryStateStore(),
        clock=lambda: datetime(2026, 11, 27, tzinfo=timezone.utc),
        sleep=Sleeps(),
        retry=POLICY,
        min_short_side=100,
        **kwargs,
    )


def small_stub() -> ProceduralClips:
    return ProceduralClips(width=180, height=320, fps=10)


def test_each_scene_is_served_by_the_first_provider_that_can(tmp_path, library, mp4):
    app = FakePexels(video_bytes=mp4)
    with FakeServer(app) as server:
        with ProviderChain([library, pexels(server, app), small_stub()]) as chain:
            assert chain.name == "library,pexels,stub"
            clips = chain.generate(script(("octopus", "reef"), ("heart",), ("kangaroo",)), tmp_path / "out")
    assert [c.credit["provider"] for c in clips] == ["library", "pexels", "stub"]
    assert [c.path.name for c in clips] == ["scene_01.mp4", "scene_02.mp4", "scene_03.mp4"]
    assert clips[1].credit["clip_id"] == "2499613"  # octopus-heart is the first Pexels hit for "heart"
    assert (clips[2].width, clips[2].height) == (180, 320) and probe(clips[2].path).has_video
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["scene_01.mp4", "scene_02.mp4", "scene_03.mp4"]
    # Pexels was asked only for the scene the library could not serve, and the stub's one in vain.
    assert [r.query["query"] for n, r in app.requests if n == "search"] == ["heart", "kangaroo"]


def test_a_scene_no_provider_can_serve_fails_with_every_providers_reason(tmp_path, library, mp4):
    app = FakePexels(video_bytes=mp4)
    with FakeServer(app) as server, ProviderChain([library, pexels(server, app)]) as chain:
        with pytest.raises(ProviderError) as info:
            chain.generate(script(("octopus",), ("kangaroo",)), tmp_path)
    message = str(info.value)
    assert not isinstance(info.value, NoMatch)
    assert message.startswith("video vid-1, scene 2: no provider of library,pexels could serve it")
    assert "library: video vid-1, scene 2: no file of the media library" in message
    assert "pexels: video vid-1, scene 2: pexels found no video for the keywords kangaroo" in message


def test_a_library_file_used_by_one_scene_passes_the_next_scene_on(tmp_path, library):
    with ProviderChain([library, small_stub()]) as chain:
        clips = chain.generate(script(("octopus",), ("octopus",)), tmp_path)
    assert [c.credit["provider"] for c in clips] == ["library", "stub"]


def test_a_hard_error_fails_the_video_without_asking_the_next_provider(tmp_path, mp4):
    app = FakePexels(video_bytes=mp4)
    wrong = "pexels-revoked-key-4242424"
    with FakeServer(app) as server, ProviderChain([pexels(server, app, api_key=wrong), small_stub()]) as chain:
        with pytest.raises(ProviderError) as info:
            chain.generate(script(("octopus",)), tmp_path)
    assert "401" in str(info.value) and "could serve it" not in str(info.value) and wrong not in str(info.value)
    assert not list(tmp_path.glob("scene_*"))


def test_a_refused_still_falls_back_to_the_next_provider(tmp_path):
    app = FakeOpenAI()
    app.image_answers.append("moderation")
    with FakeServer(app) as server:
        images = OpenAIStills(api_key=app.api_key, base_url=f"{server.url}/v1", retry=POLICY, sleep=Sleeps())
        with ProviderChain([images, small_stub()]) as chain:
            clips = chain.generate(script(("octopus",), ("heart",)), tmp_path)
    assert [c.credit["provider"] for c in clips] == ["stub", "openai_images"]
    assert [c.path.name for c in clips] == ["scene_01.mp4", "scene_02.png"]


def test_a_whole_script_generator_makes_each_scene_on_its_own_seed(tmp_path):
    with WholeScript(small_stub()) as stub:
        first = stub.scene_clip(script(("a",), ("b",)), 1, tmp_path)
        second = stub.scene_clip(script(("a",), ("b",)), 2, tmp_path)
    assert (first.path.name, second.path.name) == ("scene_01.mp4", "scene_02.mp4")
    assert first.path.read_bytes() != second.path.read_bytes()  # the same visual, drawn from two seeds
    assert first.credit == {"provider": "stub"}


def test_closing_the_chain_closes_every_member(mp4):
    app = FakePexels(video_bytes=mp4)
    with FakeServer(app) as server:
        member = pexels(server, app)
        with ProviderChain([member, small_stub()]):
            pass
    assert member.http.client.is_closed
    with pytest.raises(ProviderError, match="at least one provider"):
        ProviderChain([])
