"""Microsoft Edge's neural voices against a fake of the service that speaks its WebSocket protocol on a real
socket and answers with real speech.

What the adapter promises (the `Voice` seam): a real 16-bit mono WAV at ``out_path``, whole or not at
all, with every word of the text timed from the service's word boundaries; the request Edge itself
sends (query, headers, speech.config, one-voice SSML with the rate and pitch asked for); the voice
chosen per voice arm and per language; and each of the service's silent failures (a dropped
connection, a turn with no audio, audio cut short, throttling, a voice it lacks, a stale token)
retried or turned into a clear error naming the voiceover. The fake is first shown to be the service
as the edge-tts client knows it: that client, pointed at it, hears audio and word boundaries.
"""

from __future__ import annotations

import asyncio
import socket
import wave
from pathlib import Path

import edge_tts
import edge_tts.communicate
import pytest
from edge_tts.drm import DRM

from shorts_assets.core.errors import ProviderError
from shorts_assets.fakes.edge_server import FakeEdgeTTS
from shorts_assets.providers.voices.alignment import words_of
from shorts_assets.providers.voices.edge import (
    Boundary,
    EdgeVoice,
    long_voice_name,
    parse_binary_frame,
    text_pieces,
    word_timings,
)
from shorts_assets_tests.helpers import Sleeps

TEXT = "Did you know octopuses have three hearts? Two pump blood to the gills, one to the body."


@pytest.fixture(autouse=True)
def true_clock():
    """The clock-skew correction is process-wide (it is edge-tts's); every test starts and ends without one."""
    DRM.clock_skew_seconds = 0.0
    yield
    DRM.clock_skew_seconds = 0.0


@pytest.fixture
def edge():
    with FakeEdgeTTS() as fake:
        yield fake


def voice(fake: FakeEdgeTTS, sleeps: Sleeps | None = None, **kwargs) -> EdgeVoice:
    return EdgeVoice(base_url=fake.base_url, sleep=Sleeps() if sleeps is None else sleeps, **kwargs)


def out(tmp_path: Path) -> Path:
    return tmp_path / "vid-1" / "voiceover.wav"


def wav_facts(path: Path) -> tuple[int, int, int, float]:
    with wave.open(str(path), "rb") as wav:
        return wav.getnchannels(), wav.getsampwidth(), wav.getframerate(), wav.getnframes() / wav.getframerate()


def sent_starts(fake: FakeEdgeTTS) -> list[float]:
    return [entry["Data"]["Offset"] / 10_000_000 for turn in fake.turns for entry in turn.boundaries]


def assert_in_order(words, duration_s: float) -> None:
    previous_end = 0.0
    for word in words:
        assert previous_end <= word.start_s <= word.end_s <= duration_s
        previous_end = word.end_s


# --- the fake is the service the reference client knows ---------------------------------------------


def test_the_edge_tts_client_pointed_at_the_fake_hears_audio_and_word_boundaries(edge, monkeypatch):
    monkeypatch.setattr(
        edge_tts.communicate,
        "WSS_URL",
        f"ws://127.0.0.1:{edge.port}/consumer/speech/synthesize/readaloud/edge/v1"
        f"?TrustedClientToken={edge_tts.constants.TRUSTED_CLIENT_TOKEN}",
    )

    async def listen() -> list[dict]:
        client = edge_tts.Communicate(TEXT, "en-GB-RyanNeural", rate="+10%", boundary="WordBoundary")
        return [chunk async for chunk in client.stream()]

    chunks = asyncio.run(listen())

    assert edge.rejections == []
    assert sum(len(c["data"]) for c in chunks if c["type"] == "audio") == edge.turns[0].audio_bytes > 10_000
    assert [c["text"] for c in chunks if c["type"] == "WordBoundary"] == [w.text for w in words_of(TEXT)]
    assert edge.turns[0].voice == "en-GB-RyanNeural" and edge.turns[0].prosody["rate"] == "+10%"


# --- speech and its timings --------------------------------------------------------------------------


def test_the_narration_is_a_real_wav_with_every_word_timed_by_the_services_word_boundaries(edge, tmp_path):
    vo = voice(edge).synthesize(TEXT, "en-us", out(tmp_path))

    channels, width, rate, seconds = wav_facts(out(tmp_path))
    assert (channels, width, rate) == (1, 2, 24_000)
    assert vo.duration_s == pytest.approx(seconds) and vo.duration_s > 2.0
    assert vo.voice == "en-us" and vo.sample_rate == 24_000
    assert [w.word for w in vo.words] == [w.text for w in words_of(TEXT)]
    assert [w.start_s for w in vo.words] == pytest.approx(sent_starts(edge), abs=1e-3)
    assert_in_order(vo.words, vo.duration_s)


