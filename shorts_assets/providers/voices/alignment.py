"""Word timings for narration whose voice API gives none or gives characters: the words of a text, the
voiced stretches of its audio, and the alignment of one to the other.

A text's words carry the pause their punctuation asks for; those breaks are matched to the pauses
heard in the audio (``estimate_word_timings``), or characters' start and end times are gathered
into words (``timings_from_alignment``).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from shorts_assets.core.types import WordTiming

# --- words of a text -------------------------------------------------------------------------

_TOKEN = re.compile(r"\S+")
_KEEP_AT_EDGES = frozenset("%#@&")  # part of a word ("100%", "#1")
_STRIP_AT_EDGES = frozenset("<>`|")
_SENTENCE_END = frozenset(".!?…。！？")
_CLAUSE_BREAK = frozenset(",;:—–、，；：)")


def _is_edge_punctuation(char: str) -> bool:
    if char in _STRIP_AT_EDGES:
        return True
    return unicodedata.category(char).startswith("P") and char not in _KEEP_AT_EDGES


@dataclass(frozen=True)
class TextWord:
    """One spoken word of a text: its span (code point offsets, edge punctuation excluded) and the
    pause its punctuation asks for after it (0 none, 1 a clause break, 2 a sentence end)."""

    start: int
    end: int
    text: str
    pause_after: int


def words_of(text: str) -> list[TextWord]:
    """The words of ``text``: whitespace-separated tokens holding a letter or digit, punctuation trimmed."""
    spans: list[tuple[int, int]] = []
    for match in _TOKEN.finditer(text):
        start, end = match.span()
        while start < end and _is_edge_punctuation(text[start]):
            start += 1
        while end > start and _is_edge_punctuation(text[end - 1]):
            end -= 1
        if any(ch.isalnum() for ch in text[start:end]):
            spans.append((start, end))
    words = []
    for index, (start, end) in enumerate(spans):
        following = text[end : spans[index + 1][0] if index + 1 < len(spans) else len(text)]
        if any(ch in _SENTENCE_END for ch in following):
            pause = 2
        elif any(ch in _CLAUSE_BREAK for ch in following) or " - " in following:
            pause = 1
        else:
            pause = 0
        words.append(TextWord(start, end, text[start:end], pause))
    return words


def _spoken_weight(word: str) -> float:
    """A word's spoken length in letter units (see the module docstring)."""
    weight = 1.0
    for ch in word:
        if ch.isdigit():
            weight += 3.0
        elif ch.isalpha():
            weight += 1.0
        elif ch in _KEEP_AT_EDGES:
            weight += 4.0
    return weight


FRAME_S = 0.01
MIN_PAUSE_S = 0.08
MIN_VOICED_S = 0.03
VOICED_BELOW_LOUD_DB = 30.0
SILENCE_DBFS = -55.0
_SKIP_BREAK_COST = {1: 0.04, 2: 0.12}
_SKIP_PAUSE_COST = 0.08  # for a pause of FULL_PAUSE_S or longer; shorter ones cost less
FULL_PAUSE_S = 0.3
MAX_DRIFT = 0.25  # a break is never matched to a pause further than this share of the speech away


def voiced_segments(pcm: bytes, sample_rate: int) -> list[tuple[float, float]]:
    """The voiced stretches of 16-bit mono PCM, in seconds (see the module docstring)."""
    samples = np.frombuffer(pcm, dtype="<i2")
    frame = max(1, round(sample_rate * FRAME_S))
    count = len(samples) // frame
    if count == 0:
        return []
    frames = samples[: count * frame].astype(np.float64).reshape(count, frame) / 32768.0
    rms = np.sqrt(np.mean(frames * frames, axis=1))
    loud = float(np.percentile(rms, 95))
    floor = 10 ** (SILENCE_DBFS / 20)
    if loud < floor:
        return []
    threshold = max(loud * 10 ** (-VOICED_BELOW_LOUD_DB / 20), floor)
    voiced = rms >= threshold
    edges = np.flatnonzero(np.diff(np.concatenate(([False], voiced, [False])).astype(np.int8)))
    runs = [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2])]
    bridged: list[list[int]] = []
    for start, end in runs:
        if bridged and (start - bridged[-1][1]) * FRAME_S < MIN_PAUSE_S:
            bridged[-1][1] = end
        else:
            bridged.append([start, end])
    step = frame / sample_rate
    return [(a * step, b * step) for a, b in bridged if (b - a) * FRAME_S >= MIN_VOICED_S]


