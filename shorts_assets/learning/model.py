"""A scikit-learn model of the reward from the arms and the script's text, to rank recipes and scripts.

The Bayesian model behind the allocation is additive in the arms; this random forest may also pick
up interactions between arms (a topic that works only with one hook) and what the words of a script
add (a hook that asks a question, a number in the title, a long narration, the title's and hook's
vocabulary as a few TF-IDF components). It is fitted on the same observations, cross-validated by
video (a video's platforms never sit on both sides of a split, and the TF-IDF vocabulary is learned
on the training folds only) when there are enough, and reports the cross-validated R² of arms alone
beside it, so it shows whether the text adds anything. It ranks every arm combination (for a
typical script) and any candidate scripts. Its feature importances are summed per dimension, per
text feature, and over the TF-IDF components. A fitted model is saved to a file (joblib) so a later
batch can load it and rank its candidate scripts.
"""

from __future__ import annotations

import itertools
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from shorts_assets.learning.bandit import Row
from shorts_assets.learning.script_text import NUMERIC_FEATURES, TEXT_COLUMN, TextComponents, features

MIN_ROWS = 30
MIN_ROWS_FOR_CV = 60
CV_FOLDS = 5
MAX_CANDIDATES = 5000
TEXT_COMPONENTS = 3
TEXT_TERMS = f"{TEXT_COLUMN}_terms"


def _field(item: Any, name: str) -> Any:
    return item.get(name) if isinstance(item, Mapping) else getattr(item, name, None)


@dataclass
class RewardModel:
    """A fitted forest and what it needs to turn arms and scripts into its inputs."""

    arm_space: Mapping[str, Sequence[str]]
    forest: Any
    text: TextComponents | None
    typical_text: np.ndarray  # the text block of an average training script

    def _arms(self, arms_list: Sequence[Mapping[str, str]]) -> np.ndarray:
        columns = [(d, v) for d, values in self.arm_space.items() for v in values]
        X = np.zeros((len(arms_list), len(columns)))
        for n, arms in enumerate(arms_list):
            arms = arms if isinstance(arms, Mapping) else {}
            for j, (d, v) in enumerate(columns):
                X[n, j] = arms.get(d) == v
        return X

    def _text_block(self, scripts: Sequence[Any]) -> np.ndarray:
        read = [features(s) for s in scripts]
        numeric = np.array([[f[name] for name in NUMERIC_FEATURES] for f in read]).reshape(len(read), -1)
        return np.hstack([numeric, self.text.transform([f[TEXT_COLUMN] for f in read])])

    def matrix(self, arms_list: Sequence[Mapping[str, str]], scripts: Sequence[Any] | None) -> np.ndarray:
        X = self._arms(arms_list)
        if self.text is None:
            return X
        if scripts is None:
            block = np.tile(self.typical_text, (len(arms_list), 1))
        else:
            block = self._text_block(scripts)
        return np.hstack([X, block])

    def predict(self, arms_list: Sequence[Mapping[str, str]], scripts: Sequence[Any] | None = None) -> np.ndarray:
        """Predicted reward of each (arms, script); without scripts, of the arms with a typical script."""
        if not arms_list:
            return np.zeros(0)
        return self.forest.predict(self.matrix(arms_list, scripts))

    def feature_groups(self) -> list[str]:
        """The name each input column's importance is summed under."""
        groups = [d for d, values in self.arm_space.items() for _ in values]
        if self.text is not None:
            groups += list(NUMERIC_FEATURES) + [TEXT_TERMS] * self.text.n_components
        return groups


def fit_model(
    arms_list: Sequence[Mapping[str, str]],
    scripts: Sequence[Any] | None,
    y: np.ndarray,
    w: np.ndarray,
    arm_space: Mapping[str, Sequence[str]],
    seed: int = 0,
) -> RewardModel:
    """A forest on the arms, and on the scripts' text when scripts are given."""
    from sklearn.ensemble import RandomForestRegressor

    forest = RandomForestRegressor(n_estimators=80, min_samples_leaf=3, max_features=0.5, random_state=seed, n_jobs=1)
    # a plain copy of the arm space, so the model can be pickled whatever mapping it was given
    model = RewardModel({d: tuple(values) for d, values in arm_space.items()}, forest, None, np.zeros(0))
    if scripts is not None:
        model.text = TextComponents(TEXT_COMPONENTS, seed).fit([features(s)[TEXT_COLUMN] for s in scripts])
        model.typical_text = model._text_block(scripts).mean(axis=0)
    forest.fit(model.matrix(arms_list, scripts), y, sample_weight=w)
    return model


@dataclass
class ModelReport:
    fitted: bool
    reason: str | None = None
    rows: int = 0
    cv_r2: float | None = None
    cv_r2_arms_only: float | None = None
    uses_text: bool = False
    importances: dict[str, float] = field(default_factory=dict)
    top: list[dict] = field(default_factory=list)
    model: RewardModel | None = field(default=None, repr=False)

    def to_json(self) -> dict:
        return {
            "fitted": self.fitted,
            "reason": self.reason,
            "rows": self.rows,
            "cv_r2": None if self.cv_r2 is None else round(self.cv_r2, 3),
            "cv_r2_arms_only": None if self.cv_r2_arms_only is None else round(self.cv_r2_arms_only, 3),
            "uses_script_text": self.uses_text,
            "importances": {k: round(v, 3) for k, v in self.importances.items()},
            "top_recipes": self.top,
            "description": self.description(),
        }

    def description(self) -> str:
        if not self.fitted:
            return f"not fitted: {self.reason}"
        inputs = "arms and script text" if self.uses_text else "arms"
        if self.cv_r2 is None:
            cv = f"not cross-validated ({self.reason})"
        else:
            cv = f"cross-validated R² {self.cv_r2:.2f}"
            if self.cv_r2_arms_only is not None:
                cv += f" (arms alone {self.cv_r2_arms_only:.2f})"
        return f"random forest on {self.rows} observations of {inputs}, {cv}"


