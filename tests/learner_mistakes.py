"""Realistic wrong solutions of the assignment ``rnn_step_by_step``.

Used by the feedback tests and bench/bench_feedback.py: each case is a whole solution cell as a learner
would write it. A learner keeps the signature, the docstring and the template lines of the cell and
writes their own body where the stub raised ``NotImplementedError``, so every source below is the
student template with that line replaced by the learner's code. Every case loses all the points of
its function.

The cases of kind ``unknown_name`` use a variable that only exists in another cell of the learner's
notebook; ``NOTEBOOK_GLOBALS`` holds that cell's code (a non-graded cell placed right after the
function's cell), by case id.
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass
from pathlib import Path

ASSIGNMENT = "rnn_step_by_step"

KINDS = ("aliasing", "wrong_input", "reduction", "accumulation", "unknown_name", "lstm_gate", "other")


@dataclass(frozen=True)
class Case:
    id: str  # short unique slug
    function: str  # the graded function the cell defines
    kind: str  # one of KINDS
    source: str  # the whole cell source the learner wrote (a complete `def ...`)
    note: str  # one sentence: what the learner got wrong


_STUDENT_NOTEBOOK = Path(__file__).resolve().parents[1] / "assignments" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
_STUB = "    raise NotImplementedError()\n"


def _templates() -> dict[str, str]:
    """The source of every solution cell of the student notebook, by grade_id."""
    cells = json.loads(_STUDENT_NOTEBOOK.read_text())["cells"]
    nbgrader = [(c, c.get("metadata", {}).get("nbgrader", {})) for c in cells]
    return {meta["grade_id"]: "".join(c["source"]) for c, meta in nbgrader if meta.get("solution")}


_TEMPLATES = _templates()


def _cell(function: str, body: str) -> str:
    """The cell of ``function`` with the learner's ``body`` (written without indentation) in place of the stub."""
    template = _TEMPLATES[function]
    if template.count(_STUB) != 1:
        raise ValueError(f"the template of {function} has no single stub line")
    return template.replace(_STUB, textwrap.indent(textwrap.dedent(body).strip("\n"), "    ") + "\n")


