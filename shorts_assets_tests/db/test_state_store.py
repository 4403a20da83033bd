"""The adapters' durable state in the database, on SQLite and PostgreSQL: it survives a new store, and
the credentials in it are sealed with SHORTS_SECRET_KEY, so a dump of the table holds none of them."""

from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from shorts_assets.core.errors import ConfigError
from shorts_assets.db.schema import provider_state
from shorts_assets.db.secrets import SecretKeys
from shorts_assets.db.state_store import CREDENTIAL_NAMESPACES, DatabaseStateStore
from shorts_assets.db.store import Store
from shorts_assets.fakes.instagram_server import FakeInstagram
from shorts_assets.fakes.server import FakeServer
from shorts_assets.fakes.tiktok_server import FakeTikTok
from shorts_assets.fakes.youtube_server import FakeYouTube
from shorts_assets.providers.platforms.instagram import InstagramAdapter
from shorts_assets.providers.platforms.tiktok import TikTokAdapter
from shorts_assets.providers.platforms.youtube import YouTubeAdapter
from shorts_assets_tests.helpers import Sleeps


def new_keys() -> SecretKeys:
    return SecretKeys([Fernet.generate_key().decode()])


def rows(database_url: str) -> dict[tuple[str, str], str]:
    """provider_state as a dump of the database shows it."""
    columns = (provider_state.c.namespace, provider_state.c.key, provider_state.c.value)
    with Store(database_url).engine.connect() as conn:
        return {(ns, key): value for ns, key, value in conn.execute(sa.select(*columns)).all()}


def test_values_survive_a_new_connection_and_can_be_replaced_or_deleted(database_url):
    keys = new_keys()
    first = DatabaseStateStore(Store(database_url), keys)
    first.put("youtube.session", "demo-20261128-01", "https://upload/session?upload_id=1")
    first.put("youtube.session", "demo-20261128-01", "https://upload/session?upload_id=2")
    again = DatabaseStateStore(Store(database_url), keys)
    assert again.get("youtube.session", "demo-20261128-01") == "https://upload/session?upload_id=2"
    assert again.get("youtube.session", "other") is None
    again.delete("youtube.session", "demo-20261128-01")
    assert first.get("youtube.session", "demo-20261128-01") is None


def test_quota_adds_up_per_api_and_day(database_url):
    state = DatabaseStateStore(Store(database_url))
    day = date(2026, 11, 28)
    assert state.add_quota("youtube", day, 1600) == 1600
    assert state.add_quota("youtube", day, 1) == 1601
    assert state.quota_used("youtube", day) == 1601
    assert state.quota_used("youtube", date(2026, 11, 29)) == 0
    assert state.quota_used("tiktok", day) == 0


def test_only_strings_are_stored(database_url):
    with pytest.raises(TypeError):
        DatabaseStateStore(Store(database_url)).put("ns", "k", 5)


def test_the_credential_namespaces_are_the_adapters_token_and_session_namespaces():
    assert {"oauth.access", "tiktok.refresh_token", "youtube.session"} == CREDENTIAL_NAMESPACES


def test_a_credential_is_stored_sealed_and_anything_else_as_it_is(database_url):
    state = DatabaseStateStore(Store(database_url), new_keys())
    state.put("oauth.access", "youtube:demo", '{"access_token": "ya29.live", "expires_at": 1}')
    state.put("youtube.video", "demo-20261128-01", '{"video_id": "abc"}')
    stored = rows(database_url)
    assert stored[("oauth.access", "youtube:demo")].startswith("fernet:")
    assert "ya29.live" not in stored[("oauth.access", "youtube:demo")]
    assert stored[("youtube.video", "demo-20261128-01")] == '{"video_id": "abc"}'
    assert state.get("oauth.access", "youtube:demo") == '{"access_token": "ya29.live", "expires_at": 1}'


def test_without_a_key_a_credential_stays_in_memory_and_never_reaches_the_database(database_url):
    state = DatabaseStateStore(Store(database_url))
    state.put("tiktok.refresh_token", "demo", "rft.rotated-7")
    assert state.get("tiktok.refresh_token", "demo") == "rft.rotated-7"
    assert rows(database_url) == {}
    assert DatabaseStateStore(Store(database_url)).get("tiktok.refresh_token", "demo") is None
    state.delete("tiktok.refresh_token", "demo")
    assert state.get("tiktok.refresh_token", "demo") is None


def test_sealed_state_read_without_the_key_or_with_another_names_the_variable(database_url):
    DatabaseStateStore(Store(database_url), new_keys()).put("oauth.access", "instagram:demo", "IGQVJ-live")
    with pytest.raises(ConfigError, match="oauth.access 'instagram:demo' is sealed but SHORTS_SECRET_KEY is not set"):
        DatabaseStateStore(Store(database_url)).get("oauth.access", "instagram:demo")
    with pytest.raises(ConfigError, match="SHORTS_SECRET_KEY does not hold") as caught:
        DatabaseStateStore(Store(database_url), new_keys()).get("oauth.access", "instagram:demo")
    assert "IGQVJ-live" not in str(caught.value)


def test_rotation_reseals_every_credential_with_the_first_key_and_then_the_old_key_can_go(database_url):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    DatabaseStateStore(Store(database_url), SecretKeys([old])).put("oauth.access", "youtube:demo", "ya29.live")
    DatabaseStateStore(Store(database_url), SecretKeys([old])).put("tiktok.refresh_token", "demo", "rft.live")
    before = rows(database_url)

    both = DatabaseStateStore(Store(database_url), SecretKeys([new, old]))
    assert both.get("oauth.access", "youtube:demo") == "ya29.live"  # the old key still opens
    assert both.rotate() == 2
    after = rows(database_url)
    assert all(after[k] != before[k] and after[k].startswith("fernet:") for k in before)

    only_new = DatabaseStateStore(Store(database_url), SecretKeys([new]))
    assert only_new.get("oauth.access", "youtube:demo") == "ya29.live"
    assert only_new.get("tiktok.refresh_token", "demo") == "rft.live"
    with pytest.raises(ConfigError, match="SHORTS_SECRET_KEY does not hold"):
        DatabaseStateStore(Store(database_url), SecretKeys([old])).get("tiktok.refresh_token", "demo")


