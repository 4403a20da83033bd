"""The shared client policy: what is retried and how long it waits, what never is, token refresh,
unreadable answers, and secrets kept out of every message and log line."""

from __future__ import annotations

import logging
import traceback
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from shorts_assets.core.errors import BudgetExhausted, OutcomeUnknown, ProviderError
from shorts_assets.core.state import MemoryStateStore
from shorts_assets.core.types import Publication
from shorts_assets.fakes.server import FakeApp, FakeServer, Fault, Request, json_response
from shorts_assets.fakes.youtube_server import FakeYouTube
from shorts_assets.providers.net.http import HttpClient, Redactor, RetryPolicy, Verdict, parse_retry_after
from shorts_assets.providers.platforms.youtube import CHUNK_ALIGN, YouTubeAdapter
from shorts_assets_tests.helpers import Sleeps, media, publish_request


class EchoApp(FakeApp):
    def route(self, request: Request):
        return request.method + " " + request.path, lambda r: json_response(200, {"ok": True, "path": r.path})


@pytest.fixture
def echo():
    app = EchoApp()
    with FakeServer(app) as server:
        yield app, server


def client(sleeps, **policy) -> HttpClient:
    return HttpClient(
        "svc",
        policy=RetryPolicy(**{"attempts": 4, "base_delay_s": 1.0, "max_delay_s": 30.0, **policy}),
        sleep=sleeps,
        rand=lambda: 1.0,
    )


class Tokens:
    def __init__(self) -> None:
        self.refreshes = 0
        self.current = "tok-0"

    def token(self) -> str:
        return self.current

    def refresh(self, rejected=None) -> str:
        self.refreshes += 1
        self.current = f"tok-{self.refreshes}"
        return self.current


def test_retry_after_in_seconds_or_an_http_date():
    now = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)
    assert parse_retry_after("12", now) == 12.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=90), usegmt=True), now) == 90.0
    assert parse_retry_after(format_datetime(now - timedelta(seconds=5), usegmt=True), now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_backoff_is_exponential_full_jitter_and_capped():
    c = HttpClient("svc", policy=RetryPolicy(base_delay_s=1.0, max_delay_s=10.0), rand=lambda: 1.0)
    assert [c.backoff(n) for n in (1, 2, 3, 4, 5, 6)] == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    c.rand = lambda: 0.25
    assert c.backoff(3) == 1.0
    c.close()


def test_429_and_5xx_are_retried_honouring_retry_after(echo):
    app, server = echo
    later = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=20), usegmt=True)
    app.inject(
        "GET /x",
        Fault.answer(429, "", {"Retry-After": "3"}),
        Fault.answer(503, "busy"),
        Fault.answer(429, "", {"Retry-After": later}),
        Fault.answer(502, "bad gateway"),
    )
    sleeps = Sleeps()
    c = client(sleeps, attempts=5)
    assert c.request("GET", f"{server.url}/x", what="x").json()["ok"]
    assert sleeps[0] == 3.0 and sleeps[1] == 2.0 and 18 <= sleeps[2] <= 20 and sleeps[3] == 8.0
    assert app.calls["GET /x"] == 5


def test_a_retry_after_over_the_cap_fails_at_once(echo):
    app, server = echo
    app.inject("GET /x", Fault.answer(429, "", {"Retry-After": "3600"}))
    sleeps = Sleeps()
    with pytest.raises(ProviderError, match="asks to wait 3600 s, over the 30 s cap"):
        client(sleeps).request("GET", f"{server.url}/x", what="x")
    assert sleeps == [] and app.calls["GET /x"] == 1


def test_gives_up_after_the_attempts(echo):
    app, server = echo
    app.inject("GET /x", *[Fault.answer(500, "boom")] * 10)
    sleeps = Sleeps()
    with pytest.raises(ProviderError, match="gave up after 4 attempts; last: HTTP 500"):
        client(sleeps).request("GET", f"{server.url}/x", what="x")
    assert app.calls["GET /x"] == 4 and len(sleeps) == 3


def test_other_4xx_are_not_retried(echo):
    app, server = echo
    app.inject("GET /x", Fault.answer(400, {"error": {"code": 400, "message": "bad thing"}}))
    with pytest.raises(ProviderError, match="HTTP 400 Bad Request: code 400: bad thing"):
        client(Sleeps()).request("GET", f"{server.url}/x", what="x")
    assert app.calls["GET /x"] == 1


