"""What an event is: its kinds, its id, and the JSON envelope every destination is sent.

An event id is a UUID. Events that report a state (a video published on a platform, a budget spent
for a day) take a UUID derived from what they report, so reporting the same state twice (a rerun, a
retried step) records one event; the others get a fresh random one. The receiver deduplicates by it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

KINDS = (
    "published",
    "failed",
    "needs_manual",
    "awaiting_review",
    "budget_exhausted",
    "quota_exhausted",
    "run_failed",
)
# The namespace of the ids derived from what an event reports (uuid5).
EVENT_NAMESPACE = uuid.UUID("5b0f1c3e-6a2d-4f4e-9d1a-73686f727473")


def event_id_for(key: str | None) -> str:
    """The id of an event: derived from `key` when the event reports a state, random otherwise."""
    return str(uuid.uuid5(EVENT_NAMESPACE, key)) if key else str(uuid.uuid4())


@dataclass(frozen=True)
class Event:
    id: str
    kind: str
    channel: str | None
    video_id: str | None
    occurred_at: datetime
    data: Mapping[str, Any] = field(default_factory=dict)

    def envelope(self) -> dict[str, Any]:
        """The JSON document a generic destination receives, and the outbox keeps."""
        return {
            "id": self.id,
            "kind": self.kind,
            "channel": self.channel,
            "video_id": self.video_id,
            "occurred_at": self.occurred_at.isoformat(),
            "data": dict(self.data),
        }


def new_event(
    kind: str,
    *,
    channel: str | None,
    video_id: str | None,
    data: Mapping[str, Any] | None,
    occurred_at: datetime,
    key: str | None = None,
) -> Event:
    """A validated event; an unknown kind or data that is not JSON raises ValueError naming it."""
    if kind not in KINDS:
        raise ValueError(f"unknown event kind {kind!r}; one of {', '.join(KINDS)}")
    if occurred_at.tzinfo is None:
        raise ValueError("an event's time must be timezone-aware (UTC)")
    payload = dict(data or {})
    try:
        json.dumps(payload, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"the data of a {kind} event must be plain JSON: {exc}") from None
    return Event(event_id_for(key), kind, channel, video_id, occurred_at, payload)


def canonical_body(envelope: Mapping[str, Any]) -> bytes:
    """The exact bytes sent: sorted keys, no spaces, UTF-8, so every retry sends the same body."""
    return json.dumps(envelope, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
