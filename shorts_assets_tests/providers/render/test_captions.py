"""Specifies the caption templates by what libass draws: each template's captions sit inside the safe
area where the template puts them, in its own colours and motion (karaoke highlight, words popping
in, one word at a time, an opaque box, emphasised words in colour, emoji accents), each set in a
font from a registry package."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from shorts_assets.core.arms import ARM_SPACE
from shorts_assets.core.errors import ProviderError
from shorts_assets.core.types import Script, WordTiming
from shorts_assets.providers.render.captions import CAPTION_TEMPLATES, fonts_for, write_captions
from shorts_assets.providers.render.fonts import FONTS, font_path
from shorts_assets.providers.render.layout import HEIGHT, SAFE_AREA, WIDTH
from shorts_assets_tests.providers.render.frames import caption_frame, ink, ink_box, near

WORDS = ("Sea", "otters", "hold", "hands", "when", "they", "sleep.")
# Lines: "Sea otters hold" / "hands when they" / "sleep."
TIMINGS = tuple(WordTiming(w, round(0.1 + 0.5 * i, 2), round(0.5 + 0.5 * i, 2)) for i, w in enumerate(WORDS))
END_S = 4.0


def said(index: int, into: float = 0.25) -> float:
    """A moment `into` seconds after word `index` starts."""
    return TIMINGS[index].start_s + into


def captions(tmp_path: Path, style: str, emphasis: tuple[str, ...] = (), language: str = "en") -> tuple[Path, Path]:
    script = Script(
        video_id="vid",
        title="t",
        hook="h",
        narration=" ".join(WORDS),
        description="",
        scenes=(),
        tags=(),
        arms={"caption_style": style, "topic": "ocean"},
        emphasis=emphasis,
        language=language,
    )
    path = tmp_path / f"{style}.ass"
    return path, write_captions(path, TIMINGS, script, END_S)


def test_every_caption_style_arm_is_a_template_and_there_are_at_least_six() -> None:
    assert set(ARM_SPACE["caption_style"]) == set(CAPTION_TEMPLATES)
    assert len(CAPTION_TEMPLATES) >= 6


@pytest.mark.parametrize("style", sorted(CAPTION_TEMPLATES))
def test_each_template_is_set_in_a_font_from_an_installed_package(tmp_path: Path, style: str) -> None:
    _, fonts = captions(tmp_path, style)
    linked = {p.name: p.resolve() for p in fonts.iterdir()}

    for key in fonts_for(style, "en"):
        assert linked[font_path(key).name] == font_path(key).resolve()
        assert "site-packages" in str(font_path(key)) or "dist-packages" in str(font_path(key))
    assert set(linked) == {font_path(key).name for key in fonts_for(style, "en")}


@pytest.mark.parametrize("style", sorted(CAPTION_TEMPLATES))
def test_each_template_draws_inside_the_safe_area_where_it_places_captions(tmp_path: Path, style: str) -> None:
    path, fonts = captions(tmp_path, style)
    template = CAPTION_TEMPLATES[style]

    # The line's last word: every template then shows the whole line (or its one word).
    top, bottom, left, right = ink_box(ink(caption_frame(path, fonts, said(2))))

    assert top >= SAFE_AREA["top"] and bottom <= HEIGHT - SAFE_AREA["bottom"]
    assert left >= SAFE_AREA["left"] and right <= WIDTH - SAFE_AREA["right"]
    if template.alignment == 5:  # centred in the picture
        assert abs((top + bottom) / 2 - HEIGHT / 2) < 60
    else:  # standing on its bottom margin
        assert abs(bottom - (HEIGHT - template.margin_v)) < 40
    assert abs((left + right) / 2 - WIDTH / 2) < 60


def test_karaoke_shows_the_line_in_yellow_and_the_word_being_said_in_white(tmp_path: Path) -> None:
    path, fonts = captions(tmp_path, "bold_yellow")

    first, second = caption_frame(path, fonts, said(0)), caption_frame(path, fonts, said(1))

    for frame in (first, second):
        assert near(frame, (255, 255, 0)) > 1500
        assert near(frame, (255, 255, 255), 20) > 500
    # The white word moves along the line as the words are said.
    white_x = [np.nonzero(np.all(f >= 235, axis=2))[1].mean() for f in (first, second)]
    assert white_x[1] > white_x[0] + 60


def test_clean_white_highlights_the_word_being_said_in_gold(tmp_path: Path) -> None:
    path, fonts = captions(tmp_path, "clean_white")

    frame = caption_frame(path, fonts, said(1))

    assert near(frame, (0xFF, 0xD9, 0x66)) > 500
    assert near(frame, (255, 255, 255), 20) > 1000


def test_boxed_sets_the_line_on_an_opaque_dark_box(tmp_path: Path) -> None:
    path, fonts = captions(tmp_path, "boxed")

    frame = caption_frame(path, fonts, said(1))
    box = np.all(np.abs(frame.astype(int) - 0x14) <= 6, axis=2)
    top, bottom, left, right = ink_box(box)

    assert box.sum() > 30_000
    # The text sits inside the box: every white glyph pixel is within its bounds.
    ys, xs = np.nonzero(np.all(frame >= 235, axis=2))
    assert len(ys) > 500
    assert top <= ys.min() and ys.max() <= bottom and left <= xs.min() and xs.max() <= right


def test_word_pop_builds_the_line_word_by_word_each_word_scaling_in(tmp_path: Path) -> None:
    path, fonts = captions(tmp_path, "word_pop")

    only_first = ink(caption_frame(path, fonts, said(0)))
    three = ink(caption_frame(path, fonts, said(2)))
    popping = ink(caption_frame(path, fonts, said(2, into=0.02)))

    # Words still to come are not drawn; the line grows to the right as they are said.
    assert ink_box(only_first)[3] < ink_box(three)[3] - 150
    # A word that has just started is drawn smaller than once it has popped in.
    assert popping.sum() < three.sum()
    assert near(caption_frame(path, fonts, said(2)), (0x7F, 0xFF, 0x00), 40) > 500


def test_one_word_shows_only_the_word_being_said(tmp_path: Path) -> None:
    path, fonts = captions(tmp_path, "one_word")
    karaoke_path, karaoke_fonts = captions(tmp_path, "clean_white")

    sea = ink_box(ink(caption_frame(path, fonts, said(0))))
    hold = ink_box(ink(caption_frame(path, fonts, said(2))))
    whole_line = ink_box(ink(caption_frame(karaoke_path, karaoke_fonts, said(2))))

    assert sea[3] - sea[2] < hold[3] - hold[2]  # "Sea" then "hold", each alone
    assert hold[3] - hold[2] < whole_line[3] - whole_line[2]  # one word, not the line
    assert hold[1] - hold[0] > 1.25 * (whole_line[1] - whole_line[0])  # and bigger than a line's words


def test_keyword_colour_colours_the_words_the_writer_marked(tmp_path: Path) -> None:
    path, fonts = captions(tmp_path, "keyword_colour", emphasis=("hands",))
    orange = (0xFF, 0x8C, 0x00)

    assert near(caption_frame(path, fonts, said(4)), orange) > 800  # "hands when they"
    assert near(caption_frame(path, fonts, said(1)), orange) == 0  # "Sea otters hold": nothing marked


def test_emoji_accents_end_the_line_with_an_emoji_in_the_highlight_colour(tmp_path: Path) -> None:
    path, fonts = captions(tmp_path, "emoji_accents")
    gold = np.all(np.abs(caption_frame(path, fonts, said(0)).astype(int) - (0xFF, 0xD7, 0x00)) <= 30, axis=2)
    white = np.all(caption_frame(path, fonts, said(0)) >= 235, axis=2)

    # "Sea" (being said) and the ocean emoji after the line are gold; "otters hold" between them white.
    gold_x, white_x = np.nonzero(gold)[1], np.nonzero(white)[1]
    assert gold_x.max() > white_x.max() + 20
    assert gold_x.min() < white_x.min()
    assert "Noto Emoji" in path.read_text(encoding="utf-8")
    assert FONTS["noto_emoji"].family == "Noto Emoji"


def test_an_unknown_template_fails_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ProviderError, match="comic_sans"):
        captions(tmp_path, "comic_sans")


def test_a_spaceless_run_is_cut_into_caption_pieces_after_punctuation_timed_by_its_characters() -> None:
    from shorts_assets.providers.render.layout import split_spaceless

    pieces = split_spaceless([WordTiming("タコには、心臓が三つあります。", 1.0, 2.5), WordTiming("はい", 2.6, 2.9)], 8)

    assert [p.word for p in pieces] == ["タコには、", "心臓が三つありま", "す。", "はい"]
    assert pieces[0].start_s == 1.0 and pieces[2].end_s == 2.5 and pieces[1].start_s == pieces[0].end_s
    assert pieces[0].end_s == pytest.approx(1.0 + 1.5 * 5 / 15, abs=0.001)
