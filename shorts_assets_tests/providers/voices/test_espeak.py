"""Specifies the offline narrator, `EspeakVoice`, against the real bundled libespeak-ng.

What it promises (the `Voice` seam): `synthesize(text, voice, out_path)` writes a valid 16-bit
mono WAV at out_path with the sample rate it reports, audible and as long as the speech; its word
timings name every word of the text, in order, with non-decreasing, non-overlapping times inside
the audio, also for non-ASCII and punctuation-heavy text; the arm voices `en-us` and `en-gb` both
speak and sound different; an unknown voice or empty text is a ProviderError naming the input; a
failure never leaves a partial file (or temp file) behind, nor damages an earlier file.
"""

from __future__ import annotations

import math
import threading
import wave
from array import array
from pathlib import Path

import pytest

from shorts_assets.core.errors import ProviderError
from shorts_assets.core.protocols import Voice
from shorts_assets.core.types import Voiceover
from shorts_assets.providers.voices.espeak import EspeakVoice

SENTENCE = "Octopuses have three hearts, and two of them stop beating when they swim."
SENTENCE_WORDS = [
    "Octopuses", "have", "three", "hearts", "and", "two", "of", "them", "stop", "beating",
    "when", "they", "swim",
]  # fmt: skip

NON_ASCII = "Café naïve — 100% ‘quoted’: yes"
NON_ASCII_WORDS = ["Café", "naïve", "100%", "quoted", "yes"]


@pytest.fixture(scope="module")
def narrator() -> EspeakVoice:
    voice: Voice = EspeakVoice()  # satisfies the seam
    assert isinstance(voice, EspeakVoice)
    return voice


def read_wav(path: Path) -> tuple[wave._wave_params, array]:
    with wave.open(str(path), "rb") as wav:
        params = wav.getparams()
        samples = array("h")
        samples.frombytes(wav.readframes(params.nframes))
    return params, samples


def rms(samples: array) -> float:
    return math.sqrt(sum(s * s for s in samples) / max(1, len(samples)))


def assert_timings_sane(voiceover: Voiceover, expected_words: list[str]) -> None:
    words = voiceover.words
    assert [w.word for w in words] == expected_words
    previous_end = 0.0
    for w in words:
        assert 0.0 <= previous_end <= w.start_s <= w.end_s <= voiceover.duration_s, w
        previous_end = w.end_s
    assert words[0].start_s < 0.5
    # Real timings, not a placeholder: words take time and the speech spans most of the audio.
    assert sum(w.end_s > w.start_s for w in words) == len(words)
    assert words[-1].end_s > 0.7 * voiceover.duration_s


def test_a_sentence_becomes_a_valid_audible_wav(narrator: EspeakVoice, tmp_path: Path) -> None:
    out = tmp_path / "voice.wav"
    vo = narrator.synthesize(SENTENCE, "en-us", out)

    assert vo.audio_path == out and out.is_file()
    assert vo.voice == "en-us"
    assert vo.sample_rate == 22050
    params, samples = read_wav(out)
    assert (params.nchannels, params.sampwidth, params.framerate) == (1, 2, vo.sample_rate)
    assert params.nframes / params.framerate == pytest.approx(vo.duration_s, abs=1e-3)
    assert vo.duration_s > 1.0
    assert rms(samples) > 500  # full scale is 32767; silence is ~0
    assert list(tmp_path.iterdir()) == [out]  # no temp file left beside it


def test_word_timings_cover_every_word_in_order(narrator: EspeakVoice, tmp_path: Path) -> None:
    vo = narrator.synthesize(SENTENCE, "en-us", tmp_path / "voice.wav")
    assert_timings_sane(vo, SENTENCE_WORDS)


def test_word_timings_follow_the_speech(narrator: EspeakVoice, tmp_path: Path) -> None:
    """A long word takes longer than a short one: the times come from the synthesiser."""
    vo = narrator.synthesize("A a a extraordinarily a a.", "en-us", tmp_path / "voice.wav")
    spans = {w.word: w.end_s - w.start_s for w in vo.words}
    assert spans["extraordinarily"] > 2 * max(w.end_s - w.start_s for w in vo.words if w.word != "extraordinarily")


