"""Check packs (autograder.checkpack): what they hold, and that check() from a pack says what it says from the
solutions. The whole released-folder run is in test_checkpack_released.py."""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import re

import numpy as np
import pytest

from autograder import checkpack, grade, notebook, packbuild, packvalues, runtime, wire
from autograder.assignments import get_assignment, known_ids
from autograder.feedback import check
from tests.grading_helpers import solution_notebook, with_cell_edit
from tests.learner_mistakes import CASES, NOTEBOOK_GLOBALS


def pack_folder(assignment_id: str):
    return runtime.REPO / "assignments" / assignment_id / checkpack.FOLDER


def learner(assignment_id: str, edits: list[tuple[str, str, str]] = ()) -> dict:
    """The solution's graded code with some edits ({grade_id, old, new}), as a learner's kernel holds it."""
    nb = solution_notebook(assignment_id)
    for grade_id, old, new in edits:
        nb = with_cell_edit(nb, grade_id, old, new)
    graded = runtime.solution_ids(runtime.solution_notebook(assignment_id), get_assignment(assignment_id))
    namespace, problems = runtime.build_namespace(notebook.definitions(nb, graded), "learner")
    assert not problems
    return namespace


def checked(assignment_id: str, function, pack=None) -> str:
    """What check() prints or raises; ``pack``: None for the solutions (the test runs from the repository)."""
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            check(assignment_id, function, pack=pack)
    except AssertionError as exc:
        return str(exc)
    return out.getvalue().strip()


# ---------------------------------------------------------------- what a pack holds

@pytest.mark.parametrize("assignment_id", known_ids())
def test_every_assignment_ships_a_pack_built_from_its_current_solution_and_spec(assignment_id):
    pack = checkpack.find(assignment_id, pack_folder(assignment_id))
    assert pack.fingerprint == packbuild.fingerprint(assignment_id), \
        f"regenerate it: python -m autograder.packbuild {assignment_id}"
    files = sorted(p.name for p in pack_folder(assignment_id).iterdir())
    assert files == [packvalues.ARRAYS_NAME, packvalues.JSON_NAME]
    assert set(pack._reader.document["functions"]) == {f.name for f in get_assignment(assignment_id).functions}


@pytest.mark.parametrize("assignment_id", known_ids())
def test_a_pack_holds_no_line_of_the_solutions_and_only_numeric_arrays(assignment_id):
    with gzip.open(pack_folder(assignment_id) / packvalues.JSON_NAME, "rt") as f:
        text = f.read()
    written = []
    for cell in runtime.solution_notebook(assignment_id)["cells"]:
        source = cell["source"]
        for number in sorted(notebook.region_lines(source, "SOLUTION")):
            line = source.splitlines()[number - 1].strip()
            if len(line) >= 12 and not line.startswith(("#", "###")):
                written.append(line)
    assert len(written) > 10
    # JSON escapes quotes and non-ASCII characters: look for each line as JSON writes it too.
    leaked = [line for line in written if line in text or json.dumps(line)[1:-1] in text]
    assert not leaked, leaked[:3]
    with np.load(pack_folder(assignment_id) / packvalues.ARRAYS_NAME, allow_pickle=False) as npz:
        assert all(npz[name].dtype.kind in "biuf" for name in npz.files)


