"""The comments asset shows the latest readable comments as a table, each comment in full."""

import pytest

from shorts_assets.db.store import Store
from shorts_assets_tests.defs.learn.conftest import metadata_of

pytestmark = pytest.mark.slow


def test_the_latest_comments_are_a_table_with_each_comment_in_full(published_cohort):
    metadata = metadata_of(published_cohort["result"], "comments")
    table = metadata["latest"]
    assert [c.name for c in table.schema.columns] == ["video", "platform", "author", "comment"]
    store = Store(published_cohort["url"])
    video_ids = sorted({r.data["video"] for r in table.records})
    texts = {(c["video_id"], c["platform"], c["author"], c["text"]) for c in store.comments_for(video_ids)}
    assert table.records, "a mature cohort has comments"
    assert {(r.data["video"], r.data["platform"], r.data["author"], r.data["comment"]) for r in table.records} <= texts
    assert len(table.records) == min(
        10, metadata["total_comments"].value - metadata["spam_excluded"].value - metadata["abuse_excluded"].value
    )
