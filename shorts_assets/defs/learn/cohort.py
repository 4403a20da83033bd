"""What the learn-side assets over a day's published cohort share: their shape and what they read."""

import functools
from dataclasses import dataclass
from datetime import date

import dagster as dg

from shorts_assets.core.protocols import Audience
from shorts_assets.core.types import Publication
from shorts_assets.db.store import Store
from shorts_assets.defs.constants import LEARN, PLATFORM_READS_POOL
from shorts_assets.defs.metadata import partition_of
from shorts_assets.defs.partitions import loop_partitions
from shorts_assets.defs.publish.publications import publication_assets
from shorts_assets.defs.resources import ChannelsResource, DatabaseResource, PlatformsResource
from shorts_assets.defs.retries import NETWORK_RETRY

cohort_asset = functools.partial(
    dg.asset,
    partitions_def=loop_partitions,
    group_name=LEARN,
    deps=publication_assets,
    kinds={"python"},
    pool=PLATFORM_READS_POOL,
    retry_policy=NETWORK_RETRY,
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
