"""Configuration: defaults that need nothing, and bad values rejected with the variable named."""

import json

import pytest
from cryptography.fernet import Fernet

from shorts_assets.core.errors import ConfigError
from shorts_assets.settings import load_settings

KEY = Fernet.generate_key().decode()


def test_nothing_set_gives_the_embedded_default(tmp_path):
    settings = load_settings({"SHORTS_DATA_DIR": str(tmp_path)})
    assert [c.name for c in settings.channels] == ["demo"]
    assert settings.database_url == f"sqlite:///{tmp_path / 'shorts.db'}"
    assert (settings.script_provider, settings.video_gen_provider, settings.tts_provider) == (
        "template",
        "stub",
        "espeak",
    )
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
        ({"SCRIPT_CANDIDATES": "0"}, "SCRIPT_CANDIDATES"),
        ({"SCRIPT_CANDIDATES": "11"}, "SCRIPT_CANDIDATES"),
        ({"SCRIPT_CANDIDATES": "2.5"}, "SCRIPT_CANDIDATES"),
        ({"SCRIPT_CANDIDATES": "three"}, "SCRIPT_CANDIDATES"),
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


def test_a_paid_provider_needs_its_key_for_every_channel_and_a_channel_may_have_its_own():
    env = {"VIDEO_GEN_PROVIDER": "runway", "SHORTS_CHANNELS": "demo,cooking", "RUNWAYML_API_SECRET_DEMO": "k1"}
    with pytest.raises(ConfigError, match="RUNWAYML_API_SECRET_COOKING.*channel cooking"):
        load_settings(env)
    env["RUNWAYML_API_SECRET"] = "k0"
    assert load_settings(env).video_gen_provider == "runway"


def test_errors_never_echo_a_secret():
    env = {"VIDEO_GEN_PROVIDER": "runway", "RUNWAYML_API_SECRET": "sk-very-secret", "SHORTS_DAILY_BUDGET_USD": "lots"}
    with pytest.raises(ConfigError, match="SHORTS_DAILY_BUDGET_USD") as caught:
        load_settings(env)
    assert "sk-very-secret" not in str(caught.value)


def test_daily_budgets_default_per_channel_and_can_be_lifted_or_set_per_channel():
    assert load_settings({}).daily_budgets_usd == {"demo": 10.0}
    env = {
        "SHORTS_CHANNELS": "demo,cooking",
        "SHORTS_DAILY_BUDGET_USD": "2.5",
        "SHORTS_DAILY_BUDGET_USD_COOKING": "none",
    }
    assert load_settings(env).daily_budgets_usd == {"demo": 2.5}
    with pytest.raises(ConfigError, match="SHORTS_DAILY_BUDGET_USD_DEMO"):
        load_settings({"SHORTS_DAILY_BUDGET_USD_DEMO": "-1"})


def test_a_price_table_file_is_checked_when_the_settings_load(tmp_path):
    good = tmp_path / "prices.json"
    good.write_text(json.dumps({"tokens": {"gpt-4.1-mini": [0.4, 1.6]}, "seconds": {"veo3.1_fast": 0.15}}))
    assert load_settings({"SHORTS_PRICES_FILE": str(good)}).prices_file == str(good.resolve())
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"seconds": {"veo3.1_fast": -1}}))
    with pytest.raises(ConfigError, match="SHORTS_PRICES_FILE.*must not be negative"):
        load_settings({"SHORTS_PRICES_FILE": str(bad)})
    with pytest.raises(ConfigError, match="SHORTS_PRICES_FILE.*cannot be read"):
        load_settings({"SHORTS_PRICES_FILE": str(tmp_path / "missing.json")})


def test_model_and_api_choices_are_validated():
    settings = load_settings(
        {"SCRIPT_MODEL": "gpt-4.1", "OPENAI_SCRIPT_API": "chat", "VIDEO_GEN_POLL_INTERVAL_S": "0.5"}
    )
    assert (settings.script_model, settings.openai_script_api, settings.video_poll_interval_s) == (
        "gpt-4.1",
        "chat",
        0.5,
    )
    with pytest.raises(ConfigError, match="OPENAI_SCRIPT_API"):
        load_settings({"OPENAI_SCRIPT_API": "completions"})


