"""comments: the day's cohort's comments, new ones stored, with what the audience asks for."""


import re
from collections import Counter
from datetime import datetime, timezone

import dagster as dg

from shorts_assets.assets.batch import markdown_table
from shorts_assets.assets.cohort import cohort_asset, read_cohort
from shorts_assets.resources import ChannelsResource, DatabaseResource, PlatformsResource

REQUEST = re.compile(r"\b(?:do|make)\s+(?:one|a video|a short)\s+(?:about|on)\s+([^.!?,]+)", re.IGNORECASE)


def requested_topics(texts: list[str]) -> Counter[str]:
    """Topics the audience asks for ("do one about volcanoes"), counted."""
    found: Counter[str] = Counter()
    for text in texts:
        for match in REQUEST.finditer(text):
            found[match.group(1).strip().lower()] += 1
    return found


@cohort_asset
def comments(
    context: dg.AssetExecutionContext,
    database: DatabaseResource,
    channels: ChannelsResource,
    platforms: PlatformsResource,
) -> dg.MaterializeResult:
    """Comments on the videos published in this batch, stored once each."""
    day_cohort = read_cohort(context, database, channels, platforms)
    store, cohort, audience = day_cohort.store, day_cohort.publications, day_cohort.audience
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

    stored = store.comments_for(day_cohort.video_ids)
    requests = requested_topics([c["text"] for c in stored])
    return dg.MaterializeResult(
        metadata={
            "published_videos": len(day_cohort.video_ids),
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
