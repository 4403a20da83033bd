"""The review gate: which videos may be paid for or posted, recording a person's decisions, and when
approved videos go out.

Every stage asks `gate` which of its batch's videos may pass. With review `off` all pass. A rejected
video never passes anything again. Under `before_generation` a video with no approval stops before
the first paid clip or voice call; under `before_publish` it is rendered and stops before any
platform. A video that starts to wait gets the status `awaiting_review`, announced once through
`on_awaiting_review`. Approved videos go out at their slot (the batch date at the posting hour the
strategy chose): a platform that schedules posts itself (YouTube's `publishAt`) gets the video at
once with the slot, the others only when the slot has come (`due`); `plan_publishing` tells the
sensor when to launch each approved video's publishing. `decide` is the one way decisions are made,
for the Dagster job and the command line alike.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from typing import Any

from shorts_assets.core.arms import ARM_SPACE
from shorts_assets.core.channels import ChannelConfig
from shorts_assets.core.errors import ConfigError
from shorts_assets.core.protocols import Publisher
from shorts_assets.core.review import (
    APPROVE,
    APPROVED,
    AWAITING_REVIEW,
    BEFORE_GENERATION,
    MAX_DESCRIPTION_CHARS,
    MAX_TITLE_CHARS,
    OFF,
    REJECT,
    REJECTED,
)
from shorts_assets.db.reviews import Decision, NewDecision, ReviewStore
from shorts_assets.db.store import Store, VideoRow
from shorts_assets.loop.batch import Log
from shorts_assets.loop.publishing import is_simulated, scheduled_slot
from shorts_assets.loop.stages import RENDER_STAGE
from shorts_assets.notify import Notifier

AT_GENERATION = "generation"  # before the first paid clip or voice call
AT_PUBLISH = "publish"  # before any platform
AWAITING = "awaiting review"


def on_awaiting_review(log: Log, row: VideoRow, point: str, notifier: Notifier | None = None) -> None:
    """A video has just started to wait for a person's review (called once per video as it starts).

    The one place the `awaiting_review` event leaves the loop; the notification sent from here reaches
    a person exactly when there is something to review.
    """
    log.info(
        f"{row.video_id} ({row.channel} {row.batch_date}) is awaiting review before {point}: approve or "
        "reject it with review_job or `python -m shorts_assets.review`"
    )
    if notifier is not None:
        notifier.emit(
            "awaiting_review",
            channel=row.channel,
            video_id=row.video_id,
            key=f"awaiting_review:{row.video_id}",
            data={"title": row.script.title, "batch_date": row.batch_date.isoformat(), "before": point},
        )


@dataclass
class Gate:
    """The videos of a batch that may pass (edited titles and descriptions applied), and why the others wait."""

    allowed: list[VideoRow] = field(default_factory=list)
    held: dict[str, str] = field(default_factory=dict)


def with_edits(row: VideoRow, decision: Decision | None) -> VideoRow:
    """The row as it is to be published: the reviewer's edited title and description, where given."""
    if decision is None or (decision.title is None and decision.description is None):
        return row
    script = dataclasses.replace(
        row.script,
        title=decision.title if decision.title is not None else row.script.title,
        description=decision.description if decision.description is not None else row.script.description,
    )
    return dataclasses.replace(row, script=script)


def rejected_reason(decision: Decision) -> str:
    return f"rejected by {decision.reviewer}: {decision.reason or 'no reason given'}"


def gate(
    log: Log,
    store: Store,
    channel: ChannelConfig,
    rows: Iterable[VideoRow],
    point: str,
    notifier: Notifier | None = None,
) -> Gate:
    """Which of `rows` may pass the `point` (AT_GENERATION or AT_PUBLISH) under the channel's review mode;
    each video that starts to wait is announced once (through `notifier`, when given)."""
    rows = list(rows)
    if channel.review == OFF:
        return Gate(allowed=rows)
    reviews = ReviewStore(store)
    latest = reviews.latest(r.video_id for r in rows)
    result = Gate()
    needs_approval = point == AT_PUBLISH or channel.review == BEFORE_GENERATION
    for row in rows:
        decision = latest.get(row.video_id)
        if decision is not None and decision.decision == REJECT:
            result.held[row.video_id] = rejected_reason(decision)
        elif decision is not None or not needs_approval:
            result.allowed.append(with_edits(row, decision))
        else:
            result.held[row.video_id] = AWAITING
            ready = point == AT_GENERATION or RENDER_STAGE in row.outputs or channel.review == BEFORE_GENERATION
            if ready and reviews.set_status(row.video_id, AWAITING_REVIEW, only_from=("ok",)):
                waits_for = "generation" if channel.review == BEFORE_GENERATION else "publishing"
                on_awaiting_review(log, row, waits_for, notifier)
    return result


