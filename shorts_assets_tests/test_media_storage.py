"""A batch made with its media root on object storage, and on a local folder: the database holds only
keys relative to the root, every key is in the store whole, and a rerun stores and posts nothing twice.

The batch runs for real (offline providers, draft renders, the simulated platforms) against a local
S3-compatible server on a real socket.
"""

from datetime import date

import dagster as dg
import pytest

from shorts_assets.db.store import Store
from shorts_assets.defs.create.clips import clips
from shorts_assets.defs.create.renders import renders
from shorts_assets.defs.create.scripts import scripts
from shorts_assets.defs.create.voiceovers import voiceovers
from shorts_assets.defs.location import loop_checks
from shorts_assets.defs.publish.publications import publication_assets
from shorts_assets.defs.resources import MediaResource, RendererResource
from shorts_assets.providers.media import probe
from shorts_assets.storage.store import file_checksum
from shorts_assets_tests.conftest import loop_resources

pytestmark = pytest.mark.slow

DAY = date(2026, 11, 20)
STAGES = ("clips", "voiceover", "render")


def produce(resources: dict, instance) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [scripts, clips, voiceovers, renders, *publication_assets, *loop_checks(RendererResource(profile="draft"))],
        partition_key=dg.MultiPartitionKey({"channel": "demo", "date": DAY.isoformat()}),
        resources=resources,
        instance=instance,
        raise_on_error=False,
    )


