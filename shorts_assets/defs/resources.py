"""Dagster resources: thin wrappers that pick each provider's adapter from configuration.

Everything a resource holds comes from the environment the code location was loaded with, never from
a run's config: where credentials are sent (base URLs), whether posts are real, the spending limits,
the database and the data root. So every field is a ``dg.ResourceDependency``: Dagster leaves those
out of the resource's config schema, which is therefore empty (a run config that sets anything under
``resources.<name>.config`` fails validation before any step starts, and the Launchpad offers
nothing to set), and hands the value unchanged to the copy of the resource it makes for each run.
Plain pydantic fields would be run config; private attributes would be dropped by that copy.

In Python a resource is built with its constructor, ``ScriptWriterResource(provider="openai", ...)``,
or all of them from validated settings with ``build_resources``.
"""

# No `from __future__ import annotations`: Dagster must see the ResourceDependency annotations as types.
import json
import os
from datetime import date
from pathlib import Path

import dagster as dg
from pydantic import Field

from shorts_assets.core.channels import ChannelConfig
from shorts_assets.core.errors import ConfigError
from shorts_assets.core.protocols import Audience, ClipGenerator, Publisher, Renderer, ScriptWriter, Voice
from shorts_assets.db.secrets import SecretKeys
from shorts_assets.db.state_store import DatabaseStateStore
from shorts_assets.db.store import Store
from shorts_assets.notify import Notifier, WebhookConfig
from shorts_assets.notify.emitter import budget_listener
from shorts_assets.providers import registry
from shorts_assets.providers.net.costs import Budget, PriceTable
from shorts_assets.providers.render.ffmpeg import PROFILES
from shorts_assets.settings import Settings
from shorts_assets.storage import MediaConfig, MediaStore, open_store, video_prefix
from shorts_assets.storage.urls import url_resolver


class DatabaseResource(dg.ConfigurableResource):
    """The application database (DATABASE_URL), migrated to the newest schema on first use; the
    credentials the platform adapters keep in it are sealed with SHORTS_SECRET_KEY."""

    # Both may hold secrets (a password in the URL, the keys): kept out of the repr as well.
    url: dg.ResourceDependency[str] = Field(repr=False)
    secret_keys: dg.ResourceDependency[SecretKeys | None] = Field(default=None, repr=False)
    # Where the events recorded in this database are posted (SHORTS_WEBHOOK_URLS, ...); holds the signing secret.
    webhooks: dg.ResourceDependency[WebhookConfig] = Field(default_factory=WebhookConfig, repr=False)

    def store(self) -> Store:
        return Store(self.url)

    def notifier(self, store: Store | None = None) -> Notifier:
        """Records events in this database's outbox and posts them to the configured webhooks."""
        return Notifier(store or self.store(), self.webhooks)

    def state(self, store: Store | None = None) -> DatabaseStateStore:
        """The adapters' durable state in this database, credentials sealed with the configured keys."""
        return DatabaseStateStore(store or self.store(), self.secret_keys)


class MediaResource(dg.ConfigurableResource):
    """The data root (SHORTS_DATA_DIR) with the outbox, and the media store (SHORTS_MEDIA_ROOT: a folder,
    by default `<data root>/media`, or s3://bucket/prefix) laid out by channel/date/video id."""

    data_dir: dg.ResourceDependency[str]
    media_root: dg.ResourceDependency[str] = ""  # SHORTS_MEDIA_ROOT; empty: <data_dir>/media
    scratch_dir: dg.ResourceDependency[str] = ""  # SHORTS_SCRATCH_DIR; empty: <data_dir>/scratch
    s3_endpoint_url: dg.ResourceDependency[str] = ""  # SHORTS_MEDIA_S3_ENDPOINT_URL
    base_url: dg.ResourceDependency[str] = ""  # CLOUD_RENDER_MEDIA_BASE_URL: where the media root is served

    def config(self) -> MediaConfig:
        return MediaConfig(
            root=self.media_root or str((Path(self.data_dir) / "media").resolve()),
            scratch_dir=self.scratch_dir or str((Path(self.data_dir) / "scratch").resolve()),
            endpoint_url=self.s3_endpoint_url,
            base_url=self.base_url,
        )

    def store(self) -> MediaStore:
        return open_store(self.config())

    def video_dir(self, channel: str, batch_date: date, video_id: str) -> Path:
        """The local folder a video's files are made in (the media root itself when it is a folder)."""
        return self.store().work_dir(video_prefix(channel, batch_date, video_id))

    @property
    def outbox_dir(self) -> Path:
        return Path(self.data_dir) / "outbox"