CASES: list[Case] = [
    # aliasing: a cached array is a view or a buffer that the code changes afterwards
    Case(
        id="lstm-forward-c0-view-of-c",
        function="lstm_forward",
        kind="aliasing",
        source=_cell("lstm_forward", """
            a = np.zeros((n_a, m, T_x))
            c = np.zeros((n_a, m, T_x))
            y = np.zeros((n_y, m, T_x))
            a_next = a0
            c_next = c[:, :, 0]  # c<0> is zero and c is still all zeros
            for t in range(T_x):
                a_next, c_next, yt, cache = lstm_cell_forward(x[:, :, t], a_next, c_next, parameters)
                a[:, :, t] = a_next
                c[:, :, t] = c_next
                y[:, :, t] = yt
                caches.append(cache)
        """),
        note="c<0> is a view of c[:, :, 0], so the first step's cached c_prev becomes c<1> when the loop "
             "stores it; a, y and c are right but the caches are not.",
    ),
    Case(
        id="rnn-forward-a0-written-into-a",
        function="rnn_forward",
        kind="aliasing",
        source=_cell("rnn_forward", """
            a = np.zeros((n_a, m, T_x))
            y_pred = np.zeros((n_y, m, T_x))
            # start from a0
            a_prev = a[:, :, 0]
            a_prev[:] = a0
            for t in range(T_x):
                xt = x[:, :, t]
                a_next, yt_pred, cache = rnn_cell_forward(xt, a_prev, parameters)
                a[:, :, t] = a_next
                y_pred[:, :, t] = yt_pred
                caches.append(cache)
                a_prev = a_next
        """),
        note="a0 is copied into a[:, :, 0] and passed as a view of it, so the first cache's a_prev is "
             "overwritten with a<1>.",
    ),
    Case(
        id="rnn-forward-state-buffer",
        function="rnn_forward",
        kind="aliasing",
        source=_cell("rnn_forward", """
            a = np.zeros((n_a, m, T_x))
            y_pred = np.zeros((n_y, m, T_x))
            a_prev = a0.copy()  # copy so that a0 is not changed
            for t in range(T_x):
                a_next, yt_pred, cache = rnn_cell_forward(x[:, :, t], a_prev, parameters)
                a[:, :, t] = a_next
                y_pred[:, :, t] = yt_pred
                caches.append(cache)
                a_prev[:] = a_next  # update the state in place
        """),
        note="The state is updated in place in one buffer, so every cache's a_prev is that same array and "
             "ends up holding the last state.",
    ),
    Case(
        id="lstm-forward-state-buffers",
        function="lstm_forward",
        kind="aliasing",
        source=_cell("lstm_forward", """
            a = np.zeros((n_a, m, T_x))
            c = np.zeros_like(a)
            y = np.zeros((n_y, m, T_x))
            a_next = np.copy(a0)
            c_next = np.zeros((n_a, m))
            for t in range(T_x):
                a_new, c_new, yt, cache = lstm_cell_forward(x[:, :, t], a_next, c_next, parameters)
                caches.append(cache)
                a[:, :, t], c[:, :, t], y[:, :, t] = a_new, c_new, yt
                # carry the states to the next step
                a_next[:] = a_new
                c_next[:] = c_new
        """),
        note="a_next and c_next are overwritten in place each step, so all caches share one a_prev and one "
             "c_prev holding the final states.",
    ),
    Case(
        id="lstm-cell-c-next-in-place",
        function="lstm_cell_forward",
        kind="aliasing",
        source=_cell("lstm_cell_forward", """
            concat = np.vstack((a_prev, xt))
            ft = sigmoid(np.dot(Wf, concat) + bf)
            it = sigmoid(np.dot(Wi, concat) + bi)
            cct = np.tanh(np.dot(Wc, concat) + bc)
            # c_next = ft * c_prev + it * cct
            c_next = c_prev
            c_next *= ft
            c_next += it * cct
            ot = sigmoid(np.dot(Wo, concat) + bo)
            a_next = ot * np.tanh(c_next)
            yt_pred = softmax(np.dot(Wy, a_next) + by)
        """),
        note="c_next is built in place in c_prev, which changes the caller's c_prev and makes the cached "
             "c_prev equal to c_next.",
    ),
    Case(
        id="lstm-cell-ot-scaled-in-place",
        function="lstm_cell_forward",
        kind="aliasing",
        source=_cell("lstm_cell_forward", """
            concat = np.concatenate((a_prev, xt))
            ft = sigmoid(Wf @ concat + bf)
            it = sigmoid(Wi @ concat + bi)
            cct = np.tanh(Wc @ concat + bc)
            c_next = ft * c_prev + it * cct
            ot = sigmoid(Wo @ concat + bo)
            a_next = ot
            a_next *= np.tanh(c_next)
            yt_pred = softmax(Wy @ a_next + by)
        """),
        note="a_next is computed in place in ot, so the cached output gate is a_next rather than the gate.",
    ),

    # wrong_input: the wrong state, input or time step is used
    Case(
        id="rnn-cell-y-from-a-prev",
        function="rnn_cell_forward",
        kind="wrong_input",
        source=_cell("rnn_cell_forward", """
            z = np.dot(Waa, a_prev) + np.dot(Wax, xt) + ba
            a_next = np.tanh(z)
            yt_pred = softmax(np.dot(Wya, a_prev) + by)
        """),
        note="The prediction is computed from a_prev instead of the new state a_next.",
    ),
    Case(
        id="rnn-forward-previous-column",
        function="rnn_forward",
        kind="wrong_input",
        source=_cell("rnn_forward", """
            a = np.zeros((n_a, m, T_x))
            y_pred = np.zeros((n_y, m, T_x))
            for t in range(T_x):
                # the state before step t is the column before t
                a[:, :, t], y_pred[:, :, t], cache = rnn_cell_forward(x[:, :, t], a[:, :, t - 1], parameters)
                caches.append(cache)
        """),
        note="Each step is fed a[:, :, t - 1], which at t = 0 is the still-zero last column, so a0 is never used.",
    ),
    Case(
        id="lstm-forward-state-from-outputs",
        function="lstm_forward",
        kind="wrong_input",
        source=_cell("lstm_forward", """
            a = np.zeros((n_a, m, T_x))
            c = np.zeros((n_a, m, T_x))
            y = np.zeros((n_y, m, T_x))
            for t in range(T_x):
                a_next, c_next, yt, cache = lstm_cell_forward(x[:, :, t], a[:, :, t], c[:, :, t], parameters)
                a[:, :, t] = a_next
                c[:, :, t] = c_next
                y[:, :, t] = yt
                caches.append(cache)
        """),
        note="Every step reads its states from the still-zero columns a[:, :, t] and c[:, :, t], so nothing is "
             "carried between steps and a0 is ignored.",
    ),
    Case(
        id="lstm-cell-a-from-c-prev",
        function="lstm_cell_forward",
        kind="wrong_input",
        source=_cell("lstm_cell_forward", """
            concat = np.concatenate([a_prev, xt], axis=0)
            # gates
            ft = sigmoid(Wf @ concat + bf)
            it = sigmoid(Wi @ concat + bi)
            ot = sigmoid(Wo @ concat + bo)
            # memory cell
            cct = np.tanh(Wc @ concat + bc)
            c_next = ft * c_prev + it * cct
            a_next = ot * np.tanh(c_prev)
            yt_pred = softmax(Wy @ a_next + by)
        """),
        note="a_next shows tanh(c_prev) where it needs the new cell c_next.",
    ),
    Case(
        id="lstm-forward-xt-outside-loop",
        function="lstm_forward",
        kind="wrong_input",
        source=_cell("lstm_forward", """
            a = np.zeros((n_a, m, T_x))
            c = np.zeros((n_a, m, T_x))
            y = np.zeros((n_y, m, T_x))
            xt = x[:, :, 0]
            a_next = a0
            c_next = np.zeros_like(a0)
            for t in range(T_x):
                a_next, c_next, yt, cache = lstm_cell_forward(xt, a_next, c_next, parameters)
                a[:, :, t] = a_next
                c[:, :, t] = c_next
                y[:, :, t] = yt
                caches.append(cache)
        """),
        note="xt is taken once before the loop, so every step reads the first input x[:, :, 0].",
    ),
    Case(
        id="lstm-forward-a0-ignored",
        function="lstm_forward",
        kind="wrong_input",
        source=_cell("lstm_forward", """
            a = np.zeros((n_a, m, T_x))
            c = np.zeros((n_a, m, T_x))
            y = np.zeros((n_y, m, T_x))
            # both states start at zero
            a_next = np.zeros((n_a, m))
            c_next = np.zeros((n_a, m))
            for t in range(T_x):
                a_next, c_next, yt_pred, cache = lstm_cell_forward(x[:, :, t], a_next, c_next, parameters)
                a[:, :, t] = a_next
                c[:, :, t] = c_next
                y[:, :, t] = yt_pred
                caches.append(cache)
        """),
        note="The hidden state starts at zero like the memory cell, so the given a0 is never used.",
    ),
    Case(
        id="lstm-cell-backward-concat-a-next",
        function="lstm_cell_backward",
        kind="wrong_input",
        source=_cell("lstm_cell_backward", """
            tanh_c = np.tanh(c_next)
            dc = dc_next + da_next * ot * (1 - tanh_c ** 2)
            dot = da_next * tanh_c * ot * (1 - ot)
            dcct = dc * it * (1 - cct ** 2)
            dit = dc * cct * it * (1 - it)
            dft = dc * c_prev * ft * (1 - ft)
            concat = np.concatenate([a_next, xt], axis=0)
            dWf = dft @ concat.T
            dWi = dit @ concat.T
            dWc = dcct @ concat.T
            dWo = dot @ concat.T
            dbf = np.sum(dft, axis=1, keepdims=True)
            dbi = np.sum(dit, axis=1, keepdims=True)
            dbc = np.sum(dcct, axis=1, keepdims=True)
            dbo = np.sum(dot, axis=1, keepdims=True)
            dconcat = Wf.T @ dft + Wi.T @ dit + Wc.T @ dcct + Wo.T @ dot
            da_prev = dconcat[:n_a]
            dxt = dconcat[n_a:]
            dc_prev = dc * ft
        """),
        note="The stacked input for the weight gradients is built from a_next instead of a_prev.",
    ),
    Case(
        id="rnn-backward-enumerate-reversed-caches",
        function="rnn_backward",
        kind="wrong_input",
        source=_cell("rnn_backward", """
            dx = np.zeros((n_x, m, T_x))
            dWax = np.zeros((n_a, n_x))
            dWaa = np.zeros((n_a, n_a))
            dba = np.zeros((n_a, 1))
            da_prevt = np.zeros((n_a, m))
            # go through the steps from the last one to the first
            for t, cache in enumerate(reversed(cell_caches)):
                grads = rnn_cell_backward(da[:, :, t] + da_prevt, cache)
                dx[:, :, t] = grads["dxt"]
                da_prevt = grads["da_prev"]
                dWax += grads["dWax"]
                dWaa += grads["dWaa"]
                dba += grads["dba"]
            da0 = da_prevt
        """),
        note="The caches are walked backwards but t counts forwards, so each step gets da and writes dx at "
             "the mirrored time step.",
    ),

    # reduction: a gradient built from the wrong factor, or reduced over the wrong axis or with a mean
    Case(
        id="rnn-cell-backward-mean-bias",
        function="rnn_cell_backward",
        kind="reduction",
        source=_cell("rnn_cell_backward", """
            dz = da_next * (1 - a_next ** 2)
            dxt = Wax.T @ dz
            dWax = dz @ xt.T
            da_prev = Waa.T @ dz
            dWaa = dz @ a_prev.T
            dba = np.mean(dz, axis=1, keepdims=True)  # average over the batch
        """),
        note="The bias gradient averages dz over the batch where it needs the sum.",
    ),
    Case(
        id="rnn-cell-backward-dwaa-from-da-prev",
        function="rnn_cell_backward",
        kind="reduction",
        source=_cell("rnn_cell_backward", """
            dtanh = (1 - a_next ** 2) * da_next
            dxt = np.dot(Wax.T, dtanh)
            dWax = np.dot(dtanh, xt.T)
            da_prev = np.dot(Waa.T, dtanh)
            dWaa = np.dot(dtanh, da_prev.T)
            dba = np.sum(dtanh, 1, keepdims=True)
        """),
        note="dWaa is the product of dz with da_prev (a gradient) instead of with the state a_prev.",
    ),
    Case(
        id="rnn-cell-backward-dwax-from-a-prev",
        function="rnn_cell_backward",
        kind="reduction",
        source=_cell("rnn_cell_backward", """
            dz = da_next * (1 - np.square(a_next))
            dxt = Wax.T @ dz
            da_prev = Waa.T @ dz
            dWax = dz @ a_prev.T
            dWaa = dz @ a_prev.T
            dba = dz.sum(axis=1, keepdims=True)
        """),
        note="dWax is built from a_prev (copied from the dWaa line) instead of xt.",
    ),
    Case(
        id="lstm-cell-backward-bias-axis0",
        function="lstm_cell_backward",
        kind="reduction",
        source=_cell("lstm_cell_backward", """
            dc = dc_next + da_next * ot * (1 - np.tanh(c_next) ** 2)
            dot = da_next * np.tanh(c_next) * ot * (1 - ot)
            dcct = dc * it * (1 - cct ** 2)
            dit = dc * cct * it * (1 - it)
            dft = dc * c_prev * ft * (1 - ft)
            concat = np.concatenate((a_prev, xt), axis=0)
            dWf = np.dot(dft, concat.T)
            dWi = np.dot(dit, concat.T)
            dWc = np.dot(dcct, concat.T)
            dWo = np.dot(dot, concat.T)
            dbf = np.sum(dft, axis=0, keepdims=True)
            dbi = np.sum(dit, axis=0, keepdims=True)
            dbc = np.sum(dcct, axis=0, keepdims=True)
            dbo = np.sum(dot, axis=0, keepdims=True)
            da_prev = (np.dot(Wf[:, :n_a].T, dft) + np.dot(Wi[:, :n_a].T, dit)
                       + np.dot(Wc[:, :n_a].T, dcct) + np.dot(Wo[:, :n_a].T, dot))
            dxt = (np.dot(Wf[:, n_a:].T, dft) + np.dot(Wi[:, n_a:].T, dit)
                   + np.dot(Wc[:, n_a:].T, dcct) + np.dot(Wo[:, n_a:].T, dot))
            dc_prev = dc * ft
        """),
        note="The bias gradients sum over axis 0 (the units) instead of axis 1 (the batch), giving rows of "
             "shape (1, m).",
    ),
    Case(
        id="lstm-cell-backward-divide-by-m",
        function="lstm_cell_backward",
        kind="reduction",
        source=_cell("lstm_cell_backward", """
            tanh_c = np.tanh(c_next)
            dc = dc_next + da_next * ot * (1 - tanh_c ** 2)
            dot = da_next * tanh_c * ot * (1 - ot)
            dcct = dc * it * (1 - cct ** 2)
            dit = dc * cct * it * (1 - it)
            dft = dc * c_prev * ft * (1 - ft)
            concat = np.concatenate([a_prev, xt])
            # average the parameter gradients over the m examples
            dWf = dft @ concat.T / m
            dWi = dit @ concat.T / m
            dWc = dcct @ concat.T / m
            dWo = dot @ concat.T / m
            dbf = np.sum(dft, axis=1, keepdims=True) / m
            dbi = np.sum(dit, axis=1, keepdims=True) / m
            dbc = np.sum(dcct, axis=1, keepdims=True) / m
            dbo = np.sum(dot, axis=1, keepdims=True) / m
            dconcat = Wf.T @ dft + Wi.T @ dit + Wc.T @ dcct + Wo.T @ dot
            da_prev = dconcat[:n_a, :]
            dxt = dconcat[n_a:, :]
            dc_prev = dc * ft
        """),
        note="The weight and bias gradients are divided by m as in a mean loss, but the gradient asked for "
             "is of a sum.",
    ),
    Case(
        id="rnn-backward-average-over-time",
        function="rnn_backward",
        kind="reduction",
        source=_cell("rnn_backward", """
            dx = np.zeros((n_x, m, T_x))
            dWax = np.zeros((n_a, n_x))
            dWaa = np.zeros((n_a, n_a))
            dba = np.zeros((n_a, 1))
            da_prevt = np.zeros((n_a, m))
            for t in reversed(range(T_x)):
                grads = rnn_cell_backward(da[:, :, t] + da_prevt, cell_caches[t])
                dx[:, :, t] = grads["dxt"]
                da_prevt = grads["da_prev"]
                dWax += grads["dWax"]
                dWaa += grads["dWaa"]
                dba += grads["dba"]
            # the weights are shared, so take the average over the steps
            dWax /= T_x
            dWaa /= T_x
            dba /= T_x
            da0 = da_prevt
        """),
        note="The shared weights' gradients are averaged over the time steps instead of summed.",
    ),

    # accumulation: slips in how the backward loops add up the steps
    Case(
        id="rnn-backward-adds-own-total",
        function="rnn_backward",
        kind="accumulation",
        source=_cell("rnn_backward", """
            dx = np.zeros((n_x, m, T_x))
            dWax = np.zeros((n_a, n_x))
            dWaa = np.zeros((n_a, n_a))
            dba = np.zeros((n_a, 1))
            da_prevt = np.zeros((n_a, m))
            for t in reversed(range(T_x)):
                gradients = rnn_cell_backward(da[:, :, t] + da_prevt, cell_caches[t])
                dxt, da_prevt = gradients["dxt"], gradients["da_prev"]
                dWaxt, dWaat, dbat = gradients["dWax"], gradients["dWaa"], gradients["dba"]
                dx[:, :, t] = dxt
                dWax += dWax
                dWaa += dWaa
                dba += dba
            da0 = da_prevt
        """),
        note="Each total is added to itself instead of the step's gradient, so dWax, dWaa and dba stay zero.",
    ),
    Case(
        id="rnn-backward-overwrites-gradients",
        function="rnn_backward",
        kind="accumulation",
        source=_cell("rnn_backward", """
            dx = np.zeros((n_x, m, T_x))
            da_prevt = np.zeros((n_a, m))
            for t in range(T_x - 1, -1, -1):
                grads = rnn_cell_backward(da[:, :, t] + da_prevt, cell_caches[t])
                dx[:, :, t] = grads["dxt"]
                da_prevt = grads["da_prev"]
                dWax = grads["dWax"]
                dWaa = grads["dWaa"]
                dba = grads["dba"]
            da0 = da_prevt
        """),
        note="The weight gradients are assigned with = at every step, so only the first step's gradient is "
             "returned.",
    ),
    Case(
        id="rnn-backward-da-prev-summed",
        function="rnn_backward",
        kind="accumulation",
        source=_cell("rnn_backward", """
            dx = np.zeros((n_x, m, T_x))
            dWax, dWaa, dba = np.zeros((n_a, n_x)), np.zeros((n_a, n_a)), np.zeros((n_a, 1))
            da_prevt = np.zeros((n_a, m))
            for t in reversed(range(T_x)):
                grads = rnn_cell_backward(da[:, :, t] + da_prevt, cell_caches[t])
                dx[:, :, t] = grads["dxt"]
                dWax += grads["dWax"]
                dWaa += grads["dWaa"]
                dba += grads["dba"]
                da_prevt += grads["da_prev"]
            da0 = da_prevt
        """),
        note="The gradient carried back is accumulated over all later steps instead of being replaced by "
             "the step's da_prev.",
    ),
    Case(
        id="lstm-backward-dc-not-carried",
        function="lstm_backward",
        kind="accumulation",
        source=_cell("lstm_backward", """
            dx = np.zeros((n_x, m, T_x))
            totals = {}
            for name in ["dWf", "dWi", "dWc", "dWo"]:
                totals[name] = np.zeros((n_a, n_a + n_x))
            for name in ["dbf", "dbi", "dbc", "dbo"]:
                totals[name] = np.zeros((n_a, 1))
            da_prevt = np.zeros((n_a, m))
            dc_prevt = np.zeros((n_a, m))
            for t in reversed(range(T_x)):
                grads = lstm_cell_backward(da[:, :, t] + da_prevt, dc_prevt, cell_caches[t])
                dx[:, :, t] = grads["dxt"]
                da_prevt = grads["da_prev"]
                for name in totals:
                    totals[name] += grads[name]
            da0 = da_prevt
        """),
        note="dc_prev is never carried back, so every step receives a zero gradient on its memory cell.",
    ),
    Case(
        id="lstm-backward-totals-overwritten",
        function="lstm_backward",
        kind="accumulation",
        source=_cell("lstm_backward", """
            dx = np.zeros((n_x, m, T_x))
            da_prevt = np.zeros((n_a, m))
            dc_prevt = np.zeros((n_a, m))
            for t in reversed(range(T_x)):
                grads = lstm_cell_backward(da[:, :, t] + da_prevt, dc_prevt, cell_caches[t])
                dx[:, :, t] = grads["dxt"]
                da_prevt = grads["da_prev"]
                dc_prevt = grads["dc_prev"]
                totals = {k: grads[k] for k in ("dWf", "dWi", "dWc", "dWo", "dbf", "dbi", "dbc", "dbo")}
            da0 = da_prevt
        """),
        note="totals is rebuilt from the step's gradients at every step, so only the first step counts.",
    ),
    Case(
        id="lstm-backward-da-only-at-last-step",
        function="lstm_backward",
        kind="accumulation",
        source=_cell("lstm_backward", """
            dx = np.zeros((n_x, m, T_x))
            totals = {k: np.zeros((n_a, n_a + n_x)) for k in ["dWf", "dWi", "dWc", "dWo"]}
            totals.update({k: np.zeros((n_a, 1)) for k in ["dbf", "dbi", "dbc", "dbo"]})
            da_next = da[:, :, T_x - 1]
            dc_next = np.zeros((n_a, m))
            for t in reversed(range(T_x)):
                grads = lstm_cell_backward(da_next, dc_next, cell_caches[t])
                dx[:, :, t] = grads["dxt"]
                da_next, dc_next = grads["da_prev"], grads["dc_prev"]
                for k in totals:
                    totals[k] += grads[k]
            da0 = da_next
        """),
        note="da enters only at the last step; the earlier steps get da_prev alone without their own "
             "da[:, :, t].",
    ),

    # unknown_name: a variable of another notebook cell is used instead of an argument
    Case(
        id="rnn-forward-parameters-tmp",
        function="rnn_forward",
        kind="unknown_name",
        source=_cell("rnn_forward", """
            a = np.zeros((n_a, m, T_x))
            y_pred = np.zeros((n_y, m, T_x))
            a_next = a0
            for t in range(T_x):
                a_next, yt_pred, cache = rnn_cell_forward(x[:, :, t], a_next, parameters_tmp)
                a[:, :, t] = a_next
                y_pred[:, :, t] = yt_pred
                caches.append(cache)
        """),
        note="The cell is called with the notebook's test dictionary parameters_tmp instead of the argument "
             "parameters.",
    ),
    Case(
        id="rnn-backward-caches-tmp",
        function="rnn_backward",
        kind="unknown_name",
        source=_cell("rnn_backward", """
            dx = np.zeros((n_x, m, T_x))
            dWax = np.zeros((n_a, n_x))
            dWaa = np.zeros((n_a, n_a))
            dba = np.zeros((n_a, 1))
            da_prevt = np.zeros((n_a, m))
            for t in reversed(range(T_x)):
                grads = rnn_cell_backward(da[:, :, t] + da_prevt, caches_tmp[0][t])
                dx[:, :, t] = grads["dxt"]
                da_prevt = grads["da_prev"]
                dWax += grads["dWax"]
                dWaa += grads["dWaa"]
                dba += grads["dba"]
            da0 = da_prevt
        """),
        note="The loop reads the cell caches of the notebook's test variable caches_tmp instead of the "
             "argument caches.",
    ),
    Case(
        id="lstm-cell-forward-global-n-a",
        function="lstm_cell_forward",
        kind="unknown_name",
        source=_cell("lstm_cell_forward", """
            n_x, m = xt.shape
            # stack a_prev on top of xt
            concat = np.zeros((n_a + n_x, m))
            concat[:n_a, :] = a_prev
            concat[n_a:, :] = xt
            ft = sigmoid(np.dot(Wf, concat) + bf)
            it = sigmoid(np.dot(Wi, concat) + bi)
            cct = np.tanh(np.dot(Wc, concat) + bc)
            c_next = ft * c_prev + it * cct
            ot = sigmoid(np.dot(Wo, concat) + bo)
            a_next = ot * np.tanh(c_next)
            yt_pred = softmax(np.dot(Wy, a_next) + by)
        """),
        note="n_a is never defined in the function; it comes from a cell of the notebook that set the sizes.",
    ),
    Case(
        id="lstm-cell-backward-global-x",
        function="lstm_cell_backward",
        kind="unknown_name",
        source=_cell("lstm_cell_backward", """
            n_x = x.shape[0]
            dc = dc_next + da_next * ot * (1 - np.tanh(c_next) ** 2)
            dot = da_next * np.tanh(c_next) * ot * (1 - ot)
            dcct = dc * it * (1 - cct ** 2)
            dit = dc * cct * it * (1 - it)
            dft = dc * c_prev * ft * (1 - ft)
            concat = np.concatenate([a_prev, xt])
            dWf, dWi, dWc, dWo = dft @ concat.T, dit @ concat.T, dcct @ concat.T, dot @ concat.T
            dbf = dft.sum(axis=1, keepdims=True)
            dbi = dit.sum(axis=1, keepdims=True)
            dbc = dcct.sum(axis=1, keepdims=True)
            dbo = dot.sum(axis=1, keepdims=True)
            dconcat = Wf.T @ dft + Wi.T @ dit + Wc.T @ dcct + Wo.T @ dot
            da_prev = dconcat[:n_a]
            dxt = dconcat[n_a:n_a + n_x]
            dc_prev = dc * ft
        """),
        note="n_x is read from the notebook's global input x, which the function does not receive.",
    ),

    # lstm_gate: the LSTM cell's backward pass written from wrong equations
    Case(
        id="lstm-gate-dot-missing-tanh",
        function="lstm_cell_backward",
        kind="lstm_gate",
        source=_cell("lstm_cell_backward", """
            dc = dc_next + da_next * ot * (1 - np.tanh(c_next) ** 2)
            dot = da_next * ot * (1 - ot)
            dcct = dc * it * (1 - cct ** 2)
            dit = dc * cct * it * (1 - it)
            dft = dc * c_prev * ft * (1 - ft)
            concat = np.concatenate([a_prev, xt], axis=0)
            dWf = dft @ concat.T
            dWi = dit @ concat.T
            dWc = dcct @ concat.T
            dWo = dot @ concat.T
            dbf = np.sum(dft, axis=1, keepdims=True)
            dbi = np.sum(dit, axis=1, keepdims=True)
            dbc = np.sum(dcct, axis=1, keepdims=True)
            dbo = np.sum(dot, axis=1, keepdims=True)
            dconcat = Wf.T @ dft + Wi.T @ dit + Wc.T @ dcct + Wo.T @ dot
            da_prev = dconcat[:n_a]
            dxt = dconcat[n_a:]
            dc_prev = dc * ft
        """),
        note="The output gate's gradient lacks the tanh(c_next) factor, which spoils dWo, dbo, da_prev and dxt.",
    ),
    Case(
        id="lstm-gate-dcct-missing-tanh-derivative",
        function="lstm_cell_backward",
        kind="lstm_gate",
        source=_cell("lstm_cell_backward", """
            tanh_c = np.tanh(c_next)
            dc = dc_next + da_next * ot * (1 - tanh_c ** 2)
            dot = da_next * tanh_c * ot * (1 - ot)
            dcct = dc * it
            dit = dc * cct * it * (1 - it)
            dft = dc * c_prev * ft * (1 - ft)
            concat = np.vstack([a_prev, xt])
            dWf = np.dot(dft, concat.T)
            dWi = np.dot(dit, concat.T)
            dWc = np.dot(dcct, concat.T)
            dWo = np.dot(dot, concat.T)
            dbf = np.sum(dft, axis=1, keepdims=True)
            dbi = np.sum(dit, axis=1, keepdims=True)
            dbc = np.sum(dcct, axis=1, keepdims=True)
            dbo = np.sum(dot, axis=1, keepdims=True)
            dconcat = np.dot(Wf.T, dft) + np.dot(Wi.T, dit) + np.dot(Wc.T, dcct) + np.dot(Wo.T, dot)
            da_prev, dxt = dconcat[:n_a], dconcat[n_a:]
            dc_prev = dc * ft
        """),
        note="The candidate's gradient dcct misses the tanh derivative (1 - cct**2), which spoils dWc, dbc, "
             "da_prev and dxt.",
    ),
    Case(
        id="lstm-gate-dit-candidate-derivative",
        function="lstm_cell_backward",
        kind="lstm_gate",
        source=_cell("lstm_cell_backward", """
            tanh_c = np.tanh(c_next)
            dc = dc_next + da_next * ot * (1 - tanh_c ** 2)
            # pre-activation gradients of the gates
            dot = da_next * tanh_c * ot * (1 - ot)
            dcct = dc * it * (1 - cct ** 2)
            dit = dc * cct * (1 - cct)
            dft = dc * c_prev * ft * (1 - ft)
            concat = np.concatenate([a_prev, xt], axis=0)
            dWf, dWi, dWc, dWo = dft @ concat.T, dit @ concat.T, dcct @ concat.T, dot @ concat.T
            dbf, dbi = dft.sum(1, keepdims=True), dit.sum(1, keepdims=True)
            dbc, dbo = dcct.sum(1, keepdims=True), dot.sum(1, keepdims=True)
            dconcat = Wf.T @ dft + Wi.T @ dit + Wc.T @ dcct + Wo.T @ dot
            da_prev, dxt = dconcat[:n_a], dconcat[n_a:]
            dc_prev = dc * ft
        """),
        note="The update gate's gradient uses cct * (1 - cct) in place of cct * it * (1 - it), which spoils "
             "dWi, dbi, da_prev and dxt.",
    ),
    Case(
        id="lstm-gate-dft-uses-c-next",
        function="lstm_cell_backward",
        kind="lstm_gate",
        source=_cell("lstm_cell_backward", """
            dc = dc_next + da_next * ot * (1 - np.tanh(c_next) ** 2)
            dot = da_next * np.tanh(c_next) * ot * (1 - ot)
            dcct = dc * it * (1 - cct ** 2)
            dit = dc * cct * it * (1 - it)
            dft = dc * c_next * ft * (1 - ft)
            concat = np.concatenate((a_prev, xt), axis=0)
            dWf = dft @ concat.T
            dWi = dit @ concat.T
            dWc = dcct @ concat.T
            dWo = dot @ concat.T
            dbf = np.sum(dft, axis=1, keepdims=True)
            dbi = np.sum(dit, axis=1, keepdims=True)
            dbc = np.sum(dcct, axis=1, keepdims=True)
            dbo = np.sum(dot, axis=1, keepdims=True)
            da_prev = Wf[:, :n_a].T @ dft + Wi[:, :n_a].T @ dit + Wc[:, :n_a].T @ dcct + Wo[:, :n_a].T @ dot
            dxt = Wf[:, n_a:].T @ dft + Wi[:, n_a:].T @ dit + Wc[:, n_a:].T @ dcct + Wo[:, n_a:].T @ dot
            dc_prev = dc * ft
        """),
        note="The forget gate's gradient multiplies by c_next where the forget gate acts on c_prev, which "
             "spoils dWf, dbf, da_prev and dxt.",
    ),
    Case(
        id="lstm-gate-output-gate-left-out",
        function="lstm_cell_backward",
        kind="lstm_gate",
        source=_cell("lstm_cell_backward", """
            tanh_c = np.tanh(c_next)
            dc = dc_next + da_next * ot * (1 - tanh_c ** 2)
            dot = da_next * tanh_c * ot * (1 - ot)
            dcct = dc * it * (1 - cct ** 2)
            dit = dc * cct * it * (1 - it)
            dft = dc * c_prev * ft * (1 - ft)
            concat = np.concatenate([a_prev, xt], axis=0)
            dWf = dft @ concat.T
            dWi = dit @ concat.T
            dWc = dcct @ concat.T
            dWo = dot @ concat.T
            dbf = np.sum(dft, axis=1, keepdims=True)
            dbi = np.sum(dit, axis=1, keepdims=True)
            dbc = np.sum(dcct, axis=1, keepdims=True)
            dbo = np.sum(dot, axis=1, keepdims=True)
            # the memory cell goes through the forget gate, the update gate and the candidate
            da_prev = Wf[:, :n_a].T @ dft + Wi[:, :n_a].T @ dit + Wc[:, :n_a].T @ dcct
            dxt = Wf[:, n_a:].T @ dft + Wi[:, n_a:].T @ dit + Wc[:, n_a:].T @ dcct
            dc_prev = dc * ft
        """),
        note="da_prev and dxt sum the paths through three gates and leave out the output gate's Wo term.",
    ),
    Case(
        id="lstm-gate-dc-prev-without-da-next",
        function="lstm_cell_backward",
        kind="lstm_gate",
        source=_cell("lstm_cell_backward", """
            dot = da_next * np.tanh(c_next) * ot * (1 - ot)
            dcct = (dc_next * it + ot * (1 - np.tanh(c_next) ** 2) * it * da_next) * (1 - cct ** 2)
            dit = (dc_next * cct + ot * (1 - np.tanh(c_next) ** 2) * cct * da_next) * it * (1 - it)
            dft = (dc_next * c_prev + ot * (1 - np.tanh(c_next) ** 2) * c_prev * da_next) * ft * (1 - ft)
            concat = np.concatenate([a_prev, xt], axis=0)
            dWf = np.dot(dft, concat.T)
            dWi = np.dot(dit, concat.T)
            dWc = np.dot(dcct, concat.T)
            dWo = np.dot(dot, concat.T)
            dbf = np.sum(dft, axis=1, keepdims=True)
            dbi = np.sum(dit, axis=1, keepdims=True)
            dbc = np.sum(dcct, axis=1, keepdims=True)
            dbo = np.sum(dot, axis=1, keepdims=True)
            da_prev = (np.dot(Wf[:, :n_a].T, dft) + np.dot(Wi[:, :n_a].T, dit)
                       + np.dot(Wc[:, :n_a].T, dcct) + np.dot(Wo[:, :n_a].T, dot))
            dxt = (np.dot(Wf[:, n_a:].T, dft) + np.dot(Wi[:, n_a:].T, dit)
                   + np.dot(Wc[:, n_a:].T, dcct) + np.dot(Wo[:, n_a:].T, dot))
            dc_prev = dc_next * ft
        """),
        note="dc_prev passes back only dc_next * ft and drops the da_next * ot * (1 - tanh(c_next)**2) term "
             "the gates did include.",
    ),
    Case(
        id="lstm-gate-dc-square-misplaced",
        function="lstm_cell_backward",
        kind="lstm_gate",
        source=_cell("lstm_cell_backward", """
            dc = dc_next + da_next * ot * (1 - np.tanh(c_next)) ** 2
            dot = da_next * np.tanh(c_next) * ot * (1 - ot)
            dcct = dc * it * (1 - cct ** 2)
            dit = dc * cct * it * (1 - it)
            dft = dc * c_prev * ft * (1 - ft)
            concat = np.concatenate([a_prev, xt], axis=0)
            dWf, dWi, dWc, dWo = dft @ concat.T, dit @ concat.T, dcct @ concat.T, dot @ concat.T
            dbf = np.sum(dft, axis=1, keepdims=True)
            dbi = np.sum(dit, axis=1, keepdims=True)
            dbc = np.sum(dcct, axis=1, keepdims=True)
            dbo = np.sum(dot, axis=1, keepdims=True)
            dconcat = Wf.T @ dft + Wi.T @ dit + Wc.T @ dcct + Wo.T @ dot
            da_prev, dxt = dconcat[:n_a], dconcat[n_a:]
            dc_prev = dc * ft
        """),
        note="The tanh derivative in dc is written (1 - tanh(c_next))**2 instead of 1 - tanh(c_next)**2, so "
             "every gradient except dWo and dbo is off.",
    ),

    # other: transposes, stacking order, a softmax written by hand, lists, loop direction
    Case(
        id="lstm-cell-concat-x-first",
        function="lstm_cell_forward",
        kind="other",
        source=_cell("lstm_cell_forward", """
            concat = np.concatenate([xt, a_prev], axis=0)
            ft = sigmoid(Wf @ concat + bf)
            it = sigmoid(Wi @ concat + bi)
            cct = np.tanh(Wc @ concat + bc)
            c_next = ft * c_prev + it * cct
            ot = sigmoid(Wo @ concat + bo)
            a_next = ot * np.tanh(c_next)
            yt_pred = softmax(Wy @ a_next + by)
        """),
        note="The stacked input is [xt; a_prev] where the weights expect [a_prev; xt].",
    ),
    Case(
        id="rnn-cell-softmax-by-hand-axis1",
        function="rnn_cell_forward",
        kind="other",
        source=_cell("rnn_cell_forward", """
            a_next = np.tanh(Wax @ xt + Waa @ a_prev + ba)
            z = Wya @ a_next + by
            e = np.exp(z - np.max(z))
            yt_pred = e / np.sum(e, axis=1, keepdims=True)
        """),
        note="The softmax is written by hand and normalises over axis 1 (the batch) instead of axis 0 (the classes).",
    ),
    Case(
        id="rnn-forward-stacked-lists",
        function="rnn_forward",
        kind="other",
        source=_cell("rnn_forward", """
            a = []
            y_pred = []
            a_next = a0
            for t in range(T_x):
                a_next, yt_pred, cache = rnn_cell_forward(x[:, :, t], a_next, parameters)
                a.append(a_next)
                y_pred.append(yt_pred)
                caches.append(cache)
            a = np.array(a)
            y_pred = np.array(y_pred)
        """),
        note="The states are collected in lists and turned into arrays with time on the first axis, "
             "shape (T_x, n_a, m) instead of (n_a, m, T_x).",
    ),
    Case(
        id="rnn-cell-backward-tanh-twice",
        function="rnn_cell_backward",
        kind="other",
        source=_cell("rnn_cell_backward", """
            # derivative of tanh is 1 - tanh^2
            dz = da_next * (1 - np.tanh(a_next) ** 2)
            dxt = np.dot(Wax.T, dz)
            dWax = np.dot(dz, xt.T)
            da_prev = np.dot(Waa.T, dz)
            dWaa = np.dot(dz, a_prev.T)
            dba = np.sum(dz, axis=1, keepdims=True)
        """),
        note="The tanh derivative applies tanh again to a_next, which is already tanh(z).",
    ),
    Case(
        id="rnn-cell-backward-transposed-weight-grads",
        function="rnn_cell_backward",
        kind="other",
        source=_cell("rnn_cell_backward", """
            dz = (1 - a_next ** 2) * da_next
            dxt = Wax.T @ dz
            da_prev = Waa.T @ dz
            dWax = xt @ dz.T
            dWaa = a_prev @ dz.T
            dba = np.sum(dz, axis=1, keepdims=True)
        """),
        note="The weight gradients are built as x dz^T and a_prev dz^T, the transposes of dWax and dWaa.",
    ),
    Case(
        id="lstm-backward-forward-order",
        function="lstm_backward",
        kind="other",
        source=_cell("lstm_backward", """
            dx = np.zeros((n_x, m, T_x))
            totals = {k: np.zeros((n_a, n_a + n_x)) for k in ("dWf", "dWi", "dWc", "dWo")}
            totals.update({k: np.zeros((n_a, 1)) for k in ("dbf", "dbi", "dbc", "dbo")})
            da_prevt = np.zeros((n_a, m))
            dc_prevt = np.zeros((n_a, m))
            for t in range(T_x):
                grads = lstm_cell_backward(da[:, :, t] + da_prevt, dc_prevt, cell_caches[t])
                dx[:, :, t] = grads["dxt"]
                da_prevt = grads["da_prev"]
                dc_prevt = grads["dc_prev"]
                for k in totals:
                    totals[k] += grads[k]
            da0 = da_prevt
        """),
        note="The loop walks the steps forwards, so each step's gradient is passed to the next step instead "
             "of the previous one.",
    ),
    Case(
        id="lstm-cell-backward-split-swapped",
        function="lstm_cell_backward",
        kind="other",
        source=_cell("lstm_cell_backward", """
            n_x = xt.shape[0]
            tanh_c = np.tanh(c_next)
            dc = dc_next + da_next * ot * (1 - tanh_c ** 2)
            dot = da_next * tanh_c * ot * (1 - ot)
            dcct = dc * it * (1 - cct ** 2)
            dit = dc * cct * it * (1 - it)
            dft = dc * c_prev * ft * (1 - ft)
            concat = np.concatenate([a_prev, xt], axis=0)
            dWf, dWi, dWc, dWo = dft @ concat.T, dit @ concat.T, dcct @ concat.T, dot @ concat.T
            dbf = np.sum(dft, axis=1, keepdims=True)
            dbi = np.sum(dit, axis=1, keepdims=True)
            dbc = np.sum(dcct, axis=1, keepdims=True)
            dbo = np.sum(dot, axis=1, keepdims=True)
            dconcat = Wf.T @ dft + Wi.T @ dit + Wc.T @ dcct + Wo.T @ dot
            dxt = dconcat[:n_x]
            da_prev = dconcat[n_x:]
            dc_prev = dc * ft
        """),
        note="The gradient of the stacked input is split as if x came first: dxt takes the first n_x rows "
             "and da_prev the rest.",
    ),
]

