"""What paid provider calls cost, and a per-channel daily spending limit checked before each call.

``PriceTable`` holds estimated list prices in US dollars: per million input and output tokens for
language models, per generated (or rendered) second for video models and cloud renderers, per
million characters for speech, per generated image (by model, quality and size) for image models. The defaults are estimates to be overridden from configuration
(``PriceTable.from_json``); a model missing from the table is priced at the table's fallback, which
is deliberately high so an unknown model never looks free.

``Budget`` belongs to one channel. ``charge`` records a call's estimated cost in the state store
under the channel and the UTC day, atomically, and raises ``BudgetExceeded`` instead when the call
would take the day's total past the limit, so the adapter refuses before sending anything. Amounts
are kept as integer micro-dollars in the store's quota counters; each charge also leaves a ledger
entry naming the call.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from typing import Any

from shorts_assets.core.clock import utc_now
from shorts_assets.core.errors import BudgetExhausted
from shorts_assets.core.state import StateStore

logger = logging.getLogger(__name__)

MICROS = 1_000_000

DEFAULT_TOKEN_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-5": (1.25, 10.00),
    "gpt-5-mini": (0.25, 2.00),
    "claude-sonnet-4-5": (3.00, 15.00),
    "claude-haiku-4-5": (1.00, 5.00),
    "claude-opus-4-1": (15.00, 75.00),
    "gpt-image-1": (5.00, 40.00),  # its prompt text in; the image out is priced per image below
}

DEFAULT_SECOND_PRICES: dict[str, float] = {
    "sora-2": 0.10,
    "sora-2-pro": 0.30,
    "gen4_turbo": 0.05,
    "gen4.5": 0.12,
    "veo3.1_fast": 0.15,
    "veo3.1": 0.40,
    "veo3": 0.40,
    "ray-flash-2": 0.06,
    "ray-2": 0.18,
    "ray-1-6": 0.18,
    "pika-2.2": 0.09,
    "creatomate": 0.02,  # a cloud render, per second of finished video
}

# USD per million characters of text spoken.
DEFAULT_CHARACTER_PRICES: dict[str, float] = {
    "tts-1": 15.00,
    "tts-1-hd": 30.00,
    "gpt-4o-mini-tts": 15.00,  # billed by tokens; about $0.015 a minute of speech
    "gpt-4o-mini-tts-2025-12-15": 15.00,
    "eleven_multilingual_v2": 100.00,
    "eleven_v3": 100.00,
    "eleven_turbo_v2_5": 50.00,
    "eleven_flash_v2_5": 50.00,
    "eleven_turbo_v2": 50.00,
    "eleven_flash_v2": 50.00,
}

# USD per generated image, keyed "model/quality/size": gpt-image-1 bills its image output tokens
# (272 / 1056 / 4160 for a low / medium / high 1024x1024) at $40 per million.
DEFAULT_IMAGE_PRICES: dict[str, float] = {
    f"gpt-image-1/{quality}/{size}": round(tokens * 40.00 / 1_000_000, 6)
    for quality, per_size in {
        "low": {"1024x1024": 272, "1024x1536": 408, "1536x1024": 400},
        "medium": {"1024x1024": 1056, "1024x1536": 1584, "1536x1024": 1568},
        "high": {"1024x1024": 4160, "1024x1536": 6240, "1536x1024": 6208},
    }.items()
    for size, tokens in per_size.items()
}


class BudgetExceeded(BudgetExhausted):
    """A paid call would take the channel's spending for the day past its limit; it was not made."""


