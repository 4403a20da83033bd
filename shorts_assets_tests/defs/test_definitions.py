"""The code location: it loads, and its lineage encodes the loop with every edge pointing forward.

The loop closes without a cycle: strategy[c|d] depends on strategy[c|d-1] (its learning state), and
scripts read the newest strategy from the database and record its version.
"""

import dagster as dg

from shorts_assets.definitions import defs as load_definitions
from shorts_assets.defs.partitions import loop_partitions

defs = load_definitions()

PUBLICATIONS = [dg.AssetKey(["publications", p]) for p in ("youtube", "tiktok", "instagram")]


def key(name: str) -> dg.AssetKey:
    return dg.AssetKey(name)


def graph():
    return defs.resolve_asset_graph()


def parents(asset: dg.AssetKey) -> set[dg.AssetKey]:
    return set(graph().get(asset).parent_keys)


def test_definitions_load_and_validate():
    dg.Definitions.validate_loadable(defs)
    for job in ("shorts_loop_job", "produce_job", "learn_job", "metrics_refresh_job"):
        assert defs.resolve_job_def(job).partitions_def == loop_partitions
    assert defs.resolve_schedule_def("daily_batch_schedule").job_name == "produce_job"
    assert defs.resolve_schedule_def("daily_strategy_schedule").job_name == "learn_job"
    assert defs.resolve_sensor_def("metrics_after_publish_sensor").job_name == "metrics_refresh_job"


def test_the_demo_channel_exists_with_no_configuration():
    assert "demo" in loop_partitions.get_partitions_def_for_dimension("channel").get_partition_keys()


def test_forward_edges_of_the_loop():
    assert parents(key("clips")) == {key("scripts")}
    assert parents(key("voiceovers")) == {key("scripts")}
    assert parents(key("renders")) == {key("clips"), key("voiceovers")}
    for publication in PUBLICATIONS:
        assert parents(publication) == {key("renders")}
    assert parents(key("metrics")) == set(PUBLICATIONS)
    assert parents(key("comments")) == set(PUBLICATIONS)
    assert parents(key("strategy")) == {key("metrics"), key("comments"), key("strategy")}


def test_strategy_reads_its_previous_date_and_a_trailing_week_of_cohorts():
    today = dg.MultiPartitionKey({"channel": "demo", "date": "2026-11-28"})
    assets_def = defs.resolve_assets_def(key("strategy"))
    self_mapping = assets_def.get_partition_mapping(key("strategy"))
    upstream = self_mapping.get_upstream_mapped_partitions_result_for_partitions(
        loop_partitions.subset_with_partition_keys([today]), loop_partitions, loop_partitions
    ).partitions_subset.get_partition_keys()
    assert list(upstream) == ["demo|2026-11-27"]
    window = (
        assets_def.get_partition_mapping(key("metrics"))
        .get_upstream_mapped_partitions_result_for_partitions(
            loop_partitions.subset_with_partition_keys([today]), loop_partitions, loop_partitions
        )
        .partitions_subset.get_partition_keys()
    )
    assert sorted(window) == [f"demo|2026-11-{d}" for d in range(22, 29)]


def test_every_asset_is_grouped_and_described():
    groups = {
        "create": {"scripts", "clips", "voiceovers", "renders"},
        "publish": {"youtube", "tiktok", "instagram"},
        "learn": {"metrics", "comments", "strategy"},
    }
    for assets_def in defs.resolve_all_asset_specs():
        assert assets_def.description, assets_def.key
        assert assets_def.key.path[-1] in groups[assets_def.group_name], assets_def.key
