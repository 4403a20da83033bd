"""The offline narrator: eSpeak NG driven in-process through ctypes.

`EspeakVoice` implements the `Voice` seam with no network and no system package: the
`espeakng-loader` wheel ships `libespeak-ng.so` (1.52) and its `espeak-ng-data` folder, and this
module loads that library with ctypes, synthesises into memory (AUDIO_OUTPUT_SYNCHRONOUS with a
synth callback), and writes a 16-bit mono WAV atomically.

Word timings come from the library's espeakEVENT_WORD events. Facts about the library this module
relies on (checked against 1.52.0 on x86-64 Linux):

* `espeak_Initialize` accepts either the `espeak-ng-data` folder itself or its parent; the data
  folder is passed. It returns the sample rate (22050).
* `text_position` is a 1-based index in *code points* of the decoded text (not UTF-8 bytes; an emoji
  outside the BMP counts as one), so it indexes the Python string directly. `length` is not
  reliable (``don't`` reports 3), so words are taken from the text, not from `length`.
* One written token may produce several events ("3.5" -> three, "1,000" -> two), and spoken
  symbols (an emoji's name) produce events that belong to no word.
* `audio_position` is milliseconds since the start of the utterance and keeps counting across
  sentences in synchronous mode.
* Output is not bit-for-bit repeatable within a process: the wave generator keeps state between
  utterances (not reset by espeak_Terminate/espeak_Initialize, nor by espeak_ng_SetRandSeed), so
  a repeated request differs by a few samples. A fresh process's first utterance is repeatable.
* After an abbreviation it expands ("Mr. lazy"), the next word's event can point one character
  early, at the space; and a run like "i.e. e-mail" gets a single event. Words left without an
  event share the time of their neighbour in proportion to their length.
* `espeak_SetVoiceByName` returns EE_NOT_FOUND for language codes that are not file names
  (``en-gb``) but *accepts* a bare variant name (``Alex``) and then segfaults on synthesis, and
  silently ignores an unknown ``+variant``; so every voice is resolved against
  `espeak_ListVoices` and the variant folder before it reaches the library.

The library keeps global state (one voice, one callback, one parameter set), so it is initialised
once per process, lazily, and every synthesis holds a module-level lock.
"""

from __future__ import annotations

import bisect
import ctypes
import os
import re
import sys
import threading
import unicodedata
from array import array
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from shorts_assets.core.errors import ProviderError
from shorts_assets.core.protocols import Closing
from shorts_assets.core.types import Voiceover, WordTiming
from shorts_assets.providers.media import write_wav

__all__ = ["EspeakVoice", "VOICE_ALIASES", "available_voices"]

# --- speak_lib.h constants -------------------------------------------------------------------

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_ENDPAUSE = 0x1000
_PARAM_RATE = 1
_EVENT_LIST_TERMINATED = 0
_EVENT_WORD = 1
_EE_OK = 0
_RATE_MIN, _RATE_MAX = 80, 450  # espeakRATE_MINIMUM / espeakRATE_MAXIMUM
_BUFFER_MS = 500  # size of each chunk handed to the callback

# The arm values (see shorts_assets.arms) -> espeak voice identifiers in the shipped data.
# espeak's "en" voice is British English ("English (Great Britain)", languages en-gb, en).
VOICE_ALIASES: dict[str, str] = {"en-us": "gmw/en-US", "en-gb": "gmw/en"}
# The voice each voice arm speaks with in a channel language other than English: the arm's
# American/British pair becomes the language's own two accents where eSpeak has them.
LANGUAGE_VOICES: dict[str, dict[str, str]] = {
    "es": {"en-us": "es-419", "en-gb": "es"},
    "pt": {"en-us": "pt-br", "en-gb": "pt-pt"},
    "de": {"en-us": "de", "en-gb": "de"},
    "fr": {"en-us": "fr-fr", "en-gb": "fr-be"},
    "hi": {"en-us": "hi", "en-gb": "hi"},
    "ja": {"en-us": "ja", "en-gb": "ja"},
}


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    """espeak_EVENT (speak_lib.h). On 64-bit: six 4-byte ints (offsets 0-20), the user_data
    pointer at 24 and the 8-byte id union at 32, 40 bytes in all; no padding is needed."""

    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