def schedules_natively(publisher: Publisher) -> bool:
    """Whether the platform holds a post until its slot itself (YouTube's publishAt on a private upload)."""
    return publisher.platform == "youtube" and not is_simulated(publisher)


def due(channel: ChannelConfig, publisher: Publisher, rows: Iterable[VideoRow], now: datetime) -> Gate:
    """Of approved rows, those that may be posted on `publisher` now: all where the platform schedules
    posts itself or review is off, else those whose slot has come."""
    rows = list(rows)
    if channel.review == OFF or schedules_natively(publisher):
        return Gate(allowed=rows)
    result = Gate()
    for row in rows:
        slot = scheduled_slot(row)
        if slot > now:
            result.held[row.video_id] = f"scheduled for {slot:%Y-%m-%d %H:%M} UTC"
        else:
            result.allowed.append(row)
    return result


# ##### decisions


@dataclass(frozen=True)
class ReviewRequest:
    """What a person decided in one go: ids to approve, ids to reject with their reasons, edits."""

    channels: Sequence[str]  # the channel(s) this review is about; a decision on another channel's video is refused
    approve: Sequence[str] = ()
    reject: Mapping[str, str] = field(default_factory=dict)  # video id -> reason
    titles: Mapping[str, str] = field(default_factory=dict)  # video id -> edited title (approved videos)
    descriptions: Mapping[str, str] = field(default_factory=dict)  # video id -> edited description
    reviewer: str = "unknown"
    via: str = "ui"
    run_id: str | None = None


@dataclass
class ReviewResult:
    recorded: list[Decision] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)  # video id -> why its decision was refused

    def summary(self) -> str:
        parts = [f"{past_tense(d.decision)} {d.video_id}" for d in self.recorded]
        parts += [f"refused {video_id}: {why}" for video_id, why in self.refused.items()]
        return "; ".join(parts) or "nothing to decide"


def past_tense(decision: str) -> str:
    """'approved' or 'rejected', as a status and in messages."""
    return APPROVED if decision == APPROVE else REJECTED


def _edit_problem(kind: str, value: str, limit: int) -> str | None:
    if not value.strip():
        return f"the edited {kind} is empty"
    if len(value) > limit:
        return f"the edited {kind} has {len(value)} characters, over the limit of {limit}"
    return None


def decide(store: Store, channels: Sequence[ChannelConfig], request: ReviewRequest) -> ReviewResult:
    """Record every valid decision of `request` at once; refuse each invalid one, naming the video and why.

    A decision is refused for a video that does not exist, belongs to a channel the request does
    not name or that has review off, is already published or already rejected, is both approved
    and rejected, or is rejected without a reason; an edit is refused for a video not approved here.
    A channel the request names that is not configured refuses the whole request (ConfigError).
    """
    configured = {c.name: c for c in channels}
    targets = list(dict.fromkeys(request.channels))
    if not targets:
        raise ConfigError("a review names the channel(s) it is about (channels), and none was given")
    unknown = [c for c in targets if c not in configured]
    if unknown:
        raise ConfigError(
            f"channels: unknown channel {unknown[0]!r}; configured: {', '.join(configured)} "
            "(SHORTS_CHANNELS or SHORTS_CHANNELS_FILE)"
        )
    reviews = ReviewStore(store)
    result = ReviewResult()
    wanted: dict[str, tuple[str, str | None]] = dict.fromkeys(request.approve, (APPROVE, None))
    for video_id, reason in request.reject.items():
        if video_id in wanted:
            result.refused[video_id] = "it is both approved and rejected in this review; decide one"
            del wanted[video_id]
        else:
            wanted[video_id] = (REJECT, reason)
    for kind, edits in (("title", request.titles), ("description", request.descriptions)):
        for video_id in edits:
            if wanted.get(video_id, (None,))[0] != APPROVE and video_id not in result.refused:
                result.refused[video_id] = (
                    f"an edited {kind} is given for {video_id}, which this review does not approve"
                )
                wanted.pop(video_id, None)

    latest = reviews.latest(wanted)
    accepted: list[NewDecision] = []
    for video_id, (decision, reason) in wanted.items():
        problem = _refusal(reviews, configured, targets, video_id, decision, reason, latest.get(video_id))
        title, description = request.titles.get(video_id), request.descriptions.get(video_id)
        if problem is None and title is not None:
            problem = _edit_problem("title", title, MAX_TITLE_CHARS)
        if problem is None and description is not None:
            problem = _edit_problem("description", description, MAX_DESCRIPTION_CHARS)
        if problem is not None:
            result.refused[video_id] = problem
            continue
        video = reviews.video(video_id)
        assert video is not None
        accepted.append(
            NewDecision(
                video_id=video_id,
                channel=video.channel,
                batch_date=video.batch_date,
                decision=decision,
                reason=reason.strip() if reason else None,
                title=title,
                description=description,
                reviewer=request.reviewer or "unknown",
                via=request.via,
                run_id=request.run_id,
            )
        )
    result.recorded = reviews.record(accepted)
    for d in result.recorded:
        # The status only mirrors the decision for people to read; the loop obeys the decision itself.
        reviews.set_status(d.video_id, past_tense(d.decision), only_from=None)
    return result


