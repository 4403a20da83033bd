"""Narration from paid speech APIs: OpenAI's speech endpoint and ElevenLabs' speech with timestamps.

Both implement the `Voice` seam: the narration as a 16-bit mono WAV, written aside and renamed into
place (never half-written), and a timing for every word of the text. A voice arm value (``en-us``,
``en-gb``) is mapped to a provider voice by a default table that the ``voices`` argument overrides;
a provider voice name or id may also be given directly.

ElevenLabs answers with the start and end of every character of the text it was sent; a word runs
from the start of its first character to the end of its last. Characters are matched to the text
exactly, or, when the service rewrote it, through the runs of characters the two have in common;
with no alignment of the original text, the normalised text's is used, and with neither, the
timings are estimated from the audio as for OpenAI.

OpenAI answers with audio only, so its word timings are estimated from the audio and are
approximations, not measurements:

1. The audio is cut into 10 ms frames; a frame is voiced when its RMS level is within 30 dB of the
   loud speech (the 95th percentile of frame levels). Gaps under 80 ms are bridged (stop
   consonants), voiced blips under 30 ms dropped; what remains between voiced runs are pauses.
2. Each word gets a share of speaking time in proportion to its estimated spoken length (its
   letters, with a digit counted as three letters and ``%&@#`` as a short word, plus one for the
   transition between words).
3. Sentence ends and clause breaks (``. ! ? ,`` ...) are matched, in order, to the detected pauses
   nearest to where the proportional estimate puts them, by a small edit-distance alignment that
   may leave a break or a pause unmatched. A matched break ends its word at the pause's start and
   starts the next word at its end.
4. Between matched pauses, words share the voiced time (pauses excluded) by their lengths.

The result is anchored at the pauses matched to punctuation and interpolated in between; a word
inside a long phrase can be off by a fraction of its neighbours' length.

HTTP goes through the shared ``HttpClient`` policy (retries on network errors, 429 and 5xx honouring
``Retry-After`` and OpenAI's ``retry-after-ms``; keys redacted). Each synthesis is charged to the
optional ``Budget`` by its characters before the request is sent.
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from shorts_assets.core.errors import BudgetExhausted, ProviderError
from shorts_assets.core.protocols import Closing
from shorts_assets.core.types import Voiceover, WordTiming
from shorts_assets.providers.media import ffmpeg_exe, run_process, write_wav
from shorts_assets.providers.net.clients import api_http_client, openai_classify
from shorts_assets.providers.net.costs import Budget
from shorts_assets.providers.net.http import HttpClient, RetryPolicy, Verdict, describe_body, safe_json
from shorts_assets.providers.voices.alignment import (
    estimate_word_timings,
    timings_from_alignment,
    voiced_segments,
    words_of,
)

__all__ = [
    "DEFAULT_ELEVENLABS_VOICES",
    "DEFAULT_OPENAI_VOICES",
    "ElevenLabsVoice",
    "OpenAIVoice",
    "estimate_word_timings",
    "timings_from_alignment",
    "voiced_segments",
    "words_of",
]

OPENAI_BASE_URL = "https://api.openai.com/v1"
ELEVENLABS_BASE_URL = "https://api.elevenlabs.io"

TTS_RETRY = RetryPolicy(attempts=4, base_delay_s=1.0, max_delay_s=60.0, timeout=httpx.Timeout(120.0, connect=10.0))

OPENAI_MODELS = ("gpt-4o-mini-tts", "gpt-4o-mini-tts-2025-12-15", "tts-1", "tts-1-hd")
OPENAI_CLASSIC_MODELS = ("tts-1", "tts-1-hd")  # no ``instructions``, fewer voices
OPENAI_CLASSIC_VOICES = ("alloy", "ash", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer")
OPENAI_VOICES = OPENAI_CLASSIC_VOICES + ("ballad", "verse", "marin", "cedar")
OPENAI_FORMATS = ("pcm", "wav", "mp3", "opus", "aac", "flac")
OPENAI_PCM_RATE = 24_000  # response_format "pcm": 24 kHz, 16-bit signed little-endian, mono
OPENAI_INPUT_LIMIT = 4096
DEFAULT_OPENAI_VOICES: Mapping[str, str] = {"en-us": "coral", "en-gb": "fable"}

# Model id -> most characters one request may carry.
ELEVENLABS_MODELS: Mapping[str, int] = {
    "eleven_multilingual_v2": 10_000,
    "eleven_v3": 5_000,
    "eleven_turbo_v2_5": 40_000,
    "eleven_flash_v2_5": 40_000,
    "eleven_turbo_v2": 30_000,
    "eleven_flash_v2": 30_000,
}
ELEVENLABS_FORMATS = (
    "alaw_8000",
    "ulaw_8000",
    "mp3_22050_32",
    "mp3_24000_48",
    "mp3_44100_32",
    "mp3_44100_64",
    "mp3_44100_96",
    "mp3_44100_128",
    "mp3_44100_192",
    "opus_48000_32",
    "opus_48000_64",
    "opus_48000_96",
    "opus_48000_128",
    "opus_48000_192",
    "pcm_8000",
    "pcm_16000",
    "pcm_22050",
    "pcm_24000",
    "pcm_32000",
    "pcm_44100",
    "pcm_48000",
    "wav_8000",
    "wav_16000",
    "wav_22050",
    "wav_24000",
    "wav_32000",
    "wav_44100",
    "wav_48000",
)
# Stock voices of the ElevenLabs library: Sarah (American) and George (British).
DEFAULT_ELEVENLABS_VOICES: Mapping[str, str] = {"en-us": "EXAVITQu4vr4xnSDxMaL", "en-gb": "JBFqnCBsd6RMkjVDRZzb"}
_ELEVENLABS_VOICE_ID = re.compile(r"^[A-Za-z0-9]{20}$")


# --- audio -------------------------------------------------------------------------------------


def _parse_wav(data: bytes) -> tuple[bytes, int, int, int] | None:
    """(frames, sample rate, channels, sample width) of a PCM WAV, tolerating the placeholder sizes
    streamed WAVs carry (0xFFFFFFFF, 0x7FFFFFFF); None if it is not PCM WAV."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    at, fmt = 12, None
    while at + 8 <= len(data):
        chunk_id = data[at : at + 4]
        size = struct.unpack("<I", data[at + 4 : at + 8])[0]
        body = at + 8
        if chunk_id == b"fmt " and size >= 16:
            fmt = struct.unpack("<HHIIHH", data[body : body + 16])
        elif chunk_id == b"data":
            if fmt is None or fmt[0] not in (1, 0xFFFE):
                return None
            _, channels, rate, _, _, bits = fmt
            frames = data[body : min(len(data), body + size)]
            width = bits // 8
            block = max(1, channels * width)
            return frames[: len(frames) - len(frames) % block], rate, channels, width
        at = body + size + (size & 1)
    return None


