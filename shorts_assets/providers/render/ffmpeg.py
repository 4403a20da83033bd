"""The offline renderer: clips + narration + word timings -> a finished vertical short and its thumbnail.

The picture and the sound are made side by side, by separate FFmpeg runs, then joined without
re-encoding. The picture: each clip is fitted to the profile's size (1080x1920 for `final`,
540x960 for `draft`) and 30 fps unless it already is, and to its share of the narration (trimmed,
or looped when short; a still image gets a slow push-in); neighbouring clips cross-fade, with only
the overlapping frames blended; the captions are burned in from an ASS file through libass (fonts
from matplotlib's wheel); a frame about a second in becomes the JPEG thumbnail. It stays yuv420p
from the decoder to the encoder. The sound: the narration is levelled and its peaks limited, it is
mixed over a music bed that ducks under speech and the mix's loudness is measured, then it is
normalised with that measurement (a plain gain) and encoded. Output: H.264 High / yuv420p / AAC
48 kHz stereo MP4 with faststart, plus SRT and WebVTT caption sidecars.

Every input is read through before it is used (a clip or voiceover cut short fails naming it, as a
BadMediaFile, so its stage can make it again); the picture pass must report every frame of the
timeline written, and the joined file must read through to its end before it is moved into place.
The render measures itself as it goes: blackdetect watches the frames the picture pass encodes, and
the read-through of the joined file decodes its sound through ebur128 and silencedetect; the
record (`RenderResult.measurements`) lets the quality checks skip decoding the short again.
Intermediate files live in a private work folder (`shorts-render-<pid>-…`) that is removed after the
render, or by the next render when the process died.
"""

from __future__ import annotations

import json
import math
import os
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

import ffmpeg

from shorts_assets.core.errors import ProviderError
from shorts_assets.core.protocols import Closing
from shorts_assets.core.types import Clip, RenderResult, Script, Voiceover, WordTiming
from shorts_assets.providers.media import (
    CAPTION_FONT,
    BackgroundFfmpeg,
    BadMediaFile,
    MediaInfo,
    atomic_output,
    ffmpeg_report,
    fonts_dir,
    probe,
    remove_stale_work_dirs,
    run_ffmpeg,
    verify_complete,
    verify_measured,
    work_dir,
)
from shorts_assets.providers.render.captions import write_captions
from shorts_assets.providers.render.layout import (
    FPS,
    HEIGHT,
    IMAGE_SUFFIXES,
    MAX_DURATION_S,
    SAMPLE_RATE,
    TAIL_S,
    THUMBNAIL_AT_S,
    TRANSITION_S,
    WIDTH,
    caption_events,
    segment_frames,
    transition_frames,
    write_sidecars,
)
from shorts_assets.providers.render.music import generated_bed_source, pick_track
from shorts_assets.providers.render.quality import AUDIO_FILTERS, BLACK_PIX_TH, MEASURED_MIN_STRETCH_S, measurements
from shorts_assets.providers.render.sheet import (
    SHEET_FRAMES,
    SHEET_JPEG_QSCALE,
    SHEET_TILE_WIDTH,
    sheet_path,
    sheet_pick,
)

WORK_PREFIX = "shorts-render"
# A clip at most this much shorter than its share holds its last frame instead of looping.
MAX_HOLD_S = 0.6
# How far a still image zooms in over its share of the timeline.
STILL_ZOOM = 0.12

# Loudness target for short-form platforms (EBU R128 measurement); the true-peak ceiling leaves
# room for the AAC encoder's overshoot below -1 dBTP.
LOUDNORM = MappingProxyType({"I": -14, "TP": -2.5, "LRA": 11})
# loudnorm applies a plain gain only when the mix's true peak is at most TP - I (11.5 dB) above its
# loudness; synthesised speech peaks 16-22 dB above it, and loudnorm's dynamic mode misses the
# target by around a loudness unit. So before mixing, the narration is brought to this loudness
# (LUFS) and its peaks limited to this ceiling (dBFS), leaving them about 10 dB above its loudness.
NARRATION = MappingProxyType({"I": -16.5, "TP": -10.0})
# All-pass filters (Q 0.7) at these frequencies smear the voice's glottal pulses in time: the same
# sound with peaks 1-2 dB lower, so the limiter takes less loudness away.
PHASE_ROTATION_HZ = (150, 300, 600)
MUSIC_GAIN = 0.35
# The bed drops by up to ~18 dB while the narrator speaks.
DUCKING = MappingProxyType({"threshold": 0.02, "ratio": 8, "attack": 20, "release": 400, "makeup": 1})


