"""The content arms: the choices the strategy allocates and the script writer realises."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

ARM_SPACE: MappingProxyType[str, tuple[str, ...]] = MappingProxyType(
    {
        "topic": ("space", "ocean", "ancient_history", "kitchen_science", "animals"),
        "hook": ("question", "shocking_fact", "story", "countdown"),
        "length": ("short", "medium", "long"),
        "voice": ("en-us", "en-gb"),
        # The caption templates (providers/render/captions.py): karaoke highlights, then word pop,
        # one word at a time, keyword colour and emoji accents.
        "caption_style": (
            "bold_yellow",
            "clean_white",
            "boxed",
            "word_pop",
            "one_word",
            "keyword_colour",
            "emoji_accents",
        ),
        "posting_hour": ("09", "13", "18", "21"),
    }
)

DIMENSIONS: tuple[str, ...] = tuple(ARM_SPACE)

# Number of narrated sentences after the hook, per length bucket.
LENGTH_SENTENCES: MappingProxyType[str, int] = MappingProxyType({"short": 2, "medium": 4, "long": 6})


def validate_arms(arms: dict[str, str]) -> None:
    """Raise ValueError naming the first dimension or value that is not in the arm space."""
    for key, value in arms.items():
        dimension = key.split(PLATFORM_SEPARATOR)[0]  # "posting_hour@tiktok": the hour on one platform
        if dimension not in ARM_SPACE:
            raise ValueError(f"unknown arm dimension {dimension!r}; known: {', '.join(DIMENSIONS)}")
        if value not in ARM_SPACE[dimension]:
            raise ValueError(f"unknown {dimension} arm {value!r}; known: {', '.join(ARM_SPACE[dimension])}")


# A video's arm may differ per platform (its posting hour): "posting_hour@tiktok" holds TikTok's own value.
PLATFORM_SEPARATOR = "@"


def platform_key(dimension: str, platform: str) -> str:
    return f"{dimension}{PLATFORM_SEPARATOR}{platform}"


def platform_arms(arms: dict[str, str] | Mapping[str, str], platform: str) -> dict[str, str]:
    """A video's arms as one platform sees them: each per-platform value in place of the shared one."""
    out = {d: v for d, v in arms.items() if PLATFORM_SEPARATOR not in d}
    for key, value in arms.items():
        dimension, _, where = key.partition(PLATFORM_SEPARATOR)
        if where == platform:
            out[dimension] = value
    return out