@dataclass(frozen=True)
class PriceTable:
    token_prices: Mapping[str, tuple[float, float]] = field(default_factory=lambda: dict(DEFAULT_TOKEN_PRICES))
    second_prices: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_SECOND_PRICES))
    character_prices: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_CHARACTER_PRICES))
    image_prices: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_IMAGE_PRICES))
    fallback_token_price: tuple[float, float] = (15.00, 75.00)
    fallback_second_price: float = 0.50
    fallback_character_price: float = 300.00
    fallback_image_price: float = 0.50

    @classmethod
    def from_json(cls, text: str) -> PriceTable:
        """A table from ``{"tokens": {model: [in, out]}, "seconds": {model: usd}, "characters": {model: usd},
        "images": {"model/quality/size": usd}}`` (characters: USD per million), over the defaults."""
        try:
            data = json.loads(text) if text.strip() else {}
        except ValueError as exc:
            raise ValueError(f"price table: not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ValueError(
                "price table: expected a JSON object with 'tokens', 'seconds', 'characters' and/or 'images'"
            )
        return cls().with_overrides(
            tokens=data.get("tokens") or {},
            seconds=data.get("seconds") or {},
            characters=data.get("characters") or {},
            images=data.get("images") or {},
        )

    def with_overrides(
        self,
        tokens: Mapping[str, Any] | None = None,
        seconds: Mapping[str, Any] | None = None,
        characters: Mapping[str, Any] | None = None,
        images: Mapping[str, Any] | None = None,
    ) -> PriceTable:
        token_prices = dict(self.token_prices)
        for model, pair in (tokens or {}).items():
            try:
                inp, out = (float(v) for v in pair)
            except (TypeError, ValueError):
                raise ValueError(f"price table: tokens.{model} must be [input, output] USD per 1M tokens") from None
            if inp < 0 or out < 0:
                raise ValueError(f"price table: tokens.{model} must not be negative")
            token_prices[model] = (inp, out)
        second_prices = dict(self.second_prices)
        for model, price in (seconds or {}).items():
            try:
                value = float(price)
            except (TypeError, ValueError):
                raise ValueError(f"price table: seconds.{model} must be USD per generated second") from None
            if value < 0:
                raise ValueError(f"price table: seconds.{model} must not be negative")
            second_prices[model] = value
        character_prices = dict(self.character_prices)
        for model, price in (characters or {}).items():
            try:
                value = float(price)
            except (TypeError, ValueError):
                raise ValueError(f"price table: characters.{model} must be USD per 1M characters") from None
            if value < 0:
                raise ValueError(f"price table: characters.{model} must not be negative")
            character_prices[model] = value
        image_prices = dict(self.image_prices)
        for key, price in (images or {}).items():
            if len(str(key).split("/")) != 3:
                raise ValueError(f"price table: images.{key} must be named model/quality/size")
            try:
                value = float(price)
            except (TypeError, ValueError):
                raise ValueError(f"price table: images.{key} must be USD per generated image") from None
            if value < 0:
                raise ValueError(f"price table: images.{key} must not be negative")
            image_prices[str(key)] = value
        return replace(
            self,
            token_prices=token_prices,
            second_prices=second_prices,
            character_prices=character_prices,
            image_prices=image_prices,
        )

    def tokens_usd(self, model: str, input_tokens: int, output_tokens: int) -> float:
        inp, out = self.token_prices.get(model, self.fallback_token_price)
        return (input_tokens * inp + output_tokens * out) / 1_000_000

    def seconds_usd(self, model: str, seconds: float) -> float:
        return self.second_prices.get(model, self.fallback_second_price) * seconds

    def characters_usd(self, model: str, characters: int) -> float:
        return self.character_prices.get(model, self.fallback_character_price) * characters / 1_000_000

    def images_usd(self, model: str, quality: str, size: str, count: int = 1) -> float:
        """``count`` images; an ``auto`` quality or size is priced at the dearest the model has listed."""
        prices = [
            usd
            for key, usd in self.image_prices.items()
            if (parts := key.split("/"))[0] == model and quality in (parts[1], "auto") and size in (parts[2], "auto")
        ]
        return (max(prices) if prices else self.fallback_image_price) * count


def estimate_tokens(text: str) -> int:
    """A rough, deliberately generous token count for ``text`` (about three characters a token)."""
    return len(text) // 3 + 1


