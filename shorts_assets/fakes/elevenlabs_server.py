"""A fake of ElevenLabs' text to speech with timestamps, and the real speech the speech fakes answer with.

The audio is real: the text is spoken by the offline narrator (eSpeak NG), resampled to the rate
asked for and encoded in the format asked for. The character alignment is derived from that
narrator's word timings: a word's characters share its time evenly, the characters between words
sit at the boundary, so it is as true as the narrator's own word events.

It enforces: the ``xi-api-key`` header (401 invalid_api_key, echoing what it was sent so tests can
prove the adapter keeps keys out of its errors), the voice id (404 voice_not_found), the model id
(400 model_not_found) and its character limit (400 max_character_limit_exceeded), the
``output_format`` enum and a JSON body with a non-empty ``text`` (422, FastAPI's validation list),
and a character quota (401 quota_exceeded). Other errors use ``{"detail": {"status", "message"}}``.
``alignment_mode`` is ``exact``, ``normalized_only`` (``alignment`` null, the normalised text's
alignment only) or ``none`` (neither). ``answers`` keeps every JSON answer given. Mount at the root.
"""

from __future__ import annotations

import base64
import re
import struct
import subprocess
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from shorts_assets.core.types import WordTiming
from shorts_assets.fakes.server import FakeApp, Request, Response, json_response
from shorts_assets.providers.media import ffmpeg_exe

MODELS = {
    "eleven_multilingual_v2": 10_000,
    "eleven_v3": 5_000,
    "eleven_turbo_v2_5": 40_000,
    "eleven_flash_v2_5": 40_000,
    "eleven_turbo_v2": 30_000,
    "eleven_flash_v2": 30_000,
}
OUTPUT_FORMATS = (
    ["alaw_8000", "ulaw_8000"]
    + [f"mp3_{r}" for r in ("22050_32", "24000_48", "44100_32", "44100_64", "44100_96", "44100_128", "44100_192")]
    + [f"opus_48000_{b}" for b in (32, 64, 96, 128, 192)]
    + [f"{c}_{r}" for c in ("pcm", "wav") for r in (8000, 16000, 22050, 24000, 32000, 44100, 48000)]
)
VOICES = {"EXAVITQu4vr4xnSDxMaL": "en-us", "JBFqnCBsd6RMkjVDRZzb": "en-gb"}


# --- real speech for the speech fakes --------------------------------------------------------------


@dataclass(frozen=True)
class Spoken:
    samples: np.ndarray  # int16 mono
    rate: int
    words: tuple[WordTiming, ...]  # the narrator's own word timings

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.rate


def speak(text: str, voice: str = "en-us", rate: int | None = None) -> Spoken:
    """``text`` spoken by the offline narrator, resampled to ``rate`` when given."""
    from shorts_assets.providers.voices.espeak import EspeakVoice

    with tempfile.TemporaryDirectory() as folder:
        spoken = EspeakVoice().synthesize(text, voice, Path(folder) / "speech.wav")
        with wave.open(str(spoken.audio_path), "rb") as wav:
            samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    native = spoken.sample_rate
    if rate and rate != native:
        count = round(len(samples) * rate / native)
        positions = np.arange(count) * (native / rate)
        samples = np.interp(positions, np.arange(len(samples)), samples.astype(np.float64))
        samples = np.clip(np.round(samples), -32768, 32767).astype("<i2")
    return Spoken(samples.astype("<i2"), rate or native, spoken.words)


def streamed_wav(samples: np.ndarray, rate: int, placeholder: int = 0xFFFFFFFF) -> bytes:
    """A 16-bit mono WAV whose size fields hold a placeholder, as streamed WAVs do."""
    fmt = struct.pack("<4sIHHIIHH", b"fmt ", 16, 1, 1, rate, rate * 2, 2, 16)
    return (
        b"RIFF"
        + struct.pack("<I", placeholder)
        + b"WAVE"
        + fmt
        + b"data"
        + struct.pack("<I", placeholder)
        + samples.astype("<i2").tobytes()
    )


_FFMPEG_OUTPUT = {
    "mp3": ["-c:a", "libmp3lame", "-f", "mp3"],
    "opus": ["-c:a", "libopus", "-f", "ogg"],
    "aac": ["-c:a", "aac", "-f", "adts"],
    "flac": ["-c:a", "flac", "-f", "flac"],
    "ulaw": ["-c:a", "pcm_mulaw", "-f", "mulaw"],
    "alaw": ["-c:a", "pcm_alaw", "-f", "alaw"],
}


def encode(samples: np.ndarray, rate: int, codec: str) -> bytes:
    """The samples as ``pcm`` (raw), ``wav`` (streamed header) or a format ffmpeg encodes."""
    if codec == "pcm":
        return samples.astype("<i2").tobytes()
    if codec == "wav":
        return streamed_wav(samples, rate)
    command = [
        ffmpeg_exe(),
        "-hide_banner",
        "-loglevel",
        "error",
        "-f",
        "s16le",
        "-ar",
        str(rate),
        "-ac",
        "1",
        "-i",
        "pipe:0",
        *_FFMPEG_OUTPUT[codec],
        "pipe:1",
    ]
    done = subprocess.run(command, input=samples.astype("<i2").tobytes(), capture_output=True, timeout=60, check=True)
    return done.stdout


