"""Releasing posts that waited for a person: only needs_manual posts of the partition and platform
named (and of the videos named, when some are), never a published one; bad input refused by name."""

from datetime import date, datetime, timezone

import pytest
from cryptography.fernet import Fernet

from shorts_assets.core.errors import ConfigError
from shorts_assets.db.release import main, release
from shorts_assets.db.store import Store

DAY = date(2026, 11, 21)
SLOT = datetime(2026, 11, 21, 9, tzinfo=timezone.utc)


def waiting(store: Store, video_id: str, platform: str = "tiktok", day: date = DAY) -> None:
    claim = store.begin_publish(
        video_id=video_id,
        channel="demo",
        batch_date=day,
        platform=platform,
        account="demo",
        scheduled_at=SLOT,
        owner="run-1",
    )
    assert claim.granted
    store.fail_publish(video_id, platform, "demo", "NeedsManual: only SELF_ONLY", status="needs_manual", owner="run-1")


def test_only_the_named_partitions_waiting_posts_are_released(database_url):
    store = Store(database_url)
    for video_id in ("a", "b", "c"):
        waiting(store, video_id)
    waiting(store, "a", platform="youtube")
    waiting(store, "z", day=date(2026, 11, 22))
    env = {"DATABASE_URL": database_url}
    assert release("demo", "2026-11-21", "tiktok", ["b"], env=env) == ["b"]
    assert release("demo", "2026-11-21", "tiktok", env=env) == ["a", "c"]
    assert release("demo", "2026-11-21", "tiktok", env=env) == []
    statuses = {(p.video_id, p.platform): p.status for p in store.publications("demo", DAY)}
    assert statuses == {
        ("a", "tiktok"): "failed",
        ("b", "tiktok"): "failed",
        ("c", "tiktok"): "failed",
        ("a", "youtube"): "needs_manual",
    }
    assert all("only SELF_ONLY" in p.error for p in store.publications("demo", DAY))  # the reason is kept
    (other,) = store.publications("demo", date(2026, 11, 22))
    assert other.status == "needs_manual"
    store.dispose()


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["nobody", "2026-11-21", "tiktok"], "unknown channel 'nobody'"),
        (["demo", "yesterday", "tiktok"], "date 'yesterday'"),
        (["demo", "2026-11-21", "myspace"], "platform 'myspace'"),
    ],
)
def test_bad_input_is_refused_by_name(args, named, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'shorts.db'}")
    monkeypatch.setenv("SHORTS_SECRET_KEY", Fernet.generate_key().decode())
    assert main(args) == 2
    assert named in capsys.readouterr().err
    assert not (tmp_path / "shorts.db").exists()  # refused before the database is opened


def test_release_refuses_a_bad_variable_by_name(tmp_path):
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        release("demo", "2026-11-21", "tiktok", env={"DATABASE_URL": "shorts.db"})
