"""Any OpenAI-compatible server through ``OPENAI_BASE_URL``: the existing OpenAI writer against a fake local
server that serves only ``/v1/chat/completions`` (as llama.cpp, vLLM, LM Studio and Ollama's ``/v1`` do),
with a dummy key.

What is specified: in chat mode the writer writes a valid script there, sending the strict schema as
``response_format``; left on the Responses API, it finds ``/v1/responses`` missing and switches to
chat for good; the one repair request applies; a model the server does not have fails at once,
naming it.
"""

from __future__ import annotations

import pytest

from shorts_assets.core.errors import ProviderError
from shorts_assets.fakes.ollama_server import FakeOllama
from shorts_assets.fakes.server import FakeServer
from shorts_assets.providers.net.http import RetryPolicy
from shorts_assets.providers.writers.llm import OpenAIScriptWriter
from shorts_assets.providers.writers.schema import script_json_schema
from shorts_assets_tests.helpers import Sleeps

ARMS = {"topic": "space", "hook": "bold_claim", "length": "short", "voice": "en-gb"}
DUMMY_KEY = "sk-no-key-required"


@pytest.fixture
def local():
    app = FakeOllama(models=("llama3.2",), native=False)
    with FakeServer(app) as server:
        yield app, server


def compatible_writer(server, **kwargs) -> OpenAIScriptWriter:
    kwargs.setdefault("model", "llama3.2")
    return OpenAIScriptWriter(
        api_key=DUMMY_KEY,
        base_url=server.url + "/v1",
        retry=RetryPolicy(attempts=2, base_delay_s=0.1, max_delay_s=1.0),
        sleep=Sleeps(),
        **kwargs,
    )


def test_the_openai_writer_in_chat_mode_writes_a_script_through_a_local_server(local):
    app, server = local
    with compatible_writer(server, api="chat") as writer:
        script = writer.write("vid-1", ARMS, 5)

    assert script.video_id == "vid-1" and dict(script.arms) == ARMS and len(script.scenes) == 2
    assert app.calls["openai.chat"] == 1
    body = app.bodies[0]
    assert body["model"] == "llama3.2"
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["schema"] == script_json_schema(ARMS)
    assert app.requests[0][1].headers["authorization"] == f"Bearer {DUMMY_KEY}"


def test_left_on_the_responses_api_the_writer_switches_to_chat_completions_for_good(local):
    app, server = local
    writer = compatible_writer(server)
    assert writer.write("vid-2", ARMS, 1).video_id == "vid-2"
    assert writer.write("vid-3", ARMS, 1).video_id == "vid-3"

    assert writer.api == "chat"
    assert app.calls["openai.chat"] == 2
    assert [name for name, _ in app.requests] == ["openai.chat", "openai.chat"]


@pytest.mark.parametrize("mode", ["invalid_json", "schema_violation", "truncated"])
def test_the_one_repair_request_applies(local, mode):
    app, server = local
    app.answers.extend([mode])
    assert compatible_writer(server, api="chat").write("vid-4", ARMS, 1).video_id == "vid-4"

    assert app.calls["openai.chat"] == 2
    assert [m["role"] for m in app.bodies[1]["messages"]] == ["system", "user", "assistant", "user"]


def test_a_model_the_server_does_not_have_fails_at_once_naming_it(local):
    app, server = local
    with pytest.raises(ProviderError) as info:
        compatible_writer(server, api="chat", model="gpt-4.1-mini").write("vid-5", ARMS, 1)

    message = str(info.value)
    assert "video vid-5" in message and "HTTP 404" in message and "model 'gpt-4.1-mini' not found" in message
    assert app.calls["openai.chat"] == 1
