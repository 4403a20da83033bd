"""The webhook configuration: where events go, read once, with errors that name the variable and never
repeat a URL's path (where a chat webhook keeps its token)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from shorts_assets.core.channels import ChannelConfig
from shorts_assets.core.errors import ConfigError
from shorts_assets.notify import load_config
from shorts_assets.settings import load_settings

SECRET = "a-shared-secret-of-some-length"


def test_urls_set_without_a_secret_are_refused_naming_the_secret_variable() -> None:
    with pytest.raises(ConfigError, match="SHORTS_WEBHOOK_URLS set without SHORTS_WEBHOOK_SECRET"):
        load_config({"SHORTS_WEBHOOK_URLS": "https://hooks.example.com/a"})
    channel = ChannelConfig(name="cooking", webhook_urls=("https://hooks.example.com/c",))
    with pytest.raises(ConfigError, match="webhook_urls of channel cooking set without SHORTS_WEBHOOK_SECRET"):
        load_config({}, [channel])


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ConfigError, match="SHORTS_WEBHOOK_SECRET must be at least 16 characters"):
        load_config({"SHORTS_WEBHOOK_URLS": "https://hooks.example.com/a", "SHORTS_WEBHOOK_SECRET": "short"})


@pytest.mark.parametrize(
    "url",
    [
        "hooks.example.com/T0KEN",
        "ftp://hooks.example.com/T0KEN",
        "https:///T0KEN",
        "https://user:pw@hooks.example.com/T0KEN",
        "https://hooks.example.com:99999/T0KEN",
        "teams+https://hooks.example.com/T0KEN",
        "https://hooks.example.com/T0 KEN",
    ],
)
def test_a_malformed_url_is_refused_naming_the_variable_without_its_path(url: str) -> None:
    with pytest.raises(ConfigError, match="SHORTS_WEBHOOK_URLS: .* is not an http\\(s\\) URL") as raised:
        load_config({"SHORTS_WEBHOOK_URLS": f"https://ok.example.com/x,{url}", "SHORTS_WEBHOOK_SECRET": SECRET})
    assert "T0KEN" not in str(raised.value) and "pw" not in str(raised.value)


def test_format_prefixes_choose_slack_or_discord_and_the_default_format_the_rest() -> None:
    config = load_config(
        {
            "SHORTS_WEBHOOK_URLS": "slack+https://hooks.slack.com/services/T/B/X, discord+https://discord.com/api/webhooks/1/t,https://a.example.com/h",
            "SHORTS_WEBHOOK_SECRET": SECRET,
            "SHORTS_WEBHOOK_GIVE_UP_HOURS": "24",
        }
    )
    assert [(d.format, d.url) for d in config.destinations] == [
        ("slack", "https://hooks.slack.com/services/T/B/X"),
        ("discord", "https://discord.com/api/webhooks/1/t"),
        ("json", "https://a.example.com/h"),
    ]
    assert config.destinations[0].target == "slack https://hooks.slack.com"  # what is stored and shown
    assert "hooks.slack.com/services" not in repr(config) and SECRET not in repr(config)
    assert config.give_up_after == timedelta(hours=24)
    with pytest.raises(ConfigError, match="SHORTS_WEBHOOK_FORMAT='teams' is not one of: json, slack, discord"):
        load_config({"SHORTS_WEBHOOK_FORMAT": "teams"})


def test_a_channel_gets_the_global_webhooks_and_its_own_and_other_channels_only_the_global() -> None:
    channels = [ChannelConfig(name="cooking", webhook_urls=("https://cooking.example.com/h",)), ChannelConfig("demo")]
    config = load_config(
        {"SHORTS_WEBHOOK_URLS": "https://all.example.com/h", "SHORTS_WEBHOOK_SECRET": SECRET}, channels
    )
    assert [d.url for d in config.for_channel("cooking")] == [
        "https://all.example.com/h",
        "https://cooking.example.com/h",
    ]
    assert [d.url for d in config.for_channel("demo")] == ["https://all.example.com/h"]
    assert [d.url for d in config.for_channel(None)] == ["https://all.example.com/h"]
    assert not load_config({}).enabled


def test_settings_refuse_a_channel_file_with_a_bad_webhook_url_naming_the_channel(tmp_path: Path) -> None:
    path = tmp_path / "channels.json"
    path.write_text(json.dumps({"channels": [{"name": "cooking", "webhook_urls": ["mailto:me@example.com"]}]}))
    with pytest.raises(ConfigError, match="channel cooking: webhook_urls: 'example.com' is not an http"):
        load_settings({"SHORTS_CHANNELS_FILE": str(path), "SHORTS_WEBHOOK_SECRET": SECRET})
    path.write_text(json.dumps({"channels": [{"name": "cooking", "webhook_urls": "https://x.example.com"}]}))
    with pytest.raises(ConfigError, match="cooking.webhook_urls must be a list of URLs"):
        load_settings({"SHORTS_CHANNELS_FILE": str(path)})
    path.write_text(json.dumps({"channels": [{"name": "cooking", "webhook_urls": ["https://x.example.com/h"]}]}))
    settings = load_settings({"SHORTS_CHANNELS_FILE": str(path), "SHORTS_WEBHOOK_SECRET": SECRET})
    assert [d.url for d in settings.webhooks.for_channel("cooking")] == ["https://x.example.com/h"]
    assert SECRET not in repr(settings)


def test_the_code_locations_settings_refuse_webhooks_without_a_secret() -> None:
    with pytest.raises(ConfigError, match="SHORTS_WEBHOOK_SECRET"):
        load_settings({"SHORTS_WEBHOOK_URLS": "https://hooks.example.com/a"})
    assert not load_settings({}).webhooks.enabled  # no webhook, no secret needed
