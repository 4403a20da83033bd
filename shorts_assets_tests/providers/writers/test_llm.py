"""Language-model script writers against fake OpenAI and Anthropic servers: the strict schema, the one
repair attempt after a refusal, a cut-off answer or bad JSON, the Chat Completions fallback, retries,
budget refusals before any call, and keys kept out of errors and logs."""

from __future__ import annotations

import json
import logging

import pytest

from shorts_assets.core.errors import BudgetExhausted, ProviderError
from shorts_assets.core.state import MemoryStateStore
from shorts_assets.fakes.anthropic_server import FakeAnthropic
from shorts_assets.fakes.openai_server import FakeOpenAI, script_document
from shorts_assets.fakes.server import FakeServer, Fault
from shorts_assets.providers.net.costs import Budget, BudgetExceeded
from shorts_assets.providers.net.http import RetryPolicy
from shorts_assets.providers.writers.llm import AnthropicScriptWriter, OpenAIScriptWriter, build_prompt
from shorts_assets.providers.writers.schema import ScriptValidationError, parse_script, script_json_schema
from shorts_assets_tests.helpers import Sleeps

ARMS = {"topic": "ocean", "hook": "question", "length": "short", "voice": "en-us"}
HINTS = {
    "top_performers": [
        {"title": "Why the sea is salty", "arms": {"topic": "ocean", "hook": "question"}, "reward": 0.81}
    ],
    "bottom_performers": ["A slow story about sand"],
    "requested_topics": ["giant squid", "deep sea vents"],
}
POLICY = RetryPolicy(attempts=4, base_delay_s=1.0, max_delay_s=30.0)


@pytest.fixture
def openai():
    app = FakeOpenAI()
    with FakeServer(app) as server:
        yield app, server


@pytest.fixture
def anthropic():
    app = FakeAnthropic()
    with FakeServer(app) as server:
        yield app, server


def openai_writer(server, app, sleeps=None, **kwargs) -> OpenAIScriptWriter:
    kwargs.setdefault("api_key", app.api_key)
    return OpenAIScriptWriter(
        base_url=server.url + "/v1", retry=POLICY, sleep=sleeps if sleeps is not None else Sleeps(), **kwargs
    )


def anthropic_writer(server, app, sleeps=None, **kwargs) -> AnthropicScriptWriter:
    kwargs.setdefault("api_key", app.api_key)
    return AnthropicScriptWriter(
        base_url=server.url, retry=POLICY, sleep=sleeps if sleeps is not None else Sleeps(), **kwargs
    )


# --- the schema ------------------------------------------------------------------------------------


def test_parse_script_accepts_a_valid_document_and_puts_the_hook_first():
    doc = script_document(script_json_schema(ARMS))
    doc["narration"] = "Two pump blood to the gills."
    script = parse_script(json.dumps(doc), "vid-1", ARMS)
    assert script.narration.startswith(doc["hook"])
    assert script.tags == ("octopus", "ocean", "facts")
    assert [s.duration_s for s in script.scenes] == [3.5, 5.0]
    assert dict(script.arms) == ARMS and script.video_id == "vid-1"


def test_parse_script_lists_every_problem_with_its_path():
    doc = script_document(script_json_schema(ARMS))
    doc["scenes"][1]["visual"] = "lava"
    doc["scenes"][0]["duration_s"] = "long"
    doc["arms"]["topic"] = "space"
    doc["title"] = "x" * 101
    doc["extra"] = 1
    del doc["description"]
    with pytest.raises(ScriptValidationError) as info:
        parse_script(doc, "vid-1", ARMS)
    text = str(info.value)
    for expected in (
        "extra: unknown field",
        "description: missing",
        "title: 101 characters",
        "scenes[0].duration_s: expected a number",
        "scenes[1].visual: 'lava'",
        "arms.topic: expected 'ocean', got 'space'",
    ):
        assert expected in text
    with pytest.raises(ScriptValidationError, match="not valid JSON"):
        parse_script("{nope", "vid-1", ARMS)


def test_each_scene_carries_the_keywords_a_footage_search_uses():
    doc = script_document(script_json_schema(ARMS))
    doc["scenes"][0]["keywords"] = ["Octopus", " coral reef ", "octopus"]
    script = parse_script(doc, "vid-1", ARMS)
    assert script.scenes[0].keywords == ("octopus", "coral reef")
    doc["scenes"][1]["keywords"] = []
    del doc["scenes"][0]["keywords"]
    with pytest.raises(ScriptValidationError) as info:
        parse_script(doc, "vid-1", ARMS)
    assert "scenes[0].keywords: expected an array of words, got null" in str(info.value)
    assert "scenes[1].keywords: 0 keywords, 1 to 6 allowed" in str(info.value)


def test_the_schema_is_strict_and_pins_the_arms():
    from shorts_assets.fakes.openai_server import strict_schema_problem

    schema = script_json_schema(ARMS)
    assert strict_schema_problem(schema) is None
    assert schema["properties"]["arms"]["properties"]["topic"]["enum"] == ["ocean"]


