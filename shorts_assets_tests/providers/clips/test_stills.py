"""AI stills from OpenAI's image API, against the fake on a real socket: one portrait image per scene in
the request shape GPT image models take, charged to the channel's budget before sending (and refused
past it), kept on a retry, a refused prompt a no-match, rate limits waited out as asked, a spent
quota, an unverified organisation and a bad key hard errors without the key, and never a
half-written or undecodable still."""

from __future__ import annotations

import base64

import httpx
import pytest

from shorts_assets.core.errors import BudgetExhausted, ProviderError
from shorts_assets.core.state import MemoryStateStore
from shorts_assets.core.types import Scene, Script
from shorts_assets.fakes.openai_server import FakeOpenAI
from shorts_assets.fakes.server import FakeServer, Fault
from shorts_assets.providers.clips.chain import NoMatch
from shorts_assets.providers.clips.stills import OpenAIStills
from shorts_assets.providers.media import probe
from shorts_assets.providers.net.costs import Budget, BudgetExceeded, PriceTable
from shorts_assets.providers.net.http import RetryPolicy
from shorts_assets_tests.helpers import Sleeps

POLICY = RetryPolicy(attempts=3, base_delay_s=1.0, max_delay_s=30.0)

SCRIPT = Script(
    "vid-1",
    "Three hearts",
    "Did you know?",
    "Did you know? Octopuses have three hearts.",
    "#shorts",
    (
        Scene("An octopus gliding over a coral reef", 3.5, "waves", ("octopus",)),
        Scene("Three glowing hearts inside a translucent octopus", 5.0, "waves", ("heart",)),
    ),
    ("octopus",),
    {},
)


def stills(server, app, sleeps=None, **kwargs) -> OpenAIStills:
    kwargs.setdefault("api_key", app.api_key)
    return OpenAIStills(
        base_url=f"{server.url}/v1", retry=POLICY, sleep=Sleeps() if sleeps is None else sleeps, **kwargs
    )


def test_each_scene_gets_a_portrait_still_charged_before_it_is_asked_for(tmp_path):
    app, state = FakeOpenAI(), MemoryStateStore()
    budget = Budget(state, "demo", daily_limit_usd=1.0)
    with FakeServer(app) as server, stills(server, app, budget=budget) as adapter:
        clips = adapter.generate(SCRIPT, tmp_path)
    assert [c.path.name for c in clips] == ["scene_01.png", "scene_02.png"]
    assert all((c.width, c.height) == (1024, 1536) for c in clips)
    assert probe(clips[0].path).video_codec == "png"
    assert [c.duration_s for c in clips] == [3.5, 5.0]  # a still lasts its scene
    body = app.images[0]
    assert body["model"] == "gpt-image-1" and body["size"] == "1024x1536" and body["quality"] == "medium"
    assert body["n"] == 1 and body["output_format"] == "png" and "response_format" not in body
    assert body["prompt"].startswith("An octopus gliding over a coral reef") and "no text" in body["prompt"]
    per_still = PriceTable().images_usd("gpt-image-1", "medium", "1024x1536")
    assert per_still == pytest.approx(0.06336)
    assert budget.spent_usd() == pytest.approx(2 * per_still, rel=0.01) and budget.spent_usd() > 2 * per_still
    assert len(state.namespace(Budget.LEDGER)) == 2
    assert clips[0].credit["provider"] == "openai_images" and clips[0].credit["author"] == "OpenAI gpt-image-1"
    assert not list(tmp_path.glob("*.partial*"))


def test_a_still_past_the_budget_is_refused_before_anything_is_sent(tmp_path):
    app = FakeOpenAI()
    budget = Budget(MemoryStateStore(), "demo", daily_limit_usd=0.10)
    with FakeServer(app) as server, stills(server, app, budget=budget) as adapter:
        with pytest.raises(BudgetExceeded, match="scene 2: openai_images gpt-image-1 medium still"):
            adapter.generate(SCRIPT, tmp_path)
    assert app.calls["images"] == 1  # the first scene was paid for and made; the second never asked
    assert (tmp_path / "scene_01.png").is_file() and not (tmp_path / "scene_02.png").exists()


def test_a_retried_video_keeps_the_stills_already_made_for_the_same_prompts(tmp_path):
    app, state = FakeOpenAI(), MemoryStateStore()
    with FakeServer(app) as server:
        with stills(server, app, state=state) as adapter:
            first = adapter.generate(SCRIPT, tmp_path)
        with stills(server, app, state=state) as adapter:
            again = adapter.generate(SCRIPT, tmp_path)
        assert again == first and app.calls["images"] == 2
        with stills(server, app, state=state, quality="high") as adapter:
            adapter.generate(SCRIPT, tmp_path)  # another quality is another image
        assert app.calls["images"] == 4


