"""Publishing a batch: every rendered video posted once per platform, never twice.

Per video and platform the database holds a publish state (uploading, published, failed, or
needs_manual when only a person can help: a revoked login, an upload the platform rejected). Before
anything is posted the run claims that slot in the database, with its owner id and a lease: of
several runs of one partition (separate processes included) one posts and the others report the
video as claimed by another run. A claim whose owner died lapses with its lease and is taken over;
the new owner, like every owner, first asks the platform's own record (``Publisher.find``), so a post
whose answer was lost, or whose database row was lost, is recovered, never repeated. A spent quota
stops that platform for the run; one video's failure leaves its siblings. A real platform never gets
a render below the final 1080x1920 contract (a draft). With a notifier, each outcome is reported
(published, failed, needs_manual, and quota_exhausted once per platform account and day).

A video sent as a draft to the creator's inbox (TikTok's inbox mode) is ``in_inbox``: final for the
engine, never sent again, not measured. Each later run asks the publisher to follow its posts up
(``follow_up``, where it has one): a thumbnail that failed is set again, a draft the creator has
since posted becomes ``published`` with its real id.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from pathlib import Path

from shorts_assets.core.arms import platform_arms
from shorts_assets.core.errors import BatchFailed, BudgetExhausted, NeedsManual, ProviderError
from shorts_assets.core.protocols import Publisher
from shorts_assets.core.types import PublishRequest
from shorts_assets.db.store import CLAIM_LEASE, Store, VideoRow
from shorts_assets.loop.batch import Log, mark_invalid, verify_output
from shorts_assets.loop.stages import RENDER_STAGE
from shorts_assets.notify import Notifier
from shorts_assets.storage.fetch import fetch_verified
from shorts_assets.storage.store import MediaStore

ALREADY_PUBLISHED = "already published"
IN_INBOX = "in the creator's inbox, waiting for them to post it"
SENT_TO_INBOX = "sent to the creator's inbox as a draft"
CLAIMED_ELSEWHERE = "claimed by another run"
DONE_STATUSES = ("published", "in_inbox")
FINAL_WIDTH, FINAL_HEIGHT = 1080, 1920


def new_claim_owner() -> str:
    """An owner id unique to this process and this run: host, process id and a random part."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:16]}"


def scheduled_slot(row: VideoRow, platform: str | None = None) -> datetime:
    """The posting slot the strategy chose: the batch date at its posting hour (the platform's own, where
    the video has one per platform), UTC."""
    arms = platform_arms(row.arms, platform) if platform else row.arms
    return datetime.combine(row.batch_date, time(int(arms["posting_hour"])), tzinfo=timezone.utc)


def is_simulated(publisher: Publisher) -> bool:
    """Whether the publisher only simulates a platform (anything else is treated as real)."""
    return getattr(publisher, "simulated", False) is True


def refuse_draft(publisher: Publisher, row: VideoRow) -> None:
    """A real platform gets only renders of the final contract; drafts stay local."""
    if is_simulated(publisher):
        return
    render = row.outputs[RENDER_STAGE]
    width, height = render.get("width"), render.get("height")
    if not isinstance(width, int) or not isinstance(height, int):
        raise ProviderError(
            f"{row.video_id} is not posted to {publisher.platform}: its render records no size, so it cannot be "
            f"checked against the final {FINAL_WIDTH}x{FINAL_HEIGHT}; render it again with RENDER_PROFILE=final"
        )
    if width < FINAL_WIDTH or height < FINAL_HEIGHT:
        raise ProviderError(
            f"{row.video_id} is not posted to {publisher.platform}: its render is {width}x{height}, below the final "
            f"{FINAL_WIDTH}x{FINAL_HEIGHT} (a draft, as RENDER_PROFILE=draft makes); a real platform gets only "
            "RENDER_PROFILE=final renders, so render the batch again with RENDER_PROFILE=final"
        )


