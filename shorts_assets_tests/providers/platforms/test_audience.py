"""The simulated audience: monotone, deterministic metrics that reward the hidden best arms, and
comments that are stable, varied and unavailable on TikTok."""

from __future__ import annotations

import dataclasses
import math
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from shorts_assets.core.arms import ARM_SPACE
from shorts_assets.core.errors import ProviderError
from shorts_assets.core.types import PLATFORMS, Publication, PublishRequest
from shorts_assets.providers.platforms.audience import (
    COMMENT_TEMPLATES,
    EFFECT_SCALES,
    MAX_COMMENTS_PER_FETCH,
    AudiencePreferences,
    SimulatedAudience,
)
from shorts_assets.providers.platforms.simulated import SimulatedPlatform

SEED = 11
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)
COUNTERS = ("views", "likes", "comments", "shares", "watch_time_s")


@pytest.fixture
def outbox(tmp_path: Path) -> Path:
    return tmp_path / "outbox"


@pytest.fixture
def media(tmp_path: Path) -> tuple[Path, Path]:
    video, thumbnail = tmp_path / "v.mp4", tmp_path / "t.jpg"
    video.write_bytes(b"mp4")
    thumbnail.write_bytes(b"jpg")
    return video, thumbnail


def publish(
    outbox: Path,
    media: tuple[Path, Path],
    video_id: str,
    features: dict[str, str],
    platform: str = "youtube",
    at: datetime = T0,
    duration_s: float = 40.0,
) -> Publication:
    request = PublishRequest(
        video_id=video_id,
        title=f"Video {video_id}",
        description="",
        tags=(),
        video_path=media[0],
        thumbnail_path=media[1],
        scheduled_at=at,
        duration_s=duration_s,
        features=features,
    )
    return SimulatedPlatform(outbox, platform, now=lambda: at).publish(request)


def random_arms(rng: np.random.Generator) -> dict[str, str]:
    return {d: str(rng.choice(values)) for d, values in ARM_SPACE.items()}