def test_free_scripts_are_written_three_at_a_time_and_paid_ones_once_unless_set():
    assert load_settings({}).script_candidates == 3
    assert load_settings({"SCRIPT_PROVIDER": "openai", "OPENAI_API_KEY": "sk-test"}).script_candidates == 1
    assert (
        load_settings(
            {"SCRIPT_PROVIDER": "openai", "OPENAI_API_KEY": "sk-test", "SCRIPT_CANDIDATES": "4"}
        ).script_candidates
        == 4
    )
    assert load_settings({"SCRIPT_CANDIDATES": " 1 "}).script_candidates == 1
    assert load_settings({"SCRIPT_CANDIDATES": "10"}).script_candidates == 10


def test_the_resources_write_as_many_candidates_as_the_settings_ask():
    from shorts_assets.defs.resources import build_resources

    assert build_resources(load_settings({"SCRIPT_CANDIDATES": "5"}))["script_writer"].candidates == 5


def test_a_publisher_with_its_credentials_is_switched_on_and_a_channel_may_have_its_own():
    env = {
        "PUBLISHER_YOUTUBE": "true",
        "YOUTUBE_CLIENT_ID": "id",
        "YOUTUBE_CLIENT_SECRET": "s",
        "SHORTS_CHANNELS": "demo,cooking",
        "YOUTUBE_REFRESH_TOKEN_DEMO": "r1",
        "YOUTUBE_REFRESH_TOKEN_COOKING": "r2",
        "SHORTS_SECRET_KEY": KEY,
    }
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


def test_the_cloud_renderer_needs_its_key_and_where_the_data_root_is_served():
    env = {"RENDERER_PROVIDER": "cloud", "CREATOMATE_API_KEY": "ct-key"}
    with pytest.raises(ConfigError, match="CLOUD_RENDER_MEDIA_BASE_URL"):
        load_settings(env)
    with pytest.raises(ConfigError, match="CLOUD_RENDER_MEDIA_BASE_URL='bucket'"):
        load_settings({**env, "CLOUD_RENDER_MEDIA_BASE_URL": "bucket"})
    with pytest.raises(ConfigError, match="CREATOMATE_API_KEY"):
        load_settings({"RENDERER_PROVIDER": "cloud", "CLOUD_RENDER_MEDIA_BASE_URL": "https://cdn.example.com/d"})
    settings = load_settings(
        {**env, "CLOUD_RENDER_MEDIA_BASE_URL": "https://cdn.example.com/shorts/", "CLOUD_RENDER_TIMEOUT_S": "600"}
    )
    assert settings.renderer_provider == "cloud"
    assert settings.cloud_render_media_base_url == "https://cdn.example.com/shorts"
    assert settings.cloud_render_timeout_s == 600.0


@pytest.mark.parametrize("value", ["2026-13-45", "2026-02-30", "2026-00-10"])
def test_a_start_date_that_is_no_calendar_day_is_refused_by_name(value):
    with pytest.raises(ConfigError, match=f"SHORTS_START_DATE='{value}'"):
        load_settings({"SHORTS_START_DATE": value})
    assert load_settings({"SHORTS_START_DATE": "2024-02-29"}).start_date == "2024-02-29"


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://shorts:hunter2@127.0.0.1:5432/",
        "postgresql+psycopg2://shorts:hunter2@127.0.0.1:5432",
        "sqlite://",
        "sqlite:///:memory:",
    ],
)
def test_a_database_url_without_a_database_is_refused_without_echoing_it(url, tmp_path):
    with pytest.raises(ConfigError, match="DATABASE_URL names no database") as caught:
        load_settings({"DATABASE_URL": url, "SHORTS_DATA_DIR": str(tmp_path)})
    assert "hunter2" not in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_a_malformed_database_url_is_refused_without_echoing_it():
    with pytest.raises(ConfigError, match="DATABASE_URL must be a SQLAlchemy URL") as caught:
        load_settings({"DATABASE_URL": "postgresql://shorts:hunter2@127.0.0.1:port/shorts"})
    assert "hunter2" not in str(caught.value)
    assert load_settings({"DATABASE_URL": "postgresql://127.0.0.1:5432/shorts"}).database_url.endswith("/shorts")


