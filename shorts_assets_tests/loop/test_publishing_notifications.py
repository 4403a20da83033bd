"""What publishing reports: a published event per post (once, however often the batch is rerun), a
failed or needs_manual event per video that did not make it, and one quota_exhausted per platform
account and day. Against the fake YouTube server and a webhook receiver, both on sockets."""

from __future__ import annotations

import pytest

from shorts_assets.core.errors import AuthRevoked
from shorts_assets.db.store import Store
from shorts_assets.fakes.server import FakeServer
from shorts_assets.fakes.webhook_receiver import WebhookReceiver
from shorts_assets.fakes.youtube_server import FakeYouTube
from shorts_assets.loop.publishing import publish_batch, publish_one
from shorts_assets.notify import Notifier, load_config, wait_for_background
from shorts_assets_tests.loop.test_publishing import DAY, Quiet, rendered_batch, youtube_at

SECRET = "a-shared-secret-of-some-length"


def notifier_for(store: Store, receiver: WebhookReceiver) -> Notifier:
    return Notifier(store, load_config({"SHORTS_WEBHOOK_URLS": receiver.url, "SHORTS_WEBHOOK_SECRET": SECRET}))


def kinds(receiver: WebhookReceiver) -> list[tuple[str, str | None]]:
    assert wait_for_background()
    return sorted((e["kind"], e["video_id"]) for e in receiver.events.values())


def test_each_post_is_reported_once_with_its_url_and_a_rerun_reports_nothing_new(tmp_path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'shorts.db'}")
    ids = rendered_batch(store, tmp_path)
    with FakeServer(FakeYouTube()) as server, WebhookReceiver(SECRET) as receiver:
        notifier = notifier_for(store, receiver)
        publish_batch(Quiet(), store, youtube_at(server.url, store), store.batch("demo", DAY), notifier=notifier)
        assert kinds(receiver) == [("published", i) for i in ids]
        event = next(iter(receiver.events.values()))
        assert event["channel"] == "demo" and event["data"]["platform"] == "youtube"
        assert event["data"]["url"].startswith("https://") and event["data"]["title"].startswith("Fact")

        publish_batch(Quiet(), store, youtube_at(server.url, store), store.batch("demo", DAY), notifier=notifier)
        assert len(kinds(receiver)) == 3 and sum(receiver.accepted.values()) == 3


def test_a_revoked_login_is_reported_as_needing_a_person(tmp_path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'shorts.db'}")
    [video_id] = rendered_batch(store, tmp_path, count=1)
    app = FakeYouTube()
    app.revoke()
    with FakeServer(app) as server, WebhookReceiver(SECRET) as receiver:
        with pytest.raises(AuthRevoked):
            publish_one(
                store,
                youtube_at(server.url, store),
                store.batch("demo", DAY)[0],
                notifier=notifier_for(store, receiver),
            )
        assert kinds(receiver) == [("needs_manual", video_id)]
        assert "revoked" in next(iter(receiver.events.values()))["data"]["error"].lower()


def test_a_spent_quota_reports_the_failed_post_and_one_quota_exhausted_a_day(tmp_path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'shorts.db'}")
    ids = rendered_batch(store, tmp_path)
    with FakeServer(FakeYouTube()) as server, WebhookReceiver(SECRET) as receiver:
        notifier = notifier_for(store, receiver)
        for _ in range(2):  # a second run the same day hits the same quota
            publisher = youtube_at(server.url, store)
            publisher.daily_upload_limit = 1  # the day's upload bucket holds one upload
            publish_batch(Quiet(), store, publisher, store.batch("demo", DAY), notifier=notifier)
        reported = kinds(receiver)
        assert reported.count(("quota_exhausted", None)) == 1
        assert ("published", ids[0]) in reported and ("failed", ids[1]) in reported
        quota = next(e for e in receiver.events.values() if e["kind"] == "quota_exhausted")
        assert quota["data"]["platform"] == "youtube" and "quota" in quota["data"]["error"].lower()
