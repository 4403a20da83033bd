"""The offline renderer: clips + narration + word timings -> a finished vertical short and its thumbnail.

One FFmpeg run with one filter graph does everything: each clip is cover-cropped to 1080x1920,
converted to 30 fps and fitted to its share of the narration (trimmed, or looped when short), the
clips are concatenated, the captions are burned in from an ASS file through libass (fonts from
matplotlib's wheel), the narration is loudness-normalised, and a frame about a second in becomes
the JPEG thumbnail. Output: H.264 High / yuv420p / AAC 48 kHz stereo MP4 with faststart.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Sequence

import ffmpeg

from shorts_assets.providers.interfaces import (
    Clip,
    ProviderError,
    RenderResult,
    Script,
    Voiceover,
    WordTiming,
)
from shorts_assets.providers.media import (
    CAPTION_FONT,
    atomic_output,
    fonts_dir,
    probe,
    run_ffmpeg,
)

WIDTH = 1080
HEIGHT = 1920
FPS = 30
SAMPLE_RATE = 48_000
TAIL_S = 0.6
THUMBNAIL_AT_S = 1.0

# Loudness target for short-form platforms (EBU R128 measurement).
LOUDNORM = MappingProxyType({"I": -14, "TP": -1.5, "LRA": 11})

MAX_LINE_WORDS = 4
MAX_LINE_CHARS = 18
# A pause this long between words starts a new caption line.
MAX_LINE_GAP_S = 0.7
# How long the last line lingers after its last word when nothing follows soon.
LINGER_S = 0.35
SENTENCE_END = (".", "!", "?", "…", "。", "؟")

# Invisible (default-ignorable) character that stops libass reading `\N`, `\h` or `\{` after a
# literal backslash.
_WORD_JOINER = "\u2060"


@dataclass(frozen=True)
class CaptionStyle:
    """An ASS style: colours are &HAABBGGRR (alpha 00 = opaque)."""

    font_size: int
    bold: bool
    primary: str
    highlight: str
    outline_colour: str
    back_colour: str
    border_style: int  # 1 = outline + drop shadow, 3 = opaque box
    outline: float
    shadow: float


CAPTION_STYLES: MappingProxyType[str, CaptionStyle] = MappingProxyType(
    {
        "bold_yellow": CaptionStyle(
            font_size=86, bold=True, primary="&H0000FFFF", highlight="&H00FFFFFF",
            outline_colour="&H00000000", back_colour="&H80000000", border_style=1,
            outline=7, shadow=2,
        ),
        "clean_white": CaptionStyle(
            font_size=78, bold=False, primary="&H00FFFFFF", highlight="&H0066D9FF",
            outline_colour="&H00202020", back_colour="&H90000000", border_style=1,
            outline=2, shadow=4,
        ),
        "boxed": CaptionStyle(
            font_size=74, bold=True, primary="&H00FFFFFF", highlight="&H0000E1FF",
            outline_colour="&H00141414", back_colour="&H00141414", border_style=3,
            outline=14, shadow=0,
        ),
    }
)
DEFAULT_CAPTION_STYLE = "bold_yellow"

# Centred, low but clear of the bottom ~30% where platform UI sits, and away from the side icons.
CAPTION_MARGIN_V = 620
CAPTION_MARGIN_SIDE = 120


@lru_cache(maxsize=4)
def _font_codepoints(bold: bool) -> frozenset[int] | None:
    """Code points the caption font can draw, or None when fontTools is unavailable."""
    try:
        from fontTools.ttLib import TTFont
    except ImportError:
        return None
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    with TTFont(fonts_dir() / name, lazy=True) as font:
        return frozenset(font.getBestCmap())


def drawable(text: str, bold: bool) -> str:
    """`text` without the characters the caption font has no glyph for (emoji would be boxes)."""
    codepoints = _font_codepoints(bold)
    if codepoints is None:
        return text
    return "".join(
        char
        for char in text
        if ord(char) in codepoints or char.isspace() or unicodedata.category(char) == "Cf"
    )


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


def caption_events(
    words: Sequence[WordTiming], end_s: float
) -> list[tuple[float, float, list[str], int]]:
    """(start, end, line words, index of the spoken word) for each spoken word, clipped to end_s."""
    lines = caption_lines(words)
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


def write_ass(path: Path, words: Sequence[WordTiming], style_name: str, end_s: float) -> int:
    """Write the captions as an ASS script at `path`; return the number of Dialogue events."""
    style = CAPTION_STYLES.get(style_name)
    if style is None:
        raise ProviderError(
            f"unknown caption_style {style_name!r}; known: {', '.join(CAPTION_STYLES)}"
        )
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
        f"Style: {style_name},{CAPTION_FONT},{style.font_size},{style.primary},{style.highlight},"
        f"{style.outline_colour},{style.back_colour},{-1 if style.bold else 0},0,0,0,100,100,0,0,"
        f"{style.border_style},{style.outline:g},{style.shadow:g},2,"
        f"{CAPTION_MARGIN_SIDE},{CAPTION_MARGIN_SIDE},{CAPTION_MARGIN_V},1",
        "",
        "[Events]",
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
    ]
    dialogue = []
    for start, stop, texts, current in caption_events(words, end_s):
        start_cs = round(start * 100)
        stop_cs = max(round(stop * 100), start_cs + 1)
        parts = [ass_escape(drawable(t, style.bold)) for t in texts]
        parts[current] = f"{{\\c{style.highlight}&}}{parts[current]}{{\\c{style.primary}&}}"
        dialogue.append(
            f"Dialogue: 0,{_ass_time(start_cs)},{_ass_time(stop_cs)},{style_name},,0,0,0,,"
            + " ".join(parts)
        )
    with atomic_output(path) as temp_path:
        temp_path.write_text("\n".join(header + dialogue) + "\n", encoding="utf-8")
    return len(dialogue)


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


def _file_url(path: Path) -> str:
    # The "file:" protocol stops ffmpeg reading "name:..." as a protocol and leading "-" as an option.
    return f"file:{path.resolve()}"


class FfmpegRenderer:
    """Renderer that assembles the short with one local FFmpeg run."""

    def __init__(self, preset: str = "veryfast", crf: int = 21):
        self.preset = preset
        self.crf = crf

    def render(
        self, clips: Sequence[Clip], voiceover: Voiceover, script: Script, out_path: Path
    ) -> RenderResult:
        video_id = script.video_id
        out_path = Path(out_path)
        if not clips:
            raise ProviderError(f"video {video_id}: no clips to render")
        if voiceover.duration_s <= 0:
            raise ProviderError(
                f"video {video_id}: voiceover {voiceover.audio_path} has duration "
                f"{voiceover.duration_s}"
            )

        clip_seconds = [self._checked_clip(video_id, index, clip)
                        for index, clip in enumerate(clips, start=1)]
        self._check_voiceover(video_id, voiceover)

        total_frames = max(1, round((voiceover.duration_s + TAIL_S) * FPS))
        total_s = total_frames / FPS
        if len(script.scenes) == len(clips):
            weights = [scene.duration_s for scene in script.scenes]
        else:
            weights = [clip.duration_s for clip in clips]
        frames = segment_frames(weights, total_frames)

        out_path.parent.mkdir(parents=True, exist_ok=True)
        ass_path = out_path.with_suffix(".ass")
        style = script.arms.get("caption_style", DEFAULT_CAPTION_STYLE)
        try:
            write_ass(ass_path, voiceover.words, style, total_s)
        except ProviderError as exc:
            raise ProviderError(f"video {video_id}: captions {ass_path}: {exc}") from exc

        thumb_path = out_path.with_suffix(".jpg")
        with atomic_output(out_path) as temp_video, atomic_output(thumb_path) as temp_thumb:
            args = self._ffmpeg_args(clips, clip_seconds, frames, voiceover, ass_path,
                                     total_s, temp_video, temp_thumb)
            inputs = ", ".join(str(clip.path) for clip in clips)
            run_ffmpeg(
                args,
                f"video {video_id}: rendering {out_path} from clips [{inputs}], "
                f"voiceover {voiceover.audio_path} and captions {ass_path}",
            )
            info = probe(temp_video)
            if not (info.has_video and info.has_audio) or (info.width, info.height) != (
                WIDTH,
                HEIGHT,
            ):
                raise ProviderError(f"video {video_id}: render {out_path} came out wrong: {info}")
            thumb = probe(temp_thumb)
            if (thumb.width, thumb.height) != (WIDTH, HEIGHT):
                raise ProviderError(f"video {video_id}: thumbnail {thumb_path} came out wrong")

        return RenderResult(
            video_path=out_path,
            thumbnail_path=thumb_path,
            duration_s=info.duration_s,
            width=info.width,
            height=info.height,
            fps=info.fps or float(FPS),
        )

    @staticmethod
    def _checked_clip(video_id: str, index: int, clip: Clip) -> float:
        try:
            info = probe(clip.path)
        except ProviderError as exc:
            raise ProviderError(f"video {video_id}: clip {index} {clip.path}: {exc}") from exc
        if not info.has_video or info.duration_s <= 0:
            raise ProviderError(f"video {video_id}: clip {index} {clip.path} has no video")
        return info.duration_s

    @staticmethod
    def _check_voiceover(video_id: str, voiceover: Voiceover) -> None:
        try:
            info = probe(voiceover.audio_path)
        except ProviderError as exc:
            raise ProviderError(
                f"video {video_id}: voiceover {voiceover.audio_path}: {exc}"
            ) from exc
        if not info.has_audio:
            raise ProviderError(
                f"video {video_id}: voiceover {voiceover.audio_path} has no audio"
            )

    def _ffmpeg_args(
        self,
        clips: Sequence[Clip],
        clip_seconds: Sequence[float],
        frames: Sequence[int],
        voiceover: Voiceover,
        ass_path: Path,
        total_s: float,
        temp_video: Path,
        temp_thumb: Path,
    ) -> list[str]:
        segments = []
        for clip, seconds, count in zip(clips, clip_seconds, frames):
            if count <= 0:
                continue
            # Loop a clip shorter than its share (two frames of slack absorb rate rounding).
            loop = {"stream_loop": -1} if seconds < count / FPS + 2 / FPS else {}
            segments.append(
                ffmpeg.input(_file_url(clip.path), **loop)
                .video
                # Cut to 9:16 before scaling: the same picture as scaling first, far fewer pixels.
                .filter("crop", w=f"min(iw,ih*{WIDTH}/{HEIGHT})", h=f"min(ih,iw*{HEIGHT}/{WIDTH})")
                .filter("scale", w=WIDTH, h=HEIGHT, force_original_aspect_ratio="increase")
                .filter("crop", w=WIDTH, h=HEIGHT)
                .filter("setsar", sar=1)
                .filter("fps", fps=FPS)
                .filter("trim", end_frame=count)
                .filter("setpts", expr="PTS-STARTPTS")
            )
        video = ffmpeg.concat(*segments, v=1, a=0) if len(segments) > 1 else segments[0]
        video = (
            video.filter("format", pix_fmts="yuv420p")
            .filter("ass", filename=str(ass_path.resolve()), fontsdir=str(fonts_dir()))
            .filter_multi_output("split", outputs=2)
        )
        thumb_frame = min(round(THUMBNAIL_AT_S * FPS), round(total_s * FPS) - 1)
        thumbnail = (
            video[1]
            .filter("trim", start_frame=thumb_frame, end_frame=thumb_frame + 1)
            .filter("scale", out_range="full")
            .filter("format", pix_fmts="yuvj420p")
        )
        audio = (
            ffmpeg.input(_file_url(voiceover.audio_path))
            .audio.filter("loudnorm", **LOUDNORM)
            .filter("aresample", SAMPLE_RATE)
            .filter("aformat", sample_fmts="fltp", channel_layouts="stereo")
            .filter("apad", whole_dur=f"{total_s:.6f}")
            .filter("atrim", end=f"{total_s:.6f}")
        )
        main = ffmpeg.output(
            video[0],
            audio,
            _file_url(temp_video),
            **{
                "c:v": "libx264",
                "preset": self.preset,
                "crf": self.crf,
                "profile:v": "high",
                # x264 signals the lowest profile the stream fits; the 8x8 transform makes it High
                # even with presets (ultrafast) that would otherwise produce Constrained Baseline.
                "x264-params": "8x8dct=1",
                "pix_fmt": "yuv420p",
                "r": FPS,
                "c:a": "aac",
                "b:a": "160k",
                "ar": SAMPLE_RATE,
                "ac": 2,
                "movflags": "+faststart",
                "f": "mp4",
            },
        )
        still = ffmpeg.output(
            thumbnail,
            _file_url(temp_thumb),
            **{"frames:v": 1, "q:v": 3, "f": "image2", "update": 1},
        )
        return ffmpeg.merge_outputs(main, still).get_args()
