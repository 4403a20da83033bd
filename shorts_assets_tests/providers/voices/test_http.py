"""Paid narrators against fake OpenAI and ElevenLabs servers that answer with real speech.

What they promise (the `Voice` seam): a real 16-bit mono WAV at ``out_path``, written whole or not at
all, and a timing for every word of the text, in order and inside the audio. ElevenLabs' timings are
its character alignment's; OpenAI's are estimated from the audio and land close to where the words
really are. Rate limits and server errors are retried, a bad key or a rejected request is not, the
key never reaches an error or a log line, and a budget that cannot pay for a narration refuses
before anything is sent.
"""

from __future__ import annotations

import logging
import wave
from pathlib import Path

import pytest

from shorts_assets.core.errors import BudgetExhausted, ProviderError
from shorts_assets.core.state import MemoryStateStore
from shorts_assets.core.types import Voiceover
from shorts_assets.fakes.elevenlabs_server import FakeElevenLabs
from shorts_assets.fakes.openai_server import FakeOpenAI
from shorts_assets.fakes.server import FakeServer, Fault
from shorts_assets.providers.net.costs import Budget, BudgetExceeded
from shorts_assets.providers.net.http import RetryPolicy
from shorts_assets.providers.voices.alignment import timings_from_alignment, voiced_segments, words_of
from shorts_assets.providers.voices.http import DEFAULT_ELEVENLABS_VOICES, ElevenLabsVoice, OpenAIVoice
from shorts_assets_tests.helpers import Sleeps

POLICY = RetryPolicy(attempts=4, base_delay_s=1.0, max_delay_s=30.0)
TEXT = "Did you know octopuses have three hearts? Two pump blood to the gills, one to the body."
UNICODE_TEXT = "Café  déjà vu…  naïve 🚀 facts — 100% true!"
UNICODE_WORDS = ["Café", "déjà", "vu", "naïve", "facts", "100%", "true"]


@pytest.fixture
def openai():
    app = FakeOpenAI()
    with FakeServer(app) as server:
        yield app, server


@pytest.fixture
def eleven():
    app = FakeElevenLabs()
    with FakeServer(app) as server:
        yield app, server


def openai_voice(server, app, sleeps=None, **kwargs) -> OpenAIVoice:
    kwargs.setdefault("api_key", app.api_key)
    return OpenAIVoice(
        base_url=server.url + "/v1", retry=POLICY, sleep=Sleeps() if sleeps is None else sleeps, **kwargs
    )


def eleven_voice(server, app, sleeps=None, **kwargs) -> ElevenLabsVoice:
    kwargs.setdefault("api_key", app.api_key)
    return ElevenLabsVoice(base_url=server.url, retry=POLICY, sleep=Sleeps() if sleeps is None else sleeps, **kwargs)


def budget(limit: float | None = None) -> Budget:
    return Budget(MemoryStateStore(), "demo", daily_limit_usd=limit)


def out(tmp_path: Path) -> Path:
    return tmp_path / "vid-1" / "voiceover.wav"


def wav_facts(path: Path) -> tuple[int, int, int, float]:
    with wave.open(str(path), "rb") as wav:
        return wav.getnchannels(), wav.getsampwidth(), wav.getframerate(), wav.getnframes() / wav.getframerate()


def assert_well_timed(vo: Voiceover, text: str) -> None:
    """Every word of the text, once, in order, never going back in time, inside the audio."""
    assert [w.word for w in vo.words] == [w.text for w in words_of(text)]
    previous_end = 0.0
    for word in vo.words:
        assert previous_end <= word.start_s <= word.end_s <= vo.duration_s + 1e-9, word
        previous_end = word.end_s
    assert vo.words[-1].end_s > vo.duration_s * 0.5


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --- OpenAI --------------------------------------------------------------------------------------


