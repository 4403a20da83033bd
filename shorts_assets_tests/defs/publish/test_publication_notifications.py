"""The publications asset reports what it posts to the configured webhooks (the simulated platform,
a receiver on a socket)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from shorts_assets.core.channels import ChannelConfig
from shorts_assets.db.store import Store
from shorts_assets.defs.publish.publications import publication_assets
from shorts_assets.defs.resources import ChannelsResource, DatabaseResource, MediaResource, PlatformsResource
from shorts_assets.fakes.webhook_receiver import WebhookReceiver
from shorts_assets.notify import load_config, wait_for_background
from shorts_assets.storage.outputs import store_output
from shorts_assets_tests.loop.test_publishing import DAY, rendered_batch

SECRET = "a-shared-secret-of-some-length"


def test_materialising_publications_sends_a_published_event_per_video(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shorts.db'}"
    store = Store(url)
    ids = rendered_batch(store, tmp_path, count=2)
    media = MediaResource(data_dir=str(tmp_path / "data"), media_root=str(tmp_path))
    for row in store.batch("demo", DAY):  # the renders kept in the media store, recorded by key
        store.complete_stage(row.video_id, "render", store_output(row.outputs["render"], media.store()))
    [youtube] = [a for a in publication_assets if a.key == dg.AssetKey(["publications", "youtube"])]
    with WebhookReceiver(SECRET) as receiver:
        channel = ChannelConfig(name="demo", webhook_urls=(receiver.url + "/demo",))
        database = DatabaseResource(url=url, webhooks=load_config({"SHORTS_WEBHOOK_SECRET": SECRET}, [channel]))
        result = dg.materialize(
            [youtube],
            partition_key="demo|2026-11-21",
            resources={
                "database": database,
                "channels": ChannelsResource.from_configs((channel,)),
                "platforms": PlatformsResource(data_dir=str(tmp_path / "data"), database=database),
                "media": media,
            },
        )
        assert result.success
        assert wait_for_background()
        assert sorted((e["kind"], e["video_id"]) for e in receiver.events.values()) == [("published", i) for i in ids]
        assert {path for path, _ in receiver.bodies} == {"/demo"}  # the channel's own webhook