NOTEBOOK_GLOBALS: dict[str, str] = {
    "rnn-forward-parameters-tmp": textwrap.dedent("""\
        np.random.seed(1)
        x_tmp = np.random.randn(3, 10, 4)
        a0_tmp = np.random.randn(5, 10)
        parameters_tmp = {"Waa": np.random.randn(5, 5), "Wax": np.random.randn(5, 3), "Wya": np.random.randn(2, 5),
                          "ba": np.random.randn(5, 1), "by": np.random.randn(2, 1)}
        a_tmp, y_pred_tmp, caches_tmp = rnn_forward(x_tmp, a0_tmp, parameters_tmp)
        print(a_tmp[4][1], a_tmp.shape, y_pred_tmp.shape)
    """),
    "rnn-backward-caches-tmp": textwrap.dedent("""\
        np.random.seed(1)
        x_tmp = np.random.randn(3, 10, 4)
        a0_tmp = np.random.randn(5, 10)
        parameters_tmp = {"Wax": np.random.randn(5, 3), "Waa": np.random.randn(5, 5), "Wya": np.random.randn(2, 5),
                          "ba": np.random.randn(5, 1), "by": np.random.randn(2, 1)}
        a_tmp, y_tmp, caches_tmp = rnn_forward(x_tmp, a0_tmp, parameters_tmp)
        da_tmp = np.random.randn(5, 10, 4)
        gradients_tmp = rnn_backward(da_tmp, caches_tmp)
        print(gradients_tmp["dWaa"].shape, gradients_tmp["da0"].shape)
    """),
    "lstm-cell-forward-global-n-a": "n_x, n_a, n_y, m = 3, 5, 2, 10\n",
    "lstm-cell-backward-global-x": textwrap.dedent("""\
        np.random.seed(1)
        x = np.random.randn(3, 10, 7)
        a0 = np.random.randn(5, 10)
    """),
}


def notebook_for(case: Case) -> dict:
    """The solution notebook with the case's cell in place of the solution (and its extra cell, if any)."""
    solution = Path(__file__).resolve().parents[1] / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    nb = json.loads(solution.read_text())
    (index,) = [i for i, c in enumerate(nb["cells"])
                if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == case.function]
    nb["cells"][index]["source"] = case.source
    if case.id in NOTEBOOK_GLOBALS:
        nb["cells"].insert(index + 1, {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                                       "source": NOTEBOOK_GLOBALS[case.id]})
    return nb