class _Timeline:
    """Voiced time inside a window, addressable by how much of it has passed."""

    def __init__(self, segments: Sequence[tuple[float, float]], start: float, end: float) -> None:
        self.start, self.end = start, end
        self.parts = [(max(a, start), min(b, end)) for a, b in segments if min(b, end) > max(a, start)]
        self.total = sum(b - a for a, b in self.parts)

    def at(self, voiced: float, closing: bool) -> float:
        """The time when ``voiced`` seconds of speech have passed (``total`` > 0). At a part's end, a
        closing boundary stays there and an opening one moves to the next part's start."""
        passed = 0.0
        for index, (a, b) in enumerate(self.parts):
            length = b - a
            if index == len(self.parts) - 1 or voiced < passed + length - 1e-9:
                return min(b, a + max(0.0, voiced - passed))
            if voiced <= passed + length + 1e-9:
                return b if closing else self.parts[index + 1][0]
            passed += length
        return self.end


def _spread(words: Sequence[TextWord], timeline: _Timeline) -> list[tuple[float, float]]:
    weights = [_spoken_weight(w.text) for w in words]
    total = sum(weights)
    if timeline.total <= 0:
        span = timeline.end - timeline.start
        out, at = [], timeline.start
        for weight in weights:
            nxt = at + span * weight / total
            out.append((at, nxt))
            at = nxt
        return out
    out, passed = [], 0.0
    for weight in weights:
        share = timeline.total * weight / total
        out.append((timeline.at(passed, closing=False), timeline.at(passed + share, closing=True)))
        passed += share
    return out


def _align_breaks(
    breaks: Sequence[tuple[int, int, float]], pauses: Sequence[tuple[float, float, float]], total: float
) -> list[tuple[int, int]]:
    """Pairs (break index, pause index), in order: an edit-distance alignment of the text's breaks
    (word index, strength, expected voiced position) with the audio's pauses (start, end, voiced
    position), where a match costs its distance as a share of the speech."""
    nb, np_ = len(breaks), len(pauses)
    skip_pause = [_SKIP_PAUSE_COST * min(1.0, (end - start) / FULL_PAUSE_S) for start, end, _ in pauses]
    inf = float("inf")
    cost = [[inf] * (np_ + 1) for _ in range(nb + 1)]
    move = [[0] * (np_ + 1) for _ in range(nb + 1)]
    cost[0][0] = 0.0
    for i in range(nb + 1):
        for j in range(np_ + 1):
            if i == 0 and j == 0:
                continue
            best, how = inf, 0
            if i > 0 and cost[i - 1][j] + _SKIP_BREAK_COST[breaks[i - 1][1]] < best:
                best, how = cost[i - 1][j] + _SKIP_BREAK_COST[breaks[i - 1][1]], 1
            if j > 0 and cost[i][j - 1] + skip_pause[j - 1] < best:
                best, how = cost[i][j - 1] + skip_pause[j - 1], 2
            if i > 0 and j > 0:
                drift = abs(breaks[i - 1][2] - pauses[j - 1][2]) / total
                if drift <= MAX_DRIFT and cost[i - 1][j - 1] + drift < best:
                    best, how = cost[i - 1][j - 1] + drift, 3
            cost[i][j], move[i][j] = best, how
    pairs, i, j = [], nb, np_
    while i > 0 or j > 0:
        how = move[i][j]
        if how == 3:
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif how == 1:
            i -= 1
        else:
            j -= 1
    return pairs[::-1]


