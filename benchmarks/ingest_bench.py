"""Ingest YouTube metrics for many published videos from the fake YouTube server and count the cost.

Starts the fake YouTube Data + Analytics server on 127.0.0.1, seeds it with N videos, and runs the
YouTube adapter's ``fetch_metrics`` over all of them: statistics from ``videos.list`` (50 ids per
call, 1 quota unit each) and per-video rows from the Analytics API (the same 50 ids per call, no
Data API quota). Prints the call breakdown, then as the last line:

    RESULT videos=<N> calls=<API calls> quota_units=<Data API units> wall_s=<seconds> statistics_calls=<n> analytics_calls=<n>

    .venv/bin/python benchmarks/ingest_bench.py --videos 10000
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shorts_assets.core.state import MemoryStateStore  # noqa: E402
from shorts_assets.core.types import Publication  # noqa: E402
from shorts_assets.fakes.server import FakeServer  # noqa: E402
from shorts_assets.fakes.youtube_server import FakeYouTube  # noqa: E402
from shorts_assets.providers.platforms.youtube import YouTubeAdapter  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    app = FakeYouTube()
    app.record_requests = False
    now = datetime.now(timezone.utc)
    publications = []
    for i in range(args.videos):
        remote_id = f"b{i:010d}"
        views = rng.randint(0, 50_000)
        app.add_video(
            remote_id,
            statistics={"viewCount": views, "likeCount": views // 20, "commentCount": views // 200},
            analytics={
                "views": views,
                "estimatedMinutesWatched": views // 3,
                "averageViewPercentage": round(rng.uniform(20, 95), 2),
                "shares": views // 100,
            },
        )
        publications.append(
            Publication(
                "youtube",
                "bench",
                f"video-{i:05d}",
                remote_id,
                f"https://www.youtube.com/shorts/{remote_id}",
                now - timedelta(hours=rng.uniform(1, 24 * 7)),
            )
        )

    state = MemoryStateStore()
    with FakeServer(app) as server:
        adapter = YouTubeAdapter(
            client_id=app.client_id,
            client_secret=app.client_secret,
            refresh_token=next(iter(app.refresh_tokens)),
            state=state,
            account="bench",
            api_base_url=f"{server.url}/youtube/v3",
            upload_base_url=f"{server.url}/upload/youtube/v3",
            analytics_base_url=f"{server.url}/v2",
            token_url=f"{server.url}/token",
        )
        started = time.perf_counter()
        snapshots = adapter.fetch_metrics(publications, now)
        wall = time.perf_counter() - started
        quota_units = adapter.quota_used()
        adapter.close()

    statistics_calls = app.calls["videos.list"]
    analytics_calls = app.calls["reports.query"]
    expected = math.ceil(args.videos / 50)
    if len(snapshots) != args.videos:
        raise SystemExit(f"expected {args.videos} snapshots, got {len(snapshots)}")
    if statistics_calls != expected:
        raise SystemExit(f"expected {expected} statistics calls, made {statistics_calls}")
    print(
        f"snapshots={len(snapshots)} statistics_calls={statistics_calls} analytics_calls={analytics_calls} "
        f"token_refreshes={app.calls['oauth.token']}"
    )
    print(
        f"RESULT videos={args.videos} calls={statistics_calls + analytics_calls} "
        f"quota_units={quota_units} wall_s={wall:.2f} statistics_calls={statistics_calls} "
        f"analytics_calls={analytics_calls}"
    )


if __name__ == "__main__":
    main()