def _ffmpeg_to_wav(data: bytes, what: str, input_args: Sequence[str] = ()) -> bytes:
    """Decode any audio ffmpeg reads into a 16-bit mono WAV (its header sizes are placeholders)."""
    command = [
        ffmpeg_exe(),
        "-hide_banner",
        "-loglevel",
        "error",
        *input_args,
        "-i",
        "pipe:0",
        "-vn",
        "-ac",
        "1",
        "-acodec",
        "pcm_s16le",
        "-f",
        "wav",
        "pipe:1",
    ]
    try:
        done = run_process(command, input_bytes=data, timeout_s=120)
    except subprocess.TimeoutExpired:
        raise ProviderError(f"{what}: decoding the audio timed out") from None
    except OSError as exc:
        raise ProviderError(f"{what}: cannot run ffmpeg to decode the audio: {exc}") from None
    if done.returncode != 0:
        tail = done.stderr.decode("utf-8", "replace").strip()[-300:] or "(no output)"
        raise ProviderError(f"{what}: the audio could not be decoded: {tail}")
    return done.stdout


def _decode(data: bytes, codec: str, rate: int | None, what: str) -> tuple[bytes, int]:
    """16-bit mono little-endian PCM and its sample rate from the audio a provider sent."""
    if not data:
        raise ProviderError(f"{what}: the answer held no audio")
    if codec == "pcm" and rate:
        return data[: len(data) - len(data) % 2], rate
    if codec == "wav":
        parsed = _parse_wav(data)
        if parsed is not None and parsed[2] == 1 and parsed[3] == 2:
            return parsed[0], parsed[1]
    input_args: list[str] = []
    if codec in ("ulaw", "alaw"):
        input_args = ["-f", "mulaw" if codec == "ulaw" else "alaw", "-ar", str(rate or 8000), "-ac", "1"]
    parsed = _parse_wav(_ffmpeg_to_wav(data, what, input_args))
    if parsed is None or parsed[2] != 1 or parsed[3] != 2:
        raise ProviderError(f"{what}: the decoded audio is not 16-bit mono PCM")
    return parsed[0], parsed[1]


# --- the providers ---------------------------------------------------------------------------


