"""Specifies that captions in every writing system a channel may use are drawn with real glyphs: Latin
with its accents, Devanagari and CJK each set in a font from a registry package, drawing many
distinct glyph shapes where a font without those glyphs draws the same tofu box again and again;
and that a language whose font is not installed is refused when the channels are loaded."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from shorts_assets.core.errors import ProviderError
from shorts_assets.core.languages import LANGUAGES
from shorts_assets.core.types import Script, WordTiming
from shorts_assets.providers.render.captions import caption_font, write_captions
from shorts_assets.providers.render.fonts import (
    FONTS,
    check_language_fonts,
    codepoints,
    drawable,
    fonts_folder,
    language_font,
)
from shorts_assets_tests.providers.render.frames import caption_frame, glyph_shapes, ink

# One caption line per script system, with the timing of its words.
TEXTS = {
    "es": "¿Año mágico?",
    "hi": "नमस्ते दुनिया भारत",
    "ja": "タコの心臓",
}


def render(tmp_path: Path, language: str, text: str, style: str = "clean_white") -> np.ndarray:
    words = text.split()
    timings = tuple(WordTiming(w, 0.1 + 0.3 * i, 0.35 + 0.3 * i) for i, w in enumerate(words))
    script = Script("vid", "t", "h", text, "", (), (), {"caption_style": style}, language=language)
    path = tmp_path / f"{language}-{abs(hash(text))}.ass"
    fonts = write_captions(path, timings, script, 3.0)
    return caption_frame(path, fonts, timings[-1].start_s + 0.1)


def tofu(tmp_path: Path, text: str) -> np.ndarray:
    """The same line as a caption set in DejaVu Sans, which lacks the glyphs, without removing them."""
    folder = fonts_folder(["dejavu_sans"])
    path = tmp_path / "tofu.ass"
    path.write_text(
        "[Script Info]\nScriptType: v4.00+\nPlayResX: 1080\nPlayResY: 1920\n\n[V4+ Styles]\n"
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, "
        "Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, "
        "Alignment, MarginL, MarginR, MarginV, Encoding\n"
        "Style: t,DejaVu Sans,78,&H00FFFFFF,&H00FFFFFF,&H00202020,&H90000000,0,0,0,0,100,100,0,0,1,2,4,2,"
        "120,120,620,1\n\n[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
        f"Dialogue: 0,0:00:00.00,0:00:03.00,t,,0,0,0,,{text}\n",
        encoding="utf-8",
    )
    return caption_frame(path, folder, 1.0)


def test_each_writing_system_has_a_font_that_covers_its_sample() -> None:
    for language, text in TEXTS.items():
        key = caption_font("clean_white", language)
        missing = [c for c in text if not c.isspace() and ord(c) not in codepoints(key)]
        assert missing == [], f"{language}: {FONTS[key].family} lacks {missing}"
    assert {LANGUAGES[code].script for code in TEXTS} == {"latin", "devanagari", "cjk"}


def test_latin_accents_are_drawn(tmp_path: Path) -> None:
    accented = render(tmp_path, "es", "¿Año mágico?")
    plain = render(tmp_path, "es", "?Ano magico?")

    assert ink(accented).sum() > 3000
    # The tilde, the acute and the inverted question mark are drawn: the accented line has more ink.
    assert ink(accented).sum() > ink(plain).sum() + 150
    assert ink(accented)[:, :].any(axis=1).nonzero()[0].min() < ink(plain).any(axis=1).nonzero()[0].min()


@pytest.mark.parametrize("language", ["hi", "ja"])
def test_devanagari_and_cjk_draw_distinct_glyphs_where_a_font_without_them_draws_tofu(
    tmp_path: Path, language: str
) -> None:
    text = TEXTS[language]
    drawn = render(tmp_path, language, text)
    boxes = tofu(tmp_path, text)

    drawn_shapes, tofu_shapes = glyph_shapes(ink(drawn)), glyph_shapes(ink(boxes))
    distinct = len(set(drawn_shapes))
    # Devanagari joins a word's letters under one headline: one shape per word; CJK one per character.
    assert distinct >= (3 if language == "hi" else 5)
    assert len(set(tofu_shapes)) <= 2 < distinct
    assert ink(drawn).sum() > 3000


def test_the_caption_font_follows_the_language_not_the_template() -> None:
    assert caption_font("bold_yellow", "es") == "dejavu_sans_bold"
    assert caption_font("word_pop", "es") == "noto_sans"
    assert caption_font("bold_yellow", "hi") == caption_font("one_word", "hi") == "noto_sans_devanagari"
    assert caption_font("boxed", "ja") == "noto_sans_cjk_jp"
    assert all(language_font(code) is None for code, spec in LANGUAGES.items() if spec.script == "latin")


def test_characters_a_font_lacks_are_left_out_rather_than_drawn_as_boxes() -> None:
    assert drawable("Hi 🚀 タコ", "dejavu_sans") == "Hi  "
    assert drawable("タコ 🚀", "noto_sans_cjk_jp") == "タコ "


def test_a_language_whose_font_is_not_installed_is_refused_naming_the_channel_and_package() -> None:
    missing = {
        **FONTS,
        "noto_sans_devanagari": dataclasses.replace(
            FONTS["noto_sans_devanagari"], module="shorts_no_such_font_package", distribution="no-such-fonts"
        ),
    }

    with pytest.raises(ProviderError, match=r"channel hindi: language hi .*install the no-such-fonts package"):
        check_language_fonts([("cooking", "es"), ("hindi", "hi")], missing)
    check_language_fonts([("cooking", "es"), ("hindi", "hi"), ("anime", "ja")])


def test_a_fonts_folder_holds_links_to_exactly_its_fonts_and_is_remade_when_its_links_broke(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = fonts_folder(["noto_sans", "noto_emoji"])
    assert sorted(p.name for p in folder.iterdir()) == ["NotoEmoji[wght].ttf", "NotoSans[wght].ttf"]
    assert fonts_folder(["noto_emoji", "noto_sans"]) == folder  # made once per set

    link = folder / "NotoSans[wght].ttf"
    link.unlink()
    link.symlink_to(tmp_path / "gone.ttf")  # the font moved since the folder was made

    assert fonts_folder(["noto_sans", "noto_emoji"]) == folder
    assert all(p.exists() for p in folder.iterdir()) and len(list(folder.iterdir())) == 2
    assert [p.name for p in folder.parent.iterdir()] == [folder.name]  # nothing half-made left beside it
