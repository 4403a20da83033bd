"""How an API-key service's HTTP client is built, and how OpenAI-compatible APIs say a quota is spent.

Every generation adapter (writers, video jobs, voices, the cloud renderer) builds its client here, so
the key is redacted and the providers' ``retry-after-ms`` hint is honoured the same way everywhere.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from shorts_assets.providers.net.http import HttpClient, Redactor, RetryPolicy, Verdict, safe_json

API_RETRY = RetryPolicy(attempts=4, base_delay_s=1.0, max_delay_s=60.0, timeout=httpx.Timeout(180.0, connect=10.0))


def retry_after_ms(response: httpx.Response) -> None:
    """Puts ``retry-after-ms`` into ``retry-after`` (in seconds) so the shared policy honours it first."""
    value = response.headers.get("retry-after-ms")
    if value:
        try:
            response.headers["retry-after"] = f"{max(0.0, float(value)) / 1000:.3f}"
        except ValueError:
            pass


def api_http_client(
    service: str,
    api_key: str,
    *,
    http_client: httpx.Client | None,
    transport: httpx.BaseTransport | None,
    retry: RetryPolicy | None,
    sleep: Callable[[float], None],
) -> HttpClient:
    """An ``HttpClient`` for one API-key service: the key redacted, ``retry-after-ms`` honoured."""
    policy = retry or API_RETRY
    if http_client is None:
        http_client = httpx.Client(
            transport=transport,
            timeout=policy.timeout,
            follow_redirects=False,
            event_hooks={"response": [retry_after_ms]},
        )
        owned = True
    else:
        hooks = http_client.event_hooks.setdefault("response", [])
        if retry_after_ms not in hooks:
            hooks.append(retry_after_ms)
        owned = False
    http = HttpClient(service, client=http_client, policy=policy, sleep=sleep, redactor=Redactor([api_key]))
    http._owns_client = owned
    return http


def openai_classify(response: httpx.Response) -> Verdict | None:
    if response.status_code == 429:
        payload = safe_json(response)
        error = payload.get("error") if isinstance(payload, dict) else None
        if isinstance(error, dict) and "insufficient_quota" in (error.get("code"), error.get("type")):
            return Verdict.BUDGET
    return None
