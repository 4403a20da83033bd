"""Learning what to make next: the reward, a Bayesian model of the arms, the allocation, A/B experiments, writer hints."""

from shorts_assets.learning.bandit import (
    Observation,
    Posterior,
    Row,
    allocate,
    choose_arms,
    fit,
    merge,
    pooled_prior,
    prob_best,
    rows_of,
    uniform_allocation,
)
from shorts_assets.learning.policy import Decision, decide
from shorts_assets.learning.reward import MATURE_HOURS, Reference, Signals, maturity, reward, score, signals

__all__ = [
    "MATURE_HOURS",
    "Decision",
    "Observation",
    "Posterior",
    "Row",
    "Reference",
    "Signals",
    "allocate",
    "choose_arms",
    "decide",
    "fit",
    "maturity",
    "merge",
    "pooled_prior",
    "prob_best",
    "reward",
    "rows_of",
    "score",
    "signals",
    "uniform_allocation",
]