def at_hours(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def classify(text: str) -> str:
    for kind, templates in COMMENT_TEMPLATES.items():
        for template in templates:
            parts = re.split(r"\{\w+\}", template)
            if re.fullmatch(".+".join(re.escape(p) for p in parts), text):
                return kind
    raise AssertionError(f"comment {text!r} matches no template")


# Preferences


def test_preferences_cover_the_arm_space_and_are_seeded():
    prefs = AudiencePreferences.from_seed(SEED)

    assert set(prefs.effects) == set(ARM_SPACE)
    for dimension, values in ARM_SPACE.items():
        assert set(prefs.effects[dimension]) == set(values)
    assert prefs == AudiencePreferences.from_seed(SEED)
    assert prefs.effects != AudiencePreferences.from_seed(SEED + 1).effects
    best = prefs.best_arms()
    assert all(prefs.effects[d][best[d]] == max(prefs.effects[d].values()) for d in ARM_SPACE)


def test_effect_sizes_follow_the_dimension_scales():
    spread = {d: [] for d in ARM_SPACE}
    for seed in range(60):
        prefs = AudiencePreferences.from_seed(seed)
        for d in ARM_SPACE:
            spread[d].extend(prefs.effects[d].values())
    sd = {d: float(np.std(v)) for d, v in spread.items()}

    assert sd["topic"] > sd["hook"] > sd["caption_style"] > sd["voice"]
    assert sd["topic"] == pytest.approx(EFFECT_SCALES["topic"], rel=0.35)
    assert sd["voice"] == pytest.approx(EFFECT_SCALES["voice"], rel=0.5)


def test_different_seeds_prefer_different_arms():
    best = {tuple(sorted(AudiencePreferences.from_seed(s).best_arms().items())) for s in range(5)}
    assert len(best) > 1


def test_missing_or_unknown_features_contribute_nothing():
    prefs = AudiencePreferences.from_seed(SEED)
    best = prefs.best_arms()

    assert prefs.feature_effect({}) == 0.0
    assert prefs.feature_effect({"topic": "volcanoes", "mood": "calm"}) == 0.0
    assert prefs.feature_effect({"topic": best["topic"]}) == prefs.effects["topic"][best["topic"]]
    assert prefs.feature_effect(best) > prefs.feature_effect(prefs.worst_arms())


def test_tiktok_brings_more_views_and_less_retention_than_youtube():
    for seed in range(10):
        baselines = AudiencePreferences.from_seed(seed).baselines
        assert baselines["tiktok"].views_scale > baselines["youtube"].views_scale
        assert baselines["tiktok"].retention_base < baselines["youtube"].retention_base


# Metrics


def test_snapshots_are_monotone_in_age_for_every_counter(outbox, media):
    rng = np.random.default_rng(0)
    publications = [publish(outbox, media, f"mono-{i}", random_arms(rng), platform=PLATFORMS[i % 3]) for i in range(30)]
    audience = SimulatedAudience(outbox, SEED)
    hours = [-5, 0, 0.01, 0.5, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 1000]
    series = [audience.fetch_metrics(publications, at_hours(h)) for h in hours]

    for i in range(len(publications)):
        for counter in COUNTERS:
            values = [getattr(snapshots[i], counter) for snapshots in series]
            assert values == sorted(values), (publications[i].remote_id, counter, values)
        assert series[-1][i].views > 0


def test_watch_time_is_monotone_at_every_single_view(outbox, media):
    rng = np.random.default_rng(1)
    publications = [publish(outbox, media, f"fine-{i}", random_arms(rng)) for i in range(20)]
    audience = SimulatedAudience(outbox, SEED)
    # Steps of about a minute early on, where each step adds a handful of views.
    series = [audience.fetch_metrics(publications, at_hours(m / 60)) for m in range(1, 240)]

    for i in range(len(publications)):
        watch = [snapshots[i].watch_time_s for snapshots in series]
        assert all(b >= a for a, b in zip(watch, watch[1:]))


def test_nothing_is_counted_before_publish(outbox, media):
    publication = publish(outbox, media, "early", AudiencePreferences.from_seed(SEED).best_arms())
    audience = SimulatedAudience(outbox, SEED)

    for now in (at_hours(-3), T0):
        (snapshot,) = audience.fetch_metrics([publication], now)
        assert all(getattr(snapshot, c) == 0 for c in COUNTERS)
        assert snapshot.avg_view_pct == 0.0
        assert audience.fetch_comments(publication, now) == []
    (before,) = audience.fetch_metrics([publication], at_hours(-3))
    assert before.age_hours == pytest.approx(-3)


def test_snapshot_fields_and_saturation(outbox, media):
    publication = publish(outbox, media, "fields", {"topic": "space"}, duration_s=30.0)
    audience = SimulatedAudience(outbox, SEED)
    now = at_hours(48)

    (snapshot,) = audience.fetch_metrics([publication], now)
    assert (snapshot.platform, snapshot.remote_id) == ("youtube", publication.remote_id)
    assert snapshot.window == "lifetime"
    assert snapshot.fetched_at == now
    assert snapshot.age_hours == pytest.approx(48)
    assert 0 < snapshot.avg_view_pct < 100
    assert snapshot.watch_time_s == pytest.approx(snapshot.views * 30.0 * snapshot.avg_view_pct / 100)
    assert snapshot.likes < snapshot.views

    # Views follow 1 - exp(-t / 30 h): about 63 % of the final count after 30 hours.
    (at_tau,) = audience.fetch_metrics([publication], at_hours(30))
    (final,) = audience.fetch_metrics([publication], at_hours(3000))
    assert at_tau.views / final.views == pytest.approx(1 - math.exp(-1), abs=0.01)


def test_same_inputs_give_the_same_snapshot(outbox, media):
    rng = np.random.default_rng(2)
    publications = [publish(outbox, media, f"det-{i}", random_arms(rng), platform=p) for i, p in enumerate(PLATFORMS)]
    now = at_hours(20)

    first = SimulatedAudience(outbox, SEED).fetch_metrics(publications, now)
    assert SimulatedAudience(outbox, SEED).fetch_metrics(publications, now) == first
    assert SimulatedAudience(outbox, SEED).fetch_metrics(publications[::-1], now) == first[::-1]
    assert SimulatedAudience(outbox, SEED + 1).fetch_metrics(publications, now) != first


def test_the_same_video_does_differently_on_each_platform(outbox, media):
    features = AudiencePreferences.from_seed(SEED).best_arms()
    publications = [publish(outbox, media, "cross", features, platform=p) for p in PLATFORMS]
    snapshots = SimulatedAudience(outbox, SEED).fetch_metrics(publications, at_hours(100))
    assert len({s.views for s in snapshots}) == 3


def test_a_missing_manifest_raises_naming_the_remote_id(outbox, media):
    publication = publish(outbox, media, "real", {})
    ghost = dataclasses.replace(publication, remote_id="doesNotExist")
    audience = SimulatedAudience(outbox, SEED)

    with pytest.raises(ProviderError, match="doesNotExist"):
        audience.fetch_metrics([publication, ghost], at_hours(5))
    with pytest.raises(ProviderError, match="doesNotExist"):
        audience.fetch_comments(ghost, at_hours(5))


def test_naive_now_is_refused(outbox, media):
    publication = publish(outbox, media, "naive", {})
    with pytest.raises(ValueError, match="timezone"):
        SimulatedAudience(outbox, SEED).fetch_metrics([publication], datetime(2025, 3, 2))


def test_best_arms_clearly_beat_worst_arms(outbox, media):
    prefs = AudiencePreferences.from_seed(SEED)
    groups = {"best": prefs.best_arms(), "worst": prefs.worst_arms()}
    publications = {
        name: [publish(outbox, media, f"{name}-{i}", arms) for i in range(100)] for name, arms in groups.items()
    }
    audience = SimulatedAudience(outbox, SEED)
    now = at_hours(24 * 14)
    snapshots = {name: audience.fetch_metrics(pubs, now) for name, pubs in publications.items()}
    log_views = {n: np.log1p([s.views for s in snaps]) for n, snaps in snapshots.items()}
    retention = {n: np.array([s.avg_view_pct for s in snaps]) for n, snaps in snapshots.items()}

    def welch_t(a: np.ndarray, b: np.ndarray) -> float:
        return (a.mean() - b.mean()) / math.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))

    assert log_views["best"].mean() - log_views["worst"].mean() > 1.0
    assert welch_t(log_views["best"], log_views["worst"]) > 8
    assert retention["best"].mean() - retention["worst"].mean() > 10
    assert welch_t(retention["best"], retention["worst"]) > 8
    like_rate = {n: np.mean([s.likes / s.views for s in snaps]) for n, snaps in snapshots.items()}
    assert like_rate["best"] > like_rate["worst"]


