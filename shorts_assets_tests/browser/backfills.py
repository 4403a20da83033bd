"""A backfill read back through the webserver's GraphQL API: what it targets, and its outcome once the
daemon has finished it."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from shorts_assets_tests.browser.dagster_dev import DagsterDev

BACKFILL_QUERY = """
query Backfill($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill {
      id
      status
      isAssetBackfill
      error { message }
      assetBackfillData {
        rootTargetedPartitions { partitionKeys ranges { start end } }
        assetBackfillStatuses {
          __typename
          ... on AssetPartitionsStatusCounts {
            assetKey { path }
            numPartitionsTargeted
            numPartitionsInProgress
            numPartitionsMaterialized
            numPartitionsFailed
          }
        }
      }
      runs(limit: 100) { runId status tags { key value } }
    }
    ... on PythonError { message }
    ... on BackfillNotFoundError { message }
  }
}
"""

# BulkActionStatus values after which the daemon does nothing more with a backfill.
FINISHED = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}


@dataclass(frozen=True)
class AssetProgress:
    """One asset's partitions in a backfill, by outcome."""

    asset: str
    targeted: int
    in_progress: int
    materialized: int
    failed: int


@dataclass(frozen=True)
class Backfill:
    """A backfill as the GraphQL API reports it."""

    id: str
    status: str
    is_asset_backfill: bool
    error: str | None
    root_partitions: list[str]
    assets: dict[str, AssetProgress]
    runs: list[dict[str, Any]]

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def run_summary(self) -> list[tuple[str, str, str]]:
        """(run id, status, partition) of each run it launched."""
        return [
            (r["runId"][:8], r["status"], next((t["value"] for t in r["tags"] if t["key"] == "dagster/partition"), ""))
            for r in self.runs
        ]


def read_backfill(dev: DagsterDev, backfill_id: str) -> Backfill:
    found = dev.graphql(BACKFILL_QUERY, id=backfill_id)["partitionBackfillOrError"]
    assert found["__typename"] == "PartitionBackfill", f"backfill {backfill_id}: {found}"
    data = found.get("assetBackfillData") or {}
    root = data.get("rootTargetedPartitions") or {}
    assets = {}
    for status in data.get("assetBackfillStatuses") or []:
        if status["__typename"] != "AssetPartitionsStatusCounts":
            continue
        name = "/".join(status["assetKey"]["path"])
        assets[name] = AssetProgress(
            asset=name,
            targeted=status["numPartitionsTargeted"],
            in_progress=status["numPartitionsInProgress"],
            materialized=status["numPartitionsMaterialized"],
            failed=status["numPartitionsFailed"],
        )
    return Backfill(
        id=found["id"],
        status=found["status"],
        is_asset_backfill=found["isAssetBackfill"],
        error=(found.get("error") or {}).get("message"),
        root_partitions=sorted(root.get("partitionKeys") or []),
        assets=assets,
        runs=found.get("runs") or [],
    )


def wait_for_backfill(dev: DagsterDev, backfill_id: str, timeout_s: float = 900, poll_s: float = 5) -> Backfill:
    """The backfill once the daemon has finished with it; raises (with where it stood) if it never does."""
    deadline = time.monotonic() + timeout_s
    backfill = read_backfill(dev, backfill_id)
    while not backfill.finished:
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"backfill {backfill_id} still {backfill.status} after {timeout_s:.0f} s; "
                f"runs {backfill.run_summary()}:\n{dev.log_tail()}"
            )
        time.sleep(poll_s)
        backfill = read_backfill(dev, backfill_id)
    return backfill