def test_a_prompt_the_safety_system_refuses_is_a_no_match_and_writes_nothing(tmp_path):
    app = FakeOpenAI()
    app.image_answers.append("moderation")
    with FakeServer(app) as server, stills(server, app) as adapter:
        with pytest.raises(NoMatch, match="safety system refused the prompt"):
            adapter.generate(SCRIPT, tmp_path)
    assert not list(tmp_path.iterdir())


def test_a_rate_limit_is_waited_out_as_retry_after_ms_says(tmp_path):
    app, sleeps = FakeOpenAI(), Sleeps()
    app.image_answers.append("rate_limit")
    with FakeServer(app) as server, stills(server, app, sleeps) as adapter:
        assert len(adapter.generate(SCRIPT, tmp_path)) == 2
    assert sleeps == [1.5] and app.calls["images"] == 3


def test_a_spent_quota_an_unverified_organisation_and_a_bad_parameter_are_hard_errors(tmp_path):
    app = FakeOpenAI()
    with FakeServer(app) as server:
        app.image_answers.append("insufficient_quota")
        with stills(server, app) as adapter, pytest.raises(BudgetExhausted, match="exceeded your current quota"):
            adapter.generate(SCRIPT, tmp_path)
        assert app.calls["images"] == 1  # not retried
        app.image_answers.append("unverified")
        with stills(server, app) as adapter, pytest.raises(ProviderError, match="must be verified") as info:
            adapter.generate(SCRIPT, tmp_path)
        assert not isinstance(info.value, NoMatch) and "403" in str(info.value)
        app.inject("images", Fault.answer(400, {"error": {"message": "Invalid value: 'x'.", "param": "size"}}))
        with stills(server, app) as adapter, pytest.raises(ProviderError, match="HTTP 400") as info:
            adapter.generate(SCRIPT, tmp_path)
        assert not isinstance(info.value, NoMatch)
    assert not list(tmp_path.iterdir())


def test_a_bad_key_fails_without_the_key_in_the_error(tmp_path):
    app = FakeOpenAI()
    wrong = "sk-wrong-image-key-0000999"
    with FakeServer(app) as server, stills(server, app, api_key=wrong) as adapter:
        with pytest.raises(ProviderError) as info:
            adapter.generate(SCRIPT, tmp_path)
    assert "401" in str(info.value) and wrong not in str(info.value) and "[redacted]" in str(info.value)


def test_an_answer_that_is_not_an_image_leaves_no_still(tmp_path):
    app = FakeOpenAI()
    garbage = base64.b64encode(b"definitely not a png" * 50).decode()
    app.inject("images", Fault.answer(200, {"data": [{"b64_json": garbage}]}))
    with FakeServer(app) as server, stills(server, app) as adapter:
        with pytest.raises(ProviderError, match="not an image"):
            adapter.generate(SCRIPT, tmp_path)
        app.inject("images", Fault.answer(200, {"data": [{"b64_json": "%%% not base64"}]}))
        with pytest.raises(ProviderError, match="not valid base64"):
            adapter.generate(SCRIPT, tmp_path)
    assert not list(tmp_path.iterdir())


def test_sizes_models_and_qualities_are_checked_here_and_by_the_fake():
    with pytest.raises(ValueError, match="size '1080x1920'"):
        OpenAIStills(api_key="k" * 8, size="1080x1920")
    with pytest.raises(ValueError, match="model 'dall-e-3'"):
        OpenAIStills(api_key="k" * 8, model="dall-e-3")
    app = FakeOpenAI()
    auth = {"Authorization": f"Bearer {app.api_key}"}
    with FakeServer(app) as server:
        url = f"{server.url}/v1/images/generations"
        bad_size = httpx.post(url, json={"model": "gpt-image-1", "prompt": "x", "size": "1080x1920"}, headers=auth)
        no_model = httpx.post(url, json={"prompt": "x", "size": "1024x1536"}, headers=auth)
        url_format = httpx.post(
            url, json={"model": "gpt-image-1", "prompt": "x", "response_format": "url"}, headers=auth
        )
    assert bad_size.status_code == 400 and bad_size.json()["error"]["param"] == "size"
    assert no_model.status_code == 400 and "'256x256'" in no_model.json()["error"]["message"]
    assert url_format.status_code == 400 and url_format.json()["error"]["code"] == "unknown_parameter"
