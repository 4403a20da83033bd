"""The offline script writer: seeded scripts from a topic bank, shaped by the strategy's arms.

Topic picks the facts and the look, hook picks the opening line and title, length picks how many
facts are narrated. Everything else (which facts, in which order) is drawn from the seed, so the
same video id and arms always give the same script.

The channel's language picks the bank: English here, the others in localised.py (fewer facts per
topic there, so a long video in those languages narrates all its topic has). The words the captions
emphasise are the marked words of a localised fact, or the longest word of an English one.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from dataclasses import replace

from shorts_assets.core.arms import LENGTH_SENTENCES, validate_arms
from shorts_assets.core.errors import ProviderError
from shorts_assets.core.languages import DEFAULT_LANGUAGE, LANGUAGES
from shorts_assets.core.protocols import Closing
from shorts_assets.core.types import Scene, Script
from shorts_assets.providers.writers.localised import LOCALISED

_MARKED = re.compile(r"\*([^*]+)\*")

WORDS_PER_SECOND = 2.7

TOPICS: dict[str, dict[str, object]] = {
    "space": {
        "label": "space",
        "visual": "starfield",
        "facts": [
            "A day on Venus lasts longer than its whole year.",
            "Neutron stars are so dense that a teaspoon of one would weigh billions of tonnes.",
            "The footprints on the Moon will last for millions of years, because there is no wind to erase them.",
            "Jupiter's Great Red Spot is a storm wider than the entire Earth.",
            "Light from the Sun takes about eight minutes to reach us.",
            "There are more stars in the universe than grains of sand on every beach on Earth.",
            "Saturn is so light that it would float in a bathtub big enough to hold it.",
            "One million Earths could fit inside the Sun.",
        ],
    },
    "ocean": {
        "label": "the ocean",
        "visual": "waves",
        "facts": [
            "More than eighty percent of the ocean has never been mapped in detail.",
            "The blue whale's heart is the size of a small car.",
            "Octopuses have three hearts and blue blood.",
            "The deepest point in the ocean is deeper than Mount Everest is tall.",
            "Some jellyfish can turn back their life cycle and start again.",
            "Half of the oxygen we breathe comes from tiny ocean plants.",
            "Sea otters hold hands while they sleep so they do not drift apart.",
            "The ocean's longest mountain range runs for sixty-five thousand kilometres.",
        ],
    },
    "ancient_history": {
        "label": "ancient history",
        "visual": "parchment",
        "facts": [
            "Cleopatra lived closer in time to the Moon landing than to the building of the Great Pyramid.",
            "The Romans used crushed volcanic ash to make concrete that still stands today.",
            "Ancient Egyptians used honey that is still edible after three thousand years.",
            "The Great Wall of China was built and rebuilt over nearly two thousand years.",
            "The first Olympic Games had only one event: a short running race.",
            "Ancient Greeks timed speeches in court with a water clock.",
            "Vikings used a sunstone to find the sun on cloudy days.",
            "The library of Alexandria copied every book that arrived on a ship in its harbour.",
        ],
    },
    "kitchen_science": {
        "label": "kitchen science",
        "visual": "bubbles",
        "facts": [
            "Salt makes ice melt, but it also makes the water colder than freezing.",
            "Onions make you cry because they release a gas that turns into a mild acid in your eyes.",
            "Bread rises because yeast breathes out carbon dioxide into the dough.",
            "Microwaves heat water in food by making its molecules spin billions of times a second.",
            "Popcorn pops when the water inside each kernel turns to steam and bursts the shell.",
            "Cold eggs separate more cleanly, because the yolk is firmer.",
            "Baking soda and vinegar fizz because they make carbon dioxide gas.",
            "A pinch of salt makes coffee taste less bitter.",
        ],
    },
    "animals": {
        "label": "animals",
        "visual": "meadow",
        "facts": [
            "Cows have best friends and get stressed when they are apart.",
            "A group of flamingos is called a flamboyance.",
            "Crows remember human faces and can hold a grudge for years.",
            "Sloths can hold their breath longer than dolphins can.",
            "Elephants are one of the few animals that recognise themselves in a mirror.",
            "A snail can sleep for three years.",
            "Honeybees dance to tell each other where the flowers are.",
            "Penguins propose to their partners with a pebble.",
        ],
    },
}

HOOKS: dict[str, dict[str, tuple[str, ...]]] = {
    "question": {
        "openers": (
            "Did you know this about {label}?",
            "Ever wondered what nobody tells you about {label}?",
            "What is the strangest thing about {label}?",
        ),
        "titles": ("What nobody tells you about {label}", "Did you know this about {label}?"),
    },
    "shocking_fact": {
        "openers": (
            "This fact about {label} sounds fake, but it is true.",
            "Stop scrolling: {label} is stranger than you think.",
        ),
        "titles": ("The {label} fact that sounds fake", "{label_title} is stranger than you think"),
    },
    "story": {
        "openers": (
            "Here is a short story about {label} that changed how I see it.",
            "Picture this: it is a quiet night, and {label} is about to surprise you.",
        ),
        "titles": ("A tiny story about {label}", "The night {label} surprised me"),
    },
    "countdown": {
        "openers": (
            "Here are {count} facts about {label}, and the last one is the best.",
            "{count} things about {label}, counting down.",
        ),
        "titles": ("{count} facts about {label}", "Top {count}: {label}"),
    },
}


class TemplateWriter(Closing):
    """Writes a Script from the topic bank; never calls out to anything."""

    name = "template"

    def write(
        self,
        video_id: str,
        arms: Mapping[str, str],
        seed: int,
        hints: Mapping[str, object] | None = None,
        language: str = DEFAULT_LANGUAGE,
    ) -> Script:
        """The template writer draws only on its topic bank; ``hints`` are for writers that can use them."""
        validate_arms(dict(arms))
        if language not in LANGUAGES:
            raise ProviderError(f"template: unknown language {language!r}; known: {', '.join(LANGUAGES)}")
        topic = TOPICS[arms["topic"]]
        bank = LOCALISED.get(language)
        hook_kind = arms["hook"]
        rng = random.Random(f"{video_id}:{seed}")
        all_facts = list(bank["facts"][arms["topic"]]) if bank else list(topic["facts"])  # type: ignore[arg-type]
        count = min(LENGTH_SENTENCES[arms["length"]], len(all_facts))
        facts = rng.sample(all_facts, count)
        emphasis = _emphasis(facts, marked=bank is not None)
        facts = [_MARKED.sub(r"\1", fact) for fact in facts]
        label = str(bank["labels"][arms["topic"]] if bank else topic["label"])
        fields = {"label": label, "label_title": label[:1].upper() + label[1:], "count": count}
        openers, titles = (
            bank["hooks"][hook_kind] if bank else (HOOKS[hook_kind]["openers"], HOOKS[hook_kind]["titles"])
        )
        hook = rng.choice(openers).format(**fields)
        hook = hook[:1].upper() + hook[1:]
        title = rng.choice(titles).format(**fields)
        title = title[:1].upper() + title[1:]
        number = bank["number"] if bank else "Number {n}."
        if hook_kind == "countdown":
            facts = [f"{number.format(n=count - i)} {fact}" for i, fact in enumerate(facts)]
        closers = bank["closers"] if bank else ("Follow for more.", "Which one surprised you most?")
        closer = closers[0] if rng.random() < 0.5 else closers[1]
        sentences = [hook, *facts, closer]
        narration = " ".join(sentences)

        visual = str(topic["visual"])
        keywords = (str(topic["label"]).lower(),)
        scenes = [
            Scene(prompt=f"Title card: {title}", duration_s=_seconds(hook), visual="title_card", keywords=keywords)
        ]
        # Facts are shown in at most three scenes so even long videos keep a steady cut rhythm.
        size = -(-len(facts) // 3)
        groups = [facts[i : i + size] for i in range(0, len(facts), size)]
        for group in groups:
            text = " ".join(group)
            scenes.append(Scene(prompt=f"{label}: {text}", duration_s=_seconds(text), visual=visual, keywords=keywords))
        scenes[-1] = replace(scenes[-1], duration_s=scenes[-1].duration_s + _seconds(closer))
        tags = ("shorts", arms["topic"].replace("_", ""), "facts", hook_kind.replace("_", ""))
        description = f"{title}. {facts[0]} #shorts #{tags[1]}"
        return Script(
            video_id=video_id,
            title=title[:100],
            hook=hook,
            narration=narration,
            description=description,
            scenes=tuple(scenes),
            tags=tags,
            arms=dict(arms),
            emphasis=emphasis,
            language=language,
        )


def _emphasis(facts: list[str], marked: bool) -> tuple[str, ...]:
    """The words to emphasise: each fact's *marked* words, or the longest word of each fact."""
    words: list[str] = []
    for fact in facts:
        if marked:
            words += _MARKED.findall(fact)
        else:
            plain = [w.strip(".,;:!?'\"") for w in fact.split()]
            words.append(max(plain, key=len))
    return tuple(dict.fromkeys(w for w in words if w))


def _seconds(text: str) -> float:
    return round(max(1.5, len(text.split()) / WORDS_PER_SECOND), 2)
