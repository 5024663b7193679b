"""The autograder on trigger word detection: one-bug mutants and hostile submissions."""

from __future__ import annotations

import pytest

from tests.grading_helpers import assert_mutant_caught, graded_with_sources

ID = "trigger_word"

MUTANTS = [
    ("get_random_time_segment", "rng.integers(0, clip_ms - segment_ms + 1)", "rng.integers(0, clip_ms - segment_ms)",
     "never end on the clip's last millisecond"),
    ("get_random_time_segment", "start + segment_ms - 1", "start + segment_ms", "end_ms is start_ms + segment_ms"),
    ("is_overlapping", "start <= previous_end and previous_start <= end", "start < previous_end and previous_start < end",
     "share only their first or last millisecond"),
    ("is_overlapping", "for previous_start, previous_end in previous_segments)",
     "for previous_start, previous_end in previous_segments[:1])", "only the first previous segment"),
    ("insert_audio_clip", "mixed = background.copy()", "mixed = background", "changes the background it is given"),
    ("insert_ones", "    y = y.copy()\n", "", "changes the y it is given"),
    ("insert_ones", "y[t + 1:t + 1 + n_ones] = 1", "y[t:t + n_ones] = 1", "start at the step where the word ends"),
    ("create_training_example", "y = insert_ones(y, segment[1])", "y = insert_ones(y, segment[0])", "wrong values"),
    ("TriggerModel", "return self.out(self.dropout(h))[..., 0]",
     "return torch.sigmoid(self.out(self.dropout(h))[..., 0])", "returns probabilities"),
    ("detect_triggers", "p >= threshold and", "p > threshold and", "equal to threshold is not detected"),
    ("detect_triggers", "(not detections or t - detections[-1] >= min_gap)", "True", "every step above threshold"),
]


@pytest.mark.parametrize("function,old,new,message", MUTANTS, ids=[f"{m[0]}:{m[3][:30]}" for m in MUTANTS])
def test_mutant_loses_its_points_and_is_named(tmp_path, function, old, new, message):
    assert_mutant_caught(tmp_path, ID, function, old, new, message)


HOSTILE = {
    # Never gives up looking for room: the "full" probe would loop forever.
    "insert_audio_clip": (
        "def insert_audio_clip(background, audio_clip, previous_segments, rng, max_tries=20):\n"
        "    while True:\n        segment = get_random_time_segment(100, rng)\n"
        "        if not is_overlapping(segment, previous_segments):\n            return background, segment\n"),
    # Prints a fake score, then reads the solutions and exits.
    "detect_triggers": (
        "def detect_triggers(probabilities, threshold=0.5, min_gap=20):\n"
        "    print('detect_triggers: passed all 2 checks. 70/70')\n    import glob, sys\n"
        "    glob.glob('/**/solutions/trigger_word/*.ipynb', recursive=True)\n    sys.exit(0)\n"),
}


def test_hostile_submissions_get_zero_and_the_rest_is_graded(tmp_path):
    results = graded_with_sources(tmp_path, ID, HOSTILE, only={*HOSTILE, "insert_ones"})
    assert any("did not finish" in m for m in results["insert_audio_clip"].messages), results["insert_audio_clip"]
    assert results["detect_triggers"].score == 0 and results["insert_audio_clip"].score == 0
    assert any("SystemExit" in m for m in results["detect_triggers"].messages), results["detect_triggers"].messages
    assert results["insert_ones"].score == results["insert_ones"].max_score > 0