def _label(out_path: Path) -> str:
    return f"voiceover {out_path.parent.name}/{out_path.name}" if out_path.parent.name else f"voiceover {out_path.name}"


def _check_text(text: Any, limit: int, what: str, service: str, model: str) -> None:
    if not isinstance(text, str) or not text.strip():
        raise ProviderError(f"{service} {what}: nothing to say (text {text!r})")
    if len(text) > limit:
        raise ProviderError(
            f"{service} {what}: the narration has {len(text)} characters, over the {limit} that {model} "
            "takes in one request"
        )


class _HttpVoice(Closing):
    name = "voice"
    model: str
    http: HttpClient
    budget: Budget | None
    voice_table: dict[str, str]

    def close(self) -> None:
        self.http.close()

    def _charge(self, what: str, text: str) -> None:
        if self.budget is not None:
            self.budget.charge_characters(
                f"{what}: {self.name} {self.model} speech of {len(text)} characters", self.model, len(text)
            )

    def _check_audible(self, pcm: bytes, rate: int, what: str) -> None:
        if not pcm:
            raise self.http.error(f"{what}: the audio is empty")
        if not voiced_segments(pcm, rate):
            raise self.http.error(f"{what}: the audio ({len(pcm) / 2 / rate:.2f} s) holds no speech, only silence")

    def _voiceover(
        self, out_path: Path, pcm: bytes, rate: int, voice: str, words: tuple[WordTiming, ...], what: str
    ) -> Voiceover:
        write_wav(out_path, pcm, rate, what)
        return Voiceover(
            audio_path=out_path, duration_s=len(pcm) / 2 / rate, sample_rate=rate, voice=voice, words=words
        )


class OpenAIVoice(_HttpVoice):
    """Voice over OpenAI's ``/audio/speech``; word timings estimated from the audio (module docstring).

    ``voices`` maps arm values to OpenAI voices over ``DEFAULT_OPENAI_VOICES``. ``instructions``
    (tone, accent, pace) is sent to the models that take it. The default ``response_format`` is
    ``pcm`` (raw 24 kHz samples, nothing to decode); compressed formats are decoded with ffmpeg.
    """

    name = "openai"

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str = OPENAI_BASE_URL,
        model: str = "gpt-4o-mini-tts",
        budget: Budget | None = None,
        voices: Mapping[str, str] | None = None,
        response_format: str = "pcm",
        speed: float = 1.0,
        instructions: str | None = None,
        organization: str | None = None,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not api_key:
            raise ValueError("openai: an API key is required")
        if model not in OPENAI_MODELS:
            raise ValueError(f"openai: model {model!r} is not one of {', '.join(OPENAI_MODELS)}")
        if response_format not in OPENAI_FORMATS:
            raise ValueError(f"openai: response_format {response_format!r} is not one of {', '.join(OPENAI_FORMATS)}")
        if not 0.25 <= speed <= 4.0:
            raise ValueError(f"openai: speed must be within 0.25..4.0, got {speed}")
        if instructions and model in OPENAI_CLASSIC_MODELS:
            raise ValueError(f"openai: {model} does not take instructions")
        self.allowed_voices = OPENAI_CLASSIC_VOICES if model in OPENAI_CLASSIC_MODELS else OPENAI_VOICES
        self.voice_table = {**DEFAULT_OPENAI_VOICES, **(voices or {})}
        for arm, voice in self.voice_table.items():
            if voice not in self.allowed_voices:
                raise ValueError(
                    f"openai: voice {voice!r} for {arm!r} is not one of {', '.join(self.allowed_voices)} ({model})"
                )
        self.model = model
        self.base_url = base_url.rstrip("/")
        self.budget = budget
        self.response_format = response_format
        self.speed = speed
        self.instructions = instructions
        self.http = api_http_client(
            "openai", api_key, http_client=http_client, transport=transport, retry=retry or TTS_RETRY, sleep=sleep
        )
        self._headers = {"Authorization": f"Bearer {api_key}"}
        if organization:
            self._headers["OpenAI-Organization"] = organization

    def provider_voice(self, voice: str) -> str:
        """The OpenAI voice for an arm value (or an OpenAI voice name given directly)."""
        chosen = self.voice_table.get(voice, voice)
        if chosen not in self.allowed_voices:
            raise ProviderError(
                f"openai: no voice for {voice!r}; map it with `voices` (known arm values: "
                f"{', '.join(sorted(self.voice_table))}; {self.model} voices: {', '.join(self.allowed_voices)})"
            )
        return chosen

    def synthesize(self, text: str, voice: str, out_path: Path) -> Voiceover:
        out_path = Path(out_path)
        what = _label(out_path)
        _check_text(text, OPENAI_INPUT_LIMIT, what, self.name, self.model)
        body: dict[str, Any] = {
            "model": self.model,
            "input": text,
            "voice": self.provider_voice(voice),
            "response_format": self.response_format,
        }
        if self.speed != 1.0:
            body["speed"] = self.speed
        if self.instructions:
            body["instructions"] = self.instructions
        self._charge(what, text)
        response = self.http.request(
            "POST",
            f"{self.base_url}/audio/speech",
            what=f"{what}: speech",
            headers=self._headers,
            json_body=body,
            classify=openai_classify,
        )
        content_type = response.headers.get("content-type", "").lower()
        if "json" in content_type or "html" in content_type:
            raise self.http.error(f"{what}: expected audio, got {content_type}: {describe_body(response)}")
        codec = self.response_format
        pcm, rate = _decode(
            response.content,
            codec,
            OPENAI_PCM_RATE if codec == "pcm" else None,
            self.http.redact(f"{self.name} {what}"),
        )
        self._check_audible(pcm, rate, what)
        words = estimate_word_timings(text, pcm, rate)
        return self._voiceover(out_path, pcm, rate, voice, words, f"{self.name} {what}")

    def __repr__(self) -> str:
        return f"OpenAIVoice(model={self.model!r}, base_url={self.base_url!r})"