def test_the_secret_key_is_one_fernet_key_or_several_and_never_echoed():
    assert load_settings({}).secret_keys is None
    assert load_settings({"SHORTS_SECRET_KEY": KEY}).secret_keys.count == 1
    other = Fernet.generate_key().decode()
    keys = load_settings({"SHORTS_SECRET_KEY": f" {KEY} , {other} "}).secret_keys
    assert keys.count == 2
    assert KEY not in repr(keys) and KEY not in repr(load_settings({"SHORTS_SECRET_KEY": KEY}))
    for bad in ("not-a-key", f"{KEY},", f"{KEY},,{other}", KEY[:-4]):
        with pytest.raises(ConfigError, match="SHORTS_SECRET_KEY") as caught:
            load_settings({"SHORTS_SECRET_KEY": bad})
        assert KEY not in str(caught.value)


def test_a_real_publisher_needs_the_secret_key_its_tokens_are_sealed_with():
    env = {
        "PUBLISHER_INSTAGRAM": "true",
        "INSTAGRAM_USER_ID": "17841400000000001",
        "INSTAGRAM_ACCESS_TOKEN": "IGQVJ-long-lived",
    }
    with pytest.raises(ConfigError, match="PUBLISHER_INSTAGRAM=true needs SHORTS_SECRET_KEY") as caught:
        load_settings(env)
    assert "IGQVJ-long-lived" not in str(caught.value)
    assert load_settings({**env, "SHORTS_SECRET_KEY": KEY}).real_publishers == ("instagram",)


def test_a_channel_name_ending_in_a_newline_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "channels.json"
    path.write_text(json.dumps({"channels": [{"name": "demo\n"}]}))
    with pytest.raises(ConfigError, match="SHORTS_CHANNELS_FILE=.*channel name 'demo\\\\n'"):
        load_settings({"SHORTS_CHANNELS_FILE": str(path)})


def test_a_video_provider_chain_needs_every_members_keys_and_the_library_its_folder(tmp_path):
    settings = load_settings({"VIDEO_GEN_PROVIDER": "library, pexels,stub", "PEXELS_API_KEY": "k",
                              "SHORTS_MEDIA_LIBRARY": str(tmp_path)})  # fmt: skip
    assert settings.video_gen_provider == "library,pexels,stub" and settings.media_library == str(tmp_path)
    with pytest.raises(ConfigError, match="VIDEO_GEN_PROVIDER=pexels,stub needs PEXELS_API_KEY"):
        load_settings({"VIDEO_GEN_PROVIDER": "pexels,stub"})
    with pytest.raises(ConfigError, match="needs SHORTS_MEDIA_LIBRARY"):
        load_settings({"VIDEO_GEN_PROVIDER": "library,stub"})
    with pytest.raises(ConfigError, match="SHORTS_MEDIA_LIBRARY=.*missing: no such folder"):
        load_settings({"VIDEO_GEN_PROVIDER": "library", "SHORTS_MEDIA_LIBRARY": str(tmp_path / "missing")})
    with pytest.raises(ConfigError, match="names a provider twice"):
        load_settings({"VIDEO_GEN_PROVIDER": "stub,stub"})
    with pytest.raises(ConfigError, match="VIDEO_GEN_PROVIDER='veo'"):
        load_settings({"VIDEO_GEN_PROVIDER": "veo"})
    with pytest.raises(ConfigError, match="OPENAI_IMAGE_QUALITY='ultra'"):
        load_settings({"OPENAI_IMAGE_QUALITY": "ultra"})


def test_publishing_options_default_to_direct_tiktok_posts_and_the_current_youtube_quota():
    settings = load_settings({})
    assert settings.platform_options() == {
        "tiktok_post_mode": "direct",
        "tiktok_privacy_level": "PUBLIC_TO_EVERYONE",
        "youtube_quota_model": "current",
    }
    chosen = load_settings(
        {"TIKTOK_POST_MODE": "inbox", "TIKTOK_PRIVACY_LEVEL": "SELF_ONLY", "YOUTUBE_QUOTA_MODEL": "legacy"}
    )
    assert chosen.platform_options() == {
        "tiktok_post_mode": "inbox",
        "tiktok_privacy_level": "SELF_ONLY",
        "youtube_quota_model": "legacy",
    }
    from shorts_assets.defs.resources import build_resources

    assert build_resources(chosen)["platforms"].options == chosen.platform_options()