def test_hints_go_into_the_prompt():
    _, user = build_prompt("vid-1", ARMS, 7, HINTS)
    assert "Why the sea is salty" in user and "reward: 0.81" in user
    assert "A slow story about sand" in user
    assert "giant squid" in user and "deep sea vents" in user
    _, bare = build_prompt("vid-1", ARMS, 7, None)
    assert "Viewers asked" not in bare


# --- OpenAI ----------------------------------------------------------------------------------------


def test_openai_responses_writes_a_script_with_a_strict_schema(openai):
    app, server = openai
    writer = openai_writer(server, app)
    script = writer.write("vid-1", ARMS, 3, hints=HINTS)
    assert script.title == "Three hearts, blue blood" and len(script.scenes) == 2
    assert app.calls["responses"] == 1 and app.calls["chat"] == 0
    body = app.bodies[0]
    fmt = body["text"]["format"]
    assert fmt["type"] == "json_schema" and fmt["strict"] is True
    assert "giant squid" in body["input"][0]["content"]
    writer.close()


@pytest.mark.parametrize("mode", ["refusal", "truncated", "invalid_json", "schema_violation"])
def test_openai_repairs_a_bad_answer_once(openai, mode):
    app, server = openai
    app.answers.extend([mode])
    script = openai_writer(server, app).write("vid-2", ARMS, 1)
    assert script.video_id == "vid-2"
    assert app.calls["responses"] == 2
    repair = app.bodies[1]["input"]
    assert [m["role"] for m in repair] == ["user", "assistant", "user"]
    assert "could not be used" in repair[2]["content"]


@pytest.mark.parametrize(
    "mode,reason",
    [
        ("refusal", "refused"),
        ("truncated", "cut off (max_output_tokens)"),
        ("invalid_json", "not valid JSON"),
        ("schema_violation", "scenes[0].duration_s"),
    ],
)
def test_openai_gives_up_after_one_repair_naming_the_video(openai, mode, reason):
    app, server = openai
    app.answers.extend([mode, mode, "valid"])
    with pytest.raises(ProviderError) as info:
        openai_writer(server, app).write("vid-3", ARMS, 1)
    assert "video vid-3" in str(info.value) and reason in str(info.value)
    assert app.calls["responses"] == 2


def test_chat_completions_is_the_fallback_shape(openai):
    app, server = openai
    app.served = {"chat"}
    writer = openai_writer(server, app)
    assert writer.write("vid-4", ARMS, 1).video_id == "vid-4"
    assert app.calls["responses"] == 1 and app.calls["chat"] == 1
    body = app.bodies[-1]
    assert body["response_format"]["json_schema"]["strict"] is True
    assert body["messages"][0]["role"] == "system"
    writer.write("vid-5", ARMS, 1)
    assert app.calls["responses"] == 1 and app.calls["chat"] == 2


@pytest.mark.parametrize("mode", ["refusal", "truncated"])
def test_chat_completions_refusal_and_length_are_repaired(openai, mode):
    app, server = openai
    app.answers.extend([mode])
    writer = openai_writer(server, app, api="chat")
    assert writer.write("vid-6", ARMS, 1).video_id == "vid-6"
    assert app.calls["chat"] == 2 and app.calls["responses"] == 0