class ChannelsResource(dg.ConfigurableResource):
    """The configured channels (SHORTS_CHANNELS or SHORTS_CHANNELS_FILE), as the JSON document the file holds."""

    # {"channels": [{"name": ..., "videos_per_day": ...}, ...]}; out of the repr: a webhook URL may be a credential
    channels: dg.ResourceDependency[str] = Field(repr=False)

    def configs(self) -> tuple[ChannelConfig, ...]:
        return tuple(ChannelConfig.from_dict(c, "the channels resource") for c in json.loads(self.channels)["channels"])

    def get(self, name: str) -> ChannelConfig:
        configs = self.configs()
        for channel in configs:
            if channel.name == name:
                return channel
        known = ", ".join(c.name for c in configs)
        raise ConfigError(f"unknown channel {name!r}: SHORTS_CHANNELS defines {known}")

    @classmethod
    def from_configs(cls, channels: tuple[ChannelConfig, ...]) -> "ChannelsResource":
        return cls(channels=json.dumps({"channels": [c.to_dict() for c in channels]}))


class SpendingResource(dg.ConfigurableResource):
    """Each channel's daily limit on paid provider calls (SHORTS_DAILY_BUDGET_USD) and the price table
    its costs are estimated from (SHORTS_PRICES_FILE)."""

    daily_limits_usd: dg.ResourceDependency[dict[str, float]] = {}  # a channel left out has no limit
    prices_file: dg.ResourceDependency[str] = ""
    webhooks: dg.ResourceDependency[WebhookConfig] = Field(default_factory=WebhookConfig, repr=False)

    def prices(self) -> PriceTable:
        if not self.prices_file:
            return PriceTable()
        return PriceTable.from_json(Path(self.prices_file).read_text(encoding="utf-8"))

    def budget(self, channel: str, store: Store) -> Budget:
        return Budget(
            DatabaseStateStore(store),
            channel,
            self.daily_limits_usd.get(channel),
            self.prices(),
            on_exhausted=budget_listener(store, self.webhooks),  # one budget_exhausted event a day
        )


class ScriptWriterResource(dg.ConfigurableResource):
    """Writes scripts (SCRIPT_PROVIDER): the offline template writer, OpenAI or Anthropic; SCRIPT_CANDIDATES
    of them per video, of which the reward model keeps the best."""

    provider: dg.ResourceDependency[str] = "template"
    model: dg.ResourceDependency[str] = ""  # SCRIPT_MODEL; empty: the provider's default
    candidates: dg.ResourceDependency[int] = 1  # SCRIPT_CANDIDATES
    openai_api: dg.ResourceDependency[str] = "responses"  # OPENAI_SCRIPT_API
    base_urls: dg.ResourceDependency[dict[str, str]] = {}

    @property
    def writes_any_topic(self) -> bool:
        """Language models write about anything viewers ask for; the template writer only its topic bank."""
        return self.provider in ("openai", "anthropic", "ollama")

    def adapter(self, channel: str, budget: Budget) -> ScriptWriter:
        return registry.build(
            "script",
            self.provider,
            channel,
            os.environ,
            base_urls=self.base_urls,
            budget=budget,
            model=self.model,
            openai_api=self.openai_api,
        )


