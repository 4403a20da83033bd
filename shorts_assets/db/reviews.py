"""Review decisions in the application database: appended, never overwritten; a video's latest holds.

A video's status mirrors where review left it (`awaiting_review`, `approved`, `rejected`) for people
to read; what the loop obeys is the decision rows themselves, so a stale status can never let a
video through.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from shorts_assets.core.review import AWAITING_REVIEW, DECISIONS, VIA
from shorts_assets.db.schema import publish_results, review_decisions, video_requests, videos
from shorts_assets.db.store import Store, aware, utcnow


@dataclass(frozen=True)
class Decision:
    id: int
    video_id: str
    channel: str
    batch_date: date
    decision: str  # approve | reject
    reason: str | None
    title: str | None
    description: str | None
    reviewer: str
    via: str
    run_id: str | None
    decided_at: datetime


@dataclass(frozen=True)
class NewDecision:
    """A decision to record (its id and time are given when it is written)."""

    video_id: str
    channel: str
    batch_date: date
    decision: str
    reviewer: str
    via: str
    reason: str | None = None
    title: str | None = None
    description: str | None = None
    run_id: str | None = None


@dataclass(frozen=True)
class ReviewedVideo:
    """What a decision is checked against: the video's channel, day, status and posting hour."""

    video_id: str
    channel: str
    batch_date: date
    status: str
    posting_hour: str


def _decision(r: sa.Row) -> Decision:
    return Decision(
        id=r.id,
        video_id=r.video_id,
        channel=r.channel,
        batch_date=r.batch_date,
        decision=r.decision,
        reason=r.reason,
        title=r.title,
        description=r.description,
        reviewer=r.reviewer,
        via=r.via,
        run_id=r.run_id,
        decided_at=aware(r.decided_at),  # type: ignore[arg-type]
    )


class ReviewStore:
    def __init__(self, store: Store):
        self.engine = store.engine

    def record(self, decisions: Sequence[NewDecision]) -> list[Decision]:
        """Append every decision in one transaction (all or none); return them as written."""
        for d in decisions:
            if d.decision not in DECISIONS or d.via not in VIA:
                raise ValueError(f"a decision is one of {DECISIONS} via one of {VIA}, got {d.decision!r} via {d.via!r}")
        if not decisions:
            return []
        now = utcnow()
        ids = []
        with self.engine.begin() as conn:
            for d in decisions:
                result = conn.execute(
                    review_decisions.insert().values(
                        video_id=d.video_id,
                        channel=d.channel,
                        batch_date=d.batch_date,
                        decision=d.decision,
                        reason=d.reason,
                        title=d.title,
                        description=d.description,
                        reviewer=d.reviewer[:200],
                        via=d.via,
                        run_id=d.run_id,
                        decided_at=now,
                    )
                )
                ids.append(result.inserted_primary_key[0])
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(review_decisions).where(review_decisions.c.id.in_(ids)))
            return sorted((_decision(r) for r in rows), key=lambda d: d.id)

    def latest(self, video_ids: Iterable[str]) -> dict[str, Decision]:
        """video id -> its latest decision, for the videos that have one."""
        ids = list(dict.fromkeys(video_ids))
        if not ids:
            return {}
        newest = (
            sa.select(sa.func.max(review_decisions.c.id).label("id"))
            .where(review_decisions.c.video_id.in_(ids))
            .group_by(review_decisions.c.video_id)
            .subquery()
        )
        query = sa.select(review_decisions).join(newest, review_decisions.c.id == newest.c.id)
        with self.engine.connect() as conn:
            return {r.video_id: _decision(r) for r in conn.execute(query)}

    def history(self, video_id: str) -> list[Decision]:
        """Every decision on a video, oldest first."""
        query = sa.select(review_decisions).where(review_decisions.c.video_id == video_id)
        with self.engine.connect() as conn:
            return [_decision(r) for r in conn.execute(query.order_by(review_decisions.c.id))]

    def decisions_after(self, after_id: int, *, limit: int = 500) -> list[Decision]:
        """Decisions written after the one with id `after_id`, oldest first."""
        query = (
            sa.select(review_decisions)
            .where(review_decisions.c.id > after_id)
            .order_by(review_decisions.c.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [_decision(r) for r in conn.execute(query)]

    def rejections(self, channel: str, *, since: date, through: date) -> list[Decision]:
        """The channel's videos of batches in [since, through] whose latest decision is a rejection."""
        query = sa.select(review_decisions.c.video_id).where(
            review_decisions.c.channel == channel,
            review_decisions.c.batch_date >= since,
            review_decisions.c.batch_date <= through,
        )
        with self.engine.connect() as conn:
            video_ids = [r.video_id for r in conn.execute(query.distinct())]
        latest = self.latest(video_ids)
        return sorted((d for d in latest.values() if d.decision == "reject"), key=lambda d: d.id)

    def video(self, video_id: str) -> ReviewedVideo | None:
        query = (
            sa.select(videos.c.video_id, videos.c.channel, videos.c.batch_date, videos.c.status, video_requests.c.arms)
            .join(video_requests, video_requests.c.video_id == videos.c.video_id)
            .where(videos.c.video_id == video_id)
        )
        with self.engine.connect() as conn:
            r = conn.execute(query).first()
        if r is None:
            return None
        return ReviewedVideo(r.video_id, r.channel, r.batch_date, r.status, str((r.arms or {}).get("posting_hour", "")))

    def published_on(self, video_id: str) -> dict[str, str]:
        """platform -> URL of each post of the video that exists."""
        query = sa.select(publish_results.c.platform, publish_results.c.url).where(
            publish_results.c.video_id == video_id, publish_results.c.status == "published"
        )
        with self.engine.connect() as conn:
            return {r.platform: r.url or "" for r in conn.execute(query)}

    def awaiting(self, channels: Sequence[str]) -> list[ReviewedVideo]:
        """The videos of these channels whose status is awaiting_review, oldest batch first."""
        query = (
            sa.select(videos.c.video_id, videos.c.channel, videos.c.batch_date, videos.c.status, video_requests.c.arms)
            .join(video_requests, video_requests.c.video_id == videos.c.video_id)
            .where(videos.c.channel.in_(list(channels)), videos.c.status == AWAITING_REVIEW)
            .order_by(videos.c.batch_date, videos.c.channel, videos.c.position)
        )
        with self.engine.connect() as conn:
            return [
                ReviewedVideo(
                    r.video_id, r.channel, r.batch_date, r.status, str((r.arms or {}).get("posting_hour", ""))
                )
                for r in conn.execute(query)
            ]

    def set_status(self, video_id: str, status: str, *, only_from: Sequence[str] | None = None) -> bool:
        """Set a video's status (only while it is one of `only_from`); True if this call changed it."""
        query = videos.update().where(videos.c.video_id == video_id, videos.c.status != status)
        if only_from is not None:
            query = query.where(videos.c.status.in_(list(only_from)))
        with self.engine.begin() as conn:
            result = conn.execute(query.values(status=status, updated_at=utcnow()))
        return result.rowcount == 1
