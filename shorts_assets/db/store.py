"""The application database: every read and write the loop makes, over SQLAlchemy Core.

Works the same on SQLite (the embedded default) and PostgreSQL. Metric snapshots are append-only;
publications are unique per (video, platform, account); scripts are written once per video id;
an experiment is opened once per (channel, dimension, date) and its decision is written once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from shorts_assets.core.records import script_from_json
from shorts_assets.core.types import Comment, MetricSnapshot, Publication, Script
from shorts_assets.db import migrate
from shorts_assets.db.schema import (
    comments,
    content_strategy,
    experiments,
    performance_metrics,
    publish_results,
    video_requests,
    videos,
)

_migrated: set[str] = set()
_migrate_lock = threading.Lock()


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every datetime we store is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class VideoRow:
    video_id: str
    channel: str
    batch_date: date
    position: int
    stage: str
    status: str
    failed_stage: str | None
    error: str | None
    outputs: dict[str, Any]
    arms: dict[str, str]
    script: Script  # decoded once, here
    strategy_version: str
    forced_arms: tuple[str, ...] = ()  # dimensions a person chose, not the learner


@dataclass(frozen=True)
class PublishRow:
    video_id: str
    platform: str
    account: str
    status: str
    remote_id: str | None
    url: str | None
    published_at: datetime | None
    attempts: int
    error: str | None


@dataclass(frozen=True)
class PublishClaim:
    """The outcome of claiming a publish slot: the row as it now is, and whether this owner holds it."""

    row: PublishRow
    granted: bool
    taken_over: bool  # the slot was uploading under a claim that lapsed: its owner died mid-post
    holder: str | None = None  # who holds the live claim, when it was not granted


@dataclass(frozen=True)
class StrategyRow:
    version: str
    channel: str
    strategy_date: date
    videos_per_day: int
    allocation: dict[str, dict[str, float]]
    state: dict[str, Any]
    summary: dict[str, Any]


@dataclass(frozen=True)
class ExperimentRow:
    id: int
    channel: str
    dimension: str
    arm_a: str
    arm_b: str
    started_on: date
    status: str  # running | decided | stopped
    decided_on: date | None
    winner: str | None
    p_superiority: float | None
    videos_a: int
    videos_b: int
    reason: str | None


EXPERIMENT_ENDED = ("decided", "stopped")

# How long a publish claim lasts unless renewed; a claim whose owner died lapses after it.
CLAIM_LEASE = timedelta(minutes=15)
# Slot states no claim moves out of: the post exists, or only a person can help.
# in_inbox: a draft sent to the creator's TikTok inbox, final for the engine until the creator posts it.
CLAIM_FINAL = ("published", "needs_manual", "in_inbox")


def _slot(video_id: str, platform: str, account: str) -> sa.ColumnElement[bool]:
    """The one publish_results row of a (video, platform, account)."""
    return sa.and_(
        publish_results.c.video_id == video_id,
        publish_results.c.platform == platform,
        publish_results.c.account == account,
    )


def create_engine(url: str) -> sa.Engine:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        # psycopg2 comes with dagster-postgres; SQLAlchemy 2.1 would otherwise look for psycopg 3.
        parsed = parsed.set(drivername="postgresql+psycopg2")
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(parsed, connect_args={"timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # noqa: ANN001
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return sa.create_engine(parsed, pool_pre_ping=True)


class Store:
    def __init__(self, url: str):
        self.url = url
        self.engine = create_engine(url)
        with _migrate_lock:
            if url not in _migrated:
                migrate.upgrade(self.engine)
                _migrated.add(url)

    def dispose(self) -> None:
        self.engine.dispose()

    # ##### scripts and videos

    def batch(self, channel: str, batch_date: date) -> list[VideoRow]:
        query = (
            sa.select(
                videos,
                video_requests.c.arms,
                video_requests.c.script,
                video_requests.c.strategy_version,
                video_requests.c.forced_arms,
            )
            .join(video_requests, video_requests.c.video_id == videos.c.video_id)
            .where(videos.c.channel == channel, videos.c.batch_date == batch_date)
            .order_by(videos.c.position)
        )
        with self.engine.connect() as conn:
            return [
                VideoRow(
                    video_id=r.video_id,
                    channel=r.channel,
                    batch_date=r.batch_date,
                    position=r.position,
                    stage=r.stage,
                    status=r.status,
                    failed_stage=r.failed_stage,
                    error=r.error,
                    outputs=dict(r.outputs or {}),
                    arms=dict(r.arms),
                    script=script_from_json(r.script),
                    strategy_version=r.strategy_version,
                    forced_arms=tuple(r.forced_arms or ()),
                )
                for r in conn.execute(query)
            ]

    def add_script(
        self,
        *,
        video_id: str,
        channel: str,
        batch_date: date,
        position: int,
        strategy_version: str,
        arms: Mapping[str, str],
        script: Mapping[str, Any],
        writer: str,
        forced_arms: Sequence[str] = (),
    ) -> bool:
        """Record a video's script and its video row in one transaction; False if it already exists.

        `forced_arms` names the dimensions a person chose for this video rather than the learner.
        """
        now = utcnow()
        try:
            with self.engine.begin() as conn:
                exists = conn.execute(
                    sa.select(video_requests.c.video_id).where(video_requests.c.video_id == video_id)
                ).first()
                if exists:
                    return False
                conn.execute(
                    video_requests.insert().values(
                        video_id=video_id,
                        channel=channel,
                        batch_date=batch_date,
                        position=position,
                        strategy_version=strategy_version,
                        arms=dict(arms),
                        script=dict(script),
                        writer=writer,
                        created_at=now,
                        forced_arms=sorted(forced_arms) or None,
                    )
                )
                conn.execute(
                    videos.insert().values(
                        video_id=video_id,
                        channel=channel,
                        batch_date=batch_date,
                        position=position,
                        stage="scripted",
                        status="ok",
                        outputs={},
                        updated_at=now,
                    )
                )
        except sa.exc.IntegrityError:  # another run of the partition wrote it first
            return False
        return True

    def complete_stage(self, video_id: str, stage: str, output: Mapping[str, Any]) -> None:
        with self.engine.begin() as conn:
            current = conn.execute(
                sa.select(videos.c.outputs, videos.c.failed_stage)
                .where(videos.c.video_id == video_id)
                .with_for_update()
            ).one()
            values: dict[str, Any] = {
                "stage": stage,
                "outputs": {**(current.outputs or {}), stage: dict(output)},
                "updated_at": utcnow(),
            }
            if current.failed_stage in (None, stage):
                values.update(status="ok", failed_stage=None, error=None)
            conn.execute(videos.update().where(videos.c.video_id == video_id).values(**values))

    def fail_stage(self, video_id: str, stage: str, error: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                videos.update()
                .where(videos.c.video_id == video_id)
                .values(status="failed", failed_stage=stage, error=error[:4000], updated_at=utcnow())
            )

    # ##### publications

    def publications(self, channel: str, batch_date: date, platform: str | None = None) -> list[PublishRow]:
        query = sa.select(publish_results).where(
            publish_results.c.channel == channel, publish_results.c.batch_date == batch_date
        )
        if platform:
            query = query.where(publish_results.c.platform == platform)
        with self.engine.connect() as conn:
            return [self._publish_row(r) for r in conn.execute(query.order_by(publish_results.c.video_id))]

    def publication(self, video_id: str, platform: str, account: str) -> PublishRow | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(publish_results).where(_slot(video_id, platform, account))).first()
        return self._publish_row(row) if row else None

    def begin_publish(
        self,
        *,
        video_id: str,
        channel: str,
        batch_date: date,
        platform: str,
        account: str,
        scheduled_at: datetime,
        owner: str,
        lease: timedelta = CLAIM_LEASE,
    ) -> PublishClaim:
        """Claim the (video, platform, account) slot for `owner` before anything is posted.

        The claim is taken by one conditional statement, so of several runs (separate processes
        included) exactly one gets it: a new slot is inserted as uploading (a concurrent insert
        loses on the unique constraint and reads the winner's row); an existing one is moved to
        uploading only while its claim is free, lapsed (its owner died) or the post failed. A live
        claim of another owner, or a slot already published or waiting for a person, is not taken.
        """
        if not owner or len(owner) > 80:
            raise ValueError(f"a claim owner is 1-80 characters, got {owner!r}")
        if lease <= timedelta(0):
            raise ValueError(f"a claim lease must be positive, got {lease}")
        for _ in range(3):
            row = self._slot_row(video_id, platform, account)
            now = utcnow()
            if row is None:
                try:
                    with self.engine.begin() as conn:
                        conn.execute(
                            publish_results.insert().values(
                                video_id=video_id,
                                channel=channel,
                                batch_date=batch_date,
                                platform=platform,
                                account=account,
                                status="uploading",
                                scheduled_at=scheduled_at,
                                attempts=1,
                                created_at=now,
                                updated_at=now,
                                claim_owner=owner,
                                claim_expires_at=now + lease,
                            )
                        )
                except sa.exc.IntegrityError:
                    continue  # another run inserted the slot first: read theirs
                return PublishClaim(self._found(video_id, platform, account), granted=True, taken_over=False)
            if row.status in CLAIM_FINAL:
                return PublishClaim(self._publish_row(row), granted=False, taken_over=False)
            free = sa.or_(
                publish_results.c.claim_owner.is_(None),
                publish_results.c.claim_owner == owner,
                publish_results.c.claim_expires_at.is_(None),
                publish_results.c.claim_expires_at < now,
                publish_results.c.status == "failed",
            )
            with self.engine.begin() as conn:
                result = conn.execute(
                    publish_results.update()
                    .where(publish_results.c.id == row.id, publish_results.c.status.not_in(CLAIM_FINAL), free)
                    .values(
                        status="uploading",
                        attempts=publish_results.c.attempts + 1,
                        error=None,
                        updated_at=now,
                        claim_owner=owner,
                        claim_expires_at=now + lease,
                    )
                )
            found = self._found(video_id, platform, account)
            if result.rowcount == 1:
                # An uploading slot whose claim lapsed was left by a run that died mid-post.
                taken_over = row.status == "uploading" and row.claim_owner != owner
                return PublishClaim(found, granted=True, taken_over=taken_over)
            return PublishClaim(
                found, granted=False, taken_over=False, holder=self._holder(video_id, platform, account)
            )
        raise RuntimeError(f"could not read or claim the {platform} slot of {video_id} for {account}")

    def renew_claim(
        self, video_id: str, platform: str, account: str, owner: str, lease: timedelta = CLAIM_LEASE
    ) -> bool:
        """Extend `owner`'s live claim on a slot by `lease` from now; False if it holds no claim there."""
        now = utcnow()
        with self.engine.begin() as conn:
            result = conn.execute(
                publish_results.update()
                .where(
                    _slot(video_id, platform, account),
                    publish_results.c.claim_owner == owner,
                    publish_results.c.status == "uploading",
                )
                .values(claim_expires_at=now + lease, updated_at=now)
            )
        return result.rowcount == 1

    def _slot_row(self, video_id: str, platform: str, account: str) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(publish_results).where(_slot(video_id, platform, account))).first()

    def _found(self, video_id: str, platform: str, account: str) -> PublishRow:
        found = self.publication(video_id, platform, account)
        if found is None:
            raise RuntimeError(f"the {platform} slot of {video_id} for {account} vanished while it was claimed")
        return found

    def _holder(self, video_id: str, platform: str, account: str) -> str | None:
        row = self._slot_row(video_id, platform, account)
        return row.claim_owner if row is not None else None

    def finish_publish(self, publication: Publication, owner: str | None = None) -> None:
        """Record the post as published (or in_inbox for a draft) and release the slot's claim (whoever held
        it: the post exists)."""
        with self.engine.begin() as conn:
            conn.execute(
                publish_results.update()
                .where(_slot(publication.video_id, publication.platform, publication.account))
                .values(
                    status="in_inbox" if publication.draft else "published",
                    remote_id=publication.remote_id,
                    url=publication.url,
                    published_at=publication.published_at,
                    error=None,
                    updated_at=utcnow(),
                    claim_owner=None,
                    claim_expires_at=None,
                )
            )

    def fail_publish(
        self,
        video_id: str,
        platform: str,
        account: str,
        error: str,
        status: str = "failed",
        owner: str | None = None,
    ) -> None:
        """Record a failed post and release the claim: `failed` is retried on the next run, `needs_manual`
        waits for a person. With an `owner`, only that owner's claim is failed (a run whose lease lapsed
        does not overwrite its successor); a published slot is never failed."""
        if status not in ("failed", "needs_manual"):
            raise ValueError(f"a failed post is 'failed' or 'needs_manual', not {status!r}")
        query = publish_results.update().where(
            _slot(video_id, platform, account), publish_results.c.status != "published"
        )
        if owner is not None:
            query = query.where(sa.or_(publish_results.c.claim_owner.is_(None), publish_results.c.claim_owner == owner))
        with self.engine.begin() as conn:
            conn.execute(
                query.values(
                    status=status, error=error[:4000], updated_at=utcnow(), claim_owner=None, claim_expires_at=None
                )
            )

    def release_manual(self, channel: str, batch_date: date, platform: str, video_ids: Sequence[str] = ()) -> list[str]:
        """Let posts that waited for a person (needs_manual) be tried by the next run, once the person has
        acted; only those of `video_ids` when given. The ids released, the reason kept in the error."""
        query = publish_results.update().where(
            publish_results.c.channel == channel,
            publish_results.c.batch_date == batch_date,
            publish_results.c.platform == platform,
            publish_results.c.status == "needs_manual",
        )
        if video_ids:
            query = query.where(publish_results.c.video_id.in_(list(video_ids)))
        with self.engine.begin() as conn:
            released = conn.execute(
                query.values(status="failed", updated_at=utcnow()).returning(publish_results.c.video_id)
            ).scalars()
            return sorted(released)

    @staticmethod
    def _publish_row(r: Any) -> PublishRow:
        return PublishRow(
            video_id=r.video_id,
            platform=r.platform,
            account=r.account,
            status=r.status,
            remote_id=r.remote_id,
            url=r.url,
            published_at=aware(r.published_at),
            attempts=r.attempts,
            error=r.error,
        )

    def published(self, channel: str, batch_date: date) -> list[Publication]:
        return [
            Publication(
                platform=p.platform,
                account=p.account,
                video_id=p.video_id,
                remote_id=p.remote_id or "",
                url=p.url or "",
                published_at=p.published_at,  # type: ignore[arg-type]
            )
            for p in self.publications(channel, batch_date)
            if p.status == "published"
        ]

    # ##### metrics and comments

    def append_snapshots(self, pairs: Iterable[tuple[str, MetricSnapshot]]) -> int:
        rows = [
            {
                "video_id": video_id,
                "platform": s.platform,
                "remote_id": s.remote_id,
                "window": s.window,
                "fetched_at": s.fetched_at,
                "age_hours": s.age_hours,
                "views": s.views,
                "likes": s.likes,
                "comments": s.comments,
                "shares": s.shares,
                "avg_view_pct": s.avg_view_pct,
                "watch_time_s": s.watch_time_s,
            }
            for video_id, s in pairs
        ]
        if rows:
            with self.engine.begin() as conn:
                conn.execute(performance_metrics.insert(), rows)
        return len(rows)

    def latest_snapshots(self, video_ids: Sequence[str]) -> list[dict[str, Any]]:
        """The newest snapshot of every (video, platform) among video_ids."""
        if not video_ids:
            return []
        newest = (
            sa.select(
                performance_metrics.c.video_id,
                performance_metrics.c.platform,
                sa.func.max(performance_metrics.c.id).label("id"),
            )
            .where(performance_metrics.c.video_id.in_(list(video_ids)))
            .group_by(performance_metrics.c.video_id, performance_metrics.c.platform)
            .subquery()
        )
        query = sa.select(performance_metrics).join(newest, performance_metrics.c.id == newest.c.id)
        with self.engine.connect() as conn:
            return [
                {**r._asdict(), "fetched_at": aware(r.fetched_at)}
                for r in conn.execute(query.order_by(performance_metrics.c.video_id, performance_metrics.c.platform))
            ]

    def snapshot_count(self, video_ids: Sequence[str]) -> int:
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(sa.func.count()).where(performance_metrics.c.video_id.in_(list(video_ids)))
            ).scalar_one()

    def add_comments(self, pairs: Iterable[tuple[str, Comment]]) -> int:
        """Insert comments not seen before (by platform and comment id); return how many were new."""
        fetched_at = utcnow()
        items = list(pairs)
        if not items:
            return 0
        with self.engine.begin() as conn:
            platforms = {c.platform for _, c in items}
            known = {
                (r.platform, r.comment_id)
                for r in conn.execute(
                    sa.select(comments.c.platform, comments.c.comment_id).where(
                        comments.c.platform.in_(platforms),
                        comments.c.comment_id.in_([c.comment_id for _, c in items]),
                    )
                )
            }
            fresh = []
            for video_id, c in items:
                if (c.platform, c.comment_id) in known:
                    continue
                known.add((c.platform, c.comment_id))
                fresh.append(
                    {
                        "platform": c.platform,
                        "comment_id": c.comment_id,
                        "remote_id": c.remote_id,
                        "video_id": video_id,
                        "parent_id": c.parent_id,
                        "author": c.author[:200],
                        "text": c.text,
                        "like_count": c.like_count,
                        "published_at": c.published_at,
                        "fetched_at": fetched_at,
                    }
                )
            if fresh:
                conn.execute(comments.insert(), fresh)
        return len(fresh)

    def comments_for(self, video_ids: Sequence[str]) -> list[dict[str, Any]]:
        if not video_ids:
            return []
        with self.engine.connect() as conn:
            return [
                r._asdict()
                for r in conn.execute(
                    sa.select(comments).where(comments.c.video_id.in_(list(video_ids))).order_by(comments.c.id)
                )
            ]

    # ##### strategy

    def save_strategy(
        self,
        *,
        channel: str,
        strategy_date: date,
        videos_per_day: int,
        allocation: Mapping[str, Mapping[str, float]],
        state: Mapping[str, Any],
        summary: Mapping[str, Any],
        run_id: str | None = None,
    ) -> str:
        """Append a new strategy version for (channel, date) and return its version label.

        A run that saves again for the same (channel, date) gets its existing version back, no new
        row. Concurrent runs never share a number: the version column is unique, so a run that
        loses the race for a number takes the next one.
        """
        if run_id is not None and not 0 < len(run_id) <= 64:
            raise ValueError(f"a strategy run_id is 1-64 characters, got {run_id!r}")
        of_date = sa.and_(content_strategy.c.channel == channel, content_strategy.c.strategy_date == strategy_date)
        for _ in range(20):
            with self.engine.connect() as conn:
                if run_id is not None:
                    mine = conn.execute(
                        sa.select(content_strategy.c.version)
                        .where(of_date, content_strategy.c.run_id == run_id)
                        .order_by(content_strategy.c.id)
                        .limit(1)
                    ).scalar()
                    if mine is not None:
                        return mine
                count = conn.execute(sa.select(sa.func.count()).where(of_date)).scalar_one()
            version = f"{channel}:{strategy_date.isoformat()}:v{count + 1}"
            try:
                with self.engine.begin() as conn:
                    conn.execute(
                        content_strategy.insert().values(
                            version=version,
                            channel=channel,
                            strategy_date=strategy_date,
                            videos_per_day=videos_per_day,
                            allocation={k: dict(v) for k, v in allocation.items()},
                            state=dict(state),
                            summary=dict(summary),
                            created_at=utcnow(),
                            run_id=run_id,
                        )
                    )
            except sa.exc.IntegrityError:
                continue  # another run took this number first: count again
            return version
        raise RuntimeError(f"could not allocate a strategy version for {channel} on {strategy_date}")

    def latest_strategy(
        self, channel: str, *, before: date | None = None, on: date | None = None
    ) -> StrategyRow | None:
        """The newest strategy of a channel dated strictly before `before`, or dated exactly `on`."""
        query = sa.select(content_strategy).where(content_strategy.c.channel == channel)
        if before is not None:
            query = query.where(content_strategy.c.strategy_date < before)
        if on is not None:
            query = query.where(content_strategy.c.strategy_date == on)
        query = query.order_by(content_strategy.c.strategy_date.desc(), content_strategy.c.id.desc()).limit(1)
        with self.engine.connect() as conn:
            r = conn.execute(query).first()
        if r is None:
            return None
        return StrategyRow(
            version=r.version,
            channel=r.channel,
            strategy_date=r.strategy_date,
            videos_per_day=r.videos_per_day,
            allocation=r.allocation,
            state=r.state,
            summary=r.summary,
        )

    def channel_video_arms(self, channel: str, through: date) -> dict[str, dict[str, Any]]:
        """Every scripted video of a channel up to a date: id -> {arms, batch_date, forced_arms}."""
        query = sa.select(
            video_requests.c.video_id, video_requests.c.arms, video_requests.c.batch_date, video_requests.c.forced_arms
        ).where(video_requests.c.channel == channel, video_requests.c.batch_date <= through)
        with self.engine.connect() as conn:
            return {
                r.video_id: {"arms": dict(r.arms), "batch_date": r.batch_date, "forced_arms": list(r.forced_arms or ())}
                for r in conn.execute(query)
            }

    # ##### learning: reads across strategy versions and channels

    @staticmethod
    def _strategy_row(r: Any) -> StrategyRow:
        return StrategyRow(
            version=r.version,
            channel=r.channel,
            strategy_date=r.strategy_date,
            videos_per_day=r.videos_per_day,
            allocation=r.allocation,
            state=r.state,
            summary=r.summary,
        )

    def latest_strategies(self, *, before: date, exclude: str | None = None) -> list[StrategyRow]:
        """The newest strategy of every channel dated strictly before `before` (all but `exclude`)."""
        query = sa.select(content_strategy).where(content_strategy.c.strategy_date < before)
        if exclude is not None:
            query = query.where(content_strategy.c.channel != exclude)
        newest: dict[str, StrategyRow] = {}
        with self.engine.connect() as conn:
            for r in conn.execute(query.order_by(content_strategy.c.strategy_date, content_strategy.c.id)):
                newest[r.channel] = self._strategy_row(r)
        return [newest[c] for c in sorted(newest)]

    def strategy_history(
        self, channel: str, *, through: date, days: int
    ) -> list[tuple[date, dict[str, dict[str, float]]]]:
        """(date, allocation) of the newest version of each strategy date in the `days` up to `through`."""
        query = (
            sa.select(content_strategy.c.strategy_date, content_strategy.c.allocation)
            .where(
                content_strategy.c.channel == channel,
                content_strategy.c.strategy_date <= through,
                content_strategy.c.strategy_date > through - timedelta(days=days),
            )
            .order_by(content_strategy.c.strategy_date, content_strategy.c.id)
        )
        by_date: dict[date, dict[str, dict[str, float]]] = {}
        with self.engine.connect() as conn:
            for r in conn.execute(query):
                by_date[r.strategy_date] = r.allocation
        return sorted(by_date.items())

    def scripts_for(self, video_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """video id -> its stored script (title, hook, narration, …), for the videos that have one."""
        ids = list(dict.fromkeys(video_ids))
        out: dict[str, dict[str, Any]] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(ids), 500):
                query = sa.select(video_requests.c.video_id, video_requests.c.script).where(
                    video_requests.c.video_id.in_(ids[start : start + 500])
                )
                for r in conn.execute(query):
                    out[r.video_id] = dict(r.script) if isinstance(r.script, Mapping) else {}
        return out

    # ##### experiments

    @staticmethod
    def _experiment_row(r: Any) -> ExperimentRow:
        return ExperimentRow(
            id=r.id,
            channel=r.channel,
            dimension=r.dimension,
            arm_a=r.arm_a,
            arm_b=r.arm_b,
            started_on=r.started_on,
            status=r.status,
            decided_on=r.decided_on,
            winner=r.winner,
            p_superiority=r.p_superiority,
            videos_a=r.videos_a,
            videos_b=r.videos_b,
            reason=r.reason,
        )

    def create_experiment(
        self, *, channel: str, dimension: str, arm_a: str, arm_b: str, started_on: date
    ) -> ExperimentRow:
        """Open a running experiment; the one already opened for (channel, dimension, date) if any."""
        now = utcnow()
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    experiments.insert().values(
                        channel=channel,
                        dimension=dimension,
                        arm_a=arm_a,
                        arm_b=arm_b,
                        started_on=started_on,
                        status="running",
                        videos_a=0,
                        videos_b=0,
                        created_at=now,
                        updated_at=now,
                    )
                )
        except sa.exc.IntegrityError:
            pass  # another run opened it first; read theirs
        query = sa.select(experiments).where(
            experiments.c.channel == channel,
            experiments.c.dimension == dimension,
            experiments.c.started_on == started_on,
        )
        with self.engine.connect() as conn:
            return self._experiment_row(conn.execute(query).one())

    def experiments(
        self, channel: str, *, statuses: Sequence[str] | None = None, started_through: date | None = None
    ) -> list[ExperimentRow]:
        """A channel's experiments, oldest first; only those with a status in `statuses`, opened by a date."""
        query = sa.select(experiments).where(experiments.c.channel == channel)
        if statuses is not None:
            query = query.where(experiments.c.status.in_(list(statuses)))
        if started_through is not None:
            query = query.where(experiments.c.started_on <= started_through)
        with self.engine.connect() as conn:
            return [
                self._experiment_row(r)
                for r in conn.execute(query.order_by(experiments.c.started_on, experiments.c.id))
            ]

    def running_experiments(self, channel: str, *, as_of: date | None = None) -> list[ExperimentRow]:
        """Experiments running on a date: opened by then and not ended by then (now, without a date)."""
        rows = self.experiments(channel, started_through=as_of)
        return [
            r
            for r in rows
            if r.status == "running" or (as_of is not None and r.decided_on is not None and r.decided_on > as_of)
        ]

    def decided_experiments(self, channel: str, *, as_of: date | None = None) -> list[ExperimentRow]:
        """Experiments that had ended (decided or stopped) by a date, oldest decision first."""
        rows = [
            r
            for r in self.experiments(channel, statuses=EXPERIMENT_ENDED, started_through=as_of)
            if as_of is None or (r.decided_on is not None and r.decided_on <= as_of)
        ]
        return sorted(rows, key=lambda r: (r.decided_on or date.min, r.id))

    def update_experiment(
        self, experiment_id: int, *, p_superiority: float | None, videos_a: int, videos_b: int
    ) -> None:
        """A running experiment's latest look: its posterior probability and sample so far."""
        with self.engine.begin() as conn:
            conn.execute(
                experiments.update()
                .where(experiments.c.id == experiment_id, experiments.c.status == "running")
                .values(p_superiority=p_superiority, videos_a=videos_a, videos_b=videos_b, updated_at=utcnow())
            )

    def record_experiment_decision(
        self,
        experiment_id: int,
        *,
        status: str,
        decided_on: date,
        winner: str | None,
        p_superiority: float | None,
        videos_a: int,
        videos_b: int,
        reason: str,
    ) -> bool:
        """End a running experiment as decided or stopped; False if it had already ended."""
        if status not in EXPERIMENT_ENDED:
            raise ValueError(f"an experiment ends as one of {', '.join(EXPERIMENT_ENDED)}, not {status!r}")
        with self.engine.begin() as conn:
            result = conn.execute(
                experiments.update()
                .where(experiments.c.id == experiment_id, experiments.c.status == "running")
                .values(
                    status=status,
                    decided_on=decided_on,
                    winner=winner,
                    p_superiority=p_superiority,
                    videos_a=videos_a,
                    videos_b=videos_b,
                    reason=reason[:4000],
                    updated_at=utcnow(),
                )
            )
        return result.rowcount == 1
