"""A fake of Microsoft Edge's read-aloud speech service: its WebSocket protocol on 127.0.0.1, with real speech.

The handshake is checked as the service checks it, each failure answered 403 with a ``Date`` header:
the path ``/consumer/speech/synthesize/readaloud/edge/v1``; the query's ``TrustedClientToken``, a
``ConnectionId`` of 32 hex digits, ``Sec-MS-GEC-Version`` and a ``Sec-MS-GEC`` equal to the token
of this server's clock (its five-minute bucket or the one before; ``clock_offset_s`` sets the clock
ahead of the machine's, as a client with a skewed clock sees it); the ``Origin`` of Edge's
read-aloud extension, an Edge ``User-Agent`` and a ``muid`` cookie.

Then two text frames, each header lines, a blank line and a body: ``speech.config`` (JSON whose
boundary switches are the strings ``"true"``/``"false"``, exactly one of them true, and an output
format this fake serves: 24 kHz 48 kbit/s mono MP3) and ``ssml`` (an ``X-RequestId`` of 32 hex
digits, ``application/ssml+xml``, and SSML of one voice holding one prosody with rate, pitch and
volume in their forms). A request that breaks them, or names a voice the service lacks, is closed
with no audio, as the real service does; ``rejections`` says why.

The answer is ``turn.start``, ``response``, then ``audio.metadata`` messages (one ``WordBoundary``
per word, offsets in 100 ns ticks, text XML-escaped) interleaved with binary audio frames (a
big-endian header length, CRLF-terminated header lines, the MP3 bytes), an empty audio frame and
``turn.end``. The speech is the offline narrator's in the voice's language, at the prosody's rate,
encoded as the real service encodes it; its word timings are the narrator's, and a word of a script
written without spaces is cut into boundaries of two characters. A second turn on one connection is
refused (the service blocks clients that reuse connections).

Faults, queued with ``inject`` and taken one per connection: ``throttle`` (429 at the handshake),
``busy`` (503), ``forbidden`` (403 whatever the token), ``drop_mid_stream`` (the TCP connection cut
after half the audio, before ``turn.end``), ``no_audio`` (a turn that ends with no audio) and
``truncated`` (every word boundary but only a third of the audio, then a normal end) and ``stall``
(silence after ``response`` until the client gives up).
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import re
import tempfile
import threading
import time
import unicodedata
import uuid
import wave
import xml.etree.ElementTree as ET
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import numpy as np
from aiohttp import WSMsgType, web
from edge_tts.constants import SEC_MS_GEC_VERSION, TRUSTED_CLIENT_TOKEN
from edge_tts.drm import generate_sec_ms_gec_v2

from shorts_assets.providers.media import ffmpeg_exe, run_process

SYNTHESIZE_PATH = "/consumer/speech/synthesize/readaloud/edge/v1"
BASE_PATH = SYNTHESIZE_PATH.removesuffix("/edge/v1")
ORIGIN = "chrome-extension://jdiccldimpdaibmpdkjnbmckianbfold"
OUTPUT_FORMATS = {"audio-24khz-48kbitrate-mono-mp3"}
SAMPLE_RATE = 24_000
BITRATE = 48_000
FAULTS = ("throttle", "busy", "forbidden", "drop_mid_stream", "no_audio", "truncated", "stall")
SSML_NS = "{http://www.w3.org/2001/10/synthesis}"
# Edge voice -> the offline narrator's voice that speaks for it.
VOICES = {
    "en-US-AriaNeural": "en-us",
    "en-US-GuyNeural": "en-us",
    "en-US-EmmaMultilingualNeural": "en-us",
    "en-GB-SoniaNeural": "en-gb",
    "en-GB-RyanNeural": "en-gb",
    "es-ES-ElviraNeural": "es",
    "es-ES-AlvaroNeural": "es",
    "es-MX-DaliaNeural": "es-419",
    "pt-BR-FranciscaNeural": "pt-br",
    "pt-BR-AntonioNeural": "pt-br",
    "pt-PT-RaquelNeural": "pt",
    "de-DE-KatjaNeural": "de",
    "de-DE-ConradNeural": "de",
    "fr-FR-DeniseNeural": "fr",
    "fr-FR-HenriNeural": "fr",
    "hi-IN-SwaraNeural": "hi",
    "hi-IN-MadhurNeural": "hi",
    "ja-JP-NanamiNeural": "ja",
    "ja-JP-KeitaNeural": "ja",
}
_HEX32 = re.compile(r"^[0-9a-f]{32}$")
_MUID = re.compile(r"(?:^|;\s*)muid=[0-9A-F]{32}(?:;|$)")
_TOKEN = re.compile(r"^[0-9A-F]{16}-[0-9A-F]{64}$")
_PERCENT = re.compile(r"^[+-]\d+%$")
_HERTZ = re.compile(r"^[+-]\d+Hz$")
_LONG_NAME = re.compile(r"^Microsoft Server Speech Text to Speech Voice \(([a-z]{2,}-[A-Za-z-]+), (\S+Neural)\)$")


@dataclass
class Handshake:
    query: dict[str, str]
    headers: dict[str, str]
    status: int  # 101 when the connection was accepted


@dataclass
class Turn:
    config: dict[str, Any]
    voice: str  # the Edge voice's short name
    prosody: dict[str, str]
    text: str
    fault: str | None
    boundaries: list[dict[str, Any]]  # the WordBoundary entries sent
    audio_bytes: int  # MP3 bytes sent


def _frame_headers(block: str) -> dict[str, str]:
    headers = {}
    for line in block.split("\r\n"):
        name, colon, value = line.partition(":")
        if colon:
            headers[name] = value
    return headers


def _text_frame(request_id: str, path: str, body: Any) -> str:
    return (
        f"X-RequestId:{request_id}\r\nContent-Type:application/json; charset=utf-8\r\nPath:{path}\r\n\r\n"
        + json.dumps(body)
    )


def _audio_frame(request_id: str, stream_id: str, payload: bytes) -> bytes:
    content_type = "Content-Type:audio/mpeg\r\n" if payload else ""
    header = f"X-RequestId:{request_id}\r\n{content_type}X-StreamId:{stream_id}\r\nPath:audio\r\n".encode("ascii")
    return len(header).to_bytes(2, "big") + header + payload


def _spaceless(word: str) -> bool:
    return any(unicodedata.east_asian_width(ch) in ("W", "F") for ch in word)


def narrate(text: str, narrator_voice: str, rate: str) -> tuple[bytes, list[tuple[str, float, float]]]:
    """(MP3 at 24 kHz 48 kbit/s mono, [(word, start s, end s)]) of ``text`` spoken by the offline narrator."""
    from shorts_assets.providers.voices.espeak import EspeakVoice

    words_per_minute = min(450, max(80, round(170 * (1 + int(rate.rstrip("%")) / 100))))
    with tempfile.TemporaryDirectory() as folder:
        spoken = EspeakVoice(words_per_minute).synthesize(text, narrator_voice, Path(folder) / "speech.wav")
        with wave.open(str(spoken.audio_path), "rb") as wav:
            samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
            native = wav.getframerate()
    command = [
        ffmpeg_exe(),
        "-hide_banner",
        "-loglevel",
        "error",
        "-f",
        "s16le",
        "-ar",
        str(native),
        "-ac",
        "1",
        "-i",
        "pipe:0",
        "-ar",
        str(SAMPLE_RATE),
        "-c:a",
        "libmp3lame",
        "-b:a",
        "48k",
        "-f",
        "mp3",
        "pipe:1",
    ]
    done = run_process(command, input_bytes=samples.tobytes(), timeout_s=60)
    if done.returncode != 0:
        raise RuntimeError(done.stderr.decode("utf-8", "replace"))
    words: list[tuple[str, float, float]] = []
    for word in spoken.words:
        if _spaceless(word.word) and len(word.word) > 2:
            pieces = [word.word[i : i + 2] for i in range(0, len(word.word), 2)]
            step = (word.end_s - word.start_s) / len(pieces)
            words += [(p, word.start_s + i * step, word.start_s + (i + 1) * step) for i, p in enumerate(pieces)]
        else:
            words.append((word.word, word.start_s, word.end_s))
    return done.stdout, words


class FakeEdgeTTS:
    """The fake service on an ephemeral port of 127.0.0.1, served from a thread of its own while in a ``with``."""

    def __init__(self, voices: dict[str, str] | None = None, clock_offset_s: float = 0.0, frame_bytes: int = 3000):
        self.voices = dict(VOICES if voices is None else voices)
        self.clock_offset_s = clock_offset_s
        self.frame_bytes = frame_bytes
        self.lock = threading.Lock()
        self.faults: deque[str] = deque()
        self.handshakes: list[Handshake] = []
        self.turns: list[Turn] = []
        self.rejections: list[str] = []
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """What the adapter's ``base_url`` is set to (as the real one, without ``/edge/v1``)."""
        return f"http://127.0.0.1:{self.port}{BASE_PATH}"

    def inject(self, *faults: str) -> None:
        unknown = [f for f in faults if f not in FAULTS]
        if unknown:
            raise ValueError(f"unknown fault(s) {unknown}; known: {', '.join(FAULTS)}")
        with self.lock:
            self.faults.extend(faults)

    def _now(self) -> float:
        return time.time() + self.clock_offset_s

    # --- the handshake -------------------------------------------------------------------------

    def _handshake_problem(self, request: web.Request) -> str | None:
        query = request.query
        if query.get("TrustedClientToken") != TRUSTED_CLIENT_TOKEN:
            return "TrustedClientToken is missing or wrong"
        if not _HEX32.match(query.get("ConnectionId", "")):
            return "ConnectionId must be 32 hex digits"
        if query.get("Sec-MS-GEC-Version") != SEC_MS_GEC_VERSION:
            return f"Sec-MS-GEC-Version {query.get('Sec-MS-GEC-Version')!r} is not {SEC_MS_GEC_VERSION!r}"
        token = query.get("Sec-MS-GEC", "")
        if not _TOKEN.match(token):
            return "Sec-MS-GEC is not a token"
        now = self._now()
        if token not in (generate_sec_ms_gec_v2(now), generate_sec_ms_gec_v2(now - 300)):
            return "Sec-MS-GEC is stale or not for this time"
        if request.headers.get("Origin") != ORIGIN:
            return f"Origin {request.headers.get('Origin')!r} is not Edge's read-aloud extension"
        if "Edg/" not in request.headers.get("User-Agent", ""):
            return "the User-Agent is not Edge's"
        if not _MUID.search(request.headers.get("Cookie", "")):
            return "no muid cookie"
        return None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        date = {"Date": email.utils.formatdate(self._now(), usegmt=True)}
        with self.lock:
            fault = self.faults.popleft() if self.faults else None
        status = {"throttle": 429, "busy": 503, "forbidden": 403}.get(fault or "")
        problem = None if status else self._handshake_problem(request)
        if problem:
            status = 403
        record = Handshake(dict(request.query), dict(request.headers), status or 101)
        with self.lock:
            self.handshakes.append(record)
            if problem:
                self.rejections.append(f"handshake: {problem}")
        if status:
            return web.Response(status=status, headers=date)
        websocket = web.WebSocketResponse(autoping=True)
        await websocket.prepare(request)
        try:
            await self._converse(request, websocket, fault)
        except (asyncio.TimeoutError, ConnectionError):
            pass
        if not websocket.closed:
            await websocket.close()
        return websocket

    # --- the turn --------------------------------------------------------------------------------

    def _reject(self, why: str) -> None:
        with self.lock:
            self.rejections.append(why)

    async def _converse(self, request: web.Request, websocket: web.WebSocketResponse, fault: str | None) -> None:
        first = await websocket.receive(timeout=30)
        if first.type != WSMsgType.TEXT:
            return self._reject("the first message is not a text frame")
        config = self._config(first.data)
        if isinstance(config, str):
            return self._reject(f"speech.config: {config}")
        second = await websocket.receive(timeout=30)
        if second.type != WSMsgType.TEXT:
            return self._reject("the second message is not a text frame")
        request_id, ssml = self._ssml(second.data)
        if request_id is None:
            return self._reject(f"ssml: {ssml}")
        voice, prosody, text = ssml  # type: ignore[misc]
        loop = asyncio.get_running_loop()
        mp3, words = await loop.run_in_executor(None, narrate, text, self.voices[voice], prosody["rate"])
        word_boundary = config["context"]["synthesis"]["audio"]["metadataoptions"]["wordBoundaryEnabled"] == "true"
        turn = Turn(config, voice, prosody, text, fault, [], 0)
        with self.lock:
            self.turns.append(turn)
        stream_id = uuid.uuid4().hex.upper()
        await websocket.send_str(_text_frame(request_id, "turn.start", {"context": {"serviceTag": stream_id}}))
        await websocket.send_str(
            _text_frame(
                request_id,
                "response",
                {"context": {"serviceTag": stream_id}, "audio": {"type": "inline", "streamId": stream_id}},
            )
        )
        if fault == "stall":  # says nothing more until the client gives up
            async for _ in websocket:
                pass
            return None
        if fault == "no_audio":
            await websocket.send_str(_text_frame(request_id, "turn.end", {"context": {"serviceTag": stream_id}}))
            return await self._after_turn(websocket)
        frames = [mp3[i : i + self.frame_bytes] for i in range(0, len(mp3), self.frame_bytes)]
        sent_frames = {"drop_mid_stream": len(frames) // 2, "truncated": max(1, len(frames) // 3)}.get(
            fault or "", len(frames)
        )
        pending = deque(words if word_boundary else [])
        position = 0
        for index, frame in enumerate(frames[:sent_frames]):
            position += len(frame)
            frame_end_s = position * 8 / BITRATE
            while pending and (pending[0][1] < frame_end_s or fault == "truncated"):
                word, start, end = pending.popleft()
                await websocket.send_str(self._boundary(request_id, turn, word, start, end))
            await websocket.send_bytes(_audio_frame(request_id, stream_id, frame))
            turn.audio_bytes += len(frame)
            if fault == "drop_mid_stream" and index == sent_frames - 1:
                assert request.transport is not None
                request.transport.abort()
                return None
        while pending and fault != "drop_mid_stream":
            word, start, end = pending.popleft()
            await websocket.send_str(self._boundary(request_id, turn, word, start, end))
        await websocket.send_bytes(_audio_frame(request_id, stream_id, b""))
        await websocket.send_str(_text_frame(request_id, "turn.end", {"context": {"serviceTag": stream_id}}))
        return await self._after_turn(websocket)

    async def _after_turn(self, websocket: web.WebSocketResponse) -> None:
        """Wait for the client to close; a second turn on this connection is refused."""
        async for message in websocket:
            if message.type == WSMsgType.TEXT:
                self._reject("a second turn on one connection")
                break

    @staticmethod
    def _boundary(request_id: str, turn: Turn, word: str, start: float, end: float) -> str:
        entry = {
            "Type": "WordBoundary",
            "Data": {
                "Offset": round(start * 10_000_000),
                "Duration": round((end - start) * 10_000_000),
                "text": {"Text": escape(word), "Length": len(word), "BoundaryType": "WordBoundary"},
            },
        }
        turn.boundaries.append(entry)
        return _text_frame(request_id, "audio.metadata", {"Metadata": [entry]})

    @staticmethod
    def _config(data: str) -> dict[str, Any] | str:
        """The speech.config body, or what is wrong with the message."""
        head, _, body = data.partition("\r\n\r\n")
        headers = _frame_headers(head)
        if headers.get("Path") != "speech.config":
            return f"Path {headers.get('Path')!r} is not speech.config"
        if not headers.get("Content-Type", "").startswith("application/json"):
            return "Content-Type is not application/json"
        if not headers.get("X-Timestamp"):
            return "no X-Timestamp"
        try:
            config = json.loads(body)
            audio = config["context"]["synthesis"]["audio"]
            options = audio["metadataoptions"]
        except (ValueError, KeyError, TypeError):
            return "the body is not a synthesis configuration"
        switches = [options.get("sentenceBoundaryEnabled"), options.get("wordBoundaryEnabled")]
        if any(value not in ("true", "false") for value in switches):
            return f"boundary switches must be the strings 'true' or 'false', got {switches}"
        if switches.count("true") != 1:
            return "exactly one of sentence and word boundaries must be enabled"
        if audio.get("outputFormat") not in OUTPUT_FORMATS:
            return f"output format {audio.get('outputFormat')!r} is not served"
        return config

    def _ssml(self, data: str) -> tuple[str | None, tuple[str, dict[str, str], str] | str]:
        """(request id, (voice, prosody, text)), or (None, what is wrong with the message)."""
        head, _, body = data.partition("\r\n\r\n")
        headers = _frame_headers(head)
        if headers.get("Path") != "ssml":
            return None, f"Path {headers.get('Path')!r} is not ssml"
        if not _HEX32.match(headers.get("X-RequestId", "")):
            return None, "X-RequestId must be 32 hex digits"
        if headers.get("Content-Type") != "application/ssml+xml":
            return None, "Content-Type is not application/ssml+xml"
        if not headers.get("X-Timestamp"):
            return None, "no X-Timestamp"
        try:
            speak = ET.fromstring(body)
        except ET.ParseError as exc:
            return None, f"the SSML does not parse: {exc}"
        voices = list(speak)
        if speak.tag != f"{SSML_NS}speak" or speak.get("version") != "1.0" or len(voices) != 1:
            return None, "the SSML must be one <speak version='1.0'> holding one <voice>"
        prosodies = list(voices[0])
        if voices[0].tag != f"{SSML_NS}voice" or len(prosodies) != 1 or prosodies[0].tag != f"{SSML_NS}prosody":
            return None, "the voice must hold exactly one <prosody>"
        prosody = prosodies[0]
        if len(prosody):
            return None, "custom SSML inside the prosody is not accepted"
        values = {name: prosody.get(name, "") for name in ("rate", "pitch", "volume")}
        if not (_PERCENT.match(values["rate"]) and _PERCENT.match(values["volume"]) and _HERTZ.match(values["pitch"])):
            return None, f"prosody values {values} are not in their forms"
        match = _LONG_NAME.match(voices[0].get("name", ""))
        if match is None:
            return None, f"voice name {voices[0].get('name')!r} is not in the long form"
        short = f"{match.group(1)}-{match.group(2)}"
        if short not in self.voices:
            return None, f"voice {short} does not exist"
        text = prosody.text or ""
        if not text.strip():
            return None, "nothing to say"
        return headers["X-RequestId"], (short, values, text)

    # --- serving ---------------------------------------------------------------------------------

    def __enter__(self) -> FakeEdgeTTS:
        ready = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            app = web.Application()
            app.router.add_get(SYNTHESIZE_PATH, self._handle)
            runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
            try:
                loop.run_until_complete(runner.setup())
                site = web.TCPSite(runner, "127.0.0.1", 0)
                loop.run_until_complete(site.start())
                self.port = runner.addresses[0][1]
            except BaseException as exc:  # noqa: BLE001 - handed to the starting thread
                failure.append(exc)
                ready.set()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(runner.cleanup())
                loop.close()

        self._thread = threading.Thread(target=serve, name="fake-edge-tts", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            raise failure[0]
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)
