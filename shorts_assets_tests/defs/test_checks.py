"""The loop's asset checks of a partition: a non-blocking `no_failed_videos` per per-video stage warns,
naming each failed video with its full reason, so asset health shows a batch that failed in part;
the one on `scripts` names the videos the batch lacks; all of them are in the code location.

The batch is seeded by hand in the real database; the assets the checks sit on are stubs.
"""

from datetime import date

import dagster as dg

from shorts_assets.core.channels import ChannelConfig
from shorts_assets.db.store import Store
from shorts_assets.defs.checks import NO_SCRIPT, build_failed_video_checks
from shorts_assets.defs.location import loop_checks
from shorts_assets.defs.partitions import loop_partitions
from shorts_assets.defs.resources import ChannelsResource, DatabaseResource, RendererResource
from shorts_assets_tests.helpers import script_json

DAY = date(2026, 11, 20)
PARTITION = dg.MultiPartitionKey({"channel": "demo", "date": DAY.isoformat()})
LONG_REASON = "ProviderError: video demo-20261120-02: ffmpeg exited with status 1: " + "stderr line; " * 40


def seed(url: str, positions: int) -> Store:
    store = Store(url)
    for position in range(1, positions + 1):
        video_id = f"demo-{DAY:%Y%m%d}-{position:02d}"
        store.add_script(
            video_id=video_id,
            channel="demo",
            batch_date=DAY,
            position=position,
            strategy_version="demo:prior",
            arms={"topic": "space"},
            script=script_json(video_id),
            writer="test",
        )
    return store


def stub(name: str) -> dg.AssetsDefinition:
    @dg.asset(name=name, partitions_def=loop_partitions)
    def _stub() -> None:
        return None

    return _stub


def evaluate(url: str, videos_per_day: int = 3) -> dict[tuple[str, str], dg.AssetCheckEvaluation]:
    checks = build_failed_video_checks(
        {"clips": "clips", "voiceovers": "voiceover", "renders": "render"}, scripts_asset_key="scripts"
    )
    result = dg.materialize(
        [*(stub(n) for n in ("scripts", "clips", "voiceovers", "renders")), *checks],
        partition_key=PARTITION,
        resources={
            "database": DatabaseResource(url=url),
            "channels": ChannelsResource.from_configs((ChannelConfig(name="demo", videos_per_day=videos_per_day),)),
        },
    )
    assert result.success  # a warning never fails the run
    return {(e.asset_key.to_user_string(), e.check_name): e for e in result.get_asset_check_evaluations()}


def test_a_video_failed_at_a_stage_makes_that_stage_warn_with_its_id_and_full_reason(tmp_path):
    url = f"sqlite:///{tmp_path / 'shorts.db'}"
    store = seed(url, 3)
    store.fail_stage("demo-20261120-02", "render", LONG_REASON)

    evaluations = evaluate(url)

    warning = evaluations[("renders", "no_failed_videos")]
    assert not warning.passed and warning.severity == dg.AssetCheckSeverity.WARN
    assert warning.description == "1 of 3 videos failed at render: demo-20261120-02"
    table = warning.metadata["failures"].value
    assert [c.name for c in table.schema.columns] == ["video", "stage", "error"]
    assert [r.data for r in table.records] == [{"video": "demo-20261120-02", "stage": "render", "error": LONG_REASON}]
    assert warning.metadata["failed_videos"].value == 1 and warning.metadata["videos"].value == 3
    for other in ("clips", "voiceovers", "scripts"):
        assert evaluations[(other, "no_failed_videos")].passed


def test_only_the_stage_a_video_failed_at_warns(tmp_path):
    url = f"sqlite:///{tmp_path / 'shorts.db'}"
    store = seed(url, 3)
    store.fail_stage("demo-20261120-01", "clips", "ProviderError: clip 1 timed out")
    store.fail_stage("demo-20261120-03", "clips", "ProviderError: clip 3 refused")

    evaluations = evaluate(url)

    clips = evaluations[("clips", "no_failed_videos")]
    assert not clips.passed
    assert [r.data["video"] for r in clips.metadata["failures"].value.records] == [
        "demo-20261120-01",
        "demo-20261120-03",
    ]
    assert evaluations[("renders", "no_failed_videos")].passed
    assert evaluations[("voiceovers", "no_failed_videos")].passed


def test_the_scripts_check_names_the_videos_the_batch_lacks(tmp_path):
    url = f"sqlite:///{tmp_path / 'shorts.db'}"
    seed(url, 1)

    scripts = evaluate(url, videos_per_day=3)[("scripts", "no_failed_videos")]

    assert not scripts.passed and scripts.severity == dg.AssetCheckSeverity.WARN
    records = scripts.metadata["failures"].value.records
    assert [r.data["video"] for r in records] == ["demo-20261120-02", "demo-20261120-03"]
    assert all(r.data["error"] == NO_SCRIPT for r in records)


def test_a_whole_batch_passes_every_check(tmp_path):
    url = f"sqlite:///{tmp_path / 'shorts.db'}"
    seed(url, 3)
    evaluations = evaluate(url)
    assert len(evaluations) == 4 and all(e.passed for e in evaluations.values())


def test_the_code_location_holds_the_blocking_render_check_and_a_warning_per_stage():
    specs = {(s.asset_key.to_user_string(), s.name): s for c in loop_checks(RendererResource()) for s in c.check_specs}
    assert specs[("renders", "render_quality")].blocking
    for asset in ("scripts", "clips", "voiceovers", "renders"):
        assert not specs[(asset, "no_failed_videos")].blocking
