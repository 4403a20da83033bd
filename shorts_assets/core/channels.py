"""A channel: how many videos a day, which topics and platforms, how much it explores, and how it
publishes (its YouTube audience, its TikTok post mode).

One codec for every place a channel is written down (SHORTS_CHANNELS_FILE, the Dagster resource),
so a field is declared and validated once.
"""

from __future__ import annotations

import dataclasses
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shorts_assets.core.arms import ARM_SPACE
from shorts_assets.core.errors import ConfigError
from shorts_assets.core.languages import DEFAULT_LANGUAGE, LANGUAGES
from shorts_assets.core.review import OFF, review_mode
from shorts_assets.core.types import PLATFORMS

# Matched whole (fullmatch): with re.match, "$" would also accept a name ending in a newline.
CHANNEL_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
DEFAULT_CHANNEL = "demo"
TIKTOK_POST_MODES = ("direct", "inbox")  # post the video, or send it as a draft to the creator's inbox


@dataclass(frozen=True)
class ChannelConfig:
    name: str
    videos_per_day: int = 3
    topics: tuple[str, ...] = ARM_SPACE["topic"]
    platforms: tuple[str, ...] = PLATFORMS
    exploration: float = 0.1
    audience_seed: int = 0
    # Where this channel's events are posted besides SHORTS_WEBHOOK_URLS (checked when settings load).
    webhook_urls: tuple[str, ...] = dataclasses.field(default=(), repr=False)
    # The audience declared on every YouTube upload (selfDeclaredMadeForKids).
    made_for_kids: bool = False
    # "" follows TIKTOK_POST_MODE; otherwise one of TIKTOK_POST_MODES for this channel alone.
    tiktok_post_mode: str = ""
    review: str = OFF  # off | before_publish | before_generation (see core.review)
    language: str = DEFAULT_LANGUAGE  # what its scripts are written, spoken and captioned in

    def arm_space(self) -> dict[str, tuple[str, ...]]:
        """The arm space this channel allocates over (its own topics)."""
        return {**ARM_SPACE, "topic": self.topics}

    def to_dict(self) -> dict[str, Any]:
        return {
            f.name: list(v) if isinstance(v := getattr(self, f.name), tuple) else v for f in dataclasses.fields(self)
        }

    @classmethod
    def from_dict(cls, raw: object, where: str, review_default: str = OFF) -> ChannelConfig:
        """A validated channel; a ConfigError says `where` it was written and which field is wrong.

        A channel that names no `review` mode gets `review_default` (SHORTS_REVIEW).
        """
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{where}: each channel must be an object, got {raw!r}")
        unknown = set(raw) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ConfigError(f"{where}: unknown channel field(s) {', '.join(sorted(unknown))}")
        name = raw.get("name")
        if not isinstance(name, str) or not CHANNEL_NAME.fullmatch(name):
            raise ConfigError(f"{where}: channel name {name!r} must match {CHANNEL_NAME.pattern}")
        kwargs: dict[str, Any] = {"name": name, "audience_seed": default_seed(name), "review": review_default}
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
                raise ConfigError(
                    f"{where}: {name}.platforms must be a non-empty list drawn from {', '.join(PLATFORMS)}"
                )
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
        if "webhook_urls" in raw:
            urls = raw["webhook_urls"]
            if not isinstance(urls, list) or any(not isinstance(u, str) or not u.strip() for u in urls):
                raise ConfigError(f"{where}: {name}.webhook_urls must be a list of URLs")
            kwargs["webhook_urls"] = tuple(dict.fromkeys(u.strip() for u in urls))
        if "made_for_kids" in raw:
            if not isinstance(raw["made_for_kids"], bool):
                raise ConfigError(f"{where}: {name}.made_for_kids must be true or false")
            kwargs["made_for_kids"] = raw["made_for_kids"]
        if "tiktok_post_mode" in raw:
            mode = raw["tiktok_post_mode"]
            if mode not in ("", *TIKTOK_POST_MODES):
                raise ConfigError(f"{where}: {name}.tiktok_post_mode must be one of {', '.join(TIKTOK_POST_MODES)}")
            kwargs["tiktok_post_mode"] = mode
        if "review" in raw:
            kwargs["review"] = review_mode(raw["review"], f"{where}: {name}.review")
        if "language" in raw:
            if not isinstance(raw["language"], str) or raw["language"] not in LANGUAGES:
                raise ConfigError(
                    f"{where}: channel {name}: unknown language {raw['language']!r}; known: {', '.join(LANGUAGES)}"
                )
            kwargs["language"] = raw["language"]
        return cls(**kwargs)


def default_seed(name: str) -> int:
    """The simulated audience's seed of a channel that names none: stable per channel name."""
    return zlib.crc32(name.encode())
