"""A simulated audience: metrics and comments for posts in the simulated platforms' outbox.

The audience has hidden, seeded preferences over every arm dimension. A video's quality is the sum
of the effects of the features its manifest records plus an idiosyncratic per-video draw; views,
retention, engagement and the tone of comments all rise with quality, so a learner that watches the
metrics can recover which arms the audience prefers. Everything is a pure function of the seed,
the manifest and the time asked about, so repeated reads agree and counters never decrease.

``AudiencePreferences`` is ground truth for benchmarks and tests only; the engine must learn it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import product
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from shorts_assets.core.arms import ARM_SPACE, platform_arms, platform_key
from shorts_assets.core.errors import ProviderError
from shorts_assets.core.protocols import Closing
from shorts_assets.core.types import PLATFORMS, Comment, MetricSnapshot, Publication
from shorts_assets.providers.platforms.simulated import load_manifest

# Standard deviation of the hidden effect of each arm value, on a logit-like scale.
EFFECT_SCALES: MappingProxyType[str, float] = MappingProxyType(
    {
        "topic": 0.5,
        "hook": 0.35,
        "length": 0.3,
        "posting_hour": 0.2,
        "caption_style": 0.15,
        "voice": 0.1,
    }
)

DEFAULT_EFFECT_SCALE = 0.1

# Audience profiles. "additive": tastes add up over the arms, are the same on every platform and never
# change. "shifting": what real audiences do — a hook works for one topic and not another, TikTok
# rewards other lengths and hours than YouTube, a topic's appeal jumps on a day of its own, and luck
# is heavy-tailed (now and then a video goes viral).
PROFILES: tuple[str, ...] = ("additive", "shifting")
INTERACTION_SCALE = 0.25  # topic x hook
PLATFORM_EFFECT_SCALES: MappingProxyType[str, float] = MappingProxyType({"length": 0.3, "posting_hour": 0.25})
# The shift: between these many days after SHIFT_EPOCH, the favourite topic loses and another gains this much.
SHIFT_EPOCH = date(2026, 1, 1)
SHIFT_WINDOW_DAYS = (40, 55)
SHIFT_SIZE = 0.8
LUCK_DF = 3.0  # Student-t degrees of freedom of a video's luck in the shifting profile
VIRAL_P = 0.01
VIRAL_VIEWS = 30.0

IDIOSYNCRATIC_SD = 0.3
VIEWS_SIGMA = 0.7
TAU_HOURS = 30.0
RETENTION_QUALITY_SLOPE = 0.8
RETENTION_VIDEO_SD = 0.25
MAX_COMMENTS_PER_FETCH = 50
COMMENT_PLATFORMS: frozenset[str] = frozenset({"youtube", "instagram"})


@dataclass(frozen=True)
class PlatformBaseline:
    views_scale: float  # final views of a video of quality 0
    retention_base: float  # average share watched (0..1) of a video of quality 0
    like_rate: float  # likes per view at quality 0
    comment_rate: float
    share_rate: float


_NOMINAL_BASELINES: Mapping[str, PlatformBaseline] = MappingProxyType(
    {
        "youtube": PlatformBaseline(1500.0, 0.70, 0.035, 0.0040, 0.004),
        "tiktok": PlatformBaseline(4000.0, 0.55, 0.060, 0.0035, 0.008),
        "instagram": PlatformBaseline(2200.0, 0.62, 0.045, 0.0030, 0.006),
    }
)

# Topics viewers ask for that the arm space does not offer.
_OUTSIDE_TOPICS: tuple[str, ...] = (
    "volcanoes",
    "black holes",
    "dinosaurs",
    "octopuses",
    "the human brain",
    "lightning",
    "mushrooms",
    "deep sea creatures",
)

_LENGTH_COMPLAINTS = {
    "short": "too short, it ended before it got going",
    "medium": "the pacing felt off",
    "long": "way too long, lost me halfway",
}

_GENERIC_TEMPLATES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "praise": (
            "love this 😍",
            "learned something new today",
            "this is so underrated",
            "ok this was actually fascinating",
            "instant follow",
            "best {topic} content on here",
        ),
        "criticism": (
            "meh",
            "this is just clickbait",
            "I've heard this fact a hundred times",
            "kinda boring tbh",
            "did anyone fact check this?",
        ),
        "question": (
            "wait is that actually true?",
            "source?",
            "how do they even know that?",
            "what's the song?",
            "is this AI?",
            "how long did this take to make?",
        ),
        "spam": (
            "free followers 🔥 check my page",
            "💸 made $400 today from home, link in my bio",
            "sub4sub? 🙏",
            "check my page for a giveaway 🎁",
            "follow me i follow back 💯",
        ),
        "request": (
            "do one about {wish}",
            "pls do {wish} next 🙏",
            "can you make one on {wish}?",
        ),
    }
)

# A remark about one feature of the video, picked from the features the audience likes (praise)
# or dislikes (criticism).
_REMARKS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "praise": MappingProxyType(
            {
                "topic": "more {topic} videos please!!",
                "hook": "that {hook} intro got me instantly",
                "length": "perfect length, watched it twice",
                "voice": "the narrator's voice is so calming",
                "caption_style": "the captions are super easy to read",
                "posting_hour": "you always post right when I'm scrolling",
            }
        ),
        "criticism": MappingProxyType(
            {
                "topic": "{topic} again? not my thing",
                "hook": "the {hook} intros are getting old",
                "length": "ngl {length_complaint}",
                "voice": "that narrator voice is grating",
                "caption_style": "can barely read those captions",
                "posting_hour": "why post at {hour}, everyone's busy",
            }
        ),
    }
)

# Every template a comment's text can come from, by kind (for tests that classify comments).
COMMENT_TEMPLATES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {kind: templates + tuple(_REMARKS.get(kind, {}).values()) for kind, templates in _GENERIC_TEMPLATES.items()}
)

_SPAM_P = 0.05
_REQUEST_P = 0.12
_QUESTION_P = 0.15
_REMARK_P = 0.5

_FIRST_NAMES = (
    "maya", "leo", "sam", "ava", "noah", "zoe", "eli", "ivy", "omar", "lena",
    "kai", "ruby", "theo", "nina", "jay", "ana", "felix", "mira", "owen", "sara",
)  # fmt: skip
_HANDLE_TAILS = ("reads", "facts", "daily", "xo", "vibes", "lol", "irl", "explores", "", "official")
_HANDLE_COUNT = 40


def _seed_int(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:16], "big")


def _rng(*parts: object) -> np.random.Generator:
    return np.random.default_rng(_seed_int(*parts))


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def _humanize(value: str) -> str:
    return value.replace("_", " ")


@dataclass(frozen=True)
class AudiencePreferences:
    """The audience's hidden tastes. Evaluation only: nothing in the engine may read them."""

    seed: int
    effects: Mapping[str, Mapping[str, float]]
    baselines: Mapping[str, PlatformBaseline]
    wished_topics: tuple[str, ...]
    wish_weights: tuple[float, ...]
    handles: tuple[str, ...]
    profile: str = "additive"
    interactions: Mapping[tuple[str, str], float] = field(default_factory=dict)  # (topic, hook) -> effect
    # platform -> dimension -> value -> effect
    platform_effects: Mapping[str, Mapping[str, Mapping[str, float]]] = field(default_factory=dict)
    shift_on: date | None = None
    shift: Mapping[str, float] = field(default_factory=dict)  # topic -> change of its effect from shift_on on

    @classmethod
    def from_seed(cls, seed: int, profile: str = "additive") -> AudiencePreferences:
        if profile not in PROFILES:
            raise ValueError(f"unknown audience profile {profile!r}; known: {', '.join(PROFILES)}")
        rng = _rng("preferences", seed)
        effects: dict[str, Mapping[str, float]] = {}
        for dimension, values in ARM_SPACE.items():
            scale = EFFECT_SCALES.get(dimension, DEFAULT_EFFECT_SCALE)
            draws = rng.normal(0.0, scale, len(values))
            draws -= draws.mean()
            effects[dimension] = MappingProxyType({value: float(draw) for value, draw in zip(values, draws)})

        baselines: dict[str, PlatformBaseline] = {}
        for platform in PLATFORMS:
            nominal = _NOMINAL_BASELINES[platform]
            jitter = rng.normal(0.0, 1.0, 5)
            baselines[platform] = PlatformBaseline(
                views_scale=nominal.views_scale * math.exp(0.2 * jitter[0]),
                retention_base=_sigmoid(_logit(nominal.retention_base) + 0.15 * jitter[1]),
                like_rate=nominal.like_rate * math.exp(0.15 * jitter[2]),
                comment_rate=nominal.comment_rate * math.exp(0.15 * jitter[3]),
                share_rate=nominal.share_rate * math.exp(0.15 * jitter[4]),
            )

        topic_effects = effects.get("topic", {})
        favourite_topics = sorted(topic_effects, key=topic_effects.__getitem__, reverse=True)[:2]
        outside = rng.choice(len(_OUTSIDE_TOPICS), size=3, replace=False)
        wished = tuple(_humanize(t) for t in favourite_topics) + tuple(_OUTSIDE_TOPICS[i] for i in sorted(outside))
        weights = rng.dirichlet(np.full(len(wished), 2.0))

        handles: list[str] = []
        while len(handles) < _HANDLE_COUNT:
            first = _FIRST_NAMES[rng.integers(len(_FIRST_NAMES))]
            tail = _HANDLE_TAILS[rng.integers(len(_HANDLE_TAILS))]
            separator = ("", "_", ".")[rng.integers(3)] if tail else ""
            digits = str(rng.integers(1, 1000)) if rng.random() < 0.5 else ""
            handle = f"{first}{separator}{tail}{digits}"
            if handle not in handles:
                handles.append(handle)

        base = cls(
            seed=seed,
            effects=MappingProxyType(effects),
            baselines=MappingProxyType(baselines),
            wished_topics=wished,
            wish_weights=tuple(float(w) for w in weights),
            handles=tuple(handles),
        )
        return base if profile == "additive" else base._shifting()

    def _shifting(self) -> AudiencePreferences:
        """The same tastes with interactions, platform differences and a shift drawn on top."""
        rng = _rng("shifting", self.seed)
        topics, hooks = ARM_SPACE["topic"], ARM_SPACE["hook"]
        matrix = rng.normal(0.0, INTERACTION_SCALE, (len(topics), len(hooks)))
        matrix -= matrix.mean(axis=1, keepdims=True)  # pure interaction: no change to either main effect
        matrix -= matrix.mean(axis=0, keepdims=True)
        interactions = {(t, h): float(matrix[i, j]) for i, t in enumerate(topics) for j, h in enumerate(hooks)}
        platform_effects = {}
        for platform in PLATFORMS:
            per_dimension = {}
            for dimension, scale in PLATFORM_EFFECT_SCALES.items():
                draws = rng.normal(0.0, scale, len(ARM_SPACE[dimension]))
                per_dimension[dimension] = MappingProxyType(
                    {v: float(d) for v, d in zip(ARM_SPACE[dimension], draws - draws.mean())}
                )
            platform_effects[platform] = MappingProxyType(per_dimension)
        shift_on = SHIFT_EPOCH + timedelta(days=int(rng.integers(SHIFT_WINDOW_DAYS[0], SHIFT_WINDOW_DAYS[1] + 1)))
        tastes = dataclasses.replace(
            self,
            profile="shifting",
            interactions=MappingProxyType(interactions),
            platform_effects=MappingProxyType(platform_effects),
        )
        # The topic of the best recipe falls out of favour; one of the others rises.
        loser = tastes.ranked_recipes()[0][1]["topic"]
        others = [t for t in topics if t != loser]
        winner = others[int(rng.integers(len(others)))]
        return dataclasses.replace(
            tastes, shift_on=shift_on, shift=MappingProxyType({loser: -SHIFT_SIZE, winner: SHIFT_SIZE})
        )

    def expected_quality(
        self, features: Mapping[str, str], platform: str | None = None, on: date | None = None
    ) -> float:
        """A video's quality before luck: its arms' effects, their interaction, the platform's own
        tastes (averaged over platforms when none is named, each judging the video by its own posting
        hour), and the shift once it has happened."""
        platforms = [platform] if platform else list(self.platform_effects or PLATFORMS)
        return sum(self.quality_on(platform_arms(features, p), p, on) for p in platforms) / len(platforms)

    def quality_on(self, features: Mapping[str, str], platform: str, on: date | None) -> float:
        quality = self.feature_effect(features)
        quality += self.interactions.get((features.get("topic", ""), features.get("hook", "")), 0.0)
        quality += sum(
            self.platform_effects.get(platform, {}).get(d, {}).get(features.get(d, ""), 0.0)
            for d in PLATFORM_EFFECT_SCALES
        )
        if self.shift_on is not None and on is not None and on >= self.shift_on:
            quality += self.shift.get(features.get("topic", ""), 0.0)
        return quality

    def ranked_recipes(self, on: date | None = None) -> list[tuple[float, dict[str, str]]]:
        """Every combination of arms with its expected quality averaged over the platforms, best first
        (one posting hour for every platform)."""
        dimensions = list(ARM_SPACE)
        recipes = [dict(zip(dimensions, values)) for values in product(*(ARM_SPACE[d] for d in dimensions))]
        return sorted(((self.expected_quality(r, None, on), r) for r in recipes), key=lambda x: -x[0])

    def best_arms(self, on: date | None = None) -> dict[str, str]:
        """The best combination on `on` (for the additive profile, each dimension's best value); where a
        platform prefers another posting hour, that platform's own hour under ``posting_hour@<platform>``.

        The posting hour adds to the quality without interacting with any other arm, so the best recipe
        with each platform's best hour is the best of all recipes with per-platform hours.
        """
        if self.profile == "additive":
            return {d: max(values, key=values.__getitem__) for d, values in self.effects.items()}
        best = dict(self.ranked_recipes(on)[0][1])
        hours = ARM_SPACE["posting_hour"]
        for p in self.platform_effects:
            own = max(hours, key=lambda h: self.quality_on({**best, "posting_hour": h}, p, on))
            if own != best["posting_hour"]:
                best[platform_key("posting_hour", p)] = own
        return best

    def worst_arms(self) -> dict[str, str]:
        return {d: min(values, key=values.__getitem__) for d, values in self.effects.items()}

    def feature_effect(self, features: Mapping[str, str]) -> float:
        """Sum of the effects of the features; unknown dimensions or values contribute 0."""
        return sum(self.effects.get(d, {}).get(v, 0.0) for d, v in features.items())


