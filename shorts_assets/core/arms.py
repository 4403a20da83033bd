"""The content arms: the choices the strategy allocates and the script writer realises."""

from __future__ import annotations

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
    for dimension, value in arms.items():
        if dimension not in ARM_SPACE:
            raise ValueError(f"unknown arm dimension {dimension!r}; known: {', '.join(DIMENSIONS)}")
        if value not in ARM_SPACE[dimension]:
            raise ValueError(f"unknown {dimension} arm {value!r}; known: {', '.join(ARM_SPACE[dimension])}")
