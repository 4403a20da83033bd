"""Migration 0010: recorded media paths under the media root become keys relative to it; paths
outside it are left, reported, and made again by their stage."""

import logging
from datetime import datetime, timezone

import sqlalchemy as sa

from shorts_assets.db import migrate
from shorts_assets.db.schema import videos
from shorts_assets.db.store import Store, create_engine
from shorts_assets.loop.batch import verify_output
from shorts_assets.storage.store import LocalMediaStore


def legacy_outputs(root, video_id: str) -> dict:
    folder = root / "demo" / "2026-11-20" / video_id
    clip, wav = str(folder / "clips" / "scene-01.mp4"), str(folder / "voiceover.wav")
    mp4, jpg = str(folder / "short.mp4"), str(folder / "short.jpg")
    summed = {"size": 4, "sha256": "0" * 64}
    return {
        "clips": {
            "clips": [{"path": clip, "duration_s": 3.0, "width": 1080, "height": 1920, "credit": {}}],
            "files": [clip],
            "checksums": {clip: summed},
        },
        "voiceover": {"audio_path": wav, "duration_s": 3.0, "files": [wav], "checksums": {wav: summed}},
        "render": {
            "video_path": mp4,
            "thumbnail_path": jpg,
            "duration_s": 3.0,
            "files": [mp4, jpg],
            "checksums": {mp4: summed, jpg: summed},
        },
    }


def insert_video(engine: sa.Engine, video_id: str, outputs: dict) -> None:
    with engine.begin() as conn:
        conn.execute(
            videos.insert().values(
                video_id=video_id,
                channel="demo",
                batch_date=datetime(2026, 11, 20).date(),
                position=1,
                stage="render",
                status="ok",
                outputs=outputs,
                updated_at=datetime.now(timezone.utc),
            )
        )


def outputs_of(engine: sa.Engine, video_id: str) -> dict:
    with engine.connect() as conn:
        return conn.execute(sa.select(videos.c.outputs).where(videos.c.video_id == video_id)).scalar_one()


def test_absolute_paths_under_the_media_root_become_relative_keys(database_url, tmp_path, monkeypatch, caplog):
    root = tmp_path / "data" / "media"
    monkeypatch.setenv("SHORTS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SHORTS_MEDIA_ROOT", raising=False)
    engine = create_engine(database_url)
    migrate.upgrade(engine, "0005")
    insert_video(engine, "demo-20261120-01", legacy_outputs(root, "demo-20261120-01"))
    elsewhere = legacy_outputs(tmp_path / "old-disk", "demo-20261120-02")
    insert_video(engine, "demo-20261120-02", elsewhere)

    with caplog.at_level(logging.WARNING):
        migrate.upgrade(engine, "0010")

    converted = outputs_of(engine, "demo-20261120-01")
    prefix = "demo/2026-11-20/demo-20261120-01"
    assert converted["clips"]["files"] == [f"{prefix}/clips/scene-01.mp4"]
    assert converted["clips"]["clips"][0]["path"] == f"{prefix}/clips/scene-01.mp4"
    assert converted["voiceover"]["audio_path"] == f"{prefix}/voiceover.wav"
    assert converted["render"]["video_path"] == f"{prefix}/short.mp4"
    assert set(converted["render"]["checksums"]) == {f"{prefix}/short.mp4", f"{prefix}/short.jpg"}
    assert converted["render"]["duration_s"] == 3.0

    # A path outside the root is left as it was, reported, and made again by its stage.
    assert outputs_of(engine, "demo-20261120-02") == elsewhere
    warning = " ".join(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert "4 recorded media file(s) lie outside the media root" in warning and "demo-20261120-02" in warning
    problem = verify_output(elsewhere["render"], LocalMediaStore(root))
    assert "outside the media root (SHORTS_MEDIA_ROOT=" in problem and problem.endswith("it is made again")

    # Running the upgrade again changes nothing; the store opens at the newest schema.
    migrate.upgrade(engine, "0010")
    assert outputs_of(engine, "demo-20261120-01") == converted
    engine.dispose()
    assert Store(database_url).batch("demo", datetime(2026, 11, 20).date()) == []  # no video_requests rows


def test_the_downgrade_restores_absolute_paths(tmp_path, monkeypatch):
    from alembic import command
    from alembic.config import Config

    root = tmp_path / "media"
    monkeypatch.setenv("SHORTS_MEDIA_ROOT", str(root))
    url = f"sqlite:///{tmp_path / 'shorts.db'}"
    engine = create_engine(url)
    migrate.upgrade(engine, "0005")
    original = legacy_outputs(root, "demo-20261120-01")
    insert_video(engine, "demo-20261120-01", original)
    migrate.upgrade(engine, "0010")
    assert outputs_of(engine, "demo-20261120-01")["render"]["video_path"].startswith("demo/")

    config = Config()
    config.set_main_option("script_location", str(migrate.MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0005")
    assert outputs_of(engine, "demo-20261120-01") == original