def test_each_dimension_alone_moves_views_the_right_way(outbox, media):
    """Flipping only the topic from its worst to its best value raises median views."""
    prefs = AudiencePreferences.from_seed(SEED)
    base = prefs.worst_arms()
    improved = {**base, "topic": prefs.best_arms()["topic"]}
    audience = SimulatedAudience(outbox, SEED)
    now = at_hours(24 * 14)
    views = {}
    for name, arms in (("base", base), ("improved", improved)):
        pubs = [publish(outbox, media, f"topic-{name}-{i}", arms) for i in range(100)]
        views[name] = np.median([s.views for s in audience.fetch_metrics(pubs, now)])
    assert views["improved"] > 1.3 * views["base"]


# Comments


def test_comment_support_mirrors_the_real_apis(outbox, media):
    audience = SimulatedAudience(outbox, SEED)
    assert audience.supports_comments("youtube")
    assert audience.supports_comments("instagram")
    assert not audience.supports_comments("tiktok")

    publication = publish(outbox, media, "tt", {}, platform="tiktok")
    with pytest.raises(ProviderError, match="not readable on TikTok"):
        audience.fetch_comments(publication, at_hours(48))


@pytest.mark.parametrize("platform", ["youtube", "instagram"])
def test_comments_are_stable_and_consistent_with_the_snapshot(outbox, media, platform):
    prefs = AudiencePreferences.from_seed(SEED)
    publication = publish(outbox, media, "chatty", prefs.best_arms(), platform=platform)
    audience = SimulatedAudience(outbox, SEED)
    now = at_hours(72)

    comments = audience.fetch_comments(publication, now)
    (snapshot,) = audience.fetch_metrics([publication], now)
    assert len(comments) == min(snapshot.comments, MAX_COMMENTS_PER_FETCH) > 0
    assert len({c.comment_id for c in comments}) == len(comments)
    for comment in comments:
        assert re.fullmatch(rf"{publication.remote_id}_c\d+", comment.comment_id)
        assert (comment.platform, comment.remote_id) == (platform, publication.remote_id)
        assert publication.published_at <= comment.published_at <= now
        assert comment.author in prefs.handles
        assert comment.text
        assert comment.like_count >= 0
        assert comment.parent_id is None
    stamps = [c.published_at for c in comments]
    assert stamps == sorted(stamps, reverse=True)

    assert SimulatedAudience(outbox, SEED).fetch_comments(publication, now) == comments

    later = {c.comment_id: c for c in audience.fetch_comments(publication, at_hours(90))}
    for comment in comments:
        if comment.comment_id in later:
            again = later[comment.comment_id]
            assert (again.text, again.author, again.published_at) == (
                comment.text,
                comment.author,
                comment.published_at,
            )
            assert again.like_count >= comment.like_count