def _elevenlabs_status(response: httpx.Response) -> str | None:
    payload = safe_json(response)
    detail = payload.get("detail") if isinstance(payload, dict) else None
    return str(detail.get("status")) if isinstance(detail, dict) and detail.get("status") else None


def _elevenlabs_classify(response: httpx.Response) -> Verdict | None:
    if response.status_code == 401:
        return Verdict.FAIL  # an API key cannot be refreshed; quota_exceeded also comes as a 401
    return None


def elevenlabs_detail(response: httpx.Response) -> str:
    """ElevenLabs' error body in a line: ``{"detail": {"status", "message"}}`` or a validation list."""
    payload = safe_json(response)
    detail = payload.get("detail") if isinstance(payload, dict) else None
    if isinstance(detail, dict) and (detail.get("status") or detail.get("message")):
        text = ": ".join(str(detail[k]) for k in ("status", "message") if detail.get(k))
        return " ".join(text.split())[:300]
    if isinstance(detail, list) and detail:
        problems = []
        for item in detail[:5]:
            if isinstance(item, dict):
                where = ".".join(str(p) for p in item.get("loc") or [] if p != "body")
                problems.append(f"{where}: {item.get('msg')}" if where else str(item.get("msg")))
        return ("validation failed: " + "; ".join(problems))[:300]
    if isinstance(detail, str) and detail:
        return detail[:300]
    return describe_body(response)


