"""Narration from Microsoft Edge's free neural voices (its "Read Aloud" service), spoken over its WebSocket protocol.

Implements the `Voice` seam: the narration as a 16-bit mono WAV at 24 kHz, written aside and renamed
into place (never half-written), and a timing for every word from the service's own word boundaries.

The service is unofficial and undocumented; this adapter speaks what Edge itself speaks. The token
(``Sec-MS-GEC``), the client token, the browser headers and the process-wide clock-skew correction
come from the ``edge_tts`` package, so upgrading it follows Microsoft's changes; the messages are
built and read here, so the endpoint is a base URL like every other adapter's (``EDGE_TTS_BASE_URL``
points it at another server, e.g. a test double). One turn per connection:

1. connect to ``<base>/edge/v1?TrustedClientToken=…&ConnectionId=…&Sec-MS-GEC=…&Sec-MS-GEC-Version=…``;
2. send ``speech.config`` (word boundaries on, 24 kHz 48 kbit/s mono MP3) and the SSML (one voice,
   one prosody with the rate, pitch and volume);
3. read ``turn.start``, ``response``, ``audio.metadata`` (``WordBoundary`` offsets in 100 ns ticks),
   binary audio frames (a big-endian header length, the header lines, the MP3 bytes) and ``turn.end``.

Text is sent in pieces of at most 4096 bytes of escaped SSML text, split at whitespace, each on a new
connection; a piece's boundaries are shifted by the audio spoken before it. What can go wrong is
checked, since the service often fails without saying so: a turn that ends with no audio (a voice
the service does not have, or throttling: it cannot tell which), a connection that drops before
``turn.end``, audio that stops before its last word boundary, a 429 or 5xx at the handshake. Each is
retried a few times with exponential backoff, then fails as a ``ProviderError`` naming the
voiceover. A 403 at the handshake means a stale token: the clock skew is corrected from the answer's
``Date`` once, and a second 403 says edge-tts needs an upgrade.

Voices: ``voice`` is an arm value (``en-us``, ``en-gb``) or an Edge voice name given directly
(``es-ES-AlvaroNeural``). With a ``language`` (the channel's), an arm value of another language is
not spoken in it: the table is asked for ``<language>/<arm>`` first, then the arm itself when it is
of that language, then the language alone. ``DEFAULT_EDGE_VOICES`` covers the English arms and
es, pt, de, fr, hi and ja; ``voices`` adds or overrides entries.

Word timings: each boundary's text is found in the narration in order; a word of the text gets the
time of the boundaries inside it. In scripts written without spaces (Japanese, Chinese, Thai) one
whitespace token holds many boundaries and is split at them. Words the service gave no boundary
share the time between their neighbours by length.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import re
import ssl
import subprocess
import time
import unicodedata
import uuid
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from xml.sax.saxutils import escape, unescape

import aiohttp
import certifi
from edge_tts.constants import SEC_MS_GEC_VERSION, TRUSTED_CLIENT_TOKEN, WSS_HEADERS
from edge_tts.drm import DRM

from shorts_assets.core.errors import ProviderError
from shorts_assets.core.protocols import Closing
from shorts_assets.core.types import Voiceover, WordTiming
from shorts_assets.providers.media import ffmpeg_exe, run_process, write_wav
from shorts_assets.providers.voices.alignment import estimate_word_timings, voiced_segments, words_of

logger = logging.getLogger(__name__)

EDGE_BASE_URL = "wss://speech.platform.bing.com/consumer/speech/synthesize/readaloud"
OUTPUT_FORMAT = "audio-24khz-48kbitrate-mono-mp3"
SAMPLE_RATE = 24_000
TICKS_PER_S = 10_000_000
MAX_CHUNK_BYTES = 4096
# Audio may end this far before its last word boundary's end (the MP3 encoder's own padding).
TRUNCATION_TOLERANCE_S = 0.3

DEFAULT_EDGE_VOICES: Mapping[str, str] = {
    "en-us": "en-US-AriaNeural",
    "en-gb": "en-GB-SoniaNeural",
    "en": "en-US-AriaNeural",
    "es": "es-ES-ElviraNeural",
    "pt": "pt-BR-FranciscaNeural",
    "de": "de-DE-KatjaNeural",
    "fr": "fr-FR-DeniseNeural",
    "hi": "hi-IN-SwaraNeural",
    "ja": "ja-JP-NanamiNeural",
}

_SHORT_NAME = re.compile(r"^([a-z]{2,})-([A-Z]{2,})-(.+Neural)$")
_LONG_NAME = re.compile(r"^Microsoft Server Speech Text to Speech Voice \(.+,.+\)$")
_PERCENT = re.compile(r"^[+-]\d+%$")
_HERTZ = re.compile(r"^[+-]\d+Hz$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def is_edge_voice(name: str) -> bool:
    """Whether ``name`` is an Edge voice name, short (``en-US-AriaNeural``) or long."""
    return isinstance(name, str) and bool(_SHORT_NAME.match(name) or _LONG_NAME.match(name))


def long_voice_name(name: str) -> str:
    """The form the SSML carries: ``Microsoft Server Speech Text to Speech Voice (en-US, AriaNeural)``."""
    match = _SHORT_NAME.match(name)
    if match is None:
        return name
    language, region, voice = match.groups()
    if "-" in voice:  # zh-CN-liaoning-XiaobeiNeural: the region has a part of its own
        extra, voice = voice.split("-", 1)
        region = f"{region}-{extra}"
    return f"Microsoft Server Speech Text to Speech Voice ({language}-{region}, {voice})"


# --- messages ------------------------------------------------------------------------------------


def _timestamp() -> str:
    """The JavaScript-style date Edge sends."""
    return time.strftime("%a %b %d %Y %H:%M:%S GMT+0000 (Coordinated Universal Time)", time.gmtime())


def config_message() -> str:
    return (
        f"X-Timestamp:{_timestamp()}\r\n"
        "Content-Type:application/json; charset=utf-8\r\n"
        "Path:speech.config\r\n\r\n"
        '{"context":{"synthesis":{"audio":{"metadataoptions":{'
        '"sentenceBoundaryEnabled":"false","wordBoundaryEnabled":"true"},'
        f'"outputFormat":"{OUTPUT_FORMAT}"'
        "}}}}\r\n"
    )


def ssml_message(text: str, voice: str, rate: str, pitch: str, volume: str) -> str:
    ssml = (
        "<speak version='1.0' xmlns='http://www.w3.org/2001/10/synthesis' xml:lang='en-US'>"
        f"<voice name='{long_voice_name(voice)}'>"
        f"<prosody pitch='{pitch}' rate='{rate}' volume='{volume}'>{escape(text)}</prosody>"
        "</voice></speak>"
    )
    # The trailing Z after the JavaScript date is what Edge sends.
    return (
        f"X-RequestId:{uuid.uuid4().hex}\r\n"
        "Content-Type:application/ssml+xml\r\n"
        f"X-Timestamp:{_timestamp()}Z\r\n"
        "Path:ssml\r\n\r\n"
        f"{ssml}"
    )


def _header_lines(block: str) -> dict[str, str]:
    headers = {}
    for line in block.split("\r\n"):
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip()] = value.strip()
    return headers


def parse_text_frame(data: str) -> tuple[dict[str, str], str]:
    head, _, body = data.partition("\r\n\r\n")
    return _header_lines(head), body


def parse_binary_frame(data: bytes) -> tuple[dict[str, str], bytes]:
    """(headers, payload) of a binary frame: a big-endian uint16 header length, the header, the payload."""
    if len(data) < 2:
        raise ValueError("a binary frame too short to hold its header length")
    length = int.from_bytes(data[:2], "big")
    if length + 2 > len(data):
        raise ValueError(f"a binary frame whose header length ({length}) runs past its end ({len(data)} bytes)")
    return _header_lines(data[2 : 2 + length].decode("ascii", "replace")), data[2 + length :]


# --- text pieces and word timings ------------------------------------------------------------------


def text_pieces(text: str, limit: int = MAX_CHUNK_BYTES) -> list[tuple[int, int]]:
    """Spans of ``text`` whose escaped UTF-8 is at most ``limit`` bytes, split at whitespace (inside a
    word only when the word alone is longer)."""
    spans: list[tuple[int, int]] = []
    start = end = None
    size = 0
    for match in re.finditer(r"\S+", text):
        gap = text[end : match.start()] if end is not None else ""
        token_bytes = len(escape(match.group()).encode("utf-8"))
        if start is not None and size + len(escape(gap).encode("utf-8")) + token_bytes <= limit:
            size += len(escape(gap).encode("utf-8")) + token_bytes
            end = match.end()
            continue
        if start is not None:
            spans.append((start, end))
        if token_bytes <= limit:
            start, end, size = match.start(), match.end(), token_bytes
            continue
        # A single word longer than a piece: cut it between characters.
        start = match.start()
        size = 0
        for index in range(match.start(), match.end()):
            char_bytes = len(escape(text[index]).encode("utf-8"))
            if size + char_bytes > limit:
                spans.append((start, index))
                start, size = index, 0
            size += char_bytes
        end = match.end()
    if start is not None:
        spans.append((start, end))
    return spans


@dataclass(frozen=True)
class Boundary:
    """One word the service spoke: its text and when, in seconds from the start of the narration."""

    text: str
    start_s: float
    end_s: float


def _spaceless(word: str) -> bool:
    """Whether ``word`` is in a script written without spaces between words (CJK, Thai, Lao, Khmer, Myanmar)."""
    for char in word:
        code = ord(char)
        if unicodedata.east_asian_width(char) in ("W", "F") and not 0xAC00 <= code <= 0xD7A3:  # Hangul has spaces
            return True
        if 0x0E00 <= code <= 0x0EFF or 0x1780 <= code <= 0x17FF or 0x1000 <= code <= 0x109F:
            return True
    return False


def word_timings(text: str, boundaries: Sequence[Boundary], duration_s: float) -> tuple[WordTiming, ...]:
    """Every word of ``text`` timed from the service's boundaries (see the module docstring)."""
    located: list[tuple[int, int, Boundary]] = []
    cursor = 0
    folded = text.casefold() if len(text.casefold()) == len(text) else None
    for boundary in boundaries:
        needle = boundary.text.strip()
        if not any(ch.isalnum() for ch in needle):
            continue
        at = text.find(needle, cursor)
        if at < 0 and folded is not None and len(needle.casefold()) == len(needle):
            at = folded.find(needle.casefold(), cursor)
        if at < 0:
            continue  # the service spoke a rewritten form ("percent" for %): its word gets its neighbours' time
        located.append((at, at + len(needle), boundary))
        cursor = at + len(needle)

    units: list[tuple[str, float | None, float | None]] = []
    for word in words_of(text):
        inside = [(s, e, b) for s, e, b in located if s < word.end and e > word.start]
        if len(inside) >= 2 and _spaceless(word.text):
            for index, (s, _, boundary) in enumerate(inside):
                piece_start = word.start if index == 0 else max(s, word.start)
                piece_end = word.end if index == len(inside) - 1 else min(inside[index + 1][0], word.end)
                piece = text[piece_start:piece_end].strip()
                if piece:
                    units.append((piece, boundary.start_s, boundary.end_s))
        elif inside:
            # A boundary spanning several words ("New York") shares its time among them by characters.
            start = min(_time_at(s, e, b, max(s, word.start)) for s, e, b in inside)
            end = max(_time_at(s, e, b, min(e, word.end)) for s, e, b in inside)
            units.append((word.text, start, end))
        else:
            units.append((word.text, None, None))
    return _finish(_fill_gaps(units, duration_s), duration_s)


