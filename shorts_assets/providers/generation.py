"""Builds the generation adapters (script writer, video generator, voice, renderer) for a channel from the
environment, and estimates what one video costs before a batch spends anything.

Keys are read from the environment when an adapter is built, never stored in configuration; a
channel's own variable (OPENAI_API_KEY_COOKING) wins over the default one. Every paid adapter is
handed the channel's ``Budget``, which refuses a call before it is sent when the day's limit would
be passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from shorts_assets.providers.costs import Budget, PriceTable, estimate_tokens
from shorts_assets.providers.interfaces import ClipGenerator, ProviderError, Renderer, ScriptWriter, Voice
from shorts_assets.providers.state import StateStore
from shorts_assets.settings import credential

# Conventional key variable of each paid provider.
KEY_VARIABLES = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "openai_sora": "OPENAI_API_KEY",
    "runway": "RUNWAYML_API_SECRET",
    "luma": "LUMAAI_API_KEY",
    "pika": "PIKA_API_KEY",
    "elevenlabs": "ELEVENLABS_API_KEY",
    "cloud": "CREATOMATE_API_KEY",
}
BASE_URL_VARIABLES = {
    "openai": "OPENAI_BASE_URL",
    "anthropic": "ANTHROPIC_BASE_URL",
    "openai_sora": "OPENAI_BASE_URL",
    "runway": "RUNWAY_API_BASE_URL",
    "luma": "LUMA_API_BASE_URL",
    "pika": "PIKA_API_BASE_URL",
    "elevenlabs": "ELEVENLABS_API_BASE_URL",
    "cloud": "CREATOMATE_API_BASE_URL",
}
DEFAULT_MODELS = {
    "openai": "gpt-4.1-mini",
    "anthropic": "claude-sonnet-4-5",
    "openai_sora": "sora-2",
    "runway": "veo3.1_fast",
    "luma": "ray-flash-2",
    "pika": "pika-2.2",
}
DEFAULT_TTS_MODELS = {"openai": "gpt-4o-mini-tts", "elevenlabs": "eleven_multilingual_v2"}
SCRIPT_MAX_OUTPUT_TOKENS = 2000
# What a typical short asks of its providers, for the estimate made before a batch starts.
TYPICAL_PROMPT_CHARS = 6000
TYPICAL_SCENES = 3
TYPICAL_SCENE_S = 8.0
TYPICAL_NARRATION_CHARS = 700
TYPICAL_VIDEO_S = 30.0


def _key(env: Mapping[str, str], provider: str, channel: str) -> str:
    variable = KEY_VARIABLES[provider]
    value = credential(env, variable, channel)
    if not value:
        raise ProviderError(f"{variable} is not set for channel {channel}")
    return value


def _base_url(base_urls: Mapping[str, str], provider: str) -> dict[str, str]:
    variable = BASE_URL_VARIABLES[provider]
    return {"base_url": base_urls[variable]} if variable in base_urls else {}


def model_for(provider: str, configured: str = "") -> str:
    return configured or DEFAULT_MODELS.get(provider, "")


def build_script_writer(
    provider: str,
    channel: str,
    env: Mapping[str, str],
    budget: Budget,
    base_urls: Mapping[str, str],
    model: str = "",
    openai_api: str = "responses",
) -> ScriptWriter:
    if provider == "template":
        from shorts_assets.providers.template_writer import TemplateWriter

        return TemplateWriter()
    if provider == "openai":
        from shorts_assets.providers.llm_writers import OpenAIScriptWriter

        return OpenAIScriptWriter(
            api_key=_key(env, provider, channel), model=model_for(provider, model), api=openai_api,
            max_output_tokens=SCRIPT_MAX_OUTPUT_TOKENS, budget=budget, **_base_url(base_urls, provider),
        )
    if provider == "anthropic":
        from shorts_assets.providers.llm_writers import AnthropicScriptWriter

        return AnthropicScriptWriter(
            api_key=_key(env, provider, channel), model=model_for(provider, model),
            max_output_tokens=SCRIPT_MAX_OUTPUT_TOKENS, budget=budget, **_base_url(base_urls, provider),
        )
    raise ProviderError(f"SCRIPT_PROVIDER={provider!r} has no adapter")


def build_clip_generator(
    provider: str,
    channel: str,
    env: Mapping[str, str],
    budget: Budget,
    state: StateStore,
    base_urls: Mapping[str, str],
    model: str = "",
    poll_interval_s: float = 5.0,
) -> ClipGenerator:
    if provider == "stub":
        from shorts_assets.providers.procedural_clips import ProceduralClips

        return ProceduralClips()
    from shorts_assets.providers import video_gen

    classes = {
        "openai_sora": video_gen.SoraVideos,
        "runway": video_gen.RunwayVideos,
        "luma": video_gen.LumaVideos,
        "pika": video_gen.PikaVideos,
    }
    if provider not in classes:
        raise ProviderError(f"VIDEO_GEN_PROVIDER={provider!r} has no adapter")
    jobs = classes[provider](
        api_key=_key(env, provider, channel), model=model_for(provider, model), budget=budget,
        **_base_url(base_urls, provider),
    )
    return video_gen.GeneratedClips(
        jobs, state, poll_interval_s=poll_interval_s, max_poll_interval_s=max(poll_interval_s, 30.0)
    )


def build_voice(
    provider: str,
    channel: str,
    env: Mapping[str, str],
    budget: Budget,
    base_urls: Mapping[str, str],
    model: str = "",
    voices: Mapping[str, str] | None = None,
) -> Voice:
    if provider == "espeak":
        from shorts_assets.providers.espeak_voice import EspeakVoice

        return EspeakVoice()
    from shorts_assets.providers import http_voices

    classes = {"openai": http_voices.OpenAIVoice, "elevenlabs": http_voices.ElevenLabsVoice}
    if provider not in classes:
        raise ProviderError(f"TTS_PROVIDER={provider!r} has no adapter")
    return classes[provider](
        api_key=_key(env, provider, channel), model=model or DEFAULT_TTS_MODELS[provider], budget=budget,
        voices=dict(voices or {}) or None, **_base_url(base_urls, provider),
    )


def build_renderer(
    provider: str,
    channel: str,
    env: Mapping[str, str],
    budget: Budget | None,
    state: StateStore | None,
    base_urls: Mapping[str, str],
    *,
    profile: str = "final",
    media_base_url: str = "",
    data_dir: str = "",
    poll_interval_s: float = 5.0,
    timeout_s: float = 1800.0,
) -> Renderer:
    if provider == "ffmpeg":
        from shorts_assets.providers.ffmpeg_renderer import FfmpegRenderer

        return FfmpegRenderer(profile=profile)
    if provider != "cloud":
        raise ProviderError(f"RENDERER_PROVIDER={provider!r} has no adapter")
    from shorts_assets.providers.cloud_renderer import CloudRenderer

    api_key = _key(env, provider, channel)
    if not media_base_url:
        raise ProviderError("RENDERER_PROVIDER=cloud needs CLOUD_RENDER_MEDIA_BASE_URL")
    if state is None:
        raise ProviderError("RENDERER_PROVIDER=cloud needs the database to keep its render ids")
    return CloudRenderer(
        api_key, media_base_url, data_dir, state=state, budget=budget,
        poll_interval_s=poll_interval_s, max_poll_interval_s=max(poll_interval_s, 30.0), timeout_s=timeout_s,
        **_base_url(base_urls, provider),
    )


def _scene_seconds(provider: str, model: str) -> float:
    """What a typical scene is billed for: the shortest duration the model offers that covers it."""
    from shorts_assets.providers import video_gen

    allowed = {
        "openai_sora": video_gen.SoraVideos.SECONDS,
        "runway": video_gen.RunwayVideos.MODELS.get(model, ((TYPICAL_SCENE_S,),))[0],
        "luma": video_gen.LumaVideos.DURATIONS,
        "pika": video_gen.PikaVideos.DURATIONS,
    }[provider]
    return float(next((s for s in sorted(allowed) if s >= TYPICAL_SCENE_S), max(allowed)))


@dataclass(frozen=True)
class VideoEstimate:
    """The estimated cost of one typical video, by paid stage (USD)."""

    parts: Mapping[str, float]

    @property
    def total_usd(self) -> float:
        return sum(self.parts.values())

    def describe(self) -> str:
        return " + ".join(f"{name} ${usd:.4f}" for name, usd in self.parts.items() if usd > 0) or "nothing"


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
    if script_provider in ("openai", "anthropic"):
        parts["script"] = script_candidates * prices.tokens_usd(
            model_for(script_provider, script_model), estimate_tokens("x" * TYPICAL_PROMPT_CHARS),
            SCRIPT_MAX_OUTPUT_TOKENS,
        )
    if video_provider in KEY_VARIABLES:
        model = model_for(video_provider, video_model)
        parts["clips"] = TYPICAL_SCENES * prices.seconds_usd(model, _scene_seconds(video_provider, model))
    if tts_provider in DEFAULT_TTS_MODELS:
        parts["voice"] = prices.characters_usd(tts_model or DEFAULT_TTS_MODELS[tts_provider], TYPICAL_NARRATION_CHARS)
    if renderer_provider == "cloud":
        from shorts_assets.providers.cloud_renderer import PRICE_MODEL

        parts["render"] = prices.seconds_usd(PRICE_MODEL, TYPICAL_VIDEO_S)
    return VideoEstimate(parts)