class ElevenLabsVoice(_HttpVoice):
    """Voice over ElevenLabs' ``/v1/text-to-speech/{voice_id}/with-timestamps``.

    ``voices`` maps arm values to voice ids over ``DEFAULT_ELEVENLABS_VOICES``; a voice id may also
    be given directly. ``output_format`` is one of ElevenLabs' formats; ``pcm_*`` needs no decoding.
    """

    name = "elevenlabs"

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str = ELEVENLABS_BASE_URL,
        model: str = "eleven_multilingual_v2",
        budget: Budget | None = None,
        voices: Mapping[str, str] | None = None,
        output_format: str = "pcm_24000",
        voice_settings: Mapping[str, Any] | None = None,
        seed: int | None = None,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not api_key:
            raise ValueError("elevenlabs: an API key is required")
        if model not in ELEVENLABS_MODELS:
            raise ValueError(f"elevenlabs: model {model!r} is not one of {', '.join(ELEVENLABS_MODELS)}")
        if output_format not in ELEVENLABS_FORMATS:
            raise ValueError(
                f"elevenlabs: output_format {output_format!r} is not one of {', '.join(ELEVENLABS_FORMATS)}"
            )
        if seed is not None and not 0 <= seed <= 4_294_967_295:
            raise ValueError(f"elevenlabs: seed must be within 0..4294967295, got {seed}")
        self.voice_table = {**DEFAULT_ELEVENLABS_VOICES, **(voices or {})}
        for arm, voice_id in self.voice_table.items():
            if not isinstance(voice_id, str) or not voice_id.strip() or "/" in voice_id:
                raise ValueError(f"elevenlabs: voice id {voice_id!r} for {arm!r} is not a voice id")
        self.model = model
        self.base_url = base_url.rstrip("/")
        self.budget = budget
        self.output_format = output_format
        self.voice_settings = dict(voice_settings) if voice_settings else None
        self.seed = seed
        self.http = api_http_client(
            "elevenlabs", api_key, http_client=http_client, transport=transport, retry=retry or TTS_RETRY, sleep=sleep
        )
        self._headers = {"xi-api-key": api_key, "Accept": "application/json"}

    def provider_voice(self, voice: str) -> str:
        """The ElevenLabs voice id for an arm value (or a voice id given directly)."""
        if voice in self.voice_table:
            return self.voice_table[voice]
        if isinstance(voice, str) and _ELEVENLABS_VOICE_ID.match(voice):
            return voice
        raise ProviderError(
            f"elevenlabs: no voice id for {voice!r}; map it with `voices` (known arm values: "
            f"{', '.join(sorted(self.voice_table))})"
        )

    def synthesize(self, text: str, voice: str, out_path: Path) -> Voiceover:
        out_path = Path(out_path)
        what = _label(out_path)
        _check_text(text, ELEVENLABS_MODELS[self.model], what, self.name, self.model)
        voice_id = self.provider_voice(voice)
        body: dict[str, Any] = {"text": text, "model_id": self.model}
        if self.voice_settings:
            body["voice_settings"] = self.voice_settings
        if self.seed is not None:
            body["seed"] = self.seed
        self._charge(what, text)
        response = self.http.request(
            "POST",
            f"{self.base_url}/v1/text-to-speech/{quote(voice_id, safe='')}/with-timestamps",
            what=f"{what}: speech with timestamps",
            headers=self._headers,
            params={"output_format": self.output_format},
            json_body=body,
            classify=_elevenlabs_classify,
            accept=(400, 401, 402, 403, 404, 409, 413, 422),
        )
        if response.status_code >= 400:
            quota = _elevenlabs_status(response) == "quota_exceeded"
            raise self.http.error(
                f"{what}: speech refused (voice {voice_id}, model {self.model}): HTTP {response.status_code}: "
                f"{elevenlabs_detail(response)}",
                BudgetExhausted if quota else ProviderError,
            )
        payload = self.http.json(response, f"{what}: speech with timestamps")
        if not isinstance(payload, dict) or not isinstance(payload.get("audio_base64"), str):
            raise self.http.error(f"{what}: the answer holds no audio_base64")
        try:
            audio = base64.b64decode(payload["audio_base64"], validate=True)
        except (binascii.Error, ValueError):
            raise self.http.error(f"{what}: audio_base64 is not valid base64") from None
        codec, _, rest = self.output_format.partition("_")
        rate = int(rest.split("_")[0])
        pcm, rate = _decode(audio, codec, rate, self.http.redact(f"{self.name} {what}"))
        self._check_audible(pcm, rate, what)
        duration = len(pcm) / 2 / rate
        words = self._words(text, payload, pcm, rate, duration, what)
        return self._voiceover(out_path, pcm, rate, voice, words, f"{self.name} {what}")

    def _words(
        self, text: str, payload: Mapping[str, Any], pcm: bytes, rate: int, duration: float, what: str
    ) -> tuple[WordTiming, ...]:
        """From the alignment of the original text; failing that the normalised text's; failing both,
        estimated from the audio like OpenAI's."""
        for key in ("alignment", "normalized_alignment"):
            alignment = payload.get(key)
            if not isinstance(alignment, dict):
                continue
            chars = alignment.get("characters")
            starts = alignment.get("character_start_times_seconds")
            ends = alignment.get("character_end_times_seconds")
            if not (isinstance(chars, list) and isinstance(starts, list) and isinstance(ends, list)):
                raise self.http.error(f"{what}: {key} lacks characters or their times")
            if not (len(chars) == len(starts) == len(ends)):
                raise self.http.error(
                    f"{what}: {key} has {len(chars)} characters but {len(starts)} start and {len(ends)} end times"
                )
            if not all(isinstance(c, str) for c in chars) or not all(
                isinstance(t, (int, float)) and not isinstance(t, bool) for t in (*starts, *ends)
            ):
                raise self.http.error(f"{what}: {key} holds values of the wrong type")
            if not chars:
                continue
            try:
                return timings_from_alignment(text, chars, starts, ends, duration)
            except ValueError:
                continue
        return estimate_word_timings(text, pcm, rate)

    def __repr__(self) -> str:
        return f"ElevenLabsVoice(model={self.model!r}, base_url={self.base_url!r})"