def test_rotation_seals_a_credential_written_in_plaintext_before_sealing_existed(database_url):
    store = Store(database_url)
    with store.engine.begin() as conn:
        conn.execute(
            provider_state.insert().values(
                namespace="oauth.access", key="instagram:demo", value="IGQVJ-old", updated_at=datetime.now(timezone.utc)
            )
        )
    assert DatabaseStateStore(store).get("oauth.access", "instagram:demo") == "IGQVJ-old"
    keys = new_keys()
    assert DatabaseStateStore(store, keys).rotate() == 1
    assert "IGQVJ-old" not in rows(database_url)[("oauth.access", "instagram:demo")]
    assert DatabaseStateStore(store, keys).get("oauth.access", "instagram:demo") == "IGQVJ-old"


def test_a_rotation_that_meets_a_value_no_key_opens_changes_nothing(database_url):
    DatabaseStateStore(Store(database_url), new_keys()).put("oauth.access", "youtube:demo", "ya29.a")
    keys = new_keys()
    DatabaseStateStore(Store(database_url), keys).put("oauth.access", "tiktok:demo", "act.b")
    before = rows(database_url)
    with pytest.raises(ConfigError, match="oauth.access 'youtube:demo'.*SHORTS_SECRET_KEY does not hold"):
        DatabaseStateStore(Store(database_url), keys).rotate()
    assert rows(database_url) == before


def test_rotation_without_a_key_is_refused_by_name(database_url):
    with pytest.raises(ConfigError, match="SHORTS_SECRET_KEY is not set"):
        DatabaseStateStore(Store(database_url)).rotate()


def assert_no_live_credential(database_url, secrets):
    dump = "\n".join(rows(database_url).values())
    leaked = [s for s in secrets if s in dump]
    assert not leaked, f"plaintext credentials in provider_state: {len(leaked)}"


def test_youtube_access_tokens_are_sealed_at_rest(database_url):
    app = FakeYouTube()
    refresh_token = next(iter(app.refresh_tokens))
    with FakeServer(app) as server:
        adapter = YouTubeAdapter(
            client_id=app.client_id,
            client_secret=app.client_secret,
            refresh_token=refresh_token,
            state=DatabaseStateStore(Store(database_url), new_keys()),
            account="demo",
            token_url=f"{server.url}/token",
            sleep=Sleeps(),
        )
        first = adapter.auth.token()
        app.expire_access_tokens()
        second = adapter.auth.refresh(rejected=first)
        adapter.close()
    assert first != second and second in app.access_tokens
    assert ("oauth.access", "youtube:demo") in rows(database_url)
    assert_no_live_credential(database_url, [first, second, refresh_token, app.client_secret])


def test_instagrams_long_lived_token_is_sealed_at_rest_before_and_after_its_refresh(database_url):
    app = FakeInstagram()
    initial = next(iter(app.valid_tokens))
    clock = {"now": datetime(2026, 11, 28, 9, tzinfo=timezone.utc)}
    with FakeServer(app) as server:
        adapter = InstagramAdapter(
            user_id=app.user_id,
            access_token=initial,
            state=DatabaseStateStore(Store(database_url), new_keys()),
            account="demo",
            graph_base_url=f"{server.url}/v21.0",
            token_refresh_url=f"{server.url}/refresh_access_token",
            clock=lambda: clock["now"],
            sleep=Sleeps(),
        )
        assert_no_live_credential(database_url, [initial])
        clock["now"] += timedelta(days=8)
        refreshed = adapter.auth.token()
        adapter.close()
    assert refreshed != initial and refreshed in app.valid_tokens and app.calls["refresh_access_token"] == 1
    assert_no_live_credential(database_url, [initial, refreshed])


def test_tiktoks_rotated_refresh_token_is_sealed_at_rest_and_used_by_the_next_process(database_url):
    app = FakeTikTok()
    initial = next(iter(app.refresh_tokens))
    keys = new_keys()

    def adapter(server):
        return TikTokAdapter(
            client_key=app.client_key,
            client_secret=app.client_secret,
            refresh_token=initial,
            state=DatabaseStateStore(Store(database_url), keys),
            account="demo",
            api_base_url=server.url,
            sleep=Sleeps(),
        )

    with FakeServer(app) as server:
        first = adapter(server)
        access = first.auth.token()
        first.close()
        (rotated,) = app.refresh_tokens
        assert rotated != initial
        assert_no_live_credential(database_url, [access, rotated, app.client_secret])
        app.access_tokens.clear()
        second = adapter(server)
        assert second.auth.refresh(rejected=access) in app.access_tokens  # with the rotated token, from the database
        second.close()


def test_put_new_lets_exactly_one_claimant_in(database_url):
    from shorts_assets.db.state_store import DatabaseStateStore
    from shorts_assets.db.store import Store

    first, second = DatabaseStateStore(Store(database_url)), DatabaseStateStore(Store(database_url))
    assert first.put_new("video_job_claims", "runway:v1:1", "mine") is True
    assert second.put_new("video_job_claims", "runway:v1:1", "theirs") is False
    assert second.get("video_job_claims", "runway:v1:1") == "mine"
    first.delete("video_job_claims", "runway:v1:1")
    assert second.put_new("video_job_claims", "runway:v1:1", "theirs") is True
