"""The autograder on speech recognition with CTC: one-bug mutants and hostile submissions."""

from __future__ import annotations

import pytest

from tests.grading_helpers import assert_mutant_caught, graded_with_sources

ID = "ctc_speech"

PROBABILITY_SPACE_FORWARD = '''
def ctc_forward(log_probs, target, blank=0):
    T_x = log_probs.shape[0]
    y_ext = np.full(2 * len(target) + 1, blank)
    y_ext[1::2] = target
    S = len(y_ext)
    probs = np.exp(log_probs)
    alpha = np.zeros((T_x, S))
    alpha[0, :2] = probs[0, y_ext[:2]]
    for t in range(1, T_x):
        for s in range(S):
            total = alpha[t - 1, s] + (alpha[t - 1, s - 1] if s >= 1 else 0.0)
            if s >= 2 and y_ext[s] != blank and y_ext[s] != y_ext[s - 2]:
                total += alpha[t - 1, s - 2]
            alpha[t, s] = total * probs[t, y_ext[s]]
    with np.errstate(divide="ignore"):
        return np.log(alpha), float(-np.log(alpha[-1, -2:].sum()))
'''

# A beam kept as a list: a prefix reached twice is two entries, so its paths are never added up.
UNMERGED_BEAM = '''
def prefix_beam_search(log_probs, beam_width, blank=0):
    beam = [((), 0.0, -np.inf)]
    for log_y in log_probs:
        entries = []
        for prefix, log_p_b, log_p_nb in beam:
            log_p = np.logaddexp(log_p_b, log_p_nb)
            for k, log_y_k in enumerate(log_y):
                if k == blank:
                    entries.append((prefix, log_p + log_y_k, -np.inf))
                elif prefix and k == prefix[-1]:
                    entries.append((prefix, -np.inf, log_p_nb + log_y_k))
                    entries.append((prefix + (k,), -np.inf, log_p_b + log_y_k))
                else:
                    entries.append((prefix + (k,), -np.inf, log_p + log_y_k))
        beam = sorted(entries, key=lambda e: -np.logaddexp(e[1], e[2]))[:beam_width]
    return list(max(beam, key=lambda e: np.logaddexp(e[1], e[2]))[0])
'''

MUTANTS = [
    ("collapse", "        if k != previous and k != blank:\n            labels.append(k)\n",
     "        if k == blank:\n            continue\n        if k != previous:\n            labels.append(k)\n",
     "dropped before repeats are merged"),
    ("collapse", "if k != previous and k != blank:", "if k != blank:", "repeated labels are kept"),
    ("collapse", "if k != previous and k != blank:", "if k != previous:", "the blanks are kept"),
    ("ctc_forward", "can_skip[2:] = (y_ext[2:] != blank) & (y_ext[2:] != y_ext[:-2])", "can_skip[2:] = y_ext[2:] != blank",
     "straight to an equal label"),
    ("ctc_forward", "loss = -np.logaddexp.reduce(alpha[-1, -2:])", "loss = np.logaddexp.reduce(alpha[-1, -2:])",
     "its negative"),
    ("ctc_forward", "loss = -np.logaddexp.reduce(alpha[-1, -2:])", "loss = -alpha[-1, -1]", "end on the last label"),
    ("ctc_backward", "return np.exp(log_probs) - gamma", "return -gamma", "with respect to the log-probabilities"),
    ("ctc_backward", "return np.exp(log_probs) - gamma", "return -gamma / np.exp(log_probs)",
     "with respect to the probabilities"),
    ("ctc_backward", "return np.exp(log_probs) - gamma", "return gamma - np.exp(log_probs)", "wrong sign"),
    ("greedy_decode", "return collapse(np.argmax(log_probs, axis=1), blank)", "return list(np.argmax(log_probs, axis=1))",
     "returned as it is"),
    ("greedy_decode", "return collapse(np.argmax(log_probs, axis=1), blank)",
     "return collapse(np.argmax(log_probs, axis=1))", "whatever the blank argument says"),
    # each prefix keeps only its most probable path of each ending, instead of adding them up
    ("prefix_beam_search", "reached[prefix] = (np.logaddexp(old_b, log_p_b), np.logaddexp(old_nb, log_p_nb))",
     "reached[prefix] = (max(old_b, log_p_b), max(old_nb, log_p_nb))", "(all labellings added up)"),
    # a second k straight after a k, with no blank between: "aa" read where the paths say "a"
    ("prefix_beam_search", "add(prefix + (k,), log_p_nb=log_p_b + log_y_k)",
     "add(prefix + (k,), log_p_nb=log_p + log_y_k)", "(all labellings added up)"),
]


@pytest.mark.parametrize("function,old,new,message", MUTANTS, ids=[f"{m[0]}:{m[3][:30]}" for m in MUTANTS])
def test_mutant_loses_its_points_and_is_named_first(tmp_path, function, old, new, message):
    assert_mutant_caught(tmp_path, ID, function, old, new, message, first=True)


@pytest.mark.parametrize("function,source,message", [
    ("ctc_forward", PROBABILITY_SPACE_FORWARD, "underflows"),
    ("prefix_beam_search", UNMERGED_BEAM, "must be merged"),
], ids=["forward in probability space", "beam as a list"])
def test_rewritten_function_loses_its_points_and_is_named(tmp_path, function, source, message):
    result = graded_with_sources(tmp_path, ID, {function: source}, only={function})[function]
    assert result.score == 0, result.messages
    assert message in result.messages[0], result.messages


HOSTILE = {
    # Equal to everything: a grader that trusted == would give full marks.
    "ctc_forward": (
        "class Anything(float):\n    def __eq__(self, other):\n        return True\n    __hash__ = float.__hash__\n"
        "def ctc_forward(log_probs, target, blank=0):\n    return Anything(0.0), Anything(0.0)\n"),
    # Prints a fake score, then reads the solutions and exits.
    "collapse": (
        "def collapse(path, blank=0):\n    print('collapse: passed all 4 checks. 10/10')\n    import glob, sys\n"
        "    glob.glob('/**/solutions/ctc_speech/*.ipynb', recursive=True)\n    sys.exit(0)\n"),
    # Never ends.
    "prefix_beam_search": "def prefix_beam_search(log_probs, beam_width, blank=0):\n    while True:\n        pass\n",
    # Reaches for the network, then kills its own process.
    "greedy_decode": (
        "def greedy_decode(log_probs, blank=0):\n    import os, socket\n    try:\n"
        "        socket.create_connection(('pypi.org', 443), timeout=2)\n    except OSError:\n        pass\n"
        "    os._exit(0)\n"),
}


def test_hostile_submissions_get_zero_and_the_rest_is_graded(tmp_path):
    results = graded_with_sources(tmp_path, ID, HOSTILE)
    for name in HOSTILE:
        assert results[name].score == 0, (name, results[name].messages)
    assert any("did not finish" in m for m in results["prefix_beam_search"].messages)
    assert any("SystemExit" in m for m in results["collapse"].messages), results["collapse"].messages
    assert results["ctc_backward"].score == results["ctc_backward"].max_score > 0, results["ctc_backward"].messages
