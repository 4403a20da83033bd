"""The create assets show their batch in the UI: the renders page carries each short's thumbnail and
contact sheet inline, the batch of every per-video stage is a table with a schema and a row per video,
a failed video's full error is there, and the non-blocking check warns with its id while the blocking
render check still passes on the videos that rendered.

One partition of two videos, rendered with the draft profile; the second video's recorded clip points
at a file that is not a video, so it alone fails at render.
"""

import base64
import io
import re
from datetime import date

import dagster as dg
import pytest
from PIL import Image

from shorts_assets.db.store import Store
from shorts_assets.defs.create.clips import clips
from shorts_assets.defs.create.renders import media_url, renders
from shorts_assets.defs.create.scripts import scripts
from shorts_assets.defs.create.voiceovers import voiceovers
from shorts_assets.defs.location import loop_checks
from shorts_assets.defs.resources import MediaResource, RendererResource
from shorts_assets_tests.conftest import loop_resources

pytestmark = pytest.mark.slow

DAY = date(2026, 11, 20)
PARTITION = dg.MultiPartitionKey({"channel": "demo", "date": DAY.isoformat()})
CREATE = [scripts, clips, voiceovers, renders]
IMAGE = re.compile(
    r"!\[(?P<alt>[^\]]*?) \((?P<w>\d+)×(?P<h>\d+)\)\]\(data:(?P<mime>image/\w+);base64,(?P<data>[^)]+)\)"
)


def materialise(instance, resources, selection):
    renderer = resources["renderer"]
    return dg.materialize(
        [*CREATE, *loop_checks(renderer)],
        selection=selection,
        partition_key=PARTITION,
        resources=resources,
        instance=instance,
    )


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """The create assets of one partition, the second video broken before it renders."""
    root = tmp_path_factory.mktemp("renders")
    url = f"sqlite:///{root / 'shorts.db'}"
    resources = loop_resources(root / "data", url)
    resources["renderer"] = RendererResource(profile="draft")
    resources["media"] = MediaResource(data_dir=str(root / "data"), base_url="https://media.example.test/media")
    with dg.instance_for_test() as instance:
        assert materialise(instance, resources, ["scripts", "clips", "voiceovers"]).success
        store = Store(url)
        broken = store.batch("demo", DAY)[1]
        not_a_video = root / "not-a-video.mp4"
        not_a_video.write_bytes(b"\x00this is not a video" * 64)
        made = broken.outputs["clips"]
        store.complete_stage(
            broken.video_id, "clips", {**made, "clips": [{**made["clips"][0], "path": str(not_a_video)}]}
        )
        result = materialise(instance, resources, ["renders"])
        yield {
            "result": result,
            "store": store,
            "root": root,
            "broken": broken.video_id,
            "fine": store.batch("demo", DAY)[0].video_id,
            "instance": instance,
        }


def metadata_of(result, asset: str):
    (event,) = [e for e in result.get_asset_materialization_events() if e.asset_key.to_user_string() == asset]
    return event.materialization.metadata


def images(markdown: str) -> list[dict]:
    return [m.groupdict() for m in IMAGE.finditer(markdown)]


def test_the_run_succeeds_though_one_video_failed_to_render(batch):
    assert batch["result"].success
    rows = {r.video_id: r for r in batch["store"].batch("demo", DAY)}
    assert rows[batch["broken"]].status == "failed" and rows[batch["broken"]].failed_stage == "render"
    assert rows[batch["fine"]].status == "ok"


def test_the_thumbnail_is_inline_as_a_real_jpeg_of_the_size_it_states(batch):
    previews = metadata_of(batch["result"], "renders")["previews"].value
    thumbnails = [i for i in images(previews) if i["alt"] == "thumbnail"]
    assert len(thumbnails) == 1 and batch["fine"] in previews and batch["broken"] not in previews
    (thumb,) = thumbnails
    assert thumb["mime"] == "image/jpeg"
    decoded = Image.open(io.BytesIO(base64.b64decode(thumb["data"])))
    assert decoded.format == "JPEG"
    assert decoded.size == (int(thumb["w"]), int(thumb["h"])) == (180, 320)


