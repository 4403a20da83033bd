"""What comments say: spam and abuse filtered out, sentiment, requested topics, topic clusters.

Sentiment is lexicon-based: (positive − negative) word hits, scaled to −1..1 per comment. Spam is
recognised by the patterns of follower bait and link promotion, abuse by a short list of insults;
both are left out of everything else. Topic clusters are TF-IDF + NMF over the remaining comments,
computed only when there are enough of them to be worth it.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import MappingProxyType

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

REQUEST_PATTERNS = (
    re.compile(r"\b(?:do|make)\s+(?:one|a video|a short|more)\s+(?:about|on)\s+([^.!?,🙏]+)", re.IGNORECASE),
    re.compile(r"\bcan you (?:make|do) (?:one|a video|a short) (?:about|on) ([^.!?,🙏]+)", re.IGNORECASE),
    re.compile(r"\b(?:pls|please|plz)\s+do\s+([^.!?,🙏]+?)\s+next\b", re.IGNORECASE),
)
SPAM_PATTERNS = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        r"free followers",
        r"link in (?:my )?bio",
        r"check (?:out )?my (?:page|channel|profile)",
        r"\bsub4sub\b",
        r"follow me",
        r"follow back",
        r"giveaway",
        r"\$\d+",
        r"https?://",
        r"made \$?\d+.*from home",
    )
)
ABUSE_WORDS = frozenset({"idiot", "stupid", "moron", "trash", "garbage", "loser", "dumb", "shut up", "hate you"})
# Words of the comment sections that VADER's lexicon reads wrongly or not at all: "this slaps",
# "fire", "mid". Valences on VADER's own scale (-4..4).
SLANG = MappingProxyType(
    {
        "slaps": 2.5, "fire": 2.0, "goat": 2.5, "bussin": 2.5, "lit": 2.0, "based": 1.5, "banger": 2.5,
        "underrated": 1.5, "mid": -1.5, "cringe": -2.0, "clickbait": -2.0, "sus": -1.0, "boring": -2.0,
        "enraged": -2.5, "yawn": -1.5, "zzz": -1.5, "clapping": 1.5, "w": 1.0,
    }
)  # fmt: skip
MIN_COMMENTS_FOR_TOPICS = 20


def requested_topics(texts: Iterable[str]) -> Counter[str]:
    """Topics the audience asks for ("do one about volcanoes", "pls do lightning next"), counted."""
    found: Counter[str] = Counter()
    for text in texts:
        topics = {match.group(1).strip().lower() for pattern in REQUEST_PATTERNS for match in pattern.finditer(text)}
        found.update(t for t in topics if t)
    return found


def is_spam(text: str) -> bool:
    return any(p.search(text) for p in SPAM_PATTERNS)


def is_abuse(text: str) -> bool:
    lowered = text.lower()
    return any(re.search(rf"\b{re.escape(w)}\b", lowered) for w in ABUSE_WORDS)


@functools.cache
def _analyzer() -> SentimentIntensityAnalyzer:
    analyzer = SentimentIntensityAnalyzer()
    analyzer.lexicon.update(SLANG)
    return analyzer


def sentiment(text: str) -> float:
    """−1..1: VADER's compound score (negation, intensifiers, emoji and caps read as people mean them)."""
    return float(_analyzer().polarity_scores(text)["compound"])


@dataclass
class CommentInsights:
    total: int = 0
    spam: int = 0
    abuse: int = 0
    analysed: int = 0
    mean_sentiment: float = 0.0
    positive_share: float = 0.0
    negative_share: float = 0.0
    requests: Counter[str] = field(default_factory=Counter)
    topics: list[list[str]] = field(default_factory=list)
    topics_skipped: str | None = None

    def to_json(self) -> dict:
        return {
            "total": self.total,
            "spam": self.spam,
            "abuse": self.abuse,
            "analysed": self.analysed,
            "mean_sentiment": round(self.mean_sentiment, 3),
            "positive_share": round(self.positive_share, 3),
            "negative_share": round(self.negative_share, 3),
            "requests": dict(self.requests.most_common(10)),
            "topics": self.topics,
            "topics_skipped": self.topics_skipped,
        }


def topic_clusters(texts: list[str], n_topics: int = 4, top_words: int = 5, seed: int = 0) -> list[list[str]]:
    """The top words of each NMF topic of the TF-IDF matrix of the texts."""
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(stop_words="english", min_df=2, token_pattern=r"(?u)\b[a-z][a-z']+\b")
    matrix = vectorizer.fit_transform([t.lower() for t in texts])
    vocabulary = vectorizer.get_feature_names_out()
    k = min(n_topics, matrix.shape[0] - 1, len(vocabulary) - 1)
    if k < 1:
        return []
    model = NMF(n_components=k, init="nndsvda", random_state=seed, max_iter=400)
    model.fit(matrix)
    return [[str(vocabulary[i]) for i in component.argsort()[::-1][:top_words]] for component in model.components_]


def analyse(texts: Iterable[str]) -> CommentInsights:
    """Spam and abuse counted and set aside; sentiment, requests and topics of the rest."""
    texts = list(texts)
    insights = CommentInsights(total=len(texts))
    kept = []
    for text in texts:
        if is_spam(text):
            insights.spam += 1
        elif is_abuse(text):
            insights.abuse += 1
        else:
            kept.append(text)
    insights.analysed = len(kept)
    if kept:
        scores = [sentiment(t) for t in kept]
        insights.mean_sentiment = sum(scores) / len(scores)
        insights.positive_share = sum(s > 0 for s in scores) / len(scores)
        insights.negative_share = sum(s < 0 for s in scores) / len(scores)
    insights.requests = requested_topics(kept)
    if len(kept) >= MIN_COMMENTS_FOR_TOPICS:
        try:
            insights.topics = topic_clusters(kept)
        except ValueError as exc:  # an all-stop-word vocabulary, for instance
            insights.topics_skipped = f"topic model failed: {exc}"
    else:
        insights.topics_skipped = f"{len(kept)} comments, {MIN_COMMENTS_FOR_TOPICS} wanted for topic clusters"
    return insights


# A requested topic joins the channel's topic pool once this many comments ask for it.
ADOPT_MIN_REQUESTS = 10
# At most this many requested topics are in the pool at once, so the known topics keep their data's weight.
ADOPT_MAX_TOPICS = 3
_ARM_VALUE = re.compile(r"[^a-z0-9]+")


def topic_arm(requested: str) -> str:
    """The arm value a requested topic becomes: lower-case words joined by underscores."""
    return _ARM_VALUE.sub("_", requested.lower()).strip("_")[:40]


def adopt_requested_topics(
    adopted: Iterable[str],
    requests: Counter[str],
    known: Iterable[str],
    min_requests: int = ADOPT_MIN_REQUESTS,
    max_topics: int = ADOPT_MAX_TOPICS,
) -> list[str]:
    """The requested topics in the pool: those adopted before, then the most requested new ones."""
    pool = [t for t in dict.fromkeys(adopted) if t]
    taken = set(pool) | set(known)
    for requested, count in requests.most_common():
        arm = topic_arm(requested)
        if len(pool) >= max_topics or count < min_requests:
            break
        if arm and arm not in taken:
            pool.append(arm)
            taken.add(arm)
    return pool
