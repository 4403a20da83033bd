"""The jobs people run: the whole loop, its produce and learn halves, and the metrics refresh; and the
one partition a run of them must name in its tags."""

from collections.abc import Mapping
from datetime import date

import dagster as dg

from shorts_assets.core.arms import DIMENSIONS
from shorts_assets.core.errors import ConfigError
from shorts_assets.defs.constants import CREATE, LEARN, PUBLISH
from shorts_assets.defs.partitions import channel_partitions, date_partitions
from shorts_assets.settings import current_location

PARTITION_TAG = "dagster/partition"
DIMENSION_TAG = "dagster/partition/"

# Every job logs to the console at LOG_LEVEL (the logger only applies when run config names it).
RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": current_location().log_level}}}}
# The jobs that write scripts show the arms a person may force in the Launchpad, each left to the
# strategy by default (see ScriptsConfig in create/scripts.py).
FORCEABLE_ARMS = DIMENSIONS
LEARNER_CHOOSES = "strategy"
PRODUCE_CONFIG = {**RUN_CONFIG, "ops": {"scripts": {"config": dict.fromkeys(FORCEABLE_ARMS, LEARNER_CHOOSES)}}}

shorts_loop_job = dg.define_asset_job(
    "shorts_loop_job",
    selection=dg.AssetSelection.groups(CREATE, PUBLISH, LEARN),
    config=PRODUCE_CONFIG,
    description=(
        "One full iteration of the loop for a channel's day: script to strategy. "
        "Force arms for the run under ops.scripts.config."
    ),
)

produce_job = dg.define_asset_job(
    "produce_job",
    selection=dg.AssetSelection.groups(CREATE, PUBLISH),
    config=PRODUCE_CONFIG,
    description="Write, generate, voice, render and publish a channel's batch for a day.",
)

learn_job = dg.define_asset_job(
    "learn_job",
    selection=dg.AssetSelection.groups(LEARN),
    config=RUN_CONFIG,
    description="Read metrics and comments back and update the strategy.",
)

metrics_refresh_job = dg.define_asset_job(
    "metrics_refresh_job",
    selection=dg.AssetSelection.assets("metrics", "comments"),
    config=RUN_CONFIG,
    description="Take a new metrics and comments snapshot of a published cohort.",
)


def partition_from_tags(tags: Mapping[str, str]) -> tuple[str, date]:
    """(channel, date) of the one partition a run's tags name; ConfigError names a missing, unknown or
    contradicting tag.

    A run tagged only per dimension (`dagster/partition/channel`, `dagster/partition/date`) executes, but
    Dagster records its materialisations under no partition, so it is refused as well.
    """
    key = tags.get(PARTITION_TAG)
    dimensions = {k[len(DIMENSION_TAG) :]: v for k, v in tags.items() if k.startswith(DIMENSION_TAG)}
    launch = "launch it with `dg launch --job <job> --partition <channel>|<date>`, or from the UI"
    if key is None:
        if dimensions:
            named = ", ".join(f"{DIMENSION_TAG}{d}={v}" for d, v in sorted(dimensions.items()))
            example = "|".join(dimensions.get(d, f"<{d}>") for d in ("channel", "date"))
            raise ConfigError(
                f"the run names its partition only per dimension ({named}), so nothing it makes would be "
                f'recorded under the partition: add the tag "{PARTITION_TAG}": "{example}", or {launch}'
            )
        raise ConfigError(f"the run names no partition (no {PARTITION_TAG} tag); {launch}")
    channel, sep, day = key.partition("|")
    if not sep or "|" in day:
        raise ConfigError(f"{PARTITION_TAG} {key!r} is not a partition key of the form <channel>|<date>")
    known_channels = channel_partitions.get_partition_keys()
    if channel not in known_channels:
        raise ConfigError(
            f"{PARTITION_TAG} {key!r}: unknown channel {channel!r}; known: {', '.join(known_channels)} "
            "(SHORTS_CHANNELS or SHORTS_CHANNELS_FILE)"
        )
    if not date_partitions.has_partition_key(day):
        raise ConfigError(
            f"{PARTITION_TAG} {key!r}: no date partition {day!r}; dates run from SHORTS_START_DATE "
            f"({date_partitions.start.date().isoformat()}) to today, as YYYY-MM-DD"
        )
    for dimension, value in sorted(dimensions.items()):
        expected = {"channel": channel, "date": day}.get(dimension)
        if value != expected:
            raise ConfigError(f"{DIMENSION_TAG}{dimension}={value!r} contradicts {PARTITION_TAG} {key!r}")
    return channel, date.fromisoformat(day)
