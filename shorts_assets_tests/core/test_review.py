"""The review mode: SHORTS_REVIEW for every channel, a channel's own `review` over it, and an unknown
value refused when the location loads, naming the variable or the channel."""

import json

import pytest

from shorts_assets.core.channels import ChannelConfig
from shorts_assets.core.errors import ConfigError
from shorts_assets.settings import load_settings


def test_review_is_off_unless_asked_for():
    (channel,) = load_settings({}).channels
    assert channel.review == "off"


@pytest.mark.parametrize("mode", ["off", "before_publish", "before_generation"])
def test_shorts_review_sets_every_channel_that_names_no_mode(mode):
    channels = load_settings({"SHORTS_CHANNELS": "demo,cooking", "SHORTS_REVIEW": mode}).channels
    assert [c.review for c in channels] == [mode, mode]


def test_a_channel_s_own_review_wins_over_shorts_review(tmp_path):
    path = tmp_path / "channels.json"
    path.write_text(json.dumps({"channels": [{"name": "brand", "review": "before_generation"}, {"name": "demo"}]}))
    channels = load_settings({"SHORTS_CHANNELS_FILE": str(path), "SHORTS_REVIEW": "before_publish"}).channels
    assert {c.name: c.review for c in channels} == {"brand": "before_generation", "demo": "before_publish"}
    # The channel resource carries the mode as the file wrote it.
    assert ChannelConfig.from_dict(channels[0].to_dict(), "the channels resource").review == "before_generation"


def test_an_unknown_shorts_review_is_refused_naming_the_variable():
    with pytest.raises(
        ConfigError, match=r"SHORTS_REVIEW='later' is not a review mode: use one of off, before_publish"
    ):
        load_settings({"SHORTS_REVIEW": "later"})


@pytest.mark.parametrize("value", ["after_publish", "", 1, None])
def test_an_unknown_channel_review_is_refused_naming_the_channel(tmp_path, value):
    path = tmp_path / "channels.json"
    path.write_text(json.dumps({"channels": [{"name": "brand", "review": value}]}))
    with pytest.raises(ConfigError, match=r"SHORTS_CHANNELS_FILE=.*: brand\.review=.* is not a review mode"):
        load_settings({"SHORTS_CHANNELS_FILE": str(path)})