def test_budget_exhaustion_is_never_retried(echo):
    app, server = echo
    app.inject("GET /x", Fault.answer(429, {"error": {"code": "spam_risk_too_many_posts", "message": "slow"}}))
    with pytest.raises(BudgetExhausted, match="spam_risk_too_many_posts"):
        client(Sleeps()).request(
            "GET", f"{server.url}/x", what="x", classify=lambda r: Verdict.BUDGET if b"spam_risk" in r.content else None
        )
    assert app.calls["GET /x"] == 1


def test_network_errors_are_retried_when_safe():
    sleeps = Sleeps()
    c = client(sleeps, attempts=3)
    with pytest.raises(ProviderError, match="gave up after 3 attempts; last: network error \\(ConnectError"):
        c.request("POST", "http://127.0.0.1:9/nothing-listens", what="x", idempotent=False)
    assert len(sleeps) == 2


def test_a_lost_answer_to_a_non_idempotent_call_is_not_resent(echo):
    app, server = echo
    app.inject("POST /post", Fault.drop_after())
    with pytest.raises(OutcomeUnknown, match="outcome is unknown"):
        client(Sleeps()).request("POST", f"{server.url}/post", what="post", idempotent=False)
    app.inject("POST /post", Fault.answer(503, "maybe"))
    with pytest.raises(OutcomeUnknown):
        client(Sleeps()).request("POST", f"{server.url}/post", what="post", idempotent=False)
    assert app.calls["POST /post"] == 2
    app.inject("POST /post", Fault.answer(429, "not yet"))
    assert client(Sleeps()).request("POST", f"{server.url}/post", what="post", idempotent=False).status_code == 200


def test_a_401_refreshes_once_then_retries_once(echo):
    app, server = echo
    tokens = Tokens()
    app.inject("GET /x", Fault.answer(401, "expired"))
    c = client(Sleeps())
    assert c.request("GET", f"{server.url}/x", what="x", token=tokens).status_code == 200
    assert tokens.refreshes == 1
    seen = [r.headers["authorization"] for name, r in app.requests]
    assert seen == ["Bearer tok-0", "Bearer tok-1"]
    app.inject("GET /x", Fault.answer(401, "expired"), Fault.answer(401, "still"))
    with pytest.raises(ProviderError, match="unauthorized after refreshing"):
        c.request("GET", f"{server.url}/x", what="x", token=tokens)
    assert tokens.refreshes == 2


def test_html_pages_and_malformed_json_are_clear(echo):
    app, server = echo
    c = client(Sleeps())
    app.inject("GET /x", Fault.html(200))
    with pytest.raises(ProviderError, match=r"expected JSON, got an HTML page \(HTTP 200\).*Error 502"):
        c.json(c.request("GET", f"{server.url}/x", what="x"), "x")
    app.inject("GET /x", Fault.malformed(200))
    with pytest.raises(ProviderError, match=r"malformed JSON \(HTTP 200\): \{\"kind\""):
        c.json(c.request("GET", f"{server.url}/x", what="x"), "x")
    app.inject(
        "GET /x",
        Fault.answer(403, "<html><head><title>Forbidden by proxy</title></head></html>", {"Content-Type": "text/html"}),
    )
    with pytest.raises(ProviderError, match="HTTP 403 Forbidden: HTML error page: Forbidden by proxy"):
        c.request("GET", f"{server.url}/x", what="x")


def test_redactor_hides_registered_secrets():
    redact = Redactor(["s3cr3t-value", None, ""])
    redact.add("ya29.token")
    assert redact("a s3cr3t-value and ya29.token here") == "a [redacted] and [redacted] here"


def _texts(exc: BaseException) -> list[str]:
    texts = ["".join(traceback.format_exception(type(exc), exc, exc.__traceback__))]
    while exc is not None:
        texts.append(str(exc))
        texts.append(repr(exc))
        exc = exc.__cause__ or exc.__context__
    return texts


