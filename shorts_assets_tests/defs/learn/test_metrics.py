"""The metrics asset shows the cohort's snapshots as a table with a schema: a row per (video, platform),
with its age, counts and reward as numbers."""

import pytest

from shorts_assets.db.store import Store
from shorts_assets_tests.defs.learn.conftest import metadata_of

pytestmark = pytest.mark.slow


def test_the_snapshots_are_a_table_with_a_row_per_video_and_platform(published_cohort):
    table = metadata_of(published_cohort["result"], "metrics")["snapshot"]
    assert [(c.name, c.type) for c in table.schema.columns] == [
        ("video", "string"),
        ("platform", "string"),
        ("age_h", "float"),
        ("views", "int"),
        ("likes", "int"),
        ("avg_view_pct", "float"),
        ("reward", "float"),
    ]
    store = Store(published_cohort["url"])
    stored = {
        (s["video_id"], s["platform"]): s for s in store.latest_snapshots([r.data["video"] for r in table.records])
    }
    assert {(r.data["video"], r.data["platform"]) for r in table.records} == set(stored)
    assert {p for _, p in stored} == {"youtube", "tiktok", "instagram"}
    for record in table.records:
        snapshot = stored[(record.data["video"], record.data["platform"])]
        assert record.data["views"] == snapshot["views"] > 0
        assert 0 <= record.data["reward"] <= 1