def test_the_contact_sheet_is_a_file_beside_the_short_and_inline(batch):
    previews = metadata_of(batch["result"], "renders")["previews"].value
    (sheet,) = [i for i in images(previews) if i["alt"] == "contact sheet"]
    decoded = Image.open(io.BytesIO(base64.b64decode(sheet["data"])))
    assert decoded.format == "JPEG" and decoded.size == (int(sheet["w"]), int(sheet["h"]))
    assert decoded.width == 6 * 72 and decoded.height == 128
    render = {r.video_id: r for r in batch["store"].batch("demo", DAY)}[batch["fine"]].outputs["render"]
    beside = (batch["root"] / "data" / "media" / render["video_path"]).with_name("short.contact.jpg")
    assert beside.read_bytes() == base64.b64decode(sheet["data"])
    assert not list(beside.parent.glob("*.partial*"))


def test_the_whole_page_stays_small(batch):
    metadata = metadata_of(batch["result"], "renders")
    assert sum(len(str(v.value)) for v in metadata.values()) < 60_000


def test_the_batch_is_a_table_with_a_row_per_video_and_the_full_error(batch):
    metadata = metadata_of(batch["result"], "renders")
    table = metadata["batch"]
    assert [c.name for c in table.schema.columns] == [
        "video",
        "title",
        "arms",
        "duration_s",
        "LUFS",
        "profile",
        "status",
        "error",
    ]
    rows = {r.data["video"]: r.data for r in table.records}
    assert set(rows) == {batch["fine"], batch["broken"]}
    fine, broken = rows[batch["fine"]], rows[batch["broken"]]
    assert fine["status"] == "done" and fine["error"] == ""
    assert fine["profile"] == "draft 540×960" and fine["duration_s"] > 5
    assert fine["LUFS"] == pytest.approx(-14.0, abs=1.0)
    recorded = {r.video_id: r for r in batch["store"].batch("demo", DAY)}[batch["broken"]].error
    assert broken["status"] == "failed" and broken["error"] == recorded
    assert "not-a-video.mp4" in broken["error"] and len(broken["error"]) > 120


def test_each_short_has_its_key_and_its_url_where_the_media_root_is_served(batch):
    metadata = metadata_of(batch["result"], "renders")
    render = {r.video_id: r for r in batch["store"].batch("demo", DAY)}[batch["fine"]].outputs["render"]
    assert metadata[f"mp4 {batch['fine']}"].value == render["video_path"] == f"demo/{DAY}/{batch['fine']}/short.mp4"
    assert metadata["media_root"].value == str((batch["root"] / "data" / "media").resolve())
    url = metadata[f"url {batch['fine']}"].value
    assert url == f"https://media.example.test/media/demo/{DAY}/{batch['fine']}/short.mp4"
    assert f"mp4 {batch['broken']}" not in metadata


def test_clips_and_voiceovers_report_their_batch_as_tables(batch):
    instance = batch["instance"]
    for asset, own in (("clips", ["clips", "cost_usd", "credits"]), ("voiceovers", ["duration_s", "words"])):
        event = instance.get_latest_materialization_event(dg.AssetKey(asset))
        table = event.asset_materialization.metadata["batch"]
        assert [c.name for c in table.schema.columns] == ["video", "title", "arms", *own, "status", "error"]
        assert len(table.records) == 2 and all(r.data["status"] == "done" for r in table.records)
        assert all(r.data[own[0]] > 0 for r in table.records)


def test_the_warning_check_fails_naming_the_broken_video_and_the_render_check_passes(batch):
    evaluations = {
        (e.asset_key.to_user_string(), e.check_name): e for e in batch["result"].get_asset_check_evaluations()
    }
    warning = evaluations[("renders", "no_failed_videos")]
    assert not warning.passed and warning.severity == dg.AssetCheckSeverity.WARN
    failures = warning.metadata["failures"].value
    assert [r.data["video"] for r in failures.records] == [batch["broken"]]
    recorded = {r.video_id: r for r in batch["store"].batch("demo", DAY)}[batch["broken"]].error
    assert failures.records[0].data["error"] == recorded
    assert batch["broken"] in warning.description
    quality = evaluations[("renders", "render_quality")]
    assert quality.passed and quality.severity == dg.AssetCheckSeverity.ERROR
    assert quality.metadata["videos_checked"].value == 1


def test_a_media_url_is_given_only_for_keys_of_the_served_root():
    assert media_url("https://cdn.example.test/", "demo/a b.mp4") == "https://cdn.example.test/demo/a%20b.mp4"
    assert media_url("https://cdn.example.test", "/old/disk/elsewhere.mp4") is None
    assert media_url("", "demo/a.mp4") is None
