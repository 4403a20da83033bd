"""Sets every concurrency pool of the loop on the instance once, before runs start:
`python -m shorts_assets.defs.pools [pool=limit ...]` with the instance's DAGSTER_HOME.

A pool not named gets the instance's `concurrency.pools.default_limit`. Run it once when an instance
is new (and after adding machines, with `render=<render workers>`): on PostgreSQL, two runs that meet
a pool for the first time at the same moment both try to create its limit, and the loser's run fails
on the unique key; a pool that already has its limit is only read.
"""

from __future__ import annotations

import sys

import dagster as dg

from shorts_assets.defs.location import loop_assets


def loop_pools() -> list[str]:
    """The pools the loop's steps claim, one per resource whose use is limited."""
    return sorted({asset.op.pool for asset in loop_assets if asset.op.pool})


def parse_limits(args: list[str]) -> dict[str, int]:
    known = loop_pools()
    limits: dict[str, int] = {}
    for arg in args:
        name, sep, value = arg.partition("=")
        if not sep or name not in known or not value.isdigit():
            raise SystemExit(f"{arg!r}: expected <pool>=<limit> with a pool of {', '.join(known)}")
        limits[name] = int(value)
    return limits


def set_pools(instance: dg.DagsterInstance, limits: dict[str, int]) -> dict[str, int]:
    """Give every loop pool its limit (the named ones) or the instance's default; returns the limits."""
    storage = instance.event_log_storage
    for pool in loop_pools():
        if pool in limits:
            storage.set_concurrency_slots(pool, limits[pool])
        else:
            storage.initialize_concurrency_limit_to_default(pool)
    return {pool: storage.get_concurrency_info(pool).slot_count for pool in loop_pools()}


def main(argv: list[str]) -> None:
    limits = parse_limits(argv)
    with dg.DagsterInstance.get() as instance:
        for pool, slots in set_pools(instance, limits).items():
            print(f"{pool}: {slots}")


if __name__ == "__main__":
    main(sys.argv[1:])
