"""Caption sidecars: SubRip (.srt) and WebVTT (.vtt) cues, one per caption line of the burned-in ASS."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from shorts_assets.core.types import WordTiming
from shorts_assets.providers.media import atomic_output


def _clock(seconds: float, separator: str) -> str:
    millis = max(0, round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, ms = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{ms:03d}"


def srt_time(seconds: float) -> str:
    return _clock(seconds, ",")


def vtt_time(seconds: float) -> str:
    return _clock(seconds, ".")


def _one_line(text: str) -> str:
    return " ".join(text.split()).replace("-->", "->")


def _vtt_text(text: str) -> str:
    return _one_line(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cues(lines: Sequence[Sequence[WordTiming]], line_ends: Sequence[float]) -> list[tuple[float, float, str]]:
    """(start, end, text) per caption line, each ending no earlier than a millisecond after it starts."""
    result = []
    for line, end in zip(lines, line_ends):
        text = " ".join(w.word.strip() for w in line if w.word.strip())
        if not text:
            continue
        start = max(0.0, line[0].start_s)
        result.append((start, max(end, start + 0.001), text))
    return result


def srt_text(items: Sequence[tuple[float, float, str]]) -> str:
    blocks = [
        f"{index}\n{srt_time(start)} --> {srt_time(end)}\n{_one_line(text)}\n"
        for index, (start, end, text) in enumerate(items, start=1)
    ]
    return "\n".join(blocks)


def vtt_text(items: Sequence[tuple[float, float, str]]) -> str:
    blocks = ["WEBVTT\n"] + [
        f"{vtt_time(start)} --> {vtt_time(end)}\n{_vtt_text(text)}\n" for start, end, text in items
    ]
    return "\n".join(blocks)


def write_text(path: Path, text: str) -> None:
    with atomic_output(path) as temp_path:
        temp_path.write_text(text, encoding="utf-8")
