"""The body each kind of destination is sent: the generic envelope, or a Slack or Discord message.

Slack incoming webhooks take ``{"text": ...}`` (mrkdwn); Discord webhooks take ``{"content": ...}``
(at most 2,000 characters) and ``embeds``. Both carry the event id and kind in the text, so a person
can match a message to the outbox row.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

FORMATS = ("json", "slack", "discord")
DISCORD_CONTENT_LIMIT = 2000

_TITLES = {
    "published": "Published",
    "failed": "Publishing failed",
    "needs_manual": "Needs a person",
    "awaiting_review": "Awaiting review",
    "budget_exhausted": "Daily budget exhausted",
    "quota_exhausted": "Platform quota exhausted",
    "run_failed": "Run failed",
}


def summary(envelope: Mapping[str, Any]) -> str:
    """One line for people: what happened, to which channel and video, and the key facts."""
    kind = envelope["kind"]
    where = " ".join(x for x in (envelope.get("channel"), envelope.get("video_id")) if x)
    data = envelope.get("data") or {}
    facts = ", ".join(f"{k}: {v}" for k, v in data.items() if isinstance(v, (str, int, float)) and v != "")
    line = f"{_TITLES.get(kind, kind)}{' — ' + where if where else ''}"
    return f"{line} ({facts})" if facts else line


def body_for(fmt: str, envelope: Mapping[str, Any]) -> Any:
    """The JSON document sent to a destination of format `fmt`."""
    if fmt == "json":
        return envelope
    text = summary(envelope)
    if fmt == "slack":
        return {"text": f"*{text}*\nevent `{envelope['id']}` · {envelope['kind']} · {envelope['occurred_at']}"}
    if fmt == "discord":
        content = f"**{text}**"
        if len(content) > DISCORD_CONTENT_LIMIT:
            content = content[: DISCORD_CONTENT_LIMIT - 1] + "…"
        return {
            "content": content,
            "embeds": [
                {
                    "title": _TITLES.get(envelope["kind"], envelope["kind"]),
                    "footer": {"text": f"event {envelope['id']}"},
                    "timestamp": envelope["occurred_at"],
                }
            ],
            "allowed_mentions": {"parse": []},
        }
    raise ValueError(f"unknown webhook format {fmt!r}; one of {', '.join(FORMATS)}")