@dataclass(frozen=True)
class _Post:
    """One publication's hidden response parameters, fixed by the seed and its manifest."""

    platform: str
    remote_id: str
    published_at: datetime
    duration_s: float
    features: Mapping[str, str]
    quality: float
    final_views: float
    retention_logit: float
    measurement_bias: float
    like_rate: float
    comment_rate: float
    share_rate: float

    def age_hours(self, now: datetime) -> float:
        return (now - self.published_at).total_seconds() / 3600.0

    def views_at(self, age_hours: float) -> int:
        if age_hours <= 0:
            return 0
        return math.floor(self.final_views * -math.expm1(-age_hours / TAU_HOURS))

    def snapshot(self, now: datetime) -> MetricSnapshot:
        age = self.age_hours(now)
        views = self.views_at(age)
        if views == 0:
            avg_view_pct = 0.0
        else:
            # The bias is fixed per post and shrinks as views grow: with |bias| <= 2 this keeps
            # views * avg_view_pct, hence watch time, non-decreasing in views.
            noisy = self.retention_logit + self.measurement_bias / math.sqrt(views + 1)
            avg_view_pct = 100.0 * _sigmoid(noisy)
        return MetricSnapshot(
            platform=self.platform,
            remote_id=self.remote_id,
            fetched_at=now,
            window="lifetime",
            age_hours=age,
            views=views,
            likes=math.floor(views * self.like_rate),
            comments=math.floor(views * self.comment_rate),
            shares=math.floor(views * self.share_rate),
            avg_view_pct=avg_view_pct,
            watch_time_s=views * self.duration_s * avg_view_pct / 100.0,
        )

    def comment_age_hours(self, n: int) -> float:
        """Age in hours at which the comment count first reached n (n is 1-based)."""
        needed_views = math.ceil(n / self.comment_rate)
        while math.floor(needed_views * self.comment_rate) < n:
            needed_views += 1
        while needed_views > 1 and math.floor((needed_views - 1) * self.comment_rate) >= n:
            needed_views -= 1
        share = needed_views / self.final_views
        if share >= 1.0:
            return math.inf
        return -TAU_HOURS * math.log1p(-share)


