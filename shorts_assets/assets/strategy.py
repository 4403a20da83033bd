"""strategy: what the channel makes next, learned from the trailing cohorts and its own previous date.

The learning state (every scored observation of the channel) is carried from strategy[c|d-1]; the
last week's cohorts, still maturing, are re-read from their newest snapshots. Other channels'
learned arm effects form a pooled prior, so a new channel starts warm.
"""


import warnings
import zlib
from collections import Counter
from datetime import timedelta

import dagster as dg

from shorts_assets.assets.batch import markdown_table, partition_of
from shorts_assets.assets.comments import comments
from shorts_assets.assets.metrics import metrics
from shorts_assets.constants import LEARN
from shorts_assets.learning import Observation, decide, merge, signals
from shorts_assets.learning.bandit import STATE_FORMAT
from shorts_assets.partitions import LEARNING_WINDOW_DAYS, loop_partitions
from shorts_assets.resources import ChannelsResource, DatabaseResource


def _trailing(start_offset: int, end_offset: int) -> dg.MultiPartitionMapping:
    """Same channel, a window of dates relative to this one."""
    with warnings.catch_warnings():
        # Multi-dimensional mappings are marked beta; they are the documented way to offset one dimension.
        warnings.simplefilter("ignore", dg.BetaWarning)
        return _mapping(start_offset, end_offset)


def _mapping(start_offset: int, end_offset: int) -> dg.MultiPartitionMapping:
    return dg.MultiPartitionMapping(
        {
            "channel": dg.DimensionPartitionMapping("channel", dg.IdentityPartitionMapping()),
            "date": dg.DimensionPartitionMapping(
                "date",
                dg.TimeWindowPartitionMapping(
                    start_offset=start_offset, end_offset=end_offset, allow_nonexistent_upstream_partitions=True
                ),
            ),
        }
    )


@dg.asset(
    partitions_def=loop_partitions,
    group_name=LEARN,
    deps=[
        dg.AssetDep(metrics, partition_mapping=_trailing(-(LEARNING_WINDOW_DAYS - 1), 0)),
        dg.AssetDep(comments, partition_mapping=_trailing(-(LEARNING_WINDOW_DAYS - 1), 0)),
        dg.AssetDep("strategy", partition_mapping=_trailing(-1, -1)),
    ],
    kinds={"python"},
)
def strategy(
    context: dg.AssetExecutionContext,
    database: DatabaseResource,
    channels: ChannelsResource,
) -> dg.MaterializeResult:
    """The next batch's allocation over the content arms (Bayesian model, Thompson sampling, exploration floor)."""
    channel_name, day = partition_of(context)
    channel = channels.get(channel_name)
    store = database.store()

    previous = store.latest_strategy(channel_name, before=day)
    carried = previous.state if previous and previous.state.get("format") == STATE_FORMAT else None
    known = set((carried or {}).get("observations", {}))
    window_start = day - timedelta(days=LEARNING_WINDOW_DAYS - 1)
    videos = store.channel_video_arms(channel_name, through=day)
    # Videos still maturing (in the window) are re-read; older ones keep what the state learned.
    refresh = [
        video_id
        for video_id, info in videos.items()
        if info["batch_date"] >= window_start or not any(k.startswith(f"{video_id}|") for k in known)
    ]
    observations, skipped = [], Counter()
    for snapshot in store.latest_snapshots(refresh):
        read = signals(snapshot)
        if read.skipped:
            skipped[read.skipped] += 1
            continue
        info = videos[snapshot["video_id"]]
        observations.append(
            Observation(
                key=f"{snapshot['video_id']}|{snapshot['platform']}",
                arms=info["arms"],
                signals=read,
                batch_date=info["batch_date"].isoformat(),
            )
        )
    state = merge(carried, observations)
    others = []
    for other in channels.channels:
        if other.name != channel_name:
            row = store.latest_strategy(other.name, before=day + timedelta(days=1))
            if row and row.summary.get("centred_effects"):
                others.append(row.summary["centred_effects"])
    arm_space = channel.arm_space()
    decision = decide(state, arm_space, channel.exploration, seed=zlib.crc32(f"{channel_name}|{day}".encode()), others=others)
    effects = decision.effects(arm_space)
    summary = {
        "previous_version": previous.version if previous else None,
        "observations": len(state["observations"]),
        "new_or_refreshed": len(observations),
        "skipped_snapshots": dict(skipped),
        "lacking": decision.lacking,
        "exploration": channel.exploration,
        "pooled_from_channels": decision.pooled_from,
        "p_best": decision.p_best,
        "effects": effects,
        "centred_effects": decision.posterior.centred_effects(arm_space),
        "reference": decision.reference.to_json(),
    }
    version = store.save_strategy(
        channel=channel_name,
        strategy_date=day,
        videos_per_day=channel.videos_per_day,
        allocation=decision.allocation,
        state=state,
        summary=summary,
    )
    for reason in decision.lacking:
        context.log.info(f"{channel_name}: {reason}")

    rows = []
    for dimension, shares in decision.allocation.items():
        best = max(shares, key=shares.get)
        for value, share in sorted(shares.items(), key=lambda kv: -kv[1]):
            effect = effects[dimension][value]
            rows.append(
                [
                    dimension,
                    value + (" ★" if value == best else ""),
                    f"{share:.0%}",
                    f"{decision.p_best[dimension][value]:.2f}",
                    f"{effect['mean']:+.3f} ± {effect['sd']:.3f}",
                    f"{effect['n']:.1f}",
                ]
            )
    return dg.MaterializeResult(
        metadata={
            "version": version,
            "previous_version": summary["previous_version"] or "none (prior only)",
            "observations": summary["observations"],
            "new_or_refreshed_observations": len(observations),
            "skipped_snapshots": dg.MetadataValue.json(dict(skipped)),
            "lacking": dg.MetadataValue.md("\n".join(f"- {r}" for r in decision.lacking) or "nothing"),
            "pooled_from_channels": decision.pooled_from,
            "videos_next_batch": channel.videos_per_day,
            "allocation": markdown_table(
                ["dimension", "arm", "share", "P(best)", "effect on reward", "weight"], rows
            ),
            "allocation_json": dg.MetadataValue.json(decision.allocation),
        }
    )
