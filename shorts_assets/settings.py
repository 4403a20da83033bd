"""Configuration from environment variables, validated once, with errors that name the variable."""

from __future__ import annotations

import functools
import json
import os
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from shorts_assets.arms import ARM_SPACE
from shorts_assets.providers.interfaces import PLATFORMS


class ConfigError(ValueError):
    """A configuration value is missing or malformed; the message names the variable."""


CHANNEL_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
DEFAULT_CHANNEL = "demo"

# Provider name -> the variables it needs. Offline providers need none.
SCRIPT_PROVIDERS = {"template": (), "openai": ("OPENAI_API_KEY",), "anthropic": ("ANTHROPIC_API_KEY",)}
VIDEO_GEN_PROVIDERS = {
    "stub": (),
    "openai_sora": ("OPENAI_API_KEY",),
    "runway": ("RUNWAYML_API_SECRET",),
    "luma": ("LUMAAI_API_KEY",),
    "pika": ("PIKA_API_KEY",),
}
TTS_PROVIDERS = {"espeak": (), "openai": ("OPENAI_API_KEY",), "elevenlabs": ("ELEVENLABS_API_KEY",)}
RENDERER_PROVIDERS = {"ffmpeg": (), "cloud": ("CREATOMATE_API_KEY",)}
RENDER_PROFILES = ("final", "draft")
PUBLISHER_CREDENTIALS = {
    "youtube": ("YOUTUBE_CLIENT_ID", "YOUTUBE_CLIENT_SECRET", "YOUTUBE_REFRESH_TOKEN"),
    "tiktok": ("TIKTOK_CLIENT_KEY", "TIKTOK_CLIENT_SECRET", "TIKTOK_REFRESH_TOKEN"),
    "instagram": ("INSTAGRAM_USER_ID", "INSTAGRAM_ACCESS_TOKEN"),
}
# Where each HTTP API lives; override to point the engine at another server (a proxy, a test double).
BASE_URL_VARIABLES = (
    "YOUTUBE_API_BASE_URL",
    "YOUTUBE_UPLOAD_BASE_URL",
    "YOUTUBE_ANALYTICS_BASE_URL",
    "GOOGLE_OAUTH_TOKEN_URL",
    "TIKTOK_API_BASE_URL",
    "INSTAGRAM_GRAPH_BASE_URL",
    "INSTAGRAM_RUPLOAD_BASE_URL",
    "INSTAGRAM_TOKEN_REFRESH_URL",
    "OPENAI_BASE_URL",
    "ANTHROPIC_BASE_URL",
    "RUNWAY_API_BASE_URL",
    "LUMA_API_BASE_URL",
    "PIKA_API_BASE_URL",
    "ELEVENLABS_API_BASE_URL",
    "CREATOMATE_API_BASE_URL",
)
# Providers whose adapters this build ships; the others are recognised, checked for their keys,
# and then refused with a message saying so.
AVAILABLE = {"template", "openai", "anthropic", "stub", "openai_sora", "runway", "luma", "pika", "espeak", "elevenlabs", "ffmpeg", "cloud"}
DEFAULT_DAILY_BUDGET_USD = 10.0
MAX_SCRIPT_CANDIDATES = 10


@dataclass(frozen=True)
class ChannelConfig:
    name: str
    videos_per_day: int = 3
    topics: tuple[str, ...] = ARM_SPACE["topic"]
    platforms: tuple[str, ...] = PLATFORMS
    exploration: float = 0.1
    audience_seed: int = 0

    def arm_space(self) -> dict[str, tuple[str, ...]]:
        """The arm space this channel allocates over (its own topics)."""
        return {**ARM_SPACE, "topic": self.topics}


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
    tts_model: str = ""
    tts_voices: Mapping[str, str] = field(default_factory=dict)  # voice arm -> the provider's voice
    # channel -> USD per UTC day on paid provider calls; a channel left out has no limit
    daily_budgets_usd: Mapping[str, float] = field(default_factory=dict)
    prices_file: str = ""
    cloud_render_media_base_url: str = ""  # where the data root is served for the cloud renderer to fetch
    cloud_render_poll_interval_s: float = 5.0
    cloud_render_timeout_s: float = 1800.0

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


def _provider(
    env: Mapping[str, str],
    name: str,
    table: dict[str, tuple[str, ...]],
    default: str,
    channels: tuple[ChannelConfig, ...],
) -> str:
    value = env.get(name, "").strip() or default
    if value not in table:
        raise ConfigError(f"{name}={value!r} is not one of: {', '.join(table)}")
    for channel in channels:
        missing = [key for key in table[value] if not credential(env, key, channel.name)]
        if missing:
            wanted = ", ".join(f"{key} (or {channel_variable(key, channel.name)})" for key in missing)
            raise ConfigError(f"{name}={value} needs {wanted} to be set for channel {channel.name}")
    if value not in AVAILABLE:
        raise ConfigError(
            f"{name}={value}: this build has no {value} adapter yet; use {name}={default}"
        )
    return value