def test_values_come_back_as_written_and_differences_from_drawn_probes_survive_their_last_bits(tmp_path):
    """Arrays stored as differences (bitwise from stored arrays; arithmetic from arrays the reader draws again)
    come back exactly, or within a rounding when the reader's drawn array differs in its last bits."""
    rng = np.random.default_rng(0)
    background = rng.standard_normal(5_000).astype(np.float32)
    mixed = background.copy()
    mixed[1_000:1_500] += rng.standard_normal(500).astype(np.float32)
    again = mixed.copy()
    again[4_000:4_100] = 7.0
    values = [{"x": mixed, "n": 3, "s": "text", "loss": np.float64(2.5)},
              (again, np.arange(200), np.ones(100, dtype=bool)), rng.standard_normal((20, 30)), np.array(-1.5)]
    writer = packvalues.Writer()
    writer.scope = "f"
    writer.external(checkpack.external_name("f", 0, "a0"), background)
    indices = [writer.value(v) for v in values]
    assert writer.bases[writer.values[writer.value(mixed)]] == 0  # a difference from the external background
    writer.save(tmp_path, {})
    reader = packvalues.Reader(tmp_path)
    drawn = np.nextafter(background, np.float32(np.inf))  # another machine's last bits
    assert reader.provide(checkpack.external_name("f", 0, "a0"), drawn)
    first, second, third, fourth = (reader.value(i) for i in indices)
    assert first["n"] == 3 and first["s"] == "text" and first["loss"].shape == () and first["loss"] == 2.5
    assert fourth.shape == () and fourth == -1.5  # numpy scalars and 0-d arrays keep their shape
    assert np.allclose(first["x"], mixed, rtol=0, atol=1e-6) and not np.array_equal(first["x"], mixed)
    assert np.allclose(second[0], again, rtol=0, atol=1e-6)
    assert np.array_equal(second[1], values[1][1]) and second[2].dtype == bool and second[2].all()
    assert np.array_equal(third, values[2])  # no base: exact
    (tmp_path / "exact").mkdir()
    writer.save(tmp_path / "exact", {})
    exact = packvalues.Reader(tmp_path / "exact")
    exact.provide(checkpack.external_name("f", 0, "a0"), background)
    assert np.array_equal(exact.value(indices[0])["x"], mixed)


# ---------------------------------------------------------------- check probes are not grading probes

# Functions whose probes draw nothing random (fixed cases in the spec): their check probes are the grader's.
FIXED = {"ctc_speech": {"collapse"}, "emojify": {"sentences_to_indices"},
         "trigger_word": {"get_random_time_segment", "is_overlapping", "insert_ones", "detect_triggers"}}


@pytest.mark.parametrize("assignment_id", known_ids())
def test_a_packs_probes_are_not_the_graders(assignment_id):
    """Grading draws each function's probes from [seed, index]; a pack, from [seed, index, 1]. Every function
    with a random probe has some check probe unlike all of its grading probes; only the FIXED ones have not."""
    assignment = get_assignment(assignment_id)
    reference = runtime.load_reference(assignment)
    pack = checkpack.find(assignment_id, pack_folder(assignment_id))
    fixed = set()
    for spec in assignment.functions:
        ours = pack.function(assignment, spec).probes
        theirs = grade.probes_for(assignment, spec, reference)
        assert [p.name for p in ours] == [p.name for p in theirs]
        if all(wire.encode(p.kwargs) == wire.encode(q.kwargs) for p, q in zip(ours, theirs)):
            fixed.add(spec.name)
    assert fixed == FIXED.get(assignment_id, set())


# ---------------------------------------------------------------- the same verdicts as from the solutions

def test_every_realistic_mistake_of_the_first_assignment_gets_the_same_feedback_from_the_pack():
    """The corpus of 44 realistic wrong functions (tests/learner_mistakes.py): check() from the pack says word
    for word what it says from the solutions, the named mistakes included."""
    pack = pack_folder("rnn_step_by_step")
    named = 0
    for case in CASES:
        namespace = learner("rnn_step_by_step")
        exec(NOTEBOOK_GLOBALS.get(case.id, ""), namespace)  # noqa: S102 - the learner's other cells
        exec(case.source, namespace)  # noqa: S102 - the learner's cell
        from_pack = checked("rnn_step_by_step", namespace[case.function], pack)
        assert from_pack == checked("rnn_step_by_step", namespace[case.function]), case.id
        named += "likely mistake" in from_pack
    assert named >= 30


AGREE = [  # (assignment, function, edits, the message the mistake gets): functions with helpers where there are
    ("ctc_speech", "ctc_backward", [("ctc_backward", "return np.exp(log_probs) - gamma", "return -gamma")],
     "with respect to the log-probabilities"),
    ("date_translation", "greedy_decode",
     [("greedy_decode", "y_prev = torch.tensor([y])", "y_prev = torch.tensor([SOS])")], "never feeds its choice back"),
    ("dinosaurus_island", "optimize", [("optimize", "update_parameters(parameters, gradients, learning_rate)",
                                        "update_parameters(parameters, gradients, 0.01)")], "ignores learning_rate"),
    ("emojify", "model", [("model", "dz = a - Y_oh[i]", "dz = Y_oh[i] - a")], "moves W and b up the gradient"),
    ("jazz_improvisation", "predict_and_sample", [("predict_and_sample", "with torch.no_grad():", "if True:")],
     "with gradients on"),
    ("trigger_word", "create_training_example",
     [("create_training_example", "y = insert_ones(y, segment[1])", "y = insert_ones(y, segment[0])")], "wrong values"),
    ("word_vectors", "complete_analogy",
     [("complete_analogy", "target = e_c - e_a + e_b", "target = e_c - e_b + e_a")],
     "the relation the wrong way round"),
]


