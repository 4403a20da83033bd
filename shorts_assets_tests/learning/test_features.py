"""The reward model's features: one observation's arms, its platform, the interacting pair and the
platform's own length and posting hour, by name."""

from shorts_assets.core.arms import platform_arms
from shorts_assets.learning.features import platform_of, row_features

ARMS = {"topic": "space", "hook": "question", "length": "short", "posting_hour": "09", "posting_hour@tiktok": "21"}


def test_an_observation_has_its_arms_its_pair_and_its_platforms_own_length_and_hour():
    seen = platform_arms(ARMS, "tiktok")
    assert seen["posting_hour"] == "21" and "posting_hour@tiktok" not in seen
    assert row_features(seen, "tiktok") == [
        "intercept",
        "platform=tiktok",
        "topic=space",
        "hook=question",
        "length=short",
        "posting_hour=21",
        "topicxhook=space|question",
        "tiktok:length=short",
        "tiktok:posting_hour=21",
    ]


def test_another_platform_keeps_the_shared_hour_and_a_missing_dimension_adds_nothing():
    seen = platform_arms(ARMS, "youtube")
    assert "youtube:posting_hour=09" in row_features(seen, "youtube")
    assert row_features({"voice": "en-gb"}, "youtube") == ["intercept", "platform=youtube", "voice=en-gb"]
    assert platform_of("platform=instagram") == "instagram" and platform_of("topic=space") is None