def _channel_from_dict(raw: object, where: str) -> ChannelConfig:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: each channel must be an object, got {raw!r}")
    unknown = set(raw) - {"name", "videos_per_day", "topics", "platforms", "exploration", "audience_seed"}
    if unknown:
        raise ConfigError(f"{where}: unknown channel field(s) {', '.join(sorted(unknown))}")
    name = raw.get("name")
    if not isinstance(name, str) or not CHANNEL_NAME.match(name):
        raise ConfigError(f"{where}: channel name {name!r} must match {CHANNEL_NAME.pattern}")
    kwargs: dict[str, object] = {"name": name, "audience_seed": _default_seed(name)}
    if "videos_per_day" in raw:
        per_day = raw["videos_per_day"]
        if not isinstance(per_day, int) or isinstance(per_day, bool) or not 1 <= per_day <= 50:
            raise ConfigError(f"{where}: {name}.videos_per_day must be an integer from 1 to 50")
        kwargs["videos_per_day"] = per_day
    if "topics" in raw:
        topics = raw["topics"]
        if not isinstance(topics, list) or not topics or any(t not in ARM_SPACE["topic"] for t in topics):
            raise ConfigError(
                f"{where}: {name}.topics must be a non-empty list drawn from {', '.join(ARM_SPACE['topic'])}"
            )
        kwargs["topics"] = tuple(dict.fromkeys(topics))
    if "platforms" in raw:
        platforms = raw["platforms"]
        if not isinstance(platforms, list) or not platforms or any(p not in PLATFORMS for p in platforms):
            raise ConfigError(f"{where}: {name}.platforms must be a non-empty list drawn from {', '.join(PLATFORMS)}")
        kwargs["platforms"] = tuple(dict.fromkeys(platforms))
    if "exploration" in raw:
        exploration = raw["exploration"]
        if not isinstance(exploration, (int, float)) or not 0.0 <= exploration <= 1.0:
            raise ConfigError(f"{where}: {name}.exploration must be a number from 0 to 1")
        kwargs["exploration"] = float(exploration)
    if "audience_seed" in raw:
        if not isinstance(raw["audience_seed"], int):
            raise ConfigError(f"{where}: {name}.audience_seed must be an integer")
        kwargs["audience_seed"] = raw["audience_seed"]
    return ChannelConfig(**kwargs)  # type: ignore[arg-type]


def _default_seed(name: str) -> int:
    return zlib.crc32(name.encode())


def _channels(env: Mapping[str, str]) -> tuple[ChannelConfig, ...]:
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
            raise ConfigError(f"SHORTS_CHANNELS_FILE={path}: expected {{\"channels\": [{{\"name\": ...}}, ...]}}")
        channels = tuple(_channel_from_dict(c, f"SHORTS_CHANNELS_FILE={path}") for c in raw_channels)
    elif names:
        channels = tuple(
            _channel_from_dict({"name": n.strip()}, "SHORTS_CHANNELS") for n in names.split(",")
        )
    else:
        channels = (ChannelConfig(name=DEFAULT_CHANNEL, audience_seed=_default_seed(DEFAULT_CHANNEL)),)
    seen = [c.name for c in channels]
    duplicates = sorted({n for n in seen if seen.count(n) > 1})
    if duplicates:
        raise ConfigError(f"{'SHORTS_CHANNELS_FILE' if path else 'SHORTS_CHANNELS'}: duplicate channel {duplicates[0]!r}")
    return channels


def _start_date(env: Mapping[str, str]) -> str:
    value = env.get("SHORTS_START_DATE", "").strip() or "2026-01-01"
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ConfigError(f"SHORTS_START_DATE={value!r} must be a date like 2026-01-01")
    return value


def _reject_rate(env: Mapping[str, str]) -> float:
    raw = env.get("SIM_PUBLISH_REJECT_RATE", "").strip() or "0"
    try:
        rate = float(raw)
    except ValueError:
        rate = -1.0
    if not 0.0 <= rate <= 1.0:
        raise ConfigError(f"SIM_PUBLISH_REJECT_RATE={raw!r} must be a number from 0 to 1")
    return rate


def channel_variable(name: str, channel: str) -> str:
    """The per-channel form of a credential variable: YOUTUBE_REFRESH_TOKEN_COOKING for channel cooking."""
    return f"{name}_{channel.upper().replace('-', '_')}"


def credential(env: Mapping[str, str], name: str, channel: str) -> str | None:
    """A channel's own credential if it has one, else the default account's."""
    return env.get(channel_variable(name, channel)) or env.get(name) or None


