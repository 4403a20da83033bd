"""The store's reads across strategy versions and channels, on SQLite and PostgreSQL."""

from datetime import date

from shorts_assets.db.store import Store


def save(store, channel, day, tag):
    return store.save_strategy(
        channel=channel,
        strategy_date=day,
        videos_per_day=3,
        allocation={"topic": {tag: 1.0}},
        state={},
        summary={"tag": tag},
    )


def test_latest_strategies_and_history(database_url):
    store = Store(database_url)
    save(store, "a", date(2026, 11, 1), "a1")
    save(store, "a", date(2026, 11, 2), "a2")
    save(store, "a", date(2026, 11, 2), "a2b")
    save(store, "b", date(2026, 11, 1), "b1")
    save(store, "b", date(2026, 11, 5), "b5")
    latest = store.latest_strategies(before=date(2026, 11, 5))
    assert [(r.channel, r.summary["tag"]) for r in latest] == [("a", "a2b"), ("b", "b1")]
    assert [r.channel for r in store.latest_strategies(before=date(2026, 11, 6), exclude="a")] == ["b"]
    history = store.strategy_history("a", through=date(2026, 11, 2), days=1)
    assert history == [(date(2026, 11, 2), {"topic": {"a2b": 1.0}})]
    assert len(store.strategy_history("a", through=date(2026, 11, 9), days=30)) == 2
    store.dispose()