def test_secrets_never_reach_exceptions_or_logs(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    app = FakeYouTube()
    secrets = [app.client_secret, next(iter(app.refresh_tokens))]
    errors: list[BaseException] = []
    with FakeServer(app) as server:
        state = MemoryStateStore()

        def adapter(**kw):
            return YouTubeAdapter(
                client_id=app.client_id,
                client_secret=app.client_secret,
                refresh_token=secrets[1],
                state=state,
                account="demo",
                api_base_url=f"{server.url}/youtube/v3",
                upload_base_url=f"{server.url}/upload/youtube/v3",
                analytics_base_url=f"{server.url}/v2",
                token_url=f"{server.url}/token",
                sleep=Sleeps(),
                chunk_size=CHUNK_ALIGN,
                retry=RetryPolicy(attempts=3),
                **kw,
            )

        yt = adapter()
        video, thumb = media(tmp_path)
        yt.publish(publish_request(video, thumb))
        secrets += sorted(app.access_tokens)
        pub = Publication("youtube", "demo", "v", "AAAAAAAAAAA", "u", datetime.now(timezone.utc))
        app.add_video("AAAAAAAAAAA")
        # Error bodies that quote the credentials back, as careless servers and proxies do.
        leaky = f"token {secrets[2]} rejected; client_secret={secrets[0]} refresh_token={secrets[1]}"
        app.inject(
            "videos.list",
            *[Fault.answer(503, f"<html><title>{leaky}</title></html>", {"Content-Type": "text/html"})] * 3,
        )
        app.inject("videos.list", Fault.answer(400, {"error": {"code": 400, "message": leaky}}))
        app.inject("videos.list", Fault.answer(200, leaky))
        for _ in range(3):
            try:
                yt.fetch_metrics([pub], datetime.now(timezone.utc))
            except ProviderError as exc:
                errors.append(exc)
        app.inject("oauth.token", Fault.answer(401, {"error": "invalid_client", "error_description": leaky}))
        app.expire_access_tokens()
        try:
            adapter(use_analytics=False).fetch_metrics([pub], datetime.now(timezone.utc))
        except ProviderError as exc:
            errors.append(exc)
        state.delete("oauth.access", "youtube:demo")
        app.revoke()
        for _ in range(2):
            try:
                adapter().publish(publish_request(video, thumb, video_id="other"))
            except ProviderError as exc:
                errors.append(exc)
    assert len(errors) == 6
    assert any("revoked" in str(e) for e in errors)
    haystack = "\n".join(t for e in errors for t in _texts(e)) + "\n" + caplog.text
    assert "[redacted]" in haystack
    for secret in secrets:
        assert secret not in haystack


def test_tiktok_and_instagram_secrets_never_reach_exceptions_or_logs(tmp_path, caplog):
    from shorts_assets.fakes.instagram_server import FakeInstagram
    from shorts_assets.fakes.tiktok_server import FakeTikTok
    from shorts_assets.providers.platforms.instagram import InstagramAdapter
    from shorts_assets.providers.platforms.tiktok import TikTokAdapter

    caplog.set_level(logging.DEBUG)
    video, thumb = media(tmp_path)
    errors: list[BaseException] = []
    tt, ig = FakeTikTok(), FakeInstagram()
    with FakeServer(tt) as tts, FakeServer(ig) as igs:
        state = MemoryStateStore()
        tiktok = TikTokAdapter(
            client_key=tt.client_key,
            client_secret=tt.client_secret,
            refresh_token="rft.refresh-0",
            state=state,
            account="demo",
            api_base_url=tts.url,
            sleep=Sleeps(),
            retry=RetryPolicy(attempts=2),
            status_polls=3,
        )
        tiktok.publish(publish_request(video, thumb))
        secrets = [tt.client_secret, "rft.refresh-0", *tt.refresh_tokens, *tt.access_tokens, "IGQVJlong-lived-token-0"]
        leaky_tt = " ".join(secrets[:-1])  # each adapter knows only its own credentials
        tt.inject(
            "init", *[Fault.answer(500, {"data": {}, "error": {"code": "internal_error", "message": leaky_tt}})] * 2
        )
        ig.inject("content_publishing_limit", Fault.answer(400, {"error": {"code": 100, "message": secrets[-1]}}))
        instagram = InstagramAdapter(
            user_id=ig.user_id,
            access_token="IGQVJlong-lived-token-0",
            state=state,
            account="demo",
            graph_base_url=f"{igs.url}/v21.0",
            rupload_base_url=f"{igs.url}/rupload/ig-api-upload/v21.0",
            token_refresh_url=f"{igs.url}/refresh_access_token",
            sleep=Sleeps(),
        )
        for call in (
            lambda: tiktok.publish(publish_request(video, thumb, video_id="b")),
            lambda: instagram.publish(publish_request(video, thumb)),
        ):
            try:
                call()
            except ProviderError as exc:
                errors.append(exc)
        tt.revoke()
        ig.invalidate("IGQVJlong-lived-token-0")
        state.delete("oauth.access", "tiktok:demo")
        for call in (
            lambda: tiktok.publish(publish_request(video, thumb, video_id="c")),
            lambda: instagram.publish(publish_request(video, thumb, video_id="d")),
        ):
            try:
                call()
            except ProviderError as exc:
                errors.append(exc)
        tiktok.close()
        instagram.close()
    assert len(errors) == 4
    haystack = "\n".join(t for e in errors for t in _texts(e)) + "\n" + caplog.text
    assert "[redacted]" in haystack
    for secret in secrets:
        assert secret not in haystack