def test_a_large_sample_has_spam_requests_and_sentiment_that_follows_quality(outbox, media):
    prefs = AudiencePreferences.from_seed(SEED)
    audience = SimulatedAudience(outbox, SEED)
    rng = np.random.default_rng(3)
    now = at_hours(24 * 30)
    arm_topics = {t.replace("_", " ") for t in ARM_SPACE["topic"]}

    texts: list[str] = []
    tone: dict[str, list[str]] = {"best": [], "worst": []}
    for i in range(200):
        if i < 50:
            group, arms = "best", prefs.best_arms()
        elif i < 100:
            group, arms = "worst", prefs.worst_arms()
        else:
            group, arms = None, random_arms(rng)
        platform = ("youtube", "instagram")[i % 2]
        publication = publish(outbox, media, f"many-{i}", arms, platform=platform)
        for comment in audience.fetch_comments(publication, now):
            texts.append(comment.text)
            if group:
                tone[group].append(classify(comment.text))

    kinds = [classify(t) for t in texts]
    assert len(texts) > 1000
    assert 0.02 < kinds.count("spam") / len(kinds) < 0.09
    assert "free followers 🔥 check my page" in texts
    requests = [t for t, k in zip(texts, kinds) if k == "request"]
    assert any(t.startswith("do one about ") for t in requests)
    requested = {t.removeprefix("do one about ") for t in requests if t.startswith("do one about ")}
    assert requested - arm_topics, "some requests should be for topics outside the arm space"
    assert kinds.count("question") > 0

    def praise_share(labels: list[str]) -> float:
        return labels.count("praise") / (labels.count("praise") + labels.count("criticism"))

    assert praise_share(tone["best"]) > praise_share(tone["worst"]) + 0.3


# --- the shifting profile ------------------------------------------------------------------------------


def test_the_shifting_profile_keeps_the_additive_tastes_and_adds_what_real_audiences_do():
    additive = AudiencePreferences.from_seed(3)
    shifting = AudiencePreferences.from_seed(3, "shifting")
    assert shifting.effects == additive.effects
    assert additive.interactions == {} and additive.shift_on is None
    # A hook's worth depends on the topic, and the interaction leaves the main effects alone.
    by_topic = {}
    for (topic, _hook), effect in shifting.interactions.items():
        by_topic.setdefault(topic, []).append(effect)
    assert all(abs(sum(v)) < 1e-9 for v in by_topic.values())
    assert max(shifting.interactions.values()) - min(shifting.interactions.values()) > 0.2
    # Platforms disagree about length and posting hour.
    lengths = {p: max(e["length"], key=e["length"].get) for p, e in shifting.platform_effects.items()}
    hours = {p: max(e["posting_hour"], key=e["posting_hour"].get) for p, e in shifting.platform_effects.items()}
    assert len(set(lengths.values()) | set(hours.values())) > 1


def test_after_the_shift_the_favourite_topic_is_no_longer_the_best():
    prefs = AudiencePreferences.from_seed(5, "shifting")
    day_before = prefs.shift_on - timedelta(days=1)
    before, after = prefs.best_arms(on=day_before), prefs.best_arms(on=prefs.shift_on)
    (loser,) = [t for t, change in prefs.shift.items() if change < 0]
    assert before["topic"] == loser != after["topic"]
    recipe = {**before}
    assert prefs.expected_quality(recipe, None, prefs.shift_on) < prefs.expected_quality(recipe, None, day_before)


def test_the_best_recipe_of_the_shifting_profile_is_the_best_of_every_combination():
    prefs = AudiencePreferences.from_seed(2, "shifting")
    ranked = prefs.ranked_recipes()
    assert len(ranked) == 5 * 4 * 3 * 2 * 7 * 4
    assert ranked[0][0] == max(prefs.expected_quality(r) for _, r in ranked)
    best = prefs.best_arms()
    assert {d: v for d, v in best.items() if "@" not in d} == ranked[0][1]
    # each platform's own best hour, where it differs, does better still
    assert any("@" in d for d in best) and prefs.expected_quality(best) > ranked[0][0]


def test_a_post_is_judged_by_its_own_platforms_posting_hour():
    prefs = AudiencePreferences.from_seed(2, "shifting")
    recipe = prefs.ranked_recipes()[0][1]
    for platform in PLATFORMS:
        for hour in ARM_SPACE["posting_hour"]:
            own = {**recipe, f"posting_hour@{platform}": hour}
            assert prefs.expected_quality(own, platform) == prefs.expected_quality(
                {**recipe, "posting_hour": hour}, platform
            )
    other = next(p for p in PLATFORMS if p != "tiktok")
    moved = {**recipe, "posting_hour@tiktok": "09" if recipe["posting_hour"] != "09" else "21"}
    assert prefs.expected_quality(moved, other) == prefs.expected_quality(recipe, other)


def test_an_unknown_profile_is_refused_by_name():
    with pytest.raises(ValueError, match="unknown audience profile 'fickle'; known: additive, shifting"):
        AudiencePreferences.from_seed(1, "fickle")