def test_the_request_is_the_one_edge_sends(edge, tmp_path):
    voice(edge).synthesize("A & B <are> friends.", "en-us", out(tmp_path))

    assert edge.rejections == []
    (handshake,) = edge.handshakes
    assert handshake.status == 101
    assert set(handshake.query) == {"TrustedClientToken", "ConnectionId", "Sec-MS-GEC", "Sec-MS-GEC-Version"}
    assert handshake.headers["Origin"] == "chrome-extension://jdiccldimpdaibmpdkjnbmckianbfold"
    (turn,) = edge.turns
    options = turn.config["context"]["synthesis"]["audio"]["metadataoptions"]
    assert options == {"sentenceBoundaryEnabled": "false", "wordBoundaryEnabled": "true"}
    assert turn.voice == "en-US-AriaNeural"
    assert turn.prosody == {"rate": "+0%", "pitch": "+0Hz", "volume": "+0%"}
    assert turn.text == "A & B <are> friends."  # escaped in the SSML, whole after parsing


def test_rate_and_pitch_go_into_the_prosody_and_a_faster_rate_speaks_faster(edge, tmp_path):
    fast = voice(edge, rate="+50%", pitch="-5Hz").synthesize(TEXT, "en-us", tmp_path / "a" / "fast.wav")
    slow = voice(edge, rate="-30%", volume="-10%").synthesize(TEXT, "en-us", tmp_path / "b" / "slow.wav")

    assert edge.turns[0].prosody == {"rate": "+50%", "pitch": "-5Hz", "volume": "+0%"}
    assert edge.turns[1].prosody == {"rate": "-30%", "pitch": "+0Hz", "volume": "-10%"}
    assert fast.duration_s < 0.8 * slow.duration_s


def test_a_long_narration_is_spoken_in_pieces_each_on_a_new_connection_and_timed_across_them(edge, tmp_path):
    text = " ".join([TEXT] * 4)
    vo = voice(edge, max_chunk_bytes=120).synthesize(text, "en-us", out(tmp_path))

    assert len(edge.turns) == len(text_pieces(text, 120)) >= 3
    assert all(len(turn.text.encode()) <= 120 for turn in edge.turns)
    assert len({h.query["ConnectionId"] for h in edge.handshakes}) == len(edge.turns)
    assert " ".join(turn.text for turn in edge.turns) == text
    assert [w.word for w in vo.words] == [w.text for w in words_of(text)]
    assert_in_order(vo.words, vo.duration_s)
    # The first word of the second piece starts after all the audio of the first piece.
    first_piece_words = len(words_of(edge.turns[0].text))
    assert vo.words[first_piece_words].start_s > vo.words[first_piece_words - 1].end_s - 1e-3
    assert vo.words[first_piece_words].start_s > 0.8 * vo.duration_s / len(edge.turns)


def test_a_script_written_without_spaces_is_split_at_the_word_boundaries(edge, tmp_path):
    text = "日本語の文です。東京は大きい。"
    vo = voice(edge, language="ja").synthesize(text, "en-us", out(tmp_path))

    assert edge.turns[0].voice == "ja-JP-NanamiNeural"
    assert len(vo.words) > 3
    assert "".join(w.word for w in vo.words) == text.rstrip("。")
    assert vo.words[3].word.endswith("。")  # a sentence end stays on its word, where captions break lines
    assert_in_order(vo.words, vo.duration_s)


def test_a_boundary_spanning_several_words_shares_its_time_among_them():
    words = word_timings("Hello New York.", [Boundary("Hello", 0.0, 0.5), Boundary("New York", 0.5, 1.3)], 2.0)

    assert [(w.word, w.start_s, w.end_s) for w in words] == [
        ("Hello", 0.0, 0.5),
        ("New", 0.5, 0.8),
        ("York", 0.9, 1.3),
    ]


def test_words_the_service_gave_no_boundary_share_the_time_between_their_neighbours():
    text = "It is 100% true, really."
    boundaries = [
        Boundary("It", 0.1, 0.2),
        Boundary("is", 0.2, 0.4),
        Boundary("one hundred percent", 0.4, 1.0),  # rewritten: not in the text
        Boundary("TRUE", 1.0, 1.3),
        Boundary(",", 1.3, 1.3),
        Boundary("really", 1.4, 1.9),
    ]
    words = word_timings(text, boundaries, 2.0)

    assert [(w.word, w.start_s, w.end_s) for w in words] == [
        ("It", 0.1, 0.2),
        ("is", 0.2, 0.4),
        ("100%", 0.4, 1.0),
        ("true", 1.0, 1.3),
        ("really", 1.4, 1.9),
    ]