def recorded_strings(value):
    """Every string of a recorded output, through dicts (their keys too) and lists."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from recorded_strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from recorded_strings(v)


def stored_keys(rows) -> list[str]:
    return [key for row in rows for stage in STAGES for key in row.outputs[stage]["files"]]


def assert_only_relative_keys(rows, forbidden: list[str]) -> None:
    for row in rows:
        assert row.status == "ok", row.error
        for stage in STAGES:
            output = row.outputs[stage]
            assert output["files"] and set(output["checksums"]) == set(output["files"])
            for key in output["files"]:
                assert key.startswith(f"demo/{DAY.isoformat()}/{row.video_id}/")
            for text in recorded_strings(output):
                assert not text.startswith("/"), f"{row.video_id} {stage} records an absolute path: {text}"
                assert not any(part in text for part in forbidden), text
        assert row.outputs["render"]["video_path"] == f"demo/{DAY.isoformat()}/{row.video_id}/short.mp4"


@pytest.fixture
def s3_run(tmp_path, s3_bucket):
    url = f"sqlite:///{tmp_path / 'shorts.db'}"
    resources = loop_resources(tmp_path / "data", url)
    resources["renderer"] = RendererResource(profile="draft")
    resources["media"] = MediaResource(
        data_dir=str(tmp_path / "data"),
        media_root=f"s3://{s3_bucket['bucket']}/shorts",
        scratch_dir=str(tmp_path / "scratch"),
        s3_endpoint_url=s3_bucket["endpoint"],
    )
    with dg.instance_for_test() as instance:
        yield {"url": url, "resources": resources, "instance": instance, "result": produce(resources, instance)}


def test_a_batch_on_s3_keeps_every_file_in_the_bucket_and_only_keys_in_the_database(s3_run, s3_bucket, tmp_path):
    result = s3_run["result"]
    assert result.success
    assert all(e.passed for e in result.get_asset_check_evaluations())
    rows = Store(s3_run["url"]).batch("demo", DAY)
    assert len(rows) == 2
    assert_only_relative_keys(rows, forbidden=[str(tmp_path)])

    client, bucket = s3_bucket["client"], s3_bucket["bucket"]
    for row in rows:
        for stage in STAGES:
            for key, made in row.outputs[stage]["checksums"].items():
                head = client.head_object(Bucket=bucket, Key=f"shorts/{key}")
                assert head["ContentLength"] == made["size"] and head["Metadata"]["sha256"] == made["sha256"]
    assert len(Store(s3_run["url"]).published("demo", DAY)) == 6  # 2 videos × 3 simulated platforms

    # What the renders asset shows names keys and the store, not this machine's folders.
    (event,) = [e for e in result.get_asset_materialization_events() if e.asset_key.to_user_string() == "renders"]
    metadata = {k: v.value for k, v in event.materialization.metadata.items()}
    assert metadata["media_root"] == f"s3://{bucket}/shorts"
    assert metadata[f"mp4 {rows[0].video_id}"] == rows[0].outputs["render"]["video_path"]


def test_another_machine_reruns_the_batch_from_the_bucket_without_duplicates(s3_run, s3_bucket, tmp_path):
    assert s3_run["result"].success
    client, bucket = s3_bucket["client"], s3_bucket["bucket"]
    before = {o["Key"]: o["LastModified"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]}

    # A fresh scratch folder: this "machine" has none of the files; the renders must fetch them to check.
    resources = {**s3_run["resources"]}
    resources["media"] = MediaResource(
        data_dir=str(tmp_path / "data"),
        media_root=f"s3://{bucket}/shorts",
        scratch_dir=str(tmp_path / "other-scratch"),
        s3_endpoint_url=s3_bucket["endpoint"],
    )
    again = produce(resources, s3_run["instance"])

    assert again.success
    after = {o["Key"]: o["LastModified"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]}
    assert after == before  # nothing stored again, nothing added
    assert len(Store(s3_run["url"]).published("demo", DAY)) == 6
    fetched = list((tmp_path / "other-scratch").rglob("short.mp4"))
    assert len(fetched) == 2  # the render check read the shorts from the bucket


def test_a_changed_object_in_the_bucket_is_made_again(s3_run, s3_bucket):
    assert s3_run["result"].success
    rows = Store(s3_run["url"]).batch("demo", DAY)
    key = rows[0].outputs["voiceover"]["files"][0]
    s3_bucket["client"].put_object(Bucket=s3_bucket["bucket"], Key=f"shorts/{key}", Body=b"not a wav")

    again = dg.materialize(
        [scripts, clips, voiceovers],
        partition_key=dg.MultiPartitionKey({"channel": "demo", "date": DAY.isoformat()}),
        resources=s3_run["resources"],
        instance=s3_run["instance"],
    )
    assert again.success
    row = Store(s3_run["url"]).batch("demo", DAY)[0]
    made = row.outputs["voiceover"]["checksums"][key]
    head = s3_bucket["client"].head_object(Bucket=s3_bucket["bucket"], Key=f"shorts/{key}")
    assert head["ContentLength"] == made["size"] > len(b"not a wav")


def test_an_unreachable_media_store_fails_the_batch_naming_it_and_writes_nothing(tmp_path, s3_bucket):
    from shorts_assets_tests.conftest import free_port

    url = f"sqlite:///{tmp_path / 'shorts.db'}"
    resources = loop_resources(tmp_path / "data", url)
    dead = f"http://127.0.0.1:{free_port()}"
    resources["media"] = MediaResource(
        data_dir=str(tmp_path / "data"),
        media_root=f"s3://{s3_bucket['bucket']}/shorts",
        scratch_dir=str(tmp_path / "scratch"),
        s3_endpoint_url=dead,
    )
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [scripts, clips],
            partition_key=dg.MultiPartitionKey({"channel": "demo", "date": DAY.isoformat()}),
            resources=resources,
            instance=instance,
            raise_on_error=False,
        )
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    message = failure.step_failure_data.error.message
    assert "cannot be reached" in message and "SHORTS_MEDIA_S3_ENDPOINT_URL" in message
    rows = Store(url).batch("demo", DAY)
    assert rows and all("clips" not in r.outputs and r.status == "ok" for r in rows)
    assert "Contents" not in s3_bucket["client"].list_objects_v2(Bucket=s3_bucket["bucket"])


def test_a_batch_on_a_local_media_root_records_keys_relative_to_it(tmp_path):
    url = f"sqlite:///{tmp_path / 'shorts.db'}"
    resources = loop_resources(tmp_path / "data", url)
    resources["renderer"] = RendererResource(profile="draft")
    root = tmp_path / "shared-volume" / "media"
    resources["media"] = MediaResource(data_dir=str(tmp_path / "data"), media_root=str(root))
    with dg.instance_for_test() as instance:
        result = produce(resources, instance)
    assert result.success
    rows = Store(url).batch("demo", DAY)
    assert_only_relative_keys(rows, forbidden=[str(tmp_path)])
    for row in rows:
        for key, made in row.outputs["render"]["checksums"].items():
            assert file_checksum(root / key) == made
        assert probe(root / row.outputs["render"]["video_path"]).width == 540
    assert not (tmp_path / "data" / "media").exists()
