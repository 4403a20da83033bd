"""Writing a day's batch of scripts: arms drawn from the channel's latest strategy, the batch cut to
what the daily budget covers, and each video kept as the best of its candidate scripts.

Each video's arms are written up as several candidate scripts (SCRIPT_CANDIDATES), the first from
the video's own seed, and the reward model the latest strategy saved keeps the one it predicts to
earn the most. Without a model that can be loaded, the first candidate is kept.

A person may force some arms for a run (a topic, a voice, …): every video still to write takes them
instead of the strategy's draw, and its row records which dimensions were forced, so the learner can
tell a person's choice from its own.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from shorts_assets.core.arms import PLATFORM_SEPARATOR
from shorts_assets.core.channels import ChannelConfig
from shorts_assets.core.errors import BatchFailed, BudgetExhausted, ConfigError
from shorts_assets.core.protocols import ScriptWriter
from shorts_assets.core.records import to_json
from shorts_assets.core.types import Script
from shorts_assets.db.store import Store, StrategyRow
from shorts_assets.learning import choose_arms, uniform_allocation
from shorts_assets.learning.model import RankedScript, RewardModel, load_model, rank_scripts
from shorts_assets.loop.batch import Log, video_id_for
from shorts_assets.providers.estimate import VideoEstimate
from shorts_assets.providers.net.costs import Budget


def _seed(*parts: str) -> int:
    return zlib.crc32("|".join(parts).encode())


def candidate_seeds(video_id: str, strategy_version: str, count: int) -> list[int]:
    """The seeds of a video's candidate scripts: first the video's own seed, which also draws its arms,
    then seeds derived from it."""
    seed = _seed(video_id, strategy_version)
    return [seed] + [_seed(str(seed), str(n)) for n in range(1, count)]


@dataclass
class ScriptBatch:
    """What writing the batch did, for the asset's report."""

    version: str
    writer: str
    candidates: int
    ranked_by: str
    existing: set[str]
    forced: dict[str, str] = field(default_factory=dict)  # dimension -> value a person chose for the run
    written: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    costs: dict[str, float] = field(default_factory=dict)  # video id -> USD spent on its scripts
    chosen: dict[str, dict[str, Any]] = field(default_factory=dict)  # video id -> which candidate was kept


def write_batch(
    log: Log,
    store: Store,
    channel: ChannelConfig,
    day: date,
    *,
    budget: Budget,
    estimate: VideoEstimate,
    open_writer: Callable[[], AbstractContextManager[ScriptWriter]],
    writer_name: str,
    candidates: int,
    writes_any_topic: bool,
    forced: Mapping[str, str] = MappingProxyType({}),
) -> ScriptBatch:
    """Write and store the scripts the batch still lacks.

    `forced` maps dimensions to the values a person chose for this run; they replace the strategy's
    draw for every video written now (videos kept from an earlier run keep their arms). A dimension
    or value outside the channel's arm space raises ``ConfigError`` naming it, before anything is
    read from a provider or written.

    Before anything is paid for, the batch is cut to the videos the channel's remaining daily budget
    covers at their estimated cost (every candidate paid for); a budget below one video raises
    ``BatchFailed`` before any call.
    """
    count = max(1, candidates)
    strategy = store.latest_strategy(channel.name, before=day)
    arm_space = channel.arm_space()
    if strategy and writes_any_topic:
        arm_space = {**arm_space, "topic": (*arm_space["topic"], *strategy.summary.get("adopted_topics", []))}
    forced = validate_forced(forced, arm_space, channel.name)
    allocation = strategy.allocation if strategy else uniform_allocation(arm_space)
    version = strategy.version if strategy else f"{channel.name}:prior"
    hints = (strategy.summary.get("hints") if strategy else None) or {}

    existing = {row.video_id for row in store.batch(channel.name, day)}
    wanted = [p for p in range(1, channel.videos_per_day + 1) if video_id_for(channel.name, day, p) not in existing]
    affordable = affordable_videos(budget, estimate, len(wanted), channel.name)
    if affordable < len(wanted):
        log.warning(
            f"{channel.name}: the daily budget covers {affordable} of {len(wanted)} videos at about "
            f"${estimate.total_usd:.4f} each; the rest wait for a later run"
        )
    to_write = wanted[:affordable]
    ranker, ranked_by = ranking_model(log, strategy) if to_write else (None, "nothing to write")
    batch = ScriptBatch(version, writer_name, count, ranked_by, existing, forced)
    if forced and existing:
        log.warning(
            f"{channel.name}: {len(existing)} video(s) of {day} were written by an earlier run and keep their "
            f"arms; the forced {arm_list(forced)} apply only to the {len(to_write)} written now"
        )
    if not to_write:
        return batch
    with open_writer() as writer:
        batch.writer = writer.name
        for position in to_write:
            video_id = video_id_for(channel.name, day, position)
            seeds = candidate_seeds(video_id, version, count)
            arms = with_forced(choose_arms(allocation, arm_space, np.random.default_rng(seeds[0])), forced)
            spent_before = budget.spent_usd()
            content = {d: v for d, v in arms.items() if PLATFORM_SEPARATOR not in d}  # what the writer realises
            drafts, errors, refused = _write_candidates(log, writer, video_id, content, seeds, hints, channel.language)
            batch.costs[video_id] = budget.spent_usd() - spent_before
            if not drafts:
                batch.failed[video_id] = errors[-1]
                if refused:
                    break
                continue
            kept = _best(log, ranker, video_id, drafts)
            stored = store.add_script(
                video_id=video_id,
                channel=channel.name,
                batch_date=day,
                position=position,
                strategy_version=version,
                arms=arms,
                script=to_json(kept.candidate),
                writer=writer.name,
                forced_arms=tuple(forced),
            )
            if not stored:  # another run of this partition wrote the video's script first: its own stands
                log.info(f"{video_id}: written by another run of the partition in the meantime; that script is kept")
                batch.existing.add(video_id)
                continue
            batch.written.append(video_id)
            batch.chosen[video_id] = {
                "written": len(drafts),
                "kept": kept.index + 1,
                "predicted_reward": kept.predicted_reward,
            }
            if refused:
                break
    if batch.failed and not batch.written and not existing:
        raise BatchFailed(f"no script could be written: {next(iter(batch.failed.values()))}")
    return batch


