"""Every provider by seam, in one table: its name, the key variable(s) it needs, where its base URL is
configured, its default model and how its adapter is built.

Adding a provider is one row here plus its adapter module. Settings validate the environment from
these rows (a selected provider's keys must be set, its base URL must be http(s)), the cost estimate
reads their default models, and the Dagster resources build adapters through ``build``.

Keys are read from the environment when an adapter is built, never stored in configuration; a
channel's own variable (OPENAI_API_KEY_COOKING) wins over the default one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from shorts_assets.core.credentials import credential
from shorts_assets.core.errors import ProviderError
from shorts_assets.core.state import StateStore
from shorts_assets.providers.net.costs import Budget

SCRIPT_MAX_OUTPUT_TOKENS = 2000


@dataclass(frozen=True)
class Wiring:
    """What one adapter is built from: the channel's resolved keys, base URLs and options."""

    channel: str
    keys: Mapping[str, str]  # key variable -> its value for this channel
    urls: Mapping[str, str]  # constructor keyword -> base URL (only those configured)
    budget: Budget | None = None
    state: StateStore | None = None
    model: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ProviderSpec:
    name: str
    build: Callable[[Wiring], Any]
    keys: tuple[str, ...] = ()  # variables that must be set (per channel or globally)
    base_urls: Mapping[str, str] = field(default_factory=dict)  # constructor keyword -> variable
    default_model: str = ""
    # Video providers: the clip durations (seconds) a model is billed in, for the cost estimate.
    scene_seconds: Callable[[str], Sequence[int]] | None = None
    free: bool = False  # keyed but free of charge (stock footage APIs): never priced or budgeted
    per_image: bool = False  # a video provider billed per generated image (AI stills), not per second

    @property
    def paid(self) -> bool:
        """Generation providers that need a key charge for their calls, unless marked free."""
        return bool(self.keys) and not self.free

    def model(self, configured: str = "") -> str:
        return configured or self.default_model


@dataclass(frozen=True)
class Seam:
    """One kind of provider, chosen by one variable (platforms: switched on one by one)."""

    name: str
    variable: str
    default: str
    providers: Mapping[str, ProviderSpec]

    def spec(self, name: str) -> ProviderSpec:
        if name not in self.providers:
            raise ProviderError(f"{self.variable}={name!r} has no adapter; use one of: {', '.join(self.providers)}")
        return self.providers[name]


# --- builders: each imports its adapter module only when that provider is chosen -------------------


def _template(w: Wiring):
    from shorts_assets.providers.writers.template import TemplateWriter

    return TemplateWriter()


def _openai_writer(w: Wiring):
    from shorts_assets.providers.writers.llm import OpenAIScriptWriter

    return OpenAIScriptWriter(
        api_key=w.keys["OPENAI_API_KEY"],
        model=w.model,
        api=w.options.get("openai_api", "responses"),
        max_output_tokens=SCRIPT_MAX_OUTPUT_TOKENS,
        budget=w.budget,
        **w.urls,
    )


def _anthropic_writer(w: Wiring):
    from shorts_assets.providers.writers.llm import AnthropicScriptWriter

    return AnthropicScriptWriter(
        api_key=w.keys["ANTHROPIC_API_KEY"],
        model=w.model,
        max_output_tokens=SCRIPT_MAX_OUTPUT_TOKENS,
        budget=w.budget,
        **w.urls,
    )


def _ollama_writer(w: Wiring):
    from shorts_assets.providers.writers.ollama import OllamaScriptWriter

    return OllamaScriptWriter(model=w.model, max_output_tokens=SCRIPT_MAX_OUTPUT_TOKENS, **w.urls)


def _procedural(w: Wiring):
    from shorts_assets.providers.clips.procedural import CLIP_HEIGHT, CLIP_WIDTH, ProceduralClips

    # Drawn at the size the renderer makes (clip_size: the render profile's width and height).
    width, height = w.options.get("clip_size") or (CLIP_WIDTH, CLIP_HEIGHT)
    return ProceduralClips(int(width), int(height))


def _video_jobs(class_name: str, key: str) -> Callable[[Wiring], Any]:
    def build(w: Wiring):
        from shorts_assets.providers.clips import generated

        if w.state is None:
            raise ProviderError("a generated-video provider needs the database to keep its job ids")
        jobs = getattr(generated, class_name)(api_key=w.keys[key], model=w.model, budget=w.budget, **w.urls)
        interval = float(w.options.get("poll_interval_s", 5.0))
        return generated.GeneratedClips(
            jobs, w.state, poll_interval_s=interval, max_poll_interval_s=max(interval, 30.0)
        )

    return build