def estimate_word_timings(text: str, pcm: bytes, sample_rate: int) -> tuple[WordTiming, ...]:
    """Word timings of ``text`` spoken in ``pcm`` (16-bit mono), estimated from the audio alone."""
    words = words_of(text)
    duration = len(pcm) / 2 / sample_rate
    if not words:
        return ()
    segments = voiced_segments(pcm, sample_rate)
    if not segments:
        segments = [(0.0, duration)]
    speech_start, speech_end = segments[0][0], segments[-1][1]
    whole = _Timeline(segments, speech_start, speech_end)

    weights = [_spoken_weight(w.text) for w in words]
    total_weight = sum(weights)
    breaks, passed = [], 0.0
    for index, word in enumerate(words[:-1]):
        passed += weights[index]
        if word.pause_after:
            breaks.append((index, word.pause_after, whole.total * passed / total_weight))
    pauses, voiced_before = [], 0.0
    for (a, b), (c, _) in zip(segments, segments[1:]):
        voiced_before += b - a
        pauses.append((b, c, voiced_before))
    anchors = [(breaks[bi][0], pauses[pi][0], pauses[pi][1]) for bi, pi in _align_breaks(breaks, pauses, whole.total)]

    timings: list[tuple[float, float]] = []
    first, window_start = 0, speech_start
    for last, pause_start, pause_end in [*anchors, (len(words) - 1, speech_end, speech_end)]:
        timings += _spread(words[first : last + 1], _Timeline(segments, window_start, pause_start))
        first, window_start = last + 1, pause_end
    return _finish(words, timings, duration)


def _finish(
    words: Sequence[TextWord], timings: Sequence[tuple[float, float]], duration: float
) -> tuple[WordTiming, ...]:
    """WordTimings clamped to the audio and to each other, so they never go back in time."""
    result, floor = [], 0.0
    for word, (start, end) in zip(words, timings):
        start = min(max(start, floor), duration)
        end = min(max(end, start), duration)
        result.append(WordTiming(word.text, round(start, 4), round(end, 4)))
        floor = end
    return tuple(result)


# --- word timings from a character alignment ---------------------------------------------------


def timings_from_alignment(
    text: str, characters: Sequence[str], starts: Sequence[float], ends: Sequence[float], duration: float
) -> tuple[WordTiming, ...]:
    """Word timings of ``text`` from per-character times of (possibly a rewritten form of) the text."""
    words = words_of(text)
    if not words:
        return ()
    # One entry may hold several code points (a grapheme); index the joined string instead.
    joined_owner: list[int] = []
    for index, chunk in enumerate(characters):
        joined_owner += [index] * len(chunk)
    joined = "".join(characters)
    owner: list[int | None] = [None] * len(text)
    if joined == text:
        owner = list(joined_owner)
    else:
        matcher = difflib.SequenceMatcher(None, text, joined, autojunk=False)
        for block in matcher.get_matching_blocks():
            for k in range(block.size):
                owner[block.a + k] = joined_owner[block.b + k]

    timings: list[tuple[float, float] | None] = []
    for word in words:
        entries = [owner[i] for i in range(word.start, word.end) if owner[i] is not None]
        if entries:
            timings.append((float(starts[min(entries)]), float(ends[max(entries)])))
        else:
            timings.append(None)
    if all(t is None for t in timings):
        raise ValueError("no word of the text could be found in the alignment")
    return _finish(words, _fill_gaps(words, timings, duration), duration)


def _fill_gaps(
    words: Sequence[TextWord], timings: Sequence[tuple[float, float] | None], duration: float
) -> list[tuple[float, float]]:
    """Words the alignment did not cover share the time between their timed neighbours by length."""
    filled: list[tuple[float, float]] = []
    index = 0
    while index < len(words):
        if timings[index] is not None:
            filled.append(timings[index])  # type: ignore[arg-type]
            index += 1
            continue
        run_end = index
        while run_end < len(words) and timings[run_end] is None:
            run_end += 1
        lo = filled[-1][1] if filled else 0.0
        hi = timings[run_end][0] if run_end < len(words) else duration  # type: ignore[index]
        hi = max(hi, lo)
        run = words[index:run_end]
        weights = [_spoken_weight(w.text) for w in run]
        at = lo
        for weight in weights:
            nxt = at + (hi - lo) * weight / sum(weights)
            filled.append((at, nxt))
            at = nxt
        index = run_end
    return filled
