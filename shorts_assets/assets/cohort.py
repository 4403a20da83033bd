"""What the learn-side assets over a day's published cohort share: their shape and what they read."""

import functools
from dataclasses import dataclass
from datetime import date

import dagster as dg

from shorts_assets.assets.batch import partition_of
from shorts_assets.assets.publications import publication_assets
from shorts_assets.constants import LEARN
from shorts_assets.db.store import Store
from shorts_assets.partitions import loop_partitions
from shorts_assets.providers.interfaces import Audience, Publication
from shorts_assets.resources import ChannelsResource, DatabaseResource, PlatformsResource

cohort_asset = functools.partial(
    dg.asset, partitions_def=loop_partitions, group_name=LEARN, deps=publication_assets, kinds={"python"}
)


@dataclass
class Cohort:
    channel: str
    day: date
    store: Store
    publications: list[Publication]
    audience: Audience

    @property
    def video_ids(self) -> list[str]:
        return sorted({p.video_id for p in self.publications})


def read_cohort(
    context: dg.AssetExecutionContext,
    database: DatabaseResource,
    channels: ChannelsResource,
    platforms: PlatformsResource,
) -> Cohort:
    """The partition's published posts and the audience (analytics and comments) that reports on them."""
    channel_name, day = partition_of(context)
    store = database.store()
    return Cohort(
        channel=channel_name,
        day=day,
        store=store,
        publications=store.published(channel_name, day),
        audience=platforms.audience(channels.get(channel_name)),
    )