@pytest.mark.parametrize("assignment_id,function,edits,message", AGREE, ids=[a[0] for a in AGREE])
def test_a_pack_gives_the_solutions_verdicts(assignment_id, function, edits, message):
    pack = pack_folder(assignment_id)
    right = learner(assignment_id)[function]
    passed = checked(assignment_id, right, pack)
    assert passed == checked(assignment_id, right) and re.fullmatch(rf"{function}: passed all \d+ checks?\.", passed)
    wrong = learner(assignment_id, edits)[function]
    from_pack = checked(assignment_id, wrong, pack)
    assert from_pack == checked(assignment_id, wrong) and from_pack.startswith(f"{function}:\n  - ")
    assert message in from_pack


# ---------------------------------------------------------------- functions graded with the reference's helpers

CELL_SLIP = ("rnn_cell_forward", "a_next = np.tanh(", "a_next = sigmoid(")
STATE_SLIP = ("rnn_forward", "rnn_cell_forward(x[:, :, t], a_next, parameters)",
              "rnn_cell_forward(x[:, :, t], a0, parameters)")


def test_a_function_that_calls_its_helper_as_the_reference_does_passes_with_a_wrong_helper_of_the_learners():
    pack = pack_folder("rnn_step_by_step")
    kernel = learner("rnn_step_by_step", [CELL_SLIP])
    own_cell = kernel["rnn_cell_forward"]
    assert checked("rnn_step_by_step", kernel["rnn_forward"], pack) == "rnn_forward: passed all 1 check."
    assert kernel["rnn_cell_forward"] is own_cell  # the learner's own cell is back in their namespace
    assert "sigmoid" in checked("rnn_step_by_step", own_cell, pack)


def test_a_function_that_calls_its_helper_otherwise_runs_with_the_learners_own_and_says_so_when_that_one_is_wrong():
    """rnn_forward passing a0 at every step asks the pack for answers it does not hold: the learner's own cell
    answers. Right, the messages are the solutions'; wrong, they say to fix the cell first."""
    pack = pack_folder("rnn_step_by_step")
    only_state = learner("rnn_step_by_step", [STATE_SLIP])["rnn_forward"]
    from_pack = checked("rnn_step_by_step", only_state, pack)
    assert from_pack == checked("rnn_step_by_step", only_state)
    assert "likely mistake: the call to rnn_cell_forward gets a0 where it needs a_next" in from_pack
    both = learner("rnn_step_by_step", [STATE_SLIP, CELL_SLIP])["rnn_forward"]
    assert checked("rnn_step_by_step", both, pack).endswith(
        "the check pack holds no answers for the calls rnn_forward made to rnn_cell_forward on the random input, so "
        "your own rnn_cell_forward ran there, and it does not pass its own check yet: fix that first")


def test_torch_functions_are_checked_with_the_recorded_model_and_the_torch_seed_is_left_alone():
    """music_inference and predict_and_sample call the reference JazzLSTM (a torch module, with the calls back of
    the driver's wrapped step): from the pack they pass with a broken JazzLSTM of the learner's, and a check leaves
    torch's global random state as it found it."""
    import torch

    pack = pack_folder("jazz_improvisation")
    torch.manual_seed(5)
    state = torch.get_rng_state()
    kernel = learner("jazz_improvisation", [("JazzLSTM", "return self.densor(a_t), a_t, c_t",
                                             "return self.densor(a_t), c_t, a_t")])
    named = checked("jazz_improvisation", kernel["JazzLSTM"], pack)
    assert "likely mistake: step returns (logits_t, c_t, a_t)" in named
    for name in ("music_inference", "predict_and_sample"):
        assert checked("jazz_improvisation", kernel[name], pack).startswith(f"{name}: passed all")
    assert torch.equal(torch.get_rng_state(), state)
