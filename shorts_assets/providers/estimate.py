"""What one typical video costs at list prices before a batch spends anything; offline providers cost nothing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shorts_assets.providers.net.costs import PriceTable, estimate_tokens
from shorts_assets.providers.registry import SCRIPT_MAX_OUTPUT_TOKENS, spec, video_members

# What a typical short asks of its providers.
TYPICAL_PROMPT_CHARS = 6000
TYPICAL_SCENES = 3
TYPICAL_SCENE_S = 8.0
TYPICAL_NARRATION_CHARS = 700
TYPICAL_VIDEO_S = 30.0
TYPICAL_IMAGE_PROMPT_CHARS = 300
STILL_SIZE = "1024x1536"  # what the AI-still provider asks for


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


def _scene_usd(prices: PriceTable, name: str, video_model: str, image_quality: str) -> float:
    video = spec("video", name)
    if not video.paid:
        return 0.0
    model = video.model(video_model)
    if video.per_image:
        prompt = estimate_tokens("x" * TYPICAL_IMAGE_PROMPT_CHARS)
        return prices.images_usd(model, image_quality, STILL_SIZE) + prices.tokens_usd(model, prompt, 0)
    return prices.seconds_usd(model, _scene_seconds(tuple(video.scene_seconds(model)) if video.scene_seconds else ()))


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
    image_quality: str = "medium",
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
    # A chain may serve any scene from any member: the dearest is estimated.
    scene_usd = max(_scene_usd(prices, n, video_model, image_quality) for n in video_members(video_provider))
    if scene_usd > 0:
        parts["clips"] = TYPICAL_SCENES * scene_usd
    voice = spec("voice", tts_provider)
    if voice.paid:
        parts["voice"] = prices.characters_usd(voice.model(tts_model), TYPICAL_NARRATION_CHARS)
    renderer = spec("renderer", renderer_provider)
    if renderer.paid:
        parts["render"] = prices.seconds_usd(renderer.model(), TYPICAL_VIDEO_S)
    return VideoEstimate(parts)