def test_a_longer_text_gives_longer_audio(narrator: EspeakVoice, tmp_path: Path) -> None:
    short = narrator.synthesize(SENTENCE, "en-us", tmp_path / "short.wav")
    long = narrator.synthesize(
        SENTENCE + " Their blood is blue because it carries copper instead of iron.",
        "en-us",
        tmp_path / "long.wav",
    )
    assert long.duration_s > short.duration_s + 1.0
    assert len(long.words) == len(short.words) + 11


def test_speaking_rate_changes_the_length(tmp_path: Path) -> None:
    slow = EspeakVoice(rate_wpm=120).synthesize(SENTENCE, "en-us", tmp_path / "slow.wav")
    fast = EspeakVoice(rate_wpm=300).synthesize(SENTENCE, "en-us", tmp_path / "fast.wav")
    assert fast.duration_s < 0.7 * slow.duration_s
    with pytest.raises(ValueError):
        EspeakVoice(rate_wpm=10)


def test_en_gb_and_en_us_both_speak_and_sound_different(narrator: EspeakVoice, tmp_path: Path) -> None:
    text = "Can you ask the team about the schedule? The tomato harvest was better this year."
    us = narrator.synthesize(text, "en-us", tmp_path / "us.wav")
    gb = narrator.synthesize(text, "en-gb", tmp_path / "gb.wav")
    us_again = narrator.synthesize(text, "en-us", tmp_path / "us2.wav")

    assert gb.voice == "en-gb"
    assert_timings_sane(us, text.replace("?", "").replace(".", "").split())
    assert_timings_sane(gb, text.replace("?", "").replace(".", "").split())
    us_rms, gb_rms, again_rms = (rms(read_wav(v.audio_path)[1]) for v in (us, gb, us_again))
    assert gb_rms > 500 and us_rms > 500
    # Repeats of one voice differ by a few samples at most; the two voices differ far more.
    noise = abs(us_rms - again_rms) / us_rms
    assert abs(us_rms - gb_rms) / us_rms > max(0.02, 5 * noise)


def test_other_espeak_voices_are_accepted(narrator: EspeakVoice, tmp_path: Path) -> None:
    for voice in ("en-gb-x-rp", "fr", "en-us+f3"):
        vo = narrator.synthesize("Bonjour, hello.", voice, tmp_path / f"{voice}.wav")
        assert vo.voice == voice and vo.duration_s > 0.3


@pytest.mark.parametrize("voice", ["xx-no-such-voice", "Alex", "en-us+no-such-variant", ""])
def test_an_unknown_voice_is_a_provider_error_naming_it(narrator: EspeakVoice, tmp_path: Path, voice: str) -> None:
    # "Alex" is only a variant: handed to the library bare, it crashes the process.
    out = tmp_path / "voice.wav"
    with pytest.raises(ProviderError, match=repr(voice).replace("+", r"\+")):
        narrator.synthesize(SENTENCE, voice, out)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("text", ["", "   \n\t "])
def test_empty_text_is_a_provider_error_naming_it(narrator: EspeakVoice, tmp_path: Path, text: str) -> None:
    out = tmp_path / "clip-7.wav"
    with pytest.raises(ProviderError) as raised:
        narrator.synthesize(text, "en-us", out)
    assert "clip-7.wav" in str(raised.value) and repr(text) in str(raised.value)
    assert list(tmp_path.iterdir()) == []