def character_alignment(text: str, words: tuple[WordTiming, ...]) -> dict[str, list[Any]]:
    """Per-character times of ``text`` derived from word timings (see the module docstring)."""
    starts: list[float | None] = [None] * len(text)
    ends: list[float | None] = [None] * len(text)
    cursor = 0
    for word in words:
        at = text.find(word.word, cursor)
        if at < 0:
            continue
        length = len(word.word)
        step = (word.end_s - word.start_s) / length
        for k in range(length):
            starts[at + k] = round(word.start_s + k * step, 4)
            ends[at + k] = round(word.start_s + (k + 1) * step, 4)
        cursor = at + length
    last = 0.0
    for index in range(len(text)):
        if starts[index] is None:
            starts[index] = ends[index] = last
        else:
            last = ends[index]  # type: ignore[assignment]
    return {"characters": list(text), "character_start_times_seconds": starts, "character_end_times_seconds": ends}


# --- the fake --------------------------------------------------------------------------------------


def detail(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return json_response(status, {"detail": {"status": code, "message": message}}, headers)


def validation(loc: list[str], msg: str, type_: str, value: Any = None) -> Response:
    return json_response(422, {"detail": [{"type": type_, "loc": loc, "msg": msg, "input": value}]})


class FakeElevenLabs(FakeApp):
    def __init__(
        self,
        api_key: str = "xi-test-elevenlabs-key-778899",
        voices: dict[str, str] | None = None,
        quota_characters: int = 100_000,
    ) -> None:
        super().__init__()
        self.api_key = api_key
        self.voices = dict(VOICES if voices is None else voices)  # voice id -> narrator voice
        self.quota_remaining = quota_characters
        self.alignment_mode = "exact"
        self.answers: list[dict[str, Any]] = []
        self.spoken: list[Spoken] = []

    def route(self, request: Request):
        if request.method == "POST" and re.fullmatch(r"/v1/text-to-speech/[^/]+/with-timestamps", request.path):
            return "tts", self.tts
        raise LookupError(request.path)

    def tts(self, request: Request) -> Response:
        given = request.headers.get("xi-api-key", "")
        if given != self.api_key:
            return detail(401, "invalid_api_key", f"Invalid API key: {given}")
        voice_id = request.path.split("/")[3]
        output_format = request.query.get("output_format", "mp3_44100_128")
        if output_format not in OUTPUT_FORMATS:
            return validation(
                ["query", "output_format"], f"Input should be one of {', '.join(OUTPUT_FORMATS)}", "enum", output_format
            )
        try:
            body = request.json()
        except ValueError:
            return validation(["body"], "JSON decode error", "json_invalid")
        if not isinstance(body, dict) or "text" not in body:
            return validation(["body", "text"], "Field required", "missing", body)
        text = body["text"]
        if not isinstance(text, str):
            return validation(["body", "text"], "Input should be a valid string", "string_type", text)
        if not text.strip():
            return detail(400, "empty_text", "The text is empty.")
        if voice_id not in self.voices:
            return detail(404, "voice_not_found", f"A voice with voice_id {voice_id} was not found.")
        model = body.get("model_id", "eleven_multilingual_v2")
        if model not in MODELS:
            return detail(400, "model_not_found", f"A model with model ID {model} does not exist.")
        if len(text) > MODELS[model]:
            return detail(
                400,
                "max_character_limit_exceeded",
                f"This request's text has {len(text)} characters and exceeds the character limit "
                f"of {MODELS[model]} characters.",
            )
        if len(text) > self.quota_remaining:
            return detail(
                401,
                "quota_exceeded",
                f"This request exceeds your quota. You have {self.quota_remaining} credits remaining, "
                f"while {len(text)} credits are required for this request.",
            )
        self.quota_remaining -= len(text)
        codec, rate_text = output_format.split("_")[:2]
        spoken = speak(text, self.voices[voice_id], int(rate_text))
        self.spoken.append(spoken)
        alignment = character_alignment(text, spoken.words)
        normalized = {
            "characters": [" ", *alignment["characters"], " "],
            "character_start_times_seconds": [0.0, *alignment["character_start_times_seconds"], spoken.duration_s],
            "character_end_times_seconds": [0.0, *alignment["character_end_times_seconds"], spoken.duration_s],
        }
        answer = {
            "audio_base64": base64.b64encode(
                streamed_wav(spoken.samples, spoken.rate, 0x7FFFFFFF)
                if codec == "wav"
                else encode(spoken.samples, spoken.rate, codec)
            ).decode(),
            "alignment": alignment if self.alignment_mode == "exact" else None,
            "normalized_alignment": normalized if self.alignment_mode != "none" else None,
        }
        self.answers.append(answer)
        return json_response(200, answer, {"request-id": f"req-{len(self.answers)}", "character-cost": str(len(text))})