def test_openai_writes_a_real_wav_and_times_the_words_from_the_audio(openai, tmp_path):
    app, server = openai
    spend = budget()
    vo = openai_voice(server, app, budget=spend).synthesize(TEXT, "en-us", out(tmp_path))

    ((body, spoken),) = app.speeches
    assert body == {"model": "gpt-4o-mini-tts", "input": TEXT, "voice": "coral", "response_format": "pcm"}
    assert vo.audio_path == out(tmp_path) and vo.voice == "en-us" and vo.sample_rate == 24_000
    assert wav_facts(vo.audio_path) == (1, 2, 24_000, pytest.approx(spoken.duration_s, abs=1e-3))
    assert vo.duration_s == pytest.approx(spoken.duration_s, abs=1e-3)
    assert 0.15 * len(vo.words) < vo.duration_s < 1.0 * len(vo.words)
    assert_well_timed(vo, TEXT)

    # The narrator's own word timings are the truth the estimate is held to.
    truth = spoken.words
    errors = [abs(est.start_s - real.start_s) for est, real in zip(vo.words, truth)]
    assert sum(errors) / len(errors) < 0.15 and max(errors) < 0.4
    sentence_start = [w.word for w in vo.words].index("Two")
    assert vo.words[sentence_start].start_s == pytest.approx(truth[sentence_start].start_s, abs=0.08)
    segments = voiced_segments(spoken.samples.tobytes(), spoken.rate)
    assert vo.words[0].start_s == pytest.approx(segments[0][0], abs=0.02)
    assert vo.words[-1].end_s == pytest.approx(segments[-1][1], abs=0.02)
    assert spend.spent_usd() == pytest.approx(len(TEXT) * 15 / 1e6, rel=0.01)


def test_openai_maps_voice_arms_with_overrides_and_refuses_an_unmapped_one(openai, tmp_path):
    app, server = openai
    narrator = openai_voice(server, app, voices={"en-gb": "sage"}, model="tts-1")
    narrator.synthesize("Hello there.", "en-gb", tmp_path / "a.wav")
    narrator.synthesize("Hello there.", "en-us", tmp_path / "b.wav")
    narrator.synthesize("Hello there.", "nova", tmp_path / "c.wav")
    assert [body["voice"] for body, _ in app.speeches] == ["sage", "coral", "nova"]
    with pytest.raises(ProviderError, match="'en-au'"):
        narrator.synthesize("Hello there.", "en-au", tmp_path / "d.wav")
    assert app.calls["speech"] == 3
    with pytest.raises(ValueError, match="marin"):
        OpenAIVoice(api_key=app.api_key, model="tts-1", voices={"en-us": "marin"})
    with pytest.raises(ValueError, match="instructions"):
        OpenAIVoice(api_key=app.api_key, model="tts-1", instructions="Speak warmly.")


@pytest.mark.parametrize("response_format", ["wav", "mp3"])
def test_openai_decodes_streamed_wav_and_compressed_audio(openai, tmp_path, response_format):
    app, server = openai
    vo = openai_voice(server, app, response_format=response_format, instructions="Calm and clear.").synthesize(
        "Three hearts, blue blood.", "en-gb", out(tmp_path)
    )
    ((body, spoken),) = app.speeches
    assert body["response_format"] == response_format and body["instructions"] == "Calm and clear."
    assert body["voice"] == "fable"
    channels, width, rate, duration = wav_facts(vo.audio_path)
    assert (channels, width, rate) == (1, 2, 24_000)
    # The streamed WAV's placeholder sizes are ignored; an MP3 gains a few ms of encoder padding.
    assert duration == pytest.approx(spoken.duration_s, abs=1e-3 if response_format == "wav" else 0.1)
    assert_well_timed(vo, "Three hearts, blue blood.")


def test_openai_retries_rate_limits_server_errors_and_dropped_connections(openai, tmp_path):
    app, server = openai
    sleeps, spend = Sleeps(), budget()
    app.inject(
        "speech",
        Fault.answer(
            429,
            {
                "error": {
                    "message": "Rate limit reached for requests",
                    "type": "requests",
                    "code": "rate_limit_exceeded",
                    "param": None,
                }
            },
            {"retry-after-ms": "1500", "x-ratelimit-remaining-requests": "0"},
        ),
        Fault.answer(
            503, {"error": {"message": "The server is overloaded", "type": "server_error", "code": None, "param": None}}
        ),
        Fault.drop_before(),
    )
    vo = openai_voice(server, app, sleeps, budget=spend).synthesize("Follow for more.", "en-us", out(tmp_path))
    assert app.calls["speech"] == 4 and len(app.speeches) == 1
    assert sleeps[0] == pytest.approx(1.5) and len(sleeps) == 3
    assert wav_facts(vo.audio_path)[3] > 0.3
    assert len(spend.state.namespace(Budget.LEDGER)) == 1  # one narration, one charge


