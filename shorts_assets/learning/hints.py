"""What the script writer is told of what the learner knows: best and worst videos, asked-for topics, winning arms,
and the videos a person rejected before they were published, with the reviewer's reasons.

A video's reward is the weighted mean of its platforms' rewards (recomputed against the channel's
current per-platform reference); only videos with a script and enough matured observation weight
count, from the last `days` days of batches. The winning arms are the values promoted by a finished
experiment and, in the other dimensions not under test, a value the model holds to be the best with
probability at least `confident` once it has learned from data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

from shorts_assets.learning.bandit import observations_of, rows_of
from shorts_assets.learning.reward import Reference

TOP_N = 3
HINT_DAYS = 30
MIN_VIDEO_WEIGHT = 0.5
CONFIDENT_P_BEST = 0.8
MAX_REJECTIONS = 5


def _text(value: Any) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""


def video_rewards(
    state: Mapping[str, Any], reference: Reference | None = None, *, since: date | None = None
) -> dict[str, dict[str, Any]]:
    """video id -> {reward, weight, arms}: each video's platforms pooled, from batches on or after `since`."""
    batch_of = {k.split("|")[0]: str(e.get("batch_date") or "") for k, e in observations_of(state).items()}
    after = since.isoformat() if since else ""
    totals: dict[str, dict[str, Any]] = {}
    for row in rows_of(state, reference):
        if batch_of.get(row.video, "") < after:
            continue
        t = totals.setdefault(row.video, {"sum": 0.0, "weight": 0.0, "arms": dict(row.arms)})
        t["sum"] += row.reward * row.weight
        t["weight"] += row.weight
    return {
        v: {"reward": t["sum"] / t["weight"], "weight": t["weight"], "arms": t["arms"]}
        for v, t in totals.items()
        if t["weight"] > 0
    }


def winning_arms(
    p_best: Mapping[str, Mapping[str, float]],
    promoted: Mapping[str, str] | None = None,
    *,
    learned: bool = True,
    confident: float = CONFIDENT_P_BEST,
    under_test: Iterable[str] = (),
) -> dict[str, str]:
    """dimension -> value: an experiment's promoted winner, else a value confidently the best.

    A dimension under test has no winner yet.
    """
    out: dict[str, str] = {}
    testing = set(under_test)
    if learned:
        for dimension, probs in p_best.items():
            if probs and dimension not in testing:
                value, p = max(probs.items(), key=lambda kv: (kv[1], kv[0]))
                if p >= confident:
                    out[dimension] = value
    out.update(promoted or {})
    return out


def rejection_hints(
    rejections: Iterable[Mapping[str, Any]], scripts: Mapping[str, Mapping[str, Any]], *, n: int = MAX_REJECTIONS
) -> list[dict[str, Any]]:
    """The `n` newest rejections (given newest first, each {"video_id", "reason"}) as the writer is told
    them: the rejected video's title, hook and arms, and why a person rejected it."""
    out = []
    for rejection in rejections:
        script = scripts.get(str(rejection.get("video_id")))
        reason = _text(rejection.get("reason"))
        if not isinstance(script, Mapping) or not reason:
            continue
        out.append(
            {
                "title": _text(script.get("title")),
                "hook": _text(script.get("hook")),
                "arms": {str(k): str(v) for k, v in (script.get("arms") or {}).items()},
                "rejected_because": reason,
            }
        )
        if len(out) == n:
            break
    return out


def writer_hints(
    state: Mapping[str, Any],
    scripts: Mapping[str, Mapping[str, Any]],
    *,
    reference: Reference | None = None,
    today: date | None = None,
    requested_topics: Iterable[str] = (),
    winning: Mapping[str, str] | None = None,
    rejected: Iterable[Mapping[str, Any]] = (),
    days: int = HINT_DAYS,
    n: int = TOP_N,
) -> dict[str, Any]:
    """{"top_performers", "bottom_performers", "requested_topics", "winning_arms", "rejected_by_reviewer"} for
    the script writer; `rejected` comes from `rejection_hints`."""
    since = today - timedelta(days=days - 1) if today else None
    scored = [
        (v, r)
        for v, r in video_rewards(state, reference, since=since).items()
        if r["weight"] >= MIN_VIDEO_WEIGHT
        and isinstance(scripts.get(v), Mapping)
        and (_text(scripts[v].get("title")) or _text(scripts[v].get("hook")))
    ]
    ranked = sorted(scored, key=lambda item: (-item[1]["reward"], item[0]))

    def describe(video: str, r: Mapping[str, Any]) -> dict[str, Any]:
        script = scripts[video]
        return {
            "title": _text(script.get("title")),
            "hook": _text(script.get("hook")),
            "arms": {str(k): str(v) for k, v in r["arms"].items()},
            "reward": round(float(r["reward"]), 3),
        }

    top = ranked[:n]
    chosen = {v for v, _ in top}
    bottom = [(v, r) for v, r in reversed(ranked) if v not in chosen][:n]
    return {
        "top_performers": [describe(v, r) for v, r in top],
        "bottom_performers": [describe(v, r) for v, r in bottom],
        "requested_topics": [str(t) for t in requested_topics][:10],
        "winning_arms": dict(winning or {}),
        "rejected_by_reviewer": [dict(r) for r in rejected],
    }
