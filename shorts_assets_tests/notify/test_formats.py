"""The bodies sent: the generic envelope byte for byte the same on every retry, and Slack's and
Discord's own message shapes."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from shorts_assets.notify.events import canonical_body, new_event
from shorts_assets.notify.formats import DISCORD_CONTENT_LIMIT, body_for

AT = datetime(2026, 11, 27, 18, 0, tzinfo=timezone.utc)


def event(**data):
    return new_event("published", channel="demo", video_id="demo-20261127-01", data=data, occurred_at=AT).envelope()


def test_the_generic_body_is_the_envelope_in_one_canonical_encoding() -> None:
    envelope = event(platform="youtube", url="https://youtu.be/x")
    body = canonical_body(body_for("json", envelope))
    assert json.loads(body) == envelope
    assert body == canonical_body(json.loads(body))  # a row read back from the outbox sends the same bytes
    assert b" " not in body.split(b'"data"')[0]


def test_a_slack_body_is_a_text_message_naming_the_event() -> None:
    envelope = event(platform="youtube", url="https://youtu.be/x")
    body = body_for("slack", envelope)
    assert set(body) == {"text"}
    assert "Published — demo demo-20261127-01" in body["text"] and "platform: youtube" in body["text"]
    assert envelope["id"] in body["text"]


def test_a_discord_body_has_content_within_its_limit_an_embed_and_no_mentions() -> None:
    body = body_for("discord", event(error="x" * 5000))
    assert len(body["content"]) <= DISCORD_CONTENT_LIMIT
    assert body["allowed_mentions"] == {"parse": []}  # an error text can never ping @everyone
    [embed] = body["embeds"]
    assert embed["title"] == "Published" and embed["timestamp"] == AT.isoformat()