def _durations(class_name: str, attribute: str) -> Callable[[str], Sequence[int]]:
    def durations(model: str) -> Sequence[int]:
        from shorts_assets.providers.clips import generated

        allowed = getattr(getattr(generated, class_name), attribute)
        if isinstance(allowed, Mapping):  # per model: (durations, ratios, endpoints)
            return allowed[model][0] if model in allowed else ()
        return allowed

    return durations


def _stock(class_name: str, key: str) -> Callable[[Wiring], Any]:
    def build(w: Wiring):
        from shorts_assets.providers.clips import stock

        if w.state is None:
            raise ProviderError("a stock-footage provider needs the database to remember the clips a channel used")
        return getattr(stock, class_name)(
            api_key=w.keys[key],
            channel=w.channel,
            state=w.state,
            window_days=int(w.options.get("stock_window_days", 30)),
            **w.urls,
        )

    return build


def _library(w: Wiring):
    from shorts_assets.providers.clips.library import MediaLibrary

    folder = w.options.get("media_library", "")
    if not folder:
        raise ProviderError(
            "VIDEO_GEN_PROVIDER=library needs SHORTS_MEDIA_LIBRARY, the folder of your clips and images"
        )
    return MediaLibrary(folder)


def _openai_images(w: Wiring):
    from shorts_assets.providers.clips.stills import OpenAIStills

    return OpenAIStills(
        api_key=w.keys["OPENAI_API_KEY"],
        model=w.model,
        quality=w.options.get("image_quality", "medium"),
        budget=w.budget,
        state=w.state,
        **w.urls,
    )


def _espeak(w: Wiring):
    from shorts_assets.providers.voices.espeak import EspeakVoice

    return EspeakVoice(language=w.options.get("language") or None, voices=dict(w.options.get("voices") or {}) or None)


def _edge(w: Wiring):
    from shorts_assets.providers.voices.edge import EdgeVoice

    return EdgeVoice(
        voices=dict(w.options.get("voices") or {}) or None,
        language=w.options.get("language") or None,
        rate=w.options.get("edge_rate") or "+0%",
        pitch=w.options.get("edge_pitch") or "+0Hz",
        **w.urls,
    )


def _http_voice(class_name: str, key: str) -> Callable[[Wiring], Any]:
    def build(w: Wiring):
        from shorts_assets.providers.voices import http

        voices = dict(w.options.get("voices") or {}) or None
        return getattr(http, class_name)(api_key=w.keys[key], model=w.model, budget=w.budget, voices=voices, **w.urls)

    return build


def _ffmpeg(w: Wiring):
    from shorts_assets.providers.render.ffmpeg import FfmpegRenderer

    return FfmpegRenderer(profile=w.options.get("profile", "final"))


def _cloud(w: Wiring):
    from shorts_assets.providers.render.cloud import CloudRenderer

    media_base_url = w.options.get("media_base_url", "")
    media_urls = w.options.get("media_urls")  # the media store's URLs, where it serves them
    if not media_base_url and media_urls is None:
        raise ProviderError("RENDERER_PROVIDER=cloud needs CLOUD_RENDER_MEDIA_BASE_URL")
    if w.state is None:
        raise ProviderError("RENDERER_PROVIDER=cloud needs the database to keep its render ids")
    interval = float(w.options.get("poll_interval_s", 5.0))
    return CloudRenderer(
        w.keys["CREATOMATE_API_KEY"],
        media_base_url,
        w.options.get("data_dir", ""),
        state=w.state,
        budget=w.budget,
        poll_interval_s=interval,
        max_poll_interval_s=max(interval, 30.0),
        timeout_s=float(w.options.get("timeout_s", 1800.0)),
        media_urls=media_urls,
        **w.urls,
    )


def _youtube(w: Wiring):
    from shorts_assets.providers.platforms.youtube import YouTubeAdapter

    return YouTubeAdapter(
        client_id=w.keys["YOUTUBE_CLIENT_ID"],
        client_secret=w.keys["YOUTUBE_CLIENT_SECRET"],
        refresh_token=w.keys["YOUTUBE_REFRESH_TOKEN"],
        state=w.state,
        account=w.channel,
        made_for_kids=bool(w.options.get("made_for_kids", False)),
        quota_model=str(w.options.get("youtube_quota_model", "current")),
        **w.urls,
    )


def _tiktok(w: Wiring):
    from shorts_assets.providers.platforms.tiktok import TikTokAdapter

    return TikTokAdapter(
        client_key=w.keys["TIKTOK_CLIENT_KEY"],
        client_secret=w.keys["TIKTOK_CLIENT_SECRET"],
        refresh_token=w.keys["TIKTOK_REFRESH_TOKEN"],
        state=w.state,
        account=w.channel,
        post_mode=str(w.options.get("tiktok_post_mode", "direct")),
        privacy_level=str(w.options.get("tiktok_privacy_level", "PUBLIC_TO_EVERYONE")),
        **w.urls,
    )


