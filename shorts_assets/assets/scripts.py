"""scripts: the day's batch of scripts, arms drawn from the channel's latest strategy."""


import zlib

import dagster as dg
import numpy as np

from shorts_assets.assets.batch import arm_summary, markdown_table, partition_of, video_id_for
from shorts_assets.constants import CREATE
from shorts_assets.learning import choose_arms, uniform_allocation
from shorts_assets.partitions import loop_partitions
from shorts_assets.records import to_json
from shorts_assets.resources import ChannelsResource, DatabaseResource, ScriptWriterResource


def _seed(*parts: str) -> int:
    return zlib.crc32("|".join(parts).encode())


@dg.asset(partitions_def=loop_partitions, group_name=CREATE, kinds={"python"})
def scripts(
    context: dg.AssetExecutionContext,
    database: DatabaseResource,
    channels: ChannelsResource,
    script_writer: ScriptWriterResource,
) -> dg.MaterializeResult:
    """The batch's scripts, each recording the strategy version that chose its arms."""
    channel_name, day = partition_of(context)
    channel = channels.get(channel_name)
    store = database.store()
    writer = script_writer.adapter()

    strategy = store.latest_strategy(channel_name, before=day)
    arm_space = channel.arm_space()
    allocation = strategy.allocation if strategy else uniform_allocation(arm_space)
    version = strategy.version if strategy else f"{channel_name}:prior"

    existing = {row.video_id for row in store.batch(channel_name, day)}
    written, failed = [], {}
    for position in range(1, channel.videos_per_day + 1):
        video_id = video_id_for(channel_name, day, position)
        if video_id in existing:
            continue
        seed = _seed(video_id, version)
        arms = choose_arms(allocation, arm_space, np.random.default_rng(seed))
        try:
            script = writer.write(video_id, arms, seed)
        except Exception as exc:  # one script's failure leaves the others written
            failed[video_id] = f"{type(exc).__name__}: {exc}"
            context.log.warning(f"{video_id}: script failed: {failed[video_id]}")
            continue
        store.add_script(
            video_id=video_id,
            channel=channel_name,
            batch_date=day,
            position=position,
            strategy_version=version,
            arms=arms,
            script=to_json(script),
            writer=getattr(writer, "name", script_writer.provider),
        )
        written.append(video_id)
    if failed and not written and not existing:
        raise dg.Failure(description=f"no script could be written: {next(iter(failed.values()))}")

    rows = store.batch(channel_name, day)
    return dg.MaterializeResult(
        metadata={
            "videos": len(rows),
            "written": len(written),
            "kept_from_earlier_run": len(existing),
            "failed": len(failed),
            "strategy_version": version,
            "batch": markdown_table(
                ["video", "title", "arms", "strategy"],
                [[r.video_id, r.script["title"], arm_summary(r.arms), r.strategy_version] for r in rows],
            ),
        }
    )