def test_openai_bad_key_and_rejected_requests_fail_at_once_and_never_show_the_key(openai, tmp_path, caplog):
    app, server = openai
    caplog.set_level(logging.DEBUG)
    wrong = "sk-wrong-key-that-must-stay-secret-42"
    with pytest.raises(ProviderError) as info:
        openai_voice(server, app, api_key=wrong).synthesize(TEXT, "en-us", out(tmp_path))
    message = str(info.value)
    assert "401" in message and "vid-1/voiceover.wav" in message and "Incorrect API key" in message
    assert app.calls["speech"] == 1

    app.inject(
        "speech",
        Fault.answer(
            400,
            {
                "error": {
                    "message": "Invalid value for 'voice'.",
                    "type": "invalid_request_error",
                    "param": "voice",
                    "code": None,
                }
            },
        ),
    )
    with pytest.raises(ProviderError, match="Invalid value for 'voice'") as info:
        openai_voice(server, app).synthesize(TEXT, "en-us", out(tmp_path))
    assert app.calls["speech"] == 2 and "400" in str(info.value)

    app.inject(
        "speech",
        Fault.answer(
            429,
            {
                "error": {
                    "message": "You exceeded your current quota.",
                    "type": "insufficient_quota",
                    "code": "insufficient_quota",
                    "param": None,
                }
            },
        ),
    )
    with pytest.raises(BudgetExhausted, match="quota"):
        openai_voice(server, app).synthesize(TEXT, "en-us", out(tmp_path))
    assert app.calls["speech"] == 3

    with pytest.raises(ProviderError, match="4097 characters, over the 4096"):
        openai_voice(server, app).synthesize("a" * 4097, "en-us", out(tmp_path))
    assert app.calls["speech"] == 3
    assert wrong not in caplog.text and app.api_key not in caplog.text
    assert not out(tmp_path).exists()


def test_openai_refuses_before_any_request_when_the_budget_cannot_pay(openai, tmp_path):
    app, server = openai
    with pytest.raises(BudgetExceeded, match="vid-1/voiceover.wav"):
        openai_voice(server, app, budget=budget(0.0001)).synthesize(TEXT * 2, "en-us", out(tmp_path))
    assert app.calls["speech"] == 0 and not out(tmp_path).parent.exists()


def test_openai_leaves_no_half_written_file_when_the_answer_is_cut(openai, tmp_path):
    app, server = openai
    target = out(tmp_path)
    first = openai_voice(server, app).synthesize("An earlier take.", "en-us", target)
    before = target.read_bytes()
    app.inject("speech", *[Fault.drop_after()] * POLICY.attempts)
    with pytest.raises(ProviderError, match="gave up after 4 attempts"):
        openai_voice(server, app).synthesize(TEXT, "en-us", target)
    assert target.read_bytes() == before and first.audio_path == target
    assert leftovers(target.parent) == ["voiceover.wav"]


def test_openai_refuses_silence(openai, tmp_path):
    app, server = openai
    app.inject("speech", Fault.answer(200, b"\0" * 48_000, {"Content-Type": "audio/pcm"}))
    with pytest.raises(ProviderError, match=r"vid-1/voiceover.wav: the audio \(1.00 s\) holds no speech"):
        openai_voice(server, app).synthesize(TEXT, "en-us", out(tmp_path))
    assert not out(tmp_path).parent.exists()


def test_openai_times_unicode_and_emoji_text(openai, tmp_path):
    app, server = openai
    vo = openai_voice(server, app).synthesize(UNICODE_TEXT, "en-us", out(tmp_path))
    assert [w.word for w in vo.words] == UNICODE_WORDS
    assert_well_timed(vo, UNICODE_TEXT)


# --- ElevenLabs ----------------------------------------------------------------------------------


def alignment_words(text: str, alignment: dict) -> list[tuple[str, float, float]]:
    """Each word's (text, start of its first character, end of its last) read off the alignment."""
    starts, ends = alignment["character_start_times_seconds"], alignment["character_end_times_seconds"]
    return [(w.text, starts[w.start], ends[w.end - 1]) for w in words_of(text)]


def test_elevenlabs_writes_a_real_wav_with_the_alignments_word_timings(eleven, tmp_path):
    app, server = eleven
    spend = budget()
    vo = eleven_voice(server, app, budget=spend, seed=7).synthesize(TEXT, "en-gb", out(tmp_path))

    ((name, request),) = app.requests
    assert request.path == f"/v1/text-to-speech/{DEFAULT_ELEVENLABS_VOICES['en-gb']}/with-timestamps"
    assert request.query == {"output_format": "pcm_24000"}
    assert request.headers["xi-api-key"] == app.api_key
    assert request.json() == {"text": TEXT, "model_id": "eleven_multilingual_v2", "seed": 7}
    (spoken,) = app.spoken
    assert wav_facts(vo.audio_path) == (1, 2, 24_000, pytest.approx(spoken.duration_s, abs=1e-3))
    assert vo.sample_rate == 24_000 and vo.voice == "en-gb"
    assert_well_timed(vo, TEXT)
    expected = alignment_words(TEXT, app.answers[0]["alignment"])
    assert [(w.word, w.start_s, w.end_s) for w in vo.words] == [
        (word, pytest.approx(start, abs=1e-4), pytest.approx(end, abs=1e-4)) for word, start, end in expected
    ]
    assert spend.spent_usd() == pytest.approx(len(TEXT) * 100 / 1e6, rel=0.01)


