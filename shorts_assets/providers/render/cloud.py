"""The cloud renderer: the short composed as Creatomate RenderScript, rendered remotely, then fetched,
checked and given its thumbnail locally.

Creatomate fetches every ``source`` by URL; it takes no uploads. ``media_base_url`` is where the data
root is published (a bucket or CDN synced from it): a file's URL is that base plus its path under the
data root, with a content version in the query, so a regenerated file changes the composition and is
never served from a stale cache. A file outside the data root cannot be reached and fails its video.
Given ``media_urls`` instead (a function from a local file to its URL, as the media store serves it:
the media root's base URL joined with the file's key, or a presigned URL), that function names each URL.

The composition: the scene clips one after another on one track, fitted to the narration plus a short
tail, each cross-fading into the next; the narration; and one caption element per line of words, timed
from the voiceover's word timings, with the spoken word coloured as it is said, inside the area the
platforms' buttons and titles leave free. 1080x1920 at 30 fps, MP4.

The render id is written to the ``StateStore`` the moment Creatomate returns it, keyed by the video and
a fingerprint of the composition: a retry after a crash or a timeout resumes polling that render instead
of paying for another; a changed composition renders anew; a failed render, or one whose file is gone, is
forgotten so the next attempt renders again. The estimated cost is charged to the ``Budget`` before
anything is sent. The download lands atomically and must decode through to its end, as H.264 yuv420p +
AAC at 1080x1920@30 and as long as the composition; its loudness is measured and, when it misses -14 LUFS under -1 dBTP, the
audio alone is normalised locally (the picture is copied as it is). The JPEG thumbnail and the SRT/VTT
caption sidecars are made locally. The API key is redacted from every error and log line.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from shorts_assets.core.errors import ProviderError
from shorts_assets.core.languages import LANGUAGES
from shorts_assets.core.protocols import Closing
from shorts_assets.core.state import StateStore, load_record, save_record
from shorts_assets.core.types import Clip, RenderResult, Script, Voiceover, WordTiming
from shorts_assets.providers.media import (
    BadMediaFile,
    MediaInfo,
    atomic_output,
    ffmpeg_report,
    run_ffmpeg,
    verify_complete,
)
from shorts_assets.providers.net.clients import api_http_client
from shorts_assets.providers.net.costs import Budget
from shorts_assets.providers.net.http import HttpClient, RetryPolicy
from shorts_assets.providers.render.layout import (
    DEFAULT_CAPTION_STYLE,
    FPS,
    HEIGHT,
    IMAGE_SUFFIXES,
    LINGER_S,
    MAX_DURATION_S,
    MAX_LINE_GAP_S,
    SAMPLE_RATE,
    TAIL_S,
    THUMBNAIL_AT_S,
    TRANSITION_S,
    WIDTH,
    caption_lines,
    segment_frames,
)
from shorts_assets.providers.render.subtitles import srt_text, vtt_text, write_text

logger = logging.getLogger(__name__)

CREATOMATE_BASE_URL = "https://api.creatomate.com"
NAMESPACE = "cloud_renders"
PRICE_MODEL = "creatomate"

# How far the finished file's length may stray from the composition's.
DURATION_TOLERANCE_S = 0.5

LOUDNESS_TARGET = -14.0
LOUDNESS_TOLERANCE = 0.5
TRUE_PEAK_CEILING = -1.0
# Headroom below the ceiling for the AAC encoder's overshoot.
LOUDNORM = "I=-14:TP=-2:LRA=11"

PENDING_STATUSES = frozenset({"planned", "waiting", "transcribing", "rendering"})


RENDER_RETRY = RetryPolicy(attempts=5, base_delay_s=2.0, max_delay_s=60.0, timeout=httpx.Timeout(120.0, connect=10.0))


@dataclass(frozen=True)
class CaptionLook:
    fill: str
    highlight: str
    weight: str
    stroke: str | None = None
    stroke_width: str | None = None
    background: str | None = None


# The caption styles of the local renderer, in Creatomate's terms.
CAPTION_LOOKS: MappingProxyType[str, CaptionLook] = MappingProxyType(
    {
        "bold_yellow": CaptionLook(
            fill="#ffff00", highlight="#ffffff", weight="700", stroke="#000000", stroke_width="1.2 vmin"
        ),
        "clean_white": CaptionLook(
            fill="#ffffff", highlight="#ffd966", weight="400", stroke="#202020", stroke_width="0.4 vmin"
        ),
        "boxed": CaptionLook(fill="#ffffff", highlight="#ffe100", weight="700", background="#141414"),
        # The animated templates fall back to a word-highlight look of the same colours.
        "word_pop": CaptionLook(
            fill="#ffffff", highlight="#7fff00", weight="700", stroke="#000000", stroke_width="1.0 vmin"
        ),
        "one_word": CaptionLook(
            fill="#ffffff", highlight="#ffffff", weight="800", stroke="#000000", stroke_width="1.4 vmin"
        ),
        "keyword_colour": CaptionLook(
            fill="#ffffff", highlight="#ff8c00", weight="700", stroke="#000000", stroke_width="1.0 vmin"
        ),
        "emoji_accents": CaptionLook(
            fill="#ffffff", highlight="#ffd700", weight="700", stroke="#000000", stroke_width="1.0 vmin"
        ),
    }
)
CAPTION_FONT = "Montserrat"
# Languages written in other scripts than Latin get a Google font that covers them.
SCRIPT_CAPTION_FONTS: MappingProxyType[str, str] = MappingProxyType(
    {"devanagari": "Noto Sans Devanagari", "cjk": "Noto Sans JP"}
)
# Centred, above the bottom quarter where titles and buttons sit, clear of the side icons.
CAPTION_BOX = MappingProxyType({"x": "50%", "y": "64%", "width": "78%", "height": "14%"})


def caption_windows(lines: Sequence[Sequence[WordTiming]], end_s: float) -> list[tuple[float, float]]:
    """When each line is on screen: from its first word until the next line, or a moment after its last word."""
    windows = []
    for index, line in enumerate(lines):
        start = min(max(0.0, line[0].start_s), end_s)
        next_start = lines[index + 1][0].start_s if index + 1 < len(lines) else end_s
        last_end = line[-1].end_s
        stop = max(last_end, min(next_start, last_end + LINGER_S))
        if next_start - last_end <= MAX_LINE_GAP_S:
            stop = max(stop, next_start)
        windows.append((start, max(min(stop, end_s), start)))
    return windows


def _seconds(frames: int) -> float:
    return round(frames / FPS, 6)


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def fingerprint(composition: dict[str, Any]) -> str:
    text = json.dumps(composition, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


@dataclass(frozen=True)
class Plan:
    """What is sent for one video, and what the finished file must be."""

    composition: dict[str, Any]
    fingerprint: str
    duration_s: float
    cues: list[tuple[float, float, str]]


class CloudRenderer(Closing):
    """Renderer over Creatomate's REST API (see the module docstring)."""

    name = "creatomate"

    def __init__(
        self,
        api_key: str,
        media_base_url: str,
        data_root: str | os.PathLike[str],
        base_url: str = CREATOMATE_BASE_URL,
        *,
        state: StateStore,
        budget: Budget | None = None,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        poll_interval_s: float = 5.0,
        max_poll_interval_s: float = 30.0,
        timeout_s: float = 1800.0,
        transition_s: float = TRANSITION_S,
        max_duration_s: float = MAX_DURATION_S,
        media_urls: Callable[[Path], str] | None = None,
    ) -> None:
        if not api_key:
            raise ValueError("creatomate: an API key is required")
        self.media_urls = media_urls
        parts = urlsplit(media_base_url or "")
        if media_urls is None and (parts.scheme not in ("http", "https") or not parts.netloc):
            raise ValueError(
                f"creatomate: the media base URL must be an http(s) URL where the data root is served, "
                f"got {media_base_url!r}"
            )
        self.media_base_url = media_base_url.rstrip("/")
        self.data_root = Path(data_root).resolve()
        self.base_url = base_url.rstrip("/")
        self.state = state
        self.budget = budget
        self.sleep = sleep
        self.poll_interval_s = poll_interval_s
        self.max_poll_interval_s = max_poll_interval_s
        self.timeout_s = timeout_s
        self.transition_s = transition_s
        self.max_duration_s = max_duration_s
        self.http: HttpClient = api_http_client(
            self.name, api_key, http_client=http_client, transport=transport, retry=retry or RENDER_RETRY, sleep=sleep
        )
        self._headers = {"Authorization": f"Bearer {api_key}"}

    def close(self) -> None:
        self.http.close()

    # --- the composition ---------------------------------------------------------------------------

    def media_url(self, path: Path, what: str) -> str:
        """The public URL of a file under the data root, versioned by its content."""
        path = Path(path)
        if not path.is_file():
            raise ProviderError(f"{what} {path}: no such file")
        resolved = path.resolve()
        if self.media_urls is not None:
            return self.media_urls(resolved)
        try:
            relative = resolved.relative_to(self.data_root)
        except ValueError:
            raise ProviderError(
                f"{what} {path} is outside the data root {self.data_root}; the cloud renderer can only "
                f"send files published under {self.media_base_url}"
            ) from None
        return f"{self.media_base_url}/{quote(relative.as_posix())}?v={_digest(resolved)[:12]}"

    def plan(self, clips: Sequence[Clip], voiceover: Voiceover, script: Script) -> Plan:
        """The composition for one video; raises a ProviderError naming the video before anything is sent."""
        video_id = script.video_id
        if not clips:
            raise ProviderError(f"video {video_id}: no clips to render")
        if voiceover.duration_s <= 0:
            raise ProviderError(
                f"video {video_id}: voiceover {voiceover.audio_path} has duration {voiceover.duration_s}"
            )
        total_frames = max(1, round((voiceover.duration_s + TAIL_S) * FPS))
        total_s = _seconds(total_frames)
        if total_s > self.max_duration_s:
            raise ProviderError(
                f"video {video_id}: voiceover {voiceover.audio_path} lasts {voiceover.duration_s:.1f} s; with "
                f"the {TAIL_S:g} s tail the short would exceed the {self.max_duration_s:g} s platform limit"
            )
        style = script.arms.get("caption_style", DEFAULT_CAPTION_STYLE)
        look = CAPTION_LOOKS.get(style)
        if look is None:
            raise ProviderError(f"video {video_id}: unknown caption_style {style!r}; known: {', '.join(CAPTION_LOOKS)}")

        sources = [self._clip_source(video_id, index, clip) for index, clip in enumerate(clips, start=1)]
        narration = self.media_url(voiceover.audio_path, f"video {video_id}: voiceover")
        voice_what = f"video {video_id}: voiceover {voiceover.audio_path}"
        voice_info = verify_complete(voiceover.audio_path, voice_what)
        if not voice_info.has_audio:
            raise BadMediaFile(f"{voice_what} has no audio", voiceover.audio_path)

        if len(script.scenes) == len(clips):
            weights = [scene.duration_s for scene in script.scenes]
        else:
            weights = [clip.duration_s for clip in clips]
        counts = segment_frames(weights, total_frames)
        kept = [
            (index, source, count) for index, (source, count) in enumerate(zip(sources, counts), start=1) if count > 0
        ]
        overlap = min(round(self.transition_s * FPS), min(c for _, _, c in kept) // 2) if len(kept) > 1 else 0
        overlap = overlap if overlap >= 2 else 0

        elements: list[dict[str, Any]] = []
        start = 0
        for position, (index, (url, info, still), count) in enumerate(kept):
            frames = count + (overlap if position < len(kept) - 1 else 0)
            element: dict[str, Any] = {
                "name": f"Scene-{index}",
                "type": "image" if still else "video",
                "track": 1,
                "time": _seconds(start),
                "duration": _seconds(frames),
                "source": url,
                "fit": "cover",
            }
            if not still:
                element["volume"] = "0%"
                if info.duration_s + 1 / FPS < frames / FPS:
                    element["loop"] = True
            if position > 0 and overlap:
                element["animations"] = [
                    {"time": "start", "duration": _seconds(overlap), "transition": True, "type": "fade"}
                ]
            elements.append(element)
            start += count
        elements.append(
            {
                "name": "Narration",
                "type": "audio",
                "track": 2,
                "time": 0,
                "duration": round(min(voiceover.duration_s, total_s), 6),
                "source": narration,
            }
        )

        spec = LANGUAGES.get(script.language)
        family = SCRIPT_CAPTION_FONTS.get(spec.script, CAPTION_FONT) if spec else CAPTION_FONT
        lines = caption_lines(voiceover.words)
        windows = caption_windows(lines, total_s)
        cues = []
        for number, (line, (begin, end)) in enumerate(zip(lines, windows), start=1):
            if end - begin < 1 / FPS:
                continue
            elements.append(self._caption(number, line, begin, end, look, family))
            cues.append((begin, end, " ".join(w.word.strip() for w in line)))

        composition = {
            "output_format": "mp4",
            "width": WIDTH,
            "height": HEIGHT,
            "frame_rate": FPS,
            "duration": total_s,
            "elements": elements,
        }
        return Plan(composition, fingerprint(composition), total_s, cues)

    def _clip_source(self, video_id: str, index: int, clip: Clip) -> tuple[str, MediaInfo, bool]:
        what = f"video {video_id}: clip {index}"
        url = self.media_url(clip.path, what)
        info = verify_complete(clip.path, f"{what} {clip.path}")
        still = Path(clip.path).suffix.lower() in IMAGE_SUFFIXES
        if not info.has_video or not info.width or not info.height or (not still and info.duration_s <= 0):
            raise BadMediaFile(f"{what} {clip.path} has no video frames", clip.path)
        return url, info, still

    @staticmethod
    def _caption(
        number: int,
        line: Sequence[WordTiming],
        begin: float,
        end: float,
        look: CaptionLook,
        family: str = CAPTION_FONT,
    ) -> dict[str, Any]:
        keyframes = []
        for index, word in enumerate(line):
            said_at = max(0.0, word.start_s - begin)
            until = line[index + 1].start_s if index + 1 < len(line) else word.end_s
            keyframes.append(
                {
                    "time": round(said_at, 3),
                    "duration": round(max(until - word.start_s, 0.05), 3),
                    "value": word.word.strip(),
                }
            )
        element: dict[str, Any] = {
            "name": f"Caption-{number}",
            "type": "text",
            "track": 3,
            "time": round(begin, 3),
            "duration": round(end - begin, 3),
            **CAPTION_BOX,
            "x_alignment": "50%",
            "y_alignment": "50%",
            "font_family": family,
            "font_weight": look.weight,
            "font_size": "8 vmin",
            "fill_color": look.fill,
            "transcript_source": keyframes,
            "transcript_effect": "color",
            "transcript_split": "word",
            "transcript_color": look.highlight,
        }
        if look.stroke:
            element.update(stroke_color=look.stroke, stroke_width=look.stroke_width)
        if look.background:
            element.update(
                background_color=look.background,
                background_x_padding="20%",
                background_y_padding="12%",
                background_border_radius="12%",
            )
        return element

    # --- the render --------------------------------------------------------------------------------

    def render(self, clips: Sequence[Clip], voiceover: Voiceover, script: Script, out_path: Path) -> RenderResult:
        video_id = script.video_id
        what = f"video {video_id}"
        out_path = Path(out_path)
        thumb_path = out_path.with_suffix(".jpg")
        plan = self.plan(clips, voiceover, script)
        key = f"{self.name}:{video_id}:{plan.fingerprint}"
        record = self._record(key)

        if record is not None and record.get("state") == "done":
            done = self._already_done(out_path, thumb_path, plan, what)
            if done is not None:
                self._write_sidecars(out_path, plan)
                return done
        if record is None:
            if self.budget is not None:
                self.budget.charge_seconds(
                    f"{what}: creatomate render of {plan.duration_s:g} s", PRICE_MODEL, plan.duration_s
                )
            render_id = self._submit(plan, video_id, what)
            record = {
                "render_id": render_id,
                "fingerprint": plan.fingerprint,
                "state": "submitted",
                "submitted_at": time.time(),
            }
            self._put(key, record)
            logger.info("%s: creatomate render %s submitted", what, render_id)
        else:
            render_id = str(record["render_id"])
            logger.info("%s: resuming creatomate render %s", what, render_id)

        payload = self._wait(render_id, key, what)
        info = self._download(render_id, payload, key, plan, out_path, thumb_path, what)
        self._put(key, {**record, "state": "done", "path": out_path.name})  # no machine's folder in the database
        self._write_sidecars(out_path, plan)
        return RenderResult(
            video_path=out_path,
            thumbnail_path=thumb_path,
            duration_s=info.duration_s,
            width=info.width or WIDTH,
            height=info.height or HEIGHT,
            fps=info.fps or float(FPS),
        )

    @staticmethod
    def _write_sidecars(out_path: Path, plan: Plan) -> None:
        write_text(out_path.with_suffix(".srt"), srt_text(plan.cues))
        write_text(out_path.with_suffix(".vtt"), vtt_text(plan.cues))

    def _record(self, key: str) -> dict[str, Any] | None:
        return load_record(self.state, NAMESPACE, key, "render_id")

    def _put(self, key: str, record: dict[str, Any]) -> None:
        save_record(self.state, NAMESPACE, key, record)

    def _forget(self, key: str) -> None:
        self.state.delete(NAMESPACE, key)

    def _already_done(self, out_path: Path, thumb_path: Path, plan: Plan, what: str) -> RenderResult | None:
        """The earlier download of this very composition, if it is still in place and sound."""
        if not out_path.is_file():
            return None
        try:
            info = verify_complete(out_path, f"{what}: the earlier download")
        except ProviderError:
            return None
        if self._contract_problems(info, plan):
            return None
        if not thumb_path.is_file():
            with atomic_output(thumb_path) as temp_thumb:
                self._thumbnail(out_path, info, temp_thumb, what)
        return RenderResult(
            video_path=out_path,
            thumbnail_path=thumb_path,
            duration_s=info.duration_s,
            width=info.width or WIDTH,
            height=info.height or HEIGHT,
            fps=info.fps or float(FPS),
        )

    def _submit(self, plan: Plan, video_id: str, what: str) -> str:
        body = {"source": plan.composition, "metadata": f"{video_id}:{plan.fingerprint}"}
        action = f"{what}: submitting the render"
        response = self.http.request(
            "POST", f"{self.base_url}/v1/renders", what=action, headers=self._headers, json_body=body
        )
        payload = self.http.json(response, action)
        renders = payload if isinstance(payload, list) else [payload]
        first = renders[0] if renders else None
        if not isinstance(first, dict) or not first.get("id"):
            raise self.http.error(f"{action}: the answer holds no render id")
        return str(first["id"])

    def _wait(self, render_id: str, key: str, what: str) -> dict[str, Any]:
        waited = 0.0
        polls = 0
        while True:
            action = f"{what}: reading render {render_id}"
            response = self.http.request(
                "GET", f"{self.base_url}/v1/renders/{render_id}", what=action, headers=self._headers, accept=(404,)
            )
            if response.status_code == 404:
                self._forget(key)
                raise self.http.error(f"{action}: the render is unknown to the API; the next attempt renders again")
            payload = self.http.json(response, action)
            if isinstance(payload, list) and payload:
                payload = payload[0]
            if not isinstance(payload, dict):
                raise self.http.error(f"{action}: expected a render object, got {type(payload).__name__}")
            status = payload.get("status")
            if status == "succeeded":
                return payload
            if status == "failed":
                self._forget(key)
                reason = payload.get("error_message") or "no reason given"
                raise self.http.error(f"{what}: render {render_id} failed: {reason}")
            if status not in PENDING_STATUSES:
                raise self.http.error(f"{action}: unknown render status {status!r}")
            delay = min(self.max_poll_interval_s, self.poll_interval_s * 1.5**polls)
            if waited + delay > self.timeout_s:
                raise self.http.error(
                    f"{what}: render {render_id} still {status} after {waited:.0f} s of waiting; it stays "
                    "recorded and the next attempt resumes it"
                )
            self.sleep(delay)
            waited += delay
            polls += 1

    def _download(
        self, render_id: str, payload: dict[str, Any], key: str, plan: Plan, out_path: Path, thumb_path: Path, what: str
    ) -> MediaInfo:
        url = payload.get("url")
        action = f"{what}: downloading render {render_id}"
        if not url:
            raise self.http.error(f"{action}: the render succeeded without a file URL")
        # The file URL carries its own authorisation; the API key is not sent to it.
        response = self.http.request("GET", str(url), what=action, accept=(403, 404, 410))
        if response.status_code in (403, 404, 410):
            self._forget(key)
            raise self.http.error(
                f"{action}: the file is gone (HTTP {response.status_code}); the next attempt renders again"
            )
        with atomic_output(out_path) as temp:
            temp.write_bytes(response.content)
            try:
                info = verify_complete(temp, action, decode=True)
            except ProviderError as exc:
                raise self.http.error(f"{action}: the file is not a video, or not a whole one: {exc}") from None
            problems = self._contract_problems(info, plan)
            if problems:
                raise self.http.error(f"{action}: the file misses the output contract: {'; '.join(problems)}")
            self._conform_loudness(temp, plan, what)
            with atomic_output(thumb_path) as temp_thumb:
                self._thumbnail(temp, info, temp_thumb, what)
        return info

    @staticmethod
    def _contract_problems(info: MediaInfo, plan: Plan) -> list[str]:
        problems = []
        if not info.has_video:
            problems.append("no video stream")
        if (info.width, info.height) != (WIDTH, HEIGHT):
            problems.append(f"{info.width}x{info.height}, want {WIDTH}x{HEIGHT}")
        if info.fps is None or abs(info.fps - FPS) >= 0.01:
            problems.append(f"{info.fps} fps, want {FPS}")
        if (info.video_codec, info.pix_fmt) != ("h264", "yuv420p"):
            problems.append(f"video {info.video_codec} {info.pix_fmt}, want h264 yuv420p")
        if not info.has_audio or info.audio_codec != "aac":
            problems.append(f"audio {info.audio_codec if info.has_audio else 'missing'}, want aac")
        if abs(info.duration_s - plan.duration_s) > DURATION_TOLERANCE_S:
            problems.append(f"{info.duration_s:.2f} s long, want {plan.duration_s:.2f} s")
        return problems

    @staticmethod
    def _loudness(path: Path, what: str) -> dict[str, str]:
        report = ffmpeg_report(
            [
                "-i",
                f"file:{path.resolve()}",
                "-map",
                "0:a:0",
                "-af",
                f"loudnorm={LOUDNORM}:print_format=json",
                "-f",
                "null",
                "-",
            ],
            f"{what}: measuring the loudness of the render",
        )
        start, end = report.rfind("{"), report.rfind("}")
        try:
            measured = json.loads(report[start : end + 1])
            return {k: str(measured[k]) for k in ("input_i", "input_tp", "input_lra", "input_thresh", "target_offset")}
        except (ValueError, KeyError):
            raise ProviderError(f"{what}: no loudness measurement of the render in ffmpeg's report") from None

    def _conform_loudness(self, temp: Path, plan: Plan, what: str) -> None:
        """Normalise the audio of the file at ``temp`` in place when it misses the loudness target."""
        measured = self._loudness(temp, what)
        if any(v in ("-inf", "inf", "nan") for v in measured.values()):
            logger.warning("%s: the render's audio is silent; its loudness cannot be normalised", what)
            return
        integrated, peak = float(measured["input_i"]), float(measured["input_tp"])
        if abs(integrated - LOUDNESS_TARGET) <= LOUDNESS_TOLERANCE and peak <= TRUE_PEAK_CEILING:
            return
        logger.info(
            "%s: the render's audio is %.1f LUFS, %.1f dBTP; normalising it to %g LUFS",
            what,
            integrated,
            peak,
            LOUDNESS_TARGET,
        )
        options = (
            f"{LOUDNORM}:measured_I={measured['input_i']}:measured_TP={measured['input_tp']}:"
            f"measured_LRA={measured['input_lra']}:measured_thresh={measured['input_thresh']}:"
            f"offset={measured['target_offset']}:linear=true"
        )
        fixed = temp.with_name(f"{temp.stem}.loudness{temp.suffix}")
        try:
            run_ffmpeg(
                [
                    "-i",
                    f"file:{temp.resolve()}",
                    "-map",
                    "0:v:0",
                    "-map",
                    "0:a:0",
                    "-c:v",
                    "copy",
                    "-af",
                    f"loudnorm={options},aresample={SAMPLE_RATE},atrim=end={plan.duration_s:.6f}",
                    "-c:a",
                    "aac",
                    "-b:a",
                    "160k",
                    "-ar",
                    str(SAMPLE_RATE),
                    "-ac",
                    "2",
                    "-movflags",
                    "+faststart",
                    "-f",
                    "mp4",
                    f"file:{fixed.resolve()}",
                ],
                f"{what}: normalising the loudness of the render",
            )
            os.replace(fixed, temp)
        finally:
            fixed.unlink(missing_ok=True)

    @staticmethod
    def _thumbnail(video: Path, info: MediaInfo, dest: Path, what: str) -> None:
        at = min(THUMBNAIL_AT_S, max(0.0, info.duration_s / 2))
        run_ffmpeg(
            [
                "-ss",
                f"{at:.3f}",
                "-i",
                f"file:{video.resolve()}",
                "-frames:v",
                "1",
                "-vf",
                "scale=out_range=full,format=yuvj420p",
                "-q:v",
                "3",
                "-f",
                "image2",
                "-update",
                "1",
                f"file:{dest.resolve()}",
            ],
            f"{what}: extracting the thumbnail",
        )
