"""The clips asset makes each video's clips at the render profile's size and records it: clips made for
draft renders are made again for a final one, and a cached clip whose file was damaged is made again
rather than reused."""

from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from shorts_assets.db.store import Store
from shorts_assets.defs.create.clips import clips
from shorts_assets.defs.create.scripts import scripts
from shorts_assets.defs.resources import ClipGeneratorResource
from shorts_assets.loop.batch import verify_output
from shorts_assets.providers.media import probe, verify_complete
from shorts_assets_tests.conftest import loop_resources

pytestmark = pytest.mark.slow

DAY = date(2026, 11, 22)
PARTITION = dg.MultiPartitionKey({"channel": "demo", "date": DAY.isoformat()})


def materialise(instance, resources, selection):
    return dg.materialize(
        [scripts, clips], selection=selection, partition_key=PARTITION, resources=resources, instance=instance
    )


def clip_sizes(output, media) -> set[tuple[int, int]]:
    """The sizes of the output's clips, read from the files its keys name in the media store."""
    return {(probe(p).width, probe(p).height) for p in (media.local_path(key) for key in output["files"])}


def test_clips_follow_the_profiles_size_and_a_damaged_clip_is_made_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shorts.db'}"
    resources = loop_resources(tmp_path / "data", url, videos_per_day=1)
    store = Store(url)
    media = resources["media"].store()
    with dg.instance_for_test() as instance:
        resources["clip_generator"] = ClipGeneratorResource(render_profile="draft")
        assert materialise(instance, resources, ["scripts", "clips"]).success
        [row] = store.batch("demo", DAY)
        draft = row.outputs["clips"]
        assert draft["size"] == "540x960" and clip_sizes(draft, media) == {(540, 960)}

        # A cached clip damaged in place (same size, other bytes) is not reused.
        damaged = media.local_path(draft["files"][0])
        damaged.write_bytes(b"\x00" * damaged.stat().st_size)
        assert materialise(instance, resources, ["clips"]).success
        [row] = store.batch("demo", DAY)
        remade = row.outputs["clips"]
        assert verify_output(remade, media) is None
        verify_complete(damaged, "the remade clip")
        assert clip_sizes(remade, media) == {(540, 960)}

        # A final render needs final clips: the draft ones are made again at 1080x1920.
        resources["clip_generator"] = ClipGeneratorResource(render_profile="final")
        result = materialise(instance, resources, ["clips"])
        assert result.success
        [row] = store.batch("demo", DAY)
        final = row.outputs["clips"]
        assert final["size"] == "1080x1920" and clip_sizes(final, media) == {(1080, 1920)}
        [event] = result.get_asset_materialization_events()
        assert event.materialization.metadata["redone_after_verification"].value == 1
