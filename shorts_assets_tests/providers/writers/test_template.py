"""The template writer: deterministic scripts whose content really follows the arms."""

import pytest

from shorts_assets.core.arms import LENGTH_SENTENCES
from shorts_assets.providers.writers.template import TOPICS, TemplateWriter

BASE = {
    "topic": "space",
    "hook": "question",
    "length": "medium",
    "voice": "en-us",
    "caption_style": "boxed",
    "posting_hour": "09",
}


def write(**arms):
    return TemplateWriter().write("demo-20261128-01", {**BASE, **arms}, seed=7)


def test_same_inputs_same_script():
    assert write() == write()


def test_topic_picks_the_facts_and_the_look():
    space, ocean = write(topic="space"), write(topic="ocean")
    assert any(fact in space.narration for fact in TOPICS["space"]["facts"])
    assert not any(fact in ocean.narration for fact in TOPICS["space"]["facts"])
    assert {s.visual for s in space.scenes[1:]} == {"starfield"}
    assert {s.visual for s in ocean.scenes[1:]} == {"waves"}


@pytest.mark.parametrize("length", list(LENGTH_SENTENCES))
def test_length_sets_how_many_facts_are_told(length):
    script = write(topic="animals", length=length)
    told = sum(fact in script.narration for fact in TOPICS["animals"]["facts"])
    assert told == LENGTH_SENTENCES[length]


def test_longer_buckets_make_longer_scripts():
    assert len(write(length="short").narration) < len(write(length="long").narration)


def test_hook_shapes_the_opening_line():
    openers = {hook: write(hook=hook).hook for hook in ("question", "shocking_fact", "story", "countdown")}
    assert openers["question"].endswith("?")
    assert "facts" in openers["countdown"] or "things" in openers["countdown"]
    assert len(set(openers.values())) == 4


def test_scenes_follow_the_narration_in_order():
    script = write(length="long")
    assert script.scenes[0].visual == "title_card"
    positions = [script.narration.find(s.prompt.split(": ", 1)[1].split(". ")[0]) for s in script.scenes[1:]]
    assert positions == sorted(positions)
    assert all(s.duration_s > 0 for s in script.scenes)


def test_unknown_arm_is_refused_by_name():
    with pytest.raises(ValueError, match="topic"):
        write(topic="crypto")


@pytest.mark.parametrize(
    ("language", "own_script"),
    [("es", "[áéíóúñ¿]"), ("pt", "[ãõçáéêó]"), ("de", "[äöüß]"), ("fr", "[éèàçœ']"), ("hi", "[\u0900-\u097f]"),
     ("ja", "[\u3040-\u30ff\u4e00-\u9fff]")],
)  # fmt: skip
def test_each_language_has_its_own_bank_and_the_script_records_its_language(language, own_script):
    import re

    script = TemplateWriter().write("demo-20261128-01", {**BASE, "length": "long"}, seed=7, language=language)

    assert script.language == language
    assert re.search(own_script, script.narration)
    assert "*" not in script.narration
    english = write(length="long")
    assert script.title != english.title
    assert not set(english.narration.split(". ")) & set(script.narration.split(". "))
    assert script.emphasis and all(word in script.narration for word in script.emphasis)


def test_the_english_script_marks_a_word_of_each_fact_for_emphasis():
    script = write(length="short")

    assert len(script.emphasis) >= 2 and all(word in script.narration for word in script.emphasis)


def test_an_unknown_language_is_a_provider_error_naming_it():
    from shorts_assets.core.errors import ProviderError

    with pytest.raises(ProviderError, match="klingon"):
        TemplateWriter().write("v", BASE, seed=1, language="klingon")
