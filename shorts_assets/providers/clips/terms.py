"""The words a scene is searched by, in a stock catalogue or the user's media library.

A scene's ``keywords`` (a few nouns from the script writer) come first; a scene without any is
searched by the content words of its prompt. Words are compared lower-cased and singular, so a file
named ``octopuses_reef.mp4`` matches the keyword "octopus".
"""

from __future__ import annotations

import re

from shorts_assets.core.types import Scene

MAX_PROMPT_WORDS = 4

_WORD = re.compile(r"[^\W_]+", re.UNICODE)

STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "of",
        "in",
        "on",
        "at",
        "to",
        "for",
        "from",
        "with",
        "without",
        "by",
        "into",
        "over",
        "under",
        "about",
        "above",
        "below",
        "across",
        "after",
        "before",
        "behind",
        "between",
        "through",
        "during",
        "inside",
        "outside",
        "near",
        "its",
        "it",
        "this",
        "that",
        "these",
        "those",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "has",
        "have",
        "had",
        "do",
        "does",
        "did",
        "very",
        "soft",
        "slow",
        "slowly",
        "quick",
        "quickly",
        "shot",
        "close",
        "up",
        "closeup",
        "view",
        "scene",
        "footage",
        "video",
        "clip",
        "image",
        "picture",
        "like",
        "some",
        "any",
        "each",
        "more",
        "most",
    ]
)


def singular(word: str) -> str:
    """A naive singular of a lower-case English word ("octopuses" -> "octopus", "hearts" -> "heart")."""
    if len(word) > 4 and word.endswith(("ses", "xes", "zes", "ches", "shes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def words(text: str) -> list[str]:
    """The lower-case, singular words of ``text``, digits and one-letter words left out, in order."""
    found = []
    for raw in _WORD.findall(text.lower()):
        if len(raw) < 2 or raw.isdigit():
            continue
        word = singular(raw)
        if word not in found:
            found.append(word)
    return found


def scene_terms(scene: Scene) -> tuple[str, ...]:
    """What the scene is searched by: its keywords as given, else the first content words of its prompt."""
    keywords = tuple(dict.fromkeys(k.strip().lower() for k in scene.keywords if k.strip()))
    if keywords:
        return keywords
    content = [w for w in words(scene.prompt) if w not in STOP_WORDS]
    return tuple(content[:MAX_PROMPT_WORDS])


def term_words(terms: tuple[str, ...]) -> set[str]:
    """Every word of the terms ("coral reef" gives "coral" and "reef")."""
    return {w for term in terms for w in words(term)}
