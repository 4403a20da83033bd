"""Configuration: defaults that need nothing, and bad values rejected with the variable named."""

import json

import pytest

from shorts_assets.settings import ConfigError, load_settings


def test_nothing_set_gives_the_embedded_default(tmp_path):
    settings = load_settings({"SHORTS_DATA_DIR": str(tmp_path)})
    assert [c.name for c in settings.channels] == ["demo"]
    assert settings.database_url == f"sqlite:///{tmp_path / 'shorts.db'}"
    assert (settings.script_provider, settings.video_gen_provider, settings.tts_provider) == ("template", "stub", "espeak")
    assert settings.renderer_provider == "ffmpeg"
    assert settings.simulation


def test_channels_from_a_list():
    settings = load_settings({"SHORTS_CHANNELS": "demo, cooking"})
    assert [c.name for c in settings.channels] == ["demo", "cooking"]
    assert settings.channels[0].audience_seed != settings.channels[1].audience_seed


def test_channels_from_a_file(tmp_path):
    path = tmp_path / "channels.json"
    path.write_text(json.dumps({"channels": [{"name": "space-facts", "videos_per_day": 2, "topics": ["space"]}]}))
    (channel,) = load_settings({"SHORTS_CHANNELS_FILE": str(path)}).channels
    assert (channel.name, channel.videos_per_day, channel.topics) == ("space-facts", 2, ("space",))
    assert channel.arm_space()["topic"] == ("space",)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SHORTS_CHANNELS": "Demo Channel"}, "SHORTS_CHANNELS"),
        ({"SHORTS_CHANNELS": "demo,demo"}, "SHORTS_CHANNELS"),
        ({"SHORTS_CHANNELS": "a|b"}, "SHORTS_CHANNELS"),
        ({"SHORTS_CHANNELS": "demo", "SHORTS_CHANNELS_FILE": "x.json"}, "SHORTS_CHANNELS_FILE"),
        ({"SHORTS_CHANNELS_FILE": "/nonexistent/channels.json"}, "SHORTS_CHANNELS_FILE"),
        ({"VIDEO_GEN_PROVIDER": "sora2"}, "VIDEO_GEN_PROVIDER"),
        ({"SCRIPT_PROVIDER": "gpt"}, "SCRIPT_PROVIDER"),
        ({"TTS_PROVIDER": "polly"}, "TTS_PROVIDER"),
        ({"RENDERER_PROVIDER": "moviepy"}, "RENDERER_PROVIDER"),
        ({"VIDEO_GEN_PROVIDER": "runway"}, "RUNWAYML_API_SECRET"),
        ({"SCRIPT_PROVIDER": "anthropic"}, "ANTHROPIC_API_KEY"),
        ({"TTS_PROVIDER": "elevenlabs"}, "ELEVENLABS_API_KEY"),
        ({"PUBLISHER_YOUTUBE": "true"}, "YOUTUBE_REFRESH_TOKEN"),
        ({"PUBLISHER_TIKTOK": "yes please"}, "PUBLISHER_TIKTOK"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        ({"DATABASE_URL": "shorts.db"}, "DATABASE_URL"),
        ({"SHORTS_START_DATE": "yesterday"}, "SHORTS_START_DATE"),
        ({"SIM_PUBLISH_REJECT_RATE": "2"}, "SIM_PUBLISH_REJECT_RATE"),
    ],
)
def test_bad_values_name_their_variable(env, named):
    with pytest.raises(ConfigError, match=named):
        load_settings(env)


@pytest.mark.parametrize(
    "document",
    [
        "not json",
        json.dumps({"channels": []}),
        json.dumps({"channels": [{"name": "demo", "videos_per_day": 0}]}),
        json.dumps({"channels": [{"name": "demo", "topics": ["cats"]}]}),
        json.dumps({"channels": [{"name": "demo", "platforms": ["myspace"]}]}),
        json.dumps({"channels": [{"name": "demo", "exploration": 1.5}]}),
        json.dumps({"channels": [{"name": "demo", "colour": "red"}]}),
    ],
)
def test_malformed_channel_files_are_refused(tmp_path, document):
    path = tmp_path / "channels.json"
    path.write_text(document)
    with pytest.raises(ConfigError, match="SHORTS_CHANNELS_FILE"):
        load_settings({"SHORTS_CHANNELS_FILE": str(path)})


def test_a_real_provider_with_its_key_is_still_refused_until_its_adapter_exists():
    with pytest.raises(ConfigError, match="no runway adapter"):
        load_settings({"VIDEO_GEN_PROVIDER": "runway", "RUNWAYML_API_SECRET": "secret-value"})


def test_errors_never_echo_a_secret():
    try:
        load_settings({"VIDEO_GEN_PROVIDER": "runway", "RUNWAYML_API_SECRET": "sk-very-secret"})
    except ConfigError as exc:
        assert "sk-very-secret" not in str(exc)


def test_a_publisher_with_its_credentials_is_switched_on_and_a_channel_may_have_its_own():
    env = {"PUBLISHER_YOUTUBE": "true", "YOUTUBE_CLIENT_ID": "id", "YOUTUBE_CLIENT_SECRET": "s",
           "SHORTS_CHANNELS": "demo,cooking", "YOUTUBE_REFRESH_TOKEN_DEMO": "r1", "YOUTUBE_REFRESH_TOKEN_COOKING": "r2"}
    assert load_settings(env).real_publishers == ("youtube",)
    assert not load_settings(env).simulation
    del env["YOUTUBE_REFRESH_TOKEN_COOKING"]
    with pytest.raises(ConfigError, match="YOUTUBE_REFRESH_TOKEN_COOKING.*channel cooking"):
        load_settings(env)


def test_base_urls_are_checked_and_kept():
    settings = load_settings({"TIKTOK_API_BASE_URL": "http://127.0.0.1:8080/"})
    assert settings.base_urls == {"TIKTOK_API_BASE_URL": "http://127.0.0.1:8080"}
    with pytest.raises(ConfigError, match="INSTAGRAM_GRAPH_BASE_URL"):
        load_settings({"INSTAGRAM_GRAPH_BASE_URL": "graph.facebook.com"})


def test_the_render_profile_is_final_or_draft():
    assert load_settings({"RENDER_PROFILE": "draft"}).render_profile == "draft"
    with pytest.raises(ConfigError, match="RENDER_PROFILE"):
        load_settings({"RENDER_PROFILE": "4k"})