# --- voices per arm and per language -------------------------------------------------------------


def test_the_voice_follows_the_arm_and_the_channels_language(edge, tmp_path):
    voice(edge).synthesize(TEXT, "en-gb", tmp_path / "1" / "v.wav")
    voice(edge, language="es").synthesize("Hola a todos.", "en-us", tmp_path / "2" / "v.wav")
    voice(edge, language="es", voices={"es/en-gb": "es-ES-AlvaroNeural"}).synthesize(
        "Hola a todos.", "en-gb", tmp_path / "3" / "v.wav"
    )
    voice(edge, language="pt-br").synthesize("Olá a todos.", "en-us", tmp_path / "4" / "v.wav")
    voice(edge, language="en").synthesize(TEXT, "en-gb", tmp_path / "5" / "v.wav")
    voice(edge).synthesize("Bonjour à tous.", "fr-FR-HenriNeural", tmp_path / "6" / "v.wav")

    assert [t.voice for t in edge.turns] == [
        "en-GB-SoniaNeural",
        "es-ES-ElviraNeural",
        "es-ES-AlvaroNeural",
        "pt-BR-FranciscaNeural",
        "en-GB-SoniaNeural",
        "fr-FR-HenriNeural",
    ]
    for language, expected in (("de", "de-DE"), ("hi", "hi-IN"), ("ja", "ja-JP"), ("fr", "fr-FR")):
        assert EdgeVoice(language=language).provider_voice("en-us").startswith(expected)


def test_a_language_with_no_voice_fails_naming_the_language_and_the_video_before_anything_is_sent(edge, tmp_path):
    with pytest.raises(ProviderError) as info:
        voice(edge, language="ko").synthesize("안녕하세요.", "en-us", out(tmp_path))

    message = str(info.value)
    assert "'ko'" in message and "vid-1/voiceover.wav" in message and "voices" in message
    assert edge.handshakes == []
    assert not out(tmp_path).exists()


def test_a_voice_the_service_does_not_have_fails_naming_it_and_the_video(edge, tmp_path):
    sleeps = Sleeps()
    narrator = voice(edge, sleeps, voices={"en-us": "en-US-NobodyNeural"}, attempts=2)
    with pytest.raises(ProviderError) as info:
        narrator.synthesize(TEXT, "en-us", out(tmp_path))

    message = str(info.value)
    assert "en-US-NobodyNeural" in message and "vid-1/voiceover.wav" in message
    assert "before any audio" in message and "gave up after 2 attempts" in message
    assert edge.rejections == ["ssml: voice en-US-NobodyNeural does not exist"] * 2
    assert not out(tmp_path).exists()


def test_options_that_are_not_in_the_services_forms_are_refused_naming_them():
    for kwargs, named in (
        ({"rate": "fast"}, "rate"),
        ({"pitch": "+5%"}, "pitch"),
        ({"volume": "10%"}, "volume"),
        ({"voices": {"en-us": "Aria"}}, "'Aria' for 'en-us'"),
        ({"language": "Spanish"}, "language"),
        ({"base_url": "ftp://example.com"}, "base_url"),
    ):
        with pytest.raises(ValueError, match=named):
            EdgeVoice(**kwargs)
    assert long_voice_name("zh-CN-liaoning-XiaobeiNeural") == (
        "Microsoft Server Speech Text to Speech Voice (zh-CN-liaoning, XiaobeiNeural)"
    )


# --- the service's failures ----------------------------------------------------------------------


def test_a_connection_dropped_mid_stream_is_spoken_again_on_a_new_one(edge, tmp_path):
    sleeps = Sleeps()
    edge.inject("drop_mid_stream")
    vo = voice(edge, sleeps).synthesize(TEXT, "en-us", out(tmp_path))

    assert len(edge.handshakes) == 2 and sleeps == [2.0]
    assert edge.turns[0].audio_bytes < edge.turns[1].audio_bytes
    assert wav_facts(out(tmp_path))[3] == pytest.approx(vo.duration_s)
    assert [w.word for w in vo.words] == [w.text for w in words_of(TEXT)]


