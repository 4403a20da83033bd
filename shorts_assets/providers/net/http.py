"""The HTTP client policy every platform adapter shares.

- Timeouts on every call.
- Retries only on network errors, 429 and 5xx, with exponential backoff and full jitter, honouring
  ``Retry-After`` (seconds or an HTTP date); every wait is capped, and an answer that asks for a
  longer wait than the cap fails at once instead of burning attempts.
- Budget or quota exhaustion is never retried (``BudgetExhausted``).
- A 401 refreshes the access token once, then the call is retried once.
- A call that is not idempotent (it may create something remotely) is not re-sent after an answer
  that may have been lost mid-way: ``OutcomeUnknown`` tells the adapter to read the remote state first.
- Malformed JSON and HTML error pages become a ``ProviderError`` with the status and a short excerpt.
- Secrets (access and refresh tokens, client secrets) are redacted from every message and log line.
"""

from __future__ import annotations

import email.utils
import enum
import html
import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol

import httpx

from shorts_assets.core.errors import AuthRevoked, BudgetExhausted, OutcomeUnknown, ProviderError
from shorts_assets.core.state import StateStore

logger = logging.getLogger(__name__)

EXCERPT_CHARS = 200
REDACTED = "[redacted]"

_SECRET_QUERY = re.compile(
    r"((?:access_token|refresh_token|client_secret|fb_exchange_token|upload_token)=)[^&\s\"']+", re.IGNORECASE
)


class _QuerySecretFilter(logging.Filter):
    """Redacts credentials carried in URL query strings from httpx's request log lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _SECRET_QUERY.sub(r"\1" + REDACTED, message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


logging.getLogger("httpx").addFilter(_QuerySecretFilter())


class Verdict(enum.Enum):
    OK = "ok"
    RETRY = "retry"
    REFRESH = "refresh"
    FAIL = "fail"
    BUDGET = "budget"


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    base_delay_s: float = 1.0
    max_delay_s: float = 60.0
    timeout: httpx.Timeout = field(default_factory=lambda: httpx.Timeout(60.0, connect=10.0))


class TokenSource(Protocol):
    def token(self) -> str: ...

    def refresh(self, rejected: str | None = None) -> str: ...


class Redactor:
    """Replaces every registered secret in a text by a placeholder."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        self.add(*secrets)

    def add(self, *secrets: str | None) -> None:
        with self._lock:
            for secret in secrets:
                if secret and len(secret) >= 4:
                    self._secrets.add(secret)

    def __call__(self, text: str) -> str:
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for secret in secrets:
            text = text.replace(secret, REDACTED)
        return text


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


def safe_json(response: httpx.Response) -> Any:
    """The response body as JSON, or None when it is not JSON."""
    try:
        return json.loads(response.content) if response.content else None
    except (ValueError, UnicodeDecodeError):
        return None


def _is_html(response: httpx.Response) -> bool:
    ctype = response.headers.get("content-type", "").lower()
    head = response.content[:200].lstrip().lower()
    return "html" in ctype or head.startswith(b"<!doctype html") or head.startswith(b"<html")


