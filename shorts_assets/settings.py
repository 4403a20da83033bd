"""Configuration from environment variables, validated once, with errors that name the variable.

Which providers exist and what they need comes from the provider registry; nothing imports this
module but the Dagster wing (and the tests and benchmarks that stand in for it).
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import sqlalchemy as sa

from shorts_assets.core.arms import ARM_SPACE
from shorts_assets.core.channels import DEFAULT_CHANNEL, ChannelConfig, default_seed
from shorts_assets.core.credentials import channel_variable, credential
from shorts_assets.core.errors import ConfigError, ProviderError
from shorts_assets.core.languages import LANGUAGES
from shorts_assets.core.review import review_default
from shorts_assets.db.secrets import VARIABLE as SECRET_KEY_VARIABLE
from shorts_assets.db.secrets import SecretKeys
from shorts_assets.notify.config import WebhookConfig
from shorts_assets.notify.config import load_config as load_webhooks
from shorts_assets.providers.net.costs import PriceTable
from shorts_assets.providers.platforms.tiktok import POST_MODES as TIKTOK_POST_MODES
from shorts_assets.providers.platforms.tiktok import PRIVACY_LEVELS as TIKTOK_PRIVACY_LEVELS
from shorts_assets.providers.platforms.youtube import QUOTA_MODELS as YOUTUBE_QUOTA_MODELS
from shorts_assets.providers.registry import SEAMS, base_url_variables, video_members
from shorts_assets.providers.render.fonts import check_language_fonts
from shorts_assets.storage.config import MediaConfig
from shorts_assets.storage.errors import MediaStoreError

DEFAULT_DAILY_BUDGET_USD = 10.0
MAX_SCRIPT_CANDIDATES = 10
RENDER_PROFILES = ("final", "draft")


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    log_level: str
    channels: tuple[ChannelConfig, ...]
    start_date: str
    script_provider: str = "template"
    video_gen_provider: str = "stub"
    tts_provider: str = "espeak"
    renderer_provider: str = "ffmpeg"
    render_profile: str = "final"
    real_publishers: tuple[str, ...] = ()
    sim_reject_rate: float = 0.0
    base_urls: Mapping[str, str] = field(default_factory=dict)
    script_model: str = ""
    script_candidates: int = 1  # scripts written per video, the reward model keeping the best
    openai_script_api: str = "responses"
    video_gen_model: str = ""
    video_poll_interval_s: float = 5.0
    media_library: str = ""  # SHORTS_MEDIA_LIBRARY: the folder the library provider matches scenes in
    stock_window_days: int = 30  # a stock clip is not used again by a channel within this many days
    image_quality: str = "medium"  # OPENAI_IMAGE_QUALITY for AI stills
    tts_model: str = ""
    tts_voices: Mapping[str, str] = field(default_factory=dict)  # voice arm -> the provider's voice
    # channel -> USD per UTC day on paid provider calls; a channel left out has no limit
    daily_budgets_usd: Mapping[str, float] = field(default_factory=dict)
    prices_file: str = ""
    cloud_render_media_base_url: str = ""  # where the data root is served for the cloud renderer to fetch
    cloud_render_poll_interval_s: float = 5.0
    cloud_render_timeout_s: float = 1800.0
    # SHORTS_SECRET_KEY: seals the credentials kept in the database; None when unset
    secret_keys: SecretKeys | None = field(default=None, repr=False)
    # SHORTS_WEBHOOK_URLS, SHORTS_WEBHOOK_SECRET and the channels' webhook_urls: where events are posted
    webhooks: WebhookConfig = field(default_factory=WebhookConfig, repr=False)
    # How the real platforms publish: options the platform adapters are built with (see platform_options)
    tiktok_post_mode: str = "direct"  # TIKTOK_POST_MODE: direct | inbox, a channel's own wins
    tiktok_privacy_level: str = "PUBLIC_TO_EVERYONE"  # TIKTOK_PRIVACY_LEVEL of direct posts
    youtube_quota_model: str = "current"  # YOUTUBE_QUOTA_MODEL: current | legacy

    def platform_options(self) -> dict[str, str]:
        """The publishing options every real platform adapter is built with."""
        return {
            "tiktok_post_mode": self.tiktok_post_mode,
            "tiktok_privacy_level": self.tiktok_privacy_level,
            "youtube_quota_model": self.youtube_quota_model,
        }

    # SHORTS_MEDIA_ROOT, SHORTS_SCRATCH_DIR, SHORTS_MEDIA_S3_ENDPOINT_URL: where the media is kept
    media: MediaConfig | None = None

    @property
    def simulation(self) -> bool:
        return not self.real_publishers

    def channel(self, name: str) -> ChannelConfig:
        for channel in self.channels:
            if channel.name == name:
                return channel
        known = ", ".join(c.name for c in self.channels)
        raise ConfigError(f"unknown channel {name!r}: SHORTS_CHANNELS defines {known}")


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(f"{name}={env[name]!r} is not a boolean (use true or false)")


def _provider(env: Mapping[str, str], seam_name: str, channels: tuple[ChannelConfig, ...]) -> str:
    """The provider chosen for a seam; its key variables must be set for every channel."""
    seam = SEAMS[seam_name]
    name = seam.variable
    value = env.get(name, "").strip() or seam.default
    if value not in seam.providers:
        raise ConfigError(f"{name}={value!r} is not one of: {', '.join(seam.providers)}")
    for channel in channels:
        missing = [key for key in seam.providers[value].keys if not credential(env, key, channel.name)]
        if missing:
            wanted = ", ".join(f"{key} (or {channel_variable(key, channel.name)})" for key in missing)
            raise ConfigError(f"{name}={value} needs {wanted} to be set for channel {channel.name}")
    return value


def _video_provider(env: Mapping[str, str], channels: tuple[ChannelConfig, ...]) -> str:
    """VIDEO_GEN_PROVIDER: one provider, or a comma-separated chain tried per scene; every member's keys set."""
    value = env.get("VIDEO_GEN_PROVIDER", "").strip() or SEAMS["video"].default
    try:
        members = video_members(value)
    except ProviderError as exc:
        raise ConfigError(f"{exc}; known: {', '.join(SEAMS['video'].providers)}") from None
    for member in members:
        for channel in channels:
            missing = [key for key in SEAMS["video"].providers[member].keys if not credential(env, key, channel.name)]
            if missing:
                wanted = ", ".join(f"{key} (or {channel_variable(key, channel.name)})" for key in missing)
                raise ConfigError(f"VIDEO_GEN_PROVIDER={value} needs {wanted} to be set for channel {channel.name}")
    return ",".join(members)