def test_failures_that_persist_leave_no_half_written_file_and_name_the_video(edge, tmp_path):
    target = out(tmp_path)
    target.parent.mkdir(parents=True)
    target.write_bytes(b"the previous narration")
    for fault, expected in (
        ("drop_mid_stream", "dropped mid-stream"),
        ("no_audio", "the turn ended with no audio"),
        ("truncated", "stops before its last word boundary"),
        ("throttle", "throttled: HTTP 429 at the handshake"),
        ("busy", "HTTP 503 at the handshake"),
    ):
        sleeps = Sleeps()
        edge.inject(fault, fault, fault)
        with pytest.raises(ProviderError) as info:
            voice(edge, sleeps).synthesize(TEXT, "en-us", target)
        message = str(info.value)
        assert message.startswith("edge voiceover vid-1/voiceover.wav: voice en-US-AriaNeural: gave up after 3")
        assert expected in message
        assert sleeps == [2.0, 4.0]
        assert target.read_bytes() == b"the previous narration"
        assert sorted(p.name for p in target.parent.iterdir()) == ["voiceover.wav"]


@pytest.mark.parametrize("fault", ["no_audio", "truncated", "throttle"])
def test_a_passing_failure_is_retried_with_backoff(edge, tmp_path, fault):
    sleeps = Sleeps()
    edge.inject(fault)
    vo = voice(edge, sleeps).synthesize(TEXT, "en-us", out(tmp_path))

    assert sleeps == [2.0] and len(edge.handshakes) == 2
    assert vo.words[-1].word == "body"


def test_a_service_that_goes_silent_mid_turn_is_given_up_on_after_the_receive_timeout(edge, tmp_path):
    sleeps = Sleeps()
    edge.inject("stall", "stall")
    with pytest.raises(ProviderError) as info:
        voice(edge, sleeps, attempts=2, receive_timeout_s=0.3).synthesize(TEXT, "en-us", out(tmp_path))

    assert "vid-1/voiceover.wav" in str(info.value) and "went silent for 0.3 s" in str(info.value)
    assert len(edge.handshakes) == 2 and sleeps == [2.0]
    assert not out(tmp_path).exists()


def test_a_skewed_clock_is_corrected_from_the_services_date_once(tmp_path):
    with FakeEdgeTTS(clock_offset_s=3600.0) as edge:
        vo = voice(edge).synthesize(TEXT, "en-us", out(tmp_path))

    assert [h.status for h in edge.handshakes] == [403, 101]
    assert edge.rejections == ["handshake: Sec-MS-GEC is stale or not for this time"]
    assert DRM.clock_skew_seconds == pytest.approx(3600.0, abs=5.0)
    assert vo.duration_s > 2.0


def test_a_403_that_persists_after_the_clock_is_corrected_asks_for_a_newer_edge_tts(edge, tmp_path):
    edge.inject("forbidden", "forbidden")
    with pytest.raises(ProviderError) as info:
        voice(edge).synthesize(TEXT, "en-us", out(tmp_path))

    message = str(info.value)
    assert "vid-1/voiceover.wav" in message and "HTTP 403" in message and "upgrade edge-tts" in message
    assert len(edge.handshakes) == 2
    assert not out(tmp_path).exists()


def test_a_service_that_is_down_fails_after_the_retries_naming_the_video(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps = Sleeps()
    narrator = EdgeVoice(base_url=f"http://127.0.0.1:{port}/consumer", attempts=2, sleep=sleeps)
    with pytest.raises(ProviderError, match=r"vid-1/voiceover.wav: .*gave up after 2 attempts; last: network error"):
        narrator.synthesize(TEXT, "en-us", out(tmp_path))
    assert sleeps == [2.0]


def test_a_binary_frame_whose_header_runs_past_its_end_is_refused():
    header = b"Path:audio\r\n"
    assert parse_binary_frame(len(header).to_bytes(2, "big") + header + b"mp3") == ({"Path": "audio"}, b"mp3")
    with pytest.raises(ValueError, match="runs past its end"):
        parse_binary_frame((400).to_bytes(2, "big") + header)


def test_a_channel_language_picks_its_edge_voice_and_refuses_one_of_another_language(edge, tmp_path: Path) -> None:
    spanish = voice(edge, language="es")
    assert spanish.provider_voice("en-us") == "es-ES-ElviraNeural"
    assert voice(edge, language="es", voices={"es/en-us": "es-MX-DaliaNeural"}).provider_voice("en-us") == (
        "es-MX-DaliaNeural"
    )
    wrong = voice(edge, language="ja", voices={"ja/en-us": "en-US-GuyNeural"})
    with pytest.raises(ProviderError, match="en-US-GuyNeural .*does not speak the channel's language 'ja'"):
        wrong.synthesize("こんにちは", "en-us", out(tmp_path))
    assert not out(tmp_path).exists() and not edge.turns
    assert voice(edge, language="ja", voices={"ja/en-us": "en-US-EmmaMultilingualNeural"}).provider_voice("en-us")
