"""HMAC-SHA256 signatures of a webhook's body, as the receiver checks them.

The signed message is ``"{timestamp}.{raw body}"`` (the timestamp in whole Unix seconds, the body's
exact bytes), keyed with SHORTS_WEBHOOK_SECRET. It travels as ``X-Shorts-Signature: t=<ts>,v1=<hex>``
(with ``X-Shorts-Timestamp`` and ``X-Shorts-Event-Id`` beside it). A receiver recomputes it, compares
in constant time and refuses a timestamp outside its tolerance window, which bounds replays.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

SIGNATURE_HEADER = "X-Shorts-Signature"
TIMESTAMP_HEADER = "X-Shorts-Timestamp"
EVENT_ID_HEADER = "X-Shorts-Event-Id"
DEFAULT_TOLERANCE_S = 300


class SignatureError(ValueError):
    """A request whose signature is missing, malformed, wrong or too old."""


def signature(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signed_headers(secret: str, timestamp: int, body: bytes, event_id: str) -> dict[str, str]:
    return {
        SIGNATURE_HEADER: f"t={timestamp},v1={signature(secret, timestamp, body)}",
        TIMESTAMP_HEADER: str(timestamp),
        EVENT_ID_HEADER: event_id,
    }


def verify(
    secret: str, headers: Mapping[str, str], body: bytes, now: float, tolerance_s: int = DEFAULT_TOLERANCE_S
) -> int:
    """Check a request's signature (header names lower-cased); return its timestamp or raise SignatureError."""
    raw = headers.get(SIGNATURE_HEADER.lower(), "")
    parts = dict(p.split("=", 1) for p in raw.split(",") if "=" in p)
    if "t" not in parts or "v1" not in parts or not parts["t"].isdigit():
        raise SignatureError(f"{SIGNATURE_HEADER} must be t=<unix seconds>,v1=<hex>")
    timestamp = int(parts["t"])
    if abs(now - timestamp) > tolerance_s:
        raise SignatureError(f"timestamp {timestamp} is outside the {tolerance_s} s window")
    if not hmac.compare_digest(signature(secret, timestamp, body), parts["v1"]):
        raise SignatureError("signature does not match the body")
    return timestamp
