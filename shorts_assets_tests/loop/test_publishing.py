"""publish_one against the fake YouTube server: the publish states a person or a later run acts on."""

from datetime import date

import pytest

from shorts_assets.core.errors import AuthRevoked, BudgetExhausted
from shorts_assets.db.state_store import DatabaseStateStore
from shorts_assets.db.store import Store
from shorts_assets.fakes.server import FakeServer
from shorts_assets.fakes.youtube_server import FakeYouTube
from shorts_assets.loop.publishing import publish_one
from shorts_assets.providers.platforms.youtube import YouTubeAdapter
from shorts_assets_tests.helpers import Sleeps, media, script_json

DAY = date(2026, 11, 21)
ARMS = {
    "topic": "ocean",
    "hook": "question",
    "length": "short",
    "voice": "en-us",
    "caption_style": "boxed",
    "posting_hour": "09",
}


@pytest.fixture
def store(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'shorts.db'}")
    video, thumb = media(tmp_path)
    store.add_script(
        video_id="demo-20261121-01",
        channel="demo",
        batch_date=DAY,
        position=1,
        strategy_version="demo:prior",
        arms=ARMS,
        writer="template",
        script=script_json(
            "demo-20261121-01", title="Octopus hearts", description="Three hearts.", tags=["ocean"], arms=ARMS
        ),
    )
    store.complete_stage(
        "demo-20261121-01",
        "render",
        {
            "video_path": str(video),
            "thumbnail_path": str(thumb),
            "duration_s": 30.0,
            "width": 1080,
            "height": 1920,
            "files": [str(video), str(thumb)],
        },
    )
    return store


def adapter(server, app, store, **overrides):
    return YouTubeAdapter(
        client_id=app.client_id,
        client_secret=app.client_secret,
        refresh_token="1//refresh-token-value",
        state=DatabaseStateStore(store),
        account="demo",
        api_base_url=f"{server.url}/youtube/v3",
        upload_base_url=f"{server.url}/upload/youtube/v3",
        analytics_base_url=f"{server.url}/v2",
        token_url=f"{server.url}/token",
        sleep=Sleeps(),
        **overrides,
    )


def test_a_revoked_login_waits_for_a_person_and_is_not_retried(store):
    app = FakeYouTube()
    app.revoke()
    with FakeServer(app) as server:
        (row,) = store.batch("demo", DAY)
        with pytest.raises(AuthRevoked):
            publish_one(store, adapter(server, app, store), row)
        (record,) = store.publications("demo", DAY)
        assert record.status == "needs_manual" and "revoked" in record.error.lower()
        calls = len(app.requests)
        assert publish_one(store, adapter(server, app, store), row).startswith("needs manual attention")
        assert len(app.requests) == calls
    assert app.created_videos == 0


def test_an_exhausted_quota_fails_the_post_for_a_later_run(store):
    app = FakeYouTube()
    with FakeServer(app) as server:
        (row,) = store.batch("demo", DAY)
        with pytest.raises(BudgetExhausted):
            publish_one(store, adapter(server, app, store, daily_quota_units=100), row)
    (record,) = store.publications("demo", DAY)
    assert record.status == "failed" and app.created_videos == 0


def test_a_post_is_made_once_and_then_recognised(store):
    app = FakeYouTube()
    with FakeServer(app) as server:
        (row,) = store.batch("demo", DAY)
        assert publish_one(store, adapter(server, app, store), row) == "published"
        assert publish_one(store, adapter(server, app, store), row) == "already published"
    (record,) = store.publications("demo", DAY)
    assert record.status == "published" and app.created_videos == 1