def _instagram(w: Wiring):
    from shorts_assets.providers.platforms.instagram import InstagramAdapter

    return InstagramAdapter(
        user_id=w.keys["INSTAGRAM_USER_ID"],
        access_token=w.keys["INSTAGRAM_ACCESS_TOKEN"],
        state=w.state,
        account=w.channel,
        **w.urls,
    )


# --- the table ----------------------------------------------------------------------------------------

_OPENAI_URL = {"base_url": "OPENAI_BASE_URL"}

SEAMS: Mapping[str, Seam] = {
    "script": Seam(
        "script",
        "SCRIPT_PROVIDER",
        "template",
        {
            "template": ProviderSpec("template", _template),
            "openai": ProviderSpec("openai", _openai_writer, ("OPENAI_API_KEY",), _OPENAI_URL, "gpt-4.1-mini"),
            "anthropic": ProviderSpec(
                "anthropic",
                _anthropic_writer,
                ("ANTHROPIC_API_KEY",),
                {"base_url": "ANTHROPIC_BASE_URL"},
                "claude-sonnet-4-5",
            ),
            # A local model through Ollama's own chat API: no key, no price.
            "ollama": ProviderSpec("ollama", _ollama_writer, (), {"base_url": "OLLAMA_BASE_URL"}, "llama3.2"),
        },
    ),
    "video": Seam(
        "video",
        "VIDEO_GEN_PROVIDER",
        "stub",
        {
            "stub": ProviderSpec("stub", _procedural),
            "openai_sora": ProviderSpec(
                "openai_sora",
                _video_jobs("SoraVideos", "OPENAI_API_KEY"),
                ("OPENAI_API_KEY",),
                _OPENAI_URL,
                "sora-2",
                _durations("SoraVideos", "SECONDS"),
            ),
            "runway": ProviderSpec(
                "runway",
                _video_jobs("RunwayVideos", "RUNWAYML_API_SECRET"),
                ("RUNWAYML_API_SECRET",),
                {"base_url": "RUNWAY_API_BASE_URL"},
                "veo3.1_fast",
                _durations("RunwayVideos", "MODELS"),
            ),
            "luma": ProviderSpec(
                "luma",
                _video_jobs("LumaVideos", "LUMAAI_API_KEY"),
                ("LUMAAI_API_KEY",),
                {"base_url": "LUMA_API_BASE_URL"},
                "ray-flash-2",
                _durations("LumaVideos", "DURATIONS"),
            ),
            "pika": ProviderSpec(
                "pika",
                _video_jobs("PikaVideos", "PIKA_API_KEY"),
                ("PIKA_API_KEY",),
                {"base_url": "PIKA_API_BASE_URL"},
                "pika-2.2",
                _durations("PikaVideos", "DURATIONS"),
            ),
            # Free stock footage found by each scene's keywords.
            "pexels": ProviderSpec(
                "pexels",
                _stock("PexelsClips", "PEXELS_API_KEY"),
                ("PEXELS_API_KEY",),
                {"base_url": "PEXELS_API_BASE_URL"},
                free=True,
            ),
            "pixabay": ProviderSpec(
                "pixabay",
                _stock("PixabayClips", "PIXABAY_API_KEY"),
                ("PIXABAY_API_KEY",),
                {"base_url": "PIXABAY_API_BASE_URL"},
                free=True,
            ),
            # The channel's own clips and images (SHORTS_MEDIA_LIBRARY), matched by tags.
            "library": ProviderSpec("library", _library),
            # One AI still per scene, animated by the renderer.
            "openai_images": ProviderSpec(
                "openai_images", _openai_images, ("OPENAI_API_KEY",), _OPENAI_URL, "gpt-image-1", per_image=True
            ),
        },
    ),
    "voice": Seam(
        "voice",
        "TTS_PROVIDER",
        "espeak",
        {
            "espeak": ProviderSpec("espeak", _espeak),
            # Microsoft Edge's free neural voices: no key, no price.
            "edge": ProviderSpec("edge", _edge, (), {"base_url": "EDGE_TTS_BASE_URL"}),
            "openai": ProviderSpec(
                "openai",
                _http_voice("OpenAIVoice", "OPENAI_API_KEY"),
                ("OPENAI_API_KEY",),
                _OPENAI_URL,
                "gpt-4o-mini-tts",
            ),
            "elevenlabs": ProviderSpec(
                "elevenlabs",
                _http_voice("ElevenLabsVoice", "ELEVENLABS_API_KEY"),
                ("ELEVENLABS_API_KEY",),
                {"base_url": "ELEVENLABS_API_BASE_URL"},
                "eleven_multilingual_v2",
            ),
        },
    ),
    "renderer": Seam(
        "renderer",
        "RENDERER_PROVIDER",
        "ffmpeg",
        {
            "ffmpeg": ProviderSpec("ffmpeg", _ffmpeg),
            "cloud": ProviderSpec(
                "cloud", _cloud, ("CREATOMATE_API_KEY",), {"base_url": "CREATOMATE_API_BASE_URL"}, "creatomate"
            ),
        },
    ),
    # Platforms are switched on one by one (PUBLISHER_YOUTUBE=true); off, the simulated ones serve.
    "platform": Seam(
        "platform",
        "PUBLISHER_<PLATFORM>",
        "",
        {
            "youtube": ProviderSpec(
                "youtube",
                _youtube,
                ("YOUTUBE_CLIENT_ID", "YOUTUBE_CLIENT_SECRET", "YOUTUBE_REFRESH_TOKEN"),
                {
                    "api_base_url": "YOUTUBE_API_BASE_URL",
                    "upload_base_url": "YOUTUBE_UPLOAD_BASE_URL",
                    "analytics_base_url": "YOUTUBE_ANALYTICS_BASE_URL",
                    "token_url": "GOOGLE_OAUTH_TOKEN_URL",
                },
            ),
            "tiktok": ProviderSpec(
                "tiktok",
                _tiktok,
                ("TIKTOK_CLIENT_KEY", "TIKTOK_CLIENT_SECRET", "TIKTOK_REFRESH_TOKEN"),
                {"api_base_url": "TIKTOK_API_BASE_URL"},
            ),
            "instagram": ProviderSpec(
                "instagram",
                _instagram,
                ("INSTAGRAM_USER_ID", "INSTAGRAM_ACCESS_TOKEN"),
                {
                    "graph_base_url": "INSTAGRAM_GRAPH_BASE_URL",
                    "rupload_base_url": "INSTAGRAM_RUPLOAD_BASE_URL",
                    "token_refresh_url": "INSTAGRAM_TOKEN_REFRESH_URL",
                },
            ),
        },
    ),
}