def _media_library(env: Mapping[str, str], video_provider: str) -> str:
    value = env.get("SHORTS_MEDIA_LIBRARY", "").strip()
    if "library" not in video_provider.split(","):
        return value
    if not value:
        raise ConfigError(
            "VIDEO_GEN_PROVIDER with library needs SHORTS_MEDIA_LIBRARY, the folder of your clips and images"
        )
    if not Path(value).is_dir():
        raise ConfigError(f"SHORTS_MEDIA_LIBRARY={value}: no such folder")
    return str(Path(value).resolve())


def _channels(env: Mapping[str, str]) -> tuple[ChannelConfig, ...]:
    review = review_default(env)  # SHORTS_REVIEW: the review mode of a channel that names none
    names = env.get("SHORTS_CHANNELS", "").strip()
    path = env.get("SHORTS_CHANNELS_FILE", "").strip()
    if names and path:
        raise ConfigError("set SHORTS_CHANNELS or SHORTS_CHANNELS_FILE, not both")
    if path:
        try:
            document = json.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"SHORTS_CHANNELS_FILE={path}: no such file") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ConfigError(f"SHORTS_CHANNELS_FILE={path}: not valid JSON ({exc})") from None
        raw_channels = document.get("channels") if isinstance(document, dict) else None
        if not isinstance(raw_channels, list) or not raw_channels:
            raise ConfigError(f'SHORTS_CHANNELS_FILE={path}: expected {{"channels": [{{"name": ...}}, ...]}}')
        channels = tuple(ChannelConfig.from_dict(c, f"SHORTS_CHANNELS_FILE={path}", review) for c in raw_channels)
    elif names:
        channels = tuple(
            ChannelConfig.from_dict({"name": n.strip()}, "SHORTS_CHANNELS", review) for n in names.split(",")
        )
    else:
        channels = (ChannelConfig(name=DEFAULT_CHANNEL, audience_seed=default_seed(DEFAULT_CHANNEL), review=review),)
    seen = [c.name for c in channels]
    duplicates = sorted({n for n in seen if seen.count(n) > 1})
    if duplicates:
        raise ConfigError(
            f"{'SHORTS_CHANNELS_FILE' if path else 'SHORTS_CHANNELS'}: duplicate channel {duplicates[0]!r}"
        )
    return channels