@dataclass(frozen=True)
class Charge:
    channel: str
    day: date
    what: str
    usd: float
    total_usd: float


class Budget:
    """One channel's daily spending limit on paid provider calls (``None``: no limit, still recorded)."""

    LEDGER = "costs.ledger"

    def __init__(
        self,
        state: StateStore,
        channel: str,
        daily_limit_usd: float | None,
        prices: PriceTable | None = None,
        clock: Callable[[], datetime] = utc_now,
        on_exhausted: Callable[[str, str], None] | None = None,
    ) -> None:
        if daily_limit_usd is not None and daily_limit_usd < 0:
            raise ValueError(f"daily limit must not be negative, got {daily_limit_usd}")
        self.state = state
        self.channel = channel
        self.daily_limit_usd = daily_limit_usd
        self.prices = prices or PriceTable()
        self.clock = clock
        self.on_exhausted = on_exhausted  # told (channel, message) whenever the limit refuses something

    def for_channel(self, channel: str) -> Budget:
        return Budget(self.state, channel, self.daily_limit_usd, self.prices, self.clock, self.on_exhausted)

    def exhausted(self, message: str) -> None:
        """Report that the limit refused work (a call, or a whole batch); a failing listener is ignored."""
        if self.on_exhausted is None:
            return
        try:
            self.on_exhausted(self.channel, message)
        except Exception:
            logger.warning("channel %s: the budget's listener failed", self.channel)

    @property
    def _api(self) -> str:
        return f"spend_usd_micros:{self.channel}"

    def _day(self) -> date:
        return self.clock().astimezone(timezone.utc).date()

    def spent_usd(self, day: date | None = None) -> float:
        return self.state.quota_used(self._api, day or self._day()) / MICROS

    def charge(self, what: str, usd: float) -> Charge:
        """Record ``usd`` for the call ``what``, or raise ``BudgetExceeded`` (nothing recorded)."""
        if usd < 0:
            raise ValueError(f"{what}: a cost cannot be negative ({usd})")
        day = self._day()
        micros = max(1, round(usd * MICROS)) if usd > 0 else 0
        total = self.state.add_quota(self._api, day, micros)
        if self.daily_limit_usd is not None and total > round(self.daily_limit_usd * MICROS):
            self.state.add_quota(self._api, day, -micros)
            spent = (total - micros) / MICROS
            refused = BudgetExceeded(
                f"{what}: refused before calling: it would cost an estimated ${usd:.4f} and channel "
                f"{self.channel!r} has spent ${spent:.4f} of its ${self.daily_limit_usd:.2f} daily limit "
                f"on {day.isoformat()} (UTC)"
            )
            self.exhausted(str(refused))
            raise refused
        entry = self.state.add_quota(f"spend_calls:{self.channel}", day, 1)
        self.state.put(
            self.LEDGER,
            f"{self.channel}:{day.isoformat()}:{entry:06d}",
            json.dumps({"what": what, "usd": round(usd, 6), "at": self.clock().isoformat()}),
        )
        logger.info("channel %s: %s costs an estimated $%.4f ($%.4f today)", self.channel, what, usd, total / MICROS)
        return Charge(self.channel, day, what, usd, total / MICROS)

    def charge_tokens(self, what: str, model: str, input_tokens: int, output_tokens: int) -> Charge:
        return self.charge(what, self.prices.tokens_usd(model, input_tokens, output_tokens))

    def charge_seconds(self, what: str, model: str, seconds: float) -> Charge:
        return self.charge(what, self.prices.seconds_usd(model, seconds))

    def charge_characters(self, what: str, model: str, characters: int) -> Charge:
        return self.charge(what, self.prices.characters_usd(model, characters))

    def charge_images(self, what: str, model: str, quality: str, size: str, prompt_tokens: int = 0) -> Charge:
        """One generated image, and the prompt it reads (priced as the model's input tokens)."""
        return self.charge(
            what, self.prices.images_usd(model, quality, size) + self.prices.tokens_usd(model, prompt_tokens, 0)
        )
