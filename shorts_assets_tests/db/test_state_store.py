"""The adapters' durable state in the database, on SQLite and PostgreSQL: it survives a new store."""

from datetime import date

import pytest

from shorts_assets.db.state_store import DatabaseStateStore
from shorts_assets.db.store import Store


def test_values_survive_a_new_connection_and_can_be_replaced_or_deleted(database_url):
    first = DatabaseStateStore(Store(database_url))
    first.put("youtube.session", "demo-20261128-01", "https://upload/session?upload_id=1")
    first.put("youtube.session", "demo-20261128-01", "https://upload/session?upload_id=2")
    again = DatabaseStateStore(Store(database_url))
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
