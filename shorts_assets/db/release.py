"""Let the posts of a partition that waited for a person be tried again, once the person has acted.

A post is ``needs_manual`` when no retry could help: TikTok refused the privacy level for an
unaudited app, the platform rejected the upload, the login lacked a scope. After fixing the cause
(``TIKTOK_PRIVACY_LEVEL``, ``TIKTOK_POST_MODE``, a new login), run
``python -m shorts_assets.db.release <channel> <date> <platform> [video id ...]`` with the code
location's environment; the next run of the partition's publications tries them again.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from datetime import date

from shorts_assets.core.errors import ConfigError
from shorts_assets.core.types import PLATFORMS
from shorts_assets.db.store import Store
from shorts_assets.settings import load_settings


def release(
    channel: str, day: str, platform: str, video_ids: Sequence[str] = (), env: Mapping[str, str] | None = None
) -> list[str]:
    """Release the partition's needs_manual posts on `platform`; the video ids released."""
    settings = load_settings(env)
    settings.channel(channel)  # an unknown channel is refused by name
    if platform not in PLATFORMS:
        raise ConfigError(f"platform {platform!r} is not one of: {', '.join(PLATFORMS)}")
    try:
        batch_date = date.fromisoformat(day)
    except ValueError:
        raise ConfigError(f"date {day!r} is not a calendar day (YYYY-MM-DD)") from None
    store = Store(settings.database_url)
    try:
        return store.release_manual(channel, batch_date, platform, video_ids)
    finally:
        store.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shorts_assets.db.release", description=__doc__.splitlines()[0])
    parser.add_argument("channel")
    parser.add_argument("date", help="the partition's date, YYYY-MM-DD")
    parser.add_argument("platform", help=", ".join(PLATFORMS))
    parser.add_argument("video_ids", nargs="*", help="only these videos (default: every one waiting)")
    args = parser.parse_args(argv)
    try:
        released = release(args.channel, args.date, args.platform, args.video_ids)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not released:
        print(f"no {args.platform} post of {args.channel} on {args.date} was waiting for a person")
        return 0
    print(f"released {len(released)} {args.platform} post(s) for the next run: {', '.join(released)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
