"""The reward model's features: what one (video, platform) observation is made of, by name.

Every observation has the intercept, its platform, one feature per arm (``topic=space``), the
pairwise terms of the dimensions that interact (``topicxhook=space|question``), and the
platform-specific effects of the dimensions a platform's audience judges in its own way
(``tiktok:length=short``). Features are keyed by name, so an arm space that grows or shrinks keeps
every feature it already learned.
"""

from __future__ import annotations

from collections.abc import Mapping

INTERCEPT = "intercept"
# Pairs of dimensions whose values interact (a hook works for one topic and not another).
INTERACTIONS: tuple[tuple[str, str], ...] = (("topic", "hook"),)
# Dimensions whose effect differs per platform (TikTok rewards other lengths and hours than YouTube).
PLATFORM_DIMENSIONS: tuple[str, ...] = ("length", "posting_hour")
# Of those, the ones a video may take a different value of on each platform: chosen per platform.
PER_PLATFORM_ARMS: tuple[str, ...] = ("posting_hour",)


def arm_feature(dimension: str, value: str) -> str:
    return f"{dimension}={value}"


def pair_feature(first: str, a: str, second: str, b: str) -> str:
    return f"{first}x{second}={a}|{b}"


def platform_feature(platform: str, dimension: str, value: str) -> str:
    return f"{platform}:{dimension}={value}"


def platform_of(feature: str) -> str | None:
    """The platform a ``platform=<name>`` feature names, else None."""
    return feature.split("=", 1)[1] if feature.startswith("platform=") else None


def pair_features(arms: Mapping[str, str]) -> list[str]:
    return [pair_feature(d1, str(arms[d1]), d2, str(arms[d2])) for d1, d2 in INTERACTIONS if d1 in arms and d2 in arms]


def row_features(arms: Mapping[str, str], platform: str) -> list[str]:
    """The features of one observation: `arms` as seen on `platform` (no per-platform keys left)."""
    names = [INTERCEPT, f"platform={platform}"]
    names += [arm_feature(d, str(v)) for d, v in arms.items() if "@" not in d]
    names += pair_features(arms)
    names += [platform_feature(platform, d, str(arms[d])) for d in PLATFORM_DIMENSIONS if d in arms]
    return names
