"""comments: the day's cohort's comments, new ones stored, with what the audience asks for."""


import re
from collections import Counter
from datetime import datetime, timezone

import dagster as dg

from shorts_assets.assets.batch import markdown_table, partition_of
from shorts_assets.assets.publications import publication_assets
from shorts_assets.constants import LEARN
from shorts_assets.partitions import loop_partitions
from shorts_assets.resources import ChannelsResource, DatabaseResource, PlatformsResource

REQUEST = re.compile(r"\b(?:do|make)\s+(?:one|a video|a short)\s+(?:about|on)\s+([^.!?,]+)", re.IGNORECASE)


def requested_topics(texts: list[str]) -> Counter[str]:
    """Topics the audience asks for ("do one about volcanoes"), counted."""
    found: Counter[str] = Counter()
    for text in texts:
        for match in REQUEST.finditer(text):
            found[match.group(1).strip().lower()] += 1
    return found


@dg.asset(
    partitions_def=loop_partitions,
    group_name=LEARN,
    deps=publication_assets,
    kinds={"python"},
)
def comments(
    context: dg.AssetExecutionContext,
    database: DatabaseResource,
    channels: ChannelsResource,
    platforms: PlatformsResource,
) -> dg.MaterializeResult:
    """Comments on the videos published in this batch, stored once each."""
    channel_name, day = partition_of(context)
    channel = channels.get(channel_name)
    store = database.store()
    cohort = store.published(channel_name, day)
    audience = platforms.audience(channel)
    now = datetime.now(timezone.utc)
    new = 0
    unsupported: set[str] = set()
    errors: dict[str, str] = {}
    for publication in cohort:
        if not audience.supports_comments(publication.platform):
            unsupported.add(publication.platform)
            continue
        try:
            fetched = audience.fetch_comments(publication, now)
        except Exception as exc:  # one video's comment thread failing leaves the others
            errors[f"{publication.video_id}/{publication.platform}"] = f"{type(exc).__name__}: {exc}"
            continue
        new += store.add_comments((publication.video_id, c) for c in fetched)
    if errors:
        context.log.warning(f"comments could not be read for {len(errors)} posts: {errors}")

    stored = store.comments_for(sorted({p.video_id for p in cohort}))
    requests = requested_topics([c["text"] for c in stored])
    return dg.MaterializeResult(
        metadata={
            "published_videos": len({p.video_id for p in cohort}),
            "new_comments": new,
            "total_comments": len(stored),
            "unsupported_platforms": ", ".join(sorted(unsupported)) or "none",
            "errors": dg.MetadataValue.json(errors),
            "requested_topics": dg.MetadataValue.json(dict(requests.most_common(10))),
            "latest": markdown_table(
                ["video", "platform", "author", "comment"],
                [[c["video_id"], c["platform"], c["author"], c["text"][:100]] for c in stored[-10:]],
            ),
        }
    )
