"""A script writer over a local language model served by Ollama, through Ollama's own chat API.

``POST /api/chat`` with ``stream: false`` and ``format`` set to the strict script schema, so the
server constrains the model's output to it; the schema is also put in the system message, as
Ollama's documentation advises, since a model not told what to write may pad its answer with
whitespace. The flow is the other language-model writers' (``StructuredWriter``): the learner's
hints in the prompt, the answer validated with ``parse_script``, exactly one repair request after
an answer cut off at ``num_predict``, an empty one, bad JSON or a document that breaks the schema.

A model that is not pulled (404) fails at once, saying how to pull it; a busy server (503) and a
server that cannot be reached are retried by the shared ``HttpClient`` policy, then fail naming the
video and the server. Local models cost nothing, so nothing is charged to a budget. ``api_key`` is
only for Ollama's cloud (``https://ollama.com``); a local server takes none.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from shorts_assets.providers.net.clients import api_http_client
from shorts_assets.providers.net.http import RetryPolicy, describe_body
from shorts_assets.providers.writers.llm import Reply, StructuredWriter

OLLAMA_BASE_URL = "http://localhost:11434"
DEFAULT_OLLAMA_MODEL = "llama3.2"
# Local models are slow on a CPU: a script may take minutes to write.
OLLAMA_RETRY = RetryPolicy(attempts=3, base_delay_s=1.0, max_delay_s=30.0, timeout=httpx.Timeout(600.0, connect=5.0))


class OllamaScriptWriter(StructuredWriter):
    """ScriptWriter over Ollama's ``/api/chat`` with the script schema as ``format`` (module docstring)."""

    service = "ollama"

    def __init__(
        self,
        *,
        model: str = DEFAULT_OLLAMA_MODEL,
        base_url: str = OLLAMA_BASE_URL,
        max_output_tokens: int = 2000,
        temperature: float | None = None,
        keep_alive: str | None = None,
        api_key: str | None = None,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not isinstance(model, str) or not model.strip():
            raise ValueError(f"ollama: a model name is required (like {DEFAULT_OLLAMA_MODEL!r}), got {model!r}")
        if max_output_tokens < 1:
            raise ValueError(f"ollama: max_output_tokens must be positive, got {max_output_tokens}")
        self.model = model.strip()
        self.base_url = base_url.rstrip("/")
        self.max_output_tokens = max_output_tokens
        self.temperature = temperature
        self.keep_alive = keep_alive
        self.budget = None
        self.http = api_http_client(
            "ollama",
            api_key or "",
            http_client=http_client,
            transport=transport,
            retry=retry or OLLAMA_RETRY,
            sleep=sleep,
        )
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}

    def _ask(self, video_id, system, turns, schema, attempt) -> Reply:
        options: dict[str, Any] = {"num_predict": self.max_output_tokens}
        if self.temperature is not None:
            options["temperature"] = self.temperature
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [
                {"role": "system", "content": f"{system}\n\nThe JSON schema of the answer:\n{json.dumps(schema)}"},
                *({"role": role, "content": text} for role, text in turns),
            ],
            "format": schema,
            "stream": False,
            "options": options,
        }
        if self.keep_alive is not None:
            body["keep_alive"] = self.keep_alive
        what = f"video {video_id}: script ({self.model} at {self.base_url})"
        response = self.http.request(
            "POST", f"{self.base_url}/api/chat", what=what, headers=self._headers, json_body=body, accept=(404,)
        )
        if response.status_code == 404:
            raise self.http.error(
                f"{what}: {describe_body(response)}; pull the model first (`ollama pull {self.model}`)"
            )
        payload = self.http.json(response, what)
        if not isinstance(payload, Mapping):
            raise self.http.error(f"{what}: the answer is not a JSON object")
        if payload.get("error"):
            raise self.http.error(f"{what}: the server failed: {payload['error']}")
        message = payload.get("message") or {}
        text = message.get("content") if isinstance(message, Mapping) else None
        if not isinstance(text, str):
            return Reply(None, "the answer held no message content", "")
        if payload.get("done_reason") == "length":
            return Reply(None, f"the answer was cut off (length) after {len(text)} characters", text)
        if not text.strip():
            return Reply(None, "the answer held no text", text)
        return Reply(text, None, text)

    def __repr__(self) -> str:
        return f"OllamaScriptWriter(model={self.model!r}, base_url={self.base_url!r})"
