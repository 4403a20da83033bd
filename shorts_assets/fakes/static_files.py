"""A static file server over a folder, standing in for the bucket or CDN a data root is published on.

``GET`` or ``HEAD`` of ``/<path>`` answers the file at that path under the root (the query string is
ignored, as a bucket ignores cache-busting versions); anything else, or a path escaping the root, is a
404. Faults are queued on the route ``file``. Serve it with ``FakeServer``.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import unquote

from shorts_assets.fakes.server import FakeApp, Request, Response


class StaticFiles(FakeApp):
    def __init__(self, root: Path) -> None:
        super().__init__()
        self.root = Path(root).resolve()

    def route(self, request: Request):
        if request.method in ("GET", "HEAD"):
            return "file", self.file
        raise LookupError(request.path)

    def file(self, request: Request) -> Response:
        path = (self.root / unquote(request.path).lstrip("/")).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            return Response(404, b"<Error><Code>NoSuchKey</Code></Error>", {"Content-Type": "application/xml"})
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return Response(200, path.read_bytes(), {"Content-Type": ctype})

    def served(self) -> list[str]:
        """The paths requested so far."""
        return [unquote(r.path) for name, r in self.requests if name == "file"]