def test_non_ascii_text_gets_timings_for_its_words(narrator: EspeakVoice, tmp_path: Path) -> None:
    vo = narrator.synthesize(NON_ASCII, "en-us", tmp_path / "voice.wav")
    assert_timings_sane(vo, NON_ASCII_WORDS)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (
            'She said "wow": 50% off!\nNew line 🎉 here.',
            ["She", "said", "wow", "50%", "off", "New", "line", "here"],
        ),
        (
            "Mr. Smith met Dr. Jones at 10:30, i.e. early.",
            ["Mr", "Smith", "met", "Dr", "Jones", "at", "10:30", "i.e", "early"],
        ),
        (
            "Über straße — résumé… 3.14 & 1,000,000 <tag> [[x]] %s {0}",
            ["Über", "straße", "résumé", "3.14", "1,000,000", "tag", "x", "%s", "0"],
        ),
    ],
)
def test_awkward_text_does_not_crash(narrator: EspeakVoice, tmp_path: Path, text: str, words: list[str]) -> None:
    vo = narrator.synthesize(text, "en-gb", tmp_path / "voice.wav")
    assert vo.duration_s > 1.0
    assert_timings_sane(vo, words)


def test_text_of_only_symbols_speaks_with_no_words(narrator: EspeakVoice, tmp_path: Path) -> None:
    vo = narrator.synthesize("🎉", "en-us", tmp_path / "voice.wav")
    assert vo.words == () and vo.duration_s > 0.3


def test_a_failed_write_leaves_no_partial_file(
    narrator: EspeakVoice, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "voice.wav"
    out.write_bytes(b"the earlier voiceover")
    real_writeframes = wave.Wave_write.writeframes

    def write_half_then_fail(self: wave.Wave_write, data: bytes) -> None:
        real_writeframes(self, bytes(data)[: len(data) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(wave.Wave_write, "writeframes", write_half_then_fail)
    with pytest.raises(ProviderError, match="voice.wav"):
        narrator.synthesize(SENTENCE, "en-us", out)
    assert out.read_bytes() == b"the earlier voiceover"
    assert list(tmp_path.iterdir()) == [out]


def test_threads_share_the_library_safely(narrator: EspeakVoice, tmp_path: Path) -> None:
    results: dict[int, Voiceover] = {}
    errors: list[BaseException] = []

    def speak(i: int) -> None:
        try:
            voice = "en-us" if i % 2 else "en-gb"
            results[i] = narrator.synthesize(SENTENCE, voice, tmp_path / f"{i}.wav")
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=speak, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for i, vo in results.items():
        assert vo.voice == ("en-us" if i % 2 else "en-gb")
        assert_timings_sane(vo, SENTENCE_WORDS)
        assert read_wav(vo.audio_path)[0].nframes / vo.sample_rate == pytest.approx(vo.duration_s)


@pytest.mark.parametrize(
    ("language", "text"), [("es", "Los pulpos tienen tres corazones azules"), ("hi", "नमस्ते दुनिया")]
)
def test_a_channel_language_speaks_its_own_voice_with_word_timings(tmp_path: Path, language: str, text: str) -> None:
    spoken = EspeakVoice(language=language).synthesize(text, "en-us", tmp_path / "v.wav")

    assert spoken.duration_s > 0.5 and [w.word for w in spoken.words] == text.split()
    assert EspeakVoice(language="es").provider_voice("en-us") == "es-419"
    assert EspeakVoice(language="es").provider_voice("en-gb") == "es"


def test_a_mapped_voice_per_language_wins_and_one_of_another_language_fails(tmp_path: Path) -> None:
    assert EspeakVoice(language="es", voices={"es/en-us": "es-mx"}).provider_voice("en-us") == "es-mx"
    with pytest.raises(ProviderError, match="does not speak the channel's language 'ja'"):
        EspeakVoice(language="ja", voices={"ja/en-us": "fr"}).synthesize("こんにちは", "en-us", tmp_path / "v.wav")
    with pytest.raises(ProviderError, match="unknown voice 'es-nowhere'"):
        EspeakVoice(language="es", voices={"es/en-gb": "es-nowhere"}).synthesize("hola", "en-gb", tmp_path / "v.wav")
    assert not (tmp_path / "v.wav").exists()
