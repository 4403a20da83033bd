"""What one video is estimated to cost before a batch spends anything, by paid stage."""

import pytest

from shorts_assets.providers.estimate import estimate_video
from shorts_assets.providers.net.costs import PriceTable


def test_offline_providers_cost_nothing():
    estimate = estimate_video(PriceTable(), script_provider="template", video_provider="stub")
    assert estimate.total_usd == 0 and estimate.describe() == "nothing"


def test_every_paid_stage_is_in_the_estimate_and_the_total_is_their_sum():
    prices = PriceTable()
    estimate = estimate_video(
        prices,
        script_provider="anthropic",
        video_provider="runway",
        tts_provider="elevenlabs",
        renderer_provider="cloud",
    )
    assert set(estimate.parts) == {"script", "clips", "voice", "render"}
    assert all(usd > 0 for usd in estimate.parts.values())
    assert estimate.total_usd == pytest.approx(sum(estimate.parts.values()))
    assert estimate.parts["render"] == pytest.approx(prices.seconds_usd("creatomate", 30.0))


def test_every_candidate_script_is_paid_for_and_only_the_script_part_grows():
    prices = PriceTable()
    paid = {"script_provider": "openai", "video_provider": "runway", "tts_provider": "openai"}
    one = estimate_video(prices, **paid)
    three = estimate_video(prices, **paid, script_candidates=3)
    assert three.parts["script"] == pytest.approx(3 * one.parts["script"])
    assert {k: v for k, v in three.parts.items() if k != "script"} == {
        k: v for k, v in one.parts.items() if k != "script"
    }
    assert three.total_usd == pytest.approx(one.total_usd + 2 * one.parts["script"])
    free = estimate_video(prices, script_provider="template", video_provider="stub", script_candidates=3)
    assert free.total_usd == 0


def test_stock_footage_and_the_library_are_free_and_a_chain_is_estimated_at_its_dearest_member():
    prices = PriceTable()
    assert estimate_video(prices, script_provider="template", video_provider="library,pexels,stub").total_usd == 0
    stills = estimate_video(prices, script_provider="template", video_provider="openai_images")
    chain = estimate_video(prices, script_provider="template", video_provider="library,openai_images,stub")
    assert stills.parts["clips"] > 0 and chain.parts["clips"] == pytest.approx(stills.parts["clips"])
    runway = estimate_video(prices, script_provider="template", video_provider="runway")
    mixed = estimate_video(prices, script_provider="template", video_provider="runway,openai_images")
    assert mixed.parts["clips"] == pytest.approx(max(runway.parts["clips"], stills.parts["clips"]))
