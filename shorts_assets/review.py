"""The review gate from a terminal: the same decisions as review_job, for people who do not use the UI.

    python -m shorts_assets.review list
    python -m shorts_assets.review approve demo-20261127-01 demo-20261127-02 --title demo-20261127-01="Better title"
    python -m shorts_assets.review reject demo-20261127-03 --reason "the second fact is wrong"

It reads the same environment as the code location (DATABASE_URL, SHORTS_CHANNELS, SHORTS_REVIEW, ...)
and records through loop.review.decide, as the job does. The exit status is 0 when every decision was
recorded, 1 when some were refused (the others are still recorded), 2 on a configuration error.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Sequence

from shorts_assets.core.errors import ConfigError
from shorts_assets.db.reviews import ReviewStore
from shorts_assets.db.store import Store
from shorts_assets.loop.review import ReviewRequest, decide, past_tense
from shorts_assets.settings import load_settings


def _pairs(values: Sequence[str], option: str) -> dict[str, str]:
    pairs = {}
    for value in values:
        video_id, sep, text = value.partition("=")
        if not sep or not video_id.strip():
            raise ConfigError(f"{option} {value!r} must be <video id>=<text>")
        pairs[video_id.strip()] = text
    return pairs


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m shorts_assets.review", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="the videos awaiting review")
    approve = commands.add_parser("approve", help="approve videos for publishing")
    approve.add_argument("video_ids", nargs="+", metavar="VIDEO_ID")
    approve.add_argument("--title", action="append", default=[], metavar="ID=TITLE", help="publish with this title")
    approve.add_argument(
        "--description", action="append", default=[], metavar="ID=TEXT", help="publish with this description"
    )
    reject = commands.add_parser("reject", help="reject videos, with the reason")
    reject.add_argument("video_ids", nargs="+", metavar="VIDEO_ID")
    reject.add_argument("--reason", required=True, help="why (it reaches the strategy and the script writer)")
    for command in (listing, approve, reject):
        command.add_argument(
            "--channel",
            action="append",
            default=[],
            help="the channel(s) under review (repeatable; default every configured channel)",
        )
    for command in (approve, reject):
        command.add_argument("--reviewer", default="", help="who decides (default: your login name)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
        channels = args.channel or [c.name for c in settings.channels]
        store = Store(settings.database_url)
        if args.command == "list":
            for video in ReviewStore(store).awaiting(channels):
                print(f"{video.video_id}\t{video.channel}\t{video.batch_date}\tposting hour {video.posting_hour}")
            return 0
        request = ReviewRequest(
            channels=channels,
            approve=args.video_ids if args.command == "approve" else (),
            reject=dict.fromkeys(args.video_ids, args.reason) if args.command == "reject" else {},
            titles=_pairs(getattr(args, "title", []), "--title"),
            descriptions=_pairs(getattr(args, "description", []), "--description"),
            reviewer=args.reviewer.strip() or getpass.getuser(),
            via="cli",
        )
        result = decide(store, settings.channels, request)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for d in result.recorded:
        print(f"{past_tense(d.decision)} {d.video_id} (decision {d.id}, by {d.reviewer})")
    for video_id, why in result.refused.items():
        print(f"refused {video_id}: {why}", file=sys.stderr)
    return 1 if result.refused else 0


if __name__ == "__main__":
    sys.exit(main())
