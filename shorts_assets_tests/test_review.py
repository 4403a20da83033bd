"""The review command line: the same decisions as review_job, recorded as made through the CLI, with
refusals named on stderr and in the exit status."""

import json
from datetime import date

import pytest

from shorts_assets.db.reviews import ReviewStore
from shorts_assets.db.store import Store
from shorts_assets.review import main
from shorts_assets_tests.helpers import script_json

DAY = date(2026, 11, 21)


@pytest.fixture
def store(tmp_path, monkeypatch):
    channels = tmp_path / "channels.json"
    channels.write_text(json.dumps({"channels": [{"name": "demo", "review": "before_publish"}, {"name": "open"}]}))
    for name in ("SHORTS_CHANNELS", "SHORTS_REVIEW", "PUBLISHER_YOUTUBE", "PUBLISHER_TIKTOK", "PUBLISHER_INSTAGRAM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SHORTS_CHANNELS_FILE", str(channels))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'shorts.db'}")
    monkeypatch.setenv("SHORTS_DATA_DIR", str(tmp_path / "data"))
    store = Store(f"sqlite:///{tmp_path / 'shorts.db'}")
    for position in (1, 2, 3):
        video_id = f"demo-20261121-0{position}"
        store.add_script(
            video_id=video_id,
            channel="demo",
            batch_date=DAY,
            position=position,
            strategy_version="demo:prior",
            arms={"posting_hour": "09"},
            script=script_json(video_id),
            writer="template",
        )
    ReviewStore(store).set_status("demo-20261121-03", "awaiting_review")
    return store


def test_approve_and_reject_record_decisions_made_through_the_cli(store, capsys):
    assert main(["approve", "demo-20261121-01", "--title", "demo-20261121-01=A new title", "--reviewer", "cy"]) == 0
    assert main(["reject", "demo-20261121-02", "--reason", "off-brand"]) == 0
    out = capsys.readouterr().out
    assert "approved demo-20261121-01" in out and "rejected demo-20261121-02" in out
    latest = ReviewStore(store).latest(["demo-20261121-01", "demo-20261121-02"])
    approved, rejected = latest["demo-20261121-01"], latest["demo-20261121-02"]
    assert (approved.decision, approved.title, approved.reviewer, approved.via) == (
        "approve",
        "A new title",
        "cy",
        "cli",
    )
    assert (rejected.decision, rejected.reason, rejected.via) == ("reject", "off-brand", "cli")
    assert rejected.reviewer  # the login name, when --reviewer is not given


def test_list_shows_the_videos_awaiting_review(store, capsys):
    assert main(["list"]) == 0
    assert capsys.readouterr().out.split("\t")[0] == "demo-20261121-03"


def test_a_refused_decision_is_named_on_stderr_and_fails_the_command_while_the_others_are_recorded(store, capsys):
    assert main(["reject", "demo-20261121-02", "--reason", "off-brand"]) == 0
    assert main(["approve", "demo-20261121-02", "demo-20261121-99", "demo-20261121-01"]) == 1
    err = capsys.readouterr().err
    assert "refused demo-20261121-02: demo-20261121-02 was already rejected by" in err
    assert "refused demo-20261121-99: no video 'demo-20261121-99' exists" in err
    assert ReviewStore(store).latest(["demo-20261121-01"])["demo-20261121-01"].decision == "approve"


def test_a_bad_option_is_a_configuration_error(store, capsys):
    assert main(["approve", "demo-20261121-01", "--title", "no equals sign"]) == 2
    assert "--title 'no equals sign' must be <video id>=<text>" in capsys.readouterr().err
    assert main(["approve", "demo-20261121-01", "--channel", "nope"]) == 2
    assert "unknown channel 'nope'" in capsys.readouterr().err
    assert ReviewStore(store).history("demo-20261121-01") == []
