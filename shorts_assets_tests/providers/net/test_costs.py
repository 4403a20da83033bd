"""The price table and the per-channel daily budget: recorded per channel and day, refused before the
call when it would pass the limit, never overspent under concurrency."""

from __future__ import annotations

import threading
from datetime import datetime, timezone

import pytest

from shorts_assets.core.errors import BudgetExhausted
from shorts_assets.core.state import MemoryStateStore
from shorts_assets.providers.net.costs import Budget, BudgetExceeded, PriceTable


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 27, 23, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


def test_prices_per_token_and_per_second_with_overrides_and_a_high_fallback():
    table = PriceTable()
    assert table.tokens_usd("gpt-4.1-mini", 1_000_000, 1_000_000) == pytest.approx(2.0)
    assert table.seconds_usd("sora-2", 8) == pytest.approx(0.8)
    assert table.seconds_usd("mystery-model", 1) == table.fallback_second_price
    custom = PriceTable.from_json('{"tokens": {"gpt-4.1-mini": [1, 2]}, "seconds": {"ray-2": 0.5}}')
    assert custom.tokens_usd("gpt-4.1-mini", 1_000_000, 0) == 1.0
    assert custom.seconds_usd("ray-2", 2) == 1.0
    assert custom.seconds_usd("sora-2", 1) == 0.10
    with pytest.raises(ValueError, match="not valid JSON"):
        PriceTable.from_json("{")
    with pytest.raises(ValueError, match=r"tokens\.x"):
        PriceTable.from_json('{"tokens": {"x": 3}}')
    with pytest.raises(ValueError, match="negative"):
        PriceTable.from_json('{"seconds": {"x": -1}}')


def test_charges_are_recorded_per_channel_and_day_and_refused_past_the_limit():
    state, clock = MemoryStateStore(), Clock()
    demo = Budget(state, "demo", daily_limit_usd=1.0, clock=clock)
    other = demo.for_channel("other")
    demo.charge("clip 1", 0.6)
    other.charge("clip 1", 0.9)
    with pytest.raises(BudgetExceeded) as info:
        demo.charge("video vid-1, scene 2: runway submission", 0.5)
    message = str(info.value)
    assert "refused before calling" in message and "'demo'" in message and "$0.6000" in message
    assert "$1.00 daily limit" in message and "2026-11-27" in message and "vid-1" in message
    assert isinstance(info.value, BudgetExhausted)
    assert demo.spent_usd() == pytest.approx(0.6) and other.spent_usd() == pytest.approx(0.9)
    demo.charge("clip 2", 0.4)  # exactly up to the limit is allowed
    assert len(state.namespace(Budget.LEDGER)) == 3
    clock.now = clock.now.replace(day=28)
    demo.charge("next day", 0.9)
    assert demo.spent_usd() == pytest.approx(0.9)


def test_no_limit_still_records_and_negative_costs_are_rejected():
    budget = Budget(MemoryStateStore(), "demo", daily_limit_usd=None)
    budget.charge_seconds("clip", "sora-2", 12)
    assert budget.spent_usd() == pytest.approx(1.2)
    with pytest.raises(ValueError):
        budget.charge("refund", -1)
    with pytest.raises(ValueError):
        Budget(MemoryStateStore(), "demo", daily_limit_usd=-1)


