"""What one typical video costs at list prices before a batch spends anything; offline providers cost nothing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shorts_assets.providers.net.costs import PriceTable, estimate_tokens
from shorts_assets.providers.registry import SCRIPT_MAX_OUTPUT_TOKENS, spec

# What a typical short asks of its providers.
TYPICAL_PROMPT_CHARS = 6000
TYPICAL_SCENES = 3
TYPICAL_SCENE_S = 8.0
TYPICAL_NARRATION_CHARS = 700
TYPICAL_VIDEO_S = 30.0


@dataclass(frozen=True)
class VideoEstimate:
    """The estimated cost of one typical video, by paid stage (USD)."""

    parts: Mapping[str, float]

    @property
    def total_usd(self) -> float:
        return sum(self.parts.values())

    def describe(self) -> str:
        return " + ".join(f"{name} ${usd:.4f}" for name, usd in self.parts.items() if usd > 0) or "nothing"


def _scene_seconds(allowed: tuple[int, ...] | list[int]) -> float:
    """What a typical scene is billed for: the shortest duration the model offers that covers it."""
    allowed = tuple(allowed) or (TYPICAL_SCENE_S,)
    return float(next((s for s in sorted(allowed) if s >= TYPICAL_SCENE_S), max(allowed)))


def estimate_video(
    prices: PriceTable,
    *,
    script_provider: str,
    script_model: str = "",
    video_provider: str,
    video_model: str = "",
    tts_provider: str = "espeak",
    tts_model: str = "",
    renderer_provider: str = "ffmpeg",
    script_candidates: int = 1,
) -> VideoEstimate:
    """What one typical video costs at list prices; offline providers cost nothing.

    Each of the `script_candidates` scripts written for a video is paid for, though one is kept.
    """
    parts: dict[str, float] = {}
    writer = spec("script", script_provider)
    if writer.paid:
        parts["script"] = script_candidates * prices.tokens_usd(
            writer.model(script_model), estimate_tokens("x" * TYPICAL_PROMPT_CHARS), SCRIPT_MAX_OUTPUT_TOKENS
        )
    video = spec("video", video_provider)
    if video.paid:
        model = video.model(video_model)
        seconds = _scene_seconds(tuple(video.scene_seconds(model)) if video.scene_seconds else ())
        parts["clips"] = TYPICAL_SCENES * prices.seconds_usd(model, seconds)
    voice = spec("voice", tts_provider)
    if voice.paid:
        parts["voice"] = prices.characters_usd(voice.model(tts_model), TYPICAL_NARRATION_CHARS)
    renderer = spec("renderer", renderer_provider)
    if renderer.paid:
        parts["render"] = prices.seconds_usd(renderer.model(), TYPICAL_VIDEO_S)
    return VideoEstimate(parts)