def _time_at(start: int, end: int, boundary: Boundary, index: int) -> float:
    """When character ``index`` of the text is spoken, within a boundary found at [start, end)."""
    return boundary.start_s + (boundary.end_s - boundary.start_s) * (index - start) / (end - start)


def _fill_gaps(
    units: list[tuple[str, float | None, float | None]], duration_s: float
) -> list[tuple[str, float, float]]:
    filled: list[tuple[str, float, float]] = []
    index = 0
    while index < len(units):
        word, start, end = units[index]
        if start is not None and end is not None:
            filled.append((word, start, end))
            index += 1
            continue
        run_end = index
        while run_end < len(units) and units[run_end][1] is None:
            run_end += 1
        low = filled[-1][2] if filled else 0.0
        high = max(units[run_end][1] if run_end < len(units) else duration_s, low)  # type: ignore[arg-type]
        run = units[index:run_end]
        total = sum(len(w) for w, _, _ in run) or 1
        at = low
        for w, _, _ in run:
            following = at + (high - low) * len(w) / total
            filled.append((w, at, following))
            at = following
        index = run_end
    return filled


def _finish(timed: list[tuple[str, float, float]], duration_s: float) -> tuple[WordTiming, ...]:
    """Clamped to the audio and to each other, so they never go back in time."""
    result, floor = [], 0.0
    for word, start, end in timed:
        start = min(max(start, floor), duration_s)
        end = min(max(end, start), duration_s)
        result.append(WordTiming(word, round(start, 4), round(end, 4)))
        floor = end
    return tuple(result)


