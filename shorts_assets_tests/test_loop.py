"""The whole loop for one channel's day, materialised for real in temporary folders.

Script, clips, voice, render, publication on the simulated platforms, metrics, comments and a
strategy row; then the same partition again, which must publish nothing twice; then a batch in
which one video breaks, whose siblings must still be published.
"""

from datetime import date

import dagster as dg
import pytest

from shorts_assets.db.store import Store
from shorts_assets.defs.location import loop_assets, loop_checks
from shorts_assets.defs.resources import RendererResource
from shorts_assets.providers.media import probe
from shorts_assets.storage.store import file_checksum
from shorts_assets_tests.conftest import loop_resources

pytestmark = pytest.mark.slow

PAST_DAY = date(2026, 11, 20)


def partition(day: date) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({"channel": "demo", "date": day.isoformat()})


def run(instance, resources, day, selection=None) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [*loop_assets, *loop_checks(RendererResource())],
        selection=selection,
        partition_key=partition(day),
        resources=resources,
        instance=instance,
    )


@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    """One materialisation of the whole loop, kept for the tests of this module."""
    root = tmp_path_factory.mktemp("loop")
    url = f"sqlite:///{root / 'shorts.db'}"
    resources = loop_resources(root / "data", url)
    with dg.instance_for_test() as instance:
        result = run(instance, resources, PAST_DAY)
        yield {"root": root, "url": url, "resources": resources, "instance": instance, "result": result}


def test_the_loop_materialises_every_asset(loop):
    result = loop["result"]
    assert result.success
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert materialized == {
        "scripts",
        "clips",
        "voiceovers",
        "renders",
        "publications/youtube",
        "publications/tiktok",
        "publications/instagram",
        "metrics",
        "comments",
        "strategy",
    }


def test_the_blocking_render_check_passed_before_publishing(loop):
    evaluations = {
        (e.asset_key.to_user_string(), e.check_name): e for e in loop["result"].get_asset_check_evaluations()
    }
    assert evaluations[("renders", "render_quality")].passed
    assert all(e.passed for e in evaluations.values())  # and no video failed at any stage


def test_each_video_is_a_vertical_mp4_with_narration(loop):
    rows = Store(loop["url"]).batch("demo", PAST_DAY)
    assert len(rows) == 2
    media = loop["root"] / "data" / "media"
    for row in rows:
        render = row.outputs["render"]
        info = probe(media / render["video_path"])
        assert (info.width, info.height, round(info.fps)) == (1080, 1920, 30)
        assert (info.video_codec, info.pix_fmt, info.audio_codec, info.sample_rate) == ("h264", "yuv420p", "aac", 48000)
        narration = row.outputs["voiceover"]["duration_s"]
        assert narration <= info.duration_s <= narration + 2.0
        assert (media / render["thumbnail_path"]).read_bytes()[:3] == b"\xff\xd8\xff"
        assert render["video_path"] == f"demo/2026-11-20/{row.video_id}/short.mp4"  # a key under the media root


def test_every_video_is_published_once_on_every_platform(loop):
    publications = Store(loop["url"]).publications("demo", PAST_DAY)
    assert sorted((p.platform, p.status) for p in publications) == sorted(
        [(platform, "published") for platform in ("youtube", "tiktok", "instagram")] * 2
    )
    manifests = list((loop["root"] / "data" / "outbox").rglob("manifest.json"))
    assert len(manifests) == 6


def test_metrics_comments_and_strategy_are_recorded(loop):
    store = Store(loop["url"])
    video_ids = [r.video_id for r in store.batch("demo", PAST_DAY)]
    snapshots = store.latest_snapshots(video_ids)
    assert len(snapshots) == 6 and all(s["views"] > 0 for s in snapshots)
    strategy = store.latest_strategy("demo", on=PAST_DAY)
    assert strategy.version == "demo:2026-11-20:v1"
    assert strategy.summary["observations"] == 6
    dimensions = {"topic", "hook", "length", "voice", "caption_style", "posting_hour"}
    per_platform = {f"posting_hour@{p}" for p in ("youtube", "tiktok", "instagram")}  # each platform's own hour
    assert set(strategy.allocation) == dimensions | per_platform
    assert store.comments_for(video_ids), "mature youtube/instagram posts have comments"