class ClipGeneratorResource(dg.ConfigurableResource):
    """Generates scene clips (VIDEO_GEN_PROVIDER): procedural clips made by ffmpeg; stock footage
    (Pexels, Pixabay); the channel's own media library; AI stills; or Sora, Runway, Luma or Pika, whose
    jobs are recorded in the database so a retry resumes instead of paying again. A comma-separated
    list is a chain tried per scene."""

    provider: dg.ResourceDependency[str] = "stub"
    model: dg.ResourceDependency[str] = ""  # VIDEO_GEN_MODEL; empty: the provider's default
    poll_interval_s: dg.ResourceDependency[float] = 5.0
    base_urls: dg.ResourceDependency[dict[str, str]] = {}
    media_library: dg.ResourceDependency[str] = ""  # SHORTS_MEDIA_LIBRARY
    stock_window_days: dg.ResourceDependency[int] = 30  # STOCK_REUSE_WINDOW_DAYS
    image_quality: dg.ResourceDependency[str] = "medium"  # OPENAI_IMAGE_QUALITY
    # The profile the renders are made at (RENDER_PROFILE; the cloud renderer's is final): drawn clips
    # come out at its size, and clips made for another size are made again.
    render_profile: dg.ResourceDependency[str] = "final"

    @property
    def clip_size(self) -> tuple[int, int]:
        profile = PROFILES[self.render_profile]
        return profile.width, profile.height

    def adapter(self, channel: str, budget: Budget, store: Store) -> ClipGenerator:
        return registry.build_video(
            self.provider,
            channel,
            os.environ,
            base_urls=self.base_urls,
            budget=budget,
            state=DatabaseStateStore(store),
            model=self.model,
            poll_interval_s=self.poll_interval_s,
            media_library=self.media_library,
            stock_window_days=self.stock_window_days,
            image_quality=self.image_quality,
            clip_size=self.clip_size,
        )


class VoiceResource(dg.ConfigurableResource):
    """Speaks the narration with word timings (TTS_PROVIDER): espeak-ng in-process, OpenAI or ElevenLabs."""

    provider: dg.ResourceDependency[str] = "espeak"
    model: dg.ResourceDependency[str] = ""  # TTS_MODEL; empty: the provider's default
    voices: dg.ResourceDependency[dict[str, str]] = {}  # TTS_VOICES: voice arm -> the provider's voice
    base_urls: dg.ResourceDependency[dict[str, str]] = {}

    def adapter(self, channel: str, budget: Budget, language: str = "en") -> Voice:
        return registry.build(
            "voice",
            self.provider,
            channel,
            os.environ,
            base_urls=self.base_urls,
            budget=budget,
            model=self.model,
            voices=self.voices,
            language=language,
        )


class RendererResource(dg.ConfigurableResource):
    """Renders the vertical short (RENDERER_PROVIDER): ffmpeg on this machine, or Creatomate's cloud API
    fetching the media from where the data root is served, its render ids kept in the database."""

    provider: dg.ResourceDependency[str] = "ffmpeg"
    profile: dg.ResourceDependency[str] = "final"  # final: 1080×1920 for publishing; draft: smaller and faster
    data_dir: dg.ResourceDependency[str] = ""
    media_base_url: dg.ResourceDependency[str] = ""  # CLOUD_RENDER_MEDIA_BASE_URL
    poll_interval_s: dg.ResourceDependency[float] = 5.0
    timeout_s: dg.ResourceDependency[float] = 1800.0
    base_urls: dg.ResourceDependency[dict[str, str]] = {}

    def adapter(
        self,
        channel: str = "",
        budget: Budget | None = None,
        store: Store | None = None,
        media: MediaStore | None = None,
    ) -> Renderer:
        """The renderer; with `media`, a cloud renderer fetches the clips and narration from that store's URLs."""
        return registry.build(
            "renderer",
            self.provider,
            channel,
            os.environ,
            base_urls=self.base_urls,
            budget=budget,
            state=DatabaseStateStore(store) if store else None,
            profile=self.profile,
            media_base_url=self.media_base_url,
            data_dir=self.data_dir,
            media_urls=url_resolver(media) if media is not None else None,
            poll_interval_s=self.poll_interval_s,
            timeout_s=self.timeout_s,
        )

    def contract(self) -> dict[str, float]:
        """What every render must meet (see checks.render_checks.check_render); the cloud renders final."""
        profile = PROFILES["final" if self.provider == "cloud" else self.profile]
        return {"width": profile.width, "height": profile.height, "fps": profile.fps}