def _start_date(env: Mapping[str, str]) -> str:
    value = env.get("SHORTS_START_DATE", "").strip() or "2026-01-01"
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            date.fromisoformat(value)
            return value
        except ValueError:
            pass  # shaped like a date, but no such day
    raise ConfigError(f"SHORTS_START_DATE={value!r} must be a date like 2026-01-01")


def _database_url(env: Mapping[str, str], data_dir: Path) -> str:
    """DATABASE_URL, which must name its database; never echoed, as it may hold a password."""
    value = env.get("DATABASE_URL", "").strip()
    if not value:
        return f"sqlite:///{data_dir / 'shorts.db'}"
    try:
        url = sa.engine.make_url(value) if "://" in value else None
    except (sa.exc.ArgumentError, ValueError):  # a malformed URL, or a port that is no number
        url = None
    if url is None:
        raise ConfigError("DATABASE_URL must be a SQLAlchemy URL such as postgresql+psycopg2://host/db")
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        raise ConfigError(
            "DATABASE_URL names no database file: use sqlite:///<path> (an in-memory database would not "
            "outlive one connection)"
        )
    if not url.database:
        raise ConfigError(
            "DATABASE_URL names no database: end it with /<database name>, or the server's default database "
            "would be used"
        )
    return value


def _secret_keys(env: Mapping[str, str], real_publishers: tuple[str, ...]) -> SecretKeys | None:
    """SHORTS_SECRET_KEY, required by a real publisher: its tokens are kept in the database, sealed."""
    keys = SecretKeys.parse(env.get(SECRET_KEY_VARIABLE, ""))
    if keys is None and real_publishers:
        switched_on = ", ".join(f"PUBLISHER_{p.upper()}=true" for p in real_publishers)
        raise ConfigError(
            f"{switched_on} needs {SECRET_KEY_VARIABLE}: the platform's tokens are kept in the database "
            "encrypted with it (a Fernet key, or several comma-separated to rotate)"
        )
    return keys


def _reject_rate(env: Mapping[str, str]) -> float:
    raw = env.get("SIM_PUBLISH_REJECT_RATE", "").strip() or "0"
    try:
        rate = float(raw)
    except ValueError:
        rate = -1.0
    if not 0.0 <= rate <= 1.0:
        raise ConfigError(f"SIM_PUBLISH_REJECT_RATE={raw!r} must be a number from 0 to 1")
    return rate


def _publisher_enabled(env: Mapping[str, str], platform: str, channels: tuple[ChannelConfig, ...]) -> bool:
    variable = f"PUBLISHER_{platform.upper()}"
    if not _flag(env, variable):
        return False
    for channel in channels:
        if platform not in channel.platforms:
            continue
        missing = [
            f"{key} (or {channel_variable(key, channel.name)})"
            for key in SEAMS["platform"].providers[platform].keys
            if not credential(env, key, channel.name)
        ]
        if missing:
            raise ConfigError(f"{variable}=true needs {', '.join(missing)} for channel {channel.name}")
    return True


def _base_urls(env: Mapping[str, str]) -> dict[str, str]:
    urls = {}
    for variable in base_url_variables():
        value = env.get(variable, "").strip()
        if not value:
            continue
        urls[variable] = _http_url(variable, value)
    return urls


def _http_url(variable: str, value: str) -> str:
    if not re.match(r"^https?://[^\s/]+", value):
        raise ConfigError(f"{variable}={value!r} must be an http(s) URL")
    return value.rstrip("/")


def _media_config(env: Mapping[str, str], data_dir: Path) -> MediaConfig:
    try:
        return MediaConfig.from_env(env, data_dir)
    except MediaStoreError as exc:
        raise ConfigError(str(exc)) from None


