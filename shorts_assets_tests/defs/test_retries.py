"""Network-bound steps retry with exponential backoff and jitter; steps whose provider is local do not
(a local failure would only repeat)."""

import dagster as dg
import pytest

from shorts_assets.defs.create.clips import clips
from shorts_assets.defs.create.renders import renders
from shorts_assets.defs.learn.comments import comments
from shorts_assets.defs.learn.metrics import metrics
from shorts_assets.defs.publish.publications import publication_assets
from shorts_assets.defs.retries import NETWORK_RETRY, generation_retry, is_remote


def retry_of(asset: dg.AssetsDefinition) -> dg.RetryPolicy | None:
    return asset.op.retry_policy


def test_the_network_policy_backs_off_exponentially_with_jitter():
    assert NETWORK_RETRY.max_retries >= 2
    assert NETWORK_RETRY.backoff == dg.Backoff.EXPONENTIAL
    assert NETWORK_RETRY.jitter == dg.Jitter.PLUS_MINUS


@pytest.mark.parametrize("asset", [*publication_assets, metrics, comments], ids=lambda a: a.key.to_user_string())
def test_steps_that_talk_to_a_platform_retry(asset):
    assert retry_of(asset) == NETWORK_RETRY


def test_generation_steps_with_the_offline_providers_do_not_retry():
    # The suite runs with the offline defaults: procedural clips and the local renderer.
    assert retry_of(clips) is None
    assert retry_of(renders) is None


@pytest.mark.parametrize(
    ("variable", "value", "remote"),
    [
        ("VIDEO_GEN_PROVIDER", "runway", True),
        ("VIDEO_GEN_PROVIDER", "library,pexels,stub", True),
        ("VIDEO_GEN_PROVIDER", "library,stub", False),
        ("SCRIPT_PROVIDER", "template", False),
        ("SCRIPT_PROVIDER", "ollama", True),
        ("TTS_PROVIDER", "edge", True),
        ("RENDERER_PROVIDER", "cloud", True),
        ("RENDERER_PROVIDER", "", False),
    ],
)
def test_a_generation_step_retries_when_its_provider_is_remote(variable, value, remote):
    assert is_remote(variable, {variable: value}) is remote
    assert generation_retry(variable, {variable: value}) == (NETWORK_RETRY if remote else None)