def _publisher_enabled(env: Mapping[str, str], platform: str, channels: tuple[ChannelConfig, ...]) -> bool:
    variable = f"PUBLISHER_{platform.upper()}"
    if not _flag(env, variable):
        return False
    for channel in channels:
        if platform not in channel.platforms:
            continue
        missing = [
            f"{key} (or {channel_variable(key, channel.name)})"
            for key in PUBLISHER_CREDENTIALS[platform]
            if not credential(env, key, channel.name)
        ]
        if missing:
            raise ConfigError(f"{variable}=true needs {', '.join(missing)} for channel {channel.name}")
    return True


def _base_urls(env: Mapping[str, str]) -> dict[str, str]:
    urls = {}
    for variable in BASE_URL_VARIABLES:
        value = env.get(variable, "").strip()
        if not value:
            continue
        urls[variable] = _http_url(variable, value)
    return urls


def _http_url(variable: str, value: str) -> str:
    if not re.match(r"^https?://[^\s/]+", value):
        raise ConfigError(f"{variable}={value!r} must be an http(s) URL")
    return value.rstrip("/")


def _media_base_url(env: Mapping[str, str], renderer_provider: str) -> str:
    value = env.get("CLOUD_RENDER_MEDIA_BASE_URL", "").strip()
    if renderer_provider != "cloud":
        return value
    if not value:
        raise ConfigError(
            "RENDERER_PROVIDER=cloud needs CLOUD_RENDER_MEDIA_BASE_URL: the http(s) URL where SHORTS_DATA_DIR "
            "is served, so the renderer can fetch the clips and narration"
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
    from shorts_assets.providers.costs import PriceTable

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
        if not sep or arm not in ARM_SPACE["voice"] or not voice:
            raise ConfigError(
                f"TTS_VOICES: {pair!r} must be <voice arm>=<provider voice>, the arm one of {', '.join(ARM_SPACE['voice'])}"
            )
        voices[arm] = voice
    return voices


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    value = env.get(name, "").strip() or choices[0]
    if value not in choices:
        raise ConfigError(f"{name}={value!r} is not one of: {', '.join(choices)}")
    return value


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate every variable; raise ConfigError naming the first bad one."""
    env = os.environ if env is None else env
    data_dir = Path(env.get("SHORTS_DATA_DIR", "").strip() or "data").resolve()
    database_url = env.get("DATABASE_URL", "").strip() or f"sqlite:///{data_dir / 'shorts.db'}"
    if "://" not in database_url:
        raise ConfigError("DATABASE_URL must be a SQLAlchemy URL such as postgresql+psycopg2://host/db")
    log_level = (env.get("LOG_LEVEL", "").strip() or "INFO").upper()
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ConfigError(f"LOG_LEVEL={log_level!r} is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
    channels = _channels(env)
    real_publishers = tuple(
        platform for platform in PUBLISHER_CREDENTIALS if _publisher_enabled(env, platform, channels)
    )
    renderer_provider = _provider(env, "RENDERER_PROVIDER", RENDERER_PROVIDERS, "ffmpeg", channels)
    script_provider = _provider(env, "SCRIPT_PROVIDER", SCRIPT_PROVIDERS, "template", channels)
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        log_level=log_level,
        channels=channels,
        base_urls=_base_urls(env),
        start_date=_start_date(env),
        script_provider=script_provider,
        video_gen_provider=_provider(env, "VIDEO_GEN_PROVIDER", VIDEO_GEN_PROVIDERS, "stub", channels),
        tts_provider=_provider(env, "TTS_PROVIDER", TTS_PROVIDERS, "espeak", channels),
        renderer_provider=renderer_provider,
        render_profile=_render_profile(env),
        real_publishers=tuple(real_publishers),
        sim_reject_rate=_reject_rate(env),
        script_model=env.get("SCRIPT_MODEL", "").strip(),
        script_candidates=_script_candidates(env, script_provider),
        openai_script_api=_choice(env, "OPENAI_SCRIPT_API", ("responses", "chat")),
        video_gen_model=env.get("VIDEO_GEN_MODEL", "").strip(),
        video_poll_interval_s=_number(env, "VIDEO_GEN_POLL_INTERVAL_S", 5.0, 0.0, 600.0),
        tts_model=env.get("TTS_MODEL", "").strip(),
        tts_voices=_voice_map(env),
        daily_budgets_usd=_daily_budgets(env, channels),
        prices_file=_prices_file(env),
        cloud_render_media_base_url=_media_base_url(env, renderer_provider),
        cloud_render_poll_interval_s=_number(env, "CLOUD_RENDER_POLL_INTERVAL_S", 5.0, 0.0, 600.0),
        cloud_render_timeout_s=_number(env, "CLOUD_RENDER_TIMEOUT_S", 1800.0, 1.0, 86400.0),
    )


@functools.cache
def current_settings() -> Settings:
    """The settings of this process's environment, read once when the code location loads."""
    return load_settings()