@contextmanager
def _kept_alive(store: Store, publisher: Publisher, video_id: str, owner: str, lease: timedelta) -> Iterator[None]:
    """Renew the claim every third of its lease while a long upload runs, so it lapses only if we die."""
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(lease.total_seconds() / 3):
            try:
                store.renew_claim(video_id, publisher.platform, publisher.account, owner, lease)
            except Exception:  # the database is briefly unreachable: try again at the next tick
                continue

    thread = threading.Thread(target=renew, name=f"claim-{video_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _report(notifier: Notifier | None, kind: str, row: VideoRow, publisher: Publisher, **data: object) -> None:
    if notifier is None:
        return
    where = f"{row.video_id}:{publisher.platform}:{publisher.account}"
    notifier.emit(
        kind,
        channel=row.channel,
        video_id=row.video_id,
        # One published event per post, however it was learnt; every failure is an event of its own.
        key=f"published:{where}" if kind == "published" else None,
        data={"platform": publisher.platform, "account": publisher.account, "title": row.script.title, **data},
    )


def _request(row: VideoRow, slot: datetime, render: dict) -> PublishRequest:
    """The upload of `row` from `render`, its render output naming local files."""
    return PublishRequest(
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


def _done(status: str) -> str:
    return IN_INBOX if status == "in_inbox" else ALREADY_PUBLISHED


def follow_up(store: Store, publisher: Publisher, row: VideoRow, status: str, media: MediaStore | None = None) -> str:
    """Finish what a post left pending (a thumbnail that failed, a draft the creator has since posted).

    Only publishers with a ``follow_up`` (``FollowsUp``) have anything to finish; its failure is reported,
    never raised: the post itself exists. It takes no claim: following up is idempotent (setting the
    same thumbnail, reading a draft's status), so two runs doing it at once post nothing twice.
    """
    finish = getattr(publisher, "follow_up", None)
    if finish is None or RENDER_STAGE not in row.outputs:
        return _done(status)
    try:
        render, problem = fetch_verified(row.outputs[RENDER_STAGE], media, verify_output)
        if problem is not None:
            return f"{_done(status)}; its follow-up waits for a good render: {problem}"
        changed = finish(_request(row, scheduled_slot(row, publisher.platform), render))
    except ProviderError as exc:
        return f"{_done(status)}; its follow-up failed and is retried on the next run: {exc}"
    if changed is not None:
        store.finish_publish(changed)
        return _done("in_inbox" if changed.draft else "published")
    return _done(status)


def publish_one(
    store: Store,
    publisher: Publisher,
    row: VideoRow,
    *,
    owner: str | None = None,
    lease: timedelta = CLAIM_LEASE,
    notifier: Notifier | None = None,
    media: MediaStore | None = None,
) -> str:
    """Post one rendered video unless the database or the platform already knows it; return what happened.

    `owner` identifies the run holding the claim (a fresh one when not given); `lease` is how long
    its claim lasts if it stops renewing it (because it died). With `media`, the render's files are
    keys of that store, fetched to local files (verified) for the upload.
    """
    owner = owner or new_claim_owner()
    platform, account = publisher.platform, publisher.account
    known = store.publication(row.video_id, platform, account)
    if known and known.status in DONE_STATUSES:
        return follow_up(store, publisher, row, known.status, media)
    if known and known.status == "needs_manual":
        return f"needs manual attention: {known.error}"
    refuse_draft(publisher, row)
    slot = scheduled_slot(row, platform)
    claim = store.begin_publish(
        video_id=row.video_id,
        channel=row.channel,
        batch_date=row.batch_date,
        platform=platform,
        account=account,
        scheduled_at=slot,
        owner=owner,
        lease=lease,
    )
    if not claim.granted:
        if claim.row.status in DONE_STATUSES:
            return _done(claim.row.status)
        if claim.row.status == "needs_manual":
            return f"needs manual attention: {claim.row.error}"
        return CLAIMED_ELSEWHERE
    try:
        render, problem = fetch_verified(row.outputs[RENDER_STAGE], media, verify_output)
    except Exception as exc:  # the media store cannot be read: the claim is released, not held
        store.fail_publish(row.video_id, platform, account, f"{type(exc).__name__}: {exc}", owner=owner)
        raise
    if problem is not None:
        mark_invalid(store, row, RENDER_STAGE, f"not uploaded: {problem}")
        store.fail_publish(row.video_id, platform, account, f"not uploaded: {problem}", owner=owner)
        raise ProviderError(f"{row.video_id} is not posted to {platform}: {problem}; renders will make it again")
    request = _request(row, slot, render)
    try:
        with _kept_alive(store, publisher, row.video_id, owner, lease):
            remote = publisher.find(row.video_id)
            if remote is not None:
                store.finish_publish(remote, owner)
                _report(notifier, "published", row, publisher, url=remote.url, remote_id=remote.remote_id)
                return "recovered from the platform"
            publication = publisher.publish(request)
    except NeedsManual as exc:
        store.fail_publish(
            row.video_id, platform, account, f"{type(exc).__name__}: {exc}", status="needs_manual", owner=owner
        )
        _report(notifier, "needs_manual", row, publisher, error=f"{type(exc).__name__}: {exc}"[:500])
        raise
    except Exception as exc:
        store.fail_publish(row.video_id, platform, account, f"{type(exc).__name__}: {exc}", owner=owner)
        _report(notifier, "failed", row, publisher, error=f"{type(exc).__name__}: {exc}"[:500])
        raise
    store.finish_publish(publication, owner)
    if publication.draft:
        return SENT_TO_INBOX
    _report(notifier, "published", row, publisher, url=publication.url, remote_id=publication.remote_id)
    return "published"


@dataclass
class PublishOutcome:
    """What happened to each video of the batch on one platform."""

    outcomes: dict[str, str] = field(default_factory=dict)
    attempted: int = 0
    failed: int = 0


def publish_batch(
    log: Log,
    store: Store,
    publisher: Publisher,
    rows: list[VideoRow],
    *,
    owner: str | None = None,
    lease: timedelta = CLAIM_LEASE,
    notifier: Notifier | None = None,
    media: MediaStore | None = None,
) -> PublishOutcome:
    """Post every rendered video of the batch that the platform does not have yet.

    One owner id claims every video of the batch; a video another run holds is left to that run and
    counted neither as an attempt nor as a failure.
    """
    owner = owner or new_claim_owner()
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
            outcome = publish_one(store, publisher, row, owner=owner, lease=lease, notifier=notifier, media=media)
            result.outcomes[row.video_id] = outcome
            result.attempted += not outcome.startswith((ALREADY_PUBLISHED, IN_INBOX, CLAIMED_ELSEWHERE))
            if outcome == CLAIMED_ELSEWHERE:
                log.info(f"{row.video_id} on {publisher.platform}: {CLAIMED_ELSEWHERE}, left to it")
        except BudgetExhausted as exc:  # the day's quota or cap is spent: stop posting here, retry later
            exhausted = f"{type(exc).__name__}: {exc}"
            result.outcomes[row.video_id] = f"failed: {exhausted}"
            result.attempted += 1
            result.failed += 1
            log.warning(f"{publisher.platform}: {exhausted}; no more posts there in this run")
            if notifier is not None:  # one event per platform account and UTC day
                where = f"{row.channel}:{publisher.platform}:{publisher.account}"
                notifier.emit(
                    "quota_exhausted",
                    channel=row.channel,
                    key=f"quota_exhausted:{where}:{datetime.now(timezone.utc).date()}",
                    data={"platform": publisher.platform, "account": publisher.account, "error": exhausted[:500]},
                )
        except Exception as exc:  # one video's failure leaves its siblings published
            result.attempted += 1
            result.failed += 1
            result.outcomes[row.video_id] = f"failed: {type(exc).__name__}: {exc}"
            log.warning(f"{row.video_id} on {publisher.platform}: {result.outcomes[row.video_id]}")
    if result.attempted and result.failed == result.attempted and result.failed == len(rows):
        first = next(iter(result.outcomes.values()))
        raise BatchFailed(f"every {publisher.platform} post of the batch failed; first: {first}")
    return result