def test_openai_retries_429_honouring_retry_after_ms_first_and_5xx(openai):
    app, server = openai
    app.inject(
        "responses",
        Fault.answer(
            429,
            {"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}},
            {"retry-after-ms": "250", "retry-after": "9"},
        ),
        Fault.answer(503, {"error": {"message": "overloaded", "type": "server_error"}}),
    )
    sleeps = Sleeps()
    openai_writer(server, app, sleeps).write("vid-7", ARMS, 1)
    assert app.calls["responses"] == 3
    assert sleeps[0] == pytest.approx(0.25)
    assert len(sleeps) == 2


def test_openai_insufficient_quota_is_not_retried(openai):
    app, server = openai
    app.inject(
        "responses",
        Fault.answer(
            429,
            {
                "error": {
                    "message": "You exceeded your current quota",
                    "type": "insufficient_quota",
                    "code": "insufficient_quota",
                }
            },
        ),
    )
    sleeps = Sleeps()
    with pytest.raises(BudgetExhausted, match="insufficient_quota"):
        openai_writer(server, app, sleeps).write("vid-8", ARMS, 1)
    assert app.calls["responses"] == 1 and sleeps == []


def test_openai_key_never_appears_in_errors_or_logs(openai, caplog):
    app, server = openai
    secret = "sk-wrong-key-that-must-stay-secret"
    caplog.set_level(logging.DEBUG)
    app.inject("responses", Fault.answer(500, {"error": {"message": f"boom for {secret}"}}))
    with pytest.raises(ProviderError) as info:
        openai_writer(server, app, api_key=secret).write("vid-9", ARMS, 1)
    assert "401" in str(info.value) and "[redacted]" in str(info.value)
    assert secret not in str(info.value) and secret not in repr(info.value.args)
    assert secret not in caplog.text


# --- Anthropic -------------------------------------------------------------------------------------


def test_anthropic_writes_a_script_through_a_forced_tool_call(anthropic):
    app, server = anthropic
    writer = anthropic_writer(server, app)
    script = writer.write("vid-10", ARMS, 2, hints=HINTS)
    assert script.title == "Three hearts, blue blood"
    body = app.bodies[0]
    assert body["tool_choice"] == {"type": "tool", "name": "submit_script"}
    assert body["tools"][0]["input_schema"]["properties"]["arms"]["required"] == sorted(ARMS)
    assert "deep sea vents" in body["messages"][0]["content"]
    writer.close()


@pytest.mark.parametrize("mode", ["refusal", "truncated", "invalid_json", "schema_violation"])
def test_anthropic_repairs_a_bad_answer_once(anthropic, mode):
    app, server = anthropic
    app.answers.extend([mode])
    assert anthropic_writer(server, app).write("vid-11", ARMS, 1).video_id == "vid-11"
    assert app.calls["messages"] == 2
    assert [m["role"] for m in app.bodies[1]["messages"]] == ["user", "assistant", "user"]


@pytest.mark.parametrize("mode,reason", [("refusal", "refused"), ("truncated", "cut off (max_tokens)")])
def test_anthropic_gives_up_after_one_repair_naming_the_video(anthropic, mode, reason):
    app, server = anthropic
    app.answers.extend([mode, mode])
    with pytest.raises(ProviderError) as info:
        anthropic_writer(server, app).write("vid-12", ARMS, 1)
    assert "video vid-12" in str(info.value) and reason in str(info.value)
    assert app.calls["messages"] == 2


def test_anthropic_retries_overloaded_and_rate_limits(anthropic):
    app, server = anthropic
    app.inject(
        "messages",
        Fault.answer(529, {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
        Fault.answer(
            429, {"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}}, {"retry-after": "7"}
        ),
    )
    sleeps = Sleeps()
    anthropic_writer(server, app, sleeps).write("vid-13", ARMS, 1)
    assert app.calls["messages"] == 3 and sleeps[1] == 7.0


def test_anthropic_key_never_appears_in_errors_or_logs(anthropic, caplog):
    app, server = anthropic
    secret = "sk-ant-wrong-key-do-not-leak"
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ProviderError) as info:
        anthropic_writer(server, app, api_key=secret).write("vid-14", ARMS, 1)
    assert "401" in str(info.value)
    assert secret not in str(info.value) and secret not in caplog.text


# --- budget ----------------------------------------------------------------------------------------


def test_a_budget_below_one_call_refuses_before_any_request(openai, anthropic):
    oapp, oserver = openai
    aapp, aserver = anthropic
    budget = Budget(MemoryStateStore(), "demo", daily_limit_usd=0.0001)
    with pytest.raises(BudgetExceeded, match="refused before calling"):
        openai_writer(oserver, oapp, budget=budget).write("vid-15", ARMS, 1)
    with pytest.raises(BudgetExceeded, match="channel 'demo'"):
        anthropic_writer(aserver, aapp, budget=budget).write("vid-15", ARMS, 1)
    assert oapp.requests == [] and aapp.requests == []
    assert budget.spent_usd() == 0


def test_each_paid_call_is_charged_including_the_repair(openai):
    app, server = openai
    app.answers.extend(["refusal"])
    state = MemoryStateStore()
    budget = Budget(state, "demo", daily_limit_usd=5.0)
    openai_writer(server, app, budget=budget).write("vid-16", ARMS, 1)
    ledger = state.namespace(Budget.LEDGER)
    assert len(ledger) == 2
    assert budget.spent_usd() > 0


def test_the_channel_language_is_asked_for_in_the_prompt_and_recorded_on_the_script(openai):
    app, server = openai
    with openai_writer(server, app) as writer:
        script = writer.write("vid-1", ARMS, 3, language="ja")

    prompt = app.bodies[0]["input"][0]["content"]
    assert "in Japanese (language code ja)" in prompt
    assert script.language == "ja"
    _, english = build_prompt("vid-1", ARMS, 3, None)
    assert "language code" not in english


def test_the_emphasis_words_are_a_required_part_of_the_strict_schema_and_reach_the_script(openai):
    schema = script_json_schema(ARMS)
    assert "emphasis" in schema["required"] and schema["properties"]["emphasis"]["type"] == "array"
    doc = script_document(schema)

    assert parse_script(doc, "vid-1", ARMS).emphasis == ("three", "hearts")
    with pytest.raises(ScriptValidationError, match="emphasis: missing"):
        parse_script({k: v for k, v in doc.items() if k != "emphasis"}, "vid-1", ARMS)
    with pytest.raises(ScriptValidationError, match="emphasis: expected an array of words"):
        parse_script({**doc, "emphasis": "three"}, "vid-1", ARMS)