class PlatformsResource(dg.ConfigurableResource):
    """Publishing, analytics and comments per platform.

    With no PUBLISHER_* switched on: the simulated platforms and audience. Otherwise the real
    adapters of the platforms switched on, their credentials read from the environment when built
    and their durable state (upload sessions, rotated tokens, quota) kept in the database.
    """

    data_dir: dg.ResourceDependency[str]
    database: DatabaseResource
    reject_rate: dg.ResourceDependency[float] = 0.0
    real: dg.ResourceDependency[list[str]] = []
    base_urls: dg.ResourceDependency[dict[str, str]] = {}
    # TIKTOK_POST_MODE, TIKTOK_PRIVACY_LEVEL, YOUTUBE_QUOTA_MODEL as validated settings
    options: dg.ResourceDependency[dict[str, str]] = {}

    @property
    def simulated(self) -> bool:
        return not self.real

    def publisher(self, platform: str, account: str, channel: ChannelConfig | None = None) -> Publisher | None:
        """The channel's publisher on a platform, or None where that platform is switched off; ``channel``
        gives its own publishing options (its YouTube audience, its TikTok post mode)."""
        if self.simulated:
            from shorts_assets.providers.platforms.simulated import SimulatedPlatform

            return SimulatedPlatform(
                Path(self.data_dir) / "outbox", platform, account=account, reject_rate=self.reject_rate
            )
        if platform not in self.real:
            return None
        return self._adapter(platform, account, channel)

    def audience(self, channel: ChannelConfig) -> Audience:
        if self.simulated:
            from shorts_assets.providers.platforms.audience import SimulatedAudience

            return SimulatedAudience(Path(self.data_dir) / "outbox", seed=channel.audience_seed)
        from shorts_assets.providers.platforms.combined import PlatformAudience

        return PlatformAudience(
            {p: self._adapter(p, channel.name, channel) for p in self.real if p in channel.platforms}
        )

    def _adapter(self, platform: str, account: str, channel: ChannelConfig | None = None) -> Audience:
        state = self.database.state()
        options: dict[str, object] = dict(self.options)
        if channel is not None:
            options["made_for_kids"] = channel.made_for_kids
            if channel.tiktok_post_mode:
                options["tiktok_post_mode"] = channel.tiktok_post_mode
        return registry.build(
            "platform", platform, account, os.environ, base_urls=self.base_urls, state=state, **options
        )


def build_resources(settings: Settings) -> dict[str, dg.ConfigurableResource]:
    """Every resource the loop needs, configured from validated settings."""
    database = DatabaseResource(url=settings.database_url, secret_keys=settings.secret_keys, webhooks=settings.webhooks)
    return {
        "database": database,
        "media": media_resource(settings),
        "channels": ChannelsResource.from_configs(settings.channels),
        "spending": SpendingResource(
            daily_limits_usd=dict(settings.daily_budgets_usd),
            prices_file=settings.prices_file,
            webhooks=settings.webhooks,
        ),
        "script_writer": ScriptWriterResource(
            provider=settings.script_provider,
            model=settings.script_model,
            candidates=settings.script_candidates,
            openai_api=settings.openai_script_api,
            base_urls=dict(settings.base_urls),
        ),
        "clip_generator": ClipGeneratorResource(
            provider=settings.video_gen_provider,
            model=settings.video_gen_model,
            poll_interval_s=settings.video_poll_interval_s,
            media_library=settings.media_library,
            stock_window_days=settings.stock_window_days,
            image_quality=settings.image_quality,
            base_urls=dict(settings.base_urls),
            render_profile="final" if settings.renderer_provider == "cloud" else settings.render_profile,
        ),
        "voice": VoiceResource(
            provider=settings.tts_provider,
            model=settings.tts_model,
            voices=dict(settings.tts_voices),
            base_urls=dict(settings.base_urls),
        ),
        "renderer": RendererResource(
            provider=settings.renderer_provider,
            profile=settings.render_profile,
            data_dir=str(settings.data_dir),
            media_base_url=settings.cloud_render_media_base_url,
            poll_interval_s=settings.cloud_render_poll_interval_s,
            timeout_s=settings.cloud_render_timeout_s,
            base_urls=dict(settings.base_urls),
        ),
        "platforms": PlatformsResource(
            data_dir=str(settings.data_dir),
            database=database,
            reject_rate=settings.sim_reject_rate,
            real=list(settings.real_publishers),
            base_urls=dict(settings.base_urls),
            options=settings.platform_options(),
        ),
    }


def media_resource(settings: Settings) -> MediaResource:
    """The media resource of validated settings (the data root and the media store)."""
    media = settings.media or MediaConfig.from_env({}, settings.data_dir)
    return MediaResource(
        data_dir=str(settings.data_dir),
        media_root=media.root,
        scratch_dir=media.scratch_dir,
        s3_endpoint_url=media.endpoint_url,
        base_url=media.base_url,
    )
