"""Writer hints: the best and worst recent videos with their scripts, asked-for topics and winning arms."""

from datetime import date, timedelta

from shorts_assets.learning.hints import rejection_hints, video_rewards, winning_arms, writer_hints

TODAY = date(2026, 11, 20)


def entry(reward, day_offset=1, weight=1.0, topic="space"):
    return {
        "arms": {"topic": topic, "hook": "question"},
        "reward": reward,
        "weight": weight,
        "batch_date": (TODAY - timedelta(days=day_offset)).isoformat(),
    }


def state_of(rewards):
    """video index -> reward, each video seen on one platform."""
    return {"observations": {f"v{i}|youtube": entry(r) for i, r in enumerate(rewards)}}


def scripts_for(n):
    return {f"v{i}": {"title": f"Title {i}", "hook": f"Hook {i}?", "narration": "..."} for i in range(n)}


def test_top_and_bottom_performers_come_with_their_scripts():
    rewards = [0.5, 0.9, 0.1, 0.7, 0.3, 0.8, 0.2, 0.6]
    hints = writer_hints(
        state_of(rewards), scripts_for(8), today=TODAY, requested_topics=["volcanoes"], winning={"hook": "question"}
    )
    assert set(hints) == {
        "top_performers",
        "bottom_performers",
        "requested_topics",
        "winning_arms",
        "rejected_by_reviewer",
    }
    assert [h["title"] for h in hints["top_performers"]] == ["Title 1", "Title 5", "Title 3"]
    assert [h["reward"] for h in hints["bottom_performers"]] == [0.1, 0.2, 0.3]
    assert hints["top_performers"][0] == {
        "title": "Title 1",
        "hook": "Hook 1?",
        "arms": {"topic": "space", "hook": "question"},
        "reward": 0.9,
    }
    assert hints["requested_topics"] == ["volcanoes"] and hints["winning_arms"] == {"hook": "question"}


def test_few_videos_are_never_both_top_and_bottom():
    hints = writer_hints(state_of([0.2, 0.8, 0.5, 0.6]), scripts_for(4), today=TODAY)
    top = {h["title"] for h in hints["top_performers"]}
    bottom = {h["title"] for h in hints["bottom_performers"]}
    assert len(top) == 3 and bottom == {"Title 0"}


def test_a_video_pools_its_platforms_and_unready_videos_are_left_out():
    state = {
        "observations": {
            "a|youtube": entry(0.9),
            "a|tiktok": entry(0.5),
            "young|youtube": entry(0.99, weight=0.1),
            "old|youtube": entry(0.99, day_offset=90),
            "unscripted|youtube": entry(0.98),
        }
    }
    scripts = {v: {"title": v, "hook": "h"} for v in ("a", "young", "old")}
    rewards = video_rewards(state)
    assert abs(rewards["a"]["reward"] - 0.7) < 1e-9 and rewards["a"]["weight"] == 1.5
    hints = writer_hints(state, scripts, today=TODAY)
    assert [h["title"] for h in hints["top_performers"]] == ["a"]


def test_without_data_the_hints_are_empty_but_well_formed():
    hints = writer_hints({}, {}, today=TODAY)
    assert hints == {
        "top_performers": [],
        "bottom_performers": [],
        "requested_topics": [],
        "winning_arms": {},
        "rejected_by_reviewer": [],
    }
    assert (
        writer_hints({"observations": {"x|youtube": "garbage"}}, {"x": "not a script"}, today=TODAY)["top_performers"]
        == []
    )


def test_winning_arms_are_promoted_winners_or_confident_bests():
    p_best = {
        "topic": {"space": 0.8, "ocean": 0.2},
        "hook": {"question": 0.45, "story": 0.55},
        "voice": {"a": 0.4, "b": 0.6},
    }
    assert winning_arms(p_best, confident=0.5) == {"topic": "space", "hook": "story", "voice": "b"}
    assert winning_arms(p_best) == {"topic": "space"}
    assert winning_arms(p_best, {"hook": "question"}) == {"topic": "space", "hook": "question"}
    assert winning_arms(p_best, under_test=["topic"], confident=0.5) == {"hook": "story", "voice": "b"}
    assert winning_arms(p_best, {"voice": "a"}, learned=False) == {"voice": "a"}


def test_rejections_reach_the_writer_newest_first_with_the_reviewers_reason():
    scripts = {
        "old": {"title": "Old", "hook": "h1", "arms": {"topic": "space"}},
        "new": {"title": "New", "hook": "h2", "arms": {"topic": "ocean"}},
    }
    rejected = rejection_hints(
        [
            {"video_id": "new", "reason": "  the second   fact is wrong "},
            {"video_id": "gone", "reason": "a video without a script is left out"},
            {"video_id": "old", "reason": ""},  # no reason: nothing to tell the writer
        ],
        scripts,
    )
    assert rejected == [
        {"title": "New", "hook": "h2", "arms": {"topic": "ocean"}, "rejected_because": "the second fact is wrong"}
    ]
    hints = writer_hints({}, {}, today=TODAY, rejected=rejected)
    assert hints["rejected_by_reviewer"] == rejected
