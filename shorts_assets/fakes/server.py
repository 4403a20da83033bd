"""A small threaded HTTP server on 127.0.0.1 that hands requests to a fake platform app.

A fake app maps each request to a route name and a handler. Tests queue faults per route name; the
next matching request gets the fault instead of (or, for ``drop_after``, after) normal handling:

- ``status``: answer with the given status, headers and body, without handling the request;
- ``drop_before``: read the request, then close the socket without answering;
- ``drop_after``: handle the request (its effects happen), then cut the answer short and close.
"""

from __future__ import annotations

import json
import socket
import threading
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode("utf-8"), keep_blank_values=True))


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(
        status, json.dumps(payload).encode(), {"Content-Type": "application/json; charset=UTF-8", **(headers or {})}
    )


@dataclass
class Fault:
    kind: str  # status | drop_before | drop_after
    status: int = 500
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def answer(cls, status: int, body: bytes | str | dict = b"", headers: dict[str, str] | None = None) -> Fault:
        hdrs = dict(headers or {})
        if isinstance(body, dict):
            body = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json; charset=UTF-8")
        elif isinstance(body, str):
            body = body.encode()
        return cls("status", status, body, hdrs)

    @classmethod
    def html(cls, status: int = 502) -> Fault:
        page = (
            "<!DOCTYPE html><html><head><title>Error 502 (Server Error)!!1</title></head>"
            "<body><p><b>502.</b> That's an error. The server encountered a temporary error.</p></body></html>"
        )
        return cls.answer(status, page, {"Content-Type": "text/html; charset=UTF-8"})

    @classmethod
    def malformed(cls, status: int = 200) -> Fault:
        return cls.answer(
            status, '{"kind": "youtube#videoListResponse", "items": [', {"Content-Type": "application/json"}
        )

    @classmethod
    def drop_before(cls) -> Fault:
        return cls("drop_before")

    @classmethod
    def drop_after(cls) -> Fault:
        return cls("drop_after")


Handler = Callable[[Request], "Response | None"]


class FakeApp:
    """Base of a fake platform: routing, fault injection and call counting under one lock."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.calls: Counter[str] = Counter()
        self.faults: dict[str, deque[Fault]] = defaultdict(deque)
        self.requests: list[tuple[str, Request]] = []
        self.record_requests = True
        self.base_url = ""

    def route(self, request: Request) -> tuple[str, Handler]:
        raise NotImplementedError

    def inject(self, route: str, *faults: Fault) -> None:
        with self.lock:
            self.faults[route].extend(faults)

    def dispatch(self, request: Request) -> tuple[Response | None, bool]:
        """The response, and whether to cut it short; None means close without answering."""
        with self.lock:
            try:
                name, handler = self.route(request)
            except LookupError:
                return json_response(
                    404, {"error": {"code": 404, "message": f"no route {request.method} {request.path}"}}
                ), False
            self.calls[name] += 1
            if self.record_requests:
                self.requests.append((name, request))
            fault = self.faults[name].popleft() if self.faults.get(name) else None
            if fault is not None and fault.kind == "status":
                return Response(fault.status, fault.body, fault.headers), False
            if fault is not None and fault.kind == "drop_before":
                return None, False
            return handler(request), fault is not None and fault.kind == "drop_after"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    app: FakeApp

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        # Headers and body go out as separate writes; without this, delayed ACKs add ~40 ms a call.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=parts.path,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        response, cut = self.app.dispatch(request)
        if response is None:
            self.close_connection = True
            return
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body) + (64 if cut else 0)))
        self.end_headers()
        if cut:
            self.wfile.write(response.body[: len(response.body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        if response.body and self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_DELETE = _handle


class FakeServer:
    """Serves a FakeApp on an ephemeral port of 127.0.0.1 in a background thread."""

    def __init__(self, app: FakeApp) -> None:
        handler = type("BoundHandler", (_Handler,), {"app": app})
        self.app = app
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        app.base_url = self.url

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
