"""Step retries for the steps that talk over the network: backoff with jitter, so that runs failing on
one provider's outage do not come back all at once.

A retried step is safe to repeat: every side effect it has is claimed in the application database
before it happens (a post's publish slot, a paid generation job, a cloud render), so the retry finds
what its first attempt did and resumes it instead of repeating it. Per-video failures never fail a
step (the batch carries on), so a step only retries when the whole batch failed, e.g. on a provider or
platform that was unreachable.

Publications, metrics and comments always talk to a platform (the simulated ones too, through the
same code). A generation step retries only when its provider is remote; the providers are the code
location's environment, read when its modules are imported.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import dagster as dg

NETWORK_RETRY = dg.RetryPolicy(max_retries=3, delay=15, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)

# Per generation seam: its variable, its default and the providers that run on this machine.
LOCAL_PROVIDERS: dict[str, tuple[str, frozenset[str]]] = {
    "SCRIPT_PROVIDER": ("template", frozenset({"template"})),
    "VIDEO_GEN_PROVIDER": ("stub", frozenset({"stub", "library"})),
    "TTS_PROVIDER": ("espeak", frozenset({"espeak"})),
    "RENDERER_PROVIDER": ("ffmpeg", frozenset({"ffmpeg"})),
}


def is_remote(variable: str, env: Mapping[str, str] | None = None) -> bool:
    """Whether the provider (or any provider of a chain, `library,pexels,stub`) the variable names is
    reached over the network."""
    env = os.environ if env is None else env
    default, local = LOCAL_PROVIDERS[variable]
    names = [n.strip().lower() for n in (env.get(variable, "").strip() or default).split(",") if n.strip()]
    return any(name not in local for name in names)


def generation_retry(variable: str, env: Mapping[str, str] | None = None) -> dg.RetryPolicy | None:
    """NETWORK_RETRY when the seam's provider is remote, else no retry (a local failure would repeat)."""
    return NETWORK_RETRY if is_remote(variable, env) else None