def base_url_variables() -> tuple[str, ...]:
    """Every variable that points an adapter at another server (a proxy, a test double)."""
    seen: dict[str, None] = {}
    for seam in SEAMS.values():
        for spec in seam.providers.values():
            seen.update(dict.fromkeys(spec.base_urls.values()))
    return tuple(seen)


def spec(seam: str, name: str) -> ProviderSpec:
    return SEAMS[seam].spec(name)


def video_members(name: str) -> list[str]:
    """The providers VIDEO_GEN_PROVIDER names: one, or a comma-separated chain tried in order per scene."""
    names = [n.strip() for n in name.split(",") if n.strip()]
    if not names:
        raise ProviderError("VIDEO_GEN_PROVIDER is empty")
    if len(set(names)) != len(names):
        raise ProviderError(f"VIDEO_GEN_PROVIDER={name!r} names a provider twice")
    for member in names:
        spec("video", member)
    return names


def build_video(name: str, channel: str, env: Mapping[str, str], *, model: str = "", **kwargs: Any) -> Any:
    """The clip generator VIDEO_GEN_PROVIDER names; a chain builds each member through ``build``."""
    names = video_members(name)
    if len(names) == 1:
        return build("video", names[0], channel, env, model=model, **kwargs)
    if model and sum(bool(spec("video", n).default_model) for n in names) > 1:
        raise ProviderError(f"VIDEO_GEN_MODEL={model!r} is ambiguous in the chain {name!r}; leave it empty")
    from shorts_assets.providers.clips.chain import ProviderChain

    members = []
    try:
        for member in names:
            own_model = model if spec("video", member).default_model else ""
            members.append(build("video", member, channel, env, model=own_model, **kwargs))
    except BaseException:
        for built in members:
            built.close()
        raise
    return ProviderChain(members)


def build(
    seam: str,
    name: str,
    channel: str,
    env: Mapping[str, str],
    *,
    base_urls: Mapping[str, str] | None = None,
    budget: Budget | None = None,
    state: StateStore | None = None,
    model: str = "",
    **options: Any,
) -> Any:
    """The adapter of provider `name` at `seam` for `channel`: keys read from `env`, base URLs from
    `base_urls` (variable -> URL), the model defaulting to the provider's own."""
    chosen = spec(seam, name)
    keys = {}
    for variable in chosen.keys:
        value = credential(env, variable, channel)
        if not value:
            raise ProviderError(f"{variable} is not set for channel {channel}")
        keys[variable] = value
    urls = {
        keyword: base_urls[variable] for keyword, variable in chosen.base_urls.items() if variable in (base_urls or {})
    }
    wiring = Wiring(channel, keys, urls, budget=budget, state=state, model=chosen.model(model), options=options)
    return chosen.build(wiring)