# --- the provider ----------------------------------------------------------------------------------


class _Transient(Exception):
    """A failure a new connection may not have: retried."""

    def __init__(self, reason: str, retry_after_s: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after_s = retry_after_s


class _Refused(Exception):
    """The service refused the request: not retried."""


class _Forbidden(Exception):
    """403 at the handshake: the token is stale (a skewed clock) or its scheme changed."""

    def __init__(self, server_date: str | None) -> None:
        super().__init__("HTTP 403 at the handshake")
        self.server_date = server_date


@dataclass
class _Turn:
    audio: bytearray = field(default_factory=bytearray)
    boundaries: list[Boundary] = field(default_factory=list)
    ended: bool = False


@lru_cache(maxsize=1)
def _ssl_context() -> ssl.SSLContext:
    return ssl.create_default_context(cafile=certifi.where())


def _label(out_path: Path) -> str:
    return f"voiceover {out_path.parent.name}/{out_path.name}" if out_path.parent.name else f"voiceover {out_path.name}"


def _retry_after(headers: Mapping[str, str] | None) -> float | None:
    value = (headers or {}).get("Retry-After")
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def _run(coroutine: Coroutine[Any, Any, _Turn]) -> _Turn:
    """Run ``coroutine`` to its end from synchronous code, also when this thread already runs a loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _decode_mp3(data: bytes, what: str) -> bytes:
    """16-bit mono little-endian PCM at SAMPLE_RATE from the MP3 the service sent."""
    command = [
        ffmpeg_exe(),
        "-hide_banner",
        "-loglevel",
        "error",
        "-f",
        "mp3",
        "-i",
        "pipe:0",
        "-vn",
        "-ac",
        "1",
        "-ar",
        str(SAMPLE_RATE),
        "-acodec",
        "pcm_s16le",
        "-f",
        "s16le",
        "pipe:1",
    ]
    try:
        done = run_process(command, input_bytes=data, timeout_s=120)
    except subprocess.TimeoutExpired:
        raise ProviderError(f"{what}: decoding the audio timed out") from None
    except OSError as exc:
        raise ProviderError(f"{what}: cannot run ffmpeg to decode the audio: {exc}") from None
    if done.returncode != 0 or not done.stdout:
        tail = done.stderr.decode("utf-8", "replace").strip()[-300:] or "(no output)"
        raise _Transient(f"the audio could not be decoded: {tail}")
    return done.stdout[: len(done.stdout) - len(done.stdout) % 2]


class EdgeVoice(Closing):
    """Microsoft Edge's neural voices over their WebSocket protocol; implements `Voice` (module docstring).

    ``rate`` and ``volume`` are relative percentages (``+10%``, ``-20%``), ``pitch`` a shift in Hz
    (``+0Hz``). ``attempts`` is how many connections one piece of text may take.
    """

    name = "edge"

    def __init__(
        self,
        *,
        base_url: str = EDGE_BASE_URL,
        voices: Mapping[str, str] | None = None,
        language: str | None = None,
        rate: str = "+0%",
        pitch: str = "+0Hz",
        volume: str = "+0%",
        attempts: int = 3,
        base_delay_s: float = 2.0,
        max_delay_s: float = 30.0,
        connect_timeout_s: float = 10.0,
        receive_timeout_s: float = 60.0,
        max_chunk_bytes: int = MAX_CHUNK_BYTES,
        proxy: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        parts = urlsplit(base_url)
        scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
        if scheme not in ("ws", "wss") or not parts.netloc:
            raise ValueError(f"edge: base_url {base_url!r} must be an http(s):// or ws(s):// URL")
        self.base_url = urlunsplit((scheme, parts.netloc, parts.path.rstrip("/"), "", ""))
        for option, value, pattern, example in (
            ("rate", rate, _PERCENT, "+10%"),
            ("volume", volume, _PERCENT, "-20%"),
            ("pitch", pitch, _HERTZ, "+5Hz"),
        ):
            if not isinstance(value, str) or not pattern.match(value):
                raise ValueError(f"edge: {option} {value!r} must look like {example!r}")
        if language is not None and (not isinstance(language, str) or not _LANGUAGE.match(language.lower())):
            raise ValueError(f"edge: language {language!r} is not a language code (like 'es' or 'pt-br')")
        if attempts < 1:
            raise ValueError(f"edge: attempts must be at least 1, got {attempts}")
        if max_chunk_bytes < 16:
            raise ValueError(f"edge: max_chunk_bytes must be at least 16, got {max_chunk_bytes}")
        self.voice_table = {**DEFAULT_EDGE_VOICES, **{str(k).lower(): v for k, v in (voices or {}).items()}}
        for key, value in self.voice_table.items():
            if not is_edge_voice(value):
                raise ValueError(f"edge: voice {value!r} for {key!r} is not an Edge voice name (like en-US-AriaNeural)")
        self.language = language.lower() if language else None
        self.rate, self.pitch, self.volume = rate, pitch, volume
        self.attempts = attempts
        self.base_delay_s = base_delay_s
        self.max_delay_s = max_delay_s
        self.timeout = aiohttp.ClientTimeout(total=None, sock_connect=connect_timeout_s, sock_read=receive_timeout_s)
        # After the handshake only this bounds the wait for the next message.
        self.ws_timeout = aiohttp.ClientWSTimeout(ws_receive=receive_timeout_s, ws_close=10.0)
        self.receive_timeout_s = receive_timeout_s
        self.max_chunk_bytes = max_chunk_bytes
        self.proxy = proxy
        self.sleep = sleep

    def provider_voice(self, voice: str) -> str:
        """The Edge voice for an arm value in this adapter's language (or a voice name given directly)."""
        if is_edge_voice(voice):
            return voice
        arm = str(voice).strip().lower()
        candidates = [arm]
        if self.language:
            same_language = arm.split("-")[0] == self.language.split("-")[0]
            candidates = [f"{self.language}/{arm}", *([arm] if same_language else []), self.language]
            if "-" in self.language:
                candidates.append(self.language.split("-")[0])
        for key in candidates:
            if key in self.voice_table:
                return self._of_language(self.voice_table[key], voice)
        where = f" in language {self.language!r}" if self.language else ""
        raise ProviderError(
            f"edge: no Edge voice for voice {voice!r}{where}; map one with `voices` "
            f"(mapped: {', '.join(sorted(self.voice_table))})"
        )

    def _of_language(self, edge_voice: str, voice: str) -> str:
        """`edge_voice`, unless it speaks another language than this adapter's (multilingual voices speak any)."""
        if not self.language or "Multilingual" in edge_voice:
            return edge_voice
        match = _SHORT_NAME.match(edge_voice)
        if match and match.group(1).lower() != self.language.split("-")[0]:
            raise ProviderError(
                f"edge: voice {edge_voice} (for {voice!r}) does not speak the channel's language {self.language!r}"
            )
        return edge_voice

    def synthesize(self, text: str, voice: str, out_path: Path) -> Voiceover:
        out_path = Path(out_path)
        what = f"{self.name} {_label(out_path)}"
        if not isinstance(text, str) or not text.strip():
            raise ProviderError(f"{what}: nothing to say (text {text!r})")
        try:
            edge_voice = self.provider_voice(voice)
        except ProviderError as exc:
            raise ProviderError(f"{what}: {str(exc).removeprefix('edge: ')}") from None
        cleaned = _CONTROL.sub(" ", text)  # one for one, so offsets into the text stay valid
        pcm = bytearray()
        boundaries: list[Boundary] = []
        for start, end in text_pieces(cleaned, self.max_chunk_bytes):
            piece_pcm, piece_boundaries = self._speak(cleaned[start:end], edge_voice, what)
            offset_s = len(pcm) / 2 / SAMPLE_RATE
            boundaries += [Boundary(b.text, b.start_s + offset_s, b.end_s + offset_s) for b in piece_boundaries]
            pcm += piece_pcm
        audio = bytes(pcm)
        duration_s = len(audio) / 2 / SAMPLE_RATE
        if not voiced_segments(audio, SAMPLE_RATE):
            raise ProviderError(f"{what}: the audio ({duration_s:.2f} s, voice {edge_voice}) holds no speech")
        if boundaries:
            words = word_timings(cleaned, boundaries, duration_s)
        else:  # a service that sent no word boundaries: estimated from the audio
            words = estimate_word_timings(cleaned, audio, SAMPLE_RATE)
        write_wav(out_path, audio, SAMPLE_RATE, what)
        return Voiceover(audio_path=out_path, duration_s=duration_s, sample_rate=SAMPLE_RATE, voice=voice, words=words)

    def _speak(self, piece: str, voice: str, what: str) -> tuple[bytes, list[Boundary]]:
        """One piece of text spoken on a connection of its own, retried as the module docstring says."""
        skew_corrected = False
        attempt = 0
        while True:
            attempt += 1
            try:
                turn = _run(self._turn(piece, voice))
                pcm = _decode_mp3(bytes(turn.audio), what)
                heard_s = len(pcm) / 2 / SAMPLE_RATE
                last_s = max((b.end_s for b in turn.boundaries), default=0.0)
                if last_s > heard_s + TRUNCATION_TOLERANCE_S:
                    raise _Transient(
                        f"the audio ({heard_s:.2f} s) stops before its last word boundary ({last_s:.2f} s): "
                        "the stream was cut short"
                    )
                return pcm, turn.boundaries
            except _Forbidden as exc:
                if not skew_corrected and exc.server_date and self._correct_skew(exc.server_date):
                    skew_corrected = True
                    attempt -= 1  # the retry with a corrected clock is not a backoff attempt
                    continue
                raise ProviderError(
                    f"{what}: the service refused the connection (HTTP 403 at the handshake"
                    f"{', after correcting the clock' if skew_corrected else ''}); its token scheme may have "
                    "changed: upgrade edge-tts"
                ) from None
            except _Refused as exc:
                raise ProviderError(f"{what}: voice {voice}: {exc}") from None
            except _Transient as exc:
                if attempt >= self.attempts:
                    raise ProviderError(
                        f"{what}: voice {voice}: gave up after {attempt} attempts; last: {exc}"
                    ) from None
                delay = min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1))
                if exc.retry_after_s is not None:
                    if exc.retry_after_s > self.max_delay_s:
                        raise ProviderError(
                            f"{what}: voice {voice}: {exc}; the service asks to wait {exc.retry_after_s:.0f} s, "
                            f"over the {self.max_delay_s:.0f} s cap"
                        ) from None
                    delay = exc.retry_after_s
                logger.warning(f"{what}: {exc}; retry {attempt}/{self.attempts - 1} in {delay:.1f} s")
                self.sleep(delay)

    @staticmethod
    def _correct_skew(server_date: str) -> bool:
        """Shift edge-tts's process-wide clock by how far the server's ``Date`` is from ours."""
        server_s = DRM.parse_rfc2616_date(server_date)
        if server_s is None:
            return False
        DRM.adj_clock_skew_seconds(server_s - DRM.get_unix_timestamp())
        return True

    def _url(self) -> str:
        return (
            f"{self.base_url}/edge/v1?TrustedClientToken={TRUSTED_CLIENT_TOKEN}"
            f"&ConnectionId={uuid.uuid4().hex}"
            f"&Sec-MS-GEC={DRM.generate_sec_ms_gec()}"
            f"&Sec-MS-GEC-Version={SEC_MS_GEC_VERSION}"
        )

    async def _turn(self, piece: str, voice: str) -> _Turn:
        turn = _Turn()
        try:
            async with (
                aiohttp.ClientSession(timeout=self.timeout, trust_env=True) as session,
                session.ws_connect(
                    self._url(),
                    headers=DRM.headers_with_muid(WSS_HEADERS),
                    compress=15,
                    timeout=self.ws_timeout,
                    proxy=self.proxy,
                    ssl=_ssl_context() if self.base_url.startswith("wss:") else True,
                ) as websocket,
            ):
                await websocket.send_str(config_message())
                await websocket.send_str(ssml_message(piece, voice, self.rate, self.pitch, self.volume))
                async for message in websocket:
                    if message.type == aiohttp.WSMsgType.TEXT:
                        if self._on_text(message.data, turn):
                            break
                    elif message.type == aiohttp.WSMsgType.BINARY:
                        self._on_binary(message.data, turn)
                    elif message.type == aiohttp.WSMsgType.ERROR:
                        break
        except aiohttp.WSServerHandshakeError as exc:
            headers = exc.headers or {}
            if exc.status == 403:
                raise _Forbidden(headers.get("Date")) from None
            if exc.status == 429:
                raise _Transient("throttled: HTTP 429 at the handshake", _retry_after(headers)) from None
            if exc.status >= 500:
                raise _Transient(f"HTTP {exc.status} at the handshake", _retry_after(headers)) from None
            raise _Refused(f"HTTP {exc.status} at the handshake") from None
        except asyncio.TimeoutError:
            raise _Transient(
                f"the service went silent for {self.receive_timeout_s:g} s after {len(turn.audio)} bytes of audio"
            ) from None
        except (aiohttp.ClientError, OSError) as exc:
            raise _Transient(f"network error ({type(exc).__name__}: {exc})") from None
        if not turn.ended:
            if not turn.audio:
                raise _Transient("the connection closed before any audio (a voice the service does not have?)")
            raise _Transient(f"the connection dropped mid-stream after {len(turn.audio)} bytes of audio")
        if not turn.audio:
            raise _Transient("the turn ended with no audio (a voice the service does not have, or throttling)")
        return turn

    @staticmethod
    def _on_text(data: str, turn: _Turn) -> bool:
        """Handle one text frame; True at the end of the turn."""
        headers, body = parse_text_frame(data)
        path = headers.get("Path")
        if path == "turn.end":
            turn.ended = True
            return True
        if path == "audio.metadata":
            try:
                entries = json.loads(body)["Metadata"]
                for entry in entries:
                    if entry.get("Type") != "WordBoundary":
                        continue
                    start = entry["Data"]["Offset"] / TICKS_PER_S
                    end = start + entry["Data"]["Duration"] / TICKS_PER_S
                    turn.boundaries.append(Boundary(unescape(entry["Data"]["text"]["Text"]), start, end))
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise _Transient(f"a malformed audio.metadata message ({type(exc).__name__}: {exc})") from None
            return False
        if path in ("turn.start", "response"):
            return False
        raise _Refused(f"an unexpected message (Path {path!r})")

    @staticmethod
    def _on_binary(data: bytes, turn: _Turn) -> None:
        try:
            headers, payload = parse_binary_frame(data)
        except ValueError as exc:
            raise _Transient(str(exc)) from None
        if headers.get("Path") != "audio":
            raise _Refused(f"a binary message for Path {headers.get('Path')!r}, not audio")
        content_type = headers.get("Content-Type")
        if content_type is None and not payload:
            return  # the end of the audio stream
        if content_type != "audio/mpeg":
            raise _Refused(f"audio of type {content_type!r}, not audio/mpeg")
        if not payload:
            raise _Transient("an audio message with no audio")
        turn.audio += payload

    def __repr__(self) -> str:
        return f"EdgeVoice(base_url={self.base_url!r}, language={self.language!r}, rate={self.rate!r})"
