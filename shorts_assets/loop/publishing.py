"""Publishing a batch: every rendered video posted once per platform, never twice.

Per video and platform the database holds a publish state (uploading, published, failed, or
needs_manual when only a person can help: a revoked login, an upload the platform rejected). Before
posting, the platform's own record is read, so a post whose answer was lost is recovered, never
repeated. A spent quota stops that platform for the run; one video's failure leaves its siblings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timezone
from pathlib import Path

from shorts_assets.core.errors import BatchFailed, BudgetExhausted, NeedsManual
from shorts_assets.core.protocols import Publisher
from shorts_assets.core.types import PublishRequest
from shorts_assets.db.store import Store, VideoRow
from shorts_assets.loop.batch import Log
from shorts_assets.loop.stages import RENDER_STAGE


def scheduled_slot(row: VideoRow) -> datetime:
    """The posting slot the strategy chose: the batch date at its posting hour, UTC."""
    return datetime.combine(row.batch_date, time(int(row.arms["posting_hour"])), tzinfo=timezone.utc)


def publish_one(store: Store, publisher: Publisher, row: VideoRow) -> str:
    """Post one rendered video unless the database or the platform already knows it; return what happened."""
    known = store.publication(row.video_id, publisher.platform, publisher.account)
    if known and known.status == "published":
        return "already published"
    if known and known.status == "needs_manual":
        return f"needs manual attention: {known.error}"
    slot = scheduled_slot(row)
    store.begin_publish(
        video_id=row.video_id,
        channel=row.channel,
        batch_date=row.batch_date,
        platform=publisher.platform,
        account=publisher.account,
        scheduled_at=slot,
    )
    remote = publisher.find(row.video_id)
    if remote is not None:
        store.finish_publish(remote)
        return "recovered from the platform"
    render = row.outputs[RENDER_STAGE]
    request = PublishRequest(
        video_id=row.video_id,
        title=row.script.title,
        description=row.script.description,
        tags=row.script.tags,
        video_path=Path(render["video_path"]),
        thumbnail_path=Path(render["thumbnail_path"]),
        scheduled_at=slot,
        duration_s=render["duration_s"],
        features=row.arms,
    )
    try:
        publication = publisher.publish(request)
    except NeedsManual as exc:
        store.fail_publish(
            row.video_id, publisher.platform, publisher.account, f"{type(exc).__name__}: {exc}", status="needs_manual"
        )
        raise
    except Exception as exc:
        store.fail_publish(row.video_id, publisher.platform, publisher.account, f"{type(exc).__name__}: {exc}")
        raise
    store.finish_publish(publication)
    return "published"


@dataclass
class PublishOutcome:
    """What happened to each video of the batch on one platform."""

    outcomes: dict[str, str] = field(default_factory=dict)
    attempted: int = 0
    failed: int = 0


def publish_batch(log: Log, store: Store, publisher: Publisher, rows: list[VideoRow]) -> PublishOutcome:
    """Post every rendered video of the batch that the platform does not have yet."""
    result = PublishOutcome()
    exhausted = ""
    for row in rows:
        if RENDER_STAGE not in row.outputs:
            result.outcomes[row.video_id] = "waiting for render"
            continue
        if exhausted:
            result.outcomes[row.video_id] = f"not tried: {exhausted}"
            continue
        try:
            result.outcomes[row.video_id] = publish_one(store, publisher, row)
            result.attempted += result.outcomes[row.video_id] != "already published"
        except BudgetExhausted as exc:  # the day's quota or cap is spent: stop posting here, retry later
            exhausted = f"{type(exc).__name__}: {exc}"
            result.outcomes[row.video_id] = f"failed: {exhausted}"
            result.attempted += 1
            result.failed += 1
            log.warning(f"{publisher.platform}: {exhausted}; no more posts there in this run")
        except Exception as exc:  # one video's failure leaves its siblings published
            result.attempted += 1
            result.failed += 1
            result.outcomes[row.video_id] = f"failed: {type(exc).__name__}: {exc}"
            log.warning(f"{row.video_id} on {publisher.platform}: {result.outcomes[row.video_id]}")
    if result.attempted and result.failed == result.attempted and result.failed == len(rows):
        first = next(iter(result.outcomes.values()))
        raise BatchFailed(f"every {publisher.platform} post of the batch failed; first: {first}")
    return result