def test_elevenlabs_aligns_unicode_emoji_and_repeated_spaces(eleven, tmp_path):
    app, server = eleven
    vo = eleven_voice(server, app).synthesize(UNICODE_TEXT, "en-us", out(tmp_path))
    assert [w.word for w in vo.words] == UNICODE_WORDS
    assert_well_timed(vo, UNICODE_TEXT)
    expected = alignment_words(UNICODE_TEXT, app.answers[0]["alignment"])
    assert [(w.start_s, w.end_s) for w in vo.words] == [
        (pytest.approx(s, abs=1e-4), pytest.approx(e, abs=1e-4)) for _, s, e in expected
    ]


def test_elevenlabs_falls_back_to_the_normalised_alignment_then_to_the_audio(eleven, tmp_path):
    app, server = eleven
    narrator = eleven_voice(server, app)
    app.alignment_mode = "normalized_only"
    vo = narrator.synthesize(TEXT, "en-us", tmp_path / "a.wav")
    normalized = app.answers[0]["normalized_alignment"]
    shifted = {key: values[1:-1] for key, values in normalized.items()}  # drop the added spaces
    assert [(w.start_s, w.end_s) for w in vo.words] == [
        (pytest.approx(s, abs=1e-4), pytest.approx(e, abs=1e-4)) for _, s, e in alignment_words(TEXT, shifted)
    ]
    app.alignment_mode = "none"
    vo = narrator.synthesize(TEXT, "en-us", tmp_path / "b.wav")
    assert_well_timed(vo, TEXT)
    errors = [abs(est.start_s - real.start_s) for est, real in zip(vo.words, app.spoken[1].words)]
    assert sum(errors) / len(errors) < 0.15


def test_elevenlabs_decodes_mp3(eleven, tmp_path):
    app, server = eleven
    vo = eleven_voice(server, app, output_format="mp3_44100_128", model="eleven_flash_v2_5").synthesize(
        "Three hearts, blue blood.", "en-us", out(tmp_path)
    )
    channels, width, rate, duration = wav_facts(vo.audio_path)
    assert (channels, width, rate) == (1, 2, 44_100)
    assert duration == pytest.approx(app.spoken[0].duration_s, abs=0.1)
    assert_well_timed(vo, "Three hearts, blue blood.")


def test_elevenlabs_retries_rate_limits_and_server_errors_honouring_retry_after(eleven, tmp_path):
    app, server = eleven
    sleeps = Sleeps()
    app.inject(
        "tts",
        Fault.answer(
            429,
            {"detail": {"status": "too_many_concurrent_requests", "message": "Too many concurrent requests."}},
            {"Retry-After": "2"},
        ),
        Fault.answer(500, {"detail": {"status": "internal_error", "message": "Something went wrong."}}),
        Fault.answer(429, {"detail": {"status": "system_busy", "message": "Try again."}}),
    )
    vo = eleven_voice(server, app, sleeps).synthesize("Follow for more.", "en-us", out(tmp_path))
    assert app.calls["tts"] == 4 and len(app.answers) == 1
    assert sleeps[0] == 2.0 and len(sleeps) == 3
    assert_well_timed(vo, "Follow for more.")


