"""A fake of Anthropic's Messages API answering with a forced tool call that carries the script.

It enforces: ``x-api-key`` (401 ``authentication_error`` otherwise), ``anthropic-version``, a model,
an integer ``max_tokens``, messages that start with the user and alternate, and a ``tool_choice``
naming one of the request's tools. Answers follow ``answers``, a queue of modes (``valid`` when
empty): ``valid`` (stop_reason tool_use), ``refusal`` (stop_reason refusal), ``truncated``
(stop_reason max_tokens, the tool input cut short), ``invalid_json`` (plain text that is not JSON,
no tool call) and ``schema_violation``. Mount at the server root.
"""

from __future__ import annotations

import itertools
import json
from collections import deque
from typing import Any

from shorts_assets.fakes.openai_server import answer_text, script_document
from shorts_assets.fakes.server import FakeApp, Request, Response, json_response


def error(status: int, type_: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return json_response(status, {"type": "error", "error": {"type": type_, "message": message}}, headers)


class FakeAnthropic(FakeApp):
    def __init__(self, api_key: str = "sk-ant-test-key-222333") -> None:
        super().__init__()
        self.api_key = api_key
        self.answers: deque[str] = deque()
        self.bodies: list[dict[str, Any]] = []
        self.ids = itertools.count(1)

    def route(self, request: Request):
        if request.method == "POST" and request.path == "/v1/messages":
            return "messages", self.messages
        raise LookupError(request.path)

    def messages(self, request: Request) -> Response:
        key = request.headers.get("x-api-key", "")
        if key != self.api_key:
            return error(401, "authentication_error", f"invalid x-api-key {key}")
        if not request.headers.get("anthropic-version"):
            return error(400, "invalid_request_error", "anthropic-version: header is required")
        body = request.json()
        self.bodies.append(body)
        if not isinstance(body.get("model"), str):
            return error(400, "invalid_request_error", "model: Field required")
        if not isinstance(body.get("max_tokens"), int) or isinstance(body.get("max_tokens"), bool):
            return error(400, "invalid_request_error", "max_tokens: Field required")
        messages = body.get("messages") or []
        roles = [m.get("role") for m in messages]
        if not roles or roles[0] != "user" or any(a == b for a, b in zip(roles, roles[1:])):
            return error(400, "invalid_request_error", "messages: roles must alternate, starting with user")
        tools = {t.get("name"): t for t in body.get("tools") or []}
        choice = body.get("tool_choice") or {}
        if choice.get("type") != "tool" or choice.get("name") not in tools:
            return error(400, "invalid_request_error", "tool_choice: must name one of the tools")
        schema = tools[choice["name"]]["input_schema"]
        mode = self.answers.popleft() if self.answers else "valid"
        content: list[dict[str, Any]]
        tool_use = {"type": "tool_use", "id": f"toolu_{next(self.ids)}", "name": choice["name"]}
        if mode == "refusal":
            stop, content = "refusal", [{"type": "text", "text": "I can't write that."}]
        elif mode == "truncated":
            doc = script_document(schema)
            stop, content = "max_tokens", [{**tool_use, "input": {"title": doc["title"]}}]
        elif mode == "invalid_json":
            stop, content = "end_turn", [{"type": "text", "text": answer_text("invalid_json", schema)}]
        else:
            stop, content = "tool_use", [{**tool_use, "input": json.loads(answer_text(mode, schema))}]
        return json_response(
            200,
            {
                "id": f"msg_{next(self.ids)}",
                "type": "message",
                "role": "assistant",
                "model": body["model"],
                "content": content,
                "stop_reason": stop,
                "stop_sequence": None,
                "usage": {"input_tokens": 600, "output_tokens": 350},
            },
        )
