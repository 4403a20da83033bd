"""A channel's name: lower-case letters, digits, '-' and '_', at most 40 characters, matched whole."""

import pytest

from shorts_assets.core.channels import ChannelConfig
from shorts_assets.core.errors import ConfigError


@pytest.mark.parametrize("name", ["demo", "space-facts", "k_2", "a" * 40])
def test_a_well_formed_name_makes_a_channel(name):
    assert ChannelConfig.from_dict({"name": name}, "SHORTS_CHANNELS_FILE=x.json").name == name


@pytest.mark.parametrize("name", ["demo\n", "demo\r\n", "\ndemo", "demo ", "Demo", "-demo", "a" * 41, "", "de|mo", 7])
def test_a_name_with_anything_around_or_beyond_the_pattern_is_refused_naming_where_it_was_written(name):
    with pytest.raises(ConfigError, match=r"^SHORTS_CHANNELS_FILE=x\.json: channel name"):
        ChannelConfig.from_dict({"name": name}, "SHORTS_CHANNELS_FILE=x.json")


@pytest.mark.parametrize("language", ["en", "es", "pt", "de", "fr", "hi", "ja"])
def test_a_channel_speaks_one_of_the_known_languages(language):
    assert ChannelConfig.from_dict({"name": "demo", "language": language}, "x").language == language


def test_a_channel_speaks_english_unless_it_says_otherwise():
    assert ChannelConfig.from_dict({"name": "demo"}, "x").language == "en"


@pytest.mark.parametrize("language", ["klingon", "EN", "", ["es"], None])
def test_an_unknown_language_is_refused_naming_the_channel(language):
    with pytest.raises(ConfigError, match=r"^SHORTS_CHANNELS_FILE=x\.json: channel cocina: unknown language"):
        ChannelConfig.from_dict({"name": "cocina", "language": language}, "SHORTS_CHANNELS_FILE=x.json")
