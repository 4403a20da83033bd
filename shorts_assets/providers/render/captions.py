"""The caption templates (the `caption_style` arm) and the ASS script libass burns in from them.

Each template has its font (from a registry package, see fonts.py), its colours and its place
inside the safe area, and one way of showing the spoken words:

* ``karaoke``: the caption line on screen, the word being said in the highlight colour
  (bold_yellow, clean_white, and boxed on an opaque box);
* ``pop``: the line builds up word by word, each word scaling in as it is said (word_pop);
* ``single``: one big word at a time, in the middle of the picture (one_word);
* ``keyword``: the line in white with the words the writer marked for emphasis in colour
  (keyword_colour);
* karaoke with ``emoji``: an emoji after each line that names something with one, and the topic's
  emoji after the first line (emoji_accents), set in Noto Emoji.

A language written in another script than Latin (Devanagari, CJK) sets every template in the font
covering it; a language written without spaces is cut into caption lines by characters.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from shorts_assets.core.errors import ProviderError
from shorts_assets.core.languages import LANGUAGES
from shorts_assets.core.types import Script, WordTiming
from shorts_assets.providers.media import atomic_output
from shorts_assets.providers.render.fonts import EMOJI_FONT, FONTS, codepoints, drawable, fonts_folder, language_font
from shorts_assets.providers.render.layout import (
    HEIGHT,
    SAFE_AREA,
    WIDTH,
    caption_events,
    split_spaceless,
)

# Invisible (default-ignorable) character that stops libass reading `\N`, `\h` or `\{` after a
# literal backslash.
_WORD_JOINER = "\u2060"
# Caption lines of a spaceless script hold this many characters (CJK glyphs are twice as wide), in
# pieces of at most half that, so the karaoke highlight moves along the line.
SPACELESS_LINE_CHARS = 8
SPACELESS_PIECE_CHARS = SPACELESS_LINE_CHARS // 2
# How long a word of the word-pop template takes to scale in, and from what size (percent).
POP_MS = 120
POP_FROM = 55


@dataclass(frozen=True)
class CaptionTemplate:
    """One caption look; colours are ASS &HAABBGGRR (alpha 00 = opaque)."""

    mode: str  # karaoke, pop, single or keyword
    font: str  # a key of fonts.FONTS
    font_size: int
    bold: bool
    primary: str
    highlight: str  # the word being said (karaoke, pop) or an emphasised word (keyword)
    outline_colour: str
    back_colour: str
    border_style: int  # 1 = outline + drop shadow, 3 = opaque box
    outline: float
    shadow: float
    alignment: int = 2  # numpad position: 2 = bottom centre, 5 = middle centre
    margin_v: int = 620  # from the bottom (alignment 2); ignored when centred
    emoji: bool = False


CAPTION_TEMPLATES: MappingProxyType[str, CaptionTemplate] = MappingProxyType(
    {
        "bold_yellow": CaptionTemplate(
            "karaoke", "dejavu_sans_bold", 86, True, "&H0000FFFF", "&H00FFFFFF", "&H00000000", "&H80000000", 1, 7, 2
        ),
        "clean_white": CaptionTemplate(
            "karaoke", "dejavu_sans", 78, False, "&H00FFFFFF", "&H0066D9FF", "&H00202020", "&H90000000", 1, 2, 4
        ),
        "boxed": CaptionTemplate(
            "karaoke", "dejavu_sans_bold", 74, True, "&H00FFFFFF", "&H0000E1FF", "&H00141414", "&H00141414", 3, 14, 0
        ),
        "word_pop": CaptionTemplate(
            "pop", "noto_sans", 92, True, "&H00FFFFFF", "&H0000FF7F", "&H00000000", "&H80000000", 1, 6, 3, margin_v=700
        ),
        "one_word": CaptionTemplate(
            "single", "noto_sans", 132, True, "&H00FFFFFF", "&H00FFFFFF", "&H00000000", "&H80000000", 1, 9, 3, 5
        ),
        "keyword_colour": CaptionTemplate(
            "keyword", "noto_sans", 84, True, "&H00FFFFFF", "&H00008CFF", "&H00000000", "&H80000000", 1, 6, 2
        ),
        "emoji_accents": CaptionTemplate(
            "karaoke",
            "noto_sans",
            84,
            True,
            "&H00FFFFFF",
            "&H0000D7FF",
            "&H00000000",
            "&H80000000",
            1,
            6,
            2,
            emoji=True,
        ),
    }
)

# Words that bring their emoji to an emoji_accents line (any language's word for it may be added).
EMOJI_WORDS: MappingProxyType[str, str] = MappingProxyType(
    {
        "space": "🚀",
        "star": "⭐",
        "stars": "⭐",
        "sun": "☀",
        "moon": "🌙",
        "planet": "🪐",
        "ocean": "🌊",
        "sea": "🌊",
        "whale": "🐋",
        "octopus": "🐙",
        "octopuses": "🐙",
        "fish": "🐟",
        "history": "📜",
        "pyramid": "🔺",
        "egypt": "🏺",
        "bread": "🍞",
        "salt": "🧂",
        "egg": "🥚",
        "eggs": "🥚",
        "coffee": "☕",
        "popcorn": "🍿",
        "heart": "❤",
        "hearts": "❤",
        "fire": "🔥",
        "cow": "🐄",
        "cows": "🐄",
        "bee": "🐝",
        "honeybees": "🐝",
        "penguin": "🐧",
        "penguins": "🐧",
        "elephant": "🐘",
        "elephants": "🐘",
        "snail": "🐌",
    }
)
TOPIC_EMOJI: MappingProxyType[str, str] = MappingProxyType(
    {"space": "🚀", "ocean": "🌊", "ancient_history": "📜", "kitchen_science": "🧪", "animals": "🐾"}
)
DEFAULT_EMOJI = "✨"


def ass_escape(text: str) -> str:
    """Make arbitrary text literal inside an ASS Dialogue: no override blocks, no escapes, one line."""
    text = " ".join(text.split())
    text = text.replace("\\", "\\" + _WORD_JOINER)
    return text.replace("{", "\\{").replace("}", "\\}")


def _ass_time(centiseconds: int) -> str:
    hours, rest = divmod(max(0, centiseconds), 360_000)
    minutes, rest = divmod(rest, 6_000)
    seconds, cs = divmod(rest, 100)
    return f"{hours}:{minutes:02d}:{seconds:02d}.{cs:02d}"


def _plain(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFC", word).casefold() if c.isalnum())


def template_named(name: str) -> CaptionTemplate:
    template = CAPTION_TEMPLATES.get(name)
    if template is None:
        raise ProviderError(f"unknown caption_style {name!r}; known: {', '.join(CAPTION_TEMPLATES)}")
    return template


def caption_font(name: str, language: str) -> str:
    """The font key template `name` is set in for `language`."""
    return language_font(language) or template_named(name).font


def fonts_for(name: str, language: str) -> list[str]:
    """Every font the captions of template `name` in `language` use."""
    keys = [caption_font(name, language)]
    if template_named(name).emoji:
        keys.append(EMOJI_FONT)
    return keys


def _emphasised(word: str, emphasis: Sequence[str], spaceless: bool) -> bool:
    plain = _plain(word)
    if not plain:
        return False
    marks = [_plain(e) for e in emphasis if _plain(e)]
    if spaceless:
        return any(mark in plain or plain in mark for mark in marks)
    return plain in marks or any(len(mark) > 3 and plain.startswith(mark) for mark in marks)


def _line_emoji(texts: Sequence[str], first: bool, topic: str) -> str | None:
    for text in texts:
        emoji = EMOJI_WORDS.get(_plain(text))
        if emoji:
            return emoji
    return TOPIC_EMOJI.get(topic, DEFAULT_EMOJI) if first else None


def write_captions(path: Path, words: Sequence[WordTiming], script: Script, end_s: float) -> Path:
    """Write the captions of `script` (its caption_style, language and emphasis) as an ASS script at
    `path`; return the fonts folder libass must be given to draw them."""
    name = script.arms.get("caption_style", "bold_yellow")
    template_named(name)
    language = LANGUAGES.get(script.language)
    if language is None:
        raise ProviderError(f"unknown language {script.language!r}; known: {', '.join(LANGUAGES)}")
    font_key = caption_font(name, script.language)
    folder = fonts_folder(fonts_for(name, script.language))
    write_ass_script(path, words, name, end_s, font_key, language.spaceless, script.emphasis, script.arms.get("topic"))
    return folder


def _style_line(name: str, template: CaptionTemplate, family: str) -> str:
    side = SAFE_AREA["left"] + 12
    return (
        f"Style: {name},{family},{template.font_size},{template.primary},{template.highlight},"
        f"{template.outline_colour},{template.back_colour},{-1 if template.bold else 0},0,0,0,100,100,0,0,"
        f"{template.border_style},{template.outline:g},{template.shadow:g},{template.alignment},"
        f"{side},{side},{template.margin_v},1"
    )


def write_ass_script(
    path: Path,
    words: Sequence[WordTiming],
    name: str,
    end_s: float,
    font_key: str | None = None,
    spaceless: bool = False,
    emphasis: Sequence[str] = (),
    topic: str | None = None,
) -> int:
    """Write the ASS script of template `name` over `words`; return the number of Dialogue events."""
    template = template_named(name)
    font_key = font_key or template.font
    family = FONTS[font_key].family
    joiner = "" if spaceless else " "
    if spaceless:
        pieces = split_spaceless(words, SPACELESS_PIECE_CHARS)
        # caption_lines counts a space between pieces; a spaceless line has none.
        events = caption_events(pieces, end_s, max_chars=SPACELESS_LINE_CHARS + 1)
    else:
        events = caption_events(words, end_s)
    emoji_known = codepoints(EMOJI_FONT) if template.emoji else frozenset()
    header = [
        "[Script Info]",
        "; Captions burned in by shorts-engine's FfmpegRenderer.",
        "ScriptType: v4.00+",
        f"PlayResX: {WIDTH}",
        f"PlayResY: {HEIGHT}",
        "WrapStyle: 0",
        "ScaledBorderAndShadow: yes",
        "YCbCr Matrix: TV.709",
        "",
        "[V4+ Styles]",
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, "
        "BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, "
        "BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding",
        _style_line(name, template, family),
        "",
        "[Events]",
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
    ]
    dialogue = []
    line_number = -1
    for start, stop, texts, current in events:
        if current == 0:
            line_number += 1
        start_cs = round(start * 100)
        stop_cs = max(round(stop * 100), start_cs + 1)
        parts = [ass_escape(drawable(t, font_key)) for t in texts]
        text = _event_text(template, parts, texts, current, joiner, emphasis, spaceless)
        if template.emoji:
            emoji = _line_emoji(texts, line_number == 0, topic or "")
            if emoji and all(ord(c) in emoji_known for c in emoji):
                text += f" {{\\fn{FONTS[EMOJI_FONT].family}\\c{template.highlight}&}}{emoji}"
        dialogue.append(f"Dialogue: 0,{_ass_time(start_cs)},{_ass_time(stop_cs)},{name},,0,0,0,,{text}")
    with atomic_output(path) as temp_path:
        temp_path.write_text("\n".join(header + dialogue) + "\n", encoding="utf-8")
    return len(dialogue)


def _event_text(
    template: CaptionTemplate,
    parts: list[str],
    texts: Sequence[str],
    current: int,
    joiner: str,
    emphasis: Sequence[str],
    spaceless: bool,
) -> str:
    primary, highlight = template.primary, template.highlight
    if template.mode == "single":
        return parts[current]
    if template.mode == "keyword":
        return joiner.join(
            f"{{\\c{highlight}&}}{part}{{\\c{primary}&}}" if _emphasised(text, emphasis, spaceless) else part
            for part, text in zip(parts, texts)
        )
    if template.mode == "pop":
        shown = parts[:current]
        said = (
            f"{{\\c{highlight}&\\fscx{POP_FROM}\\fscy{POP_FROM}\\t(0,{POP_MS},\\fscx100\\fscy100)}}"
            f"{parts[current]}{{\\c{primary}&\\fscx100\\fscy100}}"
        )
        # The words still to come keep their place, invisible, so the line does not move as it grows.
        hidden = [f"{{\\alpha&HFF&}}{joiner.join(parts[current + 1 :])}"] if current + 1 < len(parts) else []
        return joiner.join([*shown, said, *hidden])
    parts = list(parts)
    parts[current] = f"{{\\c{highlight}&}}{parts[current]}{{\\c{primary}&}}"
    return joiner.join(parts)
