"""Every pool of the loop is set once on a new instance: the named ones to their limit, the others to
the instance's default, so that no two runs race to create a pool's limit."""

import dagster as dg
import pytest

from shorts_assets.defs.pools import loop_pools, parse_limits, set_pools


def test_each_limited_resource_of_the_loop_has_its_pool():
    assert loop_pools() == sorted(
        ["platform_reads", "publish_instagram", "publish_tiktok", "publish_youtube", "render", "script_gen", "tts"]
        + ["video_gen"]
    )


def test_named_pools_get_their_limit_and_the_others_the_default():
    with dg.instance_for_test(overrides={"concurrency": {"pools": {"default_limit": 2}}}) as instance:
        limits = set_pools(instance, parse_limits(["render=3"]))
        assert limits == {**dict.fromkeys(loop_pools(), 2), "render": 3}
        assert instance.event_log_storage.get_concurrency_keys() == set(loop_pools())
        # Setting them again changes nothing.
        assert set_pools(instance, {"render": 3}) == limits


@pytest.mark.parametrize("arg", ["gpu=2", "render", "render=two"])
def test_a_pool_that_is_not_the_loops_or_a_limit_that_is_not_a_number_is_refused(arg):
    with pytest.raises(SystemExit, match="expected <pool>=<limit>"):
        parse_limits([arg])
