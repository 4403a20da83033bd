"""The provider registry: one row per provider, from which settings, estimates and adapters are built."""

import pytest

from shorts_assets.core.errors import ProviderError
from shorts_assets.providers.registry import SEAMS, base_url_variables, build, spec
from shorts_assets.providers.render.ffmpeg import FfmpegRenderer
from shorts_assets.providers.writers.llm import OpenAIScriptWriter


def test_the_cloud_renderer_is_not_built_without_its_key():
    with pytest.raises(ProviderError, match="CREATOMATE_API_KEY is not set for channel demo"):
        build("renderer", "cloud", "demo", {}, media_base_url="https://cdn.example.com")


def test_every_seam_has_its_default_provider_and_it_needs_no_key():
    for seam in SEAMS.values():
        if seam.name == "platform":
            continue
        assert seam.default in seam.providers, seam.name
        assert not spec(seam.name, seam.default).keys


def test_a_channel_key_wins_over_the_default_one_and_the_base_url_reaches_the_adapter():
    env = {"OPENAI_API_KEY": "sk-default", "OPENAI_API_KEY_COOKING": "sk-cooking"}
    with build("script", "openai", "cooking", env, base_urls={"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}) as writer:
        assert isinstance(writer, OpenAIScriptWriter)
        assert writer.name == "openai"
        assert writer.model == "gpt-4.1-mini"  # the row's default model
        assert "sk-cooking" not in writer.http.redact("key sk-cooking")  # it holds the channel's key
        assert "sk-default" in writer.http.redact("key sk-default")
        assert writer.base_url == "http://127.0.0.1:9/v1"


def test_an_unknown_provider_names_its_variable_and_the_known_ones():
    with pytest.raises(ProviderError, match=r"VIDEO_GEN_PROVIDER='veo'.*stub, openai_sora, runway, luma, pika"):
        build("video", "veo", "demo", {})


def test_offline_adapters_are_named_context_managers():
    with build("renderer", "ffmpeg", "demo", {}, profile="draft") as renderer:
        assert isinstance(renderer, FfmpegRenderer) and renderer.name == "ffmpeg"


def test_every_base_url_variable_is_declared_once():
    variables = base_url_variables()
    assert len(variables) == len(set(variables))
    assert {"OPENAI_BASE_URL", "GOOGLE_OAUTH_TOKEN_URL", "CREATOMATE_API_BASE_URL"} <= set(variables)


def test_free_providers_need_no_key_and_cost_nothing():
    for seam, name in [("script", "ollama"), ("voice", "edge"), ("voice", "espeak"), ("script", "template")]:
        assert not spec(seam, name).keys and not spec(seam, name).paid
    assert {"OLLAMA_BASE_URL", "EDGE_TTS_BASE_URL"} <= set(base_url_variables())


def test_the_ollama_writer_and_the_edge_voice_are_built_from_their_rows():
    with build("script", "ollama", "demo", {}, base_urls={"OLLAMA_BASE_URL": "http://127.0.0.1:9"}) as writer:
        assert writer.name == "ollama" and writer.model == "llama3.2"
    with build("voice", "edge", "demo", {}) as voice:
        assert voice.name == "edge"


def test_a_comma_separated_video_provider_is_a_chain_of_registry_rows():
    from shorts_assets.providers.registry import build_video, video_members

    assert video_members(" library , pexels,stub ") == ["library", "pexels", "stub"]
    with pytest.raises(ProviderError, match="names a provider twice"):
        video_members("stub,stub")
    with pytest.raises(ProviderError, match="VIDEO_GEN_PROVIDER='veo'"):
        video_members("library,veo")
    with pytest.raises(ProviderError, match="PEXELS_API_KEY is not set for channel demo"):
        build_video("library,pexels", "demo", {}, media_library="/nonexistent")
    with build_video("stub", "demo", {}) as single:
        assert single.name == "stub"


def test_stock_rows_are_keyed_but_free_and_stills_are_priced_per_image():
    assert spec("video", "pexels").keys == ("PEXELS_API_KEY",) and not spec("video", "pexels").paid
    assert spec("video", "openai_images").paid and spec("video", "openai_images").per_image