class _VoiceStruct(ctypes.Structure):
    """espeak_VOICE as returned by espeak_ListVoices."""

    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_void_p),  # (priority byte, NUL-terminated language)*, then a 0 byte
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


_SynthCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


# --- process-wide engine ---------------------------------------------------------------------


@dataclass
class _Capture:
    """What one espeak_Synth call produced; the callback fills it."""

    pcm: bytearray
    events: list[tuple[int, int]]  # (text_position, audio_position ms) of word events
    error: BaseException | None = None


class _Engine:
    """The one initialised libespeak-ng of this process."""

    def __init__(self) -> None:
        try:
            import espeakng_loader
        except ImportError as exc:  # pragma: no cover - the wheel is a declared dependency
            raise ProviderError("espeak: the espeakng-loader package is not installed") from exc
        lib_path = espeakng_loader.get_library_path()
        self.data_path = Path(espeakng_loader.get_data_path())
        try:
            lib = ctypes.CDLL(lib_path)
        except OSError as exc:
            raise ProviderError(f"espeak: cannot load {lib_path}: {exc}") from exc

        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = [_SynthCallback]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [
            ctypes.c_char_p,  # text
            ctypes.c_size_t,  # size
            ctypes.c_uint,  # position
            ctypes.c_int,  # position_type
            ctypes.c_uint,  # end_position
            ctypes.c_uint,  # flags
            ctypes.c_void_p,  # unique_identifier
            ctypes.c_void_p,  # user_data
        ]
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_Synchronize.argtypes = []
        lib.espeak_Synchronize.restype = ctypes.c_int
        lib.espeak_ListVoices.argtypes = [ctypes.c_void_p]
        lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_VoiceStruct))

        rate = lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS,
            _BUFFER_MS,
            os.fsencode(self.data_path),
            _INITIALIZE_DONT_EXIT,
        )
        if rate <= 0:
            raise ProviderError(f"espeak: initialisation failed with data at {self.data_path}")
        self.lib = lib
        self.sample_rate = int(rate)
        self.capture: _Capture | None = None
        # Held for the life of the process: the library keeps the bare function pointer.
        self._callback = _SynthCallback(self._on_synth)
        lib.espeak_SetSynthCallback(self._callback)
        self.voices = self._resolution_table()
        variant_dir = self.data_path / "voices" / "!v"
        self.variants = {p.name for p in variant_dir.iterdir()} if variant_dir.is_dir() else set()

    def _on_synth(self, wav, numsamples, events) -> int:  # type: ignore[no-untyped-def]
        capture = self.capture
        if capture is None:
            return 1
        try:
            if numsamples > 0 and wav:
                capture.pcm += ctypes.string_at(wav, numsamples * 2)
            if events:
                i = 0
                while events[i].type != _EVENT_LIST_TERMINATED:
                    event = events[i]
                    if event.type == _EVENT_WORD:
                        capture.events.append((event.text_position, event.audio_position))
                    i += 1
        except BaseException as exc:  # noqa: BLE001 - must not unwind through C
            capture.error = exc
            return 1  # abort synthesis
        return 0

    def _resolution_table(self) -> dict[str, str]:
        """Lower-cased voice identifiers, file names, names and language codes -> identifier."""
        table: dict[str, str] = {}
        by_language: dict[str, tuple[int, str]] = {}
        listing = self.lib.espeak_ListVoices(None)
        i = 0
        while listing and listing[i]:
            voice = listing[i].contents
            i += 1
            if not voice.identifier:
                continue
            identifier = voice.identifier.decode("utf-8", "replace")
            if identifier.startswith("mb/"):  # MBROLA voices need a binary we do not ship
                continue
            table.setdefault(identifier.lower(), identifier)
            table.setdefault(identifier.rsplit("/", 1)[-1].lower(), identifier)
            if voice.name:
                table.setdefault(voice.name.decode("utf-8", "replace").lower(), identifier)
            pointer = voice.languages
            while pointer:
                priority = ctypes.string_at(pointer, 1)[0]
                if priority == 0:
                    break
                language = ctypes.string_at(pointer + 1).decode("utf-8", "replace").lower()
                pointer += 2 + len(language.encode())
                best = by_language.get(language)
                if best is None or priority < best[0]:
                    by_language[language] = (priority, identifier)
        for language, (_, identifier) in by_language.items():
            table.setdefault(language, identifier)
        for alias, identifier in VOICE_ALIASES.items():
            if identifier.lower() in table:
                table[alias] = identifier
        return table

    def resolve(self, voice: str) -> str:
        """The argument for espeak_SetVoiceByName, or ProviderError naming `voice`."""
        if not isinstance(voice, str) or not voice.strip():
            raise ProviderError(f"espeak: no voice given ({voice!r})")
        base, plus, variant = voice.strip().partition("+")
        identifier = self.voices.get(base.lower())
        if identifier is None:
            raise ProviderError(f"espeak: unknown voice {voice!r}")
        if plus:
            if variant not in self.variants:
                raise ProviderError(f"espeak: unknown variant {variant!r} in voice {voice!r}")
            return f"{identifier}+{variant}"
        return identifier

    def synthesize(self, text: str, voice_arg: str, rate_wpm: int) -> _Capture:
        """Speak `text`; the caller holds _LOCK."""
        if self.lib.espeak_SetVoiceByName(voice_arg.encode("utf-8")) != _EE_OK:
            raise ProviderError(f"espeak: could not select voice {voice_arg!r}")
        self.lib.espeak_SetParameter(_PARAM_RATE, rate_wpm, 0)
        # NUL would end the C string early; a lone surrogate cannot be encoded. Both become one
        # character each, so text positions still index the Python string.
        encoded = text.replace("\x00", " ").encode("utf-8", "replace")
        capture = _Capture(pcm=bytearray(), events=[])
        self.capture = capture
        try:
            status = self.lib.espeak_Synth(
                encoded, len(encoded) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8 | _ENDPAUSE, None, None
            )
            sync_status = self.lib.espeak_Synchronize()
        finally:
            self.capture = None
        if capture.error is not None:
            error = capture.error
            raise ProviderError(f"espeak: synthesis callback failed: {error}") from error
        if status != _EE_OK or sync_status != _EE_OK:
            raise ProviderError(f"espeak: synthesis failed (status {status}/{sync_status})")
        return capture


