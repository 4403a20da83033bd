"""A scikit-learn model of the reward from the arms, to rank whole arm combinations.

The Bayesian model behind the allocation is additive; this random forest may also pick up
interactions between arms (a topic that works only with one hook). It is fitted on the same
observations, cross-validated by video (a video's platforms never sit on both sides of a split)
when there are enough, and used to rank every arm combination. Its feature importances, summed
per dimension, show which choices matter most.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from shorts_assets.learning.bandit import Row

MIN_ROWS = 30
MIN_ROWS_FOR_CV = 60
CV_FOLDS = 5
MAX_CANDIDATES = 5000


@dataclass
class ModelReport:
    fitted: bool
    reason: str | None = None
    rows: int = 0
    cv_r2: float | None = None
    importances: dict[str, float] = field(default_factory=dict)
    top: list[dict] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "fitted": self.fitted,
            "reason": self.reason,
            "rows": self.rows,
            "cv_r2": None if self.cv_r2 is None else round(self.cv_r2, 3),
            "importances": {k: round(v, 3) for k, v in self.importances.items()},
            "top_recipes": self.top,
            "description": self.description(),
        }

    def description(self) -> str:
        if not self.fitted:
            return f"not fitted: {self.reason}"
        cv = f"cross-validated R² {self.cv_r2:.2f}" if self.cv_r2 is not None else f"not cross-validated ({self.reason})"
        return f"random forest on {self.rows} observations, {cv}"


def _encode(arms_list: Sequence[Mapping[str, str]], arm_space: Mapping[str, Sequence[str]]) -> np.ndarray:
    columns = [(d, v) for d, values in arm_space.items() for v in values]
    X = np.zeros((len(arms_list), len(columns)))
    for n, arms in enumerate(arms_list):
        for j, (d, v) in enumerate(columns):
            X[n, j] = arms.get(d) == v
    return X


def rank_recipes(rows: Sequence[Row], arm_space: Mapping[str, Sequence[str]], seed: int = 0, top: int = 5) -> ModelReport:
    """Fit, cross-validate and rank every arm combination (platform effects averaged out)."""
    if len(rows) < MIN_ROWS:
        return ModelReport(False, f"{len(rows)} observations, {MIN_ROWS} wanted", rows=len(rows))
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.model_selection import GroupKFold, cross_val_score

    X = _encode([r.arms for r in rows], arm_space)
    y = np.array([r.reward for r in rows])
    w = np.array([r.weight for r in rows])
    model = RandomForestRegressor(n_estimators=80, min_samples_leaf=3, max_features=0.5, random_state=seed, n_jobs=1)
    report = ModelReport(True, rows=len(rows))
    videos = [r.video for r in rows]
    n_videos = len(set(videos))
    if len(rows) >= MIN_ROWS_FOR_CV and n_videos >= CV_FOLDS:
        scores = cross_val_score(
            model, X, y, groups=videos, cv=GroupKFold(n_splits=CV_FOLDS), scoring="r2", params={"sample_weight": w}
        )
        report.cv_r2 = float(np.mean(scores))
    else:
        report.reason = f"{len(rows)} observations, {MIN_ROWS_FOR_CV} wanted for cross-validation"
    model.fit(X, y, sample_weight=w)

    offset = 0
    for dimension, values in arm_space.items():
        report.importances[dimension] = float(model.feature_importances_[offset : offset + len(values)].sum())
        offset += len(values)

    dimensions = list(arm_space)
    combos = itertools.product(*(arm_space[d] for d in dimensions))
    candidates = [dict(zip(dimensions, c)) for c in itertools.islice(combos, MAX_CANDIDATES)]
    predicted = model.predict(_encode(candidates, arm_space))
    order = np.argsort(-predicted)[:top]
    report.top = [{"arms": candidates[i], "predicted_reward": round(float(predicted[i]), 4)} for i in order]
    return report
