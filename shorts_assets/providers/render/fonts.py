"""The caption fonts: which registry package ships each, the folder libass is given, what each can draw.

Every font comes from an installed Python package (never the system's fonts): DejaVu Sans from
matplotlib's wheel, Noto Sans, Noto Sans Devanagari and Noto Emoji from manimgx-fonts, Noto Sans
CJK JP Bold from noto-cjk-sans-jp-bold. A render gets a folder holding only the fonts its captions
use (libass reads every file of the folder it is given, and the CJK font alone is 17 MB); the
folder is made once per set of fonts, of symbolic links, in the user's cache folder, and renamed
into place whole.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import tempfile
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

from shorts_assets.core.errors import ProviderError
from shorts_assets.core.languages import LANGUAGES


@dataclass(frozen=True)
class Font:
    family: str  # the family name libass matches (the ASS style's Fontname)
    module: str  # the importable package that holds the file
    file: str  # the file, relative to that package's folder
    distribution: str  # the package to install when it is missing
    licence: str


FONTS: MappingProxyType[str, Font] = MappingProxyType(
    {
        "dejavu_sans": Font("DejaVu Sans", "matplotlib", "mpl-data/fonts/ttf/DejaVuSans.ttf", "matplotlib", "DejaVu"),
        "dejavu_sans_bold": Font(
            "DejaVu Sans", "matplotlib", "mpl-data/fonts/ttf/DejaVuSans-Bold.ttf", "matplotlib", "DejaVu"
        ),
        "noto_sans": Font("Noto Sans", "manimgx_fonts", "NotoSans[wght].ttf", "manimgx-fonts", "OFL-1.1"),
        "noto_sans_devanagari": Font(
            "Noto Sans Devanagari", "manimgx_fonts", "NotoSansDevanagari[wght].ttf", "manimgx-fonts", "OFL-1.1"
        ),
        "noto_emoji": Font("Noto Emoji", "manimgx_fonts", "NotoEmoji[wght].ttf", "manimgx-fonts", "OFL-1.1"),
        "noto_sans_cjk_jp": Font(
            "Noto Sans CJK JP", "noto_cjk_sans_jp_bold", "NotoSansCJKjp-Bold.otf", "noto-cjk-sans-jp-bold", "OFL-1.1"
        ),
    }
)

# The font every caption of a writing system is set in; None keeps the template's own font.
SCRIPT_FONTS: MappingProxyType[str, str | None] = MappingProxyType(
    {"latin": None, "devanagari": "noto_sans_devanagari", "cjk": "noto_sans_cjk_jp"}
)
EMOJI_FONT = "noto_emoji"


def font_path(key: str, fonts: Mapping[str, Font] = FONTS) -> Path:
    """The file of font `key` (of the table `fonts`); ProviderError naming the package to install
    when it is missing."""
    font = fonts.get(key)
    if font is None:
        raise ProviderError(f"unknown caption font {key!r}; known: {', '.join(fonts)}")
    spec = importlib.util.find_spec(font.module)
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        path = Path(folder) / font.file
        if path.is_file():
            return path
    raise ProviderError(
        f"caption font {font.family} is missing: install the {font.distribution} package (it ships {font.file})"
    )


def language_font(code: str) -> str | None:
    """The font key a language's captions are set in, or None when the template's own font covers it."""
    spec = LANGUAGES.get(code)
    if spec is None:
        raise ProviderError(f"unknown language {code!r}; known: {', '.join(LANGUAGES)}")
    return SCRIPT_FONTS[spec.script]


def check_language_fonts(languages: Iterable[tuple[str, str]], fonts: Mapping[str, Font] = FONTS) -> None:
    """Raise ProviderError for the first (channel, language) whose caption font is not installed."""
    for channel, code in languages:
        key = language_font(code)
        if key is None:
            continue
        try:
            font_path(key, fonts)
        except ProviderError as exc:
            raise ProviderError(f"channel {channel}: language {code} has no caption font: {exc}") from None


@lru_cache(maxsize=16)
def codepoints(key: str) -> frozenset[int]:
    """The code points font `key` has a glyph for."""
    from fontTools.ttLib import TTFont

    with TTFont(font_path(key), lazy=True) as font:
        return frozenset(font.getBestCmap())


def drawable(text: str, key: str) -> str:
    """`text` without the characters font `key` has no glyph for (they would be tofu boxes)."""
    known = codepoints(key)
    return "".join(c for c in text if ord(c) in known or c.isspace() or unicodedata.category(c) == "Cf")


def _cache_root() -> Path:
    """Where the fonts folders are kept: the user's cache (XDG_CACHE_HOME, else ~/.cache)."""
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(base) if base else Path.home() / ".cache") / "shorts-engine" / "caption-fonts"


def fonts_folder(keys: Iterable[str]) -> Path:
    """A folder holding exactly the fonts `keys` (links to their files), made once and reused."""
    paths = sorted({font_path(key) for key in keys})
    digest = hashlib.sha256("\n".join(map(str, paths)).encode()).hexdigest()[:16]
    root = _cache_root()
    folder = root / digest
    if all((folder / path.name).exists() for path in paths):
        return folder
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ProviderError(f"caption fonts: cannot make the fonts folder under {root}: {exc}") from None
    building = Path(tempfile.mkdtemp(prefix=f".{digest}-", dir=folder.parent))
    for path in paths:
        os.symlink(path, building / path.name)
    try:
        os.replace(building, folder)
    except OSError:  # another render made it first, or links left from fonts since moved
        if not all((folder / path.name).exists() for path in paths):
            shutil.rmtree(folder, ignore_errors=True)
            os.replace(building, folder)
        else:
            shutil.rmtree(building, ignore_errors=True)
    return folder