def _cross_validate(
    arms_list: list, scripts: list | None, y: np.ndarray, w: np.ndarray, videos: list[str], arm_space, seed: int
) -> float:
    """Mean weighted R² over folds that keep each video's observations together."""
    from sklearn.metrics import r2_score
    from sklearn.model_selection import GroupKFold

    scores = []
    for train, test in GroupKFold(n_splits=CV_FOLDS).split(np.zeros(len(y)), y, groups=videos):
        model = fit_model(
            [arms_list[i] for i in train],
            None if scripts is None else [scripts[i] for i in train],
            y[train],
            w[train],
            arm_space,
            seed,
        )
        predicted = model.predict([arms_list[i] for i in test], None if scripts is None else [scripts[i] for i in test])
        scores.append(r2_score(y[test], predicted, sample_weight=w[test]))
    return float(np.mean(scores))


def rank_recipes(
    rows: Sequence[Row],
    arm_space: Mapping[str, Sequence[str]],
    seed: int = 0,
    top: int = 5,
    scripts: Mapping[str, Any] | None = None,
) -> ModelReport:
    """Fit and cross-validate the model, and rank every arm combination (platform effects averaged out).

    `scripts` maps a video id to its script; with any script text among the rows' videos, the text
    features join the arms (a video without a script reads as an empty one).
    """
    if len(rows) < MIN_ROWS:
        return ModelReport(False, f"{len(rows)} observations, {MIN_ROWS} wanted", rows=len(rows))
    scripts = scripts or {}
    row_scripts = [scripts.get(r.video) or {} for r in rows]
    uses_text = any(features(s)[TEXT_COLUMN] or features(s)["narration_words"] for s in row_scripts)
    text_input = row_scripts if uses_text else None
    arms_list = [dict(r.arms) for r in rows]
    y = np.array([r.reward for r in rows], dtype=float)
    w = np.array([r.weight for r in rows], dtype=float)

    report = ModelReport(True, rows=len(rows), uses_text=uses_text)
    videos = [r.video for r in rows]
    if len(rows) >= MIN_ROWS_FOR_CV and len(set(videos)) >= CV_FOLDS:
        report.cv_r2 = _cross_validate(arms_list, text_input, y, w, videos, arm_space, seed)
        if uses_text:
            report.cv_r2_arms_only = _cross_validate(arms_list, None, y, w, videos, arm_space, seed)
    else:
        report.reason = f"{len(rows)} observations, {MIN_ROWS_FOR_CV} wanted for cross-validation"
    model = report.model = fit_model(arms_list, text_input, y, w, arm_space, seed)

    for group, importance in zip(model.feature_groups(), model.forest.feature_importances_):
        report.importances[group] = report.importances.get(group, 0.0) + float(importance)

    dimensions = list(arm_space)
    combos = itertools.product(*(arm_space[d] for d in dimensions))
    candidates = [dict(zip(dimensions, c)) for c in itertools.islice(combos, MAX_CANDIDATES)]
    predicted = model.predict(candidates)
    order = np.argsort(-predicted, kind="stable")[:top]
    report.top = [{"arms": candidates[i], "predicted_reward": round(float(predicted[i]), 4)} for i in order]
    return report


@dataclass(frozen=True)
class RankedScript:
    index: int  # the candidate's position in the list given
    predicted_reward: float | None
    candidate: Any


def rank_scripts(model: ModelReport | RewardModel | None, candidates: Sequence[Any]) -> list[RankedScript]:
    """Candidate scripts (mappings or Scripts, each with its `arms`) best first by predicted reward.

    Without a fitted model every prediction is None and the candidates keep their order.
    """
    fitted = model.model if isinstance(model, ModelReport) else model
    items = list(candidates)
    if fitted is None or not items:
        return [RankedScript(i, None, c) for i, c in enumerate(items)]
    arms_list = [dict(_field(c, "arms") or {}) if isinstance(_field(c, "arms"), Mapping) else {} for c in items]
    predicted = fitted.predict(arms_list, items)
    ranked = [
        RankedScript(i, round(float(p), 4) if math.isfinite(float(p)) else None, c)
        for i, (p, c) in enumerate(zip(predicted, items))
    ]
    return sorted(ranked, key=lambda r: (r.predicted_reward is None, -(r.predicted_reward or 0.0), r.index))


def save_model(model: RewardModel, path: Path) -> Path:
    """Write the model to `path` whole or not at all: a reader never sees a half-written file."""
    import joblib

    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        joblib.dump(model, temporary, compress=3)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def load_model(path: Path) -> RewardModel:
    """The model saved at `path`; raises if the file is missing, unreadable or holds something else."""
    import joblib

    model = joblib.load(path)
    if not isinstance(model, RewardModel):
        raise ValueError(f"{path} holds a {type(model).__name__}, not a reward model")
    return model
