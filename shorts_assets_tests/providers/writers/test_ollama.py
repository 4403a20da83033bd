"""The Ollama script writer against a fake Ollama server on a real socket.

What it promises: one request to Ollama's own ``/api/chat`` with ``stream: false`` and the strict
script schema as ``format`` (and in the system message), the learner's hints in the prompt; the one
repair request after bad JSON, a document that breaks the schema, an answer cut off or left blank;
a model that is not pulled failing at once with how to pull it; a busy server retried; a server
that is down or answering garbage failing with the video and the server named.
"""

from __future__ import annotations

import json
import socket

import pytest

from shorts_assets.core.errors import ProviderError
from shorts_assets.fakes.ollama_server import FakeOllama
from shorts_assets.fakes.server import FakeServer, Fault
from shorts_assets.providers.net.http import RetryPolicy
from shorts_assets.providers.writers.ollama import OllamaScriptWriter
from shorts_assets.providers.writers.schema import script_json_schema
from shorts_assets_tests.helpers import Sleeps

ARMS = {"topic": "ocean", "hook": "question", "length": "short", "voice": "en-us"}
HINTS = {"top_performers": ["Why the sea is salty"], "requested_topics": ["giant squid"]}
POLICY = RetryPolicy(attempts=3, base_delay_s=1.0, max_delay_s=30.0)


@pytest.fixture
def ollama():
    app = FakeOllama()
    with FakeServer(app) as server:
        yield app, server


def writer(server, sleeps=None, **kwargs) -> OllamaScriptWriter:
    return OllamaScriptWriter(base_url=server.url, retry=POLICY, sleep=Sleeps() if sleeps is None else sleeps, **kwargs)


def test_a_script_is_written_through_the_chat_api_with_the_schema_as_format(ollama):
    app, server = ollama
    with writer(server, temperature=0.4) as ollama_writer:
        script = ollama_writer.write("vid-1", ARMS, 3, hints=HINTS)

    assert script.video_id == "vid-1" and dict(script.arms) == ARMS
    assert script.title == "Three hearts, blue blood" and len(script.scenes) == 2
    assert script.scenes[0].keywords == ("octopus", "coral reef")
    assert app.calls["chat"] == 1
    body = app.bodies[0]
    assert body["model"] == "llama3.2" and body["stream"] is False
    assert body["format"] == script_json_schema(ARMS)
    assert body["options"] == {"num_predict": 2000, "temperature": 0.4}
    system, user = body["messages"]
    assert system["role"] == "system" and json.dumps(script_json_schema(ARMS)) in system["content"]
    assert user["role"] == "user" and "giant squid" in user["content"] and "Why the sea is salty" in user["content"]


@pytest.mark.parametrize("mode", ["invalid_json", "schema_violation", "truncated", "blank"])
def test_an_unusable_answer_gets_one_repair_request_quoting_it(ollama, mode):
    app, server = ollama
    app.answers.extend([mode])
    script = writer(server).write("vid-2", ARMS, 1)

    assert script.video_id == "vid-2" and app.calls["chat"] == 2
    repair = app.bodies[1]["messages"]
    assert [m["role"] for m in repair] == ["system", "user", "assistant", "user"]
    assert repair[2]["content"].strip() or mode == "blank"
    assert "could not be used" in repair[3]["content"]
    assert app.bodies[1]["format"] == script_json_schema(ARMS)


@pytest.mark.parametrize(
    "modes,reason",
    [
        (["schema_violation", "schema_violation"], "scenes[0].duration_s"),
        (["invalid_json", "truncated"], "cut off (length)"),
        (["blank", "blank"], "held no text"),
    ],
)
def test_a_second_unusable_answer_fails_naming_the_video_and_the_model(ollama, modes, reason):
    app, server = ollama
    app.answers.extend([*modes, "valid"])
    with pytest.raises(ProviderError) as info:
        writer(server).write("vid-3", ARMS, 1)

    message = str(info.value)
    assert "video vid-3" in message and "ollama (llama3.2)" in message and "after one repair" in message
    assert reason in message
    assert app.calls["chat"] == 2


def test_a_model_that_is_not_pulled_fails_at_once_saying_how_to_pull_it(ollama):
    app, server = ollama
    sleeps = Sleeps()
    with pytest.raises(ProviderError) as info:
        writer(server, sleeps, model="qwen2.5:7b").write("vid-4", ARMS, 1)

    message = str(info.value)
    assert "video vid-4" in message and "model 'qwen2.5:7b' not found" in message
    assert "ollama pull qwen2.5:7b" in message
    assert app.calls["chat"] == 1 and sleeps == []


def test_a_tagged_name_of_a_pulled_model_is_the_same_model(ollama):
    app, server = ollama
    assert writer(server, model="llama3.2:latest").write("vid-5", ARMS, 1).video_id == "vid-5"


def test_a_busy_server_is_retried(ollama):
    app, server = ollama
    busy = {"error": "server busy, please try again.  maximum pending requests exceeded"}
    app.inject("chat", Fault.answer(503, busy), Fault.drop_before())
    sleeps = Sleeps()
    assert writer(server, sleeps).write("vid-6", ARMS, 1).video_id == "vid-6"
    assert app.calls["chat"] == 3 and len(sleeps) == 2


def test_a_server_that_is_down_fails_naming_the_video_and_the_server():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    sleeps = Sleeps()
    with pytest.raises(ProviderError) as info:
        OllamaScriptWriter(base_url=url, retry=POLICY, sleep=sleeps).write("vid-7", ARMS, 1)

    message = str(info.value)
    assert "video vid-7" in message and url in message and "gave up after 3 attempts" in message
    assert len(sleeps) == 2


def test_garbage_from_the_server_fails_naming_the_video(ollama):
    app, server = ollama
    app.inject("chat", Fault.malformed())
    with pytest.raises(ProviderError, match=r"video vid-8: script \(llama3.2 at http.*malformed JSON"):
        writer(server).write("vid-8", ARMS, 1)


def test_a_cloud_key_is_sent_as_a_bearer_token_and_kept_out_of_errors(ollama):
    app, server = ollama
    secret = "ollama-cloud-key-0123456789"
    app.inject("chat", Fault.answer(400, {"error": f"bad request from {secret}"}))
    with pytest.raises(ProviderError) as info:
        writer(server, api_key=secret).write("vid-9", ARMS, 1)

    assert app.requests[0][1].headers["authorization"] == f"Bearer {secret}"
    assert secret not in str(info.value) and "[redacted]" in str(info.value)


def test_a_model_name_is_required():
    with pytest.raises(ValueError, match="a model name is required"):
        OllamaScriptWriter(model=" ")