def test_the_ui_sees_the_batch_table_and_the_allocation(loop):
    events = {e.asset_key.to_user_string(): e for e in loop["result"].get_asset_materialization_events()}
    renders = events["renders"].materialization.metadata
    assert renders["videos"].value == 2
    rows = [r.data for r in renders["batch"].records]
    assert len(rows) == 2 and all(r["status"] == "done" and r["profile"] == "final 1080×1920" for r in rows)
    assert all(renders[f"mp4 {r['video']}"].value.endswith("short.mp4") for r in rows)
    assert "simulated.invalid/youtube/" in events["publications/youtube"].materialization.metadata["batch"].value
    allocation = events["strategy"].materialization.metadata["allocation"]
    assert "share" in [c.name for c in allocation.schema.columns] and allocation.records


def test_scripts_record_the_strategy_version_that_chose_them(loop):
    rows = Store(loop["url"]).batch("demo", PAST_DAY)
    assert {r.strategy_version for r in rows} == {"demo:prior"}


def test_next_day_scripts_use_the_learned_strategy(loop):
    next_day = date(2026, 11, 21)
    result = run(loop["instance"], loop["resources"], next_day, selection=["scripts"])
    assert result.success
    rows = Store(loop["url"]).batch("demo", next_day)
    assert {r.strategy_version for r in rows} == {"demo:2026-11-20:v1"}


def test_rematerialising_a_partition_publishes_nothing_twice_and_appends_snapshots(loop):
    store = Store(loop["url"])
    video_ids = [r.video_id for r in store.batch("demo", PAST_DAY)]
    before = store.snapshot_count(video_ids)
    result = run(loop["instance"], loop["resources"], PAST_DAY)
    assert result.success
    publications = store.publications("demo", PAST_DAY)
    assert len(publications) == 6 and all(p.attempts == 1 for p in publications)
    assert store.snapshot_count(video_ids) == before + 6
    assert len(list((loop["root"] / "data" / "outbox").rglob("manifest.json"))) == 6
    events = {e.asset_key.to_user_string(): e for e in result.get_asset_materialization_events()}
    assert events["renders"].materialization.metadata["kept_from_earlier_run"].value == 2
    assert store.latest_strategy("demo", on=PAST_DAY).version == "demo:2026-11-20:v2"


def test_one_broken_video_leaves_its_siblings_published(tmp_path):
    url = f"sqlite:///{tmp_path / 'shorts.db'}"
    resources = loop_resources(tmp_path / "data", url, videos_per_day=3)
    day = date(2026, 11, 22)
    with dg.instance_for_test() as instance:
        assert run(instance, resources, day, selection=["scripts", "clips"]).success
        store = Store(url)
        broken = store.batch("demo", day)[1]
        key = broken.outputs["clips"]["files"][0]
        first_clip = tmp_path / "data" / "media" / key
        first_clip.write_bytes(b"\x00garbage, not a video" * 100)
        # As if the generator had made the garbage: its checksums are the ones recorded.
        made = broken.outputs["clips"]
        store.complete_stage(
            broken.video_id, "clips", {**made, "checksums": {**made["checksums"], key: file_checksum(first_clip)}}
        )
        result = run(instance, resources, day)
        assert result.success
    rows = {r.video_id: r for r in store.batch("demo", day)}
    assert rows[broken.video_id].status == "failed"
    assert rows[broken.video_id].failed_stage == "render"
    assert first_clip.name in rows[broken.video_id].error
    assert not (first_clip.parent.parent / "short.mp4").exists()
    published = {(p.video_id, p.platform) for p in store.publications("demo", day) if p.status == "published"}
    siblings = [v for v in rows if v != broken.video_id]
    assert published == {(v, p) for v in siblings for p in ("youtube", "tiktok", "instagram")}
