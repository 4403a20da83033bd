"""A fake of a local Ollama server: its own chat API and its OpenAI-compatible one.

``POST /api/chat`` enforces what Ollama checks: a JSON body (400 ``missing request body``, invalid
JSON), ``model`` given (400 ``model is required``) and pulled (404 ``model '<name>' not found``; a
name without a tag is ``:latest``), ``messages`` of known roles with string contents, ``options`` an
object and ``format`` ``"json"`` or a JSON-schema object. ``stream`` defaults to true, as Ollama's
does: the answer then comes as NDJSON lines of partial content and a final ``done`` line; with
``stream: false``, one object with the message, ``done_reason`` and the counters.

Like a model under grammar-constrained decoding, it honours ``format``: with a script schema it
writes a document of that schema; with ``"json"`` it writes JSON of its own shape; with no format,
prose. ``answers`` queues modes (``valid`` when empty): ``valid``, ``invalid_json``,
``schema_violation``, ``truncated`` (cut off, ``done_reason: length``) and ``blank`` (whitespace
only, what a model not told to write JSON may emit).

``POST /v1/chat/completions`` is Ollama's OpenAI-compatible endpoint: the key is ignored,
``response_format`` ``json_schema`` maps to the schema (its ``name`` and ``strict`` are not read),
``json_object`` to ``"json"``, and errors come in OpenAI's envelope with Ollama's statuses.
``native=False`` serves only this endpoint, as llama.cpp, vLLM and LM Studio do (``/api/chat`` and
``/v1/responses`` answer 404). Mount at the root.
"""

from __future__ import annotations

import itertools
import json
from collections import deque
from typing import Any

from shorts_assets.fakes.openai_server import answer_text
from shorts_assets.fakes.server import FakeApp, Request, Response, json_response

ROLES = {"system", "user", "assistant", "tool"}
MODES = {"valid", "invalid_json", "schema_violation", "truncated", "blank"}
PROSE = "Sure! Here is a short video script about the ocean: octopuses have three hearts..."


def full_name(model: str) -> str:
    return model if ":" in model else f"{model}:latest"


class FakeOllama(FakeApp):
    def __init__(self, models: tuple[str, ...] = ("llama3.2",), native: bool = True) -> None:
        super().__init__()
        self.models = {full_name(m) for m in models}
        self.native = native
        self.answers: deque[str] = deque()
        self.bodies: list[dict[str, Any]] = []
        self.ids = itertools.count(1)

    def route(self, request: Request):
        if request.method == "POST" and request.path == "/api/chat" and self.native:
            return "chat", self.chat
        if request.method == "GET" and request.path == "/api/tags" and self.native:
            return "tags", self.tags
        if request.method == "POST" and request.path == "/v1/chat/completions":
            return "openai.chat", self.openai_chat
        raise LookupError(request.path)

    # --- the model ------------------------------------------------------------------------------

    def _problem(self, body: Any, fmt: Any) -> tuple[int, str] | None:
        """(status, message) of what Ollama refuses in a chat request, or None."""
        if not isinstance(body, dict):
            return 400, "invalid request body"
        model = body.get("model")
        if not isinstance(model, str) or not model:
            return 400, "model is required"
        if full_name(model) not in self.models:
            return 404, f"model '{model}' not found"
        messages = body.get("messages")
        if not isinstance(messages, list):
            return 400, "messages must be an array"
        for index, message in enumerate(messages):
            if not isinstance(message, dict) or message.get("role") not in ROLES:
                return 400, f"messages[{index}]: invalid role"
            if not isinstance(message.get("content", ""), str):
                return 400, f"messages[{index}]: content must be a string"
        if not isinstance(body.get("options", {}), dict):
            return 400, "options must be an object"
        if fmt not in (None, "", "json") and not (isinstance(fmt, dict) and fmt.get("type") == "object"):
            return 400, f"invalid format: {json.dumps(fmt)[:80]}"
        return None

    def _content(self, fmt: Any) -> tuple[str, str]:
        """(content, done_reason) that a model constrained by ``fmt`` writes."""
        mode = self.answers.popleft() if self.answers else "valid"
        if mode not in MODES:
            raise ValueError(f"unknown answer mode {mode!r}")
        if mode == "blank":
            return "\n\n   \n", "stop"
        if not fmt:
            return PROSE, "stop"
        if fmt == "json":
            return json.dumps({"script": PROSE}), "stop"
        if mode == "truncated":
            return answer_text("valid", fmt)[:60], "length"
        return answer_text(mode, fmt), "stop"

    # --- Ollama's own API ------------------------------------------------------------------------

    def chat(self, request: Request) -> Response:
        if not request.body:
            return json_response(400, {"error": "missing request body"})
        try:
            body = request.json()
        except ValueError as exc:
            return json_response(400, {"error": f"invalid character in request body: {exc}"})
        self.bodies.append(body)
        fmt = body.get("format") if isinstance(body, dict) else None
        if (problem := self._problem(body, fmt)) is not None:
            return json_response(problem[0], {"error": problem[1]})
        content, reason = self._content(fmt)
        stats = {"total_duration": 2_254_970_291, "load_duration": 574_751_416, "prompt_eval_count": 512}
        final = {
            "model": body["model"],
            "created_at": "2026-12-01T08:00:00.000000Z",
            "message": {"role": "assistant", "content": content},
            "done_reason": reason,
            "done": True,
            **stats,
            "eval_count": len(content) // 4,
        }
        if body.get("stream", True) is False:
            return json_response(200, final)
        lines = [
            {"model": body["model"], "message": {"role": "assistant", "content": content[i : i + 20]}, "done": False}
            for i in range(0, len(content), 20)
        ]
        lines.append({**final, "message": {"role": "assistant", "content": ""}})
        ndjson = "".join(json.dumps(line) + "\n" for line in lines).encode()
        return Response(200, ndjson, {"Content-Type": "application/x-ndjson"})

    def tags(self, request: Request) -> Response:
        return json_response(200, {"models": [{"name": m, "model": m} for m in sorted(self.models)]})

    # --- the OpenAI-compatible API --------------------------------------------------------------------

    def openai_chat(self, request: Request) -> Response:
        try:
            body = request.json()
        except ValueError as exc:
            return _openai_error(400, f"invalid request body: {exc}")
        self.bodies.append(body)
        rf = body.get("response_format") if isinstance(body, dict) else None
        fmt: Any = None
        if isinstance(rf, dict) and rf.get("type") == "json_schema":
            fmt = (rf.get("json_schema") or {}).get("schema")
        elif isinstance(rf, dict) and rf.get("type") == "json_object":
            fmt = "json"
        if (problem := self._problem(body, fmt)) is not None:
            return _openai_error(*problem)
        content, reason = self._content(fmt)
        return json_response(
            200,
            {
                "id": f"chatcmpl-{next(self.ids)}",
                "object": "chat.completion",
                "created": 1_796_112_000,
                "model": body["model"],
                "system_fingerprint": "fp_ollama",
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": reason}
                ],
                "usage": {"prompt_tokens": 512, "completion_tokens": len(content) // 4, "total_tokens": 0},
            },
        )


def _openai_error(status: int, message: str) -> Response:
    kind = {400: "invalid_request_error", 404: "not_found_error"}.get(status, "api_error")
    return json_response(status, {"error": {"message": message, "type": kind, "param": None, "code": None}})
