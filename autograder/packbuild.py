"""Writing an assignment's check pack from its solution notebook (what a pack holds: :mod:`autograder.checkpack`).

    python -m autograder.packbuild rnn_step_by_step [more ids, or --all] [--out FOLDER]

writes ``assignments/<id>/check_pack/``. Run it with ``nbgrader generate_assignment``, after a solution notebook
or an assignment's spec changes, and commit the pack: a test fails when a pack's fingerprint no longer matches
them.

Everything is computed here, in the instructor's checkout, from the reference: the probes (from the check
stream), the expected results, each mistake's prediction, every one-slip variant's outputs (the whole search,
without the time limit a check has), and the conversations of each function with its reference helpers. Those
are recorded on a real link of :mod:`autograder.remote`, whose other end serves the reference helpers from a
thread as the sandbox's helper process serves them, so the pack holds what the grader's helper process would
answer the reference function on the check probes, and nothing else.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import hashlib
import json
import resource
import shutil
import socket
import sys
import threading
import zlib
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from autograder import checkpack, grade, notebook, packvalues, remote, replay, runtime, wire
from autograder.assignments import get_assignment, known_ids
from autograder.feedback import check_prepared
from autograder.grade import normalise, reference_runner
from autograder.spec import Assignment, Context, GradedFunction, Namespace, Probe
from autograder.verdict import close, leaves

MEMORY = 4 << 30  # a one-slip variant may grow a list without end: it then stops here, as a variant that raised


def fingerprint(assignment_id: str) -> str:
    """What a pack was computed from: the solution notebook's graded code and the assignment's spec module."""
    get_assignment(assignment_id)  # imports the spec module
    digest = hashlib.sha256(f"format {checkpack.FORMAT}\n".encode())
    for stmt in runtime.solution_statements(assignment_id):
        digest.update(f"{stmt.cell}\n{stmt.source}\n".encode())
    digest.update(Path(sys.modules[f"autograder.assignments.{assignment_id}"].__file__).read_bytes())
    return digest.hexdigest()


def default_folder(assignment_id: str) -> Path:
    return runtime.REPO / "assignments" / assignment_id / checkpack.FOLDER


def build(assignment_id: str, folder: Path | None = None) -> Path:
    """Write the check pack of ``assignment_id`` into ``folder`` (default: beside the student version)."""
    folder = folder or default_folder(assignment_id)
    assignment = get_assignment(assignment_id)
    reference = runtime.load_reference(assignment)
    statements = list(runtime.solution_statements(assignment_id))
    graded = runtime.solution_ids(runtime.solution_notebook(assignment_id), assignment)
    # The checks may read the notebook's public constants (N_VALUES): the student version defines them alike.
    constants = {name: reference[name] for name in sorted(runtime.public_names(assignment_id))
                 if type(reference.get(name)) in (bool, int, float, str)}
    writer = packvalues.Writer()
    stored_constants = {k: writer.value(v) for k, v in constants.items()}
    # The graded functions served apart, for the probe generators and the checks that call the reference.
    served = _module(notebook.helper_code(statements, tuple(sorted(graded)), graded, exclude=""))
    functions = {}
    for spec in assignment.functions:
        writer.scope = spec.name
        functions[spec.name] = _function(writer, assignment, spec, reference, statements, graded, constants, served)
    # Written beside the pack and then put in its place, so that a failed build leaves the old pack whole.
    new = folder.with_name(f".{folder.name}.new")
    shutil.rmtree(new, ignore_errors=True)
    writer.save(new, {"format": checkpack.FORMAT, "assignment": assignment_id,
                      "fingerprint": fingerprint(assignment_id), "constants": stored_constants, "functions": functions})
    shutil.rmtree(folder, ignore_errors=True)
    new.rename(folder)
    return folder


def _function(writer: packvalues.Writer, assignment: Assignment, spec: GradedFunction, reference: Namespace,
              statements: list[notebook.Statement], graded: set[str], constants: dict[str, Any],
              served: Namespace) -> dict:
    probes, expected, clues = check_prepared(assignment.id, spec.name)
    if len({p.name for p in probes}) != len(probes):
        raise ValueError(f"{spec.name}: probe names must be unique, a pack finds a probe by its name")
    # Written in this order, so that later arrays find the earlier ones they equal or resemble: the probes first
    # (they may become external), then the helpers' answers, whose last often is the expected result.
    data = _probes_data(writer, assignment, spec, probes, served, constants)
    data["helpers"], conversations = _conversations(spec, probes, expected, statements, graded)
    data["conversations"] = [_conversation_data(writer, c) for c in conversations]
    data["expected"] = [writer.value(e, single_above=LARGE) for e in expected]
    data["shared"] = [sorted(sorted(pair) for pair in pairs) for pairs in clues.reference_shared]
    data["flow"] = checkpack.flow_data(clues.flow, spec.labels)
    data["mistakes"] = len(spec.mistakes())
    data["predictions"] = [[[k, writer.value(v, single_above=0)] for k, v in made.items() if _numbers(v) <= LARGE]
                           for made in _predictions(spec, reference, probes, expected)]
    data["variants"] = _variants_data(writer, spec, expected, *_variants(assignment, spec, reference, probes))
    data["asks"], asked = _asked(assignment, spec, probes, expected, served, constants)
    data["asked"] = [[_exchange(writer, e) for e in c] for c in asked]
    data["rtol"] = spec.rtol
    return data


def _probes_data(writer: packvalues.Writer, assignment: Assignment, spec: GradedFunction, probes: list[Probe],
                 served: Namespace, constants: dict[str, Any]) -> dict:
    """The probes as data; or, when the assignment's own code draws them again with the reference served apart
    (as a pack can answer it) and that conversation takes less room than the probes, the conversation and what
    tells that the probes drawn again are the same. Their arrays then become external: not stored, and bases of
    the arrays made from them."""
    index = [f.name for f in assignment.functions].index(spec.name)
    names = tuple(sorted(n for n in served if n in assignment_names(assignment)))
    with _served(served, names) as (proxies, handles, events):
        try:
            again = spec.probes(checkpack.check_rng(assignment.seed, index), {**constants, **proxies})
        except Exception:  # noqa: BLE001 - drawn with more of the reference than a pack can answer: kept as they are
            again = None
    same = again is not None and [p.name for p in again] == [p.name for p in probes] and all(
        checkpack.same_summary(checkpack.summary(p.kwargs), checkpack.summary(q.kwargs)) for p, q in zip(probes, again))
    conversation = replay.exchanges(events)
    if not same or (conversation and _room(writer, lambda w: [_exchange(w, e) for e in conversation])
                    >= _room(writer, lambda w: [w.value(p.kwargs) for p in probes])):
        return {"probes": [{"name": p.name, "note": p.note, "compare": p.compare, "kwargs": writer.value(p.kwargs)}
                           for p in probes], "drawn": [], "drawing": {}}
    drawn = [_exchange(writer, e) for e in conversation]  # before the externals: it must not need them
    for i, probe in enumerate(probes):
        for local, a in wire.pack(probe.kwargs)[1].items():
            writer.external(checkpack.external_name(spec.name, i, local), a)
    return {"probes": [{"name": p.name, "note": p.note, "compare": p.compare, "summary": checkpack.summary(p.kwargs)}
                       for p in probes], "drawn": drawn, "drawing": handles if drawn else {}}


def _room(writer: packvalues.Writer, write: Callable[[packvalues.Writer], Any]) -> int:
    """About how many bytes ``write`` would add to the pack: its numbers, and its JSON compressed."""
    trial = writer.fork()
    before = trial.stored_numbers()
    text = json.dumps(write(trial)).encode()
    return 4 * (trial.stored_numbers() - before) + len(zlib.compress(text))


def assignment_names(assignment: Assignment) -> set[str]:
    return {f.name for f in assignment.functions}


# ---------------------------------------------------------------------- mistakes and variants

class _ReadsLearner(Exception):
    pass


class _Unread(dict):
    """A mistake's view of the learner's outputs while its prediction is computed once for every learner: reading
    it is an error, since a stored prediction cannot depend on them."""

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise _ReadsLearner()

    __getitem__ = get = __contains__ = __iter__ = __len__ = keys = values = items = _refuse


def _predictions(spec: GradedFunction, reference: Namespace, probes: list[Probe],
                 expected: list[Any]) -> list[dict[int, Any]]:
    """Per probe: what each mistake that applies there predicts (none where its prediction raises, as in judge)."""
    run = reference_runner(spec, reference)
    made: list[dict[int, Any]] = []
    for probe, want in zip(probes, expected):
        made.append({})
        if not probe.compare:
            continue  # judged by its properties alone: the verdicts never ask a mistake about it
        for k, mistake in enumerate(spec.mistakes()):
            if mistake.probe not in (None, probe.name):
                continue
            ctx = Context(copy.deepcopy(probe), leaves(copy.deepcopy(want), spec.outputs), _Unread(),
                          lambda kwargs: leaves(run(kwargs), spec.outputs))
            try:
                made[-1][k] = mistake.predict(ctx)
            except _ReadsLearner:
                raise ValueError(f"{spec.name}: the prediction of {mistake.message!r} reads the learner's outputs, "
                                 "which a pack cannot hold") from None
            except Exception:  # noqa: BLE001 - a prediction that does not apply to this probe
                continue
    return made


def _variants(assignment: Assignment, spec: GradedFunction, reference: Namespace,
              probes: list[Probe]) -> tuple[list, list, list[str]]:
    """Every one-slip variant's outputs on each probe, in the order of the search: (found, raised, messages).

    ``found[i]``: (message, outputs) of each variant that ran on probe i; ``raised[i]``: the messages (of those
    found on some probe) of variants that raised on probe i, which tells a learner's mistake apart from them.
    Probes judged by their properties alone are never asked about variants. The whole search, without the time
    limit a check has: a pack is built once."""
    source, public = runtime.reference_source(assignment.id, spec.name), runtime.public_names(assignment.id)
    runs = [list(grade.variant_runs(spec, reference, p.kwargs, source, public)) if p.compare else [] for p in probes]
    found = [[(m, out) for m, out in r if out is not None] for r in runs]
    texts = list(dict.fromkeys(m for f in found for m, _ in f))
    raised = [{m for m, out in r if out is None and m in texts} for r in runs]
    return found, raised, texts


LARGE = 10_000  # numbers: a larger expected array is kept as float32; a larger variant or prediction is left out
CONVERSATION_NUMBERS = 100_000  # a probe's conversation with the helpers that adds more numbers is left out
UNMISTAKABLE = 32  # a variant wrong in this many floating-point numbers cannot match a learner's outputs by chance


def _variants_data(writer: packvalues.Writer, spec: GradedFunction, expected: list[Any], found: list, raised: list,
                   texts: list[str]) -> dict:
    """The variants as data: each one's outputs as what differs from the expected ones (most are the same).

    Two kinds of run are left out, to keep the pack small:

    - a variant whose differing outputs hold more than LARGE numbers (Trigger word's audio): only the grader names
      that slip;
    - the runs of an *unmistakable* message (its runs on the first probe where they differ from the expected
      outputs differ in at least UNMISTAKABLE floating-point numbers) on its later probes. There they serve only
      to reject a learner whose outputs match that message's on the first probe by chance (see
      ``verdict._consistent``), which so many numbers rule out; a message with no run on a probe is no evidence
      against it there."""
    base = [leaves(e, spec.outputs) for e in expected]
    paths = list(dict.fromkeys([p for b in base for p in b] + [p for f in found for _, out in f for p in out]))
    differing = [[(m, out, {p: v for p, v in out.items() if p not in b or not _identical(v, b[p])}) for m, out in f]
                 for b, f in zip(base, found)]
    first: dict[str, int] = {}  # message -> the first probe where one of its runs differs from the expected outputs
    for i, runs in enumerate(differing):
        for m, _, differ in runs:
            if differ:
                first.setdefault(m, i)
    unmistakable = {m for m in first if any(_floats(differ) >= UNMISTAKABLE
                                            for n, _, differ in differing[first[m]] if n == m)}
    probes = []
    for i, (b, runs, r) in enumerate(zip(base, differing, raised)):
        kept = []
        for m, out, differ in runs:
            if _numbers(differ) > LARGE:
                continue
            if differ and m in unmistakable and i > first[m]:
                continue
            kept.append([texts.index(m), [[paths.index(p), writer.value(v, single_above=0)] for p, v in differ.items()],
                         [paths.index(p) for p in b if p not in out]])
        probes.append({"base": [[paths.index(p), writer.value(v, single_above=LARGE)] for p, v in b.items()],
                       "found": kept,
                       "raised": sorted(texts.index(m) for m in r)})
    return {"messages": texts, "paths": paths, "probes": probes}


def _numbers(value: Any) -> int:
    """How many numbers the arrays in ``value`` hold."""
    return sum(a.size for a in wire.pack(value)[1].values())


def _floats(outputs: dict[str, Any]) -> int:
    return sum(v.size for v in outputs.values() if isinstance(v, np.ndarray) and v.dtype.kind == "f")


def _identical(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.dtype == b.dtype
                and a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")))
    return type(a) is type(b) and a == b


# ---------------------------------------------------------------------- conversations with the reference

@contextlib.contextmanager
def _served(namespace: Namespace, names: tuple[str, ...]) -> Iterator[tuple[dict, dict[str, int], list]]:
    """``names`` of ``namespace`` served over a socketpair by a guarded :class:`remote.Link`, as the sandbox's
    helper process serves them (here from a thread); (proxies, their handles, every message our end sent
    ("out") and received ("in"), copied as it went)."""
    ours, theirs = socket.socketpair()
    server = remote.Link(theirs, guarded=True)
    handles = {name: server.export(namespace[name]) for name in names}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    link = remote.Link(ours, guarded=False)
    events: list[tuple[str, replay.Message]] = []
    send, receive = link._send, link._receive

    def recorded_send(message: dict, buffers: list[np.ndarray]) -> None:
        events.append(("out", _copied(message, buffers)))
        send(message, buffers)

    def recorded_receive() -> replay.Message:
        message, arrays = receive()
        events.append(("in", _copied(message, arrays)))
        return message, arrays

    link._send, link._receive = recorded_send, recorded_receive
    try:
        yield {name: remote.Proxy(link, h) for name, h in handles.items()}, handles, events
    finally:
        ours.close()
        thread.join(10)
        theirs.close()


def _copied(message: dict, arrays: list[np.ndarray]) -> replay.Message:
    return json.loads(json.dumps(message)), [np.array(a, copy=True) for a in arrays]


def _module(statements: list[notebook.Statement], label: str = "reference") -> Namespace:
    namespace, problems = runtime.build_namespace(statements, label)
    if problems:
        raise RuntimeError(f"the solution's code does not load: {problems}")
    return namespace


def _conversations(spec: GradedFunction, probes: list[Probe], expected: list[Any],
                   statements: list[notebook.Statement], graded: set[str]) -> tuple[dict[str, int], list[list]]:
    """For a function graded with reference helpers: each probe's conversation between the reference function
    and the helpers (served apart, as in the sandbox), checked to give the expected result."""
    if not spec.uses:
        return {}, [[] for _ in probes]
    helpers = _module(notebook.helper_code(statements, spec.uses, graded, exclude=spec.name))
    own = _module(statements)  # the function's module, whose helpers become the served ones, as in the sandbox
    handles, recorded = {}, []
    for probe, want in zip(probes, expected):
        with _served(helpers, spec.uses) as (proxies, handles, events):
            own.update(proxies)
            value = normalise(spec.driver(own, spec.name, copy.deepcopy(probe.kwargs)))
        if probe.compare:
            _same_result(spec, probe, value, want, "with its helpers served apart")
        recorded.append(replay.exchanges(events))
    return handles, recorded


def _asked(assignment: Assignment, spec: GradedFunction, probes: list[Probe], expected: list[Any],
           served: Namespace, constants: dict[str, Any]) -> tuple[dict[str, int], list[list]]:
    """What the function's ``properties`` ask of the reference, for a learner whose results are the expected ones:
    asked here of the graded names served apart, with the public constants beside them."""
    if spec.properties is None:
        return {}, [[] for _ in probes]
    names = tuple(sorted(n for n in served if n in assignment_names(assignment)))
    handles, recorded = {}, []
    for probe, want in zip(probes, expected):
        direct = spec.properties(probe, copy.deepcopy(want), copy.deepcopy(want))
        with _served(served, names) as (proxies, handles, events):
            with checkpack.standing_in(assignment.id, {**constants, **proxies}):
                apart = spec.properties(probe, copy.deepcopy(want), copy.deepcopy(want))
        if apart != direct:
            raise ValueError(f"{spec.name}: its properties on the {probe.name} probe say {apart} from a pack's view "
                             f"of the reference, {direct} from the reference")
        recorded.append(replay.exchanges(events))
    if not any(recorded):
        return {}, [[] for _ in probes]
    return handles, recorded


def _same_result(spec: GradedFunction, probe: Probe, value: Any, want: Any, how: str) -> None:
    got, wanted = leaves(value, spec.outputs), leaves(want, spec.outputs)
    wrong = [p for p in wanted if p not in got or not close(got[p], wanted[p], spec.rtol)]
    if wrong or set(got) != set(wanted):
        raise ValueError(f"{spec.name} on the {probe.name} probe gives another result {how}: {wrong or 'its outputs'}")


def _conversation_data(writer: packvalues.Writer, conversation: list[replay.Exchange]) -> list | None:
    """A probe's conversation as data; None when it would add more than CONVERSATION_NUMBERS numbers to the pack
    (Speech recognition's 2,000-frame α), and check() then runs the learner's own helpers on that probe."""
    trial = writer.fork()
    before = trial.stored_numbers()
    for exchange in conversation:
        _exchange(trial, exchange)
    if trial.stored_numbers() - before > CONVERSATION_NUMBERS:
        return None
    return [_exchange(writer, e) for e in conversation]


def _exchange(writer: packvalues.Writer, exchange: replay.Exchange) -> dict:
    return {"request": writer.message(exchange.request),
            "steps": [[direction, writer.message(m)] for direction, m in exchange.steps]}


# ---------------------------------------------------------------------- command line

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.packbuild", description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="*", metavar="ID", help=f"one or more of {', '.join(known_ids())}")
    parser.add_argument("--all", action="store_true", help="every assignment")
    parser.add_argument("--out", type=Path, help="the pack's folder (one assignment only; default: "
                        "assignments/<id>/check_pack)")
    args = parser.parse_args(argv)
    ids = known_ids() if args.all else args.assignments
    if not ids or (args.out and len(ids) > 1):
        parser.error("name one assignment with --out, or one or more (or --all) without it")
    if unknown := [a for a in ids if a not in known_ids()]:
        parser.error(f"unknown assignment {', '.join(unknown)}; one of {', '.join(known_ids())}")
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard == resource.RLIM_INFINITY or hard > MEMORY:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY, hard))
    for assignment_id in ids:
        folder = build(assignment_id, args.out)
        size = sum(f.stat().st_size for f in folder.iterdir())
        print(f"{folder}: {size / 1024:.0f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