def _refusal(
    reviews: ReviewStore,
    configured: Mapping[str, ChannelConfig],
    targets: Sequence[str],
    video_id: str,
    decision: str,
    reason: str | None,
    latest: Decision | None,
) -> str | None:
    video = reviews.video(video_id)
    if video is None:
        return f"no video {video_id!r} exists"
    if video.channel not in targets:
        return f"{video_id} belongs to channel {video.channel}, not to {', '.join(targets)}, which this review is about"
    channel = configured.get(video.channel)
    if channel is None or channel.review == OFF:
        return (
            f"channel {video.channel} has review off (SHORTS_REVIEW, or its review field): "
            "its videos are published without a decision"
        )
    posted = reviews.published_on(video_id)
    if posted:
        return f"{video_id} is already published ({', '.join(f'{p}: {u}' for p, u in sorted(posted.items()))})"
    if latest is not None and latest.decision == REJECT:
        return f"{video_id} was already rejected by {latest.reviewer} at {latest.decided_at:%Y-%m-%d %H:%M} UTC: {latest.reason}"
    if decision == REJECT and not (reason or "").strip():
        return f"rejecting {video_id} needs a reason"
    return None


# ##### when approved videos go out


def slot_of(batch_date: date, posting_hour: str) -> datetime:
    """The slot of a video of `batch_date` posted at `posting_hour` (as loop.publishing.scheduled_slot)."""
    hour = int(posting_hour) if posting_hour.isdigit() else int(ARM_SPACE["posting_hour"][0])
    return datetime.combine(batch_date, time(hour), tzinfo=timezone.utc)


@dataclass(frozen=True)
class Launch:
    """One publishing run to start for a partition, for the approvals it serves."""

    run_key: str
    channel: str
    batch_date: date
    video_ids: tuple[str, ...]
    reason: str


def plan_publishing(
    store: Store, channels: Sequence[ChannelConfig], state: Mapping[str, Any], now: datetime
) -> tuple[list[Launch], dict[str, Any]]:
    """The publishing runs to launch now for approvals, and the sensor's next state.

    Each approval is launched at once (generation under before_generation, and the platforms that
    schedule posts themselves get the slot) and, when its slot was still ahead, once more when the
    slot comes, for the platforms that wait. A run key names the approvals it serves, so each
    approval is launched at most once per phase. `state` is {"after": last decision id read,
    "waiting": {decision id: [video id, channel, batch date, slot timestamp]}}.
    """
    reviews = ReviewStore(store)
    configured = {c.name: c for c in channels}
    after = int(state.get("after", 0))
    waiting: dict[str, list[Any]] = {str(k): list(v) for k, v in (state.get("waiting") or {}).items()}
    launches: dict[tuple[str, str, str], list[Decision]] = {}

    while True:
        page = reviews.decisions_after(after)
        for d in page:
            after = d.id
            channel = configured.get(d.channel)
            if d.decision != APPROVE or channel is None or channel.review == OFF:
                continue
            video = reviews.video(d.video_id)
            if video is None:
                continue
            slot = slot_of(video.batch_date, video.posting_hour)
            phase = "slot" if slot <= now else "approved"
            launches.setdefault((d.channel, d.batch_date.isoformat(), phase), []).append(d)
            if slot > now:
                waiting[str(d.id)] = [d.video_id, d.channel, d.batch_date.isoformat(), slot.timestamp()]
        if len(page) < 500:
            break

    come = [k for k, (_, _, _, ts) in waiting.items() if ts <= now.timestamp()]
    if come:
        latest = reviews.latest(waiting[k][0] for k in come)
        for key in sorted(come, key=int):
            video_id, channel_name, day, _ = waiting.pop(key)
            current = latest.get(video_id)
            # Superseded (rejected since, or approved again with its own wait) approvals launch nothing.
            if current is None or current.id != int(key) or current.decision != APPROVE:
                continue
            launches.setdefault((channel_name, day, "slot"), []).append(current)

    planned = []
    for (channel_name, day, phase), decisions in sorted(launches.items()):
        ids = "+".join(str(d.id) for d in sorted(decisions, key=lambda d: d.id))
        videos = tuple(dict.fromkeys(d.video_id for d in decisions))
        why = "the slot has come" if phase == "slot" else "approved before its slot"
        planned.append(
            Launch(
                run_key=f"review:{channel_name}|{day}:{phase}:{ids}",
                channel=channel_name,
                batch_date=date.fromisoformat(day),
                video_ids=videos,
                reason=f"{', '.join(videos)}: {why}",
            )
        )
    return planned, {"after": after, "waiting": waiting}
