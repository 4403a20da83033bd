"""The layout both renderers share: the short's format, how scene frames are shared out, and how the
spoken words are grouped into caption lines and timed (burned in, or as SRT/VTT sidecars)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from types import MappingProxyType

from shorts_assets.core.types import WordTiming
from shorts_assets.providers.render.subtitles import srt_text, vtt_text, write_text

WIDTH = 1080
HEIGHT = 1920
FPS = 30
SAMPLE_RATE = 48_000
# Picture held after the narration ends.
TAIL_S = 0.6
THUMBNAIL_AT_S = 1.0
# The longest short the platforms take (YouTube Shorts).
MAX_DURATION_S = 180.0
TRANSITION_S = 0.3
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp"})
DEFAULT_CAPTION_STYLE = "bold_yellow"
# Where captions may be drawn (pixels of the 1080x1920 frame): clear of the title and account name
# at the top, the description and buttons in the bottom 30%, and the icons down the right side.
SAFE_AREA = MappingProxyType({"top": 288, "bottom": 576, "left": 108, "right": 108})

MAX_LINE_WORDS = 4
MAX_LINE_CHARS = 18
# A pause this long between words starts a new caption line.
MAX_LINE_GAP_S = 0.7
# How long the last line lingers after its last word when nothing follows soon.
LINGER_S = 0.35
SENTENCE_END = (".", "!", "?", "…", "。", "؟")
# Where a run of a script written without spaces may be cut into caption pieces.
_CUT_AFTER = "、。，．！？!?,."


def caption_lines(
    words: Sequence[WordTiming],
    max_words: int = MAX_LINE_WORDS,
    max_chars: int = MAX_LINE_CHARS,
    max_gap_s: float = MAX_LINE_GAP_S,
) -> list[list[WordTiming]]:
    """Group spoken words into short caption lines, breaking at sentence ends and long pauses."""
    lines: list[list[WordTiming]] = []
    current: list[WordTiming] = []
    for word in sorted((w for w in words if w.word.strip()), key=lambda w: w.start_s):
        if current:
            previous = current[-1]
            text_len = len(" ".join(w.word.strip() for w in current)) + 1 + len(word.word.strip())
            if (
                len(current) >= max_words
                or text_len > max_chars
                or word.start_s - previous.end_s > max_gap_s
                or previous.word.strip().endswith(SENTENCE_END)
            ):
                lines.append(current)
                current = []
        current.append(word)
    if current:
        lines.append(current)
    return lines


def split_spaceless(words: Sequence[WordTiming], max_chars: int) -> list[WordTiming]:
    """`words` with each run longer than `max_chars` (a script written without spaces: Japanese)
    cut into pieces, after punctuation where it can, each timed by its share of the characters."""
    pieces: list[WordTiming] = []
    for word in words:
        text = word.word.strip()
        if len(text) <= max_chars:
            pieces.append(word)
            continue
        chunks, rest = [], text
        while len(rest) > max_chars:
            cut = max((i + 1 for i, c in enumerate(rest[:max_chars]) if c in _CUT_AFTER), default=max_chars)
            if rest[cut : cut + 1] and rest[cut] in _CUT_AFTER:  # punctuation stays with what it ends
                cut += 1
            chunks.append(rest[:cut])
            rest = rest[cut:]
        if rest:
            chunks.append(rest)
        span, offset = word.end_s - word.start_s, 0
        for chunk in chunks:
            start = word.start_s + span * offset / len(text)
            offset += len(chunk)
            pieces.append(WordTiming(chunk, round(start, 3), round(word.start_s + span * offset / len(text), 3)))
    return pieces


def caption_events(
    words: Sequence[WordTiming], end_s: float, max_chars: int = MAX_LINE_CHARS
) -> list[tuple[float, float, list[str], int]]:
    """(start, end, line words, index of the spoken word) for each spoken word, clipped to end_s."""
    lines = caption_lines(words, max_chars=max_chars)
    events = []
    for line_index, line in enumerate(lines):
        next_start = lines[line_index + 1][0].start_s if line_index + 1 < len(lines) else end_s
        texts = [w.word.strip() for w in line]
        for index, word in enumerate(line):
            if index + 1 < len(line):
                stop = line[index + 1].start_s
            else:
                stop = max(word.end_s, min(next_start, word.end_s + LINGER_S))
                if next_start - word.end_s <= MAX_LINE_GAP_S:
                    stop = max(stop, next_start)
            start = min(max(0.0, word.start_s), end_s)
            events.append((start, min(max(stop, start), end_s), texts, index))
    return events


def segment_frames(weights: Sequence[float], total_frames: int) -> list[int]:
    """Split total_frames across segments in proportion to weights, summing exactly."""
    total_weight = sum(weights)
    if total_weight <= 0:
        weights = [1.0] * len(weights)
        total_weight = float(len(weights))
    bounds = [0]
    cumulative = 0.0
    for weight in weights:
        cumulative += weight
        bounds.append(round(total_frames * cumulative / total_weight))
    return [b - a for a, b in zip(bounds, bounds[1:])]


def transition_frames(counts: Sequence[int], wanted: int) -> int:
    """Frames each cross-fade lasts: `wanted`, shortened so no clip is more than half transition."""
    if len(counts) < 2 or wanted <= 0:
        return 0
    frames = min(wanted, min(counts) // 2)
    return frames if frames >= 2 else 0


def caption_cues(words: Sequence[WordTiming], end_s: float) -> list[tuple[float, float, str]]:
    """(start, end, text) of each caption line, timed as the burned-in ASS lines are."""
    lines: list[tuple[float, float, str]] = []
    for start, stop, texts, index in caption_events(words, end_s):
        if index == 0:
            lines.append((start, stop, " ".join(texts)))
        else:
            lines[-1] = (lines[-1][0], stop, lines[-1][2])
    return [(start, max(stop, start + 0.001), text) for start, stop, text in lines]


def write_sidecars(video_path: Path, words: Sequence[WordTiming], end_s: float) -> tuple[Path, Path]:
    """Write `<video>.srt` and `<video>.vtt` with the caption lines; return their paths."""
    items = caption_cues(words, end_s)
    srt_path, vtt_path = video_path.with_suffix(".srt"), video_path.with_suffix(".vtt")
    write_text(srt_path, srt_text(items))
    write_text(vtt_path, vtt_text(items))
    return srt_path, vtt_path
