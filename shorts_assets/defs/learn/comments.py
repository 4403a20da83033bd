"""comments: the day's cohort's comments, new ones stored, with what the audience says and asks for.

Spam and abuse are counted and left out; the rest are read for sentiment, for the topics viewers ask
for ("do one about …") and, when there are enough, for topic clusters (TF-IDF + NMF).
"""

from datetime import datetime, timezone

import dagster as dg

from shorts_assets.defs.learn.cohort import cohort_asset, read_cohort
from shorts_assets.defs.metadata import column
from shorts_assets.defs.resources import ChannelsResource, DatabaseResource, PlatformsResource
from shorts_assets.learning.text import analyse, is_abuse, is_spam

CLUSTER_SCHEMA = dg.TableSchema(columns=[column("cluster", int), column("top words")])
LATEST_SCHEMA = dg.TableSchema(
    columns=[column("video"), column("platform"), column("author"), column("comment", description="in full")]
)


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
    with audience:
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
    insights = analyse(c["text"] for c in stored)
    readable = [c for c in stored if not is_spam(c["text"]) and not is_abuse(c["text"])]
    return dg.MaterializeResult(
        metadata={
            "published_videos": len(day_cohort.video_ids),
            "new_comments": new,
            "total_comments": len(stored),
            "spam_excluded": insights.spam,
            "abuse_excluded": insights.abuse,
            "mean_sentiment": round(insights.mean_sentiment, 3),
            "positive_share": round(insights.positive_share, 3),
            "negative_share": round(insights.negative_share, 3),
            "unsupported_platforms": ", ".join(sorted(unsupported)) or "none",
            "errors": dg.MetadataValue.json(errors),
            "requested_topics": dg.MetadataValue.json(dict(insights.requests.most_common(10))),
            "topic_clusters": dg.MetadataValue.table(
                [
                    dg.TableRecord({"cluster": i + 1, "top words": ", ".join(words)})
                    for i, words in enumerate(insights.topics)
                ],
                CLUSTER_SCHEMA,
            )
            if insights.topics
            else dg.MetadataValue.md(insights.topics_skipped or "no clusters"),
            "latest": dg.MetadataValue.table(
                [
                    dg.TableRecord(
                        {"video": c["video_id"], "platform": c["platform"], "author": c["author"], "comment": c["text"]}
                    )
                    for c in readable[-10:]
                ],
                LATEST_SCHEMA,
            ),
        }
    )