_INTEGRATED_RE = re.compile(r"Integrated loudness:\s*I:\s*(-?[\d.]+|-inf) LUFS")

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
            font_size=86,
            bold=True,
            primary="&H0000FFFF",
            highlight="&H00FFFFFF",
            outline_colour="&H00000000",
            back_colour="&H80000000",
            border_style=1,
            outline=7,
            shadow=2,
        ),
        "clean_white": CaptionStyle(
            font_size=78,
            bold=False,
            primary="&H00FFFFFF",
            highlight="&H0066D9FF",
            outline_colour="&H00202020",
            back_colour="&H90000000",
            border_style=1,
            outline=2,
            shadow=4,
        ),
        "boxed": CaptionStyle(
            font_size=74,
            bold=True,
            primary="&H00FFFFFF",
            highlight="&H0000E1FF",
            outline_colour="&H00141414",
            back_colour="&H00141414",
            border_style=3,
            outline=14,
            shadow=0,
        ),
    }
)

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
        char for char in text if ord(char) in codepoints or char.isspace() or unicodedata.category(char) == "Cf"
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


def write_ass(path: Path, words: Sequence[WordTiming], style_name: str, end_s: float) -> int:
    """Write the captions as an ASS script at `path`; return the number of Dialogue events."""
    style = CAPTION_STYLES.get(style_name)
    if style is None:
        raise ProviderError(f"unknown caption_style {style_name!r}; known: {', '.join(CAPTION_STYLES)}")
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
            f"Dialogue: 0,{_ass_time(start_cs)},{_ass_time(stop_cs)},{style_name},,0,0,0,," + " ".join(parts)
        )
    with atomic_output(path) as temp_path:
        temp_path.write_text("\n".join(header + dialogue) + "\n", encoding="utf-8")
    return len(dialogue)


def _file_url(path: Path) -> str:
    # The "file:" protocol stops ffmpeg reading "name:..." as a protocol and leading "-" as an option.
    return f"file:{path.resolve()}"


def is_image(path: Path) -> bool:
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


@dataclass(frozen=True)
class RenderProfile:
    """Output geometry and encoder settings."""

    width: int
    height: int
    fps: int
    preset: str
    crf: int
    audio_bitrate: str
    scaler: str


PROFILES: MappingProxyType[str, RenderProfile] = MappingProxyType(
    {
        "final": RenderProfile(
            width=WIDTH, height=HEIGHT, fps=FPS, preset="veryfast", crf=21, audio_bitrate="160k", scaler="bilinear"
        ),
        "draft": RenderProfile(
            width=540, height=960, fps=FPS, preset="ultrafast", crf=26, audio_bitrate="128k", scaler="fast_bilinear"
        ),
    }
)


def video_encoder_options(profile: RenderProfile) -> dict[str, object]:
    """The H.264 encoder's output options for `profile`, keyed as ffmpeg names them."""
    return {
        "c:v": "libx264",
        "preset": profile.preset,
        "crf": profile.crf,
        "profile:v": "high",
        # x264 signals the lowest profile the stream fits; the 8x8 transform makes it High even
        # with presets (ultrafast) that would otherwise produce Constrained Baseline.
        "x264-params": "8x8dct=1",
        "pix_fmt": "yuv420p",
    }


@dataclass(frozen=True)
class _Segment:
    clip: Clip
    info: MediaInfo
    seconds: float  # the source's own length (0 for a still image)
    frames: int  # frames it fills on the timeline, cross-fade overlap included
    still: bool