_LOCK = threading.Lock()
_ENGINE: _Engine | None = None


def _engine() -> _Engine:
    """The process's engine; the caller holds _LOCK."""
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = _Engine()
    return _ENGINE


def available_voices() -> list[str]:
    """Every voice name `EspeakVoice.synthesize` accepts (before any ``+variant``), sorted."""
    with _LOCK:
        return sorted(_engine().voices)


# --- word timings ----------------------------------------------------------------------------

_TOKEN = re.compile(r"\S+")
_KEEP_AT_EDGES = frozenset("%#@&")  # punctuation that is part of a word ("100%", "#1")
_STRIP_AT_EDGES = frozenset("<>`|")  # symbols that wrap words like punctuation


def _is_edge_punctuation(char: str) -> bool:
    if char in _STRIP_AT_EDGES:
        return True
    return unicodedata.category(char).startswith("P") and char not in _KEEP_AT_EDGES


@dataclass
class _Word:
    start: int  # the token without its leading/trailing punctuation, as code point offsets
    end: int
    time_s: float | None = None
    end_s: float | None = None


def _tokens_of(text: str) -> list[tuple[int, int, _Word | None]]:
    """Every whitespace-delimited token's span, with its word (None if it has no letter/digit)."""
    tokens: list[tuple[int, int, _Word | None]] = []
    for match in _TOKEN.finditer(text):
        start, end = match.span()
        while start < end and _is_edge_punctuation(text[start]):
            start += 1
        while end > start and _is_edge_punctuation(text[end - 1]):
            end -= 1
        word = _Word(start, end) if any(ch.isalnum() for ch in text[start:end]) else None
        tokens.append((match.start(), match.end(), word))
    return tokens


