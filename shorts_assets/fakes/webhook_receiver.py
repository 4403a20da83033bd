"""A webhook receiver on a real socket that checks what a real one should, and fails on demand.

Every request must carry a valid ``X-Shorts-Signature`` (HMAC-SHA256 over ``"{t}.{body}"`` with the
shared secret) whose timestamp is inside the tolerance window, else 401. Replays are rejected: a
request whose (event id, signature) pair was accepted before gets 409 and is not counted (a request
that was refused was never processed, so sending it again is a retry, not a replay). A new, validly
signed request for an event already accepted (the sender's retry after a lost answer) gets 200 with
``{"duplicate": true}``: accepted, deduplicated by id, recorded once in ``events``.

Failures to inject: ``fail_first(n)`` answers 503 to the first n attempts of every event; ``down()``
closes each connection without answering until ``up()``; ``hold()`` keeps each request waiting
(unanswered, unrecorded) until ``release()``, which then answers 503.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class SignatureError(ValueError):
    pass


def verify(secret: str, headers: dict[str, str], body: bytes, now: float, tolerance_s: int) -> None:
    """The documented check, written from the README's description rather than the sender's code."""
    fields = dict(p.split("=", 1) for p in headers.get("x-shorts-signature", "").split(",") if "=" in p)
    if not fields.get("t", "").isdigit() or "v1" not in fields:
        raise SignatureError("missing or malformed X-Shorts-Signature")
    if headers.get("x-shorts-timestamp") != fields["t"]:
        raise SignatureError("X-Shorts-Timestamp differs from the signature's t")
    if abs(now - int(fields["t"])) > tolerance_s:
        raise SignatureError("timestamp outside the tolerance window")
    expected = hmac.new(secret.encode(), fields["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, fields["v1"]):
        raise SignatureError("signature does not match the body")


class WebhookReceiver:
    def __init__(self, secret: str, *, tolerance_s: int = 300) -> None:
        self.secret = secret
        self.tolerance_s = tolerance_s
        self.lock = threading.Lock()
        self.events: dict[str, Any] = {}  # event id -> the first accepted body
        self.bodies: list[tuple[str, Any]] = []  # (path, parsed body) of every accepted request
        self.attempts: Counter[str] = Counter()  # event id -> requests that reached the checks
        self.accepted: Counter[str] = Counter()  # event id -> requests answered 2xx
        self.rejected: list[tuple[int, str]] = []  # (status, reason)
        self.seen: set[tuple[str, str]] = set()  # (event id, signature) pairs already answered
        self._fail_first = 0
        self._down = False
        self._held = threading.Event()
        self._holding = False
        self.held = 0  # requests waiting under hold()
        handler = type("BoundReceiver", (_Handler,), {"receiver": self})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def fail_first(self, attempts: int) -> None:
        self._fail_first = attempts

    def down(self) -> None:
        self._down = True

    def up(self) -> None:
        self._down = False

    def hold(self) -> None:
        self._held.clear()
        self._holding = True

    def release(self) -> None:
        self._holding = False
        self._held.set()

    def wait_for_held(self, count: int, timeout_s: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.held >= count:
                return True
            time.sleep(0.02)
        return False

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]] | None:
        """The answer to one request; None closes the connection without one."""
        if self._down:
            return None
        if self._holding:
            with self.lock:
                self.held += 1
            self._held.wait()
            return 503, {"error": "released without being processed"}
        try:
            verify(self.secret, headers, body, time.time(), self.tolerance_s)
        except SignatureError as exc:
            with self.lock:
                self.rejected.append((401, str(exc)))
            return 401, {"error": str(exc)}
        event_id = headers.get("x-shorts-event-id", "")
        try:
            document = json.loads(body)
        except ValueError:
            with self.lock:
                self.rejected.append((400, "body is not JSON"))
            return 400, {"error": "body is not JSON"}
        if not event_id or (isinstance(document, dict) and "kind" in document and document.get("id") != event_id):
            with self.lock:
                self.rejected.append((400, "event id header missing or not the body's id"))
            return 400, {"error": "event id header missing or not the body's id"}
        pair = (event_id, headers.get("x-shorts-signature", ""))
        with self.lock:
            if pair in self.seen:
                self.rejected.append((409, f"replay of {event_id}"))
                return 409, {"error": "replayed request"}
            self.attempts[event_id] += 1
            if self.attempts[event_id] <= self._fail_first:
                return 503, {"error": "injected failure"}
            self.seen.add(pair)
            self.accepted[event_id] += 1
            self.bodies.append((path, document))
            if event_id in self.events:
                return 200, {"duplicate": True}
            self.events[event_id] = document
            return 200, {"ok": True}

    def __enter__(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    receiver: WebhookReceiver

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        answer = self.receiver.handle(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        if answer is None:
            self.close_connection = True
            return
        status, payload = answer
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