class FfmpegRenderer(Closing):
    """Renderer that assembles the short with local FFmpeg: picture and sound apart, then joined.

    `profile` picks the output ("final" or "draft"); `preset` and `crf` override its encoder
    settings. The music bed is generated unless `music_dir` holds licensed tracks; `music=False`
    leaves the narration alone.
    """

    name = "ffmpeg"

    def __init__(
        self,
        preset: str | None = None,
        crf: int | None = None,
        *,
        profile: str = "final",
        music: bool = True,
        music_dir: str | os.PathLike[str] | None = None,
        transition_s: float = TRANSITION_S,
        max_duration_s: float = MAX_DURATION_S,
    ):
        if profile not in PROFILES:
            raise ProviderError(f"unknown render profile {profile!r}; known: {', '.join(PROFILES)}")
        base = PROFILES[profile]
        self.profile_name = profile
        self.profile = RenderProfile(
            width=base.width,
            height=base.height,
            fps=base.fps,
            preset=base.preset if preset is None else preset,
            crf=base.crf if crf is None else crf,
            audio_bitrate=base.audio_bitrate,
            scaler=base.scaler,
        )
        self.preset = self.profile.preset
        self.crf = self.profile.crf
        self.music = music
        self.music_dir = Path(music_dir) if music_dir is not None else None
        self.transition_s = transition_s
        self.max_duration_s = max_duration_s
        # A run whose renders are all kept never opens a work folder; it still clears what dead renders left.
        remove_stale_work_dirs(WORK_PREFIX)

    def render(self, clips: Sequence[Clip], voiceover: Voiceover, script: Script, out_path: Path) -> RenderResult:
        video_id = script.video_id
        out_path = Path(out_path)
        profile = self.profile
        if not clips:
            raise ProviderError(f"video {video_id}: no clips to render")
        if voiceover.duration_s <= 0:
            raise ProviderError(
                f"video {video_id}: voiceover {voiceover.audio_path} has duration {voiceover.duration_s}"
            )
        total_frames = max(1, round((voiceover.duration_s + TAIL_S) * profile.fps))
        total_s = total_frames / profile.fps
        if total_s > self.max_duration_s:
            raise ProviderError(
                f"video {video_id}: voiceover {voiceover.audio_path} lasts "
                f"{voiceover.duration_s:.1f} s; with the {TAIL_S:g} s tail the short would exceed "
                f"the {self.max_duration_s:g} s platform limit"
            )

        clip_infos = [self._checked_clip(video_id, index, clip) for index, clip in enumerate(clips, start=1)]
        self._check_voiceover(video_id, voiceover)

        if len(script.scenes) == len(clips):
            weights = [scene.duration_s for scene in script.scenes]
        else:
            weights = [clip.duration_s for clip in clips]
        counts = segment_frames(weights, total_frames)
        kept = [(clip, info, count) for clip, info, count in zip(clips, clip_infos, counts) if count > 0]
        overlap = transition_frames([count for _, _, count in kept], round(self.transition_s * profile.fps))
        segments = [
            _Segment(
                clip=clip,
                info=info,
                seconds=0.0 if is_image(clip.path) else info.duration_s,
                frames=count + (overlap if index < len(kept) - 1 else 0),
                still=is_image(clip.path),
            )
            for index, (clip, info, count) in enumerate(kept)
        ]

        out_path.parent.mkdir(parents=True, exist_ok=True)
        ass_path = out_path.with_suffix(".ass")
        try:
            fonts = write_captions(ass_path, voiceover.words, script, total_s)
        except ProviderError as exc:
            raise ProviderError(f"video {video_id}: captions {ass_path}: {exc}") from exc
        track = pick_track(self.music_dir, video_id) if self.music else None

        thumb_path = out_path.with_suffix(".jpg")
        contact_path = sheet_path(out_path)
        music_track = track.path if track else None
        inputs = ", ".join(str(clip.path) for clip in clips)
        sound_of = f"video {video_id}: voiceover {voiceover.audio_path}"
        with work_dir(WORK_PREFIX) as work:
            mix_path, sound_path = work / "mix.wav", work / "sound.m4a"
            picture_path = work / "picture.mp4"
            with (
                atomic_output(out_path) as temp_video,
                atomic_output(thumb_path) as temp_thumb,
                atomic_output(contact_path) as temp_sheet,
            ):
                picture_args = self.picture_args(
                    segments, overlap, ass_path, total_s, picture_path, temp_thumb, fonts=fonts, sheet_path=temp_sheet
                )
                with BackgroundFfmpeg(
                    picture_args,
                    f"video {video_id}: rendering {out_path} from clips [{inputs}] and captions {ass_path}",
                    loglevel="info",  # blackdetect reports at this level
                ) as picture:
                    loudness = self.mix_audio(voiceover, total_s, video_id, music_track, mix_path, sound_of)
                    run_ffmpeg(
                        self.sound_args(mix_path, total_s, sound_path, loudness), f"{sound_of}: encoding the sound"
                    )
                    written = picture.wait()
                    picture_report = picture.report()
                if written != total_frames:
                    raise ProviderError(
                        f"video {video_id}: rendering {out_path}: the picture pass wrote {written} of "
                        f"{total_frames} frames"
                    )
                run_ffmpeg(
                    [
                        "-i",
                        _file_url(picture_path),
                        "-i",
                        _file_url(sound_path),
                        "-map",
                        "0:v",
                        "-map",
                        "1:a",
                        "-c",
                        "copy",
                        "-movflags",
                        "+faststart",
                        "-f",
                        "mp4",
                        _file_url(temp_video),
                    ],
                    f"video {video_id}: joining the picture and the sound into {out_path}",
                )
                info, read = verify_measured(
                    temp_video,
                    f"video {video_id}: render {out_path}",
                    expected_frames=total_frames,
                    audio_filter=AUDIO_FILTERS,
                )
                if not (info.has_video and info.has_audio) or (info.width, info.height) != (
                    profile.width,
                    profile.height,
                ):
                    raise ProviderError(f"video {video_id}: render {out_path} came out wrong: {info}")
                thumb = probe(temp_thumb)
                if (thumb.width, thumb.height) != (profile.width, profile.height):
                    raise ProviderError(f"video {video_id}: thumbnail {thumb_path} came out wrong")
        # Stamped after the short it shows, so it is not taken for an earlier render's.
        os.utime(contact_path)
        write_sidecars(out_path, voiceover.words, total_s)

        return RenderResult(
            video_path=out_path,
            thumbnail_path=thumb_path,
            duration_s=info.duration_s,
            width=info.width,
            height=info.height,
            fps=info.fps or float(profile.fps),
            measurements=measurements(picture_report, read.report, read.seconds, info.duration_s),
        )

    @staticmethod
    def _checked_clip(video_id: str, index: int, clip: Clip) -> MediaInfo:
        what = f"video {video_id}: clip {index} {clip.path}"
        info = verify_complete(clip.path, what)
        if not info.has_video or not info.width or not info.height:
            raise BadMediaFile(f"{what} has no video stream", clip.path)
        if not is_image(clip.path) and info.duration_s <= 0:
            raise BadMediaFile(f"{what} has no video frames", clip.path)
        return info

    @staticmethod
    def _check_voiceover(video_id: str, voiceover: Voiceover) -> None:
        what = f"video {video_id}: voiceover {voiceover.audio_path}"
        info = verify_complete(voiceover.audio_path, what)
        if not info.has_audio:
            raise BadMediaFile(f"{what} has no audio", voiceover.audio_path)

    def _cover(self, stream, info: MediaInfo):  # type: ignore[no-untyped-def]
        """`stream` cover-cropped to the output size (untouched when it already has it), yuv420p."""
        p = self.profile
        if (info.width, info.height) != (p.width, p.height):
            # Cut to 9:16 before scaling: the same picture as scaling first, far fewer pixels.
            stream = (
                stream.filter(
                    "crop", w=f"min(iw,max(1,ih*{p.width}/{p.height}))", h=f"min(ih,max(1,iw*{p.height}/{p.width}))"
                )
                .filter("scale", w=p.width, h=p.height, force_original_aspect_ratio="increase", flags=p.scaler)
                .filter("crop", w=p.width, h=p.height)
            )
        return stream.filter("format", pix_fmts="yuv420p")

    def _fitted(self, segment: _Segment):  # type: ignore[no-untyped-def]
        """One clip as `segment.frames` frames of the output size and rate, starting at 0."""
        p = self.profile
        fps, count = p.fps, segment.frames
        if segment.still:
            # A slow push-in over the still's whole share of the timeline.
            stream = self._cover(ffmpeg.input(_file_url(segment.clip.path)).video, segment.info)
            stream = stream.filter(
                "zoompan",
                z=f"1+{STILL_ZOOM:g}*on/{max(1, count - 1)}",
                d=count,
                x="iw/2-iw/zoom/2",
                y="ih/2-ih/zoom/2",
                s=f"{p.width}x{p.height}",
                fps=fps,
            )
        else:
            needed_s = count / fps
            short_s = needed_s - segment.seconds
            # Loop a clip much shorter than its share; hold the last frame of one that is only a
            # little short (a loop would jump, and looping input costs far more to process). Read
            # no further than needed, so nothing is decoded only to be trimmed away.
            options: dict[str, object] = {"stream_loop": -1} if short_s > MAX_HOLD_S else {}
            if (segment.info.width or 0) * (segment.info.height or 0) <= p.width * p.height:
                # Decoding a frame this size costs a fraction of encoding one: frame threads
                # would only add memory and hand-offs.
                options["threads"] = 1
            stream = ffmpeg.input(_file_url(segment.clip.path), t=f"{needed_s + 0.25:.3f}", **options).video
            stream = self._cover(stream, segment.info).filter("fps", fps=fps)
            if -2 / fps < short_s <= MAX_HOLD_S:
                stream = stream.filter("tpad", stop_mode="clone", stop_duration=f"{max(short_s, 0) + 2 / fps:.3f}")
        return stream.filter("setsar", sar=1).filter("trim", end_frame=count).filter("setpts", expr="PTS-STARTPTS")

    def _timeline(self, segments: Sequence[_Segment], overlap: int):  # type: ignore[no-untyped-def]
        """The fitted clips in turn, each cross-fading into the next over `overlap` frames.

        xfade works in 4:4:4, so it gets only the overlapping frames; the rest of every clip is
        passed through and joined with concat, all in yuv420p.
        """
        fitted = [self._fitted(segment) for segment in segments]
        if len(fitted) == 1:
            return fitted[0]
        if not overlap:
            return ffmpeg.concat(*fitted, v=1, a=0).filter("settb", expr=f"1/{self.profile.fps}")

        def part(stream, start: int, end: int):  # type: ignore[no-untyped-def]
            return stream.filter("trim", start_frame=start, end_frame=end).filter("setpts", expr="PTS-STARTPTS")

        last = len(segments) - 1
        heads, bodies, tails = [], [], []
        for index, (segment, stream) in enumerate(zip(segments, fitted)):
            wanted = 1 + (index > 0) + (index < last)
            copies = stream.filter_multi_output("split")
            outputs = iter([copies[n] for n in range(wanted)])
            head_end = overlap if index > 0 else 0
            tail_start = segment.frames - overlap if index < last else segment.frames
            heads.append(part(next(outputs), 0, overlap) if index > 0 else None)
            bodies.append(part(next(outputs), head_end, tail_start))
            tails.append(part(next(outputs), tail_start, segment.frames) if index < last else None)
        pieces = [bodies[0]]
        for index in range(1, len(segments)):
            blended = ffmpeg.filter(
                [tails[index - 1], heads[index]],
                "xfade",
                transition="fade",
                duration=f"{overlap / self.profile.fps:.6f}",
                offset=0,
            ).filter("format", pix_fmts="yuv420p")
            pieces += [blended, bodies[index]]
        return ffmpeg.concat(*pieces, v=1, a=0).filter("settb", expr=f"1/{self.profile.fps}")

    def picture_args(
        self,
        segments: Sequence[_Segment],
        overlap: int,
        ass_path: Path,
        total_s: float,
        picture_path: Path,
        thumb_path: Path,
        fonts: Path | None = None,
        *,
        sheet_path: Path | None = None,
    ) -> list[str]:
        """ffmpeg arguments that render the captioned picture (no sound) and the thumbnail, and the
        contact sheet at `sheet_path` when one is given, all from the frames of this one pass; libass
        reads its fonts from `fonts` (the caption template's), else matplotlib's."""
        p = self.profile
        video = (
            self._timeline(segments, overlap)
            .filter("ass", filename=str(ass_path.resolve()), fontsdir=str(fonts or fonts_dir()))
            # The frames as they are encoded, watched for black stretches in this same pass.
            .filter("blackdetect", d=MEASURED_MIN_STRETCH_S, pix_th=BLACK_PIX_TH)
            .filter_multi_output("split")
        )
        total_frames = round(total_s * p.fps)
        thumb_frame = min(round(THUMBNAIL_AT_S * p.fps), total_frames - 1)
        thumbnail = (
            video[1]
            .filter("trim", start_frame=thumb_frame, end_frame=thumb_frame + 1)
            .filter("scale", out_range="full")
            .filter("format", pix_fmts="yuvj420p")
        )
        picture = ffmpeg.output(
            video[0].filter("trim", end_frame=total_frames),
            _file_url(picture_path),
            **video_encoder_options(p),
            r=p.fps,
            f="mp4",
        )
        still = ffmpeg.output(
            thumbnail,
            _file_url(thumb_path),
            **{"frames:v": 1, "q:v": 3, "f": "image2", "update": 1},
        )
        outputs = [picture, still]
        if sheet_path is not None:
            sheet = video[2].filter("trim", end_frame=total_frames).filter("setpts", expr="PTS-STARTPTS")
            sheet = (
                sheet.filter("select", sheet_pick(total_s))
                .filter("scale", SHEET_TILE_WIDTH, -2)
                .filter("tile", f"{SHEET_FRAMES}x1")
            )
            sheet = sheet.filter("scale", out_range="full").filter("format", pix_fmts="yuvj420p")
            outputs.append(
                ffmpeg.output(
                    sheet,
                    _file_url(sheet_path),
                    **{"frames:v": 1, "q:v": SHEET_JPEG_QSCALE, "f": "image2", "update": 1},
                )
            )
        return ffmpeg.merge_outputs(*outputs).get_args()

    def sound_args(
        self, mix_path: Path, total_s: float, sound_path: Path, loudness: dict[str, str] | None = None
    ) -> list[str]:
        """ffmpeg arguments that loudness-normalise the mix and encode it as AAC 48 kHz stereo."""
        return [
            "-i",
            _file_url(mix_path),
            "-filter:a",
            self._normalisation(total_s, loudness),
            # FFmpeg's documentation: better than the default coder above 64 kb/s, and far cheaper.
            "-c:a",
            "aac",
            "-aac_coder",
            "fast",
            "-b:a",
            self.profile.audio_bitrate,
            "-ar",
            str(SAMPLE_RATE),
            "-ac",
            "2",
            "-f",
            "mp4",
            _file_url(sound_path),
        ]

    @staticmethod
    def _narration(voiceover: Voiceover):  # type: ignore[no-untyped-def]
        """The voiceover as 48 kHz stereo."""
        return (
            ffmpeg.input(_file_url(voiceover.audio_path))
            .audio.filter("aresample", SAMPLE_RATE)
            .filter("aformat", sample_fmts="fltp", channel_layouts="stereo")
        )

    def narration_loudness(self, voiceover: Voiceover, what: str) -> float | None:
        """The voiceover's integrated loudness (LUFS), or None when it is silent."""
        measured = self._narration(voiceover).filter("ebur128", framelog="quiet")
        args = ffmpeg.output(measured, "-", f="null").get_args()
        report = ffmpeg_report(args, f"{what}: measuring the narration's loudness")
        found = _INTEGRATED_RE.findall(report)
        if not found:
            raise ProviderError(f"{what}: no loudness measurement in ffmpeg's report")
        loudness = float(found[-1])
        # ebur128 reports the absolute gate (-70 LUFS) for silence.
        return loudness if math.isfinite(loudness) and loudness > -70 else None

    def _mix(  # type: ignore[no-untyped-def]
        self,
        voiceover: Voiceover,
        total_s: float,
        music_key: str,
        music_track: Path | None,
        narration_lufs: float | None = None,
    ):
        """Narration over a music bed that ducks under speech, exactly total_s long.

        With the narration's measured loudness, it is first brought to NARRATION's loudness and
        its peaks limited to NARRATION's ceiling.
        """
        total = f"{total_s:.6f}"
        voice = self._narration(voiceover)
        if narration_lufs is not None:
            voice = voice.filter("volume", f"{NARRATION['I'] - narration_lufs:.2f}dB")
            for hz in PHASE_ROTATION_HZ:
                voice = voice.filter("allpass", f=hz, t="q", w=0.7)
            voice = voice.filter("alimiter", limit=f"{10 ** (NARRATION['TP'] / 20):.4f}", level="false", latency="true")
        voice = voice.filter("apad", whole_dur=total).filter("atrim", end=total)
        if not self.music:
            return voice
        if music_track is not None:
            bed = ffmpeg.input(_file_url(music_track), stream_loop=-1, t=total).audio
        else:
            bed = ffmpeg.input(generated_bed_source(music_key, total_s), f="lavfi").audio
        bed = (
            bed.filter("aresample", SAMPLE_RATE)
            .filter("aformat", sample_fmts="fltp", channel_layouts="stereo")
            .filter("apad", whole_dur=total)
            .filter("atrim", end=total)
            .filter("volume", MUSIC_GAIN)
            .filter("afade", t="in", d=0.4)
            .filter("afade", t="out", st=f"{max(0.0, total_s - 1.0):.3f}", d=1.0)
        )
        speech = voice.filter_multi_output("asplit", outputs=2)
        ducked = ffmpeg.filter([bed, speech[1]], "sidechaincompress", **DUCKING)
        return ffmpeg.filter([speech[0], ducked], "amix", inputs=2, duration="first", normalize=0)

    def mix_audio(
        self, voiceover: Voiceover, total_s: float, music_key: str, music_track: Path | None, mix_path: Path, what: str
    ) -> dict[str, str]:
        """Write the mix to `mix_path` (float WAV); return loudnorm's first-pass measurement."""
        narration_lufs = self.narration_loudness(voiceover, what)
        mixed = self._mix(voiceover, total_s, music_key, music_track, narration_lufs).filter_multi_output("asplit")
        measured = mixed[0].filter("loudnorm", print_format="json", **LOUDNORM)
        args = ffmpeg.merge_outputs(
            # loudnorm runs at 192 kHz and the split feeds it: bring the kept copy back down.
            ffmpeg.output(mixed[1].filter("aresample", SAMPLE_RATE), _file_url(mix_path), acodec="pcm_f32le", f="wav"),
            ffmpeg.output(measured, "-", f="null"),
        ).get_args()
        report = ffmpeg_report(args, f"{what}: mixing and measuring the audio")
        start, end = report.rfind("{"), report.rfind("}")
        try:
            measurement = json.loads(report[start : end + 1])
            return {
                key: str(measurement[key])
                for key in ("input_i", "input_tp", "input_lra", "input_thresh", "target_offset")
            }
        except (ValueError, KeyError) as exc:
            raise ProviderError(f"{what}: no loudness measurement in ffmpeg's report") from exc

    @staticmethod
    def _normalisation(total_s: float, measured: dict[str, str] | None = None) -> str:
        """The filter chain that loudness-normalises the mix (linearly if it can), 48 kHz stereo."""
        options = {key: str(value) for key, value in LOUDNORM.items()}
        if measured and all(v not in ("-inf", "inf", "nan") for v in measured.values()):
            options.update(
                measured_I=measured["input_i"],
                measured_TP=measured["input_tp"],
                measured_LRA=measured["input_lra"],
                measured_thresh=measured["input_thresh"],
                offset=measured["target_offset"],
                linear="true",
            )
        loudnorm = ":".join(f"{key}={value}" for key, value in options.items())
        return (
            f"loudnorm={loudnorm},aresample={SAMPLE_RATE},"
            f"aformat=sample_fmts=fltp:channel_layouts=stereo,atrim=end={total_s:.6f}"
        )