def with_forced(drawn: Mapping[str, str], forced: Mapping[str, str]) -> dict[str, str]:
    """The drawn arms with the forced ones in their place, on every platform: a forced dimension keeps
    no per-platform value the strategy drew."""
    kept = {k: v for k, v in drawn.items() if k.partition(PLATFORM_SEPARATOR)[0] not in forced}
    return {**kept, **forced}


def validate_forced(forced: Mapping[str, str], arm_space: Mapping[str, Sequence[str]], channel: str) -> dict[str, str]:
    """The forced arms, checked against the channel's arm space; ConfigError names a bad dimension or value."""
    for dimension, value in forced.items():
        if dimension not in arm_space:
            raise ConfigError(f"unknown arm dimension {dimension!r} to force; known: {', '.join(arm_space)}")
        if value not in arm_space[dimension]:
            raise ConfigError(
                f"channel {channel} has no {dimension} arm {value!r} to force; known: {', '.join(arm_space[dimension])}"
            )
    return dict(forced)


def arm_list(arms: Mapping[str, str]) -> str:
    """`topic=space, voice=en-gb`, for messages."""
    return ", ".join(f"{d}={v}" for d, v in arms.items())


def ranking_model(log: Log, strategy: StrategyRow | None) -> tuple[RewardModel | None, str]:
    """The reward model the latest strategy saved, and what the metadata says ranked the candidates."""
    path = strategy.summary.get("model_path") if strategy else None
    if not path:
        return None, "no fitted model yet: each video keeps its first candidate"
    try:
        return load_model(Path(path)), str(path)
    except Exception as exc:  # a missing or damaged model file must never stop the batch
        log.warning(
            f"the reward model at {path} could not be loaded ({type(exc).__name__}: {exc}); "
            "each video keeps its first candidate"
        )
        return None, f"unreadable model {path}: each video keeps its first candidate"


def _write_candidates(
    log: Log,
    writer: ScriptWriter,
    video_id: str,
    arms: Mapping[str, str],
    seeds: Sequence[int],
    hints: Mapping[str, Any],
    language: str = "en",
) -> tuple[list[Script], list[str], bool]:
    """The candidates that could be written, the errors of those that could not, and whether the
    budget refused one (every later script would be refused the same way, so writing stops there)."""
    drafts, errors = [], []
    for n, seed in enumerate(seeds, start=1):
        which = video_id if len(seeds) == 1 else f"{video_id} (candidate {n} of {len(seeds)})"
        try:
            drafts.append(writer.write(video_id, arms, seed, hints=hints, language=language))
        except BudgetExhausted as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
            log.warning(f"{which}: script refused: {errors[-1]}")
            return drafts, errors, True
        except Exception as exc:  # one script's failure leaves the others written
            errors.append(f"{type(exc).__name__}: {exc}")
            log.warning(f"{which}: script failed: {errors[-1]}")
    return drafts, errors, False


def _best(log: Log, model: RewardModel | None, video_id: str, drafts: list[Script]) -> RankedScript:
    """The candidate the model predicts to earn the most; the first when it cannot tell."""
    try:
        return rank_scripts(model, drafts)[0]
    except Exception as exc:  # a model that cannot read these scripts must never stop the batch
        log.warning(
            f"{video_id}: the reward model could not rank its scripts ({type(exc).__name__}: {exc}); "
            "the first candidate is kept"
        )
        return RankedScript(0, None, drafts[0])


def affordable_videos(budget: Budget, estimate: VideoEstimate, wanted: int, channel: str) -> int:
    """How many of the wanted videos the rest of today's budget covers; none raises before any call."""
    if wanted == 0 or estimate.total_usd <= 0 or budget.daily_limit_usd is None:
        return wanted
    remaining = budget.daily_limit_usd - budget.spent_usd()
    count = min(wanted, int(remaining // estimate.total_usd)) if remaining > 0 else 0
    if count == 0:
        budget.exhausted(f"the daily budget of ${budget.daily_limit_usd:.2f} does not cover one more video today")
        raise BatchFailed(
            f"channel {channel}: the daily budget of ${budget.daily_limit_usd:.2f} "
            f"(${budget.spent_usd():.2f} spent today, UTC) does not cover one video at its estimated "
            f"${estimate.total_usd:.4f} ({estimate.describe()}); nothing was sent to any paid provider. "
            "Raise SHORTS_DAILY_BUDGET_USD or choose cheaper providers."
        )
    return count
