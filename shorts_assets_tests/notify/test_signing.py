"""The signature on every request, as a receiver checks it: the receiver on a socket accepts what the
sender signs, and refuses a wrong secret, a stale timestamp, a tampered body and a replay."""

from __future__ import annotations

import time

import httpx
import pytest

from shorts_assets.fakes.webhook_receiver import WebhookReceiver
from shorts_assets.notify.signing import SignatureError, signed_headers, verify

SECRET = "a-shared-secret-of-some-length"
BODY = b'{"channel":"demo","data":{},"id":"e1","kind":"published","occurred_at":"2026-11-27T18:00:00+00:00","video_id":null}'


def post(receiver: WebhookReceiver, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(receiver.url, content=body, headers={"Content-Type": "application/json", **headers})


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    import hashlib
    import hmac

    headers = signed_headers(SECRET, 1764266400, BODY, "e1")
    expected = hmac.new(SECRET.encode(), b"1764266400." + BODY, hashlib.sha256).hexdigest()
    assert headers["X-Shorts-Signature"] == f"t=1764266400,v1={expected}"
    assert headers["X-Shorts-Timestamp"] == "1764266400" and headers["X-Shorts-Event-Id"] == "e1"
    lowered = {k.lower(): v for k, v in headers.items()}
    assert verify(SECRET, lowered, BODY, now=1764266400 + 10) == 1764266400
    with pytest.raises(SignatureError, match="outside the 300 s window"):
        verify(SECRET, lowered, BODY, now=1764266400 + 301)
    with pytest.raises(SignatureError, match="does not match"):
        verify(SECRET, lowered, BODY + b" ", now=1764266400)


def test_the_receiver_accepts_a_signed_request_and_refuses_bad_ones_and_replays() -> None:
    with WebhookReceiver(SECRET) as receiver:
        now = int(time.time())
        good = signed_headers(SECRET, now, BODY, "e1")
        assert post(receiver, BODY, good).status_code == 200
        assert post(receiver, BODY, good).status_code == 409  # the same request again: a replay
        retry = signed_headers(SECRET, now + 1, BODY, "e1")  # the sender's own retry: a fresh signature
        answer = post(receiver, BODY, retry)
        assert answer.status_code == 200 and answer.json() == {"duplicate": True}
        assert list(receiver.events) == ["e1"] and receiver.accepted["e1"] == 2

        assert post(receiver, BODY, signed_headers("another-secret-entirely", now, BODY, "e2")).status_code == 401
        assert post(receiver, BODY, signed_headers(SECRET, now - 3600, BODY, "e2")).status_code == 401
        assert (
            post(receiver, BODY.replace(b"demo", b"omed"), signed_headers(SECRET, now, BODY, "e2")).status_code == 401
        )
        assert post(receiver, BODY, signed_headers(SECRET, now, BODY, "not-the-body-id")).status_code == 400
        assert [status for status, _ in receiver.rejected] == [409, 401, 401, 401, 400]