class SimulatedAudience(Closing):
    """``Analytics`` and ``CommentSource`` for every simulated platform, reading the outbox."""

    name = "simulated audience"

    def __init__(self, outbox_dir: Path, seed: int, profile: str = "additive") -> None:
        self.outbox_dir = Path(outbox_dir)
        self.seed = seed
        self._preferences = AudiencePreferences.from_seed(seed, profile)

    def _post(self, publication: Publication) -> _Post:
        platform = publication.platform
        if platform not in PLATFORMS:
            raise ProviderError(
                f"unknown platform {platform!r} for {publication.remote_id}; known: {', '.join(PLATFORMS)}"
            )
        manifest = load_manifest(self.outbox_dir, platform, publication.remote_id, account=publication.account)
        if manifest is None:
            raise ProviderError(
                f"no simulated {platform} post {publication.remote_id} "
                f"(account {publication.account}): its manifest is missing from {self.outbox_dir}"
            )
        return self._post_from_manifest(manifest)

    def _post_from_manifest(self, manifest: Mapping[str, Any]) -> _Post:
        prefs = self._preferences
        platform = manifest["platform"]
        baseline = prefs.baselines[platform]
        raw_features = manifest.get("features") or {}
        # the video as this platform sees it: its own posting hour where the video has one per platform
        features = platform_arms({str(k): str(v) for k, v in raw_features.items()}, platform)

        luck = _rng("video", self.seed, manifest["video_id"])  # shared by the video's posts on every platform
        published_at = datetime.fromisoformat(manifest["published_at"])
        viral = 1.0
        if prefs.profile == "additive":
            quality = prefs.feature_effect(features) + float(luck.normal(0.0, IDIOSYNCRATIC_SD))
        else:
            quality = prefs.quality_on(features, platform, published_at.date())
            quality += IDIOSYNCRATIC_SD * float(luck.standard_t(LUCK_DF)) / math.sqrt(LUCK_DF / (LUCK_DF - 2))
            viral = VIRAL_VIEWS if luck.random() < VIRAL_P else 1.0

        rng = _rng("post", self.seed, platform, manifest["remote_id"])
        views_draw, retention_draw, bias_draw, like_draw, comment_draw, share_draw = rng.normal(0.0, 1.0, 6)
        return _Post(
            platform=platform,
            remote_id=manifest["remote_id"],
            published_at=published_at,
            duration_s=float(manifest["duration_s"]),
            features=MappingProxyType(features),
            quality=quality,
            final_views=viral * baseline.views_scale * math.exp(quality + VIEWS_SIGMA * views_draw),
            retention_logit=_logit(baseline.retention_base)
            + RETENTION_QUALITY_SLOPE * quality
            + RETENTION_VIDEO_SD * retention_draw,
            measurement_bias=0.8 * float(np.clip(bias_draw, -2.5, 2.5)),
            like_rate=min(0.5, baseline.like_rate * math.exp(0.6 * quality + 0.15 * like_draw)),
            comment_rate=min(0.2, baseline.comment_rate * math.exp(0.8 * quality + 0.2 * comment_draw)),
            share_rate=min(0.2, baseline.share_rate * math.exp(0.7 * quality + 0.2 * share_draw)),
        )

    def fetch_metrics(self, publications: Sequence[Publication], now: datetime) -> list[MetricSnapshot]:
        _require_aware(now)
        return [self._post(publication).snapshot(now) for publication in publications]

    def supports_comments(self, platform: str) -> bool:
        return platform in COMMENT_PLATFORMS

    def fetch_comments(self, publication: Publication, now: datetime) -> list[Comment]:
        """The newest comments first, at most ``MAX_COMMENTS_PER_FETCH`` of them."""
        _require_aware(now)
        if publication.platform == "tiktok":
            raise ProviderError(
                f"comments are not readable on TikTok (post {publication.remote_id}): "
                "its API offers them to approved researchers only"
            )
        post = self._post(publication)
        count = post.snapshot(now).comments
        newest = range(count, max(0, count - MAX_COMMENTS_PER_FETCH), -1)
        return [self._comment(post, n, now) for n in newest]

    def _comment(self, post: _Post, n: int, now: datetime) -> Comment:
        prefs = self._preferences
        rng = _rng("comment", self.seed, post.platform, post.remote_id, n)
        kind = self._comment_kind(post, float(rng.random()))
        text = self._comment_text(post, kind, rng)

        age_now = post.age_hours(now)
        arrived = min(max(post.comment_age_hours(n), 0.0), max(age_now, 0.0))
        published_at = post.published_at + timedelta(hours=arrived)

        author = prefs.handles[int(rng.integers(len(prefs.handles)))]
        if kind == "spam":
            like_count = 0
        else:
            eventual_likes = math.exp(rng.normal(0.3, 1.1) + 0.5 * max(post.quality, 0.0))
            like_count = math.floor(eventual_likes * -math.expm1(-(age_now - arrived) / TAU_HOURS))
        return Comment(
            platform=post.platform,
            remote_id=post.remote_id,
            comment_id=f"{post.remote_id}_c{n}",
            author=author,
            text=text,
            published_at=published_at,
            like_count=max(like_count, 0),
        )

    @staticmethod
    def _comment_kind(post: _Post, u: float) -> str:
        if u < _SPAM_P:
            return "spam"
        if u < _SPAM_P + _REQUEST_P:
            return "request"
        if u < _SPAM_P + _REQUEST_P + _QUESTION_P:
            return "question"
        rest = (u - _SPAM_P - _REQUEST_P - _QUESTION_P) / (1.0 - _SPAM_P - _REQUEST_P - _QUESTION_P)
        return "praise" if rest < _sigmoid(1.5 * post.quality + 0.4) else "criticism"

    def _comment_text(self, post: _Post, kind: str, rng: np.random.Generator) -> str:
        prefs = self._preferences
        template = None
        if kind in _REMARKS and rng.random() < _REMARK_P:
            sign = 1.0 if kind == "praise" else -1.0
            candidates = [
                (dimension, sign * prefs.effects[dimension][value])
                for dimension, value in post.features.items()
                if dimension in _REMARKS[kind] and value in prefs.effects.get(dimension, {})
            ]
            candidates = [(d, weight) for d, weight in candidates if weight > 0]
            if candidates:
                weights = np.array([weight for _, weight in candidates])
                chosen = candidates[int(rng.choice(len(candidates), p=weights / weights.sum()))][0]
                template = _REMARKS[kind][chosen]
        if template is None:
            templates = _GENERIC_TEMPLATES[kind]
            template = templates[int(rng.integers(len(templates)))]

        wish = prefs.wished_topics[int(rng.choice(len(prefs.wished_topics), p=prefs.wish_weights))]
        features = post.features
        hour = features.get("posting_hour")
        return template.format(
            topic=_humanize(features.get("topic", "science")),
            hook=_humanize(features.get("hook", "opening")),
            hour=f"{hour}:00" if hour else "that hour",
            length_complaint=_LENGTH_COMPLAINTS.get(features.get("length", ""), "too long"),
            wish=wish,
        )


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware, got {now}")