def _media_base_url(env: Mapping[str, str], renderer_provider: str) -> str:
    value = env.get("CLOUD_RENDER_MEDIA_BASE_URL", "").strip()
    if renderer_provider != "cloud" or (not value and env.get("SHORTS_MEDIA_ROOT", "").strip().startswith("s3://")):
        return value  # an s3:// media root serves the cloud renderer presigned URLs
    if not value:
        raise ConfigError(
            "RENDERER_PROVIDER=cloud needs CLOUD_RENDER_MEDIA_BASE_URL: the http(s) URL where the media root "
            "(SHORTS_MEDIA_ROOT) is served, so the renderer can fetch the clips and narration (or an s3:// "
            "media root, which serves presigned URLs)"
        )
    return _http_url("CLOUD_RENDER_MEDIA_BASE_URL", value)


def _render_profile(env: Mapping[str, str]) -> str:
    value = env.get("RENDER_PROFILE", "").strip() or "final"
    if value not in RENDER_PROFILES:
        raise ConfigError(f"RENDER_PROFILE={value!r} is not one of: {', '.join(RENDER_PROFILES)}")
    return value


def _number(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not low <= value <= high:
        raise ConfigError(f"{name}={raw!r} must be a number from {low:g} to {high:g}")
    return value


def _integer(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not re.fullmatch(r"[0-9]+", raw) or not low <= int(raw) <= high:
        raise ConfigError(f"{name}={raw!r} must be a whole number from {low} to {high}")
    return int(raw)


def _script_candidates(env: Mapping[str, str], script_provider: str) -> int:
    """SCRIPT_CANDIDATES: several when scripts are free to write, one when each is paid for."""
    default = 3 if script_provider == "template" else 1
    return _integer(env, "SCRIPT_CANDIDATES", default, 1, MAX_SCRIPT_CANDIDATES)


def _budget(env: Mapping[str, str], name: str, default: float | None) -> float | None:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("none", "unlimited"):
        return None
    return _number(env, name, 0.0, 0.0, 1e9)


def _daily_budgets(env: Mapping[str, str], channels: tuple[ChannelConfig, ...]) -> dict[str, float]:
    """SHORTS_DAILY_BUDGET_USD for every channel, SHORTS_DAILY_BUDGET_USD_<CHANNEL> for one."""
    default = _budget(env, "SHORTS_DAILY_BUDGET_USD", DEFAULT_DAILY_BUDGET_USD)
    budgets = {}
    for channel in channels:
        limit = _budget(env, channel_variable("SHORTS_DAILY_BUDGET_USD", channel.name), default)
        if limit is not None:
            budgets[channel.name] = limit
    return budgets


def _prices_file(env: Mapping[str, str]) -> str:
    path = env.get("SHORTS_PRICES_FILE", "").strip()
    if not path:
        return ""
    try:
        PriceTable.from_json(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"SHORTS_PRICES_FILE={path}: cannot be read ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise ConfigError(f"SHORTS_PRICES_FILE={path}: {exc}") from None
    return str(Path(path).resolve())


def _voice_map(env: Mapping[str, str]) -> dict[str, str]:
    raw = env.get("TTS_VOICES", "").strip()
    voices = {}
    for pair in filter(None, (p.strip() for p in raw.split(","))):
        arm, sep, voice = (part.strip() for part in pair.partition("="))
        language, slash, bare_arm = arm.rpartition("/")
        if slash and language not in LANGUAGES:
            raise ConfigError(
                f"TTS_VOICES: {pair!r} names unknown language {language!r}; known: {', '.join(LANGUAGES)}"
            )
        if not sep or bare_arm not in ARM_SPACE["voice"] or not voice:
            raise ConfigError(
                f"TTS_VOICES: {pair!r} must be [<language>/]<voice arm>=<provider voice>, the arm one of "
                f"{', '.join(ARM_SPACE['voice'])}"
            )
        voices[arm] = voice
    return voices


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    value = env.get(name, "").strip() or choices[0]
    if value not in choices:
        raise ConfigError(f"{name}={value!r} is not one of: {', '.join(choices)}")
    return value


@dataclass(frozen=True)
class Location:
    """What the code location's definitions are shaped by: the channels, the first date, the log level.

    Read when the definitions' modules are imported; it holds no credential and no provider choice.
    """

    channels: tuple[ChannelConfig, ...]
    start_date: str
    log_level: str


def _log_level(env: Mapping[str, str]) -> str:
    log_level = (env.get("LOG_LEVEL", "").strip() or "INFO").upper()
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ConfigError(f"LOG_LEVEL={log_level!r} is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
    return log_level


def load_location(env: Mapping[str, str] | None = None) -> Location:
    """Read and validate SHORTS_CHANNELS (or SHORTS_CHANNELS_FILE), SHORTS_START_DATE and LOG_LEVEL."""
    env = os.environ if env is None else env
    channels = _channels(env)
    try:
        check_language_fonts((c.name, c.language) for c in channels)
    except ProviderError as exc:
        raise ConfigError(f"SHORTS_CHANNELS: {exc}") from None
    return Location(channels=channels, start_date=_start_date(env), log_level=_log_level(env))


@functools.cache
def current_location() -> Location:
    """The location settings of this process's environment, read once."""
    return load_location()


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate every variable; raise ConfigError naming the first bad one."""
    env = os.environ if env is None else env
    data_dir = Path(env.get("SHORTS_DATA_DIR", "").strip() or "data").resolve()
    database_url = _database_url(env, data_dir)
    location = load_location(env)
    log_level, channels = location.log_level, location.channels
    real_publishers = tuple(
        platform for platform in SEAMS["platform"].providers if _publisher_enabled(env, platform, channels)
    )
    renderer_provider = _provider(env, "renderer", channels)
    script_provider = _provider(env, "script", channels)
    video_provider = _video_provider(env, channels)
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        log_level=log_level,
        channels=channels,
        base_urls=_base_urls(env),
        start_date=location.start_date,
        script_provider=script_provider,
        video_gen_provider=video_provider,
        tts_provider=_provider(env, "voice", channels),
        renderer_provider=renderer_provider,
        render_profile=_render_profile(env),
        real_publishers=tuple(real_publishers),
        sim_reject_rate=_reject_rate(env),
        script_model=env.get("SCRIPT_MODEL", "").strip(),
        script_candidates=_script_candidates(env, script_provider),
        openai_script_api=_choice(env, "OPENAI_SCRIPT_API", ("responses", "chat")),
        video_gen_model=env.get("VIDEO_GEN_MODEL", "").strip(),
        video_poll_interval_s=_number(env, "VIDEO_GEN_POLL_INTERVAL_S", 5.0, 0.0, 600.0),
        media_library=_media_library(env, video_provider),
        stock_window_days=_integer(env, "STOCK_REUSE_WINDOW_DAYS", 30, 0, 3650),
        image_quality=_choice(env, "OPENAI_IMAGE_QUALITY", ("medium", "low", "high")),
        tts_model=env.get("TTS_MODEL", "").strip(),
        tts_voices=_voice_map(env),
        daily_budgets_usd=_daily_budgets(env, channels),
        prices_file=_prices_file(env),
        cloud_render_media_base_url=_media_base_url(env, renderer_provider),
        cloud_render_poll_interval_s=_number(env, "CLOUD_RENDER_POLL_INTERVAL_S", 5.0, 0.0, 600.0),
        cloud_render_timeout_s=_number(env, "CLOUD_RENDER_TIMEOUT_S", 1800.0, 1.0, 86400.0),
        secret_keys=_secret_keys(env, real_publishers),
        webhooks=load_webhooks(env, channels),
        tiktok_post_mode=_choice(env, "TIKTOK_POST_MODE", TIKTOK_POST_MODES),
        tiktok_privacy_level=_choice(env, "TIKTOK_PRIVACY_LEVEL", TIKTOK_PRIVACY_LEVELS),
        youtube_quota_model=_choice(env, "YOUTUBE_QUOTA_MODEL", YOUTUBE_QUOTA_MODELS),
        media=_media_config(env, data_dir),
    )


@functools.cache
def current_settings() -> Settings:
    """The settings of this process's environment, read once when the definitions are built."""
    return load_settings()
