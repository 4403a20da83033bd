"""Script writers backed by language-model APIs: OpenAI (Responses, or Chat Completions) and Anthropic Messages.

Each asks for one script document under the strict JSON schema of ``script_schema`` and validates
the answer with ``parse_script``. A refusal, an answer cut off at the token limit, JSON that does
not parse or a document that breaks the schema gets exactly one repair request (the earlier answer
and what was wrong with it); if that fails too, the writer raises a ``ProviderError`` naming the
video. The learner's hints (top and bottom performers, topics viewers asked for) go into the prompt.

HTTP goes through the shared ``HttpClient`` policy; OpenAI's ``retry-after-ms`` is honoured ahead of
``Retry-After``. Every paid call is charged to the optional ``Budget`` before it is sent.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import httpx

from shorts_assets.core.errors import ProviderError
from shorts_assets.core.languages import DEFAULT_LANGUAGE, LANGUAGES
from shorts_assets.core.protocols import Closing
from shorts_assets.core.types import VISUALS, Script
from shorts_assets.providers.net.clients import api_http_client, openai_classify
from shorts_assets.providers.net.costs import Budget, estimate_tokens
from shorts_assets.providers.net.http import HttpClient, RetryPolicy, Verdict, safe_json
from shorts_assets.providers.writers.schema import (
    SCHEMA_NAME,
    TITLE_MAX,
    ScriptValidationError,
    parse_script,
    script_json_schema,
)

OPENAI_BASE_URL = "https://api.openai.com/v1"
ANTHROPIC_BASE_URL = "https://api.anthropic.com"
ANTHROPIC_VERSION = "2023-06-01"
SCRIPT_TOOL = "submit_script"
HINT_ITEMS = 5
HINT_CHARS = 240


def _lines(items: Any) -> list[str]:
    if not items:
        return []
    if isinstance(items, (str, Mapping)):
        items = [items]
    lines = []
    for item in list(items)[:HINT_ITEMS]:
        if isinstance(item, Mapping):
            text = "; ".join(
                f"{k}: {v if not isinstance(v, Mapping) else ', '.join(f'{a}={b}' for a, b in v.items())}"
                for k, v in item.items()
            )
        else:
            text = str(item)
        text = " ".join(text.split())
        lines.append("- " + (text[: HINT_CHARS - 1] + "…" if len(text) > HINT_CHARS else text))
    return lines


def build_prompt(
    video_id: str,
    arms: Mapping[str, str],
    seed: int,
    hints: Mapping[str, Any] | None,
    language: str = DEFAULT_LANGUAGE,
) -> tuple[str, str]:
    """The system and user messages asking for one script realising ``arms`` in ``language``."""
    system = (
        "You write scripts for vertical short videos (YouTube Shorts, TikTok, Instagram Reels): "
        "factual, vivid, spoken aloud by a narrator over generated clips. Every claim must be true. "
        "Answer with one JSON object that follows the given schema exactly and nothing else."
    )
    parts = [
        f"Write the script for video {video_id} (variation {seed}).",
        "It must realise these choices exactly, and echo them in `arms`:",
        *(f"- {name}: {value}" for name, value in sorted(arms.items())),
        "",
        "Rules:",
        "- `hook` is the opening line; `narration` is everything spoken, starting with the hook.",
        f"- `title` at most {TITLE_MAX} characters; `description` one or two sentences with hashtags.",
        "- `scenes` cover the narration in order; each `prompt` describes a vertical 9:16 shot for a video "
        "model (no on-screen text), `duration_s` is how long it is on screen, and the scenes add up to "
        "the narration's spoken length (about 2.7 words a second).",
        f"- `visual` is the fallback look of each scene, one of: {', '.join(sorted(VISUALS))}.",
        "- `tags` are a few plain keywords without '#'.",
        "- `emphasis` lists 1 to 8 words of the narration, exactly as written there, that the captions "
        "colour: the surprising numbers and names.",
    ]
    if language != DEFAULT_LANGUAGE:
        name = LANGUAGES[language].name if language in LANGUAGES else language
        parts += [
            f"- Write the title, hook, narration, description, tags and emphasis in {name} (language code "
            f"{language}), as a native {name} speaker would say them; scene `prompt`s and `keywords` stay in English."
        ]
    hints = hints or {}
    top = _lines(hints.get("top_performers"))
    bottom = _lines(hints.get("bottom_performers"))
    topics = _lines(hints.get("requested_topics"))
    if top:
        parts += ["", "Recent videos that did best on this channel (learn from what worked):", *top]
    if bottom:
        parts += ["", "Recent videos that did worst (avoid what they did):", *bottom]
    if topics:
        parts += ["", "Viewers asked for these topics; work one in if it fits the topic above:", *topics]
    rejected = _lines(hints.get("rejected_by_reviewer"))
    if rejected:
        parts += ["", "A person rejected these videos before they were published; avoid what they were rejected for:"]
        parts += rejected
    return system, "\n".join(parts)


def _repair_request(problem: str) -> str:
    return (
        f"Your previous answer could not be used: {problem}. Answer again with the complete script as "
        "one JSON object that follows the schema exactly, keeping it short enough to finish."
    )


class _Unusable(Exception):
    """An answer that a repair request may fix."""


@dataclass(frozen=True)
class Reply:
    document: str | Mapping[str, Any] | None  # the script document, when there is one
    problem: str | None  # why the answer cannot be used, when it cannot
    raw: str  # the answer as the model gave it, for the repair request


def _excerpt(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class StructuredWriter(Closing):
    """The flow every language-model writer shares: the prompt, the strict schema, the one repair request.

    A subclass sets ``service``, ``model``, ``max_output_tokens``, ``http`` and ``budget`` and answers
    one request in ``_ask``.
    """

    service = "llm"

    @property
    def name(self) -> str:
        return self.service

    model: str
    max_output_tokens: int
    http: HttpClient
    budget: Budget | None

    def close(self) -> None:
        self.http.close()

    def write(
        self,
        video_id: str,
        arms: Mapping[str, str],
        seed: int,
        hints: Mapping[str, Any] | None = None,
        language: str = DEFAULT_LANGUAGE,
    ) -> Script:
        system, user = build_prompt(video_id, arms, seed, hints, language)
        schema = script_json_schema(arms)
        turns: list[tuple[str, str]] = [("user", user)]
        first = self._ask(video_id, system, turns, schema, 1)
        try:
            return replace(self._accept(first, video_id, arms), language=language)
        except _Unusable as exc:
            first_problem = str(exc)
        turns += [("assistant", first.raw or "(no answer)"), ("user", _repair_request(first_problem))]
        second = self._ask(video_id, system, turns, schema, 2)
        try:
            return replace(self._accept(second, video_id, arms), language=language)
        except _Unusable as exc:
            raise ProviderError(
                self.http.redact(
                    f"video {video_id}: {self.service} ({self.model}) wrote no usable script after one repair "
                    f"attempt: {exc} (first answer: {first_problem})"
                )
            ) from None

    def _accept(self, reply: Reply, video_id: str, arms: Mapping[str, str]) -> Script:
        if reply.problem is not None:
            raise _Unusable(reply.problem)
        try:
            return parse_script(reply.document or "", video_id, arms)
        except ScriptValidationError as exc:
            raise _Unusable(f"the script breaks the schema: {exc}") from None

    def _charge(
        self, video_id: str, attempt: int, system: str, turns: Sequence[tuple[str, str]], schema: Mapping[str, Any]
    ) -> None:
        if self.budget is None:
            return
        prompt = system + "".join(text for _, text in turns) + json.dumps(schema)
        self.budget.charge_tokens(
            f"video {video_id}: {self.service} script (attempt {attempt})",
            self.model,
            estimate_tokens(prompt),
            self.max_output_tokens,
        )

    def _ask(
        self, video_id: str, system: str, turns: list[tuple[str, str]], schema: Mapping[str, Any], attempt: int
    ) -> Reply:
        raise NotImplementedError


class OpenAIScriptWriter(StructuredWriter):
    """ScriptWriter over OpenAI's Responses API with a strict JSON schema.

    ``api="chat"`` uses Chat Completions instead; with ``api="responses"`` a server that does not
    serve ``/responses`` (404 or 405 without a model error) makes the writer fall back to Chat
    Completions for this and every later call.
    """

    service = "openai"

    def __init__(
        self,
        *,
        api_key: str,
        model: str = "gpt-4.1-mini",
        base_url: str = OPENAI_BASE_URL,
        api: str = "responses",
        max_output_tokens: int = 2000,
        organization: str | None = None,
        budget: Budget | None = None,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if api not in ("responses", "chat"):
            raise ValueError(f"api must be 'responses' or 'chat', got {api!r}")
        self.model = model
        self.base_url = base_url.rstrip("/")
        self.api = api
        self.max_output_tokens = max_output_tokens
        self.budget = budget
        self.http = api_http_client(
            "openai", api_key, http_client=http_client, transport=transport, retry=retry, sleep=sleep
        )
        self._headers = {"Authorization": f"Bearer {api_key}"}
        if organization:
            self._headers["OpenAI-Organization"] = organization

    def _ask(self, video_id, system, turns, schema, attempt) -> Reply:
        self._charge(video_id, attempt, system, turns, schema)
        if self.api == "responses":
            reply = self._responses(video_id, system, turns, schema)
            if reply is not None:
                return reply
            self.api = "chat"
        return self._chat(video_id, system, turns, schema)

    def _post(self, path: str, body: Mapping[str, Any], what: str, accept: tuple[int, ...] = ()) -> httpx.Response:
        return self.http.request(
            "POST",
            f"{self.base_url}{path}",
            what=what,
            headers=self._headers,
            json_body=body,
            classify=openai_classify,
            accept=accept,
        )

    def _responses(self, video_id, system, turns, schema) -> Reply | None:
        body = {
            "model": self.model,
            "instructions": system,
            "input": [{"role": role, "content": text} for role, text in turns],
            "text": {"format": {"type": "json_schema", "name": SCHEMA_NAME, "schema": schema, "strict": True}},
            "max_output_tokens": self.max_output_tokens,
            "store": False,
        }
        what = f"video {video_id}: script (responses)"
        response = self._post("/responses", body, what, accept=(404, 405))
        if response.status_code in (404, 405):
            payload = safe_json(response)
            error = payload.get("error") if isinstance(payload, dict) else None
            if isinstance(error, dict) and error.get("code") == "model_not_found":
                raise self.http.failure(response, what)
            return None
        payload = self.http.json(response, what)
        status = payload.get("status")
        if status == "failed":
            error = payload.get("error") or {}
            raise self.http.error(f"{what}: the response failed: {error.get('code')}: {error.get('message')}")
        texts, refusals = [], []
        for item in payload.get("output") or []:
            if item.get("type") != "message":
                continue
            for part in item.get("content") or []:
                if part.get("type") == "output_text":
                    texts.append(part.get("text") or "")
                elif part.get("type") == "refusal":
                    refusals.append(part.get("refusal") or "")
        text = "".join(texts)
        if refusals:
            return Reply(None, f"the model refused: {_excerpt(' '.join(refusals))}", " ".join(refusals))
        if status == "incomplete":
            reason = (payload.get("incomplete_details") or {}).get("reason") or "unknown reason"
            return Reply(None, f"the answer was cut off ({reason}) after {len(text)} characters", text)
        if not text:
            return Reply(None, "the answer held no text", "")
        return Reply(text, None, text)

    def _chat(self, video_id, system, turns, schema) -> Reply:
        body = {
            "model": self.model,
            "messages": [
                {"role": "system", "content": system},
                *({"role": role, "content": text} for role, text in turns),
            ],
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": SCHEMA_NAME, "schema": schema, "strict": True},
            },
            "max_completion_tokens": self.max_output_tokens,
        }
        what = f"video {video_id}: script (chat completions)"
        payload = self.http.json(self._post("/chat/completions", body, what), what)
        choices = payload.get("choices") or []
        if not choices:
            return Reply(None, "the answer held no choices", "")
        choice = choices[0]
        message = choice.get("message") or {}
        text = message.get("content") or ""
        finish = choice.get("finish_reason")
        if message.get("refusal"):
            return Reply(None, f"the model refused: {_excerpt(message['refusal'])}", message["refusal"])
        if finish == "content_filter":
            return Reply(None, "the answer was stopped by the content filter", text)
        if finish == "length":
            return Reply(None, f"the answer was cut off (length) after {len(text)} characters", text)
        if not text:
            return Reply(None, "the answer held no text", "")
        return Reply(text, None, text)


def _anthropic_classify(response: httpx.Response) -> Verdict | None:
    if response.status_code == 400:
        payload = safe_json(response)
        error = payload.get("error") if isinstance(payload, dict) else None
        if isinstance(error, dict) and "credit balance" in str(error.get("message", "")).lower():
            return Verdict.BUDGET
    return None


class AnthropicScriptWriter(StructuredWriter):
    """ScriptWriter over Anthropic's Messages API; the script comes back as a forced tool call."""

    service = "anthropic"

    def __init__(
        self,
        *,
        api_key: str,
        model: str = "claude-sonnet-4-5",
        base_url: str = ANTHROPIC_BASE_URL,
        max_output_tokens: int = 2000,
        anthropic_version: str = ANTHROPIC_VERSION,
        budget: Budget | None = None,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.model = model
        self.base_url = base_url.rstrip("/")
        self.max_output_tokens = max_output_tokens
        self.budget = budget
        self.http = api_http_client(
            "anthropic", api_key, http_client=http_client, transport=transport, retry=retry, sleep=sleep
        )
        self._headers = {"x-api-key": api_key, "anthropic-version": anthropic_version}

    def _ask(self, video_id, system, turns, schema, attempt) -> Reply:
        self._charge(video_id, attempt, system, turns, schema)
        body = {
            "model": self.model,
            "max_tokens": self.max_output_tokens,
            "system": system,
            "messages": [{"role": role, "content": text} for role, text in turns],
            "tools": [{"name": SCRIPT_TOOL, "description": "Submit the finished script.", "input_schema": schema}],
            "tool_choice": {"type": "tool", "name": SCRIPT_TOOL},
        }
        what = f"video {video_id}: script (messages)"
        response = self.http.request(
            "POST",
            f"{self.base_url}/v1/messages",
            what=what,
            headers=self._headers,
            json_body=body,
            classify=_anthropic_classify,
        )
        payload = self.http.json(response, what)
        stop = payload.get("stop_reason")
        tool_input = None
        texts = []
        for block in payload.get("content") or []:
            if block.get("type") == "tool_use" and block.get("name") == SCRIPT_TOOL:
                tool_input = block.get("input")
            elif block.get("type") == "text":
                texts.append(block.get("text") or "")
        text = "".join(texts)
        raw = json.dumps(tool_input) if tool_input is not None else text
        if stop == "refusal":
            return Reply(None, f"the model refused{': ' + _excerpt(text) if text else ''}", raw)
        if stop == "max_tokens":
            return Reply(None, f"the answer was cut off (max_tokens) after {len(raw)} characters", raw)
        if tool_input is not None:
            return Reply(tool_input, None, raw)
        if text:
            return Reply(text, None, text)
        return Reply(None, f"the answer held no script (stop_reason {stop})", "")