def test_elevenlabs_bad_key_and_rejected_requests_fail_at_once_and_never_show_the_key(eleven, tmp_path, caplog):
    app, server = eleven
    caplog.set_level(logging.DEBUG)
    wrong = "xi-wrong-key-that-must-stay-secret-42"
    with pytest.raises(ProviderError) as info:
        eleven_voice(server, app, api_key=wrong).synthesize(TEXT, "en-us", out(tmp_path))
    message = str(info.value)
    assert "HTTP 401" in message and "invalid_api_key" in message and "vid-1/voiceover.wav" in message
    assert wrong not in message and app.calls["tts"] == 1

    with pytest.raises(ProviderError, match="voice_not_found") as info:
        eleven_voice(server, app).synthesize(TEXT, "AAAAAAAAAAAAAAAAAAAA", out(tmp_path))
    assert "HTTP 404" in str(info.value) and app.calls["tts"] == 2

    app.inject(
        "tts",
        Fault.answer(
            422, {"detail": [{"type": "missing", "loc": ["body", "text"], "msg": "Field required", "input": {}}]}
        ),
    )
    with pytest.raises(ProviderError, match="validation failed: text: Field required"):
        eleven_voice(server, app).synthesize(TEXT, "en-us", out(tmp_path))
    assert app.calls["tts"] == 3

    with pytest.raises(ProviderError, match="'en-au'"):
        eleven_voice(server, app).synthesize(TEXT, "en-au", out(tmp_path))
    with pytest.raises(ProviderError, match="5001 characters, over the 5000 that eleven_v3"):
        eleven_voice(server, app, model="eleven_v3").synthesize("a" * 5001, "en-us", out(tmp_path))
    with pytest.raises(ValueError, match="output_format"):
        ElevenLabsVoice(api_key=app.api_key, output_format="pcm_96000")
    assert app.calls["tts"] == 3
    assert wrong not in caplog.text and app.api_key not in caplog.text
    assert not out(tmp_path).exists()


def test_elevenlabs_quota_exceeded_is_budget_exhaustion_and_not_retried(tmp_path):
    app = FakeElevenLabs(quota_characters=10)
    with FakeServer(app) as server:
        with pytest.raises(BudgetExhausted, match="quota_exceeded"):
            eleven_voice(server, app).synthesize(TEXT, "en-us", out(tmp_path))
    assert app.calls["tts"] == 1 and not out(tmp_path).exists()


def test_elevenlabs_refuses_before_any_request_when_the_budget_cannot_pay(eleven, tmp_path):
    app, server = eleven
    spend = budget(0.005)
    with pytest.raises(BudgetExceeded, match="refused before calling"):
        eleven_voice(server, app, budget=spend).synthesize(TEXT, "en-us", out(tmp_path))
    assert app.calls["tts"] == 0 and spend.spent_usd() == 0


def test_elevenlabs_malformed_or_cut_answers_leave_no_file(eleven, tmp_path):
    app, server = eleven
    target = out(tmp_path)
    app.inject("tts", Fault.answer(200, '{"audio_base64": "UklGR', {"Content-Type": "application/json"}))
    with pytest.raises(ProviderError, match="malformed JSON"):
        eleven_voice(server, app).synthesize(TEXT, "en-us", target)
    app.inject("tts", Fault.answer(200, {"audio_base64": "not base64!", "alignment": None}))
    with pytest.raises(ProviderError, match="not valid base64"):
        eleven_voice(server, app).synthesize(TEXT, "en-us", target)
    app.inject("tts", *[Fault.drop_after()] * POLICY.attempts)
    with pytest.raises(ProviderError, match="gave up"):
        eleven_voice(server, app).synthesize(TEXT, "en-us", target)
    assert leftovers(target.parent) == []


def test_alignment_entries_of_several_code_points_and_a_rewritten_text():
    # One entry per grapheme: the emoji with its skin tone is one entry of two code points.
    chars = ["H", "i", " ", "👋🏽", " ", "y", "o", "u"]
    starts = [0.0, 0.1, 0.2, 0.25, 0.5, 0.6, 0.7, 0.8]
    ends = [0.1, 0.2, 0.25, 0.5, 0.6, 0.7, 0.8, 0.9]
    words = timings_from_alignment("Hi 👋🏽 you", chars, starts, ends, 1.0)
    assert [(w.word, w.start_s, w.end_s) for w in words] == [("Hi", 0.0, 0.2), ("you", 0.6, 0.9)]

    # The service spoke "$5" as "five dollars": the word it cannot find shares its neighbours' gap.
    spoken = "It costs five dollars today."
    chars = list(spoken)
    starts = [i * 0.1 for i in range(len(chars))]
    ends = [t + 0.1 for t in starts]
    words = timings_from_alignment("It costs $5 today.", chars, starts, ends, 3.0)
    assert [w.word for w in words] == ["It", "costs", "$5", "today"]
    costs, price, today = words[1], words[2], words[3]
    assert costs.end_s == pytest.approx(0.8) and today.start_s == pytest.approx(2.2)
    assert price.start_s == pytest.approx(0.8) and price.end_s == pytest.approx(2.2)
