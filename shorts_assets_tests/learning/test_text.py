"""Comment insights: spam and abuse set aside, sentiment, requests, topic clusters."""

from collections import Counter

import pytest

from shorts_assets.learning.text import (
    adopt_requested_topics,
    analyse,
    is_abuse,
    is_spam,
    requested_topics,
    sentiment,
    topic_arm,
)


def test_requests_are_found_in_every_phrasing_once_per_comment():
    found = requested_topics(["do one about volcanoes", "pls do black holes next 🙏", "can you make one on volcanoes?"])
    assert found == {"volcanoes": 2, "black holes": 1}


def test_spam_and_abuse_are_recognised():
    assert is_spam("💸 made $400 today from home, link in my bio")
    assert is_spam("sub4sub? 🙏") and not is_spam("love this 😍")
    assert is_abuse("you are an idiot") and not is_abuse("kinda boring tbh")


def test_sentiment_has_the_sign_of_the_comment():
    assert sentiment("love this 😍") > 0 > sentiment("kinda boring tbh")
    assert sentiment("source?") == 0.0


def test_analysis_excludes_spam_and_clusters_only_with_enough_comments():
    few = analyse(["love this", "free followers 🔥 check my page", "do one about octopuses"])
    assert (few.total, few.spam, few.analysed) == (3, 1, 2)
    assert few.requests == {"octopuses": 1} and few.topics == [] and "wanted" in few.topics_skipped
    many = analyse(
        ["the narrator voice is so calming", "the narrator voice is grating"] * 8
        + ["the captions are easy to read", "can barely read those captions"] * 8
    )
    assert many.topics and any("captions" in words for words in many.topics)


def test_requested_topics_join_the_pool_once_asked_for_often_enough_a_few_at_a_time():
    requests = Counter({"giant squid": 25, "Volcanoes!": 12, "space": 40, "lightning": 9, "tea": 11})
    assert topic_arm("Giant  Squid!") == "giant_squid"
    pool = adopt_requested_topics([], requests, known=["space", "ocean"], min_requests=10, max_topics=2)
    assert pool == ["giant_squid", "volcanoes"]  # most asked first; a known topic is not new; 9 is too few
    kept = adopt_requested_topics(["mushrooms"], requests, known=["space"], min_requests=10, max_topics=2)
    assert kept == ["mushrooms", "giant_squid"]  # what was adopted stays, the rest waits for room
    assert adopt_requested_topics([], Counter({"lightning": 9}), known=[], min_requests=10) == []


@pytest.mark.parametrize(
    "comment",
    ["not bad at all", "I did not hate it", "love this 😍", "this slaps 🔥🔥", "no cap this is fire", "GOAT content",
     "ok that was actually fascinating", "W video 👏"],
)  # fmt: skip
def test_comments_people_mean_kindly_read_positive(comment):
    assert sentiment(comment) > 0.05


@pytest.mark.parametrize(
    "comment",
    ["not great tbh", "kinda boring tbh", "this is so mid", "clickbait again 🙄", "worst one yet", "cringe",
     "I wanted to like it but no"],
)  # fmt: skip
def test_comments_people_mean_unkindly_read_negative(comment):
    assert sentiment(comment) < -0.05


def test_negation_flips_what_a_word_says_and_emphasis_strengthens_it():
    assert sentiment("good") > 0 > sentiment("not good")
    assert sentiment("this is GREAT!!!") > sentiment("this is great")
    assert sentiment("source?") == 0.0
