"""The languages a channel can speak and caption in, and the writing system each is set in.

The writing system decides the caption font (providers/render/fonts.py): Latin languages keep
their caption template's own font, Devanagari and CJK get a font that covers them.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

DEFAULT_LANGUAGE = "en"


@dataclass(frozen=True)
class Language:
    code: str  # ISO 639-1
    name: str  # in English, for messages and prompts
    script: str  # "latin", "devanagari" or "cjk"
    # Written without spaces between words: captions break it by characters, not words.
    spaceless: bool = False


LANGUAGES: MappingProxyType[str, Language] = MappingProxyType(
    {
        "en": Language("en", "English", "latin"),
        "es": Language("es", "Spanish", "latin"),
        "pt": Language("pt", "Portuguese", "latin"),
        "de": Language("de", "German", "latin"),
        "fr": Language("fr", "French", "latin"),
        "hi": Language("hi", "Hindi", "devanagari"),
        "ja": Language("ja", "Japanese", "cjk", spaceless=True),
    }
)


def language(code: str) -> Language:
    """The language with this code; ValueError naming it and the known ones otherwise."""
    try:
        return LANGUAGES[code]
    except KeyError:
        raise ValueError(f"unknown language {code!r}; known: {', '.join(LANGUAGES)}") from None