def test_concurrent_charges_never_pass_the_limit():
    budget = Budget(MemoryStateStore(), "demo", daily_limit_usd=1.0)
    accepted: list[float] = []
    lock = threading.Lock()

    def spend() -> None:
        for _ in range(20):
            try:
                budget.charge("call", 0.03)
            except BudgetExceeded:
                continue
            with lock:
                accepted.append(0.03)

    threads = [threading.Thread(target=spend) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(accepted) <= 1.0 + 1e-9
    assert budget.spent_usd() == pytest.approx(sum(accepted))
    assert 30 <= len(accepted) <= 33


def test_speech_is_priced_per_character_with_overrides_and_a_high_fallback():
    table = PriceTable()
    assert table.characters_usd("tts-1", 1_000_000) == pytest.approx(15.0)
    assert table.characters_usd("eleven_multilingual_v2", 1_000) == pytest.approx(0.10)
    assert table.characters_usd("eleven_flash_v2_5", 1_000) < table.characters_usd("eleven_multilingual_v2", 1_000)
    known = max(table.character_prices.values())
    assert table.characters_usd("mystery-voice", 1_000_000) == table.fallback_character_price > known
    custom = PriceTable.from_json('{"characters": {"tts-1": 20, "my-voice": 1.5}, "seconds": {"ray-2": 0.5}}')
    assert custom.characters_usd("tts-1", 500_000) == pytest.approx(10.0)
    assert custom.characters_usd("my-voice", 1_000_000) == pytest.approx(1.5)
    assert custom.characters_usd("tts-1-hd", 1_000_000) == pytest.approx(30.0)
    assert custom.seconds_usd("ray-2", 2) == 1.0
    with pytest.raises(ValueError, match=r"characters\.x"):
        PriceTable.from_json('{"characters": {"x": "cheap"}}')
    with pytest.raises(ValueError, match="negative"):
        PriceTable.from_json('{"characters": {"x": -1}}')


def test_a_cloud_render_is_priced_per_rendered_second():
    assert PriceTable().seconds_usd("creatomate", 30) == pytest.approx(0.6)


def test_character_charges_count_against_the_same_daily_limit():
    budget = Budget(MemoryStateStore(), "demo", daily_limit_usd=0.05, clock=Clock())
    charge = budget.charge_characters("voiceover vid-1: openai tts-1 speech", "tts-1", 2_000)
    assert charge.usd == pytest.approx(0.03)
    with pytest.raises(BudgetExceeded, match="vid-2"):
        budget.charge_characters("voiceover vid-2: openai tts-1 speech", "tts-1", 2_000)
    assert budget.spent_usd() == pytest.approx(0.03)


def test_images_are_priced_per_image_by_model_quality_and_size_with_auto_at_the_dearest():
    table = PriceTable()
    assert table.images_usd("gpt-image-1", "medium", "1024x1536") == pytest.approx(1584 * 40 / 1_000_000)
    assert table.images_usd("gpt-image-1", "low", "1024x1024") == pytest.approx(272 * 40 / 1_000_000)
    assert table.images_usd("gpt-image-1", "high", "1024x1536", count=2) == pytest.approx(2 * 6240 * 40 / 1e6)
    assert table.images_usd("gpt-image-1", "auto", "1024x1024") == table.images_usd("gpt-image-1", "high", "1024x1024")
    assert table.images_usd("gpt-image-1", "auto", "auto") == table.images_usd("gpt-image-1", "high", "1024x1536")
    assert table.images_usd("mystery-image-model", "low", "1024x1024") == table.fallback_image_price
    custom = PriceTable.from_json('{"images": {"gpt-image-1/medium/1024x1536": 0.05, "new-model/low/512x512": 0.01}}')
    assert custom.images_usd("gpt-image-1", "medium", "1024x1536") == 0.05
    assert custom.images_usd("new-model", "low", "512x512") == 0.01
    assert custom.images_usd("gpt-image-1", "low", "1024x1024") == table.images_usd("gpt-image-1", "low", "1024x1024")
    with pytest.raises(ValueError, match=r"images\.gpt-image-1 must be named model/quality/size"):
        PriceTable.from_json('{"images": {"gpt-image-1": 0.05}}')
    with pytest.raises(ValueError, match="must not be negative"):
        PriceTable.from_json('{"images": {"a/b/c": -1}}')


def test_an_image_charge_counts_its_prompt_and_is_refused_past_the_limit():
    state, clock = MemoryStateStore(), Clock()
    budget = Budget(state, "demo", daily_limit_usd=0.10, clock=clock)
    charge = budget.charge_images("video vid-1, scene 1: still", "gpt-image-1", "medium", "1024x1536", 1000)
    assert charge.usd == pytest.approx(0.06336 + 1000 * 5.00 / 1_000_000)
    with pytest.raises(BudgetExceeded, match="video vid-1, scene 2"):
        budget.charge_images("video vid-1, scene 2: still", "gpt-image-1", "medium", "1024x1536")
    assert budget.spent_usd() == pytest.approx(charge.usd)
