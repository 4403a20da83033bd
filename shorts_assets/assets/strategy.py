"""strategy: what the channel makes next, learned from the trailing cohorts and its own previous date."""


import warnings
import zlib
from datetime import timedelta

import dagster as dg

from shorts_assets.assets.batch import markdown_table, partition_of
from shorts_assets.assets.comments import comments
from shorts_assets.assets.metrics import metrics
from shorts_assets.constants import LEARN
from shorts_assets.learner import Observation, allocate, maturity, merge, posterior, reward
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
    """The next batch's allocation over the content arms (Thompson sampling with an exploration floor)."""
    channel_name, day = partition_of(context)
    channel = channels.get(channel_name)
    store = database.store()

    previous = store.latest_strategy(channel_name, before=day)
    known = set((previous.state if previous else {}).get("observations", {}))
    window_start = day - timedelta(days=LEARNING_WINDOW_DAYS - 1)
    videos = store.channel_video_arms(channel_name, through=day)
    # Videos still maturing (in the window) are re-read; older ones keep what the state learned.
    refresh = [
        video_id
        for video_id, info in videos.items()
        if info["batch_date"] >= window_start or not any(k.startswith(f"{video_id}|") for k in known)
    ]
    observations = []
    for snapshot in store.latest_snapshots(refresh):
        value = reward(snapshot)
        if value is None:
            continue
        info = videos[snapshot["video_id"]]
        observations.append(
            Observation(
                key=f"{snapshot['video_id']}|{snapshot['platform']}",
                arms=info["arms"],
                reward=value,
                weight=maturity(snapshot["age_hours"]),
                batch_date=info["batch_date"].isoformat(),
            )
        )
    state = merge(previous.state if previous else None, observations)
    post = posterior(state, channel.arm_space())
    allocation = allocate(post, channel.exploration, seed=zlib.crc32(f"{channel_name}|{day}".encode()))
    observed = len(state["observations"])
    summary = {
        "previous_version": previous.version if previous else None,
        "observations": observed,
        "new_or_refreshed": len(observations),
        "exploration": channel.exploration,
        "posterior": post,
    }
    version = store.save_strategy(
        channel=channel_name,
        strategy_date=day,
        videos_per_day=channel.videos_per_day,
        allocation=allocation,
        state=state,
        summary=summary,
    )
    if not observed:
        context.log.info(f"{channel_name}: no matured metrics yet; the allocation stays uniform")

    rows = []
    for dimension, shares in allocation.items():
        best = max(shares, key=shares.get)
        for value, share in sorted(shares.items(), key=lambda kv: -kv[1]):
            stats = post[dimension][value]
            rows.append(
                [dimension, value + (" ★" if value == best else ""), f"{share:.0%}", f"{stats['mean']:.3f}", f"{stats['n']:.1f}"]
            )
    return dg.MaterializeResult(
        metadata={
            "version": version,
            "previous_version": summary["previous_version"] or "none (uniform prior)",
            "observations": observed,
            "new_or_refreshed_observations": len(observations),
            "videos_next_batch": channel.videos_per_day,
            "allocation": markdown_table(["dimension", "arm", "share", "posterior mean reward", "weight"], rows),
            "allocation_json": dg.MetadataValue.json(allocation),
        }
    )
