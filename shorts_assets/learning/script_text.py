"""Features of a script's text for the reward model: how its hook and title are written, how long it runs.

Each script gives a few numbers (the hook's length in words, whether it asks a question or carries a
number, the title's length and number, the narration's length and its mean sentence length) and one
string, title and hook together, that the model turns into a few TF-IDF components. A script that is
missing, or a field that is not text, reads as empty rather than failing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np

NUMERIC_FEATURES: tuple[str, ...] = (
    "hook_words",
    "hook_is_question",
    "hook_has_number",
    "title_words",
    "title_has_number",
    "narration_words",
    "sentence_words",
)
TEXT_COLUMN = "title_hook"
QUESTION_OPENERS = frozenset(
    {"what", "why", "how", "who", "where", "when", "which", "did", "do", "does", "can", "could", "is", "are",
     "was", "were", "have", "has", "ever", "would", "will", "should"}
)  # fmt: skip
NUMBER_WORDS = frozenset(
    {"one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "twenty",
     "thirty", "fifty", "hundred", "thousand", "million", "billion", "top"}
)  # fmt: skip
WORD = re.compile(r"[A-Za-z0-9']+")
SENTENCE_END = re.compile(r"[.!?]+")


def _text(value: Any) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""


def _field(script: Any, name: str) -> Any:
    if isinstance(script, Mapping):
        return script.get(name)
    return getattr(script, name, None)


def _words(text: str) -> list[str]:
    return WORD.findall(text.lower())


def is_question(text: str) -> bool:
    words = _words(text)
    return "?" in text or bool(words and words[0] in QUESTION_OPENERS)


def has_number(text: str) -> bool:
    return any(ch.isdigit() for ch in text) or any(w in NUMBER_WORDS for w in _words(text))


def features(script: Any) -> dict[str, Any]:
    """The numeric features and the title-and-hook text of a script (a mapping or a Script)."""
    title = _text(_field(script, "title"))
    hook = _text(_field(script, "hook"))
    narration = _text(_field(script, "narration"))
    sentences = [s for s in SENTENCE_END.split(narration) if _words(s)]
    narration_words = len(_words(narration))
    return {
        "hook_words": float(len(_words(hook))),
        "hook_is_question": float(is_question(hook)) if hook else 0.0,
        "hook_has_number": float(has_number(hook)),
        "title_words": float(len(_words(title))),
        "title_has_number": float(has_number(title)),
        "narration_words": float(narration_words),
        "sentence_words": narration_words / len(sentences) if sentences else 0.0,
        TEXT_COLUMN: f"{title} {hook}".strip(),
    }


class TextComponents:
    """TF-IDF of short texts reduced to at most `n_components` SVD components; zeros when there is too little text.

    Fitted on the training texts only, so a cross-validation fold never sees its test texts' vocabulary.
    """

    def __init__(self, n_components: int = 3, seed: int = 0):
        self.n_components = n_components
        self.seed = seed
        self.vectorizer = None
        self.svd = None

    def fit(self, texts: list[str]) -> TextComponents:
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.vectorizer, self.svd = None, None
        vectorizer = TfidfVectorizer(stop_words="english", token_pattern=r"(?u)\b[a-z][a-z']+\b", min_df=2)
        try:
            matrix = vectorizer.fit_transform([_text(t).lower() for t in texts])
        except ValueError:  # no vocabulary: every text empty, or only stop words
            return self
        k = min(self.n_components, matrix.shape[1] - 1, matrix.shape[0] - 1)
        if k >= 1:
            self.vectorizer = vectorizer
            self.svd = TruncatedSVD(n_components=k, random_state=self.seed).fit(matrix)
        return self

    def transform(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.n_components))
        if self.svd is not None and texts:
            reduced = self.svd.transform(self.vectorizer.transform([_text(t).lower() for t in texts]))
            out[:, : reduced.shape[1]] = reduced
        return out

    def names(self) -> list[str]:
        return [f"{TEXT_COLUMN}_{i + 1}" for i in range(self.n_components)]