def _collapse(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def describe_body(response: httpx.Response) -> str:
    """A short, human-readable account of an error body (JSON envelope, HTML page or text)."""
    payload = safe_json(response)
    if isinstance(payload, dict) and "error" in payload:
        error = payload["error"]
        if isinstance(error, dict):
            parts = []
            for key in ("code", "error_subcode"):
                if error.get(key) not in (None, "", 0):
                    parts.append(f"{key} {error[key]}")
            reasons = [e.get("reason") for e in error.get("errors") or [] if isinstance(e, dict)]
            if any(reasons):
                parts.append("reason " + ",".join(r for r in reasons if r))
            message = error.get("message") or error.get("error_user_msg") or ""
            text = "; ".join(parts) + (f": {message}" if message else "")
            return _collapse(text)[:EXCERPT_CHARS]
        if isinstance(error, str):
            desc = payload.get("error_description") or ""
            return _collapse(f"{error}: {desc}" if desc else error)[:EXCERPT_CHARS]
    if payload is not None:
        return _collapse(json.dumps(payload))[:EXCERPT_CHARS]
    text = response.content.decode("utf-8", errors="replace")
    if _is_html(response):
        title = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
        body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", text, flags=re.IGNORECASE | re.DOTALL)
        body = html.unescape(re.sub(r"<[^>]+>", " ", body))
        summary = _collapse(title.group(1)) if title else _collapse(body)
        return ("HTML error page: " + summary)[:EXCERPT_CHARS]
    return _collapse(text)[:EXCERPT_CHARS] or "(empty body)"


def default_classify(response: httpx.Response) -> Verdict:
    status = response.status_code
    if status < 400:
        return Verdict.OK
    if status == 401:
        return Verdict.REFRESH
    if status == 429 or status >= 500:
        return Verdict.RETRY
    return Verdict.FAIL


_SAFE_TO_RESEND = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class HttpClient:
    """One service's HTTP calls under the shared policy."""

    def __init__(
        self,
        service: str,
        *,
        client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
        redactor: Redactor | None = None,
    ) -> None:
        self.service = service
        self.policy = policy or RetryPolicy()
        self._owns_client = client is None
        self.client = client or httpx.Client(transport=transport, timeout=self.policy.timeout, follow_redirects=False)
        self.sleep = sleep
        self.rand = rand
        self.redact = redactor or Redactor()
        self.calls = 0

    def close(self) -> None:
        if self._owns_client:
            self.client.close()

    def error(self, message: str, cls: type[ProviderError] = ProviderError) -> ProviderError:
        return cls(self.redact(f"{self.service} {message}"))

    def failure(self, response: httpx.Response, what: str, cls: type[ProviderError] = ProviderError) -> ProviderError:
        return self.error(
            f"{what}: HTTP {response.status_code} {response.reason_phrase}: {describe_body(response)}",
            cls,
        )

    def json(self, response: httpx.Response, what: str) -> Any:
        """The JSON body of a successful response; anything else is a clear ProviderError."""
        if _is_html(response):
            raise self.error(
                f"{what}: expected JSON, got an HTML page (HTTP {response.status_code}): {describe_body(response)}"
            )
        try:
            return json.loads(response.content)
        except (ValueError, UnicodeDecodeError):
            excerpt = _collapse(response.content[:EXCERPT_CHARS].decode("utf-8", errors="replace"))
            raise self.error(
                f"{what}: malformed JSON (HTTP {response.status_code}): {excerpt or '(empty body)'}"
            ) from None

    def backoff(self, attempt: int) -> float:
        """Full-jitter exponential delay before retry number ``attempt`` (1-based)."""
        ceiling = min(self.policy.max_delay_s, self.policy.base_delay_s * 2 ** (attempt - 1))
        return self.rand() * ceiling

    def request(
        self,
        method: str,
        url: str,
        *,
        what: str,
        token: TokenSource | None = None,
        auth_scheme: str = "Bearer",
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        data: Mapping[str, Any] | None = None,
        content: bytes | None = None,
        classify: Callable[[httpx.Response], Verdict | None] | None = None,
        accept: Collection[int] = (),
        idempotent: bool = True,
        timeout: httpx.Timeout | float | None = None,
    ) -> httpx.Response:
        """Send one call, retrying as the policy allows; return a response judged OK or accepted.

        ``accept`` lists statuses the caller handles itself when they are not retryable, budget or
        auth answers. ``idempotent=False`` marks calls that may change remote state.
        """
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            send_headers = dict(headers or {})
            access = None
            if token is not None:
                access = token.token()
                send_headers["Authorization"] = f"{auth_scheme} {access}"
            kwargs: dict[str, Any] = {"headers": send_headers, "params": params}
            if json_body is not None:
                kwargs["json"] = json_body
            if data is not None:
                kwargs["data"] = data
            if content is not None:
                kwargs["content"] = content
            if timeout is not None:
                kwargs["timeout"] = timeout
            self.calls += 1
            try:
                response = self.client.request(method, url, **kwargs)
            except httpx.TransportError as exc:
                reason = f"network error ({type(exc).__name__}: {exc})"
                if not idempotent and not isinstance(exc, _SAFE_TO_RESEND):
                    raise self.error(f"{what}: {reason}; the outcome is unknown", OutcomeUnknown) from None
                self._wait_or_give_up(what, reason, attempt, None)
                continue

            verdict = (classify(response) if classify else None) or default_classify(response)
            if verdict is Verdict.OK or (verdict is Verdict.FAIL and response.status_code in accept):
                return response
            if verdict is Verdict.BUDGET:
                raise self.failure(response, what, BudgetExhausted)
            if verdict is Verdict.REFRESH:
                if token is None or refreshed:
                    suffix = " after refreshing the access token" if refreshed else ""
                    raise self.error(
                        f"{what}: unauthorized{suffix}: HTTP {response.status_code}: {describe_body(response)}"
                    )
                refreshed = True
                token.refresh(rejected=access)
                attempt -= 1  # the retry after a refresh is not a backoff attempt
                continue
            if verdict is Verdict.RETRY:
                reason = f"HTTP {response.status_code}: {describe_body(response)}"
                if not idempotent and response.status_code >= 500:
                    raise self.error(f"{what}: {reason}; the outcome is unknown", OutcomeUnknown)
                wait = parse_retry_after(response.headers.get("retry-after"))
                self._wait_or_give_up(what, reason, attempt, wait)
                continue
            raise self.failure(response, what)

    def _wait_or_give_up(self, what: str, reason: str, attempt: int, retry_after: float | None) -> None:
        if attempt >= self.policy.attempts:
            raise self.error(f"{what}: gave up after {attempt} attempts; last: {reason}")
        if retry_after is not None and retry_after > self.policy.max_delay_s:
            raise self.error(
                f"{what}: {reason}; the server asks to wait {retry_after:.0f} s, "
                f"over the {self.policy.max_delay_s:.0f} s cap"
            )
        delay = retry_after if retry_after is not None else self.backoff(attempt)
        logger.warning(
            self.redact(f"{self.service} {what}: {reason}; retry {attempt}/{self.policy.attempts - 1} in {delay:.2f} s")
        )
        self.sleep(delay)


class StoredToken:
    """An access token kept in the state store and renewed through ``fetch`` shortly before expiry.

    ``fetch`` returns ``(access_token, expires_in_seconds)``; it raises ``AuthRevoked`` through
    ``revoke`` when the grant is gone, after which every call fails fast with the same message.
    """

    NAMESPACE = "oauth.access"
    REVOKED = "oauth.revoked"

    def __init__(
        self,
        service: str,
        account: str,
        state: StateStore,
        fetch: Callable[[], tuple[str, float]],
        redactor: Redactor,
        clock: Callable[[], float] = time.time,
        margin_s: float = 120.0,
    ) -> None:
        self.service = service
        self.key = f"{service}:{account}"
        self.state = state
        self.fetch = fetch
        self.redact = redactor
        self.clock = clock
        self.margin_s = margin_s
        self._lock = threading.Lock()

    def check_revoked(self) -> None:
        message = self.state.get(self.REVOKED, self.key)
        if message is not None:
            raise AuthRevoked(message)

    def revoke(self, detail: str) -> AuthRevoked:
        """Mark the account revoked in state; return the error to raise."""
        message = self.redact(
            f"{self.service} account {self.key.split(':', 1)[1]!r} is revoked ({detail}); "
            "its owner must authorise the app again"
        )
        self.state.put(self.REVOKED, self.key, message)
        self.state.delete(self.NAMESPACE, self.key)
        return AuthRevoked(message)

    def _cached(self) -> str | None:
        raw = self.state.get(self.NAMESPACE, self.key)
        if not raw:
            return None
        try:
            record = json.loads(raw)
            if float(record["expires_at"]) - self.margin_s > self.clock():
                self.redact.add(record["access_token"])
                return str(record["access_token"])
        except (ValueError, KeyError, TypeError):
            pass
        return None

    def token(self) -> str:
        self.check_revoked()
        cached = self._cached()
        return cached if cached is not None else self.refresh()

    def refresh(self, rejected: str | None = None) -> str:
        with self._lock:
            self.check_revoked()
            if rejected is not None:
                cached = self._cached()
                if cached is not None and cached != rejected:
                    return cached  # another caller already renewed it
            access, expires_in = self.fetch()
            self.redact.add(access)
            record = {"access_token": access, "expires_at": self.clock() + float(expires_in)}
            self.state.put(self.NAMESPACE, self.key, json.dumps(record))
            return access