def _voiced_end_s(pcm: bytes, sample_rate: int, threshold: int = 300) -> float:
    """Where the audio stops being voiced: the end of the last 10 ms frame that is not silent."""
    samples = array("h")
    samples.frombytes(pcm)
    frame = max(1, sample_rate // 100)
    for end in range(len(samples), 0, -frame):
        if max(map(abs, samples[max(0, end - frame) : end])) >= threshold:
            return end / sample_rate
    return 0.0


def _timings(
    text: str, events: list[tuple[int, int]], voiced_end_s: float, duration_s: float
) -> tuple[WordTiming, ...]:
    tokens = _tokens_of(text)
    words = [word for _, _, word in tokens if word is not None]
    if not words:
        return ()
    token_starts = [start for start, _, _ in tokens]

    def token_at(index: int) -> tuple[int, bool]:
        """(k, True) if code point `index` lies in token k; (k, False) if in the gap before it."""
        k = bisect.bisect_right(token_starts, index) - 1
        if k >= 0 and index < tokens[k][1]:
            return k, True
        return k + 1, False

    # espeak sometimes reports a word one character early, on the space before it (after an
    # abbreviation it expanded: "Mr. lazy"). Such a gap event belongs to the next token when
    # that token got no event of its own; otherwise it is speech of something else (the tail of
    # a spoken emoji's name).
    located = [token_at(text_position - 1) for text_position, _ in events]
    inside = {k for k, in_token in located if in_token}
    owners: list[_Word | None] = [
        tokens[k][2] if k < len(tokens) and (in_token or k not in inside) else None for k, in_token in located
    ]

    # Each event either starts a word (its first event), continues the current one, or speaks
    # something that is no word (a symbol, punctuation read aloud): that ends the current word.
    current: _Word | None = None
    for (_, audio_ms), word in zip(events, owners):
        time_s = min(max(audio_ms / 1000.0, 0.0), duration_s)
        if word is current and word is not None:
            continue
        if current is not None and current.end_s is None:
            current.end_s = time_s
        if word is not None and word.time_s is None:
            word.time_s = time_s
            current = word
        else:
            current = None
    if current is not None and current.end_s is None:
        current.end_s = max(current.time_s or 0.0, voiced_end_s)

    timed = [w for w in words if w.time_s is not None]
    if not timed:  # no usable events: spread the words over the voiced audio by length
        _spread(words, 0.0, voiced_end_s or duration_s)
    else:
        # A word espeak gave no event shares the slot of the timed word before it (or after it,
        # at the start), in proportion to the characters of each.
        index = 0
        while index < len(words):
            if words[index].time_s is not None:
                run_end = index + 1
                while run_end < len(words) and words[run_end].time_s is None:
                    run_end += 1
                if run_end > index + 1:
                    _spread(words[index:run_end], *_slot(words[index]))
                index = run_end
            else:
                run_end = index
                while words[run_end].time_s is None:
                    run_end += 1
                _spread(words[index : run_end + 1], *_slot(words[run_end]))
                index = run_end + 1

    result: list[WordTiming] = []
    floor = 0.0
    for word in words:
        start = min(max(word.time_s or 0.0, floor), duration_s)
        end = min(max(word.end_s if word.end_s is not None else start, start), duration_s)
        result.append(WordTiming(text[word.start : word.end], round(start, 4), round(end, 4)))
        floor = end
    return tuple(result)


def _slot(word: _Word) -> tuple[float, float]:
    start = word.time_s or 0.0
    return start, word.end_s if word.end_s is not None else start


def _spread(words: list[_Word], start_s: float, end_s: float) -> None:
    """Share [start_s, end_s] among `words` in proportion to their length, in order."""
    end_s = max(end_s, start_s)
    total = sum(w.end - w.start for w in words) or 1
    at = start_s
    for word in words:
        word.time_s = at
        at = at + (end_s - start_s) * (word.end - word.start) / total
        word.end_s = at
    words[-1].end_s = end_s


# --- the provider ----------------------------------------------------------------------------


class EspeakVoice(Closing):
    """Offline text-to-speech with eSpeak NG; implements `Voice`.

    `voice` is an arm value (``en-us``, ``en-gb``) or any eSpeak voice: an identifier
    (``gmw/en-GB-x-rp``), its file name (``en-gb-x-rp``), its name, or a language code (``fr``),
    optionally with a variant (``en-us+f3``).

    With a ``language`` other than English (the channel's), an arm value speaks with that
    language's voice: ``voices`` (``<language>/<arm>`` keys, as TTS_VOICES gives them) first, then
    ``LANGUAGE_VOICES``. A voice that eSpeak lacks, or one of another language, fails the video.
    """

    name = "espeak"

    def __init__(
        self, rate_wpm: int = 170, *, language: str | None = None, voices: Mapping[str, str] | None = None
    ) -> None:
        if isinstance(rate_wpm, bool) or not isinstance(rate_wpm, int):
            raise TypeError(f"rate_wpm must be an int, got {rate_wpm!r}")
        if not _RATE_MIN <= rate_wpm <= _RATE_MAX:
            raise ValueError(f"rate_wpm must be within {_RATE_MIN}..{_RATE_MAX}, got {rate_wpm}")
        self.rate_wpm = rate_wpm
        self.language = (language or "en").lower()
        self.voice_table = {str(k).lower(): v for k, v in (voices or {}).items()}

    def provider_voice(self, voice: str) -> str:
        """The eSpeak voice an arm value (or a voice named directly) speaks with in this language."""
        arm = str(voice).strip().lower()
        if self.language == "en":
            return self.voice_table.get(arm, voice)
        chosen = self.voice_table.get(f"{self.language}/{arm}") or LANGUAGE_VOICES.get(self.language, {}).get(arm)
        chosen = chosen or voice
        spoken = str(chosen).split("/")[-1].split("+")[0].split("-")[0].lower()
        if spoken != self.language:
            raise ProviderError(
                f"espeak: voice {chosen!r} (for {voice!r}) does not speak the channel's language {self.language!r}"
            )
        return chosen

    def synthesize(self, text: str, voice: str, out_path: Path) -> Voiceover:
        out_path = Path(out_path)
        if not isinstance(text, str) or not text.strip():
            raise ProviderError(f"espeak: nothing to say for {out_path.name} (text {text!r})")
        with _LOCK:
            engine = _engine()
            voice_arg = engine.resolve(self.provider_voice(voice))
            capture = engine.synthesize(text, voice_arg, self.rate_wpm)
            sample_rate = engine.sample_rate
        pcm = bytes(capture.pcm)
        if not pcm:
            raise ProviderError(f"espeak: voice {voice!r} produced no audio for {text[:60]!r}")
        duration_s = len(pcm) / 2 / sample_rate
        voiced_end_s = _voiced_end_s(pcm, sample_rate)
        words = _timings(text, capture.events, voiced_end_s, duration_s)
        _write_wav_atomically(out_path, pcm, sample_rate)
        return Voiceover(
            audio_path=out_path,
            duration_s=duration_s,
            sample_rate=sample_rate,
            voice=voice,
            words=words,
        )

    def __repr__(self) -> str:
        return f"EspeakVoice(rate_wpm={self.rate_wpm})"


def _write_wav_atomically(out_path: Path, pcm: bytes, sample_rate: int) -> None:
    """A 16-bit mono WAV at out_path, or nothing new there."""
    if sys.byteorder == "big":  # espeak hands over native shorts; WAV is little-endian
        samples = array("h")
        samples.frombytes(pcm)
        samples.byteswap()
        pcm = samples.tobytes()
    write_wav(out_path, pcm, sample_rate, "espeak")