@pytest.mark.parametrize(
    ("variable", "value"),
    [("TIKTOK_POST_MODE", "drafts"), ("TIKTOK_PRIVACY_LEVEL", "PUBLIC"), ("YOUTUBE_QUOTA_MODEL", "units")],
)
def test_an_unknown_publishing_option_is_refused_when_the_settings_load(variable, value):
    with pytest.raises(ConfigError, match=f"^{variable}='{value}' is not one of"):
        load_settings({variable: value})


def test_a_channel_declares_its_youtube_audience_and_may_post_to_tiktok_its_own_way(tmp_path):
    path = tmp_path / "channels.json"
    path.write_text(
        json.dumps(
            {"channels": [{"name": "kids", "made_for_kids": True, "tiktok_post_mode": "inbox"}, {"name": "demo"}]}
        )
    )
    kids, demo = load_settings({"SHORTS_CHANNELS_FILE": str(path)}).channels
    assert (kids.made_for_kids, kids.tiktok_post_mode) == (True, "inbox")
    assert (demo.made_for_kids, demo.tiktok_post_mode) == (False, "")  # "" follows TIKTOK_POST_MODE
    for bad in ({"name": "kids", "made_for_kids": "yes"}, {"name": "kids", "tiktok_post_mode": "drafts"}):
        path.write_text(json.dumps({"channels": [bad]}))
        with pytest.raises(ConfigError, match=f"kids.{next(k for k in bad if k != 'name')} must be"):
            load_settings({"SHORTS_CHANNELS_FILE": str(path)})


def test_the_options_reach_the_platform_adapters():
    from shorts_assets.core.state import MemoryStateStore
    from shorts_assets.providers import registry

    keys = {
        "YOUTUBE_CLIENT_ID": "id",
        "YOUTUBE_CLIENT_SECRET": "s",
        "YOUTUBE_REFRESH_TOKEN": "r",
        "TIKTOK_CLIENT_KEY": "k",
        "TIKTOK_CLIENT_SECRET": "s",
        "TIKTOK_REFRESH_TOKEN": "r",
    }
    options = {"made_for_kids": True, "youtube_quota_model": "legacy", "tiktok_post_mode": "inbox"}
    with registry.build("platform", "youtube", "kids", keys, state=MemoryStateStore(), **options) as youtube:
        assert (youtube.made_for_kids, youtube.quota_model) == (True, "legacy")
    with registry.build("platform", "tiktok", "kids", keys, state=MemoryStateStore(), **options) as tiktok:
        assert (tiktok.post_mode, tiktok.privacy_level) == ("inbox", "PUBLIC_TO_EVERYONE")
    with registry.build("platform", "youtube", "demo", keys, state=MemoryStateStore()) as youtube:
        assert (youtube.made_for_kids, youtube.quota_model) == (False, "current")


def test_tts_voices_may_map_a_voice_per_language_and_arm():
    settings = load_settings(
        {"TTS_VOICES": "en-us=en-US-GuyNeural,es/en-us=es-MX-DaliaNeural,ja/en-gb=ja-JP-KeitaNeural"}
    )
    assert settings.tts_voices == {
        "en-us": "en-US-GuyNeural",
        "es/en-us": "es-MX-DaliaNeural",
        "ja/en-gb": "ja-JP-KeitaNeural",
    }
    with pytest.raises(ConfigError, match="TTS_VOICES: 'xx/en-us=a' names unknown language 'xx'"):
        load_settings({"TTS_VOICES": "xx/en-us=a"})
    with pytest.raises(ConfigError, match="TTS_VOICES: 'es/robot=a' must be"):
        load_settings({"TTS_VOICES": "es/robot=a"})


def test_a_channel_of_an_unknown_language_stops_the_settings_naming_it(tmp_path):
    channels = tmp_path / "channels.json"
    channels.write_text(
        json.dumps({"channels": [{"name": "cocina", "language": "es"}, {"name": "x", "language": "tlh"}]})
    )
    with pytest.raises(ConfigError, match="channel x: unknown language 'tlh'"):
        load_settings({"SHORTS_CHANNELS_FILE": str(channels)})
    channels.write_text(
        json.dumps({"channels": [{"name": "cocina", "language": "es"}, {"name": "anime", "language": "ja"}]})
    )
    assert [c.language for c in load_settings({"SHORTS_CHANNELS_FILE": str(channels)}).channels] == ["es", "ja"]
