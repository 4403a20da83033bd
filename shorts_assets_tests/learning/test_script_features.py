"""Script text in the reward model: features read from the words, cross-validated, and candidate scripts ranked."""

import numpy as np
import pytest

from shorts_assets.core.types import Scene, Script
from shorts_assets.learning import Row
from shorts_assets.learning.model import rank_recipes, rank_scripts
from shorts_assets.learning.script_text import TextComponents, features

SPACE = {"topic": ("a", "b"), "voice": ("p", "q")}
QUESTION_HOOKS = (
    "Did you know this about whales?",
    "What is the oddest thing about stars?",
    "Ever wondered why ice floats?",
)
FLAT_HOOKS = (
    "Here is a story about whales.",
    "This fact about stars sounds fake.",
    "Picture a quiet night by the sea.",
)


def test_features_read_the_hook_title_and_narration():
    read = features(
        {
            "title": "3 facts about space",
            "hook": "Did you know this?",
            "narration": "Did you know this? Stars burn. Planets do not.",
        }
    )
    assert read["hook_words"] == 4 and read["hook_is_question"] == 1.0 and read["hook_has_number"] == 0.0
    assert read["title_words"] == 4 and read["title_has_number"] == 1.0
    assert read["narration_words"] == 9 and read["sentence_words"] == pytest.approx(3.0)
    assert read["title_hook"] == "3 facts about space Did you know this?"
    assert features({"hook": "Here are five things about bees."})["hook_has_number"] == 1.0
    assert features({"hook": "What nobody tells you about bees"})["hook_is_question"] == 1.0


@pytest.mark.parametrize("script", [None, {}, {"title": None, "hook": 7, "narration": ["x"]}, "not a script"])
def test_a_missing_or_malformed_script_reads_as_empty(script):
    read = features(script)
    assert all(read[k] == 0.0 for k in ("hook_words", "hook_is_question", "title_words", "narration_words"))
    assert read["title_hook"] == ""


def test_text_components_need_a_vocabulary_and_otherwise_give_zeros():
    empty = TextComponents(3).fit(["", "the", ""])
    assert empty.svd is None and not empty.transform(["whales sing"]).any()
    fitted = TextComponents(3).fit([f"{h} {h}" for h in QUESTION_HOOKS + FLAT_HOOKS])
    assert fitted.transform(["whales stars"]).shape == (1, 3)


def scripted_rows(n, seed=0):
    """Rewards decided by whether the hook asks a question; the arms do not matter."""
    rng = np.random.default_rng(seed)
    rows, scripts = [], {}
    for i in range(n):
        question = bool(rng.integers(2))
        hooks = QUESTION_HOOKS if question else FLAT_HOOKS
        hook = hooks[int(rng.integers(len(hooks)))]
        video = f"v{i}"
        scripts[video] = {
            "title": hook.rstrip("?."),
            "hook": hook,
            "narration": f"{hook} " + "Fact. " * int(rng.integers(2, 6)),
        }
        arms = {d: str(rng.choice(v)) for d, v in SPACE.items()}
        rows.append(Row(arms, "youtube", 0.4 + 0.3 * question + float(rng.normal(0, 0.03)), 1.0, video))
    return rows, scripts


def test_the_model_learns_from_the_script_text_and_says_so():
    rows, scripts = scripted_rows(150)
    report = rank_recipes(rows, SPACE, scripts=scripts)
    assert report.uses_text and report.cv_r2 > 0.7
    assert report.cv_r2_arms_only < 0.2
    text_importance = sum(v for k, v in report.importances.items() if k not in SPACE)
    assert text_importance > 0.8
    assert set(SPACE) <= set(report.importances) and "hook_is_question" in report.importances
    described = report.to_json()
    assert described["uses_script_text"] is True and "script text" in described["description"]


def test_without_scripts_the_model_is_arms_only():
    rows, _ = scripted_rows(60)
    report = rank_recipes(rows, SPACE)
    assert not report.uses_text and report.cv_r2_arms_only is None
    assert set(report.importances) == set(SPACE)


def test_rank_scripts_puts_the_predicted_best_first():
    rows, scripts = scripted_rows(150, seed=1)
    report = rank_recipes(rows, SPACE, scripts=scripts)
    arms = {"topic": "a", "voice": "p"}
    candidates = [
        {"title": "A story about whales", "hook": FLAT_HOOKS[0], "narration": FLAT_HOOKS[0] + " Fact.", "arms": arms},
        Script(
            "v",
            "Why ice floats",
            QUESTION_HOOKS[2],
            QUESTION_HOOKS[2] + " Fact.",
            "d",
            (Scene("s", 1.0, "waves"),),
            ("t",),
            arms,
        ),
        {"title": "Stars", "hook": FLAT_HOOKS[1], "narration": FLAT_HOOKS[1], "arms": arms},
    ]
    ranked = rank_scripts(report, candidates)
    assert ranked[0].index == 1 and ranked[0].candidate is candidates[1]
    assert ranked[0].predicted_reward > ranked[1].predicted_reward + 0.15
    assert sorted(r.index for r in ranked) == [0, 1, 2]


def test_rank_scripts_without_a_fitted_model_keeps_the_order():
    report = rank_recipes(scripted_rows(5)[0], SPACE)
    ranked = rank_scripts(report, [{"hook": "b"}, {"hook": "a"}])
    assert [r.index for r in ranked] == [0, 1] and all(r.predicted_reward is None for r in ranked)
    assert rank_scripts(None, []) == []
