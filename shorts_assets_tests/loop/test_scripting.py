"""Writing a batch with arms a person forced: every video written takes them in place of the strategy's
draw, keeps the strategy's draw on the other dimensions, and records which dimensions were forced; a
dimension or value outside the channel's arm space is refused by name before anything is written."""

import logging
from datetime import date

import pytest

from shorts_assets.core.channels import ChannelConfig
from shorts_assets.core.errors import ConfigError
from shorts_assets.db.state_store import DatabaseStateStore
from shorts_assets.db.store import Store
from shorts_assets.loop.scripting import write_batch
from shorts_assets.providers.estimate import estimate_video
from shorts_assets.providers.net.costs import Budget, PriceTable
from shorts_assets.providers.writers.template import TemplateWriter

DAY = date(2026, 11, 27)
CHANNEL = ChannelConfig(name="demo", videos_per_day=3, audience_seed=11)


class Opened:
    """Opens the template writer and counts how often it was asked to."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> TemplateWriter:
        self.count += 1
        return TemplateWriter()


def write(store: Store, forced=None, *, channel: ChannelConfig = CHANNEL, opened: Opened | None = None, **kwargs):
    budget = Budget(DatabaseStateStore(store), channel.name, None, PriceTable())
    return write_batch(
        logging.getLogger("test"),
        store,
        channel,
        DAY,
        budget=budget,
        estimate=estimate_video(PriceTable(), script_provider="template", video_provider="stub"),
        open_writer=opened or Opened(),
        writer_name="template",
        candidates=1,
        writes_any_topic=kwargs.pop("writes_any_topic", False),
        **({} if forced is None else {"forced": forced}),
    )


def test_forced_arms_replace_the_draw_and_leave_the_rest_to_the_strategy(tmp_path, database_url):
    drawn = Store(f"sqlite:///{tmp_path / 'drawn.db'}")
    write(drawn)
    forced = Store(database_url)
    batch = write(forced, {"topic": "ocean", "voice": "en-gb"})

    assert batch.forced == {"topic": "ocean", "voice": "en-gb"}
    learner_rows, forced_rows = drawn.batch("demo", DAY), forced.batch("demo", DAY)
    assert len(forced_rows) == 3
    for learner, person in zip(learner_rows, forced_rows):
        assert (person.arms["topic"], person.arms["voice"]) == ("ocean", "en-gb")
        assert person.forced_arms == ("topic", "voice")
        assert learner.forced_arms == ()
        untouched = {d: v for d, v in learner.arms.items() if d not in ("topic", "voice")}
        assert {d: person.arms[d] for d in untouched} == untouched
        assert dict(person.script.arms) == person.arms, "the script is written for the forced arms"


def test_a_video_without_forced_arms_records_none(database_url):
    store = Store(database_url)
    batch = write(store, {})
    assert batch.forced == {}
    assert [row.forced_arms for row in store.batch("demo", DAY)] == [(), (), ()]


@pytest.mark.parametrize(
    ("forced", "named"),
    [
        ({"mood": "happy"}, "'mood'"),
        ({"voice": "fr-fr"}, "'fr-fr'"),
        ({"topic": "cooking"}, "'cooking'"),
        ({"posting_hour": "9"}, "'9'"),
    ],
)
def test_an_arm_the_channel_lacks_is_refused_by_name_before_anything_is_written(database_url, forced, named):
    store = Store(database_url)
    opened = Opened()
    with pytest.raises(ConfigError, match=named):
        write(store, forced, opened=opened)
    assert opened.count == 0
    assert store.batch("demo", DAY) == []


def test_a_topic_outside_the_default_bank_is_forceable_when_the_channel_has_it(database_url):
    store = Store(database_url)
    channel = ChannelConfig(name="demo", videos_per_day=1, topics=("space", "animals"), audience_seed=11)
    with pytest.raises(ConfigError, match="'ocean'"):
        write(store, {"topic": "ocean"}, channel=channel)
    write(store, {"topic": "animals"}, channel=channel)
    assert [row.arms["topic"] for row in store.batch("demo", DAY)] == ["animals"]


def test_videos_written_earlier_keep_their_arms_and_only_new_ones_are_forced(database_url, caplog):
    store = Store(database_url)
    small = ChannelConfig(name="demo", videos_per_day=1, audience_seed=11)
    write(store, channel=small)
    (earlier,) = store.batch("demo", DAY)
    other_hook = next(h for h in ("question", "story") if h != earlier.arms["hook"])

    with caplog.at_level(logging.WARNING):
        batch = write(store, {"hook": other_hook})

    rows = store.batch("demo", DAY)
    assert rows[0].arms == earlier.arms and rows[0].forced_arms == ()
    assert [row.arms["hook"] for row in rows[1:]] == [other_hook, other_hook]
    assert [row.forced_arms for row in rows[1:]] == [("hook",), ("hook",)]
    assert batch.existing == {earlier.video_id}
    assert "keep their arms" in caplog.text


def strategy_with_platform_hours(store: Store) -> None:
    """A strategy that posts at 09:00 everywhere except TikTok, which gets 21:00."""
    from shorts_assets.core.arms import ARM_SPACE

    allocation = {d: {v: 1.0 if n == 0 else 0.0 for n, v in enumerate(values)} for d, values in ARM_SPACE.items()}
    allocation["posting_hour@tiktok"] = {h: 1.0 if h == "21" else 0.0 for h in ARM_SPACE["posting_hour"]}
    store.save_strategy(
        channel="demo", strategy_date=DAY.replace(day=26), videos_per_day=3, allocation=allocation, state={}, summary={}
    )


def test_each_platform_is_posted_at_the_hour_the_strategy_chose_for_it(database_url):
    from shorts_assets.loop.publishing import scheduled_slot

    store = Store(database_url)
    strategy_with_platform_hours(store)
    write(store)
    for row in store.batch("demo", DAY):
        assert row.arms["posting_hour"] == "09" and row.arms["posting_hour@tiktok"] == "21"
        assert "posting_hour@tiktok" not in row.script.arms, "the writer is given the content's arms only"
        assert (scheduled_slot(row, "tiktok").hour, scheduled_slot(row, "youtube").hour) == (21, 9)
        assert scheduled_slot(row).hour == 9


def test_a_forced_posting_hour_holds_on_every_platform(database_url):
    from shorts_assets.loop.publishing import scheduled_slot

    store = Store(database_url)
    strategy_with_platform_hours(store)
    write(store, {"posting_hour": "13"})
    for row in store.batch("demo", DAY):
        assert not any("@" in key for key in row.arms)
        assert {scheduled_slot(row, p).hour for p in ("youtube", "tiktok", "instagram")} == {13}
